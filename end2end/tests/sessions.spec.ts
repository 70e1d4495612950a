// Sessions outlive their short access tokens, and can be ended from another browser.
import { expect, test } from '@playwright/test';
import { DashboardPage, Header, LoginPage, signInAs, waitForIslands } from './fixtures/pages';
import { clockServer, moveServerClock } from './fixtures/clock';
import { createUser } from './fixtures/users';

test.describe('on a server whose clock the test moves', () => {
  test.use({ baseURL: clockServer.baseURL });

  test('a session survives access-token expiry while the user clicks around', async ({ page }) => {
    const user = createUser(clockServer.dataDir);
    await signInAs(page, user);
    await expect(new DashboardPage(page).greeting(user)).toBeVisible();

    // The server gives 3 s access tokens (refused about 8 s after they end, the leeway): 9 s on,
    // the browser's token is refused and the session must carry on by refresh.
    moveServerClock(9);
    await new Header(page).userLink(user).click();
    await expect(page.getByRole('heading', { name: 'Your profile' })).toBeVisible();
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await expect(new DashboardPage(page).greeting(user)).toBeVisible();

    moveServerClock(9);
    await page.reload();
    await expect(new DashboardPage(page).greeting(user)).toBeVisible();
    await expect(page).toHaveURL('/dashboard');

    // Past the idle limit of a session without "keep me signed in" (12 h), it is over.
    moveServerClock(13 * 60 * 60);
    await page.reload();
    await expect(page).toHaveURL('/login?next=%2Fdashboard');
    await expect(new LoginPage(page).heading()).toBeVisible();
  });
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
