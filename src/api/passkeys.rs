//! Passkeys: added, renamed and removed on `/profile`, used on `/login` (a button, and the
//! username field's autofill). The WebAuthn options and answers travel as the JSON the
//! browser's credential API reads and writes, untouched by the wasm side.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// One passkey of the signed-in user, as `/profile` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeySummary {
    pub id: i64,
    /// Chosen by its owner: "laptop".
    pub name: String,
    /// "2 December 2026, 14:05 UTC".
    pub created: String,
    /// When it last signed in, if ever.
    pub last_used: Option<String>,
    /// Backed up by a password manager or platform (usable on the owner's other devices), as
    /// the authenticator last said.
    pub synced: bool,
}

/// The signed-in user's passkeys, oldest first.
///
/// # Errors
/// [`AppError::SignInRequired`], or a store failure.
#[server(endpoint = "list_passkeys")]
pub async fn list_passkeys() -> Result<Vec<PasskeySummary>, AppError> {
    crate::server::passkeys::actions::list().await
}

/// Begins adding a passkey called `name` (when empty, after the browser: "Firefox on Linux"):
/// the options for `navigator.credentials.create`, as JSON (`{"publicKey": {...}}`).
///
/// # Errors
/// [`AppError::Invalid`]: the name breaks the rules, or the site offers no passkeys.
#[server(endpoint = "begin_add_passkey")]
pub async fn begin_add_passkey(name: String) -> Result<String, AppError> {
    crate::server::passkeys::actions::begin_add(name).await
}

/// Finishes adding a passkey with the browser's answer (`PublicKeyCredential.toJSON()`).
///
/// # Errors
/// [`AppError::Invalid`]: the answer was refused, came too late or was used already, or the
/// passkey is registered already.
#[server(endpoint = "finish_add_passkey")]
pub async fn finish_add_passkey(response: String) -> Result<(), AppError> {
    crate::server::passkeys::actions::finish_add(response).await
}

/// Renames one of the signed-in user's passkeys.
///
/// # Errors
/// [`AppError::Invalid`]: the name breaks the rules, or there is no such passkey.
#[server(endpoint = "rename_passkey")]
pub async fn rename_passkey(id: i64, name: String) -> Result<(), AppError> {
    crate::server::passkeys::actions::rename(id, name).await
}

/// Removes one of the signed-in user's passkeys; only within minutes of signing in.
///
/// # Errors
/// [`AppError::Invalid`]: the sign-in is not recent, or there is no such passkey.
#[server(endpoint = "remove_passkey")]
pub async fn remove_passkey(id: i64) -> Result<(), AppError> {
    crate::server::passkeys::actions::remove(id).await
}

/// Whether this site offers passkeys (it does when reached by a host name).
///
/// # Errors
/// None in practice; a failed request.
#[server(endpoint = "passkeys_offered")]
pub async fn passkeys_offered() -> Result<bool, AppError> {
    crate::server::passkeys::actions::offered()
}

/// Begins signing in with a passkey: the options for `navigator.credentials.get`, as JSON;
/// with `autofill`, for the username field's autofill (conditional mediation).
///
/// # Errors
/// [`AppError::Invalid`] when the site offers no passkeys.
#[server(endpoint = "begin_passkey_sign_in")]
pub async fn begin_passkey_sign_in(autofill: bool) -> Result<String, AppError> {
    crate::server::passkeys::actions::begin_sign_in(autofill).await
}

/// Finishes signing in with a passkey: the browser's answer (`PublicKeyCredential.toJSON()`),
/// "keep me signed in" and where to go next. Right, the session starts and the answer
/// redirects (303) there.
///
/// # Errors
/// [`AppError::Invalid`]: the passkey was refused (unknown, removed, its account disabled, a
/// bad signature, a sign counter gone backwards) or the challenge was too old or used already;
/// [`AppError::TooManyAttempts`].
#[server(endpoint = "finish_passkey_sign_in")]
pub async fn finish_passkey_sign_in(
    response: String,
    remember: bool,
    next: Option<String>,
) -> Result<(), AppError> {
    crate::server::passkeys::actions::finish_sign_in(response, remember, next).await
}
