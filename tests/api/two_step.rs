//! Two-step sign-in: TOTP codes computed here as an authenticator app would, with the server's
//! clock moved instead of waiting; recovery codes; the password grant; removal by the CLI and
//! by an administrator. Each rule as the attack it stops.

use gatehouse::api::{
    ActOnUser, BeginTwoStep, ConfirmTwoStep, FinishSignIn, Login, NewRecoveryCodes, TurnOffTwoStep,
    TwoStepStatus,
};
use gatehouse::domain::Username;
use serde_json::{Value, json};
use std::time::Duration;
use totp_rs::Totp;

use gatehouse::server::store::AuditQuery;

use crate::helpers::{
    PASSWORD, TestApp, call, current_user, error_of, location, set_cookies, signed_in, spawn_app, stderr,
    stdout,
};

const STEP: Duration = Duration::from_secs(30);

/// The code `totp` shows `steps` steps from the server's now.
fn code(app: &TestApp, totp: &Totp, steps: i64) -> String {
    let at = app.clock.now().unix_timestamp() + steps * 30;
    totp.generate(u64::try_from(at).unwrap()).to_string()
}

/// Turns two-step sign-in on from `browser`: the app's TOTP (read from the QR code's URI) and
/// the recovery codes shown.
async fn turn_on(app: &TestApp, browser: &reqwest::Client) -> (Totp, Vec<String>) {
    let begun = call::<BeginTwoStep>(app, browser, &[("password", PASSWORD)]).await;
    assert_eq!(begun.status(), 200);
    let enrolment: Value = begun.json().await.unwrap();
    let uri = enrolment["uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/Gatehouse:"), "{uri}");
    assert!(enrolment["qr_svg"].as_str().unwrap().starts_with("<svg"));
    let totp = Totp::from_url_unchecked(uri).unwrap();
    assert_eq!(
        enrolment["secret"].as_str().unwrap().replace(' ', ""),
        totp.secret().to_base32(),
        "the key to type in is the QR code's"
    );
    let confirmed = call::<ConfirmTwoStep>(app, browser, &[("code", &code(app, &totp, 0))]).await;
    assert_eq!(confirmed.status(), 200);
    let codes: Vec<String> = confirmed.json().await.unwrap();
    (totp, codes)
}

/// The password step in a new browser: it must lead to the code page and start no session.
async fn password_step(app: &TestApp, username: &str) -> reqwest::Client {
    let browser = app.other_browser();
    let response = app
        .post_form_from::<Login>(&browser, &[("username", username), ("password", PASSWORD)])
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/login/code");
    let cookies = set_cookies(&response);
    assert!(
        cookies
            .iter()
            .all(|cookie| !cookie.starts_with("gatehouse_access=")
                && !cookie.starts_with("gatehouse_refresh=")),
        "no session before the code: {cookies:?}"
    );
    assert!(
        cookies
            .iter()
            .any(|cookie| cookie.starts_with("gatehouse_second_step=") && cookie.contains("HttpOnly"))
    );
    browser
}

async fn finish(app: &TestApp, browser: &reqwest::Client, code: &str) -> reqwest::Response {
    app.post_form_from::<FinishSignIn>(browser, &[("code", code)])
        .await
}

