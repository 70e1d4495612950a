//! Turning server failures into what a client may see: log the whole cause once, with the
//! request id, and answer with that id only.

use axum::http::StatusCode;
use axum::http::request::Parts;
use leptos::prelude::use_context;

use crate::error::AppError;

/// The request id the request-id layer gave this request (or the one the client sent).
pub fn request_id() -> String {
    use_context::<Parts>()
        .and_then(|parts| {
            parts
                .headers
                .get("x-request-id")?
                .to_str()
                .ok()
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Logs `error` with its cause chain and returns the opaque [`AppError::Internal`].
pub fn internal(error: impl Into<anyhow::Error>) -> AppError {
    let request_id = request_id();
    tracing::error!(
        request_id,
        error = format!("{:#}", error.into()),
        "request failed"
    );
    AppError::Internal { request_id }
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
    if let (AppError::TooManyAttempts { retry_after }, Some(response)) =
        (&error, use_context::<leptos_axum::ResponseOptions>())
        && let Ok(value) = axum::http::HeaderValue::from_str(&retry_after.to_string())
    {
        response.insert_header(axum::http::header::RETRY_AFTER, value);
    }
    if !plain_form_post && let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        let status = match error {
            AppError::InvalidCredentials | AppError::SignInRequired => StatusCode::UNAUTHORIZED,
            AppError::WrongCurrentPassword | AppError::Invalid(_) | AppError::Request => {
                StatusCode::BAD_REQUEST
            }
            AppError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
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
