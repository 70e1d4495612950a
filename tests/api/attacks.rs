//! The attacks of the security review (issue 12), each written as the attack that found the
//! weakness, so that it cannot come back. Run on SQLite and on PostgreSQL like every test here.

use std::future::Future;
use std::pin::{Pin, pin};
use std::task::Poll;
use std::time::{Duration, Instant};

use gatehouse::api::{ChangePassword, CurrentUser, ListSessions, Login, RevokeOtherSessions, RevokeSession};
use gatehouse::domain::{FullName, Username};
use gatehouse::server::auth::credentials::{AttemptSource, Verdict, authenticate};
use gatehouse::server::auth::password::PasswordHash;
use gatehouse::server::store::NewUser;
use leptos::server_fn::ServerFn;
use secrecy::SecretString;
use serde_json::Value;

use crate::helpers::{
    PASSWORD, TestApp, TestData, access_token, location, set_cookies, spawn_app, spawn_app_with,
};

/// One wrong password at `POST /token` for `username` from the test client.
async fn wrong_token_guess(app: &TestApp, client: &reqwest::Client, username: &str, n: usize) -> u16 {
    app.token_request(client)
        .form(&[
            ("grant_type", "password"),
            ("username", username),
            ("password", format!("wrong guess {n}").as_str()),
        ])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Statuses of `count` wrong passwords for `username`, all sent at once, spread over `apps`.
async fn concurrent_wrong_guesses(apps: &[&TestApp], username: &str, count: usize) -> Vec<u16> {
    let guesses = (0..count).map(|n| {
        let app = apps[n % apps.len()];
        let client = app.other_browser();
        async move { wrong_token_guess(app, &client, username, n).await }
    });
    futures::future::join_all(guesses).await
}

/// The free failures per account before waits begin (see `auth::throttle`).
const FREE_PER_ACCOUNT: usize = 5;

fn assert_only_the_free_attempts_reached_the_password_check(statuses: &[u16]) {
    let checked = statuses.iter().filter(|&&status| status == 400).count();
    let throttled = statuses.iter().filter(|&&status| status == 429).count();
    assert_eq!(checked, FREE_PER_ACCOUNT, "{statuses:?}");
    assert_eq!(checked + throttled, statuses.len(), "{statuses:?}");
}

#[tokio::test]
async fn two_hundred_concurrent_wrong_passwords_reach_the_password_check_only_five_times() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;

    let statuses = concurrent_wrong_guesses(&[&app], "johndoe", 200).await;

    assert_only_the_free_attempts_reached_the_password_check(&statuses);
    let right = app
        .token(&[
            ("grant_type", "password"),
            ("username", "johndoe"),
            ("password", PASSWORD),
        ])
        .await;
    assert_eq!(right.status(), 429, "the right password waits too");
    assert!(right.headers().contains_key("retry-after"));
    app.clock.advance(Duration::from_secs(1));
    assert_eq!(
        app.password_grant("johndoe").await["token_type"],
        "bearer",
        "until the wait ends"
    );
}

#[tokio::test]
async fn two_hundred_concurrent_wrong_passwords_over_two_instances_reach_the_check_only_five_times() {
    let data = std::sync::Arc::new(TestData::new().await);
    let settings = data.settings();
    let a = spawn_app_with(settings.clone(), data.clone()).await;
    let b = spawn_app_with(settings, data).await;
    a.add_user("johndoe").await;

    let statuses = concurrent_wrong_guesses(&[&a, &b], "johndoe", 200).await;

    assert_only_the_free_attempts_reached_the_password_check(&statuses);
}

/// A valid argon2id hash that takes seconds to check (1,000 passes over 19 MiB, where a
/// password's hash makes 2): it keeps an argon2 thread busy far longer than a test needs.
const COSTLY_HASH: &str =
    "$argon2id$v=19$m=19456,t=1000,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// Drives `future` until it is done (its output) or, right after one of its steps, `queued`
/// holds (`None`). No timer: between steps the future waits on what it waits on (the store).
async fn poll_until_queued<F: Future>(
    mut future: Pin<&mut F>,
    queued: impl Fn() -> bool,
) -> Option<F::Output> {
    let steps = std::future::poll_fn(|context| match future.as_mut().poll(context) {
        Poll::Ready(output) => Poll::Ready(Some(output)),
        Poll::Pending if queued() => Poll::Ready(None),
        Poll::Pending => Poll::Pending,
    });
    tokio::time::timeout(Duration::from_secs(30), steps)
        .await
        .expect("neither done nor queued within 30 s")
}

