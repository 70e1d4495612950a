//! `/api/admin/users...`: the admin operations for scripts, behind a Bearer token with the
//! `admin` scope of an account that is an administrator at the time of the request.

use gatehouse::domain::{Email, FullName, Password, Username};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

/// A request to the admin API with `token`.
fn request(app: &TestApp, method: reqwest::Method, path: &str, token: &str) -> reqwest::RequestBuilder {
    app.client
        .request(method, format!("{}{path}", app.address))
        .bearer_auth(token)
}

#[tokio::test]
async fn an_administrator_token_manages_users_from_a_script() {
    let app = spawn_app().await;
    app.add_admin("root").await;
    let token = app.bearer_token("root").await;

    let created = request(&app, reqwest::Method::POST, "/api/admin/users", &token)
        .json(&json!({"username": "Scripted", "email": "s@example.com", "password": "a long enough passphrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["username"], "Scripted");
    assert_eq!(created["admin"], false);

    let listed: Value = request(
        &app,
        reqwest::Method::GET,
        "/api/admin/users?search=scrip&limit=1",
        &token,
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(listed["users"][0]["username"], "Scripted");

    let changed = request(&app, reqwest::Method::PATCH, "/api/admin/users/scripted", &token)
        .json(&json!({"full_name": "Scripted Person", "email": null, "disabled": true, "admin": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    let changed: Value = changed.json().await.unwrap();
    assert_eq!(
        (changed["full_name"].clone(), changed["email"].clone()),
        (json!("Scripted Person"), Value::Null)
    );
    assert_eq!(
        (changed["disabled"].clone(), changed["admin"].clone()),
        (json!(true), json!(true))
    );

    let reset = request(
        &app,
        reqwest::Method::POST,
        "/api/admin/users/scripted/temporary-password",
        &token,
    )
    .json(&json!({"password": "temporary passphrase 42"}))
    .send()
    .await
    .unwrap();
    assert_eq!(reset.status(), 204);
    let one: Value = request(&app, reqwest::Method::GET, "/api/admin/users/SCRIPTED", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["must_change_password"], true);

    let ended = request(
        &app,
        reqwest::Method::DELETE,
        "/api/admin/users/scripted/sessions",
        &token,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(ended.status(), 200);
    let deleted = request(&app, reqwest::Method::DELETE, "/api/admin/users/scripted", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert!(
        app.state
            .store
            .find_user(&Username::parse("scripted").unwrap())
            .await
            .unwrap()
            .is_none()
    );
    let gone = request(&app, reqwest::Method::GET, "/api/admin/users/scripted", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
    assert_eq!(gone.json::<Value>().await.unwrap()["error"], "not_found");

    let actions: Vec<String> = app
        .state
        .store
        .audit_events(&gatehouse::server::store::AuditQuery {
            user: Some("scripted".into()),
            limit: 20,
            ..Default::default()
        })
        .await
        .unwrap()
        .events
        .into_iter()
        .rev()
        .map(|event| format!("{} {}", event.actor_name.unwrap_or_default(), event.action))
        .collect();
    assert_eq!(
        actions,
        [
            "root user_created",
            "root user_edited",
            "root user_disabled",
            "root admin_granted",
            "root password_reset",
            "root user_deleted",
        ]
    );
}

#[tokio::test]
async fn tokens_without_admin_rights_are_refused_even_with_the_scope() {
    let app = spawn_app().await;
    app.add_user("plain").await;
    app.add_admin("root").await;
    app.add_admin("second").await;
    let plain = app.bearer_token("plain").await;
    let refused = request(&app, reqwest::Method::GET, "/api/admin/users", &plain)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert!(
        refused.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("insufficient_scope")
    );

    // An administrator's token, then the account demoted: refused at the next request.
    let token = app.bearer_token("root").await;
    assert_eq!(
        request(&app, reqwest::Method::GET, "/api/admin/users", &token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    app.state
        .store
        .set_admin(&Username::parse("root").unwrap(), false)
        .await
        .unwrap();
    assert_eq!(
        request(&app, reqwest::Method::GET, "/api/admin/users", &token)
            .send()
            .await
            .unwrap()
            .status(),
        403
    );

    // A token asked for without the admin scope cannot administer either.
    let narrow: Value = app
        .token(&[
            ("grant_type", "password"),
            ("username", "second"),
            ("password", crate::helpers::PASSWORD),
            ("scope", "me"),
        ])
        .await
        .json()
        .await
        .unwrap();
    let narrow = narrow["access_token"].as_str().unwrap();
    assert_eq!(
        request(&app, reqwest::Method::GET, "/api/admin/users", narrow)
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
}

#[tokio::test]
async fn the_api_keeps_the_last_administrator_and_explains_bad_requests() {
    let app = spawn_app().await;
    app.add_admin("root").await;
    let token = app.bearer_token("root").await;
    let demote = request(&app, reqwest::Method::PATCH, "/api/admin/users/root", &token)
        .json(&json!({"admin": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(demote.status(), 409);
    assert_eq!(demote.json::<Value>().await.unwrap()["error"], "conflict");
    let delete = request(&app, reqwest::Method::DELETE, "/api/admin/users/root", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), 409);

    let garbage = request(&app, reqwest::Method::POST, "/api/admin/users", &token)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 400);
    assert_eq!(garbage.json::<Value>().await.unwrap()["error"], "invalid_request");
    let weak = request(&app, reqwest::Method::POST, "/api/admin/users", &token)
        .json(&json!({"username": "newbie", "password": "password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(weak.status(), 400);
    assert!(
        weak.json::<Value>().await.unwrap()["error_description"]
            .as_str()
            .unwrap()
            .contains("common")
    );
    let too_many = request(&app, reqwest::Method::GET, "/api/admin/users?limit=5000", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(too_many.status(), 400);
}

#[tokio::test]
async fn the_admin_api_is_in_the_openapi_document() {
    let app = spawn_app().await;
    let document: Value = app.get("/openapi.json").await.json().await.unwrap();
    let paths = document["paths"].as_object().unwrap();
    for path in [
        "/api/admin/users",
        "/api/admin/users/{username}",
        "/api/admin/users/{username}/temporary-password",
        "/api/admin/users/{username}/sessions",
        "/api/admin/users/{username}/two-step",
    ] {
        assert!(paths.contains_key(path), "{path} is missing");
    }
    assert!(paths["/api/admin/users/{username}"].get("patch").is_some());
    // Each operation documents what a script must handle: its own errors, and the bearer's.
    let get_user = &paths["/api/admin/users/{username}"]["get"]["responses"];
    for (status, response) in [
        ("400", "MalformedCredentials"),
        ("401", "Unauthorized"),
        ("403", "NotAnAdministrator"),
        ("404", "NoSuchUser"),
        ("503", "Unavailable"),
    ] {
        assert_eq!(
            get_user[status]["$ref"],
            format!("#/components/responses/{response}"),
            "{status}"
        );
    }
    // A new account's constraints are the ones the server checks (written out as literals in
    // the source: they must not drift from the domain's).
    let schemas = &document["components"]["schemas"];
    let new_user = &schemas["NewUserRequest"]["properties"];
    assert_eq!(new_user["username"]["minLength"], Username::MIN_LEN);
    assert_eq!(new_user["username"]["maxLength"], Username::MAX_LEN);
    let pattern = new_user["username"]["pattern"].as_str().unwrap();
    assert_eq!(pattern, "^[A-Za-z0-9][A-Za-z0-9._-]*$");
    assert_eq!(new_user["full_name"]["maxLength"], FullName::MAX_CHARS);
    assert_eq!(new_user["email"]["maxLength"], Email::MAX_LEN);
    for password in [
        &new_user["password"],
        &schemas["TemporaryPassword"]["properties"]["password"],
    ] {
        assert_eq!(password["minLength"], Password::MIN_CHARS);
        assert_eq!(password["maxLength"], Password::MAX_CHARS);
    }
}

#[tokio::test]
async fn an_account_the_documented_constraints_allow_is_created_and_one_they_refuse_is_not() {
    let app = spawn_app().await;
    app.add_admin("root").await;
    let token = app.bearer_token("root").await;
    let longest = format!("a{}", "b-._".repeat(Username::MAX_LEN))[..Username::MAX_LEN].to_owned();
    let too_long = format!("{longest}c");
    for (username, created) in [
        (longest.as_str(), true),
        ("abc", true),
        ("ab", false),
        (too_long.as_str(), false),
        ("-abc", false),
        ("a b", false),
    ] {
        let response = request(&app, reqwest::Method::POST, "/api/admin/users", &token)
            .json(&json!({"username": username, "password": "a long enough passphrase"}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status() == 201,
            created,
            "{username:?}: {}",
            response.status()
        );
    }
}
