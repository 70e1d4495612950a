//! The one error type that crosses the wire: everything a browser ever learns about a failure.
//!
//! Server code logs the full cause with the request id and answers with one of these variants;
//! nothing here carries SQL, paths or crate names.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// A failure as the person using the site sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Unknown user, wrong password and disabled account alike: no way to tell them apart.
    #[error("Incorrect username or password.")]
    InvalidCredentials,
    #[error("Please sign in to continue.")]
    SignInRequired,
    #[error("The current password is not correct.")]
    WrongCurrentPassword,
    /// A form field broke a rule; the text says which and how to fix it.
    #[error("{0}")]
    Invalid(String),
    /// Brute-force throttling: the account or address must wait before trying again.
    #[error("Too many attempts, try again in {}.", seconds(*retry_after))]
    TooManyAttempts { retry_after: u64 },
    #[error("Something went wrong on our side. Please try again (reference {request_id}).")]
    Internal { request_id: String },
    /// The database cannot be reached (down, restarting): worth trying again shortly.
    #[error(
        "Gatehouse cannot reach its database right now. Please try again in a moment (reference {request_id})."
    )]
    Unavailable { request_id: String },
    /// Too many sign-ins at once: the password checks are queued full.
    #[error("Gatehouse is very busy right now. Please try again in a moment.")]
    Busy,
    /// The request itself failed: the network, or a malformed call.
    #[error("The request could not be completed. Check your connection and try again.")]
    Request,
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(_: ServerFnErrorErr) -> Self {
        Self::Request
    }
}

/// "1 second", "30 seconds".
fn seconds(count: u64) -> String {
    if count == 1 {
        "1 second".to_owned()
    } else {
        format!("{count} seconds")
    }
}
