//! Device cookies (OWASP's "Slow down online guessing attacks with device cookies"): a browser
//! that has signed in to an account carries a cookie, signed with the site's key, naming that
//! account. Attempts from it are throttled on their own count, apart from everyone else's
//! attempts against the account, so that a stranger guessing passwords from elsewhere makes
//! the stranger wait, never the owner.
//!
//! The cookie is not a credential: it grants nothing but a separate count, and it is issued
//! only after a correct password.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::domain::Username;
use crate::server::auth::signing_key::SigningKey;
use crate::server::random::random_hex;

/// The first field of every device cookie; a future format gets another.
const VERSION: &str = "v1";

/// A device cookie's value for `username`: `v1:<lower-case name>:<random id>:<signature>`.
///
/// # Errors
/// The OS random source failed.
pub fn issue(key: &SigningKey, username: &str) -> anyhow::Result<String> {
    let payload = format!("{VERSION}:{}:{}", username.to_ascii_lowercase(), random_hex(16)?);
    Ok(format!("{payload}:{}", sign(key, &payload)))
}

/// The device's id when `cookie` is a device cookie this site issued for `username` (any
/// letter case); `None` for anything else: another account's, forged or malformed.
pub fn device_for(key: &SigningKey, cookie: &str, username: &str) -> Option<String> {
    let (payload, signature) = cookie.rsplit_once(':')?;
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    mac(key, payload).verify_slice(&signature).ok()?;
    let mut fields = payload.split(':');
    let (Some(VERSION), Some(name), Some(id), None) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return None;
    };
    let asked = Username::parse(username).ok()?;
    (name == asked.as_str().to_ascii_lowercase()).then(|| id.to_owned())
}

fn sign(key: &SigningKey, payload: &str) -> String {
    URL_SAFE_NO_PAD.encode(mac(key, payload).finalize().into_bytes())
}

fn mac(key: &SigningKey, payload: &str) -> Hmac<Sha256> {
    let mut mac = key.mac("gatehouse device cookie");
    mac.update(payload.as_bytes());
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_cookie_names_its_account_in_any_letter_case_and_no_other() {
        let key = SigningKey::for_tests();
        let cookie = issue(&key, "Alice").unwrap();
        let id = device_for(&key, &cookie, "alice").expect("valid for its account");
        assert_eq!(device_for(&key, &cookie, "ALICE"), Some(id));
        assert_eq!(device_for(&key, &cookie, "bob"), None);
        assert_ne!(issue(&key, "alice").unwrap(), cookie, "each device its own id");
    }

    #[test]
    fn forged_edited_or_foreign_cookies_are_not_devices() {
        let key = SigningKey::for_tests();
        let cookie = issue(&key, "alice").unwrap();
        let edited = cookie.replacen("alice", "mallory", 1);
        assert_eq!(device_for(&key, &edited, "mallory"), None);
        assert_eq!(
            device_for(&SigningKey::for_tests(), &cookie, "alice"),
            None,
            "another site's key"
        );
        for garbage in ["", "v1:alice", "v1:alice:id:", ":::", "v2:alice:id:sig", "\u{0}"] {
            assert_eq!(device_for(&key, garbage, "alice"), None, "{garbage:?}");
        }
    }
}
