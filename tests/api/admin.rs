//! Who may go where (the route table) and user administration, tested as the people who use
//! it and the people who would abuse it: visitors, signed-in non-administrators, demoted and
//! disabled administrators, and cross-site forms.

use gatehouse::api::{
    ActOnUser, ChangePassword, CreateUser, EditUser, ListSessions, ListUsers, SetTemporaryPassword,
    UserDetails,
};
use gatehouse::app::App;
use gatehouse::domain::Username;
use gatehouse::routes::{Access, PAGES};
use leptos::server_fn::ServerFn;
use serde_json::Value;

use crate::helpers::{PASSWORD, TestApp, call, location, signed_in, spawn_app};

/// A page load from `browser`.
async fn page(app: &TestApp, browser: &reqwest::Client, path: &str) -> reqwest::Response {
    browser
        .get(format!("{}{path}", app.address))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
}

async fn error_of(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

fn name(username: &str) -> Username {
    Username::parse(username).unwrap()
}

#[tokio::test]
async fn every_route_of_the_router_is_in_the_route_table_and_back() {
    let routed: Vec<String> = leptos_axum::generate_route_list(App)
        .iter()
        .map(|route| {
            // axum writes parameters as {name}; the table as the router macro does, :name.
            let path = route.path().replace('{', ":").replace('}', "");
            if path.is_empty() { "/".to_owned() } else { path }
        })
        .collect();
    for path in &routed {
        assert!(
            PAGES.iter().any(|page| page.path == path),
            "{path} is routed but missing from routes::PAGES"
        );
    }
    for page in PAGES {
        assert!(
            routed.iter().any(|path| path == page.path),
            "{} is in the table but not routed",
            page.path
        );
    }
}

#[tokio::test]
async fn every_server_function_is_in_the_table() {
    let registered: Vec<&str> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path)
        .collect();
    assert!(registered.len() >= 10, "{registered:?}");
    for path in registered {
        assert!(
            gatehouse::api::access_of(path).is_some(),
            "{path} is registered but missing from api::SERVER_FUNCTIONS"
        );
    }
    assert_eq!(gatehouse::api::access_of(ListUsers::PATH), Some(Access::Admin));
}

#[tokio::test]
async fn a_visitor_asking_for_an_admin_page_is_sent_to_sign_in() {
    let app = spawn_app().await;
    let response = app.get_page("/admin/users?status=disabled").await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        location(&response),
        "/login?next=%2Fadmin%2Fusers%3Fstatus%3Ddisabled"
    );
}

