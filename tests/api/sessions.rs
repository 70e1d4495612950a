//! Sessions that last as long as they should: silent refresh, remember me, idle and absolute
//! limits, the sessions list and the purge. Small lifetimes, and time moved by the test clock.

use std::time::Duration;

use gatehouse::api::{ListSessions, RevokeOtherSessions, RevokeSession};
use gatehouse::server::config::Settings;
use serde_json::Value;

use crate::helpers::{PASSWORD, TestApp, TestData, location, set_cookies, spawn_app, spawn_app_with};

/// Access tokens of one second: with the 5 s leeway they are refused 6 s later on the clock.
async fn spawn_short_lived(edit: impl FnOnce(&mut Settings)) -> TestApp {
    let data = TestData::new().await;
    let mut settings = data.settings();
    settings.access_ttl = Duration::from_secs(1);
    edit(&mut settings);
    spawn_app_with(settings, data).await
}

const PAST_ACCESS_EXPIRY: Duration = Duration::from_secs(7);

/// The `Cookie` header a browser would send after `response`.
fn cookie_header(response: &reqwest::Response) -> String {
    set_cookies(response)
        .iter()
        .map(|cookie| cookie.split(';').next().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("; ")
}

async fn dashboard_with(app: &TestApp, cookie: &str) -> reqwest::Response {
    app.other_browser()
        .get(format!("{}/dashboard", app.address))
        .header("accept", "text/html")
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_expired_access_token_is_renewed_silently_with_both_cookies() {
    let app = spawn_short_lived(|_| {}).await;
    app.add_user("johndoe").await;
    app.sign_in("johndoe", PASSWORD, None).await;
    app.clock.advance(PAST_ACCESS_EXPIRY);

    let response = app.get_page("/dashboard").await;

    assert_eq!(response.status(), 200);
    let renewed = set_cookies(&response);
    assert!(
        renewed.iter().any(|c| c.starts_with("gatehouse_access=ey")),
        "{renewed:?}"
    );
    assert!(
        renewed
            .iter()
            .any(|c| c.starts_with("gatehouse_refresh=") && !c.starts_with("gatehouse_refresh=;")),
        "{renewed:?}"
    );
    assert_eq!(
        app.get_page("/profile").await.status(),
        200,
        "and the renewed cookies work"
    );
}

#[tokio::test]
async fn ten_parallel_requests_racing_one_expired_token_all_succeed_and_leave_one_session() {
    let app = spawn_short_lived(|_| {}).await;
    let user = app.add_user("johndoe").await;
    let cookie = cookie_header(&app.sign_in("johndoe", PASSWORD, None).await);
    app.clock.advance(PAST_ACCESS_EXPIRY);

    let requests = (0..10).map(|_| dashboard_with(&app, &cookie));
    let responses = futures::future::join_all(requests).await;

    for response in &responses {
        assert_eq!(response.status(), 200);
    }
    let sessions = app.live_sessions(user.id).await;
    assert_eq!(sessions.len(), 1);
    let successors: std::collections::HashSet<String> = responses
        .iter()
        .flat_map(set_cookies)
        .filter(|cookie| cookie.starts_with("gatehouse_refresh="))
        .collect();
    assert_eq!(successors.len(), 1, "every racer got the same successor");
}

#[tokio::test]
async fn a_spent_refresh_cookie_replayed_after_the_grace_window_ends_the_session() {
    let app = spawn_short_lived(|_| {}).await;
    app.add_user("johndoe").await;
    let stolen = cookie_header(&app.sign_in("johndoe", PASSWORD, None).await);
    app.clock.advance(PAST_ACCESS_EXPIRY);
    let renewed = dashboard_with(&app, &stolen).await;
    assert_eq!(renewed.status(), 200);
    let current = cookie_header(&renewed);

    app.clock.advance(Duration::from_secs(6));
    let replay = dashboard_with(&app, &stolen).await;

    assert_eq!(replay.status(), 303);
    assert_eq!(location(&replay), "/login?next=%2Fdashboard");
    assert_eq!(
        dashboard_with(&app, &current).await.status(),
        303,
        "the rightful successor is revoked too"
    );
}

#[tokio::test]
async fn a_session_without_remember_me_ends_when_idle_and_a_remembered_one_does_not() {
    let app = spawn_short_lived(|settings| settings.session_idle = Duration::from_secs(2)).await;
    app.add_user("johndoe").await;
    let forgetful = cookie_header(&app.sign_in("johndoe", PASSWORD, None).await);
    let remembered = cookie_header(&app.sign_in_remembered("johndoe").await);
    app.clock.advance(PAST_ACCESS_EXPIRY);

    assert_eq!(dashboard_with(&app, &forgetful).await.status(), 303);
    assert_eq!(dashboard_with(&app, &remembered).await.status(), 200);
}

#[tokio::test]
async fn every_session_ends_at_its_absolute_limit() {
    let app = spawn_short_lived(|settings| settings.refresh_ttl = Duration::from_secs(3)).await;
    app.add_user("johndoe").await;
    let remembered = cookie_header(&app.sign_in_remembered("johndoe").await);
    app.clock.advance(PAST_ACCESS_EXPIRY);
    assert_eq!(dashboard_with(&app, &remembered).await.status(), 303);
}

#[tokio::test]
async fn remember_me_decides_whether_the_cookies_outlive_the_browser() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    let plain: Vec<String> = set_cookies(&app.sign_in("johndoe", PASSWORD, None).await)
        .into_iter()
        .filter(|cookie| !cookie.starts_with("gatehouse_device="))
        .collect();
    assert_eq!(plain.len(), 2);
    assert!(
        plain.iter().all(|cookie| !cookie.contains("Max-Age")),
        "{plain:?}"
    );

    let remembered = set_cookies(&app.sign_in_remembered("johndoe").await);
    let access = remembered
        .iter()
        .find(|c| c.starts_with("gatehouse_access="))
        .unwrap();
    let refresh = remembered
        .iter()
        .find(|c| c.starts_with("gatehouse_refresh="))
        .unwrap();
    assert!(access.contains("Max-Age=900"), "{access}");
    let max_age: i64 = refresh
        .split("Max-Age=")
        .nth(1)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((30 * 86400 - 5..=30 * 86400).contains(&max_age), "{refresh}");
    for cookie in [access, refresh] {
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
            "{cookie}"
        );
    }
}

