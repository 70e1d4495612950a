// Playwright drives Debian's chromium (never a downloaded browser) against a release server that
// this config starts on the port and data directory the Makefile chose.
import { defineConfig } from '@playwright/test';
import { clockServer } from './tests/fixtures/clock';

const port = process.env.E2E_PORT ?? '3000';
const dataDir = process.env.E2E_DATA_DIR;
if (!dataDir) {
  throw new Error('E2E_DATA_DIR is not set: run the browser tests with `make test` (or `make e2e`)');
}
// A host name, not 127.0.0.1: browsers refuse passkeys (WebAuthn) on an IP address. The server
// is told it is reached there (--public-url), so its forms accept this origin.
const baseURL = `http://localhost:${port}`;
// The SMTP sink the Makefile started (maildev): the server mails it, the tests read it back.
const smtp = process.env.E2E_SMTP ?? 'smtp://127.0.0.1:1025?tls=none';

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: 2,
  forbidOnly: true,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      // Without the networking flags chromium keeps dialling Google's hosts, which this
      // machine's closed network refuses.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  // Access tokens of 3 s (about 8 s with the validation leeway) on both servers: sessions must
  // carry on by silent refresh throughout the suite, not only in the spec written for it.
  webServer: [
    // The shared server. Sign-up is open, so that its flow can be tried.
    releaseServer(port, `--data-dir ${dataDir} --allow-signup --smtp-url '${smtp}'`),
    // The server whose time tests move (fixtures/clock.ts).
    releaseServer(clockServer.port, `--data-dir ${clockServer.dataDir} --clock-file ${clockServer.clockFile}`),
  ],
});

/** The release server on `serverPort` (reached as `localhost`, see `baseURL`), with `flags`. */
function releaseServer(serverPort: string, flags: string) {
  return {
    command: `./target/release/gatehouse serve --addr 127.0.0.1:${serverPort} --access-ttl 3s --public-url http://localhost:${serverPort} ${flags}`,
    cwd: '..',
    url: `http://127.0.0.1:${serverPort}/healthz`,
    timeout: 30_000,
    reuseExistingServer: false,
    stdout: 'pipe' as const,
    stderr: 'pipe' as const,
  };
}
