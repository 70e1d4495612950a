// Two-step sign-in as a person uses it: turned on from the profile with an authenticator app
// (the key read off the page, the codes computed as the app would), then signing in with a
// code, then with a recovery code.
import { expect, test } from '@playwright/test';
import { DashboardPage, Header, LoginPage, signInAs, waitForIslands } from './fixtures/pages';
import { watchRequests } from './fixtures/network';
import { totp } from './fixtures/totp';
import { PASSWORD, createUser } from './fixtures/users';

test('a person turns on two-step sign-in, then signs in with a code and with a recovery code', async ({ page }) => {
  const user = createUser();
  await signInAs(page, user, '/profile');
  const section = page.getByRole('region', { name: 'Two-step sign-in' });
  await expect(section.getByText('Off', { exact: true })).toBeVisible();
  await waitForIslands(page);

  await section.getByLabel('Your password, to confirm').fill(PASSWORD);
  await section.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
  await expect(section.getByRole('img', { name: 'QR code for your authenticator app' })).toBeVisible();
  const secret = (await section.locator('#totp-secret').textContent()) ?? '';
  expect(secret.replace(/\s/g, '')).toMatch(/^[A-Z2-7]{32}$/);

  // A refused code changes nothing, so the section is not read again: that would draw the form
  // anew and empty the field while the next code is typed (seen once as a right code "refused").
  const statusReads = watchRequests(page, (url) => url.includes('/api/two_step_status'));
  await section.getByLabel('Enter the 6-digit code the app shows').fill('000000' === totp(secret) ? '000001' : '000000');
  await section.getByRole('button', { name: 'Turn on', exact: true }).click();
  await expect(section.getByText('That code is not right')).toBeVisible();
  await section.getByLabel('Enter the 6-digit code the app shows').fill(totp(secret));
  expect(statusReads).toEqual([]);
  await section.getByRole('button', { name: 'Turn on', exact: true }).click();

  const codes = section.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem');
  await expect(codes).toHaveCount(10);
  const recoveryCodes = await codes.allTextContents();
  await expect(section.getByText('Recovery codes: 10 codes left.')).toBeVisible();

  // The password alone now leads to the code page.
  await new Header(page).signOutButton().click();
  const login = new LoginPage(page);
  await expect(login.heading()).toBeVisible();
  await login.waitUntilHydrated();
  await login.signIn(user);
  await expect(page).toHaveURL(/\/login\/code$/);
  await expect(page.getByRole('heading', { name: 'Two-step sign-in' })).toBeVisible();
  await waitForIslands(page);
  // The code that turned it on is spent; the app's next code is good (one step ahead is allowed).
  await page.getByLabel('Enter the 6-digit code').fill(totp(secret, Date.now() + 30_000));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(new DashboardPage(page).greeting(user)).toBeVisible();

  // A lost phone: a recovery code instead, which the profile then counts.
  await new Header(page).signOutButton().click();
  await expect(login.heading()).toBeVisible();
  await login.waitUntilHydrated();
  await login.signIn(user);
  await expect(page).toHaveURL(/\/login\/code$/);
  await expect(page.getByRole('heading', { name: 'Two-step sign-in' })).toBeVisible();
  await waitForIslands(page);
  await page.getByRole('button', { name: 'Lost your phone? Use a recovery code' }).click();
  await page.getByLabel('Enter one of your recovery codes').fill(recoveryCodes[0]);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/profile\?notice=recovery_code_used$/);
  await expect(page.getByText('You signed in with a recovery code, which no longer works. You have 9 codes left.')).toBeVisible();
});

test('a person turns two-step sign-in off with their password, and the password alone signs in again', async ({ page }) => {
  const user = createUser();
  await signInAs(page, user, '/profile');
  const section = page.getByRole('region', { name: 'Two-step sign-in' });
  await expect(section.getByText('Off', { exact: true })).toBeVisible();
  await waitForIslands(page);
  await section.getByLabel('Your password, to confirm').fill(PASSWORD);
  await section.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
  const secret = (await section.locator('#totp-secret').textContent()) ?? '';
  await section.getByLabel('Enter the 6-digit code the app shows').fill(totp(secret));
  await section.getByRole('button', { name: 'Turn on', exact: true }).click();
  await expect(section.getByRole('list', { name: 'Recovery codes' })).toBeVisible();

  // Turned off with the password: the password alone signs in again.
  await section.getByLabel('Your password, to turn it off').fill(PASSWORD);
  await section.getByRole('button', { name: 'Turn off two-step sign-in' }).click();
  await expect(section.getByText('Off', { exact: true })).toBeVisible();
  await new Header(page).signOutButton().click();
  const login = new LoginPage(page);
  await expect(login.heading()).toBeVisible();
  await login.waitUntilHydrated();
  await login.signIn(user);
  await expect(new DashboardPage(page).greeting(user)).toBeVisible();
});
