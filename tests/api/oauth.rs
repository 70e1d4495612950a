//! The OAuth2 password flow for programs: `POST /token`, the Bearer API and `/openapi.json`.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gatehouse::domain::Username;
use gatehouse::server::store::NewUser;
use jsonwebtoken::{Algorithm, Header};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, TestData, spawn_app, spawn_app_with};

impl TestApp {
    /// Signs `claims` under `header` with the site's real key, by hand: the server's own signer
    /// makes HS256 alone, and a forger uses whatever algorithm they like.
    fn forge(&self, header: &Header, claims: &Value) -> String {
        use hmac::{Hmac, KeyInit, Mac};
        use sha2::{Sha256, Sha384, Sha512};
        let key = self.state.signing_key.expose();
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).unwrap()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let tag = match header.alg {
            Algorithm::HS256 => Hmac::<Sha256>::new_from_slice(key)
                .unwrap()
                .chain_update(&input)
                .finalize()
                .into_bytes()
                .to_vec(),
            Algorithm::HS384 => Hmac::<Sha384>::new_from_slice(key)
                .unwrap()
                .chain_update(&input)
                .finalize()
                .into_bytes()
                .to_vec(),
            Algorithm::HS512 => Hmac::<Sha512>::new_from_slice(key)
                .unwrap()
                .chain_update(&input)
                .finalize()
                .into_bytes()
                .to_vec(),
            other => panic!("no forger for {other:?}"),
        };
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    fn valid_claims(&self, access_token: &str) -> Value {
        let payload = access_token.split('.').nth(1).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
    }
}

fn at_jwt(alg: Algorithm) -> Header {
    let mut header = Header::new(alg);
    header.typ = Some("at+jwt".into());
    header
}

fn challenge(response: &reqwest::Response) -> String {
    response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_password_grant_issues_tokens_that_no_cache_may_keep() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    let response = app
        .token(&[
            ("grant_type", "password"),
            ("username", "johndoe"),
            ("password", PASSWORD),
            ("extra", "ignored"),
        ])
        .await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["pragma"], "no-cache");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["scope"], "me items");
    assert_eq!(
        URL_SAFE_NO_PAD
            .decode(body["refresh_token"].as_str().unwrap())
            .unwrap()
            .len(),
        32
    );
    let claims = app.valid_claims(body["access_token"].as_str().unwrap());
    assert_eq!(
        body["expires_in"],
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap()
    );
    assert_eq!(claims["scope"], "me items");
    assert_eq!(claims["iss"], app.address.as_str());
}

#[tokio::test]
async fn malformed_token_requests_are_invalid_requests() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    let url = format!("{}/token", app.address);
    let cases: Vec<(&str, reqwest::RequestBuilder)> = vec![
        (
            "no grant_type",
            app.client.post(&url).form(&[("username", "johndoe")]),
        ),
        (
            "no username",
            app.client
                .post(&url)
                .form(&[("grant_type", "password"), ("password", PASSWORD)]),
        ),
        (
            "empty password",
            app.client.post(&url).form(&[
                ("grant_type", "password"),
                ("username", "johndoe"),
                ("password", ""),
            ]),
        ),
        (
            "repeated username",
            app.client.post(&url).form(&[
                ("grant_type", "password"),
                ("username", "johndoe"),
                ("username", "x"),
                ("password", PASSWORD),
            ]),
        ),
        (
            "JSON body",
            app.client
                .post(&url)
                .json(&json!({"grant_type": "password", "username": "johndoe", "password": PASSWORD})),
        ),
        (
            "password in the URL",
            app.client
                .post(format!("{url}?password={PASSWORD}"))
                .form(&[("grant_type", "password"), ("username", "johndoe")]),
        ),
        (
            "no refresh_token",
            app.client.post(&url).form(&[("grant_type", "refresh_token")]),
        ),
    ];
    for (case, request) in cases {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 400, "{case}");
        assert_eq!(response.headers()["cache-control"], "no-store", "{case}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request", "{case}: {body}");
        assert!(body["error_description"].as_str().unwrap().len() > 10, "{case}");
    }
}

#[tokio::test]
async fn an_unknown_grant_type_is_unsupported_and_get_is_not_allowed() {
    let app = spawn_app().await;
    let response = app.token(&[("grant_type", "client_credentials")]).await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "unsupported_grant_type"
    );
    let get = app
        .client
        .get(format!("{}/token", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 405);
}

