//! Passkeys: a software authenticator (below, ECDSA P-256 from ring, CBOR by hand, "none"
//! attestation: what a platform authenticator sends) adds a passkey on the profile and signs
//! in with it; then each attack the ceremony stops: a replayed answer, an answer for another
//! origin, a cloned key (its counter going backwards), a disabled account, a passkey removed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gatehouse::api::{
    ActOnUser, BeginAddPasskey, BeginPasskeySignIn, FinishAddPasskey, FinishPasskeySignIn, ListPasskeys,
    PasskeysOffered, RemovePasskey, RenamePasskey,
};
use gatehouse::server::config::PublicUrl;
use gatehouse::server::store::AuditQuery;
use leptos::server_fn::ServerFn;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{
    TestApp, TestData, call, current_user, error_of, location, set_cookies, signed_in, spawn_app,
    spawn_app_with,
};

/// What a browser would say the page's origin is.
const ORIGIN: &str = "http://localhost:3000";

/// The site at `ORIGIN` (a host name: browsers refuse passkeys on an IP address).
async fn spawn_site() -> TestApp {
    let data = TestData::new().await;
    let mut settings = data.settings();
    settings.public_url = Some(PublicUrl::parse(ORIGIN).unwrap());
    spawn_app_with(settings, data).await
}

/// A passkey held by one authenticator: its key pair, id and signature counter.
struct Authenticator {
    key: EcdsaKeyPair,
    credential_id: Vec<u8>,
    user_handle: Vec<u8>,
    counter: u32,
}

/// CBOR's head of a major type with a length or value.
fn cbor_head(major: u8, value: usize) -> Vec<u8> {
    let major = major << 5;
    match value {
        0..=23 => vec![major | value as u8],
        24..=255 => vec![major | 24, value as u8],
        _ => [vec![major | 25], (value as u16).to_be_bytes().to_vec()].concat(),
    }
}

fn cbor_bytes(bytes: &[u8]) -> Vec<u8> {
    [cbor_head(2, bytes.len()), bytes.to_vec()].concat()
}

fn cbor_text(text: &str) -> Vec<u8> {
    [cbor_head(3, text.len()), text.as_bytes().to_vec()].concat()
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl Authenticator {
    fn new() -> Self {
        let random = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &random).unwrap();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &random).unwrap();
        let credential_id = ring::rand::generate::<[u8; 16]>(&random)
            .unwrap()
            .expose()
            .to_vec();
        Self {
            key,
            credential_id,
            user_handle: Vec::new(),
            counter: 0,
        }
    }

    /// The authenticator data: the RP id's hash, the flags (user present and verified, plus
    /// `extra`) and the counter.
    fn authenticator_data(&self, rp_id: &str, extra_flags: u8) -> Vec<u8> {
        let flags = 0x01 | 0x04 | extra_flags;
        [
            Sha256::digest(rp_id.as_bytes()).to_vec(),
            vec![flags],
            self.counter.to_be_bytes().to_vec(),
        ]
        .concat()
    }

    fn client_data(kind: &str, challenge: &str, origin: &str) -> Vec<u8> {
        serde_json::to_vec(
            &json!({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false}),
        )
        .unwrap()
    }

    /// Answers `navigator.credentials.create` with these options, as `toJSON()` writes it.
    fn register(&mut self, options: &Value) -> Value {
        let options = &options["publicKey"];
        let rp_id = options["rp"]["id"].as_str().unwrap();
        self.user_handle = URL_SAFE_NO_PAD
            .decode(options["user"]["id"].as_str().unwrap())
            .unwrap();
        let point = &self.key.public_key().as_ref()[1..];
        let cose_key = [
            vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21],
            cbor_bytes(&point[..32]),
            vec![0x22],
            cbor_bytes(&point[32..]),
        ]
        .concat();
        let auth_data = [
            self.authenticator_data(rp_id, 0x40),
            vec![0; 16],
            (self.credential_id.len() as u16).to_be_bytes().to_vec(),
            self.credential_id.clone(),
            cose_key,
        ]
        .concat();
        let attestation = [
            vec![0xa3],
            cbor_text("fmt"),
            cbor_text("none"),
            cbor_text("attStmt"),
            vec![0xa0],
            cbor_text("authData"),
            cbor_bytes(&auth_data),
        ]
        .concat();
        let client_data =
            Self::client_data("webauthn.create", options["challenge"].as_str().unwrap(), ORIGIN);
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(&client_data),
                "attestationObject": b64(&attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
        })
    }

    /// Answers `navigator.credentials.get` with these options from `origin`, counting one use.
    fn sign_from(&mut self, options: &Value, origin: &str) -> Value {
        self.counter += 1;
        let options = &options["publicKey"];
        let auth_data = self.authenticator_data(options["rpId"].as_str().unwrap(), 0);
        let client_data = Self::client_data("webauthn.get", options["challenge"].as_str().unwrap(), origin);
        let signed = [auth_data.clone(), Sha256::digest(&client_data).to_vec()].concat();
        let signature = self.key.sign(&SystemRandom::new(), &signed).unwrap();
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(&client_data),
                "authenticatorData": b64(&auth_data),
                "signature": b64(signature.as_ref()),
                "userHandle": b64(&self.user_handle),
            },
            "clientExtensionResults": {},
        })
    }

    fn sign(&mut self, options: &Value) -> Value {
        self.sign_from(options, ORIGIN)
    }
}

