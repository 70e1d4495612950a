//! Passwords: the policy a new password must pass, and argon2id hashing and verification.
//!
//! argon2 is deliberately slow and memory-hungry (19 MiB per call with these parameters), so it
//! never runs on an async worker: every call goes to the blocking pool, and a semaphore caps how
//! many run at once. A flood of sign-ins then queues instead of growing memory without bound.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock};

use anyhow::Context;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{OnceCell, Semaphore};

/// Shortest password accepted, in characters (OWASP ASVS 2.1.1).
pub const MIN_CHARS: usize = 8;
/// Longest password accepted, in characters: long passphrases are welcome, unbounded input to
/// argon2 is not.
pub const MAX_CHARS: usize = 1024;

/// The most common passwords of at least eight characters, lower case, one a line: the list
/// Django ships (20,000 common passwords compiled by Royce Williams), filtered to the lengths
/// our policy would otherwise accept.
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("common-passwords.txt").lines().collect());

/// Why a new password is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeakPassword {
    #[error("the password must be at least {MIN_CHARS} characters long")]
    TooShort,
    #[error("the password must be at most {MAX_CHARS} characters long")]
    TooLong,
    #[error("the password is one of the most commonly used passwords; choose another")]
    TooCommon,
}

/// Checks a new password against the policy: 8 to 1024 characters of any kind, not on the list
/// of common passwords. The password is taken exactly as given: never trimmed, never truncated.
///
/// # Errors
/// The rule the password breaks.
pub fn check_policy(password: &SecretString) -> Result<(), WeakPassword> {
    let password = password.expose_secret();
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(WeakPassword::TooShort);
    }
    if chars > MAX_CHARS {
        return Err(WeakPassword::TooLong);
    }
    if COMMON_PASSWORDS.contains(password.to_lowercase().as_str()) {
        return Err(WeakPassword::TooCommon);
    }
    Ok(())
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`): safe to store, still never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string read from the store.
    pub fn from_stored(phc: String) -> Self {
        Self(phc)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

/// Hashes and verifies passwords off the async workers, a bounded number at a time.
#[derive(Clone, Debug)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    /// Hash of a random password, verified against when the user does not exist so that an
    /// unknown username costs the same time as a wrong password (no enumeration by timing).
    dummy_hash: Arc<OnceCell<PasswordHash>>,
}

impl Default for Passwords {
    fn default() -> Self {
        Self::new()
    }
}

impl Passwords {
    /// At most one argon2 computation per core: more would only queue inside the CPU while each
    /// holds its 19 MiB.
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            permits: Arc::new(Semaphore::new(cores)),
            dummy_hash: Arc::default(),
        }
    }

    /// Hashes `password` with argon2id, the production parameters and a fresh random salt.
    ///
    /// # Errors
    /// The OS random source or the blocking pool failed.
    #[tracing::instrument(skip_all)]
    pub async fn hash(&self, password: &SecretString) -> anyhow::Result<PasswordHash> {
        let password = password.clone();
        self.run_blocking(move || {
            let mut salt = [0u8; 16];
            getrandom::fill(&mut salt).context("Failed to read the OS random source")?;
            let salt = SaltString::encode_b64(&salt).context("Failed to encode a salt")?;
            let phc = argon2id()
                .hash_password(password.expose_secret().as_bytes(), &salt)
                .context("Failed to hash a password")?;
            Ok(PasswordHash(phc.to_string()))
        })
        .await
    }

    /// Checks `password` against `stored`, or against a dummy hash when there is no stored hash,
    /// so that both cases take the same time. Returns `false` for a mismatch, for a missing
    /// user and for a stored hash that cannot be parsed.
    ///
    /// # Errors
    /// Only when the blocking pool fails; a wrong password is `Ok(false)`.
    #[tracing::instrument(skip_all)]
    pub async fn verify(
        &self,
        password: &SecretString,
        stored: Option<&PasswordHash>,
    ) -> anyhow::Result<bool> {
        let (phc, user_exists) = match stored {
            Some(hash) => (hash.clone(), true),
            None => (self.dummy_hash().await?.clone(), false),
        };
        let password = password.clone();
        let matches = self
            .run_blocking(move || {
                let Ok(parsed) = argon2::PasswordHash::new(phc.as_str()) else {
                    tracing::error!("a stored password hash is not a valid PHC string");
                    return Ok(false);
                };
                // The parameters come from the PHC string, so hashes made with older settings
                // still verify.
                Ok(argon2id()
                    .verify_password(password.expose_secret().as_bytes(), &parsed)
                    .is_ok())
            })
            .await?;
        Ok(matches && user_exists)
    }

    async fn dummy_hash(&self) -> anyhow::Result<&PasswordHash> {
        self.dummy_hash
            .get_or_try_init(|| async {
                let mut random = [0u8; 32];
                getrandom::fill(&mut random).context("Failed to read the OS random source")?;
                let throwaway: String = random.iter().map(|byte| format!("{byte:02x}")).collect();
                self.hash(&SecretString::from(throwaway)).await
            })
            .await
    }

    async fn run_blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .context("The password hasher is shut down")?;
        tokio::task::spawn_blocking(work)
            .await
            .context("A password task panicked")?
    }
}

/// argon2id with the OWASP minimum: 19 MiB of memory, 2 passes, 1 lane.
fn argon2id() -> Argon2<'static> {
    // Cannot fail: the constants are within argon2's documented bounds.
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(text: &str) -> SecretString {
        SecretString::from(text.to_owned())
    }

    #[test]
    fn policy_counts_characters_not_bytes() {
        assert_eq!(check_policy(&secret("seven77")), Err(WeakPassword::TooShort));
        // Eight characters, sixteen bytes: long enough.
        assert_eq!(check_policy(&secret("ééééééé1")), Ok(()));
        assert_eq!(check_policy(&secret(&"x".repeat(1024))), Ok(()));
        assert_eq!(
            check_policy(&secret(&"x".repeat(1025))),
            Err(WeakPassword::TooLong)
        );
    }

    #[test]
    fn policy_refuses_common_passwords_in_any_case() {
        for common in ["password1", "PASSWORD1", "iloveyou", "1q2w3e4r5t", "qwertyuiop"] {
            assert_eq!(
                check_policy(&secret(common)),
                Err(WeakPassword::TooCommon),
                "{common}"
            );
        }
        assert_eq!(check_policy(&secret("correct horse battery staple")), Ok(()));
    }

    #[test]
    fn policy_keeps_spaces_as_part_of_the_password() {
        // "  short " is eight characters only because its spaces count: they are never trimmed.
        assert_eq!(check_policy(&secret("  short ")), Ok(()));
    }

    #[tokio::test]
    async fn hash_round_trip_uses_argon2id_with_the_production_parameters() {
        let passwords = Passwords::new();
        let hash = passwords
            .hash(&secret("correct horse battery staple"))
            .await
            .unwrap();
        assert!(
            hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            hash.as_str()
        );
        assert!(
            passwords
                .verify(&secret("correct horse battery staple"), Some(&hash))
                .await
                .unwrap()
        );
        assert!(
            !passwords
                .verify(&secret("correct horse battery stapl"), Some(&hash))
                .await
                .unwrap()
        );
        assert!(
            !passwords
                .verify(&secret("correct horse battery staple "), Some(&hash))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn the_same_password_hashes_differently_each_time() {
        let passwords = Passwords::new();
        let first = passwords
            .hash(&secret("correct horse battery staple"))
            .await
            .unwrap();
        let second = passwords
            .hash(&secret("correct horse battery staple"))
            .await
            .unwrap();
        assert_ne!(first, second);
    }

    #[tokio::test]
    async fn a_missing_user_or_a_broken_hash_never_verifies() {
        let passwords = Passwords::new();
        assert!(!passwords.verify(&secret("anything at all"), None).await.unwrap());
        let broken = PasswordHash::from_stored("not a phc string".into());
        assert!(
            !passwords
                .verify(&secret("anything at all"), Some(&broken))
                .await
                .unwrap()
        );
    }

    #[test]
    fn a_hash_never_shows_in_debug_output() {
        let hash = PasswordHash::from_stored("$argon2id$v=19$secret".into());
        assert_eq!(format!("{hash:?}"), "PasswordHash(<redacted>)");
    }
}
