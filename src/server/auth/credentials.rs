//! Checking a username and password: the one path both the login form and `POST /token` take.

use secrecy::SecretString;

use crate::domain::Username;
use crate::server::auth::password::MAX_CHARS;
use crate::server::state::AppState;
use crate::server::store::UserRow;

/// The user when `password` is theirs and the account is active; `None` for an unknown user, a
/// wrong password and a disabled account alike.
///
/// Every attempt costs one argon2 verification, against a dummy hash when the user does not
/// exist, so the three failures look and take the same. An over-long password cannot match
/// (the policy never accepted one) and is refused before hashing.
///
/// # Errors
/// The store or the argon2 threads failed.
pub async fn authenticate(
    state: &AppState,
    username: &str,
    password: &str,
) -> anyhow::Result<Option<UserRow>> {
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
    Ok(user.filter(|user| matches && !user.disabled))
}
