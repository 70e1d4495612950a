//! User administration: the rules behind the admin pages and `/api/admin/users`, on plain
//! values (no Leptos, no HTTP), so that both edges apply the same ones.
//!
//! - `pages` holds the bodies of the admin server functions (the Leptos edge);
//! - `api` the JSON API for scripts at `/api/admin/users...` (the Bearer edge).
//!
//! Who may administer is decided before any of this runs (the route table and
//! [`crate::server::auth::access`]); the rules here are about the accounts: the same policy as
//! the CLI for new accounts, and never leaving the site without an active administrator (the
//! store refuses that in the same transaction as the change).

pub mod api;
pub mod pages;

use secrecy::SecretString;

use crate::api::{AuditAction, UserAction};
use crate::domain::{Email, FullName, Username};
use crate::error::Problem;
use crate::server::audit::{Acting, record};
use crate::server::auth::password;
use crate::server::state::AppState;
use crate::server::store::{NewUser, StoreError, UserFilter, UserOrder, UserRow};
use crate::server::two_step::actions as two_step;

/// Why an administrator's request was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Their input or the request broke a rule; the problem says which.
    #[error("{0}")]
    Refused(Problem),
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

impl From<StoreError> for AdminError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::UnknownUser(_) => Self::Refused(Problem::UnknownUser),
            StoreError::DuplicateUsername(_) => Self::Refused(Problem::UsernameTaken),
            StoreError::LastAdmin(_) => Self::Refused(Problem::LastAdmin),
            StoreError::Unexpected(error) => Self::Failed(error),
        }
    }
}

impl From<Problem> for AdminError {
    fn from(problem: Problem) -> Self {
        Self::Refused(problem)
    }
}

/// What it takes to create an account, as typed.
pub struct NewAccount {
    pub username: String,
    pub full_name: Option<String>,
    pub email: Option<String>,
    pub password: SecretString,
    pub admin: bool,
}

/// A username as typed into a form or a URL.
///
/// # Errors
/// [`Problem::UsernameRules`] (for the name of an account to act on, the caller may prefer
/// [`Problem::UnknownUser`]: no account has an invalid name).
pub fn parse_username(typed: &str) -> Result<Username, Problem> {
    Username::parse(typed.trim()).map_err(|_| Problem::UsernameRules)
}

/// The account called `typed`.
fn existing_name(typed: &str) -> Result<Username, Problem> {
    Username::parse(typed.trim()).map_err(|_| Problem::UnknownUser)
}

/// An optional full name as typed: blank is none.
pub fn parse_full_name(typed: Option<&str>) -> Result<Option<FullName>, Problem> {
    match typed.map(str::trim).filter(|typed| !typed.is_empty()) {
        None => Ok(None),
        Some(typed) => FullName::parse(typed)
            .map(Some)
            .map_err(|_| Problem::FullNameRules),
    }
}

/// An optional email address as typed: blank is none.
pub fn parse_email(typed: Option<&str>) -> Result<Option<Email>, Problem> {
    match typed.map(str::trim).filter(|typed| !typed.is_empty()) {
        None => Ok(None),
        Some(typed) => Email::parse(typed).map(Some).map_err(|_| Problem::EmailRules),
    }
}

/// The table's filter from its query value: `active`, `disabled`, `admins`, else everyone.
pub fn parse_filter(value: Option<&str>) -> UserFilter {
    match value {
        Some("active") => UserFilter::Active,
        Some("disabled") => UserFilter::Disabled,
        Some("admins") => UserFilter::Admins,
        _ => UserFilter::All,
    }
}

/// The table's order from its query value: `newest`, else by name.
pub fn parse_order(value: Option<&str>) -> UserOrder {
    match value {
        Some("newest") => UserOrder::Newest,
        _ => UserOrder::Name,
    }
}

/// The account called `username`.
///
/// # Errors
/// An unknown user, or a store failure.
pub async fn find_user(state: &AppState, username: &str) -> Result<UserRow, AdminError> {
    Ok(state.store.existing_user(&existing_name(username)?).await?)
}

/// Ends every session of the account; returns how many ended.
///
/// # Errors
/// An unknown user, or a store failure.
pub async fn end_sessions(state: &AppState, acting: &Acting, username: &str) -> Result<u64, AdminError> {
    let user = find_user(state, username).await?;
    let ended = state.store.end_sessions_of(user.id).await?;
    if ended > 0 {
        record(&state.store, acting.event(AuditAction::SessionEnded).about(&user)).await;
    }
    Ok(ended)
}

