//! Sign-in, protected pages and sign-out for people: cookies, redirects and revocation.

use gatehouse::api::{ChangePassword, Logout};
use gatehouse::domain::Username;
use gatehouse::server::store::{ClientKind, SessionOrigin};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::SecretString;

use crate::helpers::{PASSWORD, access_token, greets, location, set_cookies, spawn_app};

#[tokio::test]
async fn signing_in_sets_an_httponly_lax_cookie_and_redirects_to_the_dashboard() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;

    let response = app.sign_in("johndoe", PASSWORD, None).await;

    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/dashboard");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let (device, cookies): (Vec<String>, Vec<String>) = set_cookies(&response)
        .into_iter()
        .partition(|cookie| cookie.starts_with("gatehouse_device="));
    assert_eq!(cookies.len(), 2, "the access and the refresh cookie: {cookies:?}");
    assert_eq!(device.len(), 1, "and the device cookie, for a year: {device:?}");
    for cookie in &cookies {
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(cookie.contains(attribute), "{attribute} in {cookie}");
        }
        assert!(
            !cookie.contains("Domain") && !cookie.contains("Secure"),
            "{cookie}"
        );
        assert!(
            !cookie.contains("Max-Age"),
            "browser-session cookies unless remembered: {cookie}"
        );
    }
    let token = access_token(&response);
    assert!(
        !response.text().await.unwrap().contains(&token),
        "the token is never in a body"
    );
}

#[tokio::test]
async fn the_dashboard_greets_the_signed_in_user_and_never_shows_the_token() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    let token = access_token(&app.sign_in("johndoe", PASSWORD, None).await);

    let response = app.get_page("/dashboard").await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let html = response.text().await.unwrap();
    assert!(greets(&html, "Test johndoe"), "{html}");
    assert!(html.contains("You signed in on"), "{html}");
    assert!(
        !html.contains(&token),
        "the token is not in the HTML or the hydration data"
    );
    assert!(
        !html.contains(token.split('.').nth(1).unwrap()),
        "not even its payload"
    );
}

#[tokio::test]
async fn a_safe_next_is_followed_after_sign_in() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    let response = app.sign_in("johndoe", PASSWORD, Some("/profile")).await;
    assert_eq!(location(&response), "/profile");
}

#[tokio::test]
async fn an_off_site_or_malformed_next_falls_back_to_the_dashboard() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    for next in [
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "/%2F%2Fevil.example",
        "javascript:alert(1)",
        "/dashboard\r\nSet-Cookie: evil=1",
        "",
    ] {
        let response = app.sign_in("johndoe", PASSWORD, Some(next)).await;
        assert_eq!(response.status(), 303, "{next:?}");
        assert_eq!(location(&response), "/dashboard", "{next:?}");
    }
}

#[tokio::test]
async fn unknown_user_wrong_password_and_disabled_account_get_the_same_answer() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    app.add_user("alice").await;
    app.state
        .store
        .set_disabled(&Username::parse("alice").unwrap(), true)
        .await
        .unwrap();

    let mut answers = Vec::new();
    for (username, password) in [
        ("nobody", PASSWORD),
        ("johndoe", "wrong password!"),
        ("alice", PASSWORD),
        ("not a name", PASSWORD),
    ] {
        let response = app
            .call::<gatehouse::api::Login>(&[("username", username), ("password", password)])
            .await;
        assert!(set_cookies(&response).is_empty(), "{username}: no cookie");
        answers.push((response.status().as_u16(), response.text().await.unwrap()));
    }
    assert!(answers.iter().all(|answer| answer == &answers[0]), "{answers:?}");
    assert_eq!(answers[0].0, 401);
    assert!(answers[0].1.contains("InvalidCredentials"), "{}", answers[0].1);
}

#[tokio::test]
async fn a_failed_plain_form_sign_in_goes_back_to_the_form_with_the_error() {
    let app = spawn_app().await;
    let response = app.sign_in("nobody", PASSWORD, None).await;
    assert_eq!(response.status(), 302);
    let back = location(&response).to_owned();
    assert!(
        back.starts_with(&format!("{}/login?", app.address)) && back.contains("__err="),
        "{back}"
    );
    let page = app
        .client
        .get(&back)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Incorrect username or password."), "{page}");
}

