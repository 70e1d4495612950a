// Administration in the browser: the 403 page, finding and disabling a user (whose open tab
// is sent to sign in), a temporary password forcing a change, creating an account, and the
// audit log showing what this run did.
import { expect, test, type Page } from '@playwright/test';
import { DashboardPage, Header, LoginPage, signInAs, waitForIslands } from './fixtures/pages';
import { PASSWORD, createAdmin, createUser, newName, type TestUser } from './fixtures/users';

/** The admin's page of `user`, found through the user table's search. */
async function openUserPage(page: Page, user: TestUser) {
  await page.getByRole('searchbox', { name: 'Search' }).fill(user.username);
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(new RegExp(`search=${user.username}`));
  await page.getByRole('link', { name: user.username, exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: user.username })).toBeVisible();
  await waitForIslands(page);
}

test('a signed-in non-administrator gets the 403 page with a way home', async ({ page }) => {
  const user = createUser();
  await signInAs(page, user);
  await expect(new DashboardPage(page).greeting(user)).toBeVisible();
  await expect(page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'Users' })).toHaveCount(0);

  const response = await page.goto('/admin/users');
  expect(response?.status()).toBe(403);
  await expect(page.getByRole('heading', { name: 'You need administrator rights' })).toBeVisible();
  await page.getByRole('link', { name: 'Go to your dashboard' }).click();
  await expect(new DashboardPage(page).greeting(user)).toBeVisible();
});

test('an administrator finds a user and disables them; their open tab goes to sign-in at the next click', async ({ page, browser }) => {
  const admin = createAdmin();
  const victim = createUser();
  const victimContext = await browser.newContext();
  const victimPage = await victimContext.newPage();
  await signInAs(victimPage, victim);
  await expect(new DashboardPage(victimPage).greeting(victim)).toBeVisible();

  await signInAs(page, admin, '/admin/users');
  await expect(page.getByRole('heading', { level: 1, name: 'Users' })).toBeVisible();
  await openUserPage(page, victim);
  await page.getByRole('button', { name: 'Disable account' }).click();
  await expect(page.getByText('Account disabled: every session of theirs has ended.')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Enable account' })).toBeVisible();

  await new Header(victimPage).userLink(victim).click();
  await expect(victimPage).toHaveURL(/\/login\?next=%2Fprofile&reason=account_disabled/);
  await expect(new LoginPage(victimPage).notice()).toContainText('disabled');
  await victimContext.close();
});

test('a temporary password set by an administrator must be replaced at the next sign-in', async ({ page, browser }) => {
  const admin = createAdmin();
  const user = createUser();
  const temporary = `temporary ${Date.now()} passphrase`;
  await signInAs(page, admin, '/admin/users');
  await openUserPage(page, user);
  await page.getByLabel('Temporary password').fill(temporary);
  await page.getByRole('button', { name: 'Set temporary password' }).click();
  await expect(page.getByText('Temporary password set.')).toBeVisible();

  const userContext = await browser.newContext();
  const userPage = await userContext.newPage();
  await signInAs(userPage, user);
  // The login form was typed with PASSWORD, which no longer works.
  await expect(new LoginPage(userPage).error()).toContainText('Incorrect username or password');
  await new LoginPage(userPage).signIn(user, temporary);
  await expect(userPage).toHaveURL('/password');
  await expect(userPage.getByRole('heading', { name: 'Choose a new password' })).toBeVisible();
  await userPage.goto('/dashboard');
  await expect(userPage).toHaveURL('/password');
  await waitForIslands(userPage);

  await userPage.getByLabel('Current password').fill(temporary);
  await userPage.getByLabel('New password', { exact: true }).fill(PASSWORD);
  await userPage.getByLabel('Repeat the new password').fill(PASSWORD);
  await userPage.getByRole('button', { name: 'Change password' }).click();
  await expect(new DashboardPage(userPage).greeting(user)).toBeVisible();
  await userContext.close();
});

test('an administrator creates an account, and the audit log shows what happened', async ({ page }) => {
  const admin = createAdmin();
  const created = newName();
  await signInAs(page, admin, '/admin/users');
  const form = page.getByRole('region', { name: 'Create an account' });
  await expect(form).toBeVisible();
  await waitForIslands(page);
  await form.getByLabel('Username').fill(created.username);
  await form.getByLabel('Full name (optional)').fill(created.fullName);
  await form.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await form.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('heading', { level: 1, name: created.username })).toBeVisible();
  await waitForIslands(page);
  await page.getByRole('button', { name: 'Make administrator' }).click();
  await expect(page.getByRole('button', { name: 'Revoke administrator rights' })).toBeVisible();

  await page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'Audit log' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Audit log' })).toBeVisible();
  await page.getByRole('searchbox', { name: 'User' }).fill(created.username);
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(new RegExp(`user=${created.username}`));
  // Until the filtered list arrives the page keeps showing every event, other tests' included:
  // wait for exactly this account's two events (a header row and two rows).
  const events = page.getByRole('table');
  await expect(events.getByRole('row')).toHaveCount(3);
  await expect(events.getByRole('row', { name: /Administrator rights granted/ })).toContainText(created.username);
  await expect(events.getByRole('row', { name: /Account created/ })).toContainText(admin.username);

  await page.getByLabel('Action').selectOption({ label: 'Account created' });
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/action=user_created/);
  await expect(events.getByRole('row')).toHaveCount(2);
  await expect(events.getByRole('row', { name: /Administrator rights granted/ })).toHaveCount(0);
  await expect(events.getByRole('row', { name: /Account created/ })).toBeVisible();
});