#[tokio::test]
async fn with_two_step_sign_in_a_stolen_password_alone_opens_nothing() {
    let app = spawn_app().await;
    app.add_user("alice").await;
    let owner = signed_in(&app, "alice").await;
    let (totp, codes) = turn_on(&app, &owner).await;
    assert_eq!(codes.len(), 10);

    // The attacker has the password: the answer is the code page, and the half-finished
    // sign-in's cookie opens no page and no server function.
    let attacker = password_step(&app, "alice").await;
    assert_eq!(current_user(&app, &attacker).await, Value::Null);
    let dashboard = attacker
        .get(format!("{}/dashboard", app.address))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert!(dashboard.status().is_redirection());
    assert!(location(&dashboard).starts_with("/login"));
    let (status, body) = error_of(call::<TwoStepStatus>(&app, &attacker, &[]).await).await;
    assert_eq!((status, body), (401, json!("SignInRequired")));

    // Guessing: wrong codes are refused and throttled like passwords: after five, even the
    // right code (the next step's, as the current one turned it on) must wait.
    let window: Vec<String> = (-1..=1).map(|steps| code(&app, &totp, steps)).collect();
    let guesses = (0..100)
        .map(|n| format!("{:06}", n * 10_101))
        .filter(|guess| !window.contains(guess))
        .take(5);
    for guess in guesses {
        let (status, body) = error_of(call::<FinishSignIn>(&app, &attacker, &[("code", &guess)]).await).await;
        assert_eq!((status, body), (400, json!({"Invalid": "CodeWrong"})));
    }
    let response = call::<FinishSignIn>(&app, &attacker, &[("code", &code(&app, &totp, 1))]).await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "1");
    assert_eq!(current_user(&app, &attacker).await, Value::Null);
    // A second later the right code goes through: the wait slows guessing, it locks no one out.
    app.clock.advance(Duration::from_secs(1));
    let done = finish(&app, &attacker, &code(&app, &totp, 1)).await;
    assert_eq!(location(&done), "/dashboard");
    assert_eq!(current_user(&app, &attacker).await["username"], "alice");
}

