//! Checking a password: the one path the login form, `POST /token` and the current-password
//! check on /profile all take, throttled against brute force.

use std::time::Duration;

use secrecy::SecretString;

use crate::domain::Username;
use crate::server::auth::password::{MAX_CHARS, Ticket};
use crate::server::auth::throttle::Attempt;
use crate::server::metrics::SignInOutcome;
use crate::server::state::AppState;
use crate::server::store::UserRow;

/// Where an attempt comes from: what throttling counts it against.
#[derive(Debug, Clone, Copy, Default)]
pub struct AttemptSource<'a> {
    /// The client's address, when known.
    pub address: Option<&'a str>,
    /// The device cookie the browser sent, if any (checked here against the account named).
    pub device_cookie: Option<&'a str>,
}

/// What a password check comes to.
#[derive(Debug)]
pub enum Verdict {
    /// The password is the user's and the account is active. The attempt still counts until
    /// the caller says whether the request as a whole went through.
    Verified(Verified),
    /// An unknown user, a wrong password or a disabled account: no telling which.
    Refused,
    /// Too many recent failures for this account, device or address: try again after the wait.
    Throttled(Duration),
}

/// A correct password, whose attempt is still reserved: [`Verified::confirm`] once the request
/// succeeds (its failures are then forgotten), [`Verified::abandon`] when it fails for another
/// reason (nothing is forgotten: a failed request never clears failures).
#[must_use = "confirm or abandon the attempt"]
pub struct Verified {
    pub user: UserRow,
    attempt: Attempt,
}

impl std::fmt::Debug for Verified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verified")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl Verified {
    /// The request went through: the account's (or device's) failures are forgotten.
    ///
    /// # Errors
    /// Database failures.
    pub async fn confirm(self, state: &AppState) -> anyhow::Result<UserRow> {
        self.attempt.succeeded(state).await?;
        Ok(self.user)
    }

    /// The request failed after all: the attempt no longer counts, nothing else changes.
    ///
    /// # Errors
    /// Database failures.
    pub async fn abandon(self, state: &AppState) -> anyhow::Result<()> {
        self.attempt.abandoned(state).await?;
        Ok(())
    }
}

/// Checks `password` for `username`.
///
/// The attempt is counted before the password is checked (see `auth::throttle`), and taken back
/// when the check never ran: turned away because the argon2 queue was full, or given up by its
/// client while it waited for a thread. Every attempt that is not throttled costs one argon2
/// verification, against a dummy hash when the user does not exist, so the three refusals look
/// and take the same. An over-long password cannot
/// match (the policy never accepted one) and is refused before hashing. A hash made with older
/// parameters is replaced after a correct password.
///
/// # Errors
/// The store or the argon2 threads failed.
pub async fn authenticate(
    state: &AppState,
    username: &str,
    password: &str,
    source: AttemptSource<'_>,
) -> anyhow::Result<Verdict> {
    let user = match Username::parse(username) {
        Ok(name) => state.store.find_user(&name).await?,
        Err(_) => None,
    };
    check(state, username, user, password, source).await
}

/// Checks `password` against the signed-in `user`'s own (the current password asked before a
/// change): throttled and counted exactly like a sign-in, so a stolen session cannot guess it.
///
/// # Errors
/// The store or the argon2 threads failed.
pub async fn recheck(
    state: &AppState,
    user: &UserRow,
    password: &str,
    source: AttemptSource<'_>,
) -> anyhow::Result<Verdict> {
    check(state, &user.username, Some(user.clone()), password, source).await
}

async fn check(
    state: &AppState,
    username: &str,
    user: Option<UserRow>,
    password: &str,
    source: AttemptSource<'_>,
) -> anyhow::Result<Verdict> {
    let device = source
        .device_cookie
        .and_then(|cookie| crate::server::auth::device::device_for(&state.signing_key, cookie, username));
    let attempt = Attempt::new(username, source.address, device.as_deref())?;
    if let Some(wait) = attempt.reserve(state).await? {
        count(state, SignInOutcome::Throttled);
        return Ok(Verdict::Throttled(wait));
    }
    let ticket = Ticket::default();
    let unchecked = Unchecked {
        attempt: Some(attempt),
        ticket: ticket.clone(),
        state: state.clone(),
    };
    let matches = if password.chars().count() <= MAX_CHARS {
        state
            .passwords
            .verify_queued(
                &SecretString::from(password),
                user.as_ref().map(UserRow::password_hash).as_ref(),
                &ticket,
            )
            .await
    } else {
        Ok(false)
    };
    let attempt = unchecked.into_attempt();
    let matches = match matches {
        Ok(matches) => matches,
        Err(error) => {
            // Turned away (the argon2 queue was full): no guess was checked, none is counted.
            if ticket.withdraw() {
                attempt.abandoned(state).await?;
            }
            return Err(error);
        }
    };
    match user.filter(|user| matches && !user.disabled) {
        Some(user) => {
            count(state, SignInOutcome::Success);
            rehash_if_weaker(state, &user, password).await;
            Ok(Verdict::Verified(Verified { user, attempt }))
        }
        None => {
            // The reservation stays: it is now a failure.
            count(state, SignInOutcome::Refused);
            tracing::info!(
                address = source.address,
                device = device.is_some(),
                "password refused"
            );
            Ok(Verdict::Refused)
        }
    }
}

/// A reserved attempt whose password is being checked. Dropped before the check (the client
/// gave up while its job waited for an argon2 thread), the attempt is taken back: no guess was
/// checked and none was answered, so it is no failure. Once the check started, it counts,
/// answered or not: dropping requests cannot buy free guesses.
struct Unchecked {
    attempt: Option<Attempt>,
    ticket: Ticket,
    state: AppState,
}

impl Unchecked {
    /// The check is over (or was never queued): the caller decides what the attempt becomes.
    fn into_attempt(mut self) -> Attempt {
        // Cannot fail: the attempt is `Some` from creation until taken, and only this method,
        // which consumes `self`, and `drop`, which runs after it, take it.
        self.attempt.take().expect("the attempt is taken out only once")
    }
}

impl Drop for Unchecked {
    fn drop(&mut self) {
        let Some(attempt) = self.attempt.take() else {
            return;
        };
        // Drop cannot wait: the store is told on a task of its own (none once the runtime is
        // gone, at shutdown: the attempt then stays counted).
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if !self.ticket.withdraw() {
            return;
        }
        let state = self.state.clone();
        runtime.spawn(async move {
            if let Err(error) = attempt.abandoned(&state).await {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "could not take back the attempt of a sign-in given up before its check"
                );
            }
        });
    }
}

fn count(state: &AppState, outcome: SignInOutcome) {
    if let Some(metrics) = &state.metrics {
        metrics.count_sign_in(outcome);
    }
}

/// Replaces a hash made with another algorithm or weaker parameters, now that the password is
/// at hand. A failure costs nothing but the upgrade: it is logged and tried at the next sign-in.
async fn rehash_if_weaker(state: &AppState, user: &UserRow, password: &str) {
    let old = user.password_hash();
    if !old.needs_rehash() {
        return;
    }
    let outcome = async {
        let new = state.passwords.hash(&SecretString::from(password)).await?;
        state.store.rehash_password(user.id, &old, &new).await?;
        anyhow::Ok(())
    }
    .await;
    match outcome {
        Ok(()) => tracing::info!(user_id = user.id, "password rehashed with the current parameters"),
        Err(error) => tracing::warn!(
            user_id = user.id,
            error = format!("{error:#}"),
            "rehashing a password failed"
        ),
    }
}
