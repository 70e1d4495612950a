//! Two-step sign-in: TOTP codes (RFC 6238: SHA-1, 6 digits, 30-second steps, one step either
//! way for clocks that drift) and single-use recovery codes as a second factor, checked in one
//! place for the login form's second step and for `POST /token`. [`actions`] holds the server
//! functions that turn it on and off and finish a two-step sign-in.
//!
//! - A secret is 160 random bits, stored sealed with AES-256-GCM under a key derived from the
//!   site key (`SigningKey::mac`), bound to its account: a copy of the database alone reveals
//!   no secret, and a sealed secret moved to another account does not open.
//! - A code is accepted once: the store keeps the newest step accepted and takes a code only
//!   for a later one (one compare-and-set, so two instances cannot both accept it).
//! - Recovery codes are 60 random bits each (12 characters of Crockford's base 32), kept as
//!   HMACs under the site key; spending one is the `UPDATE` that finds it unspent.
//! - Wrong codes are throttled like passwords (`auth::throttle`), per account and per address.
//! - Between a correct password and its code, the browser holds only a random token in an
//!   HttpOnly cookie naming a five-minute, single-use record: no session, no access token.

pub mod actions;

use std::time::Duration;

use anyhow::{Context, anyhow};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::Mac;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use time::OffsetDateTime;
use totp_rs::{Algorithm, Builder, Totp};
use tower_cookies::Cookies;

use crate::server::auth::cookies::Pending;
use crate::server::auth::refresh;
use crate::server::auth::signing_key::SigningKey;
use crate::server::auth::throttle::Attempt;
use crate::server::random::{hex, random_hex};
use crate::server::state::AppState;
use crate::server::store::{SecondStepRow, UserRow};

/// Digits of a code.
pub const DIGITS: u8 = 6;
/// Seconds a code stands for.
const STEP_SECONDS: u64 = 30;
/// Steps either side of now whose codes are still accepted (a phone's clock may drift).
const SKEW_STEPS: u16 = 1;
/// Bytes of a new secret: 160 bits, as RFC 4226 recommends.
const SECRET_BYTES: usize = 20;
/// Recovery codes made at a time.
pub const RECOVERY_CODES: usize = 10;
/// Characters of a recovery code (without its dashes).
const RECOVERY_CODE_CHARS: usize = 12;
/// Crockford's base 32: no I, L, O or U to misread.
const RECOVERY_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// How long a correct password waits for its code.
pub const SECOND_STEP_LIFETIME: time::Duration = time::Duration::minutes(5);

/// Seals and opens TOTP secrets with a key derived from the site key.
pub struct Sealer {
    key: LessSafeKey,
}

impl Sealer {
    pub fn new(signing_key: &SigningKey) -> Self {
        let derived = signing_key.mac("totp-secret-sealing").finalize().into_bytes();
        let key = UnboundKey::new(&AES_256_GCM, derived.as_slice())
            .expect("an HMAC-SHA256 output is an AES-256 key");
        Self {
            key: LessSafeKey::new(key),
        }
    }

    /// `secret`, sealed for `user_id`: base64 of a random nonce, the ciphertext and its tag.
    ///
    /// # Errors
    /// The OS random source failed.
    pub fn seal(&self, user_id: i64, secret: &[u8]) -> anyhow::Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).context("Failed to read the OS random source")?;
        let mut sealed = secret.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(user_id.to_be_bytes()),
                &mut sealed,
            )
            .map_err(|_| anyhow!("Failed to seal a TOTP secret"))?;
        Ok(STANDARD.encode([nonce.as_slice(), &sealed].concat()))
    }

    /// The secret sealed for `user_id`.
    ///
    /// # Errors
    /// Not sealed by this site key for this account (the key file was replaced, say).
    pub fn open(&self, user_id: i64, sealed: &str) -> anyhow::Result<Vec<u8>> {
        let bytes = STANDARD
            .decode(sealed)
            .context("A sealed TOTP secret is not base64")?;
        if bytes.len() < NONCE_LEN {
            anyhow::bail!("A sealed TOTP secret is too short");
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| anyhow!("Bad TOTP nonce"))?;
        let mut opened = sealed.to_vec();
        let secret = self
            .key
            .open_in_place(nonce, Aad::from(user_id.to_be_bytes()), &mut opened)
            .map_err(|_| {
                anyhow!("A TOTP secret does not open with this site key: was the key file replaced?")
            })?;
        Ok(secret.to_vec())
    }
}