#[tokio::test]
async fn every_failed_grant_gets_the_very_same_answer() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    app.add_user("alice").await;
    app.state
        .store
        .set_disabled(&Username::parse("alice").unwrap(), true)
        .await
        .unwrap();
    let attempts = [
        vec![
            ("grant_type", "password"),
            ("username", "nobody"),
            ("password", PASSWORD),
        ],
        vec![
            ("grant_type", "password"),
            ("username", "johndoe"),
            ("password", "wrong password"),
        ],
        vec![
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", PASSWORD),
        ],
        vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", "not-a-token-we-issued"),
        ],
    ];
    let mut answers = Vec::new();
    for form in &attempts {
        let response = app.token(form).await;
        answers.push((response.status().as_u16(), response.text().await.unwrap()));
    }
    assert_eq!(answers[0].0, 400);
    assert!(
        answers[0].1.contains("\"error\":\"invalid_grant\""),
        "{}",
        answers[0].1
    );
    assert!(answers.iter().all(|answer| *answer == answers[0]), "{answers:#?}");
}

#[tokio::test]
async fn scopes_are_granted_as_asked_and_refused_beyond_the_user() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    let admin = NewUser {
        username: Username::parse("root-admin").unwrap(),
        full_name: None,
        email: None,
        password_hash: app
            .state
            .passwords
            .hash(&secrecy::SecretString::from(PASSWORD))
            .await
            .unwrap(),
        admin: true,
        disabled: false,
    };
    app.state.store.create_user(&admin).await.unwrap();

    let only_me = app
        .token(&[
            ("grant_type", "password"),
            ("username", "johndoe"),
            ("password", PASSWORD),
            ("scope", "me"),
        ])
        .await;
    assert_eq!(only_me.json::<Value>().await.unwrap()["scope"], "me");
    let refused = app
        .token(&[
            ("grant_type", "password"),
            ("username", "johndoe"),
            ("password", PASSWORD),
            ("scope", "me admin"),
        ])
        .await;
    assert_eq!(refused.status(), 400);
    assert_eq!(refused.json::<Value>().await.unwrap()["error"], "invalid_scope");
    let unknown = app
        .token(&[
            ("grant_type", "password"),
            ("username", "johndoe"),
            ("password", PASSWORD),
            ("scope", "root"),
        ])
        .await;
    assert_eq!(unknown.json::<Value>().await.unwrap()["error"], "invalid_scope");
    assert_eq!(app.password_grant("root-admin").await["scope"], "me items admin");
}

#[tokio::test]
async fn a_refresh_rotates_the_token_and_spends_the_old_one() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    let first = app.password_grant("johndoe").await;
    let old = first["refresh_token"].as_str().unwrap();

    let response = app.refresh(old).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let second: Value = response.json().await.unwrap();
    let new = second["refresh_token"].as_str().unwrap();
    assert_ne!(new, old);
    assert_eq!(second["scope"], "me items");
    assert_eq!(
        app.api("/api/users/me", second["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );
    assert_eq!(app.refresh(new).await.status(), 200, "the successor works");
}

#[tokio::test]
async fn a_duplicate_refresh_within_the_grace_window_gets_the_same_successor() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    let refresh_token = app.password_grant("johndoe").await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let (a, b) = tokio::join!(app.refresh(&refresh_token), app.refresh(&refresh_token));
    let (a, b): (Value, Value) = (a.json().await.unwrap(), b.json().await.unwrap());
    assert_eq!(a["refresh_token"], b["refresh_token"], "{a} {b}");
    let again: Value = app.refresh(&refresh_token).await.json().await.unwrap();
    assert_eq!(
        again["refresh_token"], a["refresh_token"],
        "a retry moments later too"
    );
    assert_eq!(
        app.api("/api/users/me", a["access_token"].as_str().unwrap())
            .await
            .status(),
        200,
        "still signed in"
    );
}

#[tokio::test]
async fn a_spent_refresh_token_replayed_after_the_grace_window_revokes_the_whole_session() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    let first = app.password_grant("johndoe").await;
    let stolen = first["refresh_token"].as_str().unwrap().to_owned();
    let second: Value = app.refresh(&stolen).await.json().await.unwrap();

    app.clock.advance(Duration::from_secs(6));
    let replay = app.refresh(&stolen).await;

    assert_eq!(replay.status(), 400);
    assert_eq!(replay.json::<Value>().await.unwrap()["error"], "invalid_grant");
    assert_eq!(
        app.refresh(second["refresh_token"].as_str().unwrap())
            .await
            .status(),
        400,
        "the successor is revoked too"
    );
    let access = app
        .api("/api/users/me", second["access_token"].as_str().unwrap())
        .await;
    assert_eq!(access.status(), 401, "and so are the session's access tokens");
}