#[tokio::test]
async fn protected_pages_send_visitors_to_sign_in_before_rendering_anything() {
    let app = spawn_app().await;
    for (path, expected) in [
        ("/dashboard", "/login?next=%2Fdashboard"),
        ("/profile", "/login?next=%2Fprofile"),
        ("/admin/users?page=2", "/login?next=%2Fadmin%2Fusers%3Fpage%3D2"),
    ] {
        let response = app.get_page(path).await;
        assert_eq!(response.status(), 303, "{path}");
        assert_eq!(location(&response), expected);
        assert!(
            response.text().await.unwrap().is_empty(),
            "nothing of {path} is rendered"
        );
    }
}

#[tokio::test]
async fn the_front_page_leads_to_sign_in_or_to_the_dashboard() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    assert_eq!(location(&app.get_page("/").await), "/login");
    app.sign_in("johndoe", PASSWORD, None).await;
    assert_eq!(location(&app.get_page("/").await), "/dashboard");
}

#[tokio::test]
async fn a_signed_in_user_opening_login_goes_on_to_next_or_the_dashboard() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    assert_eq!(app.get_page("/login").await.status(), 200);
    app.sign_in("johndoe", PASSWORD, None).await;
    assert_eq!(location(&app.get_page("/login").await), "/dashboard");
    assert_eq!(
        location(&app.get_page("/login?next=%2Fprofile").await),
        "/profile"
    );
    assert_eq!(
        location(&app.get_page("/login?next=%2F%2Fevil.example").await),
        "/dashboard"
    );
}

#[tokio::test]
async fn an_expired_token_sends_the_user_to_sign_in_and_clears_the_cookie() {
    let app = spawn_app().await;
    let user = app.add_user("johndoe").await;
    let session = app
        .state
        .store
        .create_session(
            &user,
            "me items",
            app.clock.now() + time::Duration::hours(1),
            &SessionOrigin::default(),
            ClientKind::Browser,
        )
        .await
        .unwrap();
    let now = app.clock.now().unix_timestamp();
    let origin = app.address.clone();
    let claims = serde_json::json!({
        "iss": origin, "aud": origin, "sub": user.id.to_string(), "iat": now - 3600, "nbf": now - 3600,
        "exp": now - 60, "jti": "x", "sid": session.id, "tv": 0, "scope": "me"
    });
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    let expired = jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_secret(app.state.signing_key.expose()).unwrap(),
    )
    .unwrap();

    let response = app
        .other_browser()
        .get(format!("{}/dashboard", app.address))
        .header("cookie", format!("gatehouse_access={expired}"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/login?next=%2Fdashboard");
    assert!(
        set_cookies(&response)
            .iter()
            .any(|cookie| cookie.starts_with("gatehouse_access=;") && cookie.contains("Max-Age=0"))
    );
}

#[tokio::test]
async fn a_tampered_token_is_refused() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    let token = access_token(&app.sign_in("johndoe", PASSWORD, None).await);
    let mut tampered = token.into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let response = app
        .other_browser()
        .get(format!("{}/dashboard", app.address))
        .header(
            "cookie",
            format!("gatehouse_access={}", String::from_utf8(tampered).unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/login?next=%2Fdashboard");
}

#[tokio::test]
async fn a_user_disabled_while_signed_in_is_signed_out_and_told_why() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    app.sign_in("johndoe", PASSWORD, None).await;
    assert_eq!(app.get_page("/dashboard").await.status(), 200);

    app.state
        .store
        .set_disabled(&Username::parse("johndoe").unwrap(), true)
        .await
        .unwrap();

    let response = app.get_page("/dashboard").await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        location(&response),
        "/login?next=%2Fdashboard&reason=account_disabled"
    );
    assert!(
        set_cookies(&response)
            .iter()
            .any(|cookie| cookie.contains("Max-Age=0")),
        "the cookie is cleared"
    );
    let login = app.get_page(location(&response)).await.text().await.unwrap();
    assert!(login.contains("Your account has been disabled"), "{login}");
    assert_eq!(
        app.get_page("/dashboard").await.headers()["location"],
        "/login?next=%2Fdashboard",
        "signed out for good"
    );
}

