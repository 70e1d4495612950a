//! Hardening, tested as the attack: security headers everywhere, cross-origin posts, other
//! encodings, oversized bodies, password guessing, forged client addresses.

use gatehouse::api::{
    ChangePassword, CurrentUser, ListSessions, Login, Logout, RevokeOtherSessions, RevokeSession,
};
use gatehouse::server::config::{PublicUrl, TlsFiles};
use leptos::server_fn::ServerFn;

use crate::helpers::{PASSWORD, TestData, location, set_cookies, spawn_app, spawn_app_with};

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    let token_error = app.token(&[("grant_type", "x")]).await;
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
    let data = TestData::new().await;
    let mut settings = data.settings();
    settings.public_url = Some(PublicUrl::parse("https://login.example.com").unwrap());
    let app = spawn_app_with(settings, data).await;
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
        // An opaque origin says nothing by itself; with it, a sandboxed frame on another site.
        ("an opaque origin alone", vec![("origin", "null")]),
        (
            "an opaque origin from another site",
            vec![("origin", "null"), ("sec-fetch-site", "cross-site")],
        ),
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
    // A form on a page of the site that sends no Referer (the mailed-link pages): the browser
    // says `Origin: null`, and that it comes from the same origin.
    let no_referrer_page = app
        .other_browser()
        .post(&url)
        .header("accept", "text/html")
        .header("origin", "null")
        .header("sec-fetch-site", "same-origin")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        no_referrer_page.status(),
        303,
        "a same-origin page with an opaque origin"
    );
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
        .token(&[
            ("grant_type", "password"),
            ("username", "johndoe"),
            ("password", huge.as_str()),
        ])
        .await;
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
            app.token(&[
                ("grant_type", "password"),
                ("username", "johndoe"),
                ("password", wrong.as_str()),
            ])
            .await
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
        .token(&[
            ("grant_type", "password"),
            ("username", "johndoe"),
            ("password", PASSWORD),
        ])
        .await;
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

    app.clock.advance(std::time::Duration::from_millis(1_100));
    assert_eq!(
        location(&app.sign_in("johndoe", PASSWORD, None).await),
        "/dashboard"
    );
}

