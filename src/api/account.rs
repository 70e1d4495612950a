//! The signed-in user's own account.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::Password;
use crate::error::AppError;

/// What the browser may know about the signed-in user: no hash, no token, no ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub username: String,
    pub full_name: Option<String>,
    pub email: Option<String>,
    pub admin: bool,
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
    crate::server::auth::current_user::summary()
        .await
        .map_err(crate::server::errors::with_status)
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
    crate::server::auth::session::change_password(current_password, new_password, confirm_password)
        .await
        .map_err(crate::server::errors::with_status)
}