/// How many of the admin pages' navigation links `html` holds: the links themselves, not their
/// text's markup, which may carry hydration markers (`<!>`).
fn admin_links(html: &str) -> usize {
    [r#"<a href="/admin/users""#, r#"<a href="/admin/audit""#]
        .into_iter()
        .filter(|link| html.contains(link))
        .count()
}

#[tokio::test]
async fn a_signed_in_non_admin_gets_the_403_page_not_a_redirect() {
    let app = spawn_app().await;
    app.add_user("plain").await;
    let plain = signed_in(&app, "plain").await;
    for path in ["/admin/users", "/admin/users/plain", "/admin/audit"] {
        let response = page(&app, &plain, path).await;
        assert_eq!(response.status(), 403, "{path}");
        let html = response.text().await.unwrap();
        assert!(html.contains("You need administrator rights"), "{path}: {html}");
        assert!(html.contains(r#"href="/dashboard""#), "a link home: {html}");
        assert_eq!(
            admin_links(&html),
            0,
            "no admin navigation for a non-admin: {html}"
        );
    }
}

#[tokio::test]
async fn admin_server_functions_refuse_everyone_but_administrators() {
    let app = spawn_app().await;
    app.add_user("plain").await;
    app.add_user("victim").await;
    let plain = signed_in(&app, "plain").await;
    let response = call::<ActOnUser>(&app, &plain, &[("username", "victim"), ("action", "disable")]).await;
    assert_eq!(response.status(), 403);
    assert_eq!(error_of(response).await, serde_json::json!("AdminRequired"));
    assert!(
        !app.state
            .store
            .existing_user(&name("victim"))
            .await
            .unwrap()
            .disabled
    );

    let response = call::<ListUsers>(&app, &plain, &[]).await;
    assert_eq!(response.status(), 403);
    let visitor = app.other_browser();
    let response = call::<ListUsers>(&app, &visitor, &[]).await;
    assert_eq!(response.status(), 401);
    assert_eq!(error_of(response).await, serde_json::json!("SignInRequired"));
}

#[tokio::test]
async fn an_administrator_sees_the_table_without_javascript_and_searches_it() {
    let app = spawn_app().await;
    app.add_admin("root").await;
    for username in ["alice", "bob", "carol"] {
        app.add_user(username).await;
    }
    let root = signed_in(&app, "root").await;
    let response = page(&app, &root, "/admin/users?search=BO").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains(r#"href="/admin/users/bob""#), "{html}");
    assert!(
        !html.contains(r#"href="/admin/users/alice""#),
        "filtered out: {html}"
    );
    assert_eq!(
        admin_links(&html),
        2,
        "the navigation offers the admin pages: {html}"
    );

    let response = call::<ListUsers>(&app, &root, &[("status", "admins")]).await;
    assert_eq!(response.status(), 200);
    let list: Value = response.json().await.unwrap();
    let names: Vec<&str> = list["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|user| user["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["root"]);
}

#[tokio::test]
async fn an_admin_page_for_an_unknown_user_says_so_with_404() {
    let app = spawn_app().await;
    app.add_admin("root").await;
    let root = signed_in(&app, "root").await;
    let response = page(&app, &root, "/admin/users/nobody").await;
    assert_eq!(response.status(), 404);
    assert!(response.text().await.unwrap().contains("There is no such user"));
    let response = call::<UserDetails>(&app, &root, &[("username", "nobody")]).await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn a_disabled_user_is_signed_out_at_their_next_request() {
    let app = spawn_app().await;
    app.add_admin("root").await;
    app.add_user("victim").await;
    let victim = signed_in(&app, "victim").await;
    assert_eq!(page(&app, &victim, "/dashboard").await.status(), 200);
    let root = signed_in(&app, "root").await;
    let response = call::<ActOnUser>(&app, &root, &[("username", "victim"), ("action", "disable")]).await;
    assert_eq!(response.status(), 200);
    let response = page(&app, &victim, "/dashboard").await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        location(&response),
        "/login?next=%2Fdashboard&reason=account_disabled"
    );

    // Enabled again, the old sessions stay ended: they must sign in again.
    call::<ActOnUser>(&app, &root, &[("username", "victim"), ("action", "enable")]).await;
    assert_eq!(page(&app, &victim, "/dashboard").await.status(), 303);
    let victim = signed_in(&app, "victim").await;
    assert_eq!(page(&app, &victim, "/dashboard").await.status(), 200);
}

#[tokio::test]
async fn an_administrator_who_loses_the_flag_loses_the_admin_pages_at_the_next_request() {
    let app = spawn_app().await;
    app.add_admin("first").await;
    app.add_admin("second").await;
    let first = signed_in(&app, "first").await;
    assert_eq!(page(&app, &first, "/admin/users").await.status(), 200);
    let second = signed_in(&app, "second").await;
    let response = call::<ActOnUser>(
        &app,
        &second,
        &[("username", "first"), ("action", "revoke_admin")],
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(page(&app, &first, "/admin/users").await.status(), 403);
    assert_eq!(call::<ListUsers>(&app, &first, &[]).await.status(), 403);
    assert_eq!(
        page(&app, &first, "/dashboard").await.status(),
        200,
        "still signed in"
    );
}

#[tokio::test]
async fn the_last_active_administrator_cannot_disable_demote_or_delete_themself() {
    let app = spawn_app().await;
    app.add_admin("root").await;
    let root = signed_in(&app, "root").await;
    for (action, confirm) in [("disable", ""), ("revoke_admin", ""), ("delete", "root")] {
        let response = call::<ActOnUser>(
            &app,
            &root,
            &[("username", "root"), ("action", action), ("confirm", confirm)],
        )
        .await;
        assert_eq!(response.status(), 409, "{action}");
        assert_eq!(
            error_of(response).await,
            serde_json::json!({"Invalid": "LastAdmin"}),
            "{action}"
        );
    }
    let user = app.state.store.existing_user(&name("root")).await.unwrap();
    assert!(user.admin && !user.disabled);
    assert_eq!(page(&app, &root, "/admin/users").await.status(), 200);
}

#[tokio::test]
async fn an_administrator_creates_accounts_under_the_same_policy_as_the_cli() {
    let app = spawn_app().await;
    app.add_admin("root").await;
    app.add_user("taken").await;
    let root = signed_in(&app, "root").await;
    let create = |username: &'static str, password: &'static str| {
        let root = root.clone();
        let app = &app;
        async move {
            call::<CreateUser>(
                app,
                &root,
                &[
                    ("username", username),
                    ("full_name", "New Person"),
                    ("email", "new@example.com"),
                    ("password", password),
                ],
            )
            .await
        }
    };
    let weak = create("newbie", "password").await;
    assert_eq!(weak.status(), 400);
    assert_eq!(
        error_of(weak).await,
        serde_json::json!({"Invalid": "PasswordTooCommon"})
    );
    let taken = create("TAKEN", PASSWORD).await;
    assert_eq!(taken.status(), 409);
    let bad_name = create("no spaces", PASSWORD).await;
    assert_eq!(
        error_of(bad_name).await,
        serde_json::json!({"Invalid": "UsernameRules"})
    );

    let created = create("newbie", PASSWORD).await;
    assert!(
        created.status().is_success() || created.status().is_redirection(),
        "{}",
        created.status()
    );
    let user = app.state.store.existing_user(&name("newbie")).await.unwrap();
    assert_eq!(user.email.as_deref(), Some("new@example.com"));
    assert!(!user.admin && !user.disabled);
    signed_in(&app, "newbie").await;
}

#[tokio::test]
async fn an_administrator_edits_details_and_ends_sessions() {
    let app = spawn_app().await;
    let victim = app.add_user("victim").await;
    app.add_admin("root").await;
    let victim_browser = signed_in(&app, "victim").await;
    let root = signed_in(&app, "root").await;
    let response = call::<EditUser>(
        &app,
        &root,
        &[
            ("username", "victim"),
            ("full_name", "Vic Tim"),
            ("email", "not an address"),
        ],
    )
    .await;
    assert_eq!(
        error_of(response).await,
        serde_json::json!({"Invalid": "EmailRules"})
    );
    let response = call::<EditUser>(
        &app,
        &root,
        &[("username", "victim"), ("full_name", "Vic Tim"), ("email", "")],
    )
    .await;
    assert_eq!(response.status(), 200);
    let user = app.state.store.existing_user(&name("victim")).await.unwrap();
    assert_eq!(user.full_name.as_deref(), Some("Vic Tim"));
    assert_eq!(user.email, None);

    let response =
        call::<ActOnUser>(&app, &root, &[("username", "victim"), ("action", "end_sessions")]).await;
    assert_eq!(response.status(), 200);
    assert!(app.live_sessions(victim.id).await.is_empty());
    assert_eq!(page(&app, &victim_browser, "/dashboard").await.status(), 303);
}

#[tokio::test]
async fn deleting_an_account_needs_its_name_typed_and_ends_everything_it_had() {
    let app = spawn_app().await;
    app.add_admin("root").await;
    app.add_user("victim").await;
    let token = app.bearer_token("victim").await;
    let victim = signed_in(&app, "victim").await;
    let root = signed_in(&app, "root").await;
    let response = call::<ActOnUser>(
        &app,
        &root,
        &[
            ("username", "victim"),
            ("action", "delete"),
            ("confirm", "someone"),
        ],
    )
    .await;
    assert_eq!(
        error_of(response).await,
        serde_json::json!({"Invalid": "DeletionNotConfirmed"})
    );
    assert!(
        app.state
            .store
            .find_user(&name("victim"))
            .await
            .unwrap()
            .is_some()
    );

    let response = call::<ActOnUser>(
        &app,
        &root,
        &[
            ("username", "victim"),
            ("action", "delete"),
            ("confirm", "Victim"),
        ],
    )
    .await;
    assert!(
        response.status().is_success() || response.status().is_redirection(),
        "{}",
        response.status()
    );
    assert!(
        app.state
            .store
            .find_user(&name("victim"))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(page(&app, &victim, "/dashboard").await.status(), 303);
    assert_eq!(app.api("/api/users/me", &token).await.status(), 401);
}

#[tokio::test]
async fn a_temporary_password_must_be_replaced_before_any_other_page() {
    let app = spawn_app().await;
    app.add_admin("root").await;
    let victim = app.add_user("victim").await;
    let old_browser = signed_in(&app, "victim").await;
    let root = signed_in(&app, "root").await;
    let temporary = "temporary passphrase 42";
    let response =
        call::<SetTemporaryPassword>(&app, &root, &[("username", "victim"), ("password", "short")]).await;
    assert_eq!(
        error_of(response).await,
        serde_json::json!({"Invalid": "PasswordTooShort"})
    );
    let response =
        call::<SetTemporaryPassword>(&app, &root, &[("username", "victim"), ("password", temporary)]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        page(&app, &old_browser, "/dashboard").await.status(),
        303,
        "old sessions ended"
    );

    // The password grant does not open the API with it.
    let response = app
        .token(&[
            ("grant_type", "password"),
            ("username", "victim"),
            ("password", temporary),
        ])
        .await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    assert!(
        body["error_description"].as_str().unwrap().contains("temporary"),
        "{body}"
    );

    let browser = browser_of_with(&app, "victim", temporary).await;
    for path in ["/dashboard", "/profile", "/admin/users"] {
        let response = page(&app, &browser, path).await;
        assert_eq!(response.status(), 303, "{path}");
        assert_eq!(location(&response), "/password", "{path}");
    }
    assert_eq!(page(&app, &browser, "/password").await.status(), 200);
    let response = call::<ListSessions>(&app, &browser, &[]).await;
    assert_eq!(
        error_of(response).await,
        serde_json::json!("PasswordChangeRequired")
    );

    let response = call::<ChangePassword>(
        &app,
        &browser,
        &[
            ("current_password", temporary),
            ("new_password", PASSWORD),
            ("confirm_password", PASSWORD),
        ],
    )
    .await;
    assert!(
        response.status().is_success() || response.status().is_redirection(),
        "{}",
        response.status()
    );
    assert!(
        !app.state
            .store
            .existing_user(&name("victim"))
            .await
            .unwrap()
            .must_change_password
    );
    assert_eq!(page(&app, &browser, "/dashboard").await.status(), 200);
    assert_eq!(app.live_sessions(victim.id).await.len(), 1);
}

/// A browser of its own, signed in as `username` with `password`.
async fn browser_of_with(app: &TestApp, username: &str, password: &str) -> reqwest::Client {
    let browser = app.other_browser();
    let response = app
        .post_form_from::<gatehouse::api::Login>(&browser, &[("username", username), ("password", password)])
        .await;
    assert_eq!(response.status(), 303);
    browser
}

#[tokio::test]
async fn a_cross_site_form_cannot_make_an_administrator_act() {
    let app = spawn_app().await;
    app.add_admin("root").await;
    app.add_user("victim").await;
    let root = signed_in(&app, "root").await;
    let response = root
        .post(format!("{}{}", app.address, ActOnUser::PATH))
        .header("origin", "https://evil.example")
        .header("accept", "text/html")
        .form(&[("username", "victim"), ("action", "disable")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(
        !app.state
            .store
            .existing_user(&name("victim"))
            .await
            .unwrap()
            .disabled
    );
}

#[tokio::test]
async fn the_cli_sets_a_temporary_password() {
    let app = spawn_app().await;
    app.add_user("victim").await;
    let output = app.data.gatehouse(
        &["user", "passwd", "victim", "--temporary"],
        "temporary passphrase 42\n",
    );
    assert!(output.status.success(), "{}", crate::helpers::stderr(&output));
    assert!(crate::helpers::stdout(&output).contains("must choose a new one"));
    assert!(
        app.state
            .store
            .existing_user(&name("victim"))
            .await
            .unwrap()
            .must_change_password
    );
}
