//! `Authorization: Bearer` (RFC 6750): the extractor that turns the header into the caller,
//! through the same token checks as the browser's cookie, and the challenges it answers with.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::{ToResponse, ToSchema};

use crate::server::auth::current_user::{Caller, Presented, SignedInUser, identify};
use crate::server::auth::scopes;
use crate::server::errors::RETRY_AFTER_UNAVAILABLE;
use crate::server::state::AppState;

const REALM: &str = "gatehouse";
/// Longer than any token this site issues; longer values are refused before any parsing.
const MAX_TOKEN_LEN: usize = 4096;

/// The caller of an API request, identified by a valid bearer token.
pub struct Bearer(pub Arc<SignedInUser>);

impl Bearer {
    /// Refuses the request unless the token carries `scope`.
    ///
    /// # Errors
    /// [`BearerError::InsufficientScope`].
    pub fn require(&self, scope: &'static str) -> Result<&SignedInUser, BearerError> {
        if scopes::includes(&self.0.scope, scope) {
            Ok(&self.0)
        } else {
            Err(BearerError::InsufficientScope(scope))
        }
    }
}

/// Why an API request was refused, as RFC 6750 §3 tells the client.
#[derive(Debug)]
pub enum BearerError {
    /// No bearer credentials: 401 with a bare challenge.
    Missing,
    /// A malformed header, two credentials, or a token in the URL: 400 `invalid_request`.
    Malformed(&'static str),
    /// A bad, expired or revoked token, or a disabled user: 401 `invalid_token`.
    InvalidToken,
    /// The token lacks the scope: 403 `insufficient_scope`.
    InsufficientScope(&'static str),
    /// The store did not answer: 503, try again.
    Unavailable,
}

/// The JSON body of an API error.
#[derive(Serialize, ToSchema)]
pub struct ApiError {
    /// `invalid_request`, `invalid_token`, `insufficient_scope` or `temporarily_unavailable`;
    /// absent when no credentials were sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'static str>,
    pub error_description: String,
}

// The error answers every bearer-protected operation shares, described once in the OpenAPI
// document (`components/responses`) and referred to by each operation's `response = ...`. The
// types only name and describe; `BearerError` below renders the answers. Their doc comments are
// the descriptions the document shows, so they speak to the API's users, not to this code's.

/// A malformed Authorization header, two credentials, or a token in the URL.
#[derive(ToResponse)]
pub struct MalformedCredentials(pub ApiError);

/// No token, or an invalid, expired or revoked one, or the account is disabled.
#[derive(ToResponse)]
pub struct Unauthorized(pub ApiError);

/// The database is unreachable; retry in a moment.
#[derive(ToResponse)]
pub struct Unavailable(pub ApiError);

impl IntoResponse for BearerError {
    fn into_response(self) -> Response {
        let (status, error, description, extra) = match self {
            Self::Missing => (
                StatusCode::UNAUTHORIZED,
                None,
                "Send an access token from POST /token as Authorization: Bearer <token>.".to_owned(),
                String::new(),
            ),
            Self::Malformed(why) => (
                StatusCode::BAD_REQUEST,
                Some("invalid_request"),
                why.to_owned(),
                String::new(),
            ),
            Self::InvalidToken => (
                StatusCode::UNAUTHORIZED,
                Some("invalid_token"),
                "The access token is invalid, expired or revoked; get a new one from POST /token.".to_owned(),
                String::new(),
            ),
            Self::InsufficientScope(scope) => (
                StatusCode::FORBIDDEN,
                Some("insufficient_scope"),
                format!("This needs the scope {scope}; ask for it at POST /token."),
                format!(", scope=\"{scope}\""),
            ),
            Self::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                Some("temporarily_unavailable"),
                "The service cannot reach its database right now; try again in a moment.".to_owned(),
                String::new(),
            ),
        };
        let challenge = match error {
            None => format!("Bearer realm=\"{REALM}\""),
            Some(code) => format!(
                "Bearer realm=\"{REALM}\", error=\"{code}\", error_description=\"{description}\"{extra}"
            ),
        };
        let mut response = (
            status,
            axum::Json(ApiError {
                error,
                error_description: description,
            }),
        )
            .into_response();
        let headers = response.headers_mut();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_UNAVAILABLE));
        } else if let Ok(challenge) = HeaderValue::from_str(&challenge) {
            headers.insert(header::WWW_AUTHENTICATE, challenge);
        }
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

impl FromRequestParts<AppState> for Bearer {
    type Rejection = BearerError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, BearerError> {
        // Tokens in URLs end up in logs and browser history (RFC 6750 §2.3 is not supported).
        if let Some(query) = parts.uri.query() {
            let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
            if pairs.iter().any(|(name, _)| name == "access_token") {
                return Err(BearerError::Malformed(
                    "Tokens are not accepted in the URL; use the Authorization header.",
                ));
            }
        }
        let mut values = parts.headers.get_all(header::AUTHORIZATION).iter();
        let Some(value) = values.next() else {
            return Err(BearerError::Missing);
        };
        if values.next().is_some() {
            return Err(BearerError::Malformed(
                "Send one Authorization header, not several.",
            ));
        }
        let value = value
            .to_str()
            .map_err(|_| BearerError::Malformed("The Authorization header is not valid text."))?;
        let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(BearerError::Missing);
        }
        if !is_token68(token) {
            return Err(BearerError::Malformed(
                "The Authorization header must be `Bearer <token>`.",
            ));
        }
        if token.len() > MAX_TOKEN_LEN {
            return Err(BearerError::InvalidToken);
        }
        match identify(state, token, Presented::Bearer).await {
            Ok(Caller::SignedIn(user)) => Ok(Self(user)),
            Ok(Caller::Visitor | Caller::Disabled) => Err(BearerError::InvalidToken),
            Err(error) => {
                tracing::error!(
                    error = format!("{error:#}"),
                    "cannot check a bearer token: the store failed"
                );
                Err(BearerError::Unavailable)
            }
        }
    }
}

/// RFC 6750 §2.1: `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
///
/// Runs on every API request over a few hundred bytes: every byte is looked at, without an
/// early exit, so that the compiler checks many at once (it was 2.6 % of a request).
fn is_token68(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty() && body.bytes().fold(true, |all, byte| all & is_b64token_byte(byte))
}

/// `&` and `|` rather than `&&` and `||`: no branches, so the loop above vectorises.
fn is_b64token_byte(byte: u8) -> bool {
    let letter = (byte | 0x20).wrapping_sub(b'a') < 26;
    let digit = byte.wrapping_sub(b'0') < 10;
    letter
        | digit
        | (byte == b'-')
        | (byte == b'.')
        | (byte == b'_')
        | (byte == b'~')
        | (byte == b'+')
        | (byte == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn b64token_bytes_are_exactly_the_rfcs() {
        for byte in 0..=u8::MAX {
            let rfc = byte.is_ascii_alphanumeric() || b"-._~+/".contains(&byte);
            assert_eq!(is_b64token_byte(byte), rfc, "byte {byte:#04x}");
        }
    }

    #[test]
    fn token68_allows_jwts_and_refuses_spaces_and_commas() {
        assert!(is_token68("eyJhbGciOi.eyJzdWIi.sig-_~+/=="));
        for bad in ["", "two words", "a,b", "=", "tok\"en", "pad=inside", "caf\u{e9}"] {
            assert!(!is_token68(bad), "{bad:?}");
        }
    }
}