#[tokio::test]
async fn signing_out_revokes_the_session_so_a_copied_token_stops_working() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    let token = access_token(&app.sign_in("johndoe", PASSWORD, None).await);
    let copy = app.other_browser();
    let with_copy = || {
        copy.get(format!("{}/dashboard", app.address))
            .header("cookie", format!("gatehouse_access={token}"))
    };
    assert_eq!(with_copy().send().await.unwrap().status(), 200);

    let response = app.post_form::<Logout>(&[]).await;

    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/login");
    let cleared = set_cookies(&response);
    assert!(
        cleared
            .iter()
            .any(|cookie| cookie.starts_with("gatehouse_access=;")
                && cookie.contains("HttpOnly")
                && cookie.contains("SameSite=Lax")
                && cookie.contains("Path=/")
                && cookie.contains("Max-Age=0")),
        "{cleared:?}"
    );
    assert_eq!(
        with_copy().send().await.unwrap().status(),
        303,
        "the copied token is dead"
    );
    assert_eq!(app.get_page("/dashboard").await.status(), 303);
}

#[tokio::test]
async fn signing_out_takes_a_post_only() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    app.sign_in("johndoe", PASSWORD, None).await;
    let response = app
        .client
        .get(format!(
            "{}{}",
            app.address,
            <Logout as leptos::server_fn::ServerFn>::PATH
        ))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());
    assert_eq!(app.get_page("/dashboard").await.status(), 200, "still signed in");
}

#[tokio::test]
async fn changing_the_password_checks_the_current_one_and_ends_the_other_sessions() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    app.sign_in("johndoe", PASSWORD, None).await;
    let other = app.other_browser();
    let other_token = access_token(
        &other
            .post(format!(
                "{}{}",
                app.address,
                <gatehouse::api::Login as leptos::server_fn::ServerFn>::PATH
            ))
            .header("origin", &app.address)
            .header("accept", "text/html")
            .form(&[("username", "johndoe"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap(),
    );
    let change = async |current: &str, new: &str, confirm: &str| {
        app.call::<ChangePassword>(&[
            ("current_password", current),
            ("new_password", new),
            ("confirm_password", confirm),
        ])
        .await
    };

    let wrong = change(
        "not my password",
        "a brand new passphrase",
        "a brand new passphrase",
    )
    .await;
    assert_eq!(wrong.status(), 400);
    assert!(wrong.text().await.unwrap().contains("WrongCurrentPassword"));
    let weak = change(PASSWORD, "password1", "password1").await;
    assert_eq!(weak.status(), 400);
    assert!(weak.text().await.unwrap().contains("PasswordTooCommon"));
    let same = change(PASSWORD, PASSWORD, PASSWORD).await;
    assert!(same.text().await.unwrap().contains("PasswordUnchanged"));
    let mismatch = change(PASSWORD, "a brand new passphrase", "a brand new passphrasE").await;
    assert!(mismatch.text().await.unwrap().contains("ConfirmationDiffers"));

    let changed = change(PASSWORD, "a brand new passphrase", "a brand new passphrase").await;
    assert_eq!(changed.status(), 200);

    assert_eq!(
        app.get_page("/dashboard").await.status(),
        200,
        "this session stays"
    );
    let other_page = other
        .get(format!("{}/dashboard", app.address))
        .header("cookie", format!("gatehouse_access={other_token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(other_page.status(), 303, "the other session has ended");
    let user = app
        .state
        .store
        .find_user(&Username::parse("johndoe").unwrap())
        .await
        .unwrap()
        .unwrap();
    let new = SecretString::from("a brand new passphrase");
    assert!(
        app.state
            .passwords
            .verify(&new, Some(&user.password_hash()))
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn server_functions_for_users_refuse_visitors() {
    let app = spawn_app().await;
    let response = app
        .call::<ChangePassword>(&[
            ("current_password", "x"),
            ("new_password", "y"),
            ("confirm_password", "y"),
        ])
        .await;
    assert_eq!(response.status(), 401);
    assert!(response.text().await.unwrap().contains("SignInRequired"));
}

#[tokio::test]
async fn a_store_failure_while_identifying_the_caller_is_a_clean_503() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    app.sign_in("johndoe", PASSWORD, None).await;
    app.state.store.close().await;

    let response = app.get_page("/dashboard").await;

    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "5");
    let body = response.text().await.unwrap();
    assert!(
        body.starts_with("Gatehouse cannot reach its database right now."),
        "{body}"
    );
    for internal in ["sqlx", "pool", "sqlite", ".rs", "data/"] {
        assert!(
            !body.to_lowercase().contains(internal),
            "{internal} leaked: {body}"
        );
    }
}