/// A new secret, and how an authenticator app is given it.
pub struct Enrolment {
    /// Sealed, for the store.
    pub sealed: String,
    /// Base 32 in groups of four, for typing in.
    pub secret_text: String,
    /// The `otpauth://` URI the QR code holds.
    pub uri: String,
    /// The QR code, as an SVG element.
    pub qr_svg: String,
}

/// Makes a new secret for `user` on this site.
///
/// # Errors
/// The OS random source failed.
pub fn new_enrolment(state: &AppState, user: &UserRow) -> anyhow::Result<Enrolment> {
    let mut secret = vec![0u8; SECRET_BYTES];
    getrandom::fill(&mut secret).context("Failed to read the OS random source")?;
    let sealed = Sealer::new(&state.signing_key).seal(user.id, &secret)?;
    let totp = totp_for(state, user, secret)?;
    let uri = totp
        .to_url()
        .map_err(|error| anyhow!("Failed to write the otpauth URI: {error}"))?;
    let secret_text = totp
        .secret()
        .to_base32()
        .as_bytes()
        .chunks(4)
        .map(|group| String::from_utf8_lossy(group).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let qr = qrcode::QrCode::new(uri.as_bytes()).context("Failed to draw the QR code")?;
    let svg = qr
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build();
    // The renderer writes an XML declaration first; inside HTML only the element belongs.
    let qr_svg = svg
        .find("<svg")
        .map_or(svg.clone(), |start| svg[start..].to_owned());
    Ok(Enrolment {
        sealed,
        secret_text,
        uri,
        qr_svg,
    })
}

/// The TOTP of `user`'s `secret`, labelled with the site's name and their username.
fn totp_for(state: &AppState, user: &UserRow, secret: Vec<u8>) -> anyhow::Result<Totp> {
    // A label may not hold ':' (it separates issuer from account in the URI).
    let issuer = state.settings.mail.site_name.replace(':', " ");
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS)
        .with_skew(SKEW_STEPS)
        .with_step_duration(STEP_SECONDS)
        .with_secret(secret)
        .with_account_name(user.username.clone())
        .with_issuer(Some(issuer))
        .build()
        .map_err(|error| anyhow!("Failed to set up TOTP: {error}"))
}

/// The TOTP of `user`'s stored (sealed) secret.
fn stored_totp(state: &AppState, user: &UserRow, sealed: &str) -> anyhow::Result<Totp> {
    let secret = Sealer::new(&state.signing_key).open(user.id, sealed)?;
    totp_for(state, user, secret)
}

/// The 30-second step (within the skew of now) whose code `code` is, if any. The comparison
/// is totp-rs's, in constant time.
fn matching_step(totp: &Totp, code: &str, now: OffsetDateTime) -> Option<i64> {
    let now = u64::try_from(now.unix_timestamp()).ok()?;
    totp.check(code, now).and_then(|step| i64::try_from(step).ok())
}

/// The step whose code `code` is for the secret being enrolled (no replay check: nothing has
/// been accepted yet), if any.
///
/// # Errors
/// The sealed secret does not open.
pub fn enrolment_step(
    state: &AppState,
    user: &UserRow,
    sealed: &str,
    code: &str,
) -> anyhow::Result<Option<i64>> {
    let totp = stored_totp(state, user, sealed)?;
    Ok(six_digits(code).and_then(|code| matching_step(&totp, &code, state.clock.now())))
}

/// `code` without spaces, when it is six digits.
fn six_digits(code: &str) -> Option<String> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    (code.len() == usize::from(DIGITS) && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

/// `code` as a recovery code is stored, when it could be one: lower case, without dashes or
/// spaces, with the letters Crockford's base 32 reads as digits (O, I, L) read so.
fn recovery_code_of(code: &str) -> Option<String> {
    let code: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_lowercase() {
            'o' => '0',
            'i' | 'l' => '1',
            other => other,
        })
        .collect();
    (code.len() == RECOVERY_CODE_CHARS && code.bytes().all(|b| RECOVERY_ALPHABET.contains(&b)))
        .then_some(code)
}