#[tokio::test]
async fn a_password_change_or_disable_ends_refresh_tokens() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    let name = Username::parse("johndoe").unwrap();
    let refresh_token = app.password_grant("johndoe").await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let hash = app
        .state
        .passwords
        .hash(&secrecy::SecretString::from("a brand new passphrase"))
        .await
        .unwrap();
    app.state
        .store
        .set_password_hash(&name, &hash, false)
        .await
        .unwrap();
    assert_eq!(app.refresh(&refresh_token).await.status(), 400);

    app.add_user("alice").await;
    let alice = app.password_grant("alice").await;
    app.state
        .store
        .set_disabled(&Username::parse("alice").unwrap(), true)
        .await
        .unwrap();
    assert_eq!(
        app.refresh(alice["refresh_token"].as_str().unwrap())
            .await
            .status(),
        400
    );
    let response = app
        .api("/api/users/me", alice["access_token"].as_str().unwrap())
        .await;
    assert_eq!(response.status(), 401);
    assert!(challenge(&response).contains("error=\"invalid_token\""));
}

#[tokio::test]
async fn the_api_answers_the_callers_account_and_items() {
    let app = spawn_app().await;
    let user = app.add_user("johndoe").await;
    app.state
        .store
        .add_item(user.id, "Foo", Some("There comes my hero"))
        .await
        .unwrap();
    let other = app.add_user("alice").await;
    app.state
        .store
        .add_item(other.id, "Not yours", None)
        .await
        .unwrap();
    let token = app.bearer_token("johndoe").await;

    let me: Value = app.api("/api/users/me", &token).await.json().await.unwrap();
    assert_eq!(
        me,
        json!({"username": "johndoe", "full_name": "Test johndoe", "email": null, "disabled": false, "scopes": ["me", "items"]})
    );
    let items: Value = app.api("/api/users/me/items", &token).await.json().await.unwrap();
    assert_eq!(
        items,
        json!([{"id": 1, "title": "Foo", "description": "There comes my hero"}])
    );
}

#[tokio::test]
async fn every_refusal_carries_its_rfc_6750_challenge() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    let me_only = app
        .token(&[
            ("grant_type", "password"),
            ("username", "johndoe"),
            ("password", PASSWORD),
            ("scope", "me"),
        ])
        .await
        .json::<Value>()
        .await
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = format!("{}/api/users/me", app.address);

    let missing = app.client.get(&url).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    assert_eq!(challenge(&missing), r#"Bearer realm="gatehouse""#);
    let basic = app
        .client
        .get(&url)
        .basic_auth("johndoe", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (basic.status().as_u16(), challenge(&basic)),
        (401, r#"Bearer realm="gatehouse""#.to_owned())
    );

    let invalid = app.api("/api/users/me", "not.a.token").await;
    assert_eq!(invalid.status(), 401);
    assert!(
        challenge(&invalid).starts_with(r#"Bearer realm="gatehouse", error="invalid_token""#),
        "{}",
        challenge(&invalid)
    );

    let scope = app.api("/api/users/me/items", &me_only).await;
    assert_eq!(scope.status(), 403);
    let scope_challenge = challenge(&scope);
    assert!(
        scope_challenge.contains(r#"error="insufficient_scope""#)
            && scope_challenge.ends_with(r#"scope="items""#),
        "{scope_challenge}"
    );

    for (case, request) in [
        ("no token", app.client.get(&url).header("authorization", "Bearer")),
        (
            "two words",
            app.client
                .get(&url)
                .header("authorization", format!("Bearer {me_only} extra")),
        ),
        (
            "two headers",
            app.client
                .get(&url)
                .header("authorization", format!("Bearer {me_only}"))
                .header("authorization", format!("Bearer {me_only}")),
        ),
        (
            "token in the URL",
            app.client.get(format!("{url}?access_token={me_only}")),
        ),
    ] {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 400, "{case}");
        assert!(
            challenge(&response).contains(r#"error="invalid_request""#),
            "{case}"
        );
    }
    assert_eq!(
        app.api("/api/users/me", &me_only).await.status(),
        200,
        "the token itself is fine"
    );
}

#[tokio::test]
async fn forged_and_garbage_tokens_are_refused_and_never_a_server_error() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    let granted = app.password_grant("johndoe").await;
    let real = granted["access_token"].as_str().unwrap().to_owned();
    let claims = app.valid_claims(&real);
    let now = app.clock.now().unix_timestamp();
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut claims = claims.clone();
        edit(&mut claims);
        app.forge(&at_jwt(Algorithm::HS256), &claims)
    };
    // The forger's plain HMAC-SHA256 over the real claims passes: the refusals below are for
    // what was changed, not for how it was signed.
    let resigned = app.forge(&at_jwt(Algorithm::HS256), &claims);
    assert_eq!(app.api("/api/users/me", &resigned).await.status(), 200);
    let payload = real.split('.').nth(1).unwrap().to_owned();
    let edited_payload = {
        let mut claims = claims.clone();
        claims["scope"] = "me items admin".into();
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap())
    };
    let parts: Vec<&str> = real.split('.').collect();
    let mut forged = vec![
        (
            "edited payload",
            format!("{}.{edited_payload}.{}", parts[0], parts[2]),
        ),
        (
            "HS384 with the real key",
            app.forge(&at_jwt(Algorithm::HS384), &claims),
        ),
        (
            "HS512 with the real key",
            app.forge(&at_jwt(Algorithm::HS512), &claims),
        ),
        (
            "plain JWT typ",
            app.forge(&Header::new(Algorithm::HS256), &claims),
        ),
        (
            "no exp",
            with(&|c| drop(c.as_object_mut().unwrap().remove("exp"))),
        ),
        ("string exp", with(&|c| c["exp"] = "tomorrow".into())),
        ("expired", with(&|c| c["exp"] = (now - 60).into())),
        ("future nbf", with(&|c| c["nbf"] = (now + 600).into())),
        (
            "no iss",
            with(&|c| drop(c.as_object_mut().unwrap().remove("iss"))),
        ),
        ("wrong iss", with(&|c| c["iss"] = "https://evil.example".into())),
        ("wrong aud", with(&|c| c["aud"] = "https://evil.example".into())),
        ("other user", with(&|c| c["sub"] = "999".into())),
        ("other session", with(&|c| c["sid"] = "0000".into())),
        ("old token version", with(&|c| c["tv"] = (-1).into())),
        (
            "refresh token as access token",
            granted["refresh_token"].as_str().unwrap().to_owned(),
        ),
        ("two segments", format!("{}.{payload}", parts[0])),
        ("four segments", format!("{real}.{payload}")),
        ("64 KB", "a".repeat(64 * 1024)),
    ];
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}","typ":"at+jwt"}}"#));
        forged.push(("alg none", format!("{header}.{payload}.")));
    }
    for (case, token) in forged {
        let response = app.api("/api/users/me", &token).await;
        assert!(
            !response.status().is_server_error(),
            "{case}: {}",
            response.status()
        );
        assert!(
            matches!(response.status().as_u16(), 400 | 401 | 431),
            "{case}: {}",
            response.status()
        );
    }
    assert_eq!(app.api("/api/users/me", &real).await.status(), 200);
}

