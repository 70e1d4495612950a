//! Mail and what it unlocks: forgotten passwords, address checks and sign-up, sent through real
//! SMTP to the sink `make test` starts (maildev: `GATEHOUSE_TEST_SMTP` to send to,
//! `GATEHOUSE_TEST_MAILBOX` to read back what arrived), each test with addresses of its own.

use std::time::{Duration, Instant};

use gatehouse::api::{
    ChangeEmail, CurrentUser, ForgotPassword, ResendVerification, ResetPassword, SignUp, VerifyEmail,
};
use gatehouse::domain::{Email, Username};
use gatehouse::server::auth::refresh;
use gatehouse::server::config::{MailTransport, Settings, SmtpUrl};
use gatehouse::server::mail::MailCounts;
use gatehouse::server::store::{LinkPurpose, UserRow};
use serde_json::Value;

use crate::helpers::{PASSWORD, TestApp, TestData, location, spawn_app_with};

const NEW_PASSWORD: &str = "a brand new passphrase";

/// The sink's SMTP URL: required, so that these tests cannot pass by not running.
fn sink_smtp() -> SmtpUrl {
    let url = std::env::var("GATEHOUSE_TEST_SMTP").expect(
        "GATEHOUSE_TEST_SMTP is not set: run the tests with `make test` (or `make smtp-sink` and \
         GATEHOUSE_TEST_SMTP='smtp://127.0.0.1:1025?tls=none' GATEHOUSE_TEST_MAILBOX=http://127.0.0.1:1080)",
    );
    SmtpUrl::parse(&url).expect("GATEHOUSE_TEST_SMTP is an SMTP URL")
}

fn sink_api() -> String {
    std::env::var("GATEHOUSE_TEST_MAILBOX")
        .expect("GATEHOUSE_TEST_MAILBOX is not set: run the tests with `make test`")
}

/// Settings that mail through the sink, retrying fast.
fn mail_settings(data: &TestData) -> Settings {
    let mut settings = data.settings();
    settings.mail.transport = MailTransport::Smtp(sink_smtp());
    settings.mail.site_name = "Test Site".into();
    settings.mail.first_retry_pause = Duration::from_millis(50);
    settings
}

async fn spawn_mailing_app(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let data = TestData::new().await;
    let mut settings = mail_settings(&data);
    configure(&mut settings);
    spawn_app_with(settings, data).await
}

/// An address nobody else's test uses.
fn unique_address(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{tag}-{nanos}-{}@example.test", std::process::id())
}

/// A user with [`PASSWORD`] and this address.
async fn add_user_with_email(app: &TestApp, username: &str, email: &str) -> UserRow {
    app.add_user(username).await;
    let name = Username::parse(username).unwrap();
    app.state
        .store
        .update_user_details(&name, None, Some(&Email::parse(email).unwrap()))
        .await
        .unwrap()
}

/// One message as the sink shows it.
#[derive(Debug, Clone)]
struct Arrived {
    subject: String,
    text: String,
    html: String,
}

impl Arrived {
    /// The token of the link in the message.
    fn token(&self) -> String {
        let start = self.text.find("token=").expect("the mail holds a link") + "token=".len();
        self.text[start..]
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .collect()
    }

    /// The link's path and query on the site.
    fn link_path(&self, app: &TestApp) -> String {
        let start = self.text.find(&app.origin).expect("the mail links to the site") + app.origin.len();
        self.text[start..].split_whitespace().next().unwrap().to_owned()
    }
}

/// Everything the sink holds for `address`, oldest first.
async fn mail_for(address: &str) -> Vec<Arrived> {
    let all: Vec<Value> = reqwest::get(format!("{}/email", sink_api()))
        .await
        .expect("the SMTP sink answers")
        .json()
        .await
        .unwrap();
    all.iter()
        .filter(|mail| {
            mail["to"]
                .as_array()
                .is_some_and(|to| to.iter().any(|to| to["address"].as_str() == Some(address)))
        })
        .map(|mail| Arrived {
            subject: mail["subject"].as_str().unwrap_or_default().to_owned(),
            text: mail["text"].as_str().unwrap_or_default().to_owned(),
            html: mail["html"].as_str().unwrap_or_default().to_owned(),
        })
        .collect()
}