/// Creates an account under the same rules as `gatehouse user add`.
///
/// # Errors
/// A field breaking its rule, the password policy, a taken name, or a store failure.
#[tracing::instrument(skip_all, fields(actor = acting.user_id()))]
pub async fn create_user(state: &AppState, acting: &Acting, new: NewAccount) -> Result<UserRow, AdminError> {
    let username = parse_username(&new.username)?;
    let full_name = parse_full_name(new.full_name.as_deref())?;
    let email = parse_email(new.email.as_deref())?;
    password::check_policy(&new.password).map_err(Problem::from)?;
    if state.store.find_user(&username).await?.is_some() {
        return Err(Problem::UsernameTaken.into());
    }
    let password_hash = state.passwords.hash(&new.password).await?;
    let user = state
        .store
        .create_user(&NewUser {
            username,
            full_name,
            email,
            password_hash,
            admin: new.admin,
            disabled: false,
        })
        .await?;
    record(&state.store, acting.event(AuditAction::UserCreated).about(&user)).await;
    if user.admin {
        record(&state.store, acting.event(AuditAction::AdminGranted).about(&user)).await;
    }
    tracing::info!(
        actor = acting.user_id(),
        user_id = user.id,
        admin = user.admin,
        "user created by an administrator"
    );
    Ok(user)
}

/// Replaces an account's full name and email.
///
/// # Errors
/// A field breaking its rule, an unknown user, or a store failure.
#[tracing::instrument(skip_all, fields(actor = acting.user_id()))]
pub async fn edit_user(
    state: &AppState,
    acting: &Acting,
    username: &str,
    full_name: Option<&str>,
    email: Option<&str>,
) -> Result<UserRow, AdminError> {
    let username = existing_name(username)?;
    let full_name = parse_full_name(full_name)?;
    let email = parse_email(email)?;
    let user = state
        .store
        .update_user_details(&username, full_name.as_ref(), email.as_ref())
        .await?;
    record(&state.store, acting.event(AuditAction::UserEdited).about(&user)).await;
    tracing::info!(
        actor = acting.user_id(),
        user_id = user.id,
        "user edited by an administrator"
    );
    Ok(user)
}

/// Applies one of the buttons of a user's page. Deleting needs `confirm` to repeat the
/// username (any letter case).
///
/// # Errors
/// An unknown user, the last active administrator, an unconfirmed deletion, or a store failure.
#[tracing::instrument(skip_all, fields(actor = acting.user_id(), ?action))]
pub async fn act_on_user(
    state: &AppState,
    acting: &Acting,
    username: &str,
    action: UserAction,
    confirm: Option<&str>,
) -> Result<UserRow, AdminError> {
    let username = existing_name(username)?;
    let user = state.store.existing_user(&username).await?;
    // Only a change that happened is recorded: disabling a disabled account changes nothing.
    let changed = match action {
        UserAction::Disable => state
            .store
            .set_disabled(&username, true)
            .await?
            .then_some(AuditAction::UserDisabled),
        UserAction::Enable => state
            .store
            .set_disabled(&username, false)
            .await?
            .then_some(AuditAction::UserEnabled),
        UserAction::GrantAdmin => state
            .store
            .set_admin(&username, true)
            .await?
            .then_some(AuditAction::AdminGranted),
        UserAction::RevokeAdmin => state
            .store
            .set_admin(&username, false)
            .await?
            .then_some(AuditAction::AdminRevoked),
        UserAction::EndSessions => {
            (state.store.end_sessions_of(user.id).await? > 0).then_some(AuditAction::SessionEnded)
        }
        UserAction::ResetTwoStep => {
            let removed = two_step::reset(&state.store, user.id).await?;
            if removed {
                two_step::notify_change(state, &acting.origin, &user, "removed by an administrator");
            }
            // Sessions end either way: the trail says which happened.
            Some(if removed {
                AuditAction::TwoStepReset
            } else {
                AuditAction::SessionEnded
            })
        }
        UserAction::Delete => {
            let confirmed = confirm.is_some_and(|typed| typed.trim().eq_ignore_ascii_case(&user.username));
            if !confirmed {
                return Err(Problem::DeletionNotConfirmed.into());
            }
            state.store.delete_user(&username).await?;
            Some(AuditAction::UserDeleted)
        }
    };
    if let Some(done) = changed {
        record(&state.store, acting.event(done).about(&user)).await;
    }
    tracing::info!(
        actor = acting.user_id(),
        user_id = user.id,
        ?action,
        "user changed by an administrator"
    );
    Ok(user)
}

/// Sets a temporary password: the person's sessions end, and they must choose their own
/// password at their next sign-in before reaching any other page.
///
/// # Errors
/// The password policy, an unknown user, or a store failure.
#[tracing::instrument(skip_all, fields(actor = acting.user_id()))]
pub async fn set_temporary_password(
    state: &AppState,
    acting: &Acting,
    username: &str,
    password: &SecretString,
) -> Result<UserRow, AdminError> {
    let username = existing_name(username)?;
    password::check_policy(password).map_err(Problem::from)?;
    // Refuse an unknown name before spending a hash on it.
    state.store.existing_user(&username).await?;
    let hash = state.passwords.hash(password).await?;
    let user = state.store.set_password_hash(&username, &hash, true).await?;
    record(
        &state.store,
        acting.event(AuditAction::PasswordReset).about(&user),
    )
    .await;
    tracing::info!(
        actor = acting.user_id(),
        user_id = user.id,
        "temporary password set by an administrator"
    );
    Ok(user)
}
