// The app hydrates: the server-rendered page comes alive in the browser without errors.
import { expect, test } from '@playwright/test';
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