#[tokio::test]
async fn server_functions_take_only_posted_forms() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    let url = format!("{}{}", app.address, Login::PATH);
    let body = "username=johndoe&password=correct horse battery staple";
    for content_type in [
        "text/plain",
        "application/json",
        "multipart/form-data; boundary=x",
        "",
    ] {
        let mut request = app.client.post(&url).header("origin", &app.origin).body(body);
        if !content_type.is_empty() {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 415, "{content_type:?}");
        assert!(
            set_cookies(&response).is_empty(),
            "{content_type:?} signed nobody in"
        );
    }
    let put = app
        .client
        .put(&url)
        .header("origin", &app.origin)
        .form(&[("username", "johndoe"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 405);
}

/// Twenty-five wrong passwords for as many made-up names, each claiming another address.
async fn spray_with_forged_addresses(app: &crate::helpers::TestApp) -> Vec<u16> {
    let mut statuses = Vec::new();
    for n in 0..25 {
        let response = app
            .token_request(&app.client)
            .header("x-forwarded-for", format!("203.0.113.{n}"))
            .form(&[
                ("grant_type", "password"),
                ("username", format!("user{n}").as_str()),
                ("password", "wrong password"),
            ])
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    statuses
}

#[tokio::test]
async fn a_rotating_x_forwarded_for_from_an_untrusted_peer_changes_nothing() {
    let app = spawn_app().await;
    let statuses = spray_with_forged_addresses(&app).await;
    assert!(statuses[..20].iter().all(|&status| status == 400), "{statuses:?}");
    assert!(statuses[20..].iter().all(|&status| status == 429), "{statuses:?}");
}

#[tokio::test]
async fn x_forwarded_for_from_a_trusted_proxy_names_the_client() {
    let data = TestData::new().await;
    let mut settings = data.settings();
    settings.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    let app = spawn_app_with(settings, data).await;
    let statuses = spray_with_forged_addresses(&app).await;
    assert!(
        statuses.iter().all(|&status| status == 400),
        "each address has its own count: {statuses:?}"
    );

    let user = app.add_user("johndoe").await;
    let response = app
        .token_request(&app.client)
        .header("x-forwarded-for", "198.51.100.7, 127.0.0.1")
        .form(&[
            ("grant_type", "password"),
            ("username", "johndoe"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let sessions = app.live_sessions(user.id).await;
    assert_eq!(sessions[0].ip_address.as_deref(), Some("198.51.100.7"));
}

/// A self-signed certificate for 127.0.0.1 and localhost, made by the openssl command.
fn self_signed_certificate(dir: &std::path::Path) -> TlsFiles {
    let files = TlsFiles {
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ])
        .args([
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ])
        .arg("-keyout")
        .arg(&files.key)
        .arg("-out")
        .arg(&files.cert)
        .output()
        .expect("openssl runs");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    files
}

#[tokio::test]
async fn with_a_certificate_the_site_is_served_over_https_with_hsts() {
    let data = TestData::new().await;
    let mut settings = data.settings();
    let files = self_signed_certificate(data.path());
    let cert = files.cert.clone();
    settings.tls = Some(files);
    let app = spawn_app_with(settings, data).await;
    assert!(app.address.starts_with("http://127.0.0.1:"));
    let url = app.address.replace("http://", "https://") + "/healthz";
    let url_for_curl = url.clone();

    // curl checks the certificate against the one we made, as any client would.
    // The server runs on this test's runtime: curl waits on a thread of its own.
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("curl")
            .args(["--silent", "--show-error", "--include", "--cacert"])
            .arg(&cert)
            .arg(&url_for_curl)
            .output()
            .expect("curl runs")
    })
    .await
    .unwrap();
    let answer = String::from_utf8_lossy(&output.stdout).to_lowercase();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        answer.starts_with("http/1.1 200") || answer.starts_with("http/2 200"),
        "{answer}"
    );
    assert!(answer.contains("strict-transport-security: max-age="), "{answer}");
    assert!(answer.contains(r#""status":"ok""#), "{answer}");
    assert_eq!(
        app.origin,
        url.trim_end_matches("/healthz"),
        "the default public URL is https"
    );
}

#[tokio::test]
async fn unusable_tls_files_stop_start_up_with_a_way_forward() {
    let data = TestData::new().await;
    std::fs::write(data.path().join("cert.pem"), "not a certificate").unwrap();
    let cert = data.path().join("cert.pem");
    let key = data.path().join("missing-key.pem");
    let output = data.gatehouse(
        &[
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(1));
    let message = crate::helpers::stderr(&output);
    assert!(message.contains("for TLS"), "{message}");
    assert!(message.contains("PEM"), "{message}");

    let half = data.gatehouse(&["serve", "--tls-cert", cert.to_str().unwrap()], "");
    assert_eq!(
        half.status.code(),
        Some(2),
        "a certificate without its key is a usage error"
    );
}

#[tokio::test]
async fn cross_origin_posts_to_every_server_function_are_refused() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    app.sign_in("johndoe", PASSWORD, None).await;
    let paths = [
        Login::PATH,
        Logout::PATH,
        CurrentUser::PATH,
        ChangePassword::PATH,
        ListSessions::PATH,
        RevokeSession::PATH,
        RevokeOtherSessions::PATH,
    ];
    for path in paths {
        let forged = app
            .client
            .post(format!("{}{path}", app.address))
            .header("origin", "https://evil.example")
            .form(&[
                ("current_password", PASSWORD),
                ("new_password", "pwned pwned pwned"),
                ("id", "x"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 403, "{path}");
    }
    assert_eq!(app.get_page("/dashboard").await.status(), 200, "still signed in");
    let sign_in_again = app.other_browser();
    let response = sign_in_again
        .post(format!("{}{}", app.address, Login::PATH))
        .header("origin", &app.origin)
        .header("accept", "text/html")
        .form(&[("username", "johndoe"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "the password was not changed");
}

#[tokio::test]
async fn hostile_usernames_and_passwords_are_answered_cleanly() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    let long_name = "a".repeat(10 * 1024);
    let long_password = "p".repeat(10_000);
    let names = [
        "' OR 1=1--",
        "johndoe'--",
        "john\0doe",
        "jоhndoe",
        "ｊｏｈｎｄｏｅ",
        "<script>x</script>",
        long_name.as_str(),
    ];
    for name in names {
        for password in [PASSWORD, long_password.as_str()] {
            let response = app
                .token_request(&app.other_browser())
                .form(&[
                    ("grant_type", "password"),
                    ("username", name),
                    ("password", password),
                ])
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap();
            assert!(matches!(status, 400 | 429), "{name:.20}: {status} {body}");
            assert!(
                !body.contains("sqlx") && !body.contains("SQL") && !body.contains("panicked"),
                "{body}"
            );
        }
        let response = app
            .call::<Login>(&[("username", name), ("password", &long_password)])
            .await;
        assert!(
            matches!(response.status().as_u16(), 401 | 429),
            "{name:.20}: {}",
            response.status()
        );
    }
    assert_eq!(
        app.state.store.list_users().await.unwrap().len(),
        1,
        "nothing was created or dropped"
    );
}

#[tokio::test]
async fn a_32_kb_cookie_is_refused_cleanly_and_small_ones_still_work() {
    let app = spawn_app().await;
    let huge = format!("junk={}", "x".repeat(32 * 1024));
    let response = app
        .other_browser()
        .get(format!("{}/login", app.address))
        .header("cookie", huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 431);
    assert!(response.headers().contains_key("x-request-id"));
    assert!(response.headers().contains_key("content-security-policy"));
    assert_eq!(app.get_page("/login").await.status(), 200);
}

#[tokio::test]
async fn a_flood_of_64_concurrent_sign_ins_leaves_the_health_check_answering() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    let flood = (0..64).map(|n| {
        let request = app.token_request(&app.other_browser()).form(&[
            ("grant_type", "password"),
            ("username", "johndoe"),
            ("password", &format!("guess {n}")),
        ]);
        async move { request.send().await.unwrap().status().as_u16() }
    });
    let flood = tokio::spawn(futures::future::join_all(flood));
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let health = app.get("/healthz").await;
    assert_eq!(
        health.status(),
        200,
        "the health check does not queue behind the hashing"
    );
    let statuses = flood.await.unwrap();
    assert!(
        statuses.iter().all(|status| matches!(status, 400 | 429 | 503)),
        "{statuses:?}"
    );
}
