//! User administration for administrators (`/admin/users`): the table, one user's page and its
//! actions. Every function here is `Admin` in [`super::SERVER_FUNCTIONS`], and every action is a
//! form post, so the pages work without JavaScript.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::Password;
use crate::error::AppError;

/// One user as the administrators' pages show them: no hash, no token, no ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedUser {
    pub username: String,
    pub full_name: Option<String>,
    pub email: Option<String>,
    pub disabled: bool,
    pub admin: bool,
    /// Holds a temporary password, to be replaced at the next sign-in.
    pub must_change_password: bool,
    /// "28 November 2026, 14:05 UTC".
    pub created: String,
}

/// One page of the user table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserList {
    pub users: Vec<ManagedUser>,
    /// Passed back as `after` for the next page, when there is one.
    pub next: Option<String>,
}

/// One user's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserOverview {
    pub user: ManagedUser,
    /// How many sessions of theirs are live.
    pub live_sessions: usize,
    /// When they last used a session, if ever.
    pub last_seen: Option<String>,
    /// Their sign-in asks for a code after the password.
    pub two_step: bool,
    /// How many passkeys they can sign in with.
    pub passkeys: usize,
    /// The administrator is looking at their own account.
    pub is_you: bool,
}

/// What an administrator can do to an account with one button.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserAction {
    /// Stop them signing in; every session ends at once.
    Disable,
    Enable,
    GrantAdmin,
    RevokeAdmin,
    /// Sign them out everywhere.
    EndSessions,
    /// Delete the account with its sessions and items (the audit trail stays).
    Delete,
    /// Remove their two-step sign-in and passkeys (after checking who they are some other
    /// way); every session of theirs ends.
    ResetTwoStep,
}

impl UserAction {
    /// What the page says once the action is done.
    pub fn done(self) -> &'static str {
        match self {
            Self::Disable => "Account disabled: every session of theirs has ended.",
            Self::Enable => "Account enabled: they can sign in again.",
            Self::GrantAdmin => "They are now an administrator.",
            Self::RevokeAdmin => "They are no longer an administrator.",
            Self::EndSessions => "Signed out everywhere.",
            Self::Delete => "Account deleted.",
            Self::ResetTwoStep => {
                "Two-step sign-in and passkeys removed, and signed out everywhere: they sign in with their password alone now."
            }
        }
    }
}

/// A page of users: `search` (username, name or email, ignoring case), `status` (`active`,
/// `disabled`, `admins`; anything else is all), `sort` (`newest`; else by name) and `after`
/// (the previous page's `next`).
///
/// # Errors
/// [`AppError::AdminRequired`] for anyone but an administrator, or a store failure.
#[server(endpoint = "admin/list_users")]
pub async fn list_users(
    search: Option<String>,
    status: Option<String>,
    sort: Option<String>,
    after: Option<String>,
) -> Result<UserList, AppError> {
    crate::server::admin::pages::list_users(search, status, sort, after).await
}

/// One user's details.
///
/// # Errors
/// [`AppError::AdminRequired`], [`crate::error::Problem::UnknownUser`], or a store failure.
#[server(endpoint = "admin/user_details")]
pub async fn user_details(username: String) -> Result<UserOverview, AppError> {
    crate::server::admin::pages::user_details(username).await
}

/// Creates an account with the same rules as `gatehouse user add`, then shows its page.
///
/// # Errors
/// [`AppError::AdminRequired`], [`AppError::Invalid`] naming the field's rule or a taken
/// username, or a store failure.
#[server(endpoint = "admin/create_user")]
pub async fn create_user(
    username: String,
    full_name: Option<String>,
    email: Option<String>,
    password: Password,
    admin: Option<String>,
) -> Result<(), AppError> {
    crate::server::admin::pages::create_user(username, full_name, email, password, admin.is_some()).await
}

/// Replaces an account's full name and email (empty clears them).
///
/// # Errors
/// [`AppError::AdminRequired`], [`AppError::Invalid`], or a store failure.
#[server(endpoint = "admin/edit_user")]
pub async fn edit_user(
    username: String,
    full_name: Option<String>,
    email: Option<String>,
) -> Result<(), AppError> {
    crate::server::admin::pages::edit_user(username, full_name, email).await
}

/// Applies `action` to the account and returns it. Deleting needs `confirm` to repeat the
/// username, and returns to the user table.
///
/// # Errors
/// [`AppError::AdminRequired`], [`AppError::Invalid`] (unknown user, the last administrator, an
/// unconfirmed deletion), or a store failure.
#[server(endpoint = "admin/act_on_user")]
pub async fn act_on_user(
    username: String,
    action: UserAction,
    confirm: Option<String>,
) -> Result<UserAction, AppError> {
    crate::server::admin::pages::act_on_user(username, action, confirm).await
}

/// Sets a temporary password, which the person must replace at their next sign-in; their
/// sessions end.
///
/// # Errors
/// [`AppError::AdminRequired`], [`AppError::Invalid`] (the password policy, unknown user), or a
/// store failure.
#[server(endpoint = "admin/set_temporary_password")]
pub async fn set_temporary_password(username: String, password: Password) -> Result<(), AppError> {
    crate::server::admin::pages::set_temporary_password(username, password).await
}
