//! Self-service by mail: forgotten passwords, address checks and sign-up (the pages
//! `/forgot-password`, `/reset-password`, `/verify-email`, `/signup`, and the address part of
//! `/profile`). The bodies live in `server::self_service`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::Password;
use crate::error::AppError;

/// Where a mailed link stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkState {
    /// It works: for this account (a sign-up's chosen name) and this address.
    Ready {
        username: String,
        email: String,
        signup: bool,
    },
    Used,
    /// A newer link of the same kind was sent.
    Replaced,
    Expired,
    /// Unknown, cut short, or its account cannot use it.
    Invalid,
}

/// Mails a reset link to the account named by `identifier` (a username or an e-mail address),
/// if one matches and is active. The answer is the same, and as fast, either way.
///
/// # Errors
/// Only for an empty field.
#[server(endpoint = "forgot_password")]
pub async fn forgot_password(identifier: String) -> Result<(), AppError> {
    crate::server::self_service::reset::request(identifier).await
}

/// Where the reset link with `token` stands.
///
/// # Errors
/// Only when the store fails.
#[server(endpoint = "reset_link_state")]
pub async fn reset_link_state(token: String) -> Result<LinkState, AppError> {
    crate::server::self_service::reset::link_state(token).await
}

/// Sets a new password through a reset link, ends every session of the account, and goes to
/// the sign-in page.
///
/// # Errors
/// [`AppError::Invalid`] for the password policy or a link that does nothing; a store failure.
#[server(endpoint = "reset_password")]
pub async fn reset_password(
    token: String,
    new_password: Password,
    confirm_password: Password,
) -> Result<(), AppError> {
    crate::server::self_service::reset::reset(token, new_password, confirm_password).await
}

/// Where the address link (or sign-up link) with `token` stands.
///
/// # Errors
/// Only when the store fails.
#[server(endpoint = "email_link_state")]
pub async fn email_link_state(token: String) -> Result<LinkState, AppError> {
    crate::server::self_service::verify::link_state(token).await
}

/// Follows an address link: the address becomes the account's, verified (or the sign-up's
/// account is created). Goes on to the profile or the sign-in page.
///
/// # Errors
/// [`AppError::Invalid`] for a link that does nothing (or a sign-up name taken meanwhile).
#[server(endpoint = "verify_email")]
pub async fn verify_email(token: String) -> Result<(), AppError> {
    crate::server::self_service::verify::confirm(token).await
}

/// Mails a new link to the signed-in person's unverified address.
///
/// # Errors
/// No address, already verified, too many mails this hour, or a store failure.
#[server(endpoint = "resend_verification")]
pub async fn resend_verification() -> Result<(), AppError> {
    crate::server::self_service::verify::resend().await
}

/// Asks to change the signed-in person's address: a link goes to the new one, a notice to the
/// old one, which stays in force until the link is followed. Returns the new address.
///
/// # Errors
/// A wrong current password (throttled like sign-ins), a malformed address, too many mails.
#[server(endpoint = "change_email")]
pub async fn change_email(current_password: Password, new_email: String) -> Result<String, AppError> {
    crate::server::self_service::verify::change(current_password, new_email).await
}

/// Whether this site lets anyone sign up (`--allow-signup`).
///
/// # Errors
/// Never.
#[server(endpoint = "signup_open")]
pub async fn signup_open() -> Result<bool, AppError> {
    Ok(crate::server::self_service::signup::is_open())
}

/// Asks to sign up: the answer is the same whether the name or the address is taken (the mail
/// to the address says what happened). Returns the address the mail went to.
///
/// # Errors
/// Sign-up closed, a field breaking its rule, or the password policy.
#[server(endpoint = "sign_up")]
pub async fn sign_up(
    username: String,
    email: String,
    new_password: Password,
    confirm_password: Password,
) -> Result<String, AppError> {
    crate::server::self_service::signup::request(username, email, new_password, confirm_password).await
}
