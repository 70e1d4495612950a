// Sessions outlive their short access tokens, and can be ended from another browser.
import { expect, test } from '@playwright/test';
import { DashboardPage, Header, LoginPage, signInAs, waitForIslands } from './fixtures/pages';
import { createUser } from './fixtures/users';

test('a session survives access-token expiry while the user clicks around', async ({ page }) => {
  test.setTimeout(40_000);
  const user = createUser();
  await signInAs(page, user);
  await expect(new DashboardPage(page).greeting(user)).toBeVisible();

  // The server runs with 3 s access tokens: after this wait the first one is refused.
  await page.waitForTimeout(9_000);
  await new Header(page).userLink(user).click();
  await expect(page.getByRole('heading', { name: 'Your profile' })).toBeVisible();
  await page.getByRole('link', { name: 'Dashboard' }).click();
  await expect(new DashboardPage(page).greeting(user)).toBeVisible();

  await page.waitForTimeout(9_000);
  await page.reload();
  await expect(new DashboardPage(page).greeting(user)).toBeVisible();
  await expect(page).toHaveURL('/dashboard');
});

test('the sessions list signs out another browser', async ({ page, browser }) => {
  const user = createUser();
  const otherContext = await browser.newContext();
  const otherPage = await otherContext.newPage();
  await signInAs(otherPage, user);
  await expect(new DashboardPage(otherPage).greeting(user)).toBeVisible();

  await signInAs(page, user, '/profile');
  const sessions = page.getByRole('list', { name: 'Sessions' });
  await expect(sessions.getByRole('listitem')).toHaveCount(2);
  await expect(sessions.getByText('This device')).toHaveCount(1);
  await waitForIslands(page);
  await page.getByRole('button', { name: /^Sign out Chrome/ }).click();
  await expect(sessions.getByRole('listitem')).toHaveCount(1);

  await otherPage.goto('/profile');
  await expect(otherPage).toHaveURL('/login?next=%2Fprofile');
  await expect(new LoginPage(otherPage).heading()).toBeVisible();
  await otherContext.close();
});
