// First-run setup on a fresh store: a server of its own, started here without any account,
// logs the setup link; its page creates the first administrator and signs them in.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { waitForIslands } from './fixtures/pages';
import { PASSWORD } from './fixtures/users';

const projectRoot = path.join(__dirname, '..', '..');

/** Starts `gatehouse serve` on a free port and an empty data directory; resolves with the
 * setup link it logs. */
function startFreshServer(): Promise<{ server: ChildProcess; link: string; dataDir: string }> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-setup-'));
  const server = spawn(path.join(projectRoot, 'target', 'release', 'gatehouse'), ['serve', '--addr', '127.0.0.1:0', '--data-dir', dataDir], {
    cwd: projectRoot,
    env: { ...process.env, RUST_LOG: 'info', NO_COLOR: '1' },
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const link = output.match(/(http:\/\/127\.0\.0\.1:\d+\/setup\?token=[0-9a-f]+)/);
      if (link) resolve({ server, link: link[1], dataDir });
    };
    server.stdout.on('data', read);
    server.stderr.on('data', read);
    server.on('exit', (code) => reject(new Error(`the server stopped (${code}) before logging a setup link:\n${output}`)));
  });
}

test('the setup link of a fresh store creates the first administrator and signs them in', async ({ page }) => {
  const { server, link, dataDir } = await startFreshServer();
  try {
    await page.goto(link);
    await expect(page.getByRole('heading', { name: 'Set up Gatehouse' })).toBeVisible();
    await waitForIslands(page);
    await page.getByLabel('Username').fill('first-admin');
    await page.getByLabel('Full name (optional)').fill('First Admin');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Repeat the password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create administrator' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Users' })).toBeVisible();
    await expect(page).toHaveURL(/\/admin\/users$/);
    await expect(page.getByRole('link', { name: 'first-admin', exact: true })).toBeVisible();

    const again = await page.goto(link);
    expect(again?.status()).toBe(404);
    await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  } finally {
    server.kill();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
