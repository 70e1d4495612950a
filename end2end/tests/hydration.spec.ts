// The pages come alive: the server renders every page, and the browser brings its islands (the
// forms and live sections, src/components/island.rs) to life without errors. Islands past the
// sign-in page load their code on demand.
import { expect, test, type Page } from '@playwright/test';
import { DashboardPage, LoginPage, NotFoundPage, isSameDocument, markDocument, signInAs, waitForIslands, watchForErrors } from './fixtures/pages';
import { holdBack, watchRequests } from './fixtures/network';
import { createAdmin } from './fixtures/users';

test('the not-found page is served with 404 and hydrates', async ({ page }) => {
  const errors = watchForErrors(page);
  const notFound = new NotFoundPage(page);

  const response = await page.goto('/no/such/page');
  expect(response?.status()).toBe(404);
  await expect(notFound.heading()).toBeVisible();
  await expect(page).toHaveTitle('Page not found · Gatehouse');
  // Rendered disabled by the server; only the hydrated island enables it.
  await notFound.waitUntilHydrated();
  expect(errors).toEqual([]);
});

test('"Go back" returns to the page the visitor came from', async ({ page }) => {
  const notFound = new NotFoundPage(page);
  await page.goto('/login');
  await page.goto('/gone');
  await notFound.waitUntilHydrated();

  await notFound.goBackButton().click();

  await expect(new LoginPage(page).heading()).toBeVisible();
  await expect(page).toHaveURL('/login');
});

test('the browser bundle travels compressed', async ({ page }) => {
  const wasm = page.waitForResponse((response) => response.url().endsWith('.wasm'));
  await page.goto('/login');
  const response = await wasm;
  expect(response.status()).toBe(200);
  expect(['br', 'gzip']).toContain(response.headers()['content-encoding']);
  await new LoginPage(page).waitUntilHydrated();
});

test('every page brings its islands to life without errors', async ({ page }) => {
  const errors = watchForErrors(page);
  const admin = createAdmin();
  const pages: Array<[string, string]> = [
    ['/forgot-password', 'Forgot your password?'],
    ['/signup', 'Create an account'],
    ['/login', 'Sign in'],
  ];
  for (const [path, heading] of pages) {
    await openAndWaitForIslands(page, path, heading);
  }

  await signInAs(page, admin);
  await expect(new DashboardPage(page).greeting(admin)).toBeVisible();
  const signedIn: Array<[string, string]> = [
    ['/dashboard', `Welcome, ${admin.fullName}`],
    ['/profile', 'Your profile'],
    ['/password', 'Choose a new password'],
    ['/admin/users', 'Users'],
    [`/admin/users/${admin.username}`, admin.username],
    ['/admin/audit', 'Audit log'],
  ];
  for (const [path, heading] of signedIn) {
    await openAndWaitForIslands(page, path, heading);
  }
  expect(errors).toEqual([]);
});

async function openAndWaitForIslands(page: Page, path: string, heading: string) {
  await page.goto(path);
  await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible();
  await waitForIslands(page);
}

/** The WebAssembly chunks other than the bundle a page fetches: the code of its lazy islands. */
function isIslandChunk(url: string): boolean {
  return url.endsWith('.wasm') && !url.endsWith('/gatehouse.wasm');
}

test('the sign-in page loads no island code beyond the bundle; a page with a lazy island loads its code and works in place', async ({ page }) => {
  const errors = watchForErrors(page);
  const chunks = watchRequests(page, isIslandChunk);
  const login = new LoginPage(page);
  await login.goto();
  await login.waitUntilHydrated();
  expect(chunks).toEqual([]);

  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await expect(page.getByRole('heading', { name: 'Forgot your password?' })).toBeVisible();
  await waitForIslands(page);
  expect(chunks).not.toEqual([]);

  await markDocument(page);
  await askForAResetLink(page);
  // Answered by the island (a plain form post would have loaded a new document).
  expect(await isSameDocument(page)).toBe(true);
  expect(errors).toEqual([]);
});

// A person may press a button before its island is alive, for instance while its code is still
// downloading on a slow connection. The form must still work: it goes as the plain form post it
// is without JavaScript, and the server's answer says what happened.
test('a form sent before its island\'s code has arrived still works, as a plain post', async ({ page }) => {
  const release = await holdBack(page, (url) => isIslandChunk(url.href));

  await page.goto('/forgot-password');
  await expect(page.getByRole('heading', { name: 'Forgot your password?' })).toBeVisible();
  await markDocument(page);
  await askForAResetLink(page);

  expect(await isSameDocument(page), 'a page load: the plain post').toBe(false);
  await expect(page).toHaveURL('/forgot-password?sent=1');
  release();
});

async function askForAResetLink(page: Page) {
  await page.getByLabel('Username or e-mail address').fill('nobody-by-this-name');
  await page.getByRole('button', { name: 'Send me a link' }).click();
  await expect(page.getByRole('status')).toContainText('If an account matches');
}
