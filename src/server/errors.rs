//! Turning server failures into what a client may see: log the whole cause once, with the
//! request id, and answer with that id only.

use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use leptos::prelude::use_context;

use crate::error::AppError;
use crate::server::auth::password::Saturated;
use crate::server::store::is_unavailable;

/// Seconds a client is asked to wait when the database cannot be reached.
pub const RETRY_AFTER_UNAVAILABLE: u64 = 5;

/// The request id the request-id layer put in these headers (or the one the client sent).
pub fn request_id_of(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|id| id.to_str().ok())
        .unwrap_or("unknown")
        .to_owned()
}

/// The request id of the request a server function is running for.
pub fn request_id() -> String {
    use_context::<Parts>().map_or_else(|| "unknown".to_owned(), |parts| request_id_of(&parts.headers))
}

/// A failure that is nobody's bug and passes: worth a 503 and a retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// The database cannot be reached.
    Database,
    /// Every argon2 thread is busy and the queue is full.
    Busy,
}

impl Outage {
    /// Which outage, if any, `error` comes from.
    pub fn of(error: &anyhow::Error) -> Option<Self> {
        if is_unavailable(error) {
            Some(Self::Database)
        } else if error.chain().any(|cause| cause.is::<Saturated>()) {
            Some(Self::Busy)
        } else {
            None
        }
    }

    /// Seconds a client should wait before trying again.
    pub fn retry_after(self) -> u64 {
        match self {
            Self::Database => RETRY_AFTER_UNAVAILABLE,
            Self::Busy => 1,
        }
    }
}

/// Logs `error` with its cause chain and returns what the client may see: the opaque
/// [`AppError::Unavailable`] or [`AppError::Busy`] for an outage, else [`AppError::Internal`].
pub fn internal(error: impl Into<anyhow::Error>) -> AppError {
    let error = error.into();
    let request_id = request_id();
    match Outage::of(&error) {
        Some(Outage::Database) => {
            tracing::warn!(
                request_id,
                error = format!("{error:#}"),
                "request failed: no database"
            );
            AppError::Unavailable { request_id }
        }
        Some(Outage::Busy) => {
            tracing::warn!(request_id, "request turned away: every argon2 thread is busy");
            AppError::Busy
        }
        None => {
            tracing::error!(request_id, error = format!("{error:#}"), "request failed");
            AppError::Internal { request_id }
        }
    }
}

/// Gives a server function's error its HTTP status (401 for credentials, 400 for bad input,
/// 500 for our own failures) instead of the framework's blanket 500. Plain form posts keep
/// the redirect back to the form that carries the error for the page to show.
pub fn with_status(error: AppError) -> AppError {
    let plain_form_post = use_context::<Parts>()
        .and_then(|parts| {
            parts
                .headers
                .get(axum::http::header::ACCEPT)?
                .to_str()
                .ok()
                .map(|accept| accept.contains("text/html"))
        })
        .unwrap_or(false);
    let retry_after = match error {
        AppError::TooManyAttempts { retry_after } => Some(retry_after),
        AppError::Unavailable { .. } => Some(Outage::Database.retry_after()),
        AppError::Busy => Some(Outage::Busy.retry_after()),
        _ => None,
    };
    if let (Some(seconds), Some(response)) = (retry_after, use_context::<leptos_axum::ResponseOptions>()) {
        response.insert_header(axum::http::header::RETRY_AFTER, seconds.into());
    }
    if !plain_form_post && let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        let status = match error {
            AppError::InvalidCredentials | AppError::SignInRequired => StatusCode::UNAUTHORIZED,
            AppError::WrongCurrentPassword | AppError::Invalid(_) | AppError::Request => {
                StatusCode::BAD_REQUEST
            }
            AppError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Unavailable { .. } | AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
        };
        response.set_status(status);
    }
    error
}

/// "the password must ..." → "The password must ....": a lower-case message as a sentence.
pub fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    chars.next().map_or_else(String::new, |first| {
        format!("{}{}.", first.to_uppercase(), chars.as_str())
    })
}
