// The profile page: account details and the password change.
import { expect, test } from '@playwright/test';
import { DashboardPage, LoginPage, signInAs, waitForIslands } from './fixtures/pages';
import { PASSWORD, createUser } from './fixtures/users';

test('a user changes their password and signs in with the new one', async ({ page }) => {
  const user = createUser();
  await signInAs(page, user, '/profile');
  await expect(page.getByRole('heading', { name: 'Your profile' })).toBeVisible();
  await expect(page.getByText(user.fullName, { exact: true }).first()).toBeVisible();
  await waitForIslands(page);

  await page.getByLabel('Current password', { exact: true }).fill('not my password');
  await page.getByLabel('New password', { exact: true }).fill('a brand new passphrase');
  await page.getByLabel('Repeat the new password').fill('a brand new passphrase');
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByText('The current password is not correct.')).toBeVisible();

  await page.getByLabel('Current password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByText('Your password has been changed.')).toBeVisible();
  await expect(page.getByLabel('New password', { exact: true })).toHaveValue('');

  await page.getByRole('button', { name: 'Sign out' }).click();
  const login = new LoginPage(page);
  await expect(login.heading()).toBeVisible();
  await login.waitUntilHydrated();
  await login.signIn(user, PASSWORD);
  await expect(login.error()).toHaveText('Incorrect username or password.');
  await login.signIn(user, 'a brand new passphrase');
  await expect(new DashboardPage(page).greeting(user)).toBeVisible();
});