#[tokio::test]
async fn the_sessions_list_shows_each_session_and_revokes_one_or_all_others() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    app.sign_in("johndoe", PASSWORD, None).await;
    let other = app.other_browser();
    let login = |client: reqwest::Client| {
        let origin = app.address.clone();
        let url = format!(
            "{}{}",
            app.address,
            <gatehouse::api::Login as leptos::server_fn::ServerFn>::PATH
        );
        async move {
            cookie_header(
                &client
                    .post(url)
                    .header("origin", origin)
                    .header("accept", "text/html")
                    .header(
                        "user-agent",
                        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
                    )
                    .form(&[("username", "johndoe"), ("password", PASSWORD)])
                    .send()
                    .await
                    .unwrap(),
            )
        }
    };
    let second = login(other.clone()).await;
    let third = login(app.other_browser()).await;

    let list: Vec<Value> = app.call::<ListSessions>(&[]).await.json().await.unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(
        list.iter()
            .filter(|session| session["this_device"] == true)
            .count(),
        1
    );
    let firefox: Vec<&Value> = list
        .iter()
        .filter(|session| session["browser"] == "Firefox on Linux")
        .collect();
    assert_eq!(firefox.len(), 2);
    assert_eq!(firefox[0]["address"], "127.0.0.1");

    let victim = firefox[0]["id"].as_str().unwrap();
    assert_eq!(app.call::<RevokeSession>(&[("id", victim)]).await.status(), 200);
    let statuses = [
        dashboard_with(&app, &second).await.status(),
        dashboard_with(&app, &third).await.status(),
    ];
    assert_eq!(
        statuses.iter().filter(|status| status.as_u16() == 303).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        app.call::<RevokeSession>(&[("id", victim)]).await.status(),
        400,
        "already ended"
    );

    let ended: Value = app.call::<RevokeOtherSessions>(&[]).await.json().await.unwrap();
    assert_eq!(ended, 1);
    assert_eq!(dashboard_with(&app, &second).await.status(), 303);
    assert_eq!(dashboard_with(&app, &third).await.status(), 303);
    assert_eq!(
        app.get_page("/dashboard").await.status(),
        200,
        "this device stays signed in"
    );
}

#[tokio::test]
async fn signing_out_everywhere_else_ends_program_tokens_too() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    let grant = app.password_grant("johndoe").await;
    let bearer = grant["access_token"].as_str().unwrap();
    let me = || {
        app.other_browser()
            .get(format!("{}/api/users/me", app.address))
            .bearer_auth(bearer)
            .send()
    };
    assert_eq!(me().await.unwrap().status(), 200);

    app.sign_in("johndoe", PASSWORD, None).await;
    app.call::<RevokeOtherSessions>(&[]).await;

    assert_eq!(me().await.unwrap().status(), 401);
}

#[tokio::test]
async fn the_purge_deletes_ended_sessions_and_spent_refresh_tokens() {
    let app = spawn_app().await;
    let user = app.add_user("johndoe").await;
    app.sign_in("johndoe", PASSWORD, None).await;
    app.call::<gatehouse::api::Logout>(&[]).await;
    app.sign_in("johndoe", PASSWORD, None).await;

    let nothing_yet = app.state.store.purge(app.clock.now()).await.unwrap();
    assert_eq!(nothing_yet.0, 0, "a session revoked just now is kept for a day");

    let (sessions, _) = app
        .state
        .store
        .purge(app.clock.now() + time::Duration::days(31))
        .await
        .unwrap();
    assert_eq!(sessions, 2);
    assert!(
        app.state
            .store
            .sessions_of(user.id, app.clock.now())
            .await
            .unwrap()
            .is_empty()
    );
}
