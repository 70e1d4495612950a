//! Brute-force throttling: sign-in attempts counted per account, per device and per client
//! address, in the store (so every instance sees the same counts), across every path that
//! checks a password (the login form, `POST /token`, the current password on /profile), and
//! the second-factor codes that follow a right password.
//!
//! An attempt is a *reservation*: it is counted, atomically, before its password is checked,
//! and taken back only when the password was right or was never checked (see
//! `auth::credentials`). So attempts racing each other see each other: however many arrive at
//! once, only the free ones reach the password check.
//!
//! Past a few free failures each further attempt must wait twice as long as the last, up to
//! [`MAX_WAIT`]; while a subject is waiting, even the right password is refused, so guessing
//! cannot go faster than the waits allow. An unknown username is counted exactly like a real
//! one: the answers give no hint which names exist.
//!
//! A browser with a device cookie for the account (see `auth::device`) is counted on its own
//! (OWASP's device cookies): a stranger's guesses make strangers wait, never the owner's
//! browser. No one is ever kept waiting for longer than [`MAX_WAIT`] after their last failure.

use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::domain::Username;
use crate::server::random::{hex, random_hex};
use crate::server::state::AppState;
use crate::server::store::{AttemptHistory, StoreError};

/// Failures older than this are forgotten.
const WINDOW: time::Duration = time::Duration::minutes(15);
/// Failures per account (from browsers without its device cookie) before waits begin.
const FREE_PER_ACCOUNT: i64 = 5;
/// Failures per device cookie before waits begin.
const FREE_PER_DEVICE: i64 = 5;
/// Failures per address before waits begin (several people may share one address).
const FREE_PER_ADDRESS: i64 = 20;
/// The first wait; each further failure doubles it.
const FIRST_WAIT: Duration = Duration::from_secs(1);
/// The longest wait there can ever be.
pub const MAX_WAIT: Duration = Duration::from_secs(5 * 60);

/// Who is trying: the account named (whether or not it exists), or the device the owner
/// signed in from before, and the client's address.
pub struct Attempt {
    /// Names this attempt's reservation in the store.
    id: String,
    subjects: Vec<Subject>,
}

/// What one attempt is counted against.
struct Subject {
    key: String,
    /// Failures before waits begin.
    free: i64,
    /// A success forgets this subject's failures: an account's or a device's, never an
    /// address's (one good password must not reset a guessing run against other accounts).
    cleared_by_success: bool,
}

/// `account:<lower-case name>` for a name that could be a username; for anything else (too
/// long, NUL, other scripts: no account can have it) `account:sha256:<digest>`, so that what
/// the store keeps is short and plain text whatever a client sends.
fn account_subject(username: &str) -> String {
    match Username::parse(username) {
        Ok(name) => format!("account:{}", name.as_str().to_lowercase()),
        Err(_) => format!("account:sha256:{}", hex(&Sha256::digest(username.as_bytes()))),
    }
}

/// The client address as a subject: more free failures (several people may share one), and
/// never cleared by a success (one good password must not reset a guessing run against other
/// accounts).
fn address_subject(address: &str) -> Subject {
    Subject {
        key: format!("address:{address}"),
        free: FREE_PER_ADDRESS,
        cleared_by_success: false,
    }
}

impl Attempt {
    /// An attempt to sign in as `username` from `address` (if known), from a browser whose
    /// valid device cookie for that account has id `device` (if any).
    ///
    /// With a device cookie the attempt is counted against that device alone: the owner's
    /// browser is kept apart from the account's and the address's strangers. Without one, it
    /// is counted against the account and the address.
    ///
    /// # Errors
    /// The OS random source failed.
    pub fn new(username: &str, address: Option<&str>, device: Option<&str>) -> anyhow::Result<Self> {
        let subjects = match device {
            Some(device) => vec![Subject {
                key: format!("device:{device}"),
                free: FREE_PER_DEVICE,
                cleared_by_success: true,
            }],
            None => {
                let account = Subject {
                    key: account_subject(username),
                    free: FREE_PER_ACCOUNT,
                    cleared_by_success: true,
                };
                let address = address.map(address_subject);
                std::iter::once(account).chain(address).collect()
            }
        };
        Ok(Self {
            id: random_hex(16)?,
            subjects,
        })
    }

    /// A second-factor code for the account with id `user_id` (whose password was right),
    /// counted against that account's codes and against `address`.
    ///
    /// # Errors
    /// The OS random source failed.
    pub fn for_second_factor(user_id: i64, address: Option<&str>) -> anyhow::Result<Self> {
        let codes = Subject {
            key: format!("code:{user_id}"),
            free: FREE_PER_ACCOUNT,
            cleared_by_success: true,
        };
        let address = address.map(address_subject);
        Ok(Self {
            id: random_hex(16)?,
            subjects: std::iter::once(codes).chain(address).collect(),
        })
    }

