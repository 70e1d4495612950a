//! Turning server failures into what a client may see: log the whole cause once, with the
//! request id, and answer with that id only.

use axum::body::Body;
use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use leptos::prelude::use_context;
use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;

use crate::error::{AppError, Problem};
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

/// The HTTP status of an error a server function answers with.
pub fn status_of(error: &AppError) -> StatusCode {
    match error {
        AppError::InvalidCredentials | AppError::SignInRequired => StatusCode::UNAUTHORIZED,
        AppError::AccountDisabled
        | AppError::NotPermitted
        | AppError::AdminRequired
        | AppError::PasswordChangeRequired => StatusCode::FORBIDDEN,
        AppError::Invalid(Problem::UnknownUser | Problem::SignupClosed) => StatusCode::NOT_FOUND,
        AppError::Invalid(Problem::UsernameTaken | Problem::LastAdmin) => StatusCode::CONFLICT,
        AppError::WrongCurrentPassword | AppError::Invalid(_) | AppError::Request => StatusCode::BAD_REQUEST,
        AppError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        AppError::Unavailable { .. } | AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// Seconds to wait before trying again, for the errors that pass.
pub fn retry_after_of(error: &AppError) -> Option<u64> {
    match error {
        AppError::TooManyAttempts { retry_after } => Some(*retry_after),
        AppError::Unavailable { .. } => Some(Outage::Database.retry_after()),
        AppError::Busy => Some(Outage::Busy.retry_after()),
        _ => None,
    }
}

/// Longest server function error body read back (they are a few dozen bytes).
const MAX_ERROR_BODY: usize = 16 * 1024;

/// Middleware: gives every server function error its status and `Retry-After`, decided once
/// from the [`AppError`] in the body, instead of the framework's blanket 500. That covers the
/// errors a body returns and the ones the framework makes itself: a malformed request (empty,
/// missing or mistyped fields, garbage) becomes [`AppError::Request`], answered 400. A plain
/// form post keeps the framework's redirect back to the form, which shows the error.
pub async fn server_function_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if !response.headers().contains_key(SERVER_FN_ERROR_HEADER) || response.status().is_redirection() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_ERROR_BODY)
        .await
        .unwrap_or_default();
    let error = serde_json::from_slice::<AppError>(&bytes).unwrap_or(AppError::Request);
    parts.status = status_of(&error);
    if let Some(seconds) = retry_after_of(&error) {
        parts
            .headers
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    // The body is re-encoded so that an unreadable one still says something true.
    let body = serde_json::to_vec(&error).unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}

/// "the password must ..." → "The password must ....": a lower-case message as a sentence.
pub fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    chars.next().map_or_else(String::new, |first| {
        format!("{}{}.", first.to_uppercase(), chars.as_str())
    })
}
