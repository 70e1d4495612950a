// What mail unlocks, through real SMTP to the sink: a forgotten password reset from the login
// page, a used link saying so, sign-up confirmed by mail, and an address change on the profile.
import { expect, test, type Page } from '@playwright/test';
import { DashboardPage, LoginPage, signInAs, waitForIslands } from './fixtures/pages';
import { linkIn, newAddress, waitForMail } from './fixtures/mailbox';
import { PASSWORD, createUserWithEmail, newName } from './fixtures/users';

const NEW_PASSWORD = 'a new passphrase for mail';

test('a forgotten password is reset through the mailed link, which then says it was used', async ({ page }) => {
  const address = newAddress('forgot');
  const user = createUserWithEmail(address);
  await new LoginPage(page).goto();
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await expect(page.getByRole('heading', { name: 'Forgot your password?' })).toBeVisible();
  await waitForIslands(page);
  await page.getByLabel('Username or e-mail address').fill(address);
  await page.getByRole('button', { name: 'Send me a link' }).click();
  await expect(page.getByRole('status')).toContainText('If an account matches, we sent a link');

  const [mail] = await waitForMail(address);
  expect(mail.subject).toContain('Reset your');
  const link = linkIn(mail);
  await page.goto(link);
  await expect(page.getByRole('heading', { name: 'Choose a new password' })).toBeVisible();
  await expect(page.getByText(user.username)).toBeVisible();
  await waitForIslands(page);
  await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel('Repeat the new password').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Set the new password' }).click();
  await expect(page).toHaveURL('/login?reason=password_reset');
  const login = new LoginPage(page);
  await expect(login.notice()).toContainText('Your password was changed');

  await login.waitUntilHydrated();
  await login.signIn(user, NEW_PASSWORD);
  await expect(new DashboardPage(page).greeting(user)).toBeVisible();
  const [, notice] = await waitForMail(address, 2);
  expect(notice.subject).toContain('password was changed');

  await page.goto(link);
  await expect(page.getByRole('alert')).toContainText('This link was already used');
});

test('signing up creates the account once the mailed link is followed', async ({ page }) => {
  const address = newAddress('signup');
  const user = newName();
  await new LoginPage(page).goto();
  await page.getByRole('link', { name: 'Create an account' }).click();
  await expect(page.getByRole('heading', { name: 'Create an account' })).toBeVisible();
  await waitForIslands(page);
  await askForAnAccount(page, user.username, address);

  const [mail] = await waitForMail(address);
  await page.goto(linkIn(mail));
  await expect(page.getByText(`Confirm ${address} to create the account ${user.username}.`)).toBeVisible();
  await waitForIslands(page);
  await page.getByRole('button', { name: 'Confirm and create my account' }).click();
  await expect(page).toHaveURL('/login?reason=signed_up');
  const login = new LoginPage(page);
  await expect(login.notice()).toContainText('Your account is ready');
  await login.waitUntilHydrated();
  await login.signIn({ username: user.username, fullName: user.username });
  await expect(new DashboardPage(page).greeting({ username: user.username, fullName: user.username })).toBeVisible();
});

test('a new address on the profile takes effect once its mailed link is followed', async ({ page }) => {
  const old = newAddress('old');
  const fresh = newAddress('new');
  const user = createUserWithEmail(old);
  await signInAs(page, user, '/profile');
  const section = page.getByRole('region', { name: 'E-mail address' });
  await expect(section.getByText(old)).toBeVisible();
  await expect(section.getByText('Not confirmed')).toBeVisible();
  await waitForIslands(page);

  await section.getByLabel('New e-mail address').fill(fresh);
  await section.getByLabel('Your password, to confirm').fill(PASSWORD);
  await section.getByRole('button', { name: 'Send a confirmation link' }).click();
  await expect(section.getByText(`We sent a link to ${fresh}`)).toBeVisible();
  const [notice] = await waitForMail(old);
  expect(notice.text).toContain(fresh);

  const [mail] = await waitForMail(fresh);
  await page.goto(linkIn(mail));
  await expect(page.getByRole('button', { name: 'Confirm this address' })).toBeVisible();
  await waitForIslands(page);
  await page.getByRole('button', { name: 'Confirm this address' }).click();
  await expect(page).toHaveURL('/profile?notice=email_verified');
  await expect(section.getByText('Your e-mail address is confirmed.')).toBeVisible();
  await expect(section.getByText(fresh)).toBeVisible();
  await expect(section.getByText('Confirmed', { exact: true })).toBeVisible();
});

// The pages a mailed link opens send no Referer (their address holds the link's token), so the
// browser posts their forms with `Origin: null`. Without JavaScript, or clicked before the page
// has hydrated, those forms are plain posts, and the server must still take them as the site's.
test.describe('with JavaScript disabled', () => {
  test.use({ javaScriptEnabled: false });

  test('signing up and confirming the mailed link are plain form posts', async ({ page }) => {
    const address = newAddress('signup-nojs');
    const user = newName();
    await page.goto('/signup');
    await askForAnAccount(page, user.username, address);

    const [mail] = await waitForMail(address);
    await page.goto(linkIn(mail));
    await page.getByRole('button', { name: 'Confirm and create my account' }).click();
    await expect(page).toHaveURL('/login?reason=signed_up');
    await expect(new LoginPage(page).notice()).toContainText('Your account is ready');
  });

  test('a password is reset through the mailed link with plain form posts', async ({ page }) => {
    const address = newAddress('forgot-nojs');
    createUserWithEmail(address);
    await page.goto('/forgot-password');
    await page.getByLabel('Username or e-mail address').fill(address);
    await page.getByRole('button', { name: 'Send me a link' }).click();
    await expect(page.getByRole('status')).toContainText('If an account matches, we sent a link');

    const [mail] = await waitForMail(address);
    await page.goto(linkIn(mail));
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('Repeat the new password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await expect(page).toHaveURL('/login?reason=password_reset');
    await expect(new LoginPage(page).notice()).toContainText('Your password was changed');
  });
});

/** Fills in the sign-up form on the page and sends it; the page then says that a mail went out. */
async function askForAnAccount(page: Page, username: string, address: string) {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('E-mail address').fill(address);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Repeat the password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('status')).toContainText('Check your mail');
}
