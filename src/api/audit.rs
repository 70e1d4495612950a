//! The audit log as the pages read it: administrators on `/admin/audit`, everyone their own
//! recent sign-ins on `/profile`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What an audit event records. Stored by [`AuditAction::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    SignIn,
    SignOut,
    /// A spent refresh token came back: someone replayed it, and the session was ended.
    RefreshReuse,
    PasswordChanged,
    /// An administrator (or the CLI) set a password.
    PasswordReset,
    SessionEnded,
    UserCreated,
    UserEdited,
    UserDisabled,
    UserEnabled,
    UserDeleted,
    AdminGranted,
    AdminRevoked,
    SetupCompleted,
    /// Someone asked for a password reset link by mail.
    ResetRequested,
    /// A password was set through a mailed reset link.
    PasswordResetByEmail,
    /// Someone asked to change their address (a link went to the new one).
    EmailChangeRequested,
    /// An address was proved by its mailed link.
    EmailVerified,
    /// An account was created by signing up.
    SignedUp,
    /// Two-step sign-in was turned on (or a try to turn it on failed).
    TwoStepEnabled,
    /// Its owner turned two-step sign-in off.
    TwoStepDisabled,
    /// An administrator (or the CLI) removed someone's two-step sign-in.
    TwoStepReset,
    /// New recovery codes replaced the old ones.
    RecoveryCodesRenewed,
    /// A passkey was added to an account (or a try failed).
    PasskeyAdded,
    /// A passkey was removed by its owner.
    PasskeyRemoved,
}

impl AuditAction {
    /// Every action, in the order the filter offers them.
    pub const ALL: [Self; 25] = [
        Self::SignIn,
        Self::SignOut,
        Self::RefreshReuse,
        Self::PasswordChanged,
        Self::PasswordReset,
        Self::SessionEnded,
        Self::UserCreated,
        Self::UserEdited,
        Self::UserDisabled,
        Self::UserEnabled,
        Self::UserDeleted,
        Self::AdminGranted,
        Self::AdminRevoked,
        Self::SetupCompleted,
        Self::ResetRequested,
        Self::PasswordResetByEmail,
        Self::EmailChangeRequested,
        Self::EmailVerified,
        Self::SignedUp,
        Self::TwoStepEnabled,
        Self::TwoStepDisabled,
        Self::TwoStepReset,
        Self::RecoveryCodesRenewed,
        Self::PasskeyAdded,
        Self::PasskeyRemoved,
    ];

    /// The stored name, also the filter's value: `sign_in`, `user_disabled`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::SignOut => "sign_out",
            Self::RefreshReuse => "refresh_reuse",
            Self::PasswordChanged => "password_changed",
            Self::PasswordReset => "password_reset",
            Self::SessionEnded => "session_ended",
            Self::UserCreated => "user_created",
            Self::UserEdited => "user_edited",
            Self::UserDisabled => "user_disabled",
            Self::UserEnabled => "user_enabled",
            Self::UserDeleted => "user_deleted",
            Self::AdminGranted => "admin_granted",
            Self::AdminRevoked => "admin_revoked",
            Self::SetupCompleted => "setup_completed",
            Self::ResetRequested => "reset_requested",
            Self::PasswordResetByEmail => "password_reset_by_email",
            Self::EmailChangeRequested => "email_change_requested",
            Self::EmailVerified => "email_verified",
            Self::SignedUp => "signed_up",
            Self::TwoStepEnabled => "two_step_enabled",
            Self::TwoStepDisabled => "two_step_disabled",
            Self::TwoStepReset => "two_step_reset",
            Self::RecoveryCodesRenewed => "recovery_codes_renewed",
            Self::PasskeyAdded => "passkey_added",
            Self::PasskeyRemoved => "passkey_removed",
        }
    }

    /// The action called `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.as_str() == name)
    }

    /// In words, for the pages: "Signed in".
    pub fn label(self) -> &'static str {
        match self {
            Self::SignIn => "Sign-in",
            Self::SignOut => "Sign-out",
            Self::RefreshReuse => "Refresh token replayed",
            Self::PasswordChanged => "Password changed",
            Self::PasswordReset => "Password set by an administrator",
            Self::SessionEnded => "Session ended",
            Self::UserCreated => "Account created",
            Self::UserEdited => "Account edited",
            Self::UserDisabled => "Account disabled",
            Self::UserEnabled => "Account enabled",
            Self::UserDeleted => "Account deleted",
            Self::AdminGranted => "Administrator rights granted",
            Self::AdminRevoked => "Administrator rights revoked",
            Self::SetupCompleted => "First administrator set up",
            Self::ResetRequested => "Password reset asked for",
            Self::PasswordResetByEmail => "Password reset by e-mail",
            Self::EmailChangeRequested => "E-mail change asked for",
            Self::EmailVerified => "E-mail address confirmed",
            Self::SignedUp => "Signed up",
            Self::TwoStepEnabled => "Two-step sign-in turned on",
            Self::TwoStepDisabled => "Two-step sign-in turned off",
            Self::TwoStepReset => "Two-step sign-in removed by an administrator",
            Self::RecoveryCodesRenewed => "New recovery codes",
            Self::PasskeyAdded => "Passkey added",
            Self::PasskeyRemoved => "Passkey removed",
        }
    }
}

/// One event as the pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// "28 November 2026, 14:05:09 UTC".
    pub at: String,
    /// A username, `cli`, `system`, or `visitor` for nobody signed in.
    pub actor: String,
    /// In words ([`AuditAction::label`]); the raw name when this build does not know it.
    pub action: String,
    pub target: Option<String>,
    pub address: Option<String>,
    /// "Firefox on Linux".
    pub device: Option<String>,
    /// `success`, `failure` or `throttled`.
    pub outcome: String,
    pub request_id: Option<String>,
}

/// One page of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditList {
    pub events: Vec<AuditRecord>,
    /// Passed back as `before` for the next page, when there is one.
    pub next: Option<String>,
}

/// A page of the audit log, newest first: `user` (by or about that username), `action` (its
/// stored name), `since` and `until` (dates, `YYYY-MM-DD`, UTC, `until` inclusive) and
/// `before` (the previous page's `next`).
///
/// # Errors
/// [`AppError::AdminRequired`], [`AppError::Invalid`] for a date that is not one, or a store
/// failure.
#[server(endpoint = "admin/audit")]
pub async fn list_audit(
    user: Option<String>,
    action: Option<String>,
    since: Option<String>,
    until: Option<String>,
    before: Option<String>,
) -> Result<AuditList, AppError> {
    crate::server::audit::pages::list_audit(user, action, since, until, before).await
}

/// The signed-in person's recent sign-ins (successful or not) and other account events, newest
/// first, so they can spot one that was not theirs.
///
/// # Errors
/// [`AppError::SignInRequired`], or a store failure.
#[server(endpoint = "recent_activity")]
pub async fn recent_activity() -> Result<Vec<AuditRecord>, AppError> {
    crate::server::audit::pages::recent_activity().await
}
