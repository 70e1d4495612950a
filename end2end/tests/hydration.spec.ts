// The app hydrates: the server-rendered page comes alive in the browser without errors.
import { expect, test, type Page } from '@playwright/test';
import { LoginPage, NotFoundPage, isSameDocument, markDocument, watchForErrors } from './fixtures/pages';

test('the not-found page is served with 404 and hydrates', async ({ page }) => {
  const errors = watchForErrors(page);
  const notFound = new NotFoundPage(page);

  const response = await page.goto('/no/such/page');
  expect(response?.status()).toBe(404);
  await expect(notFound.heading()).toBeVisible();
  await expect(page).toHaveTitle('Page not found · Gatehouse');
  // Rendered disabled by the server; only the hydrated bundle enables it.
  await notFound.waitUntilHydrated();
  expect(errors).toEqual([]);
});

test('after hydration, links navigate inside the app without reloading the page', async ({ page }) => {
  const errors = watchForErrors(page);
  const notFound = new NotFoundPage(page);
  await page.goto('/no/such/page');
  await notFound.waitUntilHydrated();

  await markDocument(page);
  await notFound.homeLink().click();

  // Home leads a visitor on to the sign-in page, inside the app.
  await expect(new LoginPage(page).heading()).toBeVisible();
  await expect(page).toHaveURL(/\/login\?next=/);
  await expect(page).toHaveTitle('Sign in · Gatehouse');
  expect(await isSameDocument(page)).toBe(true);
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

// Pages most visits never open are split out of the bundle (src/pages/lazy.rs): the sign-in page
// does not download them, and each still works once its code has arrived.
test('a page split out of the bundle is not loaded by the sign-in page and works inside the app', async ({ page }) => {
  const errors = watchForErrors(page);
  const wasm: string[] = [];
  page.on('request', (request) => {
    if (request.url().endsWith('.wasm')) wasm.push(request.url());
  });
  const login = new LoginPage(page);
  await login.goto();
  await login.waitUntilHydrated();
  expect(wasm.filter((url) => url.includes('forgot_password'))).toEqual([]);

  await markDocument(page);
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await askForAResetLink(page);

  // Answered by the hydrated page (a plain form post would have loaded a new document).
  expect(await isSameDocument(page)).toBe(true);
  expect(wasm.some((url) => url.includes('forgot_password'))).toBe(true);
  expect(errors).toEqual([]);
});

test('a page split out of the bundle hydrates when it is the first page opened', async ({ page }) => {
  const errors = watchForErrors(page);
  const pageCode = page.waitForResponse((response) => response.url().includes('forgot_password') && response.url().endsWith('.wasm'));
  await page.goto('/forgot-password');
  expect((await pageCode).status()).toBe(200);
  await page.waitForLoadState('networkidle');

  await markDocument(page);
  await askForAResetLink(page);
  expect(await isSameDocument(page)).toBe(true);
  expect(errors).toEqual([]);
});

async function askForAResetLink(page: Page) {
  await expect(page.getByRole('heading', { name: 'Forgot your password?' })).toBeVisible();
  await page.getByLabel('Username or e-mail address').fill('nobody-by-this-name');
  await page.getByRole('button', { name: 'Send me a link' }).click();
  await expect(page.getByRole('status')).toContainText('If an account matches');
}

// A person may click before the page has hydrated, for instance while a split page's code is
// still downloading on a slow connection. The link must still lead somewhere: the browser loads
// the page, as it would without JavaScript (src/hydration.rs).
test('a link clicked while the page is still hydrating loads the linked page', async ({ page }) => {
  const errors = watchForErrors(page);
  const heldRequests: Array<() => void> = [];
  const pageCodeRequested = new Promise<void>((requested) => {
    void page.route(
      (url) => url.pathname.includes('forgot_password'),
      async (route) => {
        requested();
        await new Promise<void>((release) => heldRequests.push(release));
        // The page that asked may be gone by now: nothing left to answer.
        await route.continue().catch(() => {});
      },
    );
  });

  await page.goto('/forgot-password');
  // The bundle is running and the router listens for clicks, but the page cannot hydrate yet.
  await pageCodeRequested;
  await page.getByRole('link', { name: 'Back to sign in' }).click();

  await expect(new LoginPage(page).heading()).toBeVisible();
  await expect(page).toHaveURL('/login');
  heldRequests.forEach((release) => release());
  await new LoginPage(page).waitUntilHydrated();
  expect(errors).toEqual([]);
});