#[tokio::test]
async fn a_sign_in_given_up_before_its_password_was_checked_is_not_counted() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    let source = AttemptSource {
        address: Some("203.0.113.7"),
        device_cookie: None,
    };
    let guess = || authenticate(&app.state, "johndoe", "not the password", source);
    // Four failures: one short of the five an account has before waits begin.
    for _ in 0..4 {
        assert!(matches!(guess().await.unwrap(), Verdict::Refused));
    }
    // Every argon2 thread busy for seconds: one costly check each, queued by its first poll
    // (there is nothing to wait for before it) and kept alive to the end of the test.
    let passwords = &app.state.passwords;
    let threads = std::thread::available_parallelism().unwrap().get();
    let costly = PasswordHash::from_stored(COSTLY_HASH.to_owned());
    let secret = SecretString::from("x");
    let mut holders: Vec<_> = (0..threads)
        .map(|_| Box::pin(passwords.verify(&secret, Some(&costly))))
        .collect();
    for holder in &mut holders {
        assert!(futures::poll!(holder.as_mut()).is_pending());
    }
    assert_eq!(passwords.pending(), threads);

    // A fifth guess waits for a thread, and its client leaves (a closed tab, a proxy's timeout).
    {
        let given_up = pin!(guess());
        let done = poll_until_queued(given_up, || passwords.pending() == threads + 1).await;
        assert!(done.is_none(), "the guess waits behind the busy threads");
    }
    assert_eq!(
        passwords.pending(),
        threads,
        "the given-up guess gave its place in the queue back"
    );

    // Had it counted, the account would now wait for a second (the clock stands still), and a
    // sixth guess would be throttled; it is let through to the check instead. The fifth is
    // taken back on a task of its own: until then a guess may be throttled (which counts
    // nothing; its store transaction lets that task run), and is made again.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let next = pin!(guess());
        match poll_until_queued(next, || passwords.pending() == threads + 1).await {
            None => break,
            Some(Ok(Verdict::Throttled(_))) => {
                assert!(Instant::now() < deadline, "the given-up guess stayed counted");
            }
            Some(other) => panic!("a guess cannot be checked while the threads are busy: {other:?}"),
        }
    }
    drop(holders);
}

