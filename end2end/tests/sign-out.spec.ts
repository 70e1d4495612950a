// Signing out, and being signed out when the account is disabled.
import { expect, test } from '@playwright/test';
import { DashboardPage, Header, LoginPage, signInAs } from './fixtures/pages';
import { createUser, disableUser } from './fixtures/users';

test('signing out lands on the login page and closes the protected pages again', async ({ page, context }) => {
  const user = createUser();
  await signInAs(page, user);
  await expect(new DashboardPage(page).greeting(user)).toBeVisible();

  await new Header(page).signOutButton().click();

  await expect(new LoginPage(page).heading()).toBeVisible();
  await expect(page).toHaveURL('/login');
  await expect(new Header(page).signInLink()).toBeVisible();
  expect((await context.cookies()).some((cookie) => cookie.name === 'gatehouse_access')).toBe(false);
  await page.goto('/dashboard');
  await expect(page).toHaveURL('/login?next=%2Fdashboard');
});

test('a user disabled from the command line mid-session is sent to sign in and told why', async ({ page }) => {
  const user = createUser();
  await signInAs(page, user);
  await expect(new DashboardPage(page).greeting(user)).toBeVisible();

  disableUser(user);
  await page.goto('/profile');

  await expect(page).toHaveURL('/login?next=%2Fprofile&reason=account_disabled');
  await expect(new LoginPage(page).notice()).toContainText('Your account has been disabled');
});