/// Waits until `count` messages reached `address` (a bounded poll: delivery runs in the
/// background), and returns them.
async fn wait_for_mail(address: &str, count: usize) -> Vec<Arrived> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let arrived = mail_for(address).await;
        if arrived.len() >= count {
            return arrived;
        }
        assert!(
            Instant::now() < deadline,
            "{count} mails to {address} did not arrive; got {arrived:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Waits until the app has no mail and no mail-bound request in flight (the mailer signals
/// each end); returns its counts.
async fn settled(app: &TestApp) -> MailCounts {
    app.state.mailer.drain(Duration::from_secs(30)).await;
    let counts = app.state.mailer.counts();
    assert_eq!(counts.pending, 0, "mail still pending: {counts:?}");
    counts
}

/// Asks for a reset link with the plain form post (no JavaScript).
async fn forgot(app: &TestApp, identifier: &str) -> reqwest::Response {
    app.post_form::<ForgotPassword>(&[("identifier", identifier)]).await
}

async fn reset(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    app.post_form::<ResetPassword>(&[
        ("token", token),
        ("new_password", password),
        ("confirm_password", password),
    ])
    .await
}

/// The error a hydrated call was answered with, as JSON text.
async fn json_error(response: reqwest::Response) -> String {
    response.text().await.unwrap()
}

/// The error a plain form post was sent back with: `__err` in the redirect, base64 JSON.
fn form_error(response: &reqwest::Response) -> String {
    use base64::Engine;
    let url = reqwest::Url::parse(location(response)).expect("an absolute redirect after a failed form post");
    let (_, encoded) = url
        .query_pairs()
        .find(|(key, _)| key == "__err")
        .unwrap_or_else(|| panic!("no error in {url}"));
    let decoded = base64::engine::general_purpose::URL_SAFE
        .decode(encoded.as_bytes())
        .unwrap();
    String::from_utf8(decoded).unwrap()
}

#[tokio::test]
async fn a_forgotten_password_is_reset_through_the_mailed_link_which_then_is_spent() {
    let app = spawn_mailing_app(|_| {}).await;
    let address = unique_address("reset");
    let user = add_user_with_email(&app, "forgetful", &address).await;
    let other_device = app.other_browser();
    app.post_form_from::<gatehouse::api::Login>(
        &other_device,
        &[("username", "forgetful"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(app.live_sessions(user.id).await.len(), 1);

    let answer = forgot(&app, "Forgetful").await;
    assert_eq!(location(&answer), "/forgot-password?sent=1");
    let mail = wait_for_mail(&address, 1).await.remove(0);
    assert_eq!(mail.subject, "Reset your Test Site password");
    assert!(
        mail.text.contains("127.0.0.1"),
        "the mail says from where: {}",
        mail.text
    );
    assert!(mail.text.contains("If it was not you"), "{}", mail.text);
    assert!(mail.html.contains("Choose a new password"));
    let token = mail.token();
    assert_eq!(token.len(), 64, "256 random bits");
    let store = &app.state.store;
    assert!(
        store
            .live_email_link(&token, &[LinkPurpose::Reset])
            .await
            .is_err(),
        "the token is not kept"
    );
    assert!(
        store
            .live_email_link(&refresh::hash(&token), &[LinkPurpose::Reset])
            .await
            .is_ok(),
        "its hash is"
    );

    let page = app.get_page(&mail.link_path(&app)).await;
    assert_eq!(page.status(), 200);
    assert_eq!(
        page.headers()["referrer-policy"],
        "no-referrer",
        "the token must not leak by Referer"
    );
    assert!(page.text().await.unwrap().contains("forgetful"));

    let done = reset(&app, &token, NEW_PASSWORD).await;
    assert_eq!(done.status(), 303);
    assert_eq!(
        location(&done),
        "/login?reason=password_reset",
        "the token leaves the address bar"
    );
    assert!(app.live_sessions(user.id).await.is_empty(), "every session ended");
    let old = app.sign_in("forgetful", PASSWORD, None).await;
    assert!(
        form_error(&old).contains("InvalidCredentials"),
        "the old password no longer signs in"
    );
    let signed_in = app.sign_in("forgetful", NEW_PASSWORD, None).await;
    assert_eq!(location(&signed_in), "/dashboard");

    let notices = wait_for_mail(&address, 2).await;
    assert_eq!(notices[1].subject, "Your Test Site password was changed");
    let verified = app
        .state
        .store
        .existing_user(&Username::parse("forgetful").unwrap())
        .await
        .unwrap();
    assert!(verified.email_verified, "following the link proved the address");

    // The same link again: spent.
    let again = app.get_page(&mail.link_path(&app)).await;
    assert_eq!(again.status(), 410);
    assert!(again.text().await.unwrap().contains("This link was already used"));
    let replay = app
        .call::<ResetPassword>(&[
            ("token", &token),
            ("new_password", "yet another passphrase"),
            ("confirm_password", "yet another passphrase"),
        ])
        .await;
    assert_eq!(replay.status(), 400);
    assert!(json_error(replay).await.contains("LinkUsed"));
}

#[tokio::test]
async fn a_reset_link_expires_and_a_newer_one_replaces_it() {
    let app = spawn_mailing_app(|_| {}).await;
    let address = unique_address("expiry");
    add_user_with_email(&app, "late", &address).await;

    forgot(&app, "late").await;
    let first = wait_for_mail(&address, 1).await.remove(0).token();
    forgot(&app, &address).await;
    let second = wait_for_mail(&address, 2).await.remove(1).token();
    assert_ne!(first, second);
    let older = reset(&app, &first, NEW_PASSWORD).await;
    assert!(
        form_error(&older).contains("LinkReplaced"),
        "{}",
        form_error(&older)
    );

    app.clock.advance(Duration::from_secs(31 * 60));
    let page = app.get_page(&format!("/reset-password?token={second}")).await;
    assert_eq!(page.status(), 410);
    assert!(page.text().await.unwrap().contains("This link has expired"));
    let expired = reset(&app, &second, NEW_PASSWORD).await;
    assert!(
        form_error(&expired).contains("LinkExpired"),
        "{}",
        form_error(&expired)
    );
    assert_eq!(
        location(&app.sign_in("late", PASSWORD, None).await),
        "/dashboard",
        "nothing changed"
    );

    let unknown = app
        .get_page(&format!("/reset-password?token={}", "0".repeat(64)))
        .await;
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn forgot_password_answers_the_same_whoever_is_named_and_mails_only_active_accounts() {
    let app = spawn_mailing_app(|_| {}).await;
    let active = unique_address("active");
    let disabled = unique_address("disabled");
    add_user_with_email(&app, "active-one", &active).await;
    add_user_with_email(&app, "disabled-one", &disabled).await;
    app.state
        .store
        .set_disabled(&Username::parse("disabled-one").unwrap(), true)
        .await
        .unwrap();
    app.add_user("no-address").await;

    let mut answers = Vec::new();
    let mut times: Vec<(&str, Vec<Duration>)> = Vec::new();
    for name in [
        "active-one",
        "disabled-one",
        "no-address",
        "nobody-at-all",
        disabled.as_str(),
    ] {
        let mut taken = Vec::new();
        // Twice each: the throttle allows three mails an account an hour.
        for _ in 0..2 {
            let started = Instant::now();
            let answer = forgot(&app, name).await;
            taken.push(started.elapsed());
            answers.push((
                answer.status(),
                location(&answer).to_owned(),
                answer.text().await.unwrap(),
            ));
        }
        times.push((name, taken));
    }
    assert!(answers.windows(2).all(|pair| pair[0] == pair[1]), "{answers:?}");
    for (name, mut taken) in times {
        taken.sort();
        println!(
            "forgot-password answer time for {name}: median {:?}",
            taken[taken.len() / 2]
        );
    }

    let counts = settled(&app).await;
    assert_eq!(
        counts.sent, 2,
        "two links to the active account, nothing else: {counts:?}"
    );
    assert_eq!(wait_for_mail(&active, 2).await.len(), 2);
    assert!(
        mail_for(&disabled).await.is_empty(),
        "a disabled account gets no reset mail"
    );
}

#[tokio::test]
async fn asked_from_the_island_a_reset_link_is_answered_in_place() {
    let app = spawn_mailing_app(|_| {}).await;
    let answer = app.call::<ForgotPassword>(&[("identifier", "nobody")]).await;
    assert_eq!(answer.status(), 200);
    assert!(
        answer.headers().get("location").is_none(),
        "no redirect, so no page load: the island says what happened"
    );
}

#[tokio::test]
async fn reset_mail_is_throttled_per_account_and_per_client_address() {
    let app = spawn_mailing_app(|_| {}).await;
    let address = unique_address("bombed");
    add_user_with_email(&app, "target", &address).await;
    for _ in 0..5 {
        assert_eq!(location(&forgot(&app, "target").await), "/forgot-password?sent=1");
    }
    let counts = settled(&app).await;
    assert_eq!(counts.sent, 3, "three mails an account an hour: {counts:?}");
    assert_eq!(wait_for_mail(&address, 3).await.len(), 3);

    app.clock.advance(Duration::from_secs(61 * 60));
    for _ in 0..20 {
        forgot(&app, "someone-else").await;
    }
    // The requests are counted in the background: all twenty before the next.
    settled(&app).await;
    forgot(&app, "target").await;
    assert_eq!(
        settled(&app).await.sent,
        3,
        "twenty requests an address an hour, whoever they name"
    );

    app.clock.advance(Duration::from_secs(61 * 60));
    forgot(&app, "target").await;
    assert_eq!(settled(&app).await.sent, 4, "the window passed");
}

#[tokio::test]
async fn a_link_to_a_disabled_account_stops_working() {
    let app = spawn_mailing_app(|_| {}).await;
    let address = unique_address("to-disable");
    add_user_with_email(&app, "soon-disabled", &address).await;
    forgot(&app, "soon-disabled").await;
    let token = wait_for_mail(&address, 1).await.remove(0).token();
    app.state
        .store
        .set_disabled(&Username::parse("soon-disabled").unwrap(), true)
        .await
        .unwrap();
    let refused = reset(&app, &token, NEW_PASSWORD).await;
    assert!(
        form_error(&refused).contains("LinkInvalid"),
        "{}",
        form_error(&refused)
    );
}

#[tokio::test]
async fn mail_to_a_failing_smtp_server_is_retried_in_the_background_until_it_answers() {
    // A port nothing listens on yet; the sink is put behind it once the first tries failed.
    let parked = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = parked.local_addr().unwrap().port();
    drop(parked);
    let app = spawn_mailing_app(|settings| {
        settings.mail.transport =
            MailTransport::Smtp(SmtpUrl::parse(&format!("smtp://127.0.0.1:{port}?tls=none")).unwrap());
    })
    .await;
    let address = unique_address("retried");
    add_user_with_email(&app, "patient", &address).await;

    let started = Instant::now();
    assert_eq!(
        location(&forgot(&app, "patient").await),
        "/forgot-password?sent=1"
    );
    println!("answered in {:?} with the SMTP server down", started.elapsed());
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.state.mailer.counts().failed_attempts == 0 {
        assert!(Instant::now() < deadline, "no try was made");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let health: Value = app.get("/healthz").await.json().await.unwrap();
    assert!(
        health["mail"]["failed_attempts"].as_u64().unwrap() >= 1,
        "{health}"
    );
    assert!(health["mail"]["pending"].as_u64().unwrap() >= 1, "{health}");

    // The SMTP server comes back: a forwarder to the sink on that port.
    let sink = sink_smtp();
    let sink_port: u16 = sink.for_lettre().rsplit(':').next().unwrap().parse().unwrap();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut outbound = tokio::net::TcpStream::connect(("127.0.0.1", sink_port))
                    .await
                    .unwrap();
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            });
        }
    });
    assert_eq!(wait_for_mail(&address, 1).await.len(), 1);
    let counts = settled(&app).await;
    assert_eq!((counts.sent, counts.given_up), (1, 0), "{counts:?}");
}

#[tokio::test]
async fn changing_the_address_needs_the_password_and_takes_effect_only_once_the_new_one_is_proved() {
    let app = spawn_mailing_app(|_| {}).await;
    let old = unique_address("old");
    let new = unique_address("new");
    add_user_with_email(&app, "mover", &old).await;
    app.sign_in("mover", PASSWORD, None).await;

    let wrong = app
        .call::<ChangeEmail>(&[("current_password", "not my password"), ("new_email", &new)])
        .await;
    assert_eq!(wrong.status(), 400);
    let asked = app
        .call::<ChangeEmail>(&[("current_password", PASSWORD), ("new_email", &new)])
        .await;
    assert_eq!(asked.status(), 200);
    let link = wait_for_mail(&new, 1).await.remove(0);
    assert_eq!(link.subject, "Confirm your e-mail address for Test Site");
    let notice = wait_for_mail(&old, 1).await.remove(0);
    assert!(
        notice.text.contains(&new),
        "the old address is told where to: {}",
        notice.text
    );

    let me: Value = app.call::<CurrentUser>(&[]).await.json().await.unwrap();
    assert_eq!(
        me["email"],
        old.as_str(),
        "the old address stays until the new one is proved"
    );

    let page = app.get_page(&link.link_path(&app)).await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let confirmed = app.post_form::<VerifyEmail>(&[("token", &link.token())]).await;
    assert_eq!(location(&confirmed), "/profile?notice=email_verified");
    let me: Value = app.call::<CurrentUser>(&[]).await.json().await.unwrap();
    assert_eq!(me["email"], new.as_str());
    assert_eq!(me["email_verified"], true);
    let again = app.post_form::<VerifyEmail>(&[("token", &link.token())]).await;
    assert!(form_error(&again).contains("LinkUsed"), "{}", form_error(&again));
}

#[tokio::test]
async fn an_unconfirmed_address_can_be_sent_its_link_again_within_the_throttle() {
    let app = spawn_mailing_app(|_| {}).await;
    let address = unique_address("unconfirmed");
    add_user_with_email(&app, "resender", &address).await;
    app.sign_in("resender", PASSWORD, None).await;
    for _ in 0..3 {
        assert_eq!(app.call::<ResendVerification>(&[]).await.status(), 200);
    }
    let throttled = app.call::<ResendVerification>(&[]).await;
    assert_eq!(throttled.status(), 400);
    assert!(json_error(throttled).await.contains("MailThrottled"));
    let links = wait_for_mail(&address, 3).await;
    // Only the newest works (the sink may list them in any order: they are sent in parallel).
    let mut outcomes = Vec::new();
    for link in &links {
        let answer = app.post_form::<VerifyEmail>(&[("token", &link.token())]).await;
        outcomes.push(if location(&answer) == "/profile?notice=email_verified" {
            "verified".to_owned()
        } else {
            form_error(&answer)
        });
    }
    let verified = outcomes.iter().filter(|outcome| *outcome == "verified").count();
    let replaced = outcomes
        .iter()
        .filter(|outcome| outcome.contains("LinkReplaced"))
        .count();
    assert_eq!((verified, replaced), (1, 2), "{outcomes:?}");
    let done = app.call::<ResendVerification>(&[]).await;
    assert!(json_error(done).await.contains("EmailAlreadyVerified"));
}

async fn sign_up(app: &TestApp, username: &str, email: &str) -> reqwest::Response {
    app.call::<SignUp>(&[
        ("username", username),
        ("email", email),
        ("new_password", NEW_PASSWORD),
        ("confirm_password", NEW_PASSWORD),
    ])
    .await
}

#[tokio::test]
async fn sign_up_is_closed_unless_allowed() {
    let app = spawn_mailing_app(|_| {}).await;
    assert_eq!(app.get_page("/signup").await.status(), 404);
    let refused = sign_up(&app, "newcomer", &unique_address("closed")).await;
    assert_eq!(refused.status(), 404);
    assert!(json_error(refused).await.contains("SignupClosed"));
}

#[tokio::test]
async fn a_sign_up_creates_the_account_only_when_its_address_is_proved_and_reveals_nothing_taken() {
    let app = spawn_mailing_app(|settings| settings.allow_signup = true).await;
    assert_eq!(app.get_page("/signup").await.status(), 200);
    let taken_address = unique_address("taken");
    add_user_with_email(&app, "existing", &taken_address).await;
    let fresh = unique_address("fresh");
    let other = unique_address("other");

    let answers = [
        sign_up(&app, "newcomer", &fresh).await,
        sign_up(&app, "existing", &other).await,
        sign_up(&app, "someone-new", &taken_address).await,
    ];
    let mut seen = Vec::new();
    for (answer, address) in answers.into_iter().zip([&fresh, &other, &taken_address]) {
        let status = answer.status();
        let to = answer
            .headers()
            .get("location")
            .map(|to| to.to_str().unwrap().to_owned())
            .unwrap_or_default();
        // The answer names the address typed, and nothing else differs.
        let body = answer.text().await.unwrap().replace(address.as_str(), "ADDRESS");
        seen.push((status, to, body));
    }
    assert!(seen[0].1.is_empty(), "the island shows the outcome in place: {seen:?}");
    assert!(seen.windows(2).all(|pair| pair[0] == pair[1]), "{seen:?}");
    settled(&app).await;
    assert!(
        wait_for_mail(&other, 1).await[0]
            .text
            .contains("that username is taken"),
        "the mailbox's owner learns why"
    );
    assert!(
        wait_for_mail(&taken_address, 1).await[0]
            .text
            .contains("already belongs to an account")
    );

    let link = wait_for_mail(&fresh, 1).await.remove(0);
    assert_eq!(link.subject, "Finish signing up to Test Site");
    assert!(
        app.state
            .store
            .find_user(&Username::parse("newcomer").unwrap())
            .await
            .unwrap()
            .is_none(),
        "no account before the address is proved"
    );
    assert!(
        app.get_page(&link.link_path(&app))
            .await
            .text()
            .await
            .unwrap()
            .contains("newcomer")
    );
    let created = app.post_form::<VerifyEmail>(&[("token", &link.token())]).await;
    assert_eq!(location(&created), "/login?reason=signed_up");
    let account = app
        .state
        .store
        .existing_user(&Username::parse("newcomer").unwrap())
        .await
        .unwrap();
    assert!(account.email_verified && !account.admin && !account.disabled);
    assert_eq!(
        location(&app.sign_in("newcomer", NEW_PASSWORD, None).await),
        "/dashboard"
    );
}

#[tokio::test]
async fn without_an_smtp_server_mail_goes_to_files_in_the_mail_directory() {
    let data = TestData::new().await;
    let dir = data.path().join("mail");
    let mut settings = data.settings();
    settings.mail.transport = MailTransport::Dir(dir.clone());
    let app = spawn_app_with(settings, data).await;
    add_user_with_email(&app, "filed", "filed@example.test").await;
    forgot(&app, "filed").await;
    assert_eq!(settled(&app).await.sent, 1);
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    assert!(files[0].extension().is_some_and(|extension| extension == "eml"));
    let message = std::fs::read_to_string(&files[0]).unwrap();
    assert!(message.contains("To: filed@example.test"), "{message}");
    assert!(
        message.contains("multipart/alternative"),
        "a text and an HTML part"
    );
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&dir).unwrap().permissions());
    assert_eq!(
        mode & 0o777,
        0o700,
        "the messages hold live links: the directory is private"
    );
}
