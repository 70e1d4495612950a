// Passkeys as a person uses them, with Chromium's virtual authenticator (the DevTools
// protocol's WebAuthn domain) standing in for a phone or laptop: add a passkey on the profile,
// sign out, sign in with it and no username, then remove it.
import { expect, test, type Page } from '@playwright/test';
import { DashboardPage, Header, LoginPage, signInAs, waitForIslands } from './fixtures/pages';
import { watchRequests } from './fixtures/network';
import { createUser } from './fixtures/users';

/** A platform authenticator that keeps discoverable credentials and verifies its user (as a
 * fingerprint reader would), answering at once. */
async function addVirtualAuthenticator(page: Page) {
  const devtools = await page.context().newCDPSession(page);
  await devtools.send('WebAuthn.enable');
  const { authenticatorId } = await devtools.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return {
    credentials: async () => (await devtools.send('WebAuthn.getCredentials', { authenticatorId })).credentials,
  };
}

/** Makes the next page loads behave like a browser whose username field cannot offer passkeys
 * (no conditional mediation), where the button is the way in. */
async function withoutPasskeyAutofill(page: Page) {
  await page.addInitScript(() => {
    PublicKeyCredential.isConditionalMediationAvailable = async () => false;
  });
}

test('a person adds a passkey, signs in with it without a username, and removes it', async ({ page }) => {
  const authenticator = await addVirtualAuthenticator(page);
  const user = createUser();
  await signInAs(page, user, '/profile');
  const section = page.getByRole('region', { name: 'Passkeys' });
  await expect(section.getByText('You have no passkeys yet.')).toBeVisible();
  await waitForIslands(page);

  await section.getByLabel('Name it, so you know which one it is').fill('laptop');
  await section.getByRole('button', { name: 'Add a passkey' }).click();
  await expect(section.getByText('Passkey added. You can sign in with it now.')).toBeVisible();
  const passkeys = section.getByRole('list', { name: 'Your passkeys' });
  await expect(passkeys.getByText('laptop', { exact: true })).toBeVisible();
  await expect(passkeys.getByText(/never used yet/)).toBeVisible();
  const stored = await authenticator.credentials();
  expect(stored).toHaveLength(1);
  expect(stored[0].isResidentCredential).toBe(true);

  // Signed out, the login page offers the passkey in the username field's autofill; Chromium's
  // virtual authenticator answers that request at once, as a person picking it there would.
  // No username is typed.
  await new Header(page).signOutButton().click();
  await expect(new DashboardPage(page).greeting(user)).toBeVisible();

  // From here on the browser has no passkey autofill, as some browsers have none: set for every
  // page loaded from now on, the sign-in pages that signing out leads to included, so that the
  // button does it.
  await withoutPasskeyAutofill(page);

  // Renamed (the list says it was used).
  await page.goto('/profile');
  await expect(passkeys.getByText(/last used/)).toBeVisible();
  await waitForIslands(page);
  await section.getByText('Rename laptop').click();
  // A refused name (blank is none) leaves the form as it was, open with what was typed, and
  // does not read the list again (which drew it anew, closing the form).
  const listReads = watchRequests(page, (url) => url.includes('/api/list_passkeys'));
  await section.getByLabel('New name').fill('   ');
  await section.getByRole('button', { name: 'Save name' }).click();
  await expect(section.getByText("A passkey's name is 1 to 60 characters on one line")).toBeVisible();
  await expect(section.getByLabel('New name')).toHaveValue('   ');
  expect(listReads).toEqual([]);
  await section.getByLabel('New name').fill('work laptop');
  await section.getByRole('button', { name: 'Save name' }).click();
  await expect(passkeys.getByText('work laptop', { exact: true })).toBeVisible();

  // Signed in with the button.
  await new Header(page).signOutButton().click();
  const login = new LoginPage(page);
  await expect(login.heading()).toBeVisible();
  await login.waitUntilHydrated();
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await expect(new DashboardPage(page).greeting(user)).toBeVisible();

  // Removed (the sign-in is recent): the authenticator still holds it, but the site refuses it.
  await page.goto('/profile');
  await expect(passkeys.getByText('work laptop', { exact: true })).toBeVisible();
  await waitForIslands(page);
  await section.getByRole('button', { name: 'Remove work laptop' }).click();
  await expect(section.getByText('You have no passkeys yet.')).toBeVisible();
  await new Header(page).signOutButton().click();
  await expect(login.heading()).toBeVisible();
  await login.waitUntilHydrated();
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await expect(page.getByText('This passkey was not accepted.')).toBeVisible();
  await expect(login.heading()).toBeVisible();
});