/// New recovery codes, as shown once (`abcd-efgh-jkmn`), with their hashes for the store.
///
/// # Errors
/// The OS random source failed.
pub fn new_recovery_codes(state: &AppState, user_id: i64) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let mut shown = Vec::with_capacity(RECOVERY_CODES);
    let mut hashes = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let mut random = [0u8; RECOVERY_CODE_CHARS];
        getrandom::fill(&mut random).context("Failed to read the OS random source")?;
        // 256 is a multiple of 32: every character is equally likely.
        let code: String = random
            .iter()
            .map(|byte| char::from(RECOVERY_ALPHABET[usize::from(byte % 32)]))
            .collect();
        hashes.push(recovery_code_hash(&state.signing_key, user_id, &code));
        shown.push(format!("{}-{}-{}", &code[..4], &code[4..8], &code[8..]));
    }
    Ok((shown, hashes))
}

fn recovery_code_hash(signing_key: &SigningKey, user_id: i64, code: &str) -> String {
    let mut mac = signing_key.mac("recovery-code");
    mac.update(&user_id.to_be_bytes());
    mac.update(code.as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// What a code given as a second factor comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeVerdict {
    /// A current TOTP code, never used before.
    Accepted,
    /// An unspent recovery code, now spent; this many are left.
    RecoveryCodeAccepted { left: i64 },
    /// Wrong, used already, or neither a code nor a recovery code.
    Refused,
    /// Too many wrong codes: try again after the wait.
    Throttled(Duration),
}

/// Checks `code` (a TOTP code or a recovery code) as `user`'s second factor, from `address`.
///
/// Throttled like a password; an accepted code forgets the account's failures.
///
/// # Errors
/// The store failed, or the account's secret does not open with this site key.
pub async fn check_code(
    state: &AppState,
    user: &UserRow,
    code: &str,
    address: Option<&str>,
) -> anyhow::Result<CodeVerdict> {
    let attempt = Attempt::for_second_factor(user.id, address)?;
    if let Some(wait) = attempt.reserve(state).await? {
        return Ok(CodeVerdict::Throttled(wait));
    }
    let verdict = if let Some(code) = six_digits(code) {
        match state.store.totp_factor(user.id).await? {
            Some(factor) if factor.enabled_at.is_some() => {
                let totp = stored_totp(state, user, &factor.secret_sealed)?;
                match matching_step(&totp, &code, state.clock.now()) {
                    Some(step) if state.store.accept_totp_step(user.id, step).await? => CodeVerdict::Accepted,
                    _ => CodeVerdict::Refused,
                }
            }
            _ => CodeVerdict::Refused,
        }
    } else if let Some(code) = recovery_code_of(code) {
        let hash = recovery_code_hash(&state.signing_key, user.id, &code);
        match state.store.spend_recovery_code(user.id, &hash).await? {
            Some(left) => CodeVerdict::RecoveryCodeAccepted { left },
            None => CodeVerdict::Refused,
        }
    } else {
        CodeVerdict::Refused
    };
    if verdict == CodeVerdict::Refused {
        // The reservation stays: it is now a failure.
        tracing::info!(user_id = user.id, address, "second-factor code refused");
    } else {
        attempt.succeeded(state).await?;
    }
    Ok(verdict)
}

/// Starts the second step of `user`'s sign-in in this browser: a record in the store and a
/// cookie naming it.
///
/// # Errors
/// The store or the OS random source failed.
pub async fn start_second_step(
    state: &AppState,
    cookies: &Cookies,
    user: &UserRow,
    persistent: bool,
    next_path: Option<&str>,
) -> anyhow::Result<()> {
    let token = random_hex(32)?;
    let step = SecondStepRow {
        user_id: user.id,
        persistent,
        next_path: next_path.map(str::to_owned),
    };
    state
        .store
        .add_second_step(
            &refresh::hash(&token),
            &step,
            state.clock.now() + SECOND_STEP_LIFETIME,
        )
        .await?;
    state
        .auth_cookies
        .set_pending(cookies, Pending::SecondStep, token, SECOND_STEP_LIFETIME);
    tracing::info!(
        user_id = user.id,
        "password accepted; waiting for the second factor"
    );
    Ok(())
}

/// The browser's half-finished sign-in, if its cookie names one that has not expired: the
/// record's hash (to end it) and the record.
///
/// # Errors
/// The store failed.
pub async fn pending_second_step(
    state: &AppState,
    cookies: &Cookies,
) -> anyhow::Result<Option<(String, SecondStepRow)>> {
    let Some(token) = state.auth_cookies.read_pending(cookies, Pending::SecondStep) else {
        return Ok(None);
    };
    let hash = refresh::hash(&token);
    Ok(state.store.second_step(&hash).await?.map(|step| (hash, step)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_for_its_account_only_and_only_under_its_key() {
        let key = SigningKey::for_tests();
        let sealer = Sealer::new(&key);
        let sealed = sealer.seal(7, b"twenty bytes secret!").unwrap();
        assert_eq!(sealer.open(7, &sealed).unwrap(), b"twenty bytes secret!");
        assert!(sealer.open(8, &sealed).is_err(), "moved to another account");
        assert!(
            Sealer::new(&SigningKey::for_tests()).open(7, &sealed).is_err(),
            "another site key"
        );
        assert_ne!(
            sealed,
            sealer.seal(7, b"twenty bytes secret!").unwrap(),
            "a fresh nonce each time"
        );
    }

    #[test]
    fn codes_of_the_steps_next_to_now_match_and_farther_ones_do_not() {
        // RFC 6238's SHA-1 test secret and vector: 59 s gives 94287082 (8 digits), 287082 in 6.
        let totp = Builder::new()
            .with_secret(b"12345678901234567890".to_vec())
            .with_digits(DIGITS)
            .with_skew(SKEW_STEPS)
            .with_step_duration(STEP_SECONDS)
            .build()
            .unwrap();
        let code = |at: u64| totp.generate(at).to_string();
        assert_eq!(code(59), "287082");
        let now = OffsetDateTime::from_unix_timestamp(59).unwrap();
        assert_eq!(matching_step(&totp, "287082", now), Some(1));
        assert_eq!(matching_step(&totp, &code(89), now), Some(2), "one step ahead");
        assert_eq!(matching_step(&totp, &code(29), now), Some(0), "one step behind");
        assert_eq!(matching_step(&totp, &code(119), now), None, "two steps ahead");
        assert_eq!(matching_step(&totp, "28708", now), None);
    }

    #[test]
    fn recovery_codes_are_read_the_way_people_type_them() {
        assert_eq!(
            recovery_code_of("ABCD-EFGH-JK0M").as_deref(),
            Some("abcdefghjk0m")
        );
        assert_eq!(
            recovery_code_of(" abcd efgh jkOm ").as_deref(),
            Some("abcdefghjk0m")
        );
        assert_eq!(
            recovery_code_of("abcd-efgh-jkIL").as_deref(),
            Some("abcdefghjk11")
        );
        assert_eq!(recovery_code_of("abcd-efgh-jkm"), None, "too short");
        assert_eq!(
            recovery_code_of("abcd-efgh-jkmu"),
            None,
            "U is not in the alphabet"
        );
        assert_eq!(six_digits("123 456").as_deref(), Some("123456"));
        assert_eq!(six_digits("12345a"), None);
    }

    #[test]
    fn recovery_code_hashes_are_keyed_by_the_site_and_the_account() {
        let key = SigningKey::for_tests();
        let hash = recovery_code_hash(&key, 1, "abcdefghjkmn");
        assert_eq!(hash, recovery_code_hash(&key, 1, "abcdefghjkmn"));
        assert_ne!(hash, recovery_code_hash(&key, 2, "abcdefghjkmn"));
        assert_ne!(
            hash,
            recovery_code_hash(&SigningKey::for_tests(), 1, "abcdefghjkmn")
        );
    }
}