/// The WebAuthn options a begin call answered with (JSON inside the server function's string).
async fn options_of(begun: reqwest::Response) -> Value {
    assert_eq!(begun.status(), 200);
    serde_json::from_str(&begun.json::<String>().await.unwrap()).unwrap()
}

/// Sends `answer` to finish adding a passkey from `browser`.
async fn finish_add(app: &TestApp, browser: &reqwest::Client, answer: &Value) -> reqwest::Response {
    call::<FinishAddPasskey>(app, browser, &[("response", &answer.to_string())]).await
}

/// Adds a passkey called `name` from `browser` with `authenticator`.
async fn add_passkey(
    app: &TestApp,
    browser: &reqwest::Client,
    authenticator: &mut Authenticator,
    name: &str,
) {
    let options = options_of(call::<BeginAddPasskey>(app, browser, &[("name", name)]).await).await;
    let finished = finish_add(app, browser, &authenticator.register(&options)).await;
    assert_eq!(finished.status(), 200, "{:?}", finished.text().await);
}

/// The options a new sign-in ceremony in `browser` gives.
async fn sign_in_options(app: &TestApp, browser: &reqwest::Client) -> Value {
    options_of(call::<BeginPasskeySignIn>(app, browser, &[("autofill", "false")]).await).await
}

async fn finish_sign_in(app: &TestApp, browser: &reqwest::Client, answer: &Value) -> reqwest::Response {
    call::<FinishPasskeySignIn>(
        app,
        browser,
        &[
            ("response", &answer.to_string()),
            ("remember", "false"),
            ("next", "/profile"),
        ],
    )
    .await
}

