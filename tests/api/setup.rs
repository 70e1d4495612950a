//! First-run setup: one logged link, single use, an hour long, and "not found" once an
//! administrator exists.

use std::time::Duration;

use gatehouse::api::CompleteSetup;
use gatehouse::domain::Username;
use gatehouse::server::config::Settings;
use leptos::server_fn::ServerFn;
use serde_json::Value;

use crate::helpers::{PASSWORD, TestApp, TestData, spawn_app, spawn_app_with};

/// The link's token.
fn token_of(app: &TestApp) -> String {
    let link = app
        .setup_link
        .clone()
        .expect("a store without administrators offers a setup link");
    assert!(
        link.starts_with(&format!("{}/setup?token=", app.address)),
        "{link}"
    );
    link.split_once("token=").unwrap().1.to_owned()
}

async fn complete(
    app: &TestApp,
    browser: &reqwest::Client,
    token: &str,
    username: &str,
) -> reqwest::Response {
    app.call_from(browser, CompleteSetup::PATH)
        .form(&[
            ("token", token),
            ("username", username),
            ("full_name", "First Admin"),
            ("email", ""),
            ("new_password", PASSWORD),
            ("confirm_password", PASSWORD),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_setup_link_creates_the_first_administrator_once_and_signs_them_in() {
    let app = spawn_app().await;
    let token = token_of(&app);
    let page = app.get_page(&format!("/setup?token={token}")).await;
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("Create the first administrator")
    );

    let browser = app.other_browser();
    let response = complete(&app, &browser, &token, "root").await;
    assert!(
        response.status().is_success() || response.status().is_redirection(),
        "{}",
        response.status()
    );
    let root = app
        .state
        .store
        .existing_user(&Username::parse("root").unwrap())
        .await
        .unwrap();
    assert!(root.admin && !root.disabled);
    let users = browser
        .get(format!("{}/admin/users", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(users.status(), 200, "signed in as the new administrator");

    // Spent: the same link, or any, cannot make a second administrator; the page is gone.
    let again = complete(&app, &app.other_browser(), &token, "intruder").await;
    assert_eq!(again.status(), 400);
    assert_eq!(
        again.json::<Value>().await.unwrap(),
        serde_json::json!({"Invalid": "SetupLinkInvalid"})
    );
    assert!(
        app.state
            .store
            .find_user(&Username::parse("intruder").unwrap())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(app.get_page(&format!("/setup?token={token}")).await.status(), 404);
    assert_eq!(app.get_page("/setup").await.status(), 404);
}

#[tokio::test]
async fn a_wrong_or_expired_setup_link_creates_nothing() {
    let app = spawn_app().await;
    let token = token_of(&app);
    let page = app.get_page("/setup?token=0000").await;
    assert_eq!(page.status(), 403);
    assert!(page.text().await.unwrap().contains("expired or was used already"));
    let wrong = complete(&app, &app.other_browser(), "0000", "root").await;
    assert_eq!(wrong.status(), 400);

    app.clock.advance(Duration::from_secs(61 * 60));
    assert_eq!(app.get_page(&format!("/setup?token={token}")).await.status(), 403);
    let late = complete(&app, &app.other_browser(), &token, "root").await;
    assert_eq!(late.status(), 400);
    assert_eq!(app.state.store.count_active_admins().await.unwrap(), 0);
}

#[tokio::test]
async fn the_setup_form_applies_the_password_policy_and_spends_nothing_when_refused() {
    let app = spawn_app().await;
    let token = token_of(&app);
    let weak = app
        .call_from(&app.other_browser(), CompleteSetup::PATH)
        .form(&[
            ("token", token.as_str()),
            ("username", "root"),
            ("new_password", "password"),
            ("confirm_password", "password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        weak.json::<Value>().await.unwrap(),
        serde_json::json!({"Invalid": "PasswordTooCommon"})
    );
    let response = complete(&app, &app.other_browser(), &token, "root").await;
    assert!(
        response.status().is_success() || response.status().is_redirection(),
        "{}",
        response.status()
    );
}

#[tokio::test]
async fn no_setup_link_once_an_administrator_exists_or_on_a_demo() {
    let data = TestData::new().await;
    let first = spawn_app_with(data.settings(), data).await;
    first.add_admin("root").await;
    let again = crate::helpers::spawn_app_again(first).await;
    assert!(again.setup_link.is_none());
    assert_eq!(again.get_page("/setup").await.status(), 404);

    let data = TestData::new().await;
    let mut settings: Settings = data.settings();
    settings.demo = true;
    let demo = spawn_app_with(settings, data).await;
    assert!(demo.setup_link.is_none());
    let page = demo.get_page("/setup?token=anything").await;
    assert_eq!(page.status(), 403, "no link was made, so none is valid");
}