    /// An attempt with no account to name (a refresh token, say), counted against `address`.
    ///
    /// # Errors
    /// The OS random source failed.
    pub fn from_address(address: Option<&str>) -> anyhow::Result<Self> {
        let subjects = address.map(address_subject).into_iter().collect();
        Ok(Self {
            id: random_hex(16)?,
            subjects,
        })
    }

    /// Counts this attempt before its password is checked, or, when a subject must still
    /// wait, says how long (and counts nothing). Until [`Attempt::succeeded`] or
    /// [`Attempt::abandoned`], a reserved attempt counts as a failure.
    ///
    /// # Errors
    /// Database failures.
    pub async fn reserve(&self, state: &AppState) -> Result<Option<Duration>, StoreError> {
        let now = state.clock.now();
        let keys: Vec<&str> = self.subjects.iter().map(|subject| subject.key.as_str()).collect();
        let wait_for = |key: &str, history: AttemptHistory| {
            let free = self
                .subjects
                .iter()
                .find(|subject| subject.key == key)
                .map_or(FREE_PER_ACCOUNT, |subject| subject.free);
            let latest = history.latest?;
            let remaining: Duration = (latest + wait_after(history.count, free) - now)
                .try_into()
                .unwrap_or(Duration::ZERO);
            (!remaining.is_zero()).then_some(remaining)
        };
        let wait = state
            .store
            .reserve_attempt(&self.id, &keys, now - WINDOW, now, &wait_for)
            .await?;
        if let Some(wait) = wait {
            tracing::info!(wait_seconds = wait.as_secs(), "attempt throttled");
        }
        Ok(wait)
    }

    /// The password was right: the reservation is taken back and the account's (or device's)
    /// failures are forgotten.
    ///
    /// # Errors
    /// Database failures.
    pub async fn succeeded(&self, state: &AppState) -> Result<(), StoreError> {
        self.abandoned(state).await?;
        for subject in self.subjects.iter().filter(|subject| subject.cleared_by_success) {
            state.store.clear_attempts(&subject.key).await?;
        }
        Ok(())
    }

    /// The request failed for a reason other than its password (a bad scope, say): the
    /// reservation is taken back, and no failure is forgotten.
    ///
    /// # Errors
    /// Database failures.
    pub async fn abandoned(&self, state: &AppState) -> Result<(), StoreError> {
        state.store.release_attempt(&self.id).await
    }
}

/// A wait as `Retry-After` says it: whole seconds, rounded up, at least one.
pub fn retry_after_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// The wait after `failures` failures, of which `free` cost nothing.
fn wait_after(failures: i64, free: i64) -> Duration {
    if failures < free {
        return Duration::ZERO;
    }
    let doublings = u32::try_from(failures - free).unwrap_or(u32::MAX).min(20);
    FIRST_WAIT.saturating_mul(1 << doublings).min(MAX_WAIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_subjects_are_short_plain_text_whatever_the_name() {
        assert_eq!(account_subject("JohnDoe"), "account:johndoe");
        for hostile in ["john\0doe", &"a".repeat(10_000), "' OR 1=1--", "jоhndoe"] {
            let subject = account_subject(hostile);
            assert!(
                subject.starts_with("account:sha256:") && subject.len() == 79,
                "{subject}"
            );
        }
        assert_ne!(account_subject("' OR 1=1--"), account_subject("' OR 1=2--"));
    }

    #[test]
    fn waits_start_after_the_free_failures_double_and_stop_at_the_maximum() {
        assert_eq!(wait_after(4, 5), Duration::ZERO);
        assert_eq!(wait_after(5, 5), Duration::from_secs(1));
        assert_eq!(wait_after(6, 5), Duration::from_secs(2));
        assert_eq!(wait_after(9, 5), Duration::from_secs(16));
        assert_eq!(wait_after(50, 5), MAX_WAIT);
        assert_eq!(wait_after(i64::MAX, 5), MAX_WAIT);
    }

    #[test]
    fn account_names_are_counted_without_regard_to_case() {
        let attempt = Attempt::new("JohnDoe", Some("10.0.0.1"), None).unwrap();
        let keys: Vec<&str> = attempt
            .subjects
            .iter()
            .map(|subject| subject.key.as_str())
            .collect();
        assert_eq!(keys, ["account:johndoe", "address:10.0.0.1"]);
    }

    #[test]
    fn the_owners_device_is_counted_apart_from_the_account_and_the_address() {
        let attempt = Attempt::new("JohnDoe", Some("10.0.0.1"), Some("d1")).unwrap();
        let keys: Vec<&str> = attempt
            .subjects
            .iter()
            .map(|subject| subject.key.as_str())
            .collect();
        assert_eq!(keys, ["device:d1"]);
    }
}