async fn passkeys(app: &TestApp, browser: &reqwest::Client) -> Vec<Value> {
    call::<ListPasskeys>(app, browser, &[])
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_passkey_added_on_the_profile_signs_in_without_a_username() {
    let app = spawn_site().await;
    let alice = app.add_user("alice").await;
    let owner = signed_in(&app, "alice").await;
    let mut authenticator = Authenticator::new();

    // The options ask for a discoverable, user-verified passkey of this site.
    let begun = call::<BeginAddPasskey>(&app, &owner, &[("name", " laptop ")]).await;
    let options = options_of(begun).await;
    let public_key = &options["publicKey"];
    assert_eq!(public_key["rp"]["id"], "localhost");
    assert_eq!(public_key["user"]["name"], "alice");
    assert_eq!(public_key["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(
        public_key["authenticatorSelection"]["userVerification"],
        "required"
    );
    let answer = authenticator.register(&options);
    let finished = finish_add(&app, &owner, &answer).await;
    assert_eq!(finished.status(), 200);
    let listed = passkeys(&app, &owner).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["name"], "laptop");
    assert_eq!(listed[0]["last_used"], Value::Null);

    // Another browser, no username: the passkey names the account.
    let browser = app.other_browser();
    let options = sign_in_options(&app, &browser).await;
    assert_eq!(
        options["publicKey"]["allowCredentials"],
        json!([]),
        "usernameless"
    );
    assert_eq!(options["publicKey"]["userVerification"], "required");
    let response = finish_sign_in(&app, &browser, &authenticator.sign(&options)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(location(&response), "/profile");
    assert_eq!(current_user(&app, &browser).await["username"], "alice");
    let listed = passkeys(&app, &browser).await;
    assert!(listed[0]["last_used"].is_string(), "{listed:?}");

    // The same session as a password sign-in, and the trail says so.
    assert_eq!(app.live_sessions(alice.id).await.len(), 2);
    let trail = app
        .state
        .store
        .audit_events(&AuditQuery {
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = trail.events.iter().map(|event| event.action.as_str()).collect();
    assert!(actions.contains(&"passkey_added"), "{actions:?}");
    assert_eq!(actions.iter().filter(|action| **action == "sign_in").count(), 2);

    // Unnamed, a passkey is called after the browser that made it.
    let begun = app
        .call_from(&owner, BeginAddPasskey::PATH)
        .header(
            "user-agent",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
        )
        .form(&[("name", "  ")])
        .send()
        .await
        .unwrap();
    let options = options_of(begun).await;
    let answer = Authenticator::new().register(&options);
    let finished = finish_add(&app, &owner, &answer).await;
    assert_eq!(finished.status(), 200);
    assert_eq!(passkeys(&app, &owner).await[1]["name"], "Safari on macOS");

    // The same authenticator cannot add it twice (to this account or any other).
    let bob_browser = {
        app.add_user("bob").await;
        signed_in(&app, "bob").await
    };
    let begun = call::<BeginAddPasskey>(&app, &bob_browser, &[("name", "stolen")]).await;
    let options = options_of(begun).await;
    let answer = authenticator.register(&options);
    let (status, body) = error_of(finish_add(&app, &bob_browser, &answer).await).await;
    assert_eq!((status, body), (400, json!({"Invalid": "PasskeyAlreadyAdded"})));
}

#[tokio::test]
async fn a_challenge_is_answered_once_in_the_browser_it_was_given_to_and_for_this_origin_only() {
    let app = spawn_site().await;
    app.add_user("alice").await;
    let owner = signed_in(&app, "alice").await;
    let mut authenticator = Authenticator::new();
    add_passkey(&app, &owner, &mut authenticator, "laptop").await;

    // A phishing page at another origin relays the site's challenge: the answer names the
    // phishing origin, and is refused.
    let browser = app.other_browser();
    let options = sign_in_options(&app, &browser).await;
    let phished = authenticator.sign_from(&options, "http://localhost.evil.example");
    let (status, body) = error_of(finish_sign_in(&app, &browser, &phished).await).await;
    assert_eq!((status, body), (400, json!({"Invalid": "PasskeyRefused"})));
    assert_eq!(current_user(&app, &browser).await, Value::Null);

    // That challenge is spent: even a right answer to it is refused.
    let late = authenticator.sign(&options);
    let (status, body) = error_of(finish_sign_in(&app, &browser, &late).await).await;
    assert_eq!(
        (status, body),
        (400, json!({"Invalid": "PasskeyCeremonyExpired"}))
    );

    // An answer captured in one browser is no good in another (the challenge is bound to the
    // browser it was given to), nor replayed in the same one.
    let options = sign_in_options(&app, &browser).await;
    let answer = authenticator.sign(&options);
    let thief = app.other_browser();
    sign_in_options(&app, &thief).await;
    let (status, _) = error_of(finish_sign_in(&app, &thief, &answer).await).await;
    assert_eq!(status, 400);
    assert_eq!(current_user(&app, &thief).await, Value::Null);
    assert_eq!(finish_sign_in(&app, &browser, &answer).await.status(), 200);
    let replay = app.other_browser();
    let (status, body) = error_of(finish_sign_in(&app, &replay, &answer).await).await;
    assert_eq!(
        (status, body),
        (400, json!({"Invalid": "PasskeyCeremonyExpired"}))
    );

    // A challenge expires after five minutes.
    let options = sign_in_options(&app, &browser).await;
    app.clock.advance(std::time::Duration::from_secs(5 * 60 + 1));
    let (status, body) = error_of(finish_sign_in(&app, &browser, &authenticator.sign(&options)).await).await;
    assert_eq!(
        (status, body),
        (400, json!({"Invalid": "PasskeyCeremonyExpired"}))
    );
}

#[tokio::test]
async fn a_cloned_passkey_whose_counter_goes_backwards_is_refused() {
    let app = spawn_site().await;
    app.add_user("alice").await;
    let owner = signed_in(&app, "alice").await;
    let mut authenticator = Authenticator::new();
    add_passkey(&app, &owner, &mut authenticator, "security key").await;
    for _ in 0..3 {
        let browser = app.other_browser();
        let options = sign_in_options(&app, &browser).await;
        assert_eq!(
            finish_sign_in(&app, &browser, &authenticator.sign(&options))
                .await
                .status(),
            200
        );
    }
    // A copy of the key taken after its first use signs with counter 2: at or below the
    // stored 3, the mark of a clone.
    authenticator.counter = 1;
    let browser = app.other_browser();
    let options = sign_in_options(&app, &browser).await;
    let (status, body) = error_of(finish_sign_in(&app, &browser, &authenticator.sign(&options)).await).await;
    assert_eq!((status, body), (400, json!({"Invalid": "PasskeyRefused"})));
    assert_eq!(current_user(&app, &browser).await, Value::Null);
}

#[tokio::test]
async fn a_disabled_persons_passkey_and_a_removed_passkey_sign_in_no_more() {
    let app = spawn_site().await;
    app.add_user("alice").await;
    let admin = app.add_admin("root").await;
    let owner = signed_in(&app, "alice").await;
    let mut authenticator = Authenticator::new();
    add_passkey(&app, &owner, &mut authenticator, "phone").await;

    let root = signed_in(&app, &admin.username).await;
    let disabled = call::<ActOnUser>(&app, &root, &[("username", "alice"), ("action", "disable")]).await;
    assert_eq!(disabled.status(), 200);
    let browser = app.other_browser();
    let options = sign_in_options(&app, &browser).await;
    let (status, body) = error_of(finish_sign_in(&app, &browser, &authenticator.sign(&options)).await).await;
    assert_eq!((status, body), (400, json!({"Invalid": "PasskeyRefused"})));
    assert_eq!(current_user(&app, &browser).await, Value::Null);

    let enabled = call::<ActOnUser>(&app, &root, &[("username", "alice"), ("action", "enable")]).await;
    assert_eq!(enabled.status(), 200);
    let owner = signed_in(&app, "alice").await;
    let id = passkeys(&app, &owner).await[0]["id"]
        .as_i64()
        .unwrap()
        .to_string();
    let renamed = call::<RenamePasskey>(&app, &owner, &[("id", &id), ("name", "old phone")]).await;
    assert_eq!(renamed.status(), 200);
    assert_eq!(passkeys(&app, &owner).await[0]["name"], "old phone");
    let (status, body) =
        error_of(call::<RenamePasskey>(&app, &owner, &[("id", &id), ("name", "two\nlines")]).await).await;
    assert_eq!((status, body), (400, json!({"Invalid": "PasskeyNameRules"})));

    // Someone else's passkey cannot be renamed or removed by its id.
    let (status, body) = error_of(call::<RemovePasskey>(&app, &root, &[("id", &id)]).await).await;
    assert_eq!((status, body), (400, json!({"Invalid": "UnknownPasskey"})));

    assert_eq!(
        call::<RemovePasskey>(&app, &owner, &[("id", &id)]).await.status(),
        200
    );
    assert!(passkeys(&app, &owner).await.is_empty());
    let options = sign_in_options(&app, &browser).await;
    let (status, body) = error_of(finish_sign_in(&app, &browser, &authenticator.sign(&options)).await).await;
    assert_eq!((status, body), (400, json!({"Invalid": "PasskeyRefused"})));
}

#[tokio::test]
async fn removing_a_passkey_takes_a_recent_sign_in() {
    let app = spawn_site().await;
    app.add_user("alice").await;
    let owner = signed_in(&app, "alice").await;
    let mut authenticator = Authenticator::new();
    add_passkey(&app, &owner, &mut authenticator, "laptop").await;
    let id = passkeys(&app, &owner).await[0]["id"]
        .as_i64()
        .unwrap()
        .to_string();

    // A session left open (or stolen) for an hour cannot remove the owner's passkeys.
    app.clock.advance(std::time::Duration::from_secs(16 * 60));
    let (status, body) = error_of(call::<RemovePasskey>(&app, &owner, &[("id", &id)]).await).await;
    assert_eq!((status, body), (400, json!({"Invalid": "RecentSignInNeeded"})));
    assert_eq!(passkeys(&app, &owner).await.len(), 1);

    let again = signed_in(&app, "alice").await;
    assert_eq!(
        call::<RemovePasskey>(&app, &again, &[("id", &id)]).await.status(),
        200
    );
}

#[tokio::test]
async fn failed_passkey_sign_ins_are_throttled_per_address() {
    let app = spawn_site().await;
    app.add_user("alice").await;
    let owner = signed_in(&app, "alice").await;
    let mut authenticator = Authenticator::new();
    add_passkey(&app, &owner, &mut authenticator, "laptop").await;
    let browser = app.other_browser();
    let mut statuses = Vec::new();
    for _ in 0..25 {
        let options = sign_in_options(&app, &browser).await;
        // The right credential id and handle, signed by another key.
        let mut forged = Authenticator {
            credential_id: authenticator.credential_id.clone(),
            user_handle: authenticator.user_handle.clone(),
            counter: 100,
            ..Authenticator::new()
        };
        statuses.push(
            finish_sign_in(&app, &browser, &forged.sign(&options))
                .await
                .status()
                .as_u16(),
        );
    }
    assert!(statuses[..20].iter().all(|status| *status == 400), "{statuses:?}");
    assert_eq!(statuses[20], 429, "{statuses:?}");
}

#[tokio::test]
async fn a_site_reached_by_an_ip_address_offers_no_passkeys_and_says_why() {
    let app = spawn_app().await;
    let offered: bool = app.call::<PasskeysOffered>(&[]).await.json().await.unwrap();
    assert!(!offered);
    let (status, body) = error_of(app.call::<BeginPasskeySignIn>(&[("autofill", "true")]).await).await;
    assert_eq!((status, body), (400, json!({"Invalid": "PasskeysUnavailable"})));
}

#[tokio::test]
async fn reset_mfa_removes_the_passkeys_too() {
    let app = spawn_site().await;
    app.add_user("alice").await;
    let owner = signed_in(&app, "alice").await;
    let mut authenticator = Authenticator::new();
    add_passkey(&app, &owner, &mut authenticator, "thief's laptop").await;
    let output = app.data.gatehouse(&["user", "reset-mfa", "alice"], "");
    assert!(output.status.success());
    assert_eq!(current_user(&app, &owner).await, Value::Null, "sessions ended");
    let browser = app.other_browser();
    let options = sign_in_options(&app, &browser).await;
    let (status, _) = error_of(finish_sign_in(&app, &browser, &authenticator.sign(&options)).await).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_ceremony_begun_on_one_instance_is_finished_on_the_other_once() {
    // Two instances of one site, sharing data and key; each client keeps cookies by host, as
    // a browser behind a load balancer does.
    let data = std::sync::Arc::new(TestData::new().await);
    let mut settings = data.settings();
    settings.public_url = Some(PublicUrl::parse(ORIGIN).unwrap());
    let a = spawn_app_with(settings.clone(), data.clone()).await;
    let b = spawn_app_with(settings, data).await;
    a.add_user("alice").await;
    let owner = signed_in(&a, "alice").await;
    let mut authenticator = Authenticator::new();

    let begun = call::<BeginAddPasskey>(&a, &owner, &[("name", "laptop")]).await;
    let options = options_of(begun).await;
    let answer = authenticator.register(&options);
    assert_eq!(finish_add(&b, &owner, &answer).await.status(), 200);

    // The ceremony's cookie, as a thief who copied it (and the answer) would hold it.
    let browser = a.other_browser();
    let begun = call::<BeginPasskeySignIn>(&b, &browser, &[("autofill", "false")]).await;
    let cookie = set_cookies(&begun)
        .into_iter()
        .find(|cookie| cookie.starts_with("gatehouse_passkey_ceremony="))
        .expect("the ceremony's cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let token = cookie.split(';').next().unwrap().to_owned();
    let options = options_of(begun).await;
    let answer = authenticator.sign(&options);
    assert_eq!(finish_sign_in(&a, &browser, &answer).await.status(), 200);
    assert_eq!(current_user(&b, &browser).await["username"], "alice");

    // Taken on A, the ceremony is gone for B too, cookie or not.
    let replayed = b
        .call_from(&reqwest::Client::new(), FinishPasskeySignIn::PATH)
        .header("cookie", token)
        .form(&[("response", answer.to_string().as_str()), ("remember", "false")])
        .send()
        .await
        .unwrap();
    let (status, body) = error_of(replayed).await;
    assert_eq!(
        (status, body),
        (400, json!({"Invalid": "PasskeyCeremonyExpired"}))
    );
}
