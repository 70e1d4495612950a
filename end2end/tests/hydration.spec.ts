// The app hydrates: the server-rendered page comes alive in the browser without errors.
import { expect, test } from '@playwright/test';
import { HomePage, NotFoundPage, watchForErrors } from './fixtures/pages';

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

  // A full page load would lose this marker; client-side routing keeps it.
  await page.evaluate(() => ((window as unknown as { stillSamePage: boolean }).stillSamePage = true));
  await notFound.homeLink().click();

  await expect(new HomePage(page).heading()).toBeVisible();
  await expect(page).toHaveURL('/');
  await expect(page).toHaveTitle('Welcome · Gatehouse');
  expect(await page.evaluate(() => (window as unknown as { stillSamePage?: boolean }).stillSamePage)).toBe(true);
  expect(errors).toEqual([]);
});

test('"Go back" returns to the page the visitor came from', async ({ page }) => {
  const notFound = new NotFoundPage(page);
  await page.goto('/');
  await page.goto('/gone');
  await notFound.waitUntilHydrated();

  await notFound.goBackButton().click();

  await expect(new HomePage(page).heading()).toBeVisible();
  await expect(page).toHaveURL('/');
});
