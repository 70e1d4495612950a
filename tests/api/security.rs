//! Hardening, tested as the attack: security headers everywhere, cross-origin posts, oversized
//! bodies.

use gatehouse::api::{Login, Logout};
use gatehouse::server::config::{PublicUrl, Settings};
use leptos::server_fn::ServerFn;

use crate::helpers::{PASSWORD, location, set_cookies, spawn_app, spawn_app_with};

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    let token_error = app
        .client
        .post(format!("{}/token", app.address))
        .form(&[("grant_type", "x")])
        .send()
        .await
        .unwrap();
    let mut responses = vec![("POST /token".to_owned(), token_error)];
    for path in [
        "/login",
        "/healthz",
        "/openapi.json",
        "/no/such/page",
        "/api/users/me",
    ] {
        responses.push((path.to_owned(), app.get_page(path).await));
    }
    for (what, response) in responses {
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{what}");
        assert_eq!(
            headers["referrer-policy"], "strict-origin-when-cross-origin",
            "{what}"
        );
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(
            policy.contains("frame-ancestors 'none'") && policy.contains("base-uri 'none'"),
            "{what}: {policy}"
        );
        assert!(
            headers.get("strict-transport-security").is_none(),
            "{what}: no HSTS over http"
        );
        assert!(headers.get("server").is_none(), "{what}: no server banner");
        if let Some(content_type) = headers.get("content-type") {
            let content_type = content_type.to_str().unwrap();
            assert!(
                !content_type.starts_with("text/") || content_type.contains("charset"),
                "{what}: {content_type}"
            );
        }
    }
}

#[tokio::test]
async fn a_page_allows_only_its_own_nonce_and_webassembly() {
    let app = spawn_app().await;
    let response = app.get_page("/login").await;
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let html = response.text().await.unwrap();
    let nonce = html.split("nonce=\"").nth(1).unwrap().split('"').next().unwrap();
    assert!(policy.contains(&format!("'nonce-{nonce}'")), "{policy}");
    assert!(
        policy.contains("'wasm-unsafe-eval'") && policy.contains("object-src 'none'"),
        "{policy}"
    );
    assert!(!policy.contains("'unsafe-inline'"), "{policy}");
    let again = app.get_page("/login").await.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_ne!(again, policy, "a fresh nonce for every response");
}

#[tokio::test]
async fn an_https_site_sends_hsts_and_host_prefixed_secure_cookies() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::new("127.0.0.1:0".parse().unwrap(), dir.path());
    settings.public_url = Some(PublicUrl::parse("https://login.example.com").unwrap());
    let app = spawn_app_with(settings, dir).await;
    app.add_user("johndoe").await;
    let response = app
        .client
        .post(format!("{}{}", app.address, Login::PATH))
        .header("origin", "https://login.example.com")
        .header("accept", "text/html")
        .form(&[("username", "johndoe"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert!(
        response.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .starts_with("max-age=")
    );
    for cookie in set_cookies(&response) {
        assert!(
            cookie.starts_with("__Host-gatehouse_")
                && cookie.contains("Secure")
                && !cookie.contains("Domain"),
            "{cookie}"
        );
    }
}

#[tokio::test]
async fn state_changing_requests_from_other_origins_or_nowhere_are_refused() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    let url = format!("{}{}", app.address, Login::PATH);
    let form = [("username", "johndoe"), ("password", PASSWORD)];
    let look_alike = format!("{}.evil.example/", app.address);
    let attempts = [
        ("another origin", vec![("origin", "https://evil.example")]),
        ("a cross-site fetch", vec![("sec-fetch-site", "cross-site")]),
        (
            "a foreign referer",
            vec![("referer", "https://evil.example/login")],
        ),
        ("a look-alike referer", vec![("referer", look_alike.as_str())]),
        ("no evidence at all", vec![]),
    ];
    for (case, headers) in attempts {
        let mut request = app
            .other_browser()
            .post(&url)
            .header("accept", "text/html")
            .form(&form);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 403, "{case}");
        assert!(set_cookies(&response).is_empty(), "{case}: nobody is signed in");
    }
    let same_site = app
        .other_browser()
        .post(&url)
        .header("accept", "text/html")
        .header("referer", format!("{}/login", app.address))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(same_site.status(), 303, "a Referer from the site is enough");
}

