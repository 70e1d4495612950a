//! Several instances serving one site: two real servers on one database and one signing key
//! (PostgreSQL when the suite runs on it, else one SQLite file). What one does, the other sees
//! at its next request, even with the session in its cache.

use gatehouse::api::RevokeOtherSessions;
use gatehouse::domain::Username;
use gatehouse::server::config::PublicUrl;
use serde_json::Value;

use crate::helpers::{PASSWORD, TestApp, TestData, spawn_app_with};

/// Two instances of `https://`-less site `http://gatehouse.test`, sharing data and key. The
/// client of each keeps cookies by host, not port: a browser signed in on one is signed in on
/// both, as behind a load balancer.
async fn two_instances() -> (TestApp, TestApp) {
    let data = std::sync::Arc::new(TestData::new().await);
    let site = PublicUrl::parse("http://gatehouse.test").unwrap();
    let mut settings = data.settings();
    settings.public_url = Some(site);
    let a = spawn_app_with(settings.clone(), data.clone()).await;
    let b = spawn_app_with(settings, data).await;
    (a, b)
}

/// On PostgreSQL another instance learns of a change when PostgreSQL's notification reaches it,
/// a moment after the commit (typically well under a millisecond; a few on a busy machine; see
/// the README): waits until `app` has taken `count` more notifications into account than
/// `before`. On SQLite a change is seen at the next request and this returns at once.
async fn until_heard(app: &TestApp, before: u64, count: u64) {
    if app.data.scratch().is_none() {
        return;
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while app.state.store.changes_heard() < before + count {
        assert!(
            std::time::Instant::now() < deadline,
            "the notification never arrived"
        );
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
}

/// `app`'s page at `path`, asked by `browser`.
async fn page(app: &TestApp, browser: &reqwest::Client, path: &str) -> reqwest::Response {
    browser
        .get(format!("{}{path}", app.address))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_session_made_on_one_instance_is_valid_on_the_other() {
    let (a, b) = two_instances().await;
    a.add_user("johndoe").await;

    assert_eq!(a.sign_in("johndoe", PASSWORD, None).await.status(), 303);
    let dashboard = page(&b, &a.client, "/dashboard").await;
    assert_eq!(dashboard.status(), 200, "the cookie from A works on B");
    assert!(dashboard.text().await.unwrap().contains("Test johndoe"));

    let token = a.bearer_token("johndoe").await;
    let me = b.api("/api/users/me", &token).await;
    assert_eq!(me.status(), 200, "the Bearer token from A works on B");
    assert_eq!(me.json::<Value>().await.unwrap()["username"], "johndoe");
}

#[tokio::test]
async fn disabling_on_one_instance_is_refused_on_the_other_with_the_session_in_its_cache() {
    let (a, b) = two_instances().await;
    a.add_user("johndoe").await;
    a.sign_in("johndoe", PASSWORD, None).await;
    let token = a.bearer_token("johndoe").await;
    a.until_listening(true).await;
    assert_eq!(a.api("/api/users/me", &token).await.status(), 200);
    assert_eq!(page(&a, &a.client, "/dashboard").await.status(), 200);
    assert_eq!(
        a.state.store.cached_sessions(),
        2,
        "both sessions are cached on A"
    );

    let johndoe = Username::parse("johndoe").unwrap();
    let heard = a.state.store.changes_heard();
    assert!(b.state.store.set_disabled(&johndoe, true).await.unwrap());
    until_heard(&a, heard, 1).await;
    let dashboard = page(&a, &a.client, "/dashboard").await;
    assert_eq!(dashboard.status(), 303);
    assert!(
        crate::helpers::location(&dashboard).contains("reason=account_disabled"),
        "{}",
        crate::helpers::location(&dashboard)
    );
    assert_eq!(a.api("/api/users/me", &token).await.status(), 401);
}

#[tokio::test]
async fn a_user_disabled_from_the_command_line_is_refused_by_the_running_servers_at_once() {
    let (a, b) = two_instances().await;
    a.add_user("johndoe").await;
    let token = a.bearer_token("johndoe").await;
    for app in [&a, &b] {
        app.until_listening(true).await;
        assert_eq!(app.api("/api/users/me", &token).await.status(), 200);
        assert_eq!(app.state.store.cached_sessions(), 1);
    }

    // Another process, with a store of its own.
    let heard = [a.state.store.changes_heard(), b.state.store.changes_heard()];
    let output = a.data.gatehouse(&["user", "disable", "johndoe"], "");
    assert!(output.status.success(), "{}", crate::helpers::stderr(&output));
    until_heard(&a, heard[0], 1).await;
    until_heard(&b, heard[1], 1).await;

    for app in [&a, &b] {
        assert_eq!(app.api("/api/users/me", &token).await.status(), 401);
    }
}

#[tokio::test]
async fn an_instance_that_stops_hearing_the_others_reads_every_session_until_it_hears_again() {
    let (a, b) = two_instances().await;
    let Some(database) = b.data.scratch() else {
        return; // SQLite: processes hear of each other through a file, with no connection to lose.
    };
    a.add_user("johndoe").await;
    let johndoe = Username::parse("johndoe").unwrap();
    let token = a.bearer_token("johndoe").await;
    b.until_listening(true).await;
    assert_eq!(b.api("/api/users/me", &token).await.status(), 200);
    assert_eq!(b.state.store.cached_sessions(), 1, "the session is cached on B");

    database.terminate_listeners().await.unwrap();
    b.until_listening(false).await;
    assert!(a.state.store.set_disabled(&johndoe, true).await.unwrap());
    assert_eq!(
        b.api("/api/users/me", &token).await.status(),
        401,
        "B missed the notification, and does not trust what it cached"
    );

    // Back: the cache is used again, and notifications reach it again.
    assert!(a.state.store.set_disabled(&johndoe, false).await.unwrap());
    let token = a.bearer_token("johndoe").await;
    b.until_listening(true).await;
    assert_eq!(b.api("/api/users/me", &token).await.status(), 200);
    let heard = b.state.store.changes_heard();
    assert!(a.state.store.set_disabled(&johndoe, true).await.unwrap());
    until_heard(&b, heard, 1).await;
    assert_eq!(b.api("/api/users/me", &token).await.status(), 401);
}

#[tokio::test]
async fn revoking_on_one_instance_is_refused_on_the_other() {
    let (a, b) = two_instances().await;
    a.add_user("johndoe").await;
    a.sign_in("johndoe", PASSWORD, None).await;
    let program = a.password_grant("johndoe").await;
    let token = program["access_token"].as_str().unwrap();
    assert_eq!(b.api("/api/users/me", token).await.status(), 200);

    let heard = b.state.store.changes_heard();
    let ended: Value = a.call::<RevokeOtherSessions>(&[]).await.json().await.unwrap();
    assert_eq!(ended, 1);
    until_heard(&b, heard, 1).await;

    assert_eq!(b.api("/api/users/me", token).await.status(), 401);
    let refresh = b.refresh(program["refresh_token"].as_str().unwrap()).await;
    assert_eq!(refresh.status(), 400, "its refresh token is dead too");
    assert_eq!(
        page(&b, &a.client, "/dashboard").await.status(),
        200,
        "the browser that revoked stays signed in, on both"
    );
}

#[tokio::test]
async fn twenty_parallel_refreshes_spread_over_both_instances_leave_one_session() {
    let (a, b) = two_instances().await;
    let user = a.add_user("johndoe").await;
    let refresh_token = a.password_grant("johndoe").await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let racers = (0..20).map(|i| {
        let instance = if i % 2 == 0 { &a } else { &b };
        instance.refresh(&refresh_token)
    });
    let responses = futures::future::join_all(racers).await;

    let mut successors = std::collections::HashSet::new();
    for response in responses {
        assert_eq!(response.status(), 200, "no racer is signed out");
        let body: Value = response.json().await.unwrap();
        successors.insert(body["refresh_token"].as_str().unwrap().to_owned());
    }
    assert_eq!(successors.len(), 1, "every racer got the same successor");
    let sessions = a.live_sessions(user.id).await;
    assert_eq!(sessions.len(), 1);
    let successor = successors.into_iter().next().unwrap();
    assert_eq!(
        b.refresh(&successor).await.status(),
        200,
        "and the successor works"
    );
}