#[tokio::test]
async fn the_password_grant_can_be_turned_off_without_ending_refreshes() {
    let data = TestData::new().await;
    let mut settings = data.settings();
    settings.disable_password_grant = true;
    let app = spawn_app_with(settings, data).await;
    app.add_user("johndoe").await;
    let response = app
        .token(&[
            ("grant_type", "password"),
            ("username", "johndoe"),
            ("password", PASSWORD),
        ])
        .await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "unsupported_grant_type"
    );
}

#[tokio::test]
async fn the_openapi_document_describes_every_route_and_the_password_flow() {
    let app = spawn_app().await;
    let document: Value = app.get("/openapi.json").await.json().await.unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    for path in ["/token", "/api/users/me", "/api/users/me/items"] {
        assert!(document["paths"][path].is_object(), "{path}");
    }
    for status in ["200", "400", "401", "403", "503"] {
        assert!(
            document["paths"]["/api/users/me/items"]["get"]["responses"][status].is_object(),
            "{status}"
        );
    }
    let flow = &document["components"]["securitySchemes"]["oauth2"]["flows"]["password"];
    assert_eq!(flow["tokenUrl"], "/token");
    assert!(flow["scopes"]["items"].is_string());
    for schema in ["TokenResponse", "OAuthError", "ApiError", "Me", "Item"] {
        assert!(document["components"]["schemas"][schema].is_object(), "{schema}");
    }
    // The answers the operations share are described once and referred to: every reference
    // must name something the document holds, or a client generator stops there.
    let mut references = Vec::new();
    collect_references(&document, &mut references);
    assert!(references.contains(&"#/components/responses/Unauthorized".to_owned()));
    for reference in &references {
        let pointer = reference
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{reference} points outside the document"));
        assert!(document.pointer(pointer).is_some(), "{reference} names nothing");
    }
    // Descriptions come from doc comments: none may carry what is meant for this code's readers.
    for (name, response) in document["components"]["responses"].as_object().unwrap() {
        let description = response["description"].as_str().unwrap();
        assert!(
            !description.contains("[`") && !description.contains('\n'),
            "{name}: {description}"
        );
    }
    let unauthorized = &document["components"]["responses"]["Unauthorized"];
    assert_eq!(
        unauthorized["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ApiError"
    );
}

/// Every `$ref` in a JSON document, depth first.
fn collect_references(value: &Value, references: &mut Vec<String>) {
    match value {
        Value::Object(fields) => {
            for (name, field) in fields {
                match (name.as_str(), field) {
                    ("$ref", Value::String(reference)) => references.push(reference.clone()),
                    _ => collect_references(field, references),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_references(item, references)),
        _ => {}
    }
}
