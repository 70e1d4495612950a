//! The signed-in user's own account.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::Password;
use crate::error::AppError;

/// What the browser may know about the signed-in user: no hash, no token, no ids.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UserSummary {
    pub username: String,
    pub full_name: Option<String>,
    pub email: Option<String>,
    /// The address was proved by following a link mailed to it.
    pub email_verified: bool,
    pub admin: bool,
    /// Their password was set by an administrator: they must choose their own first.
    pub must_change_password: bool,
    /// When this session started, e.g. "28 November 2026, 14:05 UTC".
    pub signed_in_at: String,
    /// When the account was created, in the same format.
    pub member_since: String,
}

impl UserSummary {
    /// The name to greet the user by: their full name, else their username.
    pub fn display_name(&self) -> &str {
        self.full_name.as_deref().unwrap_or(&self.username)
    }
}

/// The signed-in user, or `None` for a visitor.
///
/// # Errors
/// Only when the store fails.
#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<Option<UserSummary>, AppError> {
    crate::server::auth::current_user::summary().await
}

/// Changes the signed-in user's password after checking the current one; the new one must pass
/// the policy and differ from the current one. Ends the user's other sessions.
///
/// # Errors
/// [`AppError::SignInRequired`], [`AppError::WrongCurrentPassword`], or
/// [`AppError::Invalid`] saying which rule the new password breaks.
#[server(endpoint = "change_password")]
pub async fn change_password(
    current_password: Password,
    new_password: Password,
    confirm_password: Password,
) -> Result<(), AppError> {
    crate::server::auth::actions::change_password(current_password, new_password, confirm_password).await
}

/// One of the signed-in user's sessions, as the sessions list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSummary {
    /// Names the session for [`revoke_session`]; useless without the session's tokens.
    pub id: String,
    /// "Firefox on Linux".
    pub browser: String,
    /// The address it signed in from, when known.
    pub address: Option<String>,
    pub started: String,
    pub last_used: String,
    /// The session of the browser asking.
    pub this_device: bool,
}

/// The signed-in user's live sessions, most recently used first.
///
/// # Errors
/// [`AppError::SignInRequired`], or a store failure.
#[server(endpoint = "sessions")]
pub async fn list_sessions() -> Result<Vec<SessionSummary>, AppError> {
    crate::server::auth::actions::list_sessions().await
}

/// Ends one of the signed-in user's sessions; it stops working at its next request.
///
/// # Errors
/// [`AppError::SignInRequired`], [`AppError::Invalid`] for a session that is not theirs or has
/// ended, or a store failure.
#[server(endpoint = "revoke_session")]
pub async fn revoke_session(id: String) -> Result<(), AppError> {
    crate::server::auth::actions::revoke_session(id).await
}

/// Ends every session of the signed-in user but this one; returns how many ended.
///
/// # Errors
/// [`AppError::SignInRequired`], or a store failure.
#[server(endpoint = "revoke_other_sessions")]
pub async fn revoke_other_sessions() -> Result<u64, AppError> {
    crate::server::auth::actions::revoke_other_sessions().await
}
