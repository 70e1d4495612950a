//! Refresh tokens: opaque, 256 random bits, stored only as a SHA-256 hash.
//!
//! The token that replaces a spent one is derived from it with HMAC under the site's key, so any
//! instance that sees the same spent token computes the same successor. That is what lets a
//! refresh racing another one (two tabs, two instances) within the grace window receive the same
//! new token instead of being taken for a thief.

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::server::auth::signing_key::SigningKey;

/// A new, random refresh token.
///
/// # Errors
/// The OS random source failed.
pub fn generate() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).context("Failed to read the OS random source")?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The token that replaces `token` once it is spent.
pub fn successor(key: &SigningKey, token: &str) -> String {
    // Cannot fail: HMAC accepts keys of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(key.expose()).expect("HMAC takes any key length");
    mac.update(b"gatehouse refresh token successor\0");
    mac.update(token.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// What the store keeps of a token: its SHA-256, hex. A stolen database yields no usable token.
pub fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        let dir = tempfile::tempdir().unwrap();
        SigningKey::load_or_generate(&dir.path().join("k")).unwrap()
    }

    #[test]
    fn tokens_are_256_random_bits() {
        let (a, b) = (generate().unwrap(), generate().unwrap());
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
        assert_ne!(a, b);
    }

    #[test]
    fn the_successor_is_the_same_every_time_and_secret_without_the_key() {
        let key = key();
        let token = generate().unwrap();
        assert_eq!(successor(&key, &token), successor(&key, &token));
        assert_ne!(successor(&key, &token), successor(&self::key(), &token));
        assert_ne!(successor(&key, &token), token);
    }

    #[test]
    fn the_stored_hash_is_sha256_hex() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
