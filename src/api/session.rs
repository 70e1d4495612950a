//! Signing in and out.
//!
//! Both are plain form posts (`ActionForm`), so they work without JavaScript; with it, the
//! hydrated app sends the same request and follows the redirect without a page load.

use leptos::prelude::*;

use crate::domain::Password;
use crate::error::AppError;

/// Checks the password, starts a session, sets the access-token cookie and redirects (303) to
/// `next` when it is a path on this site, else to `/dashboard`.
///
/// # Errors
/// [`AppError::InvalidCredentials`] for an unknown user, a wrong password or a disabled account
/// alike.
#[server(endpoint = "login")]
pub async fn login(
    username: String,
    password: Password,
    remember: Option<String>,
    next: Option<String>,
) -> Result<(), AppError> {
    crate::server::auth::actions::login(username, password, remember.is_some(), next).await
}

/// Ends this session on the server (a copied token stops working at once), clears the cookie
/// and redirects (303) to `/login`.
///
/// # Errors
/// Only when the store fails.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    crate::server::auth::actions::logout().await
}
