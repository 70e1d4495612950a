//! Brute-force throttling: failed sign-ins counted per account and per client address, in the
//! store (so every instance sees the same counts), across the login form and `POST /token`.
//!
//! Past a few free failures each further attempt must wait twice as long as the last, up to
//! [`MAX_WAIT`]; while an account or address is waiting, even the right password is refused,
//! so guessing cannot go faster than the waits allow. An unknown username is counted exactly
//! like a real one: the answers give no hint which names exist. No one is ever locked out for
//! longer than [`MAX_WAIT`] after their last failure.

use std::time::Duration;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::domain::Username;
use crate::server::random::hex;
use crate::server::state::AppState;
use crate::server::store::StoreError;

/// Failures older than this are forgotten.
const WINDOW: time::Duration = time::Duration::minutes(15);
/// Failures per account before waits begin.
const FREE_PER_ACCOUNT: i64 = 5;
/// Failures per address before waits begin (several people may share one address).
const FREE_PER_ADDRESS: i64 = 20;
/// The first wait; each further failure doubles it.
const FIRST_WAIT: Duration = Duration::from_secs(1);
/// The longest wait there can ever be.
pub const MAX_WAIT: Duration = Duration::from_secs(5 * 60);

/// Who is trying: the account named (whether or not it exists) and the client's address.
pub struct Attempt {
    subjects: Vec<(String, i64)>,
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

impl Attempt {
    /// An attempt to sign in as `username` (if any) from `address` (if known).
    pub fn new(username: Option<&str>, address: Option<&str>) -> Self {
        let mut subjects = Vec::new();
        if let Some(username) = username {
            subjects.push((account_subject(username), FREE_PER_ACCOUNT));
        }
        if let Some(address) = address {
            subjects.push((format!("address:{address}"), FREE_PER_ADDRESS));
        }
        Self { subjects }
    }

    /// How long this attempt must still wait, if it must.
    ///
    /// # Errors
    /// Database failures.
    pub async fn wait(&self, state: &AppState) -> Result<Option<Duration>, StoreError> {
        let now = OffsetDateTime::now_utc();
        let mut longest = None;
        for (subject, free) in &self.subjects {
            let (failures, latest) = state.store.failures_since(subject, now - WINDOW).await?;
            let Some(latest) = latest else { continue };
            let remaining = (latest + wait_after(failures, *free) - now)
                .try_into()
                .unwrap_or(Duration::ZERO);
            if !remaining.is_zero() {
                longest = longest.max(Some(remaining));
            }
        }
        Ok(longest)
    }

    /// Counts a failure against the account and the address.
    ///
    /// # Errors
    /// Database failures.
    pub async fn failed(&self, state: &AppState) -> Result<(), StoreError> {
        let subjects: Vec<String> = self.subjects.iter().map(|(subject, _)| subject.clone()).collect();
        state
            .store
            .record_failure(&subjects, OffsetDateTime::now_utc())
            .await
    }

    /// A success forgets the account's failures (not the address's: one good password must not
    /// reset a guessing run against other accounts).
    ///
    /// # Errors
    /// Database failures.
    pub async fn succeeded(&self, state: &AppState) -> Result<(), StoreError> {
        for (subject, _) in self
            .subjects
            .iter()
            .filter(|(subject, _)| subject.starts_with("account:"))
        {
            state.store.clear_failures(subject).await?;
        }
        Ok(())
    }
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
        let attempt = Attempt::new(Some("JohnDoe"), Some("10.0.0.1"));
        assert_eq!(attempt.subjects[0].0, "account:johndoe");
        assert_eq!(attempt.subjects[1].0, "address:10.0.0.1");
    }
}
