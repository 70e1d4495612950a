// Signing in through the reactive login form.
import { expect, test } from '@playwright/test';
import { DashboardPage, Header, LoginPage, isSameDocument, markDocument, signInAs, watchForErrors } from './fixtures/pages';
import { holdBack } from './fixtures/network';
import { createUser } from './fixtures/users';

test('a person signs in and reaches the dashboard, greeted by name', async ({ page }) => {
  const errors = watchForErrors(page);
  const user = createUser();
  const login = new LoginPage(page);
  await login.goto();
  await expect(login.username()).toBeFocused();
  await login.waitUntilHydrated();

  await login.signIn(user);

  await expect(new DashboardPage(page).greeting(user)).toBeVisible();
  await expect(page).toHaveURL('/dashboard');
  await expect(new Header(page).userLink(user)).toBeVisible();
  await expect(page.getByText(/You signed in on \d+ \w+ \d{4}, \d\d:\d\d UTC/)).toBeVisible();
  expect(errors).toEqual([]);
});

test('a wrong password shows the error in place, without a page load', async ({ page }) => {
  const user = createUser();
  const login = new LoginPage(page);
  await login.goto();
  await login.waitUntilHydrated();
  await markDocument(page);

  await login.signIn(user, 'not the password');

  await expect(login.error()).toHaveText('Incorrect username or password.');
  await expect(page).toHaveURL('/login');
  expect(await isSameDocument(page)).toBe(true);
  await expect(login.username()).toHaveValue(user.username);
});

test('the button shows that sign-in is under way and cannot be pressed twice', async ({ page }) => {
  const user = createUser();
  const login = new LoginPage(page);
  await login.goto();
  await login.waitUntilHydrated();
  const release = await holdBack(page, '**/api/login');

  await login.signIn(user);

  await expect(page.getByRole('button', { name: 'Signing in…' })).toBeDisabled();
  release();
  await expect(new DashboardPage(page).greeting(user)).toBeVisible();
});

test('a protected page sends the visitor to sign in, then back to that page', async ({ page }) => {
  const user = createUser();
  await page.goto('/profile');
  await expect(page).toHaveURL('/login?next=%2Fprofile');
  const login = new LoginPage(page);
  await login.waitUntilHydrated();

  await login.signIn(user);

  await expect(page).toHaveURL('/profile');
  await expect(page.getByRole('heading', { name: 'Your profile' })).toBeVisible();
  await expect(page.getByText(user.username, { exact: true })).toBeVisible();
});

test('page scripts cannot see the token: the cookie is HttpOnly', async ({ page, context }) => {
  const user = createUser();
  await signInAs(page, user);
  await expect(new DashboardPage(page).greeting(user)).toBeVisible();

  expect(await page.evaluate(() => document.cookie)).not.toContain('gatehouse_access');
  const cookie = (await context.cookies()).find((candidate) => candidate.name === 'gatehouse_access');
  expect(cookie?.httpOnly).toBe(true);
  expect(cookie?.sameSite).toBe('Lax');
  expect(cookie?.path).toBe('/');
});

test('a sign-in sent before the page\'s code has loaded lands on the page it was for', async ({ page }) => {
  const user = createUser();
  // The bundle arrives only after the click (a slow network): the form posts as a plain form,
  // and the code then loads, and hydrates, while that post is under way.
  const release = await holdBack(page, '**/*.wasm');
  const login = new LoginPage(page);
  await login.goto('/profile');

  await login.signIn(user);
  release();

  await expect(page).toHaveURL('/profile');
  await expect(page.getByText(user.username, { exact: true })).toBeVisible();
});

test('a wrong password sent before the page\'s code has loaded comes back with the error, which stays once the form is alive', async ({ page }) => {
  const errors = watchForErrors(page);
  const user = createUser();
  // The bundle arrives only when released (a slow network): the form posts as a plain form.
  const release = await holdBack(page, '**/*.wasm');
  const login = new LoginPage(page);
  await login.goto();

  await login.signIn(user, 'not the password');

  // The plain post's answer: the form again, with the error the server put in the address.
  await expect(login.error()).toHaveText('Incorrect username or password.');
  release();
  await login.waitUntilHydrated();
  await expect(login.error()).toHaveText('Incorrect username or password.');
  expect(errors).toEqual([]);
});

test.describe('with JavaScript disabled', () => {
  test.use({ javaScriptEnabled: false });

  test('signing in and out work as plain form posts', async ({ page }) => {
    const user = createUser();
    const login = new LoginPage(page);
    await login.goto('/profile');

    await login.signIn(user);

    await expect(page).toHaveURL('/profile');
    await expect(page.getByRole('heading', { name: 'Your profile' })).toBeVisible();
    await new Header(page).signOutButton().click();
    await expect(page).toHaveURL('/login');
    await page.goto('/dashboard');
    await expect(page).toHaveURL('/login?next=%2Fdashboard');
  });

  test('a wrong password comes back to the form with the error', async ({ page }) => {
    const user = createUser();
    const login = new LoginPage(page);
    await login.goto();

    await login.signIn(user, 'not the password');

    await expect(login.heading()).toBeVisible();
    await expect(login.error()).toHaveText('Incorrect username or password.');
  });
});

test('after repeated wrong passwords the form says how long to wait', async ({ page }) => {
  const user = createUser();
  const login = new LoginPage(page);
  await login.goto();
  await login.waitUntilHydrated();
  for (let guess = 0; guess < 5; guess++) {
    await login.signIn(user, `wrong guess ${guess}`);
    await expect(login.error()).toHaveText('Incorrect username or password.');
  }

  // The waits begin now, at one second, doubling with each further failure. A busy machine may
  // take longer than the first wait between two guesses (and get "Incorrect" again), but not
  // longer than all of them: keep guessing until the form says how long to wait. (That the
  // right password is refused during the wait is proven with a moved clock in tests/api.)
  const waitNotice = /^Too many attempts, try again in \d+ seconds?\.$/;
  let toldToWait = false;
  for (let guess = 5; guess < 12 && !toldToWait; guess++) {
    const answered = page.waitForResponse((response) => response.request().method() === 'POST');
    await login.signIn(user, `wrong guess ${guess}`);
    await answered;
    await expect(login.error()).toHaveText(/^(Incorrect username or password\.|Too many attempts.*)$/);
    toldToWait = waitNotice.test((await login.error().textContent()) ?? '');
  }

  expect(toldToWait).toBe(true);
  await expect(page).toHaveURL('/login');
});
