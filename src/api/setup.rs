//! First-run setup (`/setup?token=...`): the page that creates the first administrator.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::Password;
use crate::error::AppError;

/// What a setup link leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SetupState {
    /// The form that creates the first administrator.
    Ready,
    /// The link is unknown, spent or expired.
    LinkInvalid,
    /// An administrator exists: there is nothing to set up.
    Done,
}

/// Where the setup link with `token` leads.
///
/// # Errors
/// Only when the store fails.
#[server(endpoint = "setup_link_state")]
pub async fn setup_link_state(token: String) -> Result<SetupState, AppError> {
    crate::server::setup::link_state(token).await
}

/// Creates the first administrator through the setup link with `token`, signs them in and
/// goes to the user table. The link is spent.
///
/// # Errors
/// [`AppError::Invalid`] for a field breaking its rule, the password policy, a taken name or a
/// dead link; or a store failure.
#[server(endpoint = "complete_setup")]
pub async fn complete_setup(
    token: String,
    username: String,
    full_name: Option<String>,
    email: Option<String>,
    new_password: Password,
    confirm_password: Password,
) -> Result<(), AppError> {
    crate::server::setup::complete(token, username, full_name, email, new_password, confirm_password).await
}
