//! Checking a username and password: the one path both the login form and `POST /token` take,
//! throttled against brute force.

use std::time::Duration;

use secrecy::SecretString;

use crate::domain::Username;
use crate::server::auth::password::MAX_CHARS;
use crate::server::auth::throttle::Attempt;
use crate::server::state::AppState;
use crate::server::store::UserRow;

/// What a sign-in attempt comes to.
#[derive(Debug)]
pub enum Verdict {
    /// The password is the user's and the account is active.
    SignedIn(UserRow),
    /// An unknown user, a wrong password or a disabled account: no telling which.
    Refused,
    /// Too many recent failures for this account or address: try again after the wait.
    Throttled(Duration),
}

/// Checks `password` for `username`, from the client at `address`.
///
/// Every attempt that is not throttled costs one argon2 verification, against a dummy hash when
/// the user does not exist, so the three refusals look and take the same. An over-long password
/// cannot match (the policy never accepted one) and is refused before hashing.
///
/// # Errors
/// The store or the argon2 threads failed.
pub async fn authenticate(
    state: &AppState,
    username: &str,
    password: &str,
    address: Option<&str>,
) -> anyhow::Result<Verdict> {
    let attempt = Attempt::new(Some(username), address);
    if let Some(wait) = attempt.wait(state).await? {
        tracing::info!(address, wait_seconds = wait.as_secs(), "sign-in throttled");
        return Ok(Verdict::Throttled(wait));
    }
    let user = match Username::parse(username) {
        Ok(name) => state.store.find_user(&name).await?,
        Err(_) => None,
    };
    let matches = password.chars().count() <= MAX_CHARS
        && state
            .passwords
            .verify(
                &SecretString::from(password),
                user.as_ref().map(UserRow::password_hash).as_ref(),
            )
            .await?;
    match user.filter(|user| matches && !user.disabled) {
        Some(user) => {
            attempt.succeeded(state).await?;
            Ok(Verdict::SignedIn(user))
        }
        None => {
            attempt.failed(state).await?;
            tracing::info!(address, "sign-in refused");
            Ok(Verdict::Refused)
        }
    }
}