#[tokio::test]
async fn a_cross_origin_sign_out_leaves_the_session_alone() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    app.sign_in("johndoe", PASSWORD, None).await;
    let forged = app
        .client
        .post(format!("{}{}", app.address, Logout::PATH))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let message = forged.text().await.unwrap();
    assert!(
        message.contains("https://evil.example") && message.contains(&app.address),
        "{message}"
    );
    assert_eq!(app.get_page("/dashboard").await.status(), 200);
}

#[tokio::test]
async fn oversized_bodies_are_refused_before_any_work() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    let huge = "x".repeat(100 * 1024);
    let token = app
        .client
        .post(format!("{}/token", app.address))
        .form(&[
            ("grant_type", "password"),
            ("username", "johndoe"),
            ("password", huge.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 413);
    let login = app.sign_in("johndoe", &huge, None).await;
    assert_eq!(login.status(), 413);
    assert_eq!(
        location(&app.sign_in("johndoe", PASSWORD, None).await),
        "/dashboard",
        "normal requests still pass"
    );
}

#[tokio::test]
async fn guessing_a_password_through_the_form_and_the_token_endpoint_is_throttled() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    // Thirty guesses, alternating the login form and POST /token: five are free, then every
    // further attempt must wait, and the waits only grow.
    let mut throttled = 0;
    for guess in 0..30 {
        let wrong = format!("guess number {guess}");
        let status = if guess % 2 == 0 {
            app.call::<Login>(&[("username", "johndoe"), ("password", wrong.as_str())])
                .await
                .status()
        } else {
            app.client
                .post(format!("{}/token", app.address))
                .form(&[
                    ("grant_type", "password"),
                    ("username", "johndoe"),
                    ("password", wrong.as_str()),
                ])
                .send()
                .await
                .unwrap()
                .status()
        };
        if status == 429 {
            throttled += 1;
        }
    }
    assert!(throttled >= 20, "{throttled} of 30 guesses throttled");

    // Even the right password is refused while the account waits, with a Retry-After to honour.
    let right = app
        .call::<Login>(&[("username", "johndoe"), ("password", PASSWORD)])
        .await;
    assert_eq!(right.status(), 429);
    let retry_after: u64 = right.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=300).contains(&retry_after), "{retry_after}");
    assert!(right.text().await.unwrap().contains("TooManyAttempts"));
    let token = app
        .client
        .post(format!("{}/token", app.address))
        .form(&[
            ("grant_type", "password"),
            ("username", "johndoe"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 429);
    assert!(token.headers().contains_key("retry-after"));
    assert_eq!(
        token.json::<serde_json::Value>().await.unwrap()["error"],
        "too_many_attempts"
    );
}

#[tokio::test]
async fn an_unknown_username_is_throttled_exactly_like_a_real_one() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    let mut statuses = Vec::new();
    for name in ["johndoe", "nobody-here"] {
        let mut sequence = Vec::new();
        for _ in 0..7 {
            sequence.push(
                app.call::<Login>(&[("username", name), ("password", "wrong password")])
                    .await
                    .status()
                    .as_u16(),
            );
        }
        statuses.push(sequence);
    }
    assert_eq!(statuses[0], statuses[1]);
    assert_eq!(statuses[0], [401, 401, 401, 401, 401, 429, 429]);
}

#[tokio::test]
async fn the_wait_runs_out_and_the_right_password_then_works() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    for _ in 0..5 {
        app.call::<Login>(&[("username", "johndoe"), ("password", "wrong password")])
            .await;
    }
    let waiting = app.sign_in("johndoe", PASSWORD, None).await;
    assert_eq!(waiting.status(), 302, "a plain form post goes back to the form");
    let page = app
        .get_page(&location(&waiting).replace(&app.address, ""))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Too many attempts, try again in 1 second."),
        "{page}"
    );

    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    assert_eq!(
        location(&app.sign_in("johndoe", PASSWORD, None).await),
        "/dashboard"
    );
}