#[tokio::test]
async fn the_code_finishes_the_sign_in_once_and_cannot_be_replayed() {
    let app = spawn_app().await;
    app.add_user("alice").await;
    let owner = signed_in(&app, "alice").await;
    let (totp, _) = turn_on(&app, &owner).await;

    // The code that turned it on is spent: the same step's code is refused.
    let browser = password_step(&app, "alice").await;
    let (status, body) =
        error_of(call::<FinishSignIn>(&app, &browser, &[("code", &code(&app, &totp, 0))]).await).await;
    assert_eq!((status, body), (400, json!({"Invalid": "CodeWrong"})));

    // The next step's code signs in, where the password step was going.
    app.clock.advance(STEP);
    let browser = app.other_browser();
    let response = app
        .post_form_from::<Login>(
            &browser,
            &[
                ("username", "alice"),
                ("password", PASSWORD),
                ("next", "/profile"),
                ("remember", "on"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/login/code");
    let now = code(&app, &totp, 0);
    let done = finish(&app, &browser, &now).await;
    assert_eq!(done.status(), 303);
    assert_eq!(location(&done), "/profile");
    let cookies = set_cookies(&done);
    assert!(
        cookies
            .iter()
            .any(|cookie| cookie.starts_with("gatehouse_access=") && cookie.contains("Max-Age")),
        "kept signed in as ticked: {cookies:?}"
    );
    assert!(
        cookies
            .iter()
            .any(|cookie| cookie.starts_with("gatehouse_second_step=;")),
        "{cookies:?}"
    );
    assert_eq!(current_user(&app, &browser).await["username"], "alice");

    // Someone who watched the code type it in another browser, within the same 30 seconds.
    let watcher = password_step(&app, "alice").await;
    let (status, body) = error_of(call::<FinishSignIn>(&app, &watcher, &[("code", &now)]).await).await;
    assert_eq!((status, body), (400, json!({"Invalid": "CodeWrong"})));
    // A finished sign-in cannot be finished again.
    let (status, body) =
        error_of(call::<FinishSignIn>(&app, &browser, &[("code", &code(&app, &totp, 1))]).await).await;
    assert_eq!((status, body), (400, json!({"Invalid": "SecondStepExpired"})));
}

#[tokio::test]
async fn codes_one_step_either_side_of_now_are_accepted_and_farther_ones_are_not() {
    let app = spawn_app().await;
    app.add_user("alice").await;
    let owner = signed_in(&app, "alice").await;
    let (totp, _) = turn_on(&app, &owner).await;
    app.clock.advance(STEP * 10);

    for far in [-2, 2, 5] {
        let browser = password_step(&app, "alice").await;
        let (status, _) =
            error_of(call::<FinishSignIn>(&app, &browser, &[("code", &code(&app, &totp, far))]).await).await;
        assert_eq!(status, 400, "{far} steps away");
    }
    // A phone a little behind, then one a little ahead.
    let browser = password_step(&app, "alice").await;
    assert_eq!(
        location(&finish(&app, &browser, &code(&app, &totp, -1)).await),
        "/dashboard"
    );
    let browser = password_step(&app, "alice").await;
    assert_eq!(
        location(&finish(&app, &browser, &code(&app, &totp, 1)).await),
        "/dashboard"
    );
    // Having taken the code of the step ahead, the current one is older: refused.
    let browser = password_step(&app, "alice").await;
    let (status, _) =
        error_of(call::<FinishSignIn>(&app, &browser, &[("code", &code(&app, &totp, 0))]).await).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_half_finished_sign_in_lasts_five_minutes_and_ends_when_the_account_is_disabled() {
    let app = spawn_app().await;
    app.add_user("alice").await;
    let owner = signed_in(&app, "alice").await;
    let (totp, _) = turn_on(&app, &owner).await;

    let slow = password_step(&app, "alice").await;
    app.clock.advance(Duration::from_secs(5 * 60 + 1));
    let (status, body) =
        error_of(call::<FinishSignIn>(&app, &slow, &[("code", &code(&app, &totp, 0))]).await).await;
    assert_eq!((status, body), (400, json!({"Invalid": "SecondStepExpired"})));

    app.clock.advance(STEP);
    let browser = password_step(&app, "alice").await;
    app.state
        .store
        .set_disabled(&Username::parse("alice").unwrap(), true)
        .await
        .unwrap();
    let (status, body) =
        error_of(call::<FinishSignIn>(&app, &browser, &[("code", &code(&app, &totp, 0))]).await).await;
    assert_eq!((status, body), (401, json!("InvalidCredentials")));
    assert_eq!(current_user(&app, &browser).await, Value::Null);

    // No cookie at all: nothing to finish.
    let (status, body) =
        error_of(call::<FinishSignIn>(&app, &app.other_browser(), &[("code", "123456")]).await).await;
    assert_eq!((status, body), (400, json!({"Invalid": "SecondStepExpired"})));
}

#[tokio::test]
async fn a_recovery_code_signs_in_once_and_the_profile_says_how_many_are_left() {
    let app = spawn_app().await;
    app.add_user("alice").await;
    let owner = signed_in(&app, "alice").await;
    let (_, codes) = turn_on(&app, &owner).await;
    assert!(
        codes
            .iter()
            .all(|code| code.len() == 14 && code.matches('-').count() == 2),
        "{codes:?}"
    );

    let browser = password_step(&app, "alice").await;
    // Typed in capitals, as read off paper.
    let done = finish(&app, &browser, &codes[3].to_uppercase()).await;
    assert_eq!(location(&done), "/profile?notice=recovery_code_used");
    let status: Value = call::<TwoStepStatus>(&app, &browser, &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["recovery_codes_left"], 9);

    let thief = password_step(&app, "alice").await;
    let (status, body) = error_of(call::<FinishSignIn>(&app, &thief, &[("code", &codes[3])]).await).await;
    assert_eq!((status, body), (400, json!({"Invalid": "CodeWrong"})));

    // New codes replace the old ones; the password is asked first.
    let (status, _) =
        error_of(call::<NewRecoveryCodes>(&app, &browser, &[("password", "not it")]).await).await;
    assert_eq!(status, 400);
    let renewed: Vec<String> = call::<NewRecoveryCodes>(&app, &browser, &[("password", PASSWORD)])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(renewed.len(), 10);
    let late = password_step(&app, "alice").await;
    let (status, _) = error_of(call::<FinishSignIn>(&app, &late, &[("code", &codes[4])]).await).await;
    assert_eq!(status, 400, "an old code no longer works");
    assert_eq!(
        location(&finish(&app, &late, &renewed[0]).await),
        "/profile?notice=recovery_code_used"
    );
}

#[tokio::test]
async fn the_password_grant_never_skips_the_second_factor() {
    let app = spawn_app().await;
    app.add_user("alice").await;
    let owner = signed_in(&app, "alice").await;
    let (totp, codes) = turn_on(&app, &owner).await;
    app.clock.advance(STEP);

    let grant = |otp: Option<String>| {
        let mut form = vec![
            ("grant_type", "password".to_owned()),
            ("username", "alice".to_owned()),
            ("password", PASSWORD.to_owned()),
        ];
        if let Some(otp) = otp {
            form.push(("otp", otp));
        }
        app.token_request(&app.client).form(&form).send()
    };
    let without = grant(None).await.unwrap();
    assert_eq!(without.status(), 400);
    let body: Value = without.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    assert!(
        body["error_description"].as_str().unwrap().contains("otp"),
        "{body}"
    );

    let wrong = grant(Some("000000".into())).await.unwrap();
    assert_eq!(wrong.status(), 400);

    let right = grant(Some(code(&app, &totp, 0))).await.unwrap();
    assert_eq!(right.status(), 200);
    let replayed = grant(Some(code(&app, &totp, 0))).await.unwrap();
    assert_eq!(replayed.status(), 400, "the same code twice");

    assert_eq!(grant(Some(codes[0].clone())).await.unwrap().status(), 200);
    assert_eq!(grant(Some(codes[0].clone())).await.unwrap().status(), 400);

    // A wrong password with a right code is just a wrong password.
    let form = [
        ("grant_type", "password"),
        ("username", "alice"),
        ("password", "wrong password"),
        ("otp", &codes[1]),
    ];
    let refused: Value = app.token(&form).await.json().await.unwrap();
    assert_eq!(
        refused["error_description"],
        "The credentials or the refresh token are not valid."
    );
}

#[tokio::test]
async fn turning_it_on_and_off_takes_the_password_and_a_secret_is_stored_sealed() {
    let app = spawn_app().await;
    let alice = app.add_user("alice").await;
    let browser = signed_in(&app, "alice").await;

    // A stolen session cannot add the thief's phone without the password.
    let (status, body) = error_of(call::<BeginTwoStep>(&app, &browser, &[("password", "guess")]).await).await;
    assert_eq!((status, body), (400, json!("WrongCurrentPassword")));
    // Nor confirm before beginning.
    let (status, body) = error_of(call::<ConfirmTwoStep>(&app, &browser, &[("code", "123456")]).await).await;
    assert_eq!((status, body), (400, json!({"Invalid": "TwoStepNotBegun"})));

    let begun: Value = call::<BeginTwoStep>(&app, &browser, &[("password", PASSWORD)])
        .await
        .json()
        .await
        .unwrap();
    let totp = Totp::from_url_unchecked(begun["uri"].as_str().unwrap()).unwrap();
    // A wrong first code leaves it off.
    let wrong = if code(&app, &totp, 0) == "000000" {
        "000001"
    } else {
        "000000"
    };
    let (status, _) = error_of(call::<ConfirmTwoStep>(&app, &browser, &[("code", wrong)]).await).await;
    assert_eq!(status, 400);
    assert!(!app.state.store.has_second_factor(alice.id).await.unwrap());
    let codes: Vec<String> = call::<ConfirmTwoStep>(&app, &browser, &[("code", &code(&app, &totp, 0))])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(codes.len(), 10);
    assert!(app.state.store.has_second_factor(alice.id).await.unwrap());

    let stored = app.state.store.totp_factor(alice.id).await.unwrap().unwrap();
    let secret = totp.secret().to_vec();
    assert!(!stored.secret_sealed.contains(&totp.secret().to_base32()));
    let sealed =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &stored.secret_sealed).unwrap();
    assert!(
        !sealed.windows(secret.len()).any(|window| window == secret),
        "the secret is not stored in the clear"
    );

    let (status, body) =
        error_of(call::<TurnOffTwoStep>(&app, &browser, &[("password", "guess")]).await).await;
    assert_eq!((status, body), (400, json!("WrongCurrentPassword")));
    assert_eq!(
        call::<TurnOffTwoStep>(&app, &browser, &[("password", PASSWORD)])
            .await
            .status(),
        200
    );
    let response = app
        .post_form_from::<Login>(
            &app.other_browser(),
            &[("username", "alice"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(location(&response), "/dashboard", "the password alone again");
}

#[tokio::test]
async fn an_administrator_removes_a_lost_second_factor_and_the_persons_sessions_end() {
    let app = spawn_app().await;
    app.add_admin("root").await;
    let alice = app.add_user("alice").await;
    let owner = signed_in(&app, "alice").await;
    turn_on(&app, &owner).await;
    let admin = signed_in(&app, "root").await;

    let response = call::<ActOnUser>(
        &app,
        &admin,
        &[("username", "alice"), ("action", "reset_two_step")],
    )
    .await;
    assert_eq!(response.status(), 200);
    assert!(!app.state.store.has_second_factor(alice.id).await.unwrap());
    assert_eq!(
        current_user(&app, &owner).await,
        Value::Null,
        "her sessions ended"
    );
    let response = app
        .post_form_from::<Login>(
            &app.other_browser(),
            &[("username", "alice"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(location(&response), "/dashboard");
    assert_eq!(two_step_resets(&app).await, 1);
}

#[tokio::test]
async fn the_admin_api_removes_a_second_factor_too() {
    let app = spawn_app().await;
    app.add_admin("root").await;
    let alice = app.add_user("alice").await;
    let owner = signed_in(&app, "alice").await;
    turn_on(&app, &owner).await;
    let token = app.bearer_token("root").await;

    let removed = app
        .client
        .delete(format!("{}/api/admin/users/ALICE/two-step", app.address))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 204);
    assert!(!app.state.store.has_second_factor(alice.id).await.unwrap());
    assert_eq!(
        current_user(&app, &owner).await,
        Value::Null,
        "her sessions ended"
    );
    assert_eq!(two_step_resets(&app).await, 1);

    // Not an administrator's token: refused, and nothing changes.
    let alice_token = app.bearer_token("alice").await;
    let refused = app
        .client
        .delete(format!("{}/api/admin/users/root/two-step", app.address))
        .bearer_auth(&alice_token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
}

async fn two_step_resets(app: &TestApp) -> usize {
    let trail = app
        .state
        .store
        .audit_events(&AuditQuery {
            action: Some("two_step_reset".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    trail.events.len()
}

#[tokio::test]
async fn gatehouse_user_reset_mfa_removes_it_and_ends_the_sessions() {
    let app = spawn_app().await;
    let alice = app.add_user("alice").await;
    let owner = signed_in(&app, "alice").await;
    turn_on(&app, &owner).await;

    let output = app.data.gatehouse(&["user", "reset-mfa", "alice"], "");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output)
            .starts_with("Removed the two-step sign-in and passkeys of alice; their sessions have ended.")
    );
    assert!(!app.state.store.has_second_factor(alice.id).await.unwrap());
    assert_eq!(
        current_user(&app, &owner).await,
        Value::Null,
        "her sessions ended"
    );
    assert_eq!(two_step_resets(&app).await, 1);

    // Without one, it still signs the person out everywhere (the contract's "and ends their
    // sessions"), and says there was nothing to remove.
    let browser = signed_in(&app, "alice").await;
    let again = app.data.gatehouse(&["user", "reset-mfa", "alice"], "");
    assert_eq!(
        stdout(&again),
        "alice had no two-step sign-in or passkey; their sessions have ended all the same.\n"
    );
    assert_eq!(current_user(&app, &browser).await, Value::Null);
    assert_eq!(
        two_step_resets(&app).await,
        1,
        "nothing was removed the second time"
    );
    let unknown = app.data.gatehouse(&["user", "reset-mfa", "nobody"], "");
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("nobody"), "{}", stderr(&unknown));
}
