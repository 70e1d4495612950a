//! Two-step sign-in: a TOTP code from an authenticator app after the password, with recovery
//! codes for a lost phone. Turned on and off on `/profile`; the code is asked for on
//! `/login/code`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::Password;
use crate::error::AppError;

/// Whether the signed-in user's two-step sign-in is on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoStepSummary {
    /// When it was turned on ("2 December 2026, 14:05 UTC"), or `None` when it is off.
    pub on_since: Option<String>,
    /// Unspent recovery codes (0 when off).
    pub recovery_codes_left: i64,
}

/// What an authenticator app needs, shown once while turning two-step sign-in on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpEnrolment {
    /// The shared secret in base 32, in groups of four, for typing into the app.
    pub secret: String,
    /// The `otpauth://totp/...` URI the QR code holds.
    pub uri: String,
    /// The QR code as an SVG element, drawn by the server from `uri`.
    pub qr_svg: String,
}

/// Whether two-step sign-in is on for the signed-in user.
///
/// # Errors
/// [`AppError::SignInRequired`], or a store failure.
#[server(endpoint = "two_step_status")]
pub async fn two_step_status() -> Result<TwoStepSummary, AppError> {
    crate::server::two_step::actions::status().await
}

/// Starts turning two-step sign-in on, after checking the password (throttled like a
/// sign-in): makes a new secret and returns it for the app. Nothing changes at sign-in until
/// [`confirm_two_step`] gets a code made from it.
///
/// # Errors
/// [`AppError::WrongCurrentPassword`], [`AppError::TooManyAttempts`], or
/// [`AppError::Invalid`] when it is already on.
#[server(endpoint = "begin_two_step")]
pub async fn begin_two_step(password: Password) -> Result<TotpEnrolment, AppError> {
    crate::server::two_step::actions::begin(password).await
}

/// Turns two-step sign-in on with the first code the app shows; returns the ten recovery
/// codes, shown this once.
///
/// # Errors
/// [`AppError::Invalid`]: the code is wrong, or no enrolment was begun.
#[server(endpoint = "confirm_two_step")]
pub async fn confirm_two_step(code: String) -> Result<Vec<String>, AppError> {
    crate::server::two_step::actions::confirm(code).await
}

/// Replaces the recovery codes (the old ones stop working), after checking the password.
///
/// # Errors
/// [`AppError::WrongCurrentPassword`], [`AppError::TooManyAttempts`], or
/// [`AppError::Invalid`] when two-step sign-in is off.
#[server(endpoint = "new_recovery_codes")]
pub async fn new_recovery_codes(password: Password) -> Result<Vec<String>, AppError> {
    crate::server::two_step::actions::renew_recovery_codes(password).await
}

/// Turns two-step sign-in off, after checking the password.
///
/// # Errors
/// [`AppError::WrongCurrentPassword`], [`AppError::TooManyAttempts`], or
/// [`AppError::Invalid`] when it is off already.
#[server(endpoint = "turn_off_two_step")]
pub async fn turn_off_two_step(password: Password) -> Result<(), AppError> {
    crate::server::two_step::actions::turn_off(password).await
}

/// The second step of signing in: `code` is the app's current 6-digit code or an unused
/// recovery code. Right, the session starts and the answer redirects (303) to where the
/// password step was going (to `/profile` after a recovery code, which says how many are left).
///
/// # Errors
/// [`AppError::Invalid`]: the code is wrong or used, or the password step is missing or more
/// than five minutes old; [`AppError::TooManyAttempts`].
#[server(endpoint = "finish_sign_in")]
pub async fn finish_sign_in(code: String) -> Result<(), AppError> {
    crate::server::two_step::actions::finish_sign_in(code).await
}