#[tokio::test]
async fn a_burst_through_the_login_form_is_counted_as_it_arrives_too() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    let guesses = (0..60).map(|n| {
        let request = app.call_from(&app.other_browser(), Login::PATH);
        async move {
            request
                .form(&[
                    ("username", "johndoe"),
                    ("password", format!("wrong {n}").as_str()),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let statuses = futures::future::join_all(guesses).await;
    assert_eq!(
        statuses.iter().filter(|&&status| status == 401).count(),
        FREE_PER_ACCOUNT,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|&status| matches!(status, 401 | 429)),
        "{statuses:?}"
    );
}

/// A server whose client addresses come from `X-Forwarded-For`, so one test can play an
/// attacker and the account's owner at different addresses.
async fn spawn_behind_a_proxy() -> TestApp {
    let data = TestData::new().await;
    let mut settings = data.settings();
    settings.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    spawn_app_with(settings, data).await
}

async fn form_sign_in_from(
    app: &TestApp,
    browser: &reqwest::Client,
    address: &str,
    password: &str,
) -> reqwest::Response {
    app.call_from(browser, Login::PATH)
        .header("x-forwarded-for", address)
        .form(&[("username", "johndoe"), ("password", password)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_attacker_flooding_an_account_cannot_lock_its_owner_out() {
    let app = spawn_behind_a_proxy().await;
    app.add_user("johndoe").await;
    let owner = app.other_browser();
    let signed_in = form_sign_in_from(&app, &owner, "198.51.100.7", PASSWORD).await;
    assert_eq!(signed_in.status(), 200);
    let device = set_cookies(&signed_in);
    assert!(
        device
            .iter()
            .any(|cookie| cookie.starts_with("gatehouse_device=v1:johndoe:") && cookie.contains("HttpOnly")),
        "{device:?}"
    );

    // The attacker keeps the account waiting, from elsewhere.
    let attacker = app.other_browser();
    let mut attacker_statuses = Vec::new();
    for n in 0..12 {
        let guess = format!("guess {n}");
        attacker_statuses.push(
            form_sign_in_from(&app, &attacker, "203.0.113.9", &guess)
                .await
                .status()
                .as_u16(),
        );
    }
    assert!(attacker_statuses.ends_with(&[429, 429]), "{attacker_statuses:?}");
    assert_eq!(
        form_sign_in_from(&app, &app.other_browser(), "192.0.2.1", PASSWORD)
            .await
            .status(),
        429,
        "a browser without the device cookie waits with the strangers"
    );

    // The owner's browser, with its device cookie, signs in at the first try.
    assert_eq!(
        form_sign_in_from(&app, &owner, "198.51.100.7", PASSWORD)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn a_forged_or_foreign_device_cookie_counts_as_a_stranger() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    app.add_user("mallory").await;
    let mallory = app.other_browser();
    let mallorys_device = set_cookies(
        &app.call_from(&mallory, Login::PATH)
            .form(&[("username", "mallory"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap(),
    )
    .into_iter()
    .find_map(|cookie| {
        cookie
            .strip_prefix("gatehouse_device=")
            .map(|rest| rest.split(';').next().unwrap().to_owned())
    })
    .unwrap();
    let forged = mallorys_device.replacen("mallory", "johndoe", 1);
    for n in 0..FREE_PER_ACCOUNT {
        wrong_token_guess(&app, &app.other_browser(), "johndoe", n).await;
    }
    for cookie in [mallorys_device, forged] {
        let response = app
            .call_from(&app.other_browser(), Login::PATH)
            .header("cookie", format!("gatehouse_device={cookie}"))
            .form(&[("username", "johndoe"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 429, "{cookie}");
    }
}

#[tokio::test]
async fn the_sixth_wrong_current_password_in_a_row_is_throttled() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    app.sign_in("johndoe", PASSWORD, None).await;
    let app = &app;
    let change = |current: String| async move {
        app.call::<ChangePassword>(&[
            ("current_password", current.as_str()),
            ("new_password", "a brand new passphrase"),
            ("confirm_password", "a brand new passphrase"),
        ])
        .await
    };
    for n in 0..5 {
        assert_eq!(change(format!("wrong current {n}")).await.status(), 400);
    }
    let sixth = change("wrong current 6".into()).await;
    assert_eq!(sixth.status(), 429);
    assert!(sixth.headers().contains_key("retry-after"));
    assert_eq!(
        change(PASSWORD.into()).await.status(),
        429,
        "even the right one, until the wait ends"
    );
    app.clock.advance(Duration::from_secs(1));
    assert_eq!(change(PASSWORD.into()).await.status(), 200);
}

#[tokio::test]
async fn a_bad_scope_never_resets_the_failure_count() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    for n in 0..4 {
        assert_eq!(wrong_token_guess(&app, &app.client, "johndoe", n).await, 400);
    }
    // The right password with a scope this user may not hold: refused, and nothing forgotten.
    let admin = app
        .token(&[
            ("grant_type", "password"),
            ("username", "johndoe"),
            ("password", PASSWORD),
            ("scope", "admin"),
        ])
        .await;
    assert_eq!(admin.json::<Value>().await.unwrap()["error"], "invalid_scope");
    assert_eq!(
        wrong_token_guess(&app, &app.client, "johndoe", 4).await,
        400,
        "the fifth failure"
    );
    assert_eq!(
        wrong_token_guess(&app, &app.client, "johndoe", 5).await,
        429,
        "then the wait"
    );
}

#[tokio::test]
async fn a_malformed_grant_is_refused_before_the_password_is_checked() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    for _ in 0..10 {
        let unknown_scope = app
            .token(&[
                ("grant_type", "password"),
                ("username", "johndoe"),
                ("password", "wrong"),
                ("scope", "root"),
            ])
            .await;
        assert_eq!(
            unknown_scope.json::<Value>().await.unwrap()["error"],
            "invalid_scope"
        );
    }
    assert_eq!(
        app.password_grant("johndoe").await["scope"],
        "me items",
        "nothing was counted"
    );
}

#[tokio::test]
async fn a_hash_with_weaker_parameters_is_replaced_at_the_next_sign_in() {
    use argon2::password_hash::{PasswordHasher as _, SaltString};
    let app = spawn_app().await;
    let weak = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(8 * 1024, 1, 1, None).unwrap(),
    )
    .hash_password(
        PASSWORD.as_bytes(),
        &SaltString::encode_b64(b"sixteen byte salt").unwrap(),
    )
    .unwrap()
    .to_string();
    let user = app
        .state
        .store
        .create_user(&NewUser {
            username: Username::parse("olduser").unwrap(),
            full_name: Some(FullName::parse("Old User").unwrap()),
            email: None,
            password_hash: PasswordHash::from_stored(weak.clone()),
            admin: false,
            disabled: false,
        })
        .await
        .unwrap();
    assert!(user.password_hash().needs_rehash());

    assert_eq!(
        location(&app.sign_in("olduser", PASSWORD, None).await),
        "/dashboard"
    );

    let stored = app
        .state
        .store
        .find_user(&Username::parse("olduser").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_ne!(stored.password_hash().as_str(), weak);
    assert!(
        !stored.password_hash().needs_rehash(),
        "now hashed with the current parameters"
    );
    assert_eq!(
        app.password_grant("olduser").await["token_type"],
        "bearer",
        "and the password still works"
    );
}

#[tokio::test]
async fn a_stolen_spent_refresh_token_is_recognised_long_after_the_purge() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    let stolen = app.password_grant("johndoe").await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let rightful: Value = app.refresh(&stolen).await.json().await.unwrap();

    app.clock.advance(Duration::from_secs(7 * 24 * 3600));
    app.state.store.purge(app.clock.now()).await.unwrap();
    let replay = app.refresh(&stolen).await;

    assert_eq!(replay.json::<Value>().await.unwrap()["error"], "invalid_grant");
    assert_eq!(
        app.refresh(rightful["refresh_token"].as_str().unwrap())
            .await
            .status(),
        400,
        "the replay ended the whole session"
    );
}

#[tokio::test]
async fn a_refused_refresh_spends_nothing_and_the_retry_works() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    let refresh_token = app.password_grant("johndoe").await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    for scope in ["root", "admin", "me admin"] {
        let refused = app
            .token(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh_token),
                ("scope", scope),
            ])
            .await;
        assert_eq!(
            refused.json::<Value>().await.unwrap()["error"],
            "invalid_scope",
            "{scope}"
        );
    }
    app.clock.advance(Duration::from_secs(60));

    let retry = app.refresh(&refresh_token).await;
    assert_eq!(retry.status(), 200, "not taken for a replay");
    let tokens: Value = retry.json().await.unwrap();
    assert_eq!(
        app.api("/api/users/me", tokens["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn a_program_token_in_the_browser_cookies_unlocks_no_server_function() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    let grant: Value = app
        .token(&[
            ("grant_type", "password"),
            ("username", "johndoe"),
            ("password", PASSWORD),
            ("scope", "items"),
        ])
        .await
        .json()
        .await
        .unwrap();
    let access = grant["access_token"].as_str().unwrap();
    let refresh = grant["refresh_token"].as_str().unwrap();
    let call = |path: &'static str, cookie: String| {
        let app = &app;
        async move {
            app.call_from(&app.other_browser(), path)
                .header("cookie", cookie)
                .form(&[
                    ("current_password", PASSWORD),
                    ("new_password", "a brand new passphrase"),
                    ("confirm_password", "a brand new passphrase"),
                    ("id", "x"),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    for cookie in [
        format!("gatehouse_access={access}"),
        format!("gatehouse_refresh={refresh}"),
    ] {
        for path in [
            ListSessions::PATH,
            RevokeOtherSessions::PATH,
            RevokeSession::PATH,
            ChangePassword::PATH,
        ] {
            assert_eq!(
                call(path, cookie.clone()).await.status(),
                401,
                "{path} with {cookie}"
            );
        }
        let me: Value = call(CurrentUser::PATH, cookie.clone())
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(me, Value::Null, "{cookie}");
        let page = app
            .other_browser()
            .get(format!("{}/dashboard", app.address))
            .header("cookie", cookie.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 303, "{cookie}");
    }
    assert_eq!(
        app.refresh(refresh).await.status(),
        200,
        "the program's refresh token was not spent"
    );
}

#[tokio::test]
async fn a_password_change_ends_the_changing_sessions_old_tokens_too() {
    let app = spawn_app().await;
    let user = app.add_user("johndoe").await;
    let signed_in = app.sign_in("johndoe", PASSWORD, None).await;
    let stolen = set_cookies(&signed_in)
        .iter()
        .filter(|cookie| cookie.starts_with("gatehouse_access=") || cookie.starts_with("gatehouse_refresh="))
        .map(|cookie| cookie.split(';').next().unwrap().to_owned())
        .collect::<Vec<_>>();
    let old_session = app.live_sessions(user.id).await[0].id.clone();

    let changed = app
        .call::<ChangePassword>(&[
            ("current_password", PASSWORD),
            ("new_password", "a brand new passphrase"),
            ("confirm_password", "a brand new passphrase"),
        ])
        .await;
    assert_eq!(changed.status(), 200);
    assert!(!access_token(&changed).is_empty(), "new tokens for this browser");

    assert_eq!(
        app.get_page("/dashboard").await.status(),
        200,
        "this browser stays signed in"
    );
    let live = app.live_sessions(user.id).await;
    assert_eq!(live.len(), 1);
    assert_ne!(live[0].id, old_session, "under a new session id");
    for cookie in &stolen {
        let response = app
            .other_browser()
            .get(format!("{}/dashboard", app.address))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "the old {cookie} is worthless");
    }
}

#[tokio::test]
async fn a_loop_of_password_grants_cannot_hold_more_than_the_session_cap() {
    let data = TestData::new().await;
    let mut settings = data.settings();
    settings.max_sessions_per_user = 3;
    let app = spawn_app_with(settings, data).await;
    let user = app.add_user("johndoe").await;
    let mut grants = Vec::new();
    for _ in 0..5 {
        grants.push(app.password_grant("johndoe").await);
        app.clock.advance(Duration::from_secs(1));
    }
    assert_eq!(app.live_sessions(user.id).await.len(), 3);
    for (n, grant) in grants.iter().enumerate() {
        let status = app
            .api("/api/users/me", grant["access_token"].as_str().unwrap())
            .await
            .status();
        assert_eq!(
            status,
            if n < 2 { 401 } else { 200 },
            "grant {n}: the oldest ended first"
        );
    }

    app.sign_in("johndoe", PASSWORD, None).await;
    let listed: Vec<Value> = app.call::<ListSessions>(&[]).await.json().await.unwrap();
    assert_eq!(listed.len(), 3, "the list shows only live sessions");
}

#[tokio::test]
async fn nothing_personal_may_be_kept_by_a_cache() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    let token = app.bearer_token("johndoe").await;
    for path in ["/api/users/me", "/api/users/me/items"] {
        assert_eq!(
            app.api(path, &token).await.headers()["cache-control"],
            "no-store",
            "{path}"
        );
    }
    app.sign_in("johndoe", PASSWORD, None).await;
    for path in ["/dashboard", "/profile", "/login"] {
        assert_eq!(
            app.get_page(path).await.headers()["cache-control"],
            "no-store",
            "{path}"
        );
    }
    let listed = app.call::<ListSessions>(&[]).await;
    assert_eq!(listed.headers()["cache-control"], "no-store");
    let refused = app.api("/api/users/me", "garbage").await;
    assert_eq!(refused.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn parameters_without_a_value_are_omitted_and_repeated_ones_are_invalid() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    let empty_scope: Value = app
        .token(&[
            ("grant_type", "password"),
            ("username", "johndoe"),
            ("password", PASSWORD),
            ("scope", ""),
        ])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(empty_scope["scope"], "me items", "scope= asks for every scope");
    let refresh = empty_scope["refresh_token"].as_str().unwrap();
    let refreshed = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("scope", ""),
        ])
        .await;
    assert_eq!(refreshed.status(), 200);

    let repeated = app
        .token(&[
            ("grant_type", "password"),
            ("username", "johndoe"),
            ("username", "johndoe"),
            ("password", PASSWORD),
        ])
        .await;
    assert_eq!(
        repeated.json::<Value>().await.unwrap()["error"],
        "invalid_request"
    );
    let no_username = app
        .token(&[
            ("grant_type", "password"),
            ("username", ""),
            ("password", PASSWORD),
        ])
        .await;
    assert_eq!(
        no_username.json::<Value>().await.unwrap()["error"],
        "invalid_request"
    );
}

/// Sends `GET path` exactly as written (an HTTP client would tidy the path first); returns the
/// status and the `Location` header.
async fn raw_get(app: &TestApp, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/html\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    let status = answer.split(' ').nth(1).unwrap_or_default().parse().unwrap_or(0);
    let location = answer
        .lines()
        .find_map(|line| line.strip_prefix("location: "))
        .unwrap_or_default()
        .to_owned();
    (status, location)
}

#[tokio::test]
async fn no_spelling_of_a_protected_path_is_rendered_for_a_visitor() {
    let app = spawn_app().await;
    for path in [
        "/./dashboard",
        "//dashboard",
        "/dashboard/",
        "/%64ashboard",
        "/DASHBOARD",
        "/dashboard;x",
        "/login/../dashboard",
        "/%2e/dashboard",
        "/./profile",
        "/Profile/",
    ] {
        let (status, location) = raw_get(&app, path).await;
        assert!(
            status == 404 || (status == 303 && location.starts_with("/login?next=")),
            "{path}: {status} {location}"
        );
    }
    assert_eq!(
        raw_get(&app, "/login").await.0,
        200,
        "the raw requests themselves are sound"
    );
}

/// Everything the application logs in this test process, from the first call on.
fn captured_logs() -> std::sync::Arc<std::sync::Mutex<Vec<u8>>> {
    use std::sync::{Arc, Mutex, OnceLock};
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        let writer = move || LogSink(sink.clone());
        tracing::subscriber::set_global_default(
            tracing_subscriber::fmt()
                .with_max_level(tracing::Level::INFO)
                .with_ansi(false)
                .with_writer(writer)
                .finish(),
        )
        .expect("no other test installs a global subscriber");
        logs
    })
    .clone()
}

struct LogSink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogSink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_username_with_line_breaks_cannot_forge_a_log_line() {
    let logs = captured_logs();
    let app = spawn_app().await;
    let forged = "eve\n2026-12-02T00:00:00.000000Z  INFO forged: signed in user_id=1\r\u{1b}[2K\u{7}";
    app.call::<Login>(&[("username", forged), ("password", "wrong password")])
        .await;
    app.token(&[
        ("grant_type", "password"),
        ("username", forged),
        ("password", "wrong password"),
    ])
    .await;

    let logs = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(
        logs.contains(r#"eve\n2026-12-02"#),
        "the name is logged, escaped: {logs}"
    );
    assert!(
        !logs
            .lines()
            .any(|line| line.starts_with("2026-12-02T00:00:00.000000Z  INFO forged")),
        "no forged line"
    );
    assert!(
        !logs.contains('\u{1b}') && !logs.contains('\u{7}'),
        "no terminal control characters"
    );
}

#[tokio::test]
async fn hostile_bodies_sent_to_every_server_function_are_never_a_server_error() {
    let app = spawn_app().await;
    app.add_user("johndoe").await;
    let garbage: String = (0..10_000).map(|n| char::from(b'!' + (n % 90) as u8)).collect();
    let bodies: Vec<String> = vec![
        String::new(),
        "=".into(),
        "&&&".into(),
        "username".into(),
        "username=johndoe".into(),
        "username=johndoe&username=alice&password=x&password=y".into(),
        "remember[]=on&username[x]=1&password=2".into(),
        "current_password=%FF%FE&new_password=%00&confirm_password=%C3%28".into(),
        "id=&id=".into(),
        "%zz=%zz".into(),
        garbage,
    ];
    let paths = [
        Login::PATH,
        CurrentUser::PATH,
        ChangePassword::PATH,
        ListSessions::PATH,
        RevokeSession::PATH,
        RevokeOtherSessions::PATH,
        // Last: a body it ignores still signs out.
        gatehouse::api::Logout::PATH,
    ];
    for signed_in in [false, true] {
        if signed_in {
            app.sign_in("johndoe", PASSWORD, None).await;
        }
        for path in paths {
            for body in &bodies {
                let response = app
                    .call_from(&app.client, path)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                let text = response.text().await.unwrap();
                assert!(
                    status < 500,
                    "{path} with {:?}: {status} {text}",
                    &body[..body.len().min(60)]
                );
                assert!(text.len() < 300, "a short answer: {text}");
            }
        }
    }
}

#[tokio::test]
async fn a_link_cannot_make_the_login_page_say_what_an_attacker_wants() {
    use base64::Engine;
    let app = spawn_app().await;
    let planted = [
        r#"{"Invalid":"Your account is locked. Call +1 555 0100 to restore it"}"#,
        r#"{"Internal":{"request_id":"Call +1 555 0100 to restore it"}}"#,
        r#"{"Unavailable":{"request_id":"Call +1 555 0100 to restore it"}}"#,
    ];
    for error in planted {
        let err = base64::engine::general_purpose::URL_SAFE.encode(error);
        let query = serde_urlencoded::to_string([("__path", Login::PATH), ("__err", err.as_str())]).unwrap();
        let page = app
            .get_page(&format!("/login?{query}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("Sign in"), "the page renders");
        assert!(!page.contains("555 0100"), "{error} shows up in: {page}");
    }
    // The real error of a failed plain form post still shows.
    let failed = app.sign_in("nobody", "wrong password", None).await;
    let page = app
        .get_page(&location(&failed).replace(&app.address, ""))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Incorrect username or password."), "{page}");
}
