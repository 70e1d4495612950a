//! `POST /token`: the password and refresh-token grants of RFC 6749 (§4.3, §6), with errors as
//! in §5.2.
//!
//! RFC 9700 §2.4 forbids the password grant for third-party clients. Gatehouse offers it to its
//! own scripts and services, with the same password checks as the login form, and
//! `--disable-password-grant` turns it off.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;

use crate::api::AuditAction;
use crate::error::AppError;
use crate::server::audit::{Acting, Actor, Outcome, record, refused_sign_in};
use crate::server::auth::credentials::{AttemptSource, Verdict, authenticate};
use crate::server::auth::refresh::{self, Rotation};
use crate::server::auth::scopes::{self, ScopeError};
use crate::server::auth::sessions;
use crate::server::auth::throttle::{Attempt, retry_after_seconds};
use crate::server::client::session_origin;
use crate::server::errors::{Outage, request_id_of, sentence};
use crate::server::state::AppState;
use crate::server::store::{ClientKind, UserRow};
use crate::server::two_step::{CodeVerdict, check_code};

/// The same words for every failed grant: no way to tell an unknown user, a wrong password, a
/// disabled account and a spent refresh token apart.
const INVALID_GRANT: &str = "The credentials or the refresh token are not valid.";

/// Parameters that would leak from a URL into logs and browser history.
const SECRET_PARAMETERS: [&str; 5] = ["username", "password", "otp", "refresh_token", "client_secret"];

/// The form of a token request (documentation only: the body is parsed by hand, to tell
/// missing, empty and repeated parameters apart).
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct TokenRequest {
    grant_type: GrantType,
    /// For the password grant.
    username: Option<String>,
    /// For the password grant.
    password: Option<String>,
    /// For the password grant of an account with two-step sign-in: the authenticator app's
    /// current 6-digit code, or one of the account's unused recovery codes. Without it (or
    /// with a wrong one) such an account gets `invalid_grant`, saying so.
    otp: Option<String>,
    /// Space-separated scopes (`me`, `items`, `admin`); all the user may hold when absent.
    scope: Option<String>,
    /// For the refresh_token grant.
    refresh_token: Option<String>,
}

/// The grants this server offers (documentation only, like [`TokenRequest`]); any other is
/// answered `unsupported_grant_type`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum GrantType {
    Password,
    RefreshToken,
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    /// A JWT (RFC 9068) for `Authorization: Bearer`.
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Opaque; spent by its first use, which returns a new one.
    pub refresh_token: String,
    /// The scopes granted, space-separated.
    pub scope: String,
}

/// An error response (RFC 6749 §5.2).
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthError {
    /// `invalid_request`, `invalid_grant`, `unsupported_grant_type`, `invalid_scope`,
    /// `too_many_attempts` (429, with `Retry-After`), `server_error` (500) or
    /// `temporarily_unavailable` (503, with `Retry-After`).
    pub error: &'static str,
    pub error_description: String,
    /// Seconds to wait, sent as `Retry-After` (429 and 503 only).
    #[serde(skip)]
    #[schema(ignore)]
    retry_after: Option<u64>,
}

impl OAuthError {
    fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self {
            error,
            error_description: description.into(),
            retry_after: None,
        }
    }

    /// Brute-force throttling: 429, in the same words and with the same wait as a page says.
    fn too_many_attempts(wait: std::time::Duration) -> Self {
        let retry_after = retry_after_seconds(wait);
        Self {
            retry_after: Some(retry_after),
            ..Self::new(
                "too_many_attempts",
                AppError::TooManyAttempts { retry_after }.to_string(),
            )
        }
    }

    fn invalid_request(description: impl Into<String>) -> Self {
        Self::new("invalid_request", description)
    }

    fn invalid_grant() -> Self {
        Self::new("invalid_grant", INVALID_GRANT)
    }

    /// Our own failure: `temporarily_unavailable` (503, with `Retry-After`) for an outage (no
    /// database, every argon2 thread busy), else `server_error` (500). Logged in full; the
    /// client sees only the request id.
    fn server_error(headers: &HeaderMap, error: &anyhow::Error) -> Self {
        let request_id = request_id_of(headers);
        let outage = Outage::of(error);
        let unavailable = |description: String| Self {
            retry_after: outage.map(Outage::retry_after),
            ..Self::new("temporarily_unavailable", description)
        };
        match outage {
            Some(Outage::Database) => {
                tracing::warn!(
                    request_id,
                    error = format!("{error:#}"),
                    "token request failed: no database"
                );
                return unavailable(format!(
                    "The service cannot reach its database right now; try again in a moment (reference {request_id})."
                ));
            }
            Some(Outage::Busy) => {
                tracing::warn!(
                    request_id,
                    "token request turned away: every argon2 thread is busy"
                );
                return unavailable("The service is very busy; try again in a moment.".into());
            }
            None => {}
        }
        tracing::error!(request_id, error = format!("{error:#}"), "token request failed");
        Self::new(
            "server_error",
            format!("Something went wrong on our side; try again (reference {request_id})."),
        )
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let status = match self.error {
            "server_error" => StatusCode::INTERNAL_SERVER_ERROR,
            "temporarily_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
            "too_many_attempts" => StatusCode::TOO_MANY_REQUESTS,
            _ => StatusCode::BAD_REQUEST,
        };
        let retry_after = self.retry_after;
        let mut response = (status, no_store(), axum::Json(self)).into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Token responses carry credentials: no cache may keep them (RFC 6749 §5.1).
fn no_store() -> [(header::HeaderName, HeaderValue); 2] {
    [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (header::PRAGMA, HeaderValue::from_static("no-cache")),
    ]
}

/// Issues tokens for the password and refresh-token grants.
#[utoipa::path(
    post,
    path = "/token",
    tag = "oauth2",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Tokens issued", body = TokenResponse),
        (status = 400, description = "invalid_request, invalid_grant, unsupported_grant_type or invalid_scope", body = OAuthError),
        (status = 405, description = "Only POST is allowed"),
        (status = 429, description = "too_many_attempts: wait for Retry-After seconds", body = OAuthError),
        (status = 500, description = "server_error, with a reference to quote", body = OAuthError),
        (status = 503, description = "temporarily_unavailable: the database is unreachable; retry after Retry-After seconds", body = OAuthError),
    )
)]
pub async fn token(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    extensions: Extensions,
    body: Bytes,
) -> Response {
    // Programs refresh when they need to, hours apart: their sessions have no idle limit.
    let origin = session_origin(&headers, &extensions, true);
    let acting = Acting {
        actor: Actor::Visitor,
        origin: origin.clone(),
        request_id: Some(request_id_of(&headers)),
    };
    match grant(&state, &uri, &headers, &body, &acting).await {
        Ok(tokens) => (StatusCode::OK, no_store(), axum::Json(tokens)).into_response(),
        Err(Failure::OAuth(error)) => error.into_response(),
        Err(Failure::Throttled(wait)) => OAuthError::too_many_attempts(wait).into_response(),
        Err(Failure::Internal(error)) => OAuthError::server_error(&headers, &error).into_response(),
    }
}

enum Failure {
    OAuth(OAuthError),
    /// Brute-force throttling: 429 with `Retry-After`.
    Throttled(std::time::Duration),
    Internal(anyhow::Error),
}

impl From<OAuthError> for Failure {
    fn from(error: OAuthError) -> Self {
        Self::OAuth(error)
    }
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(error: E) -> Self {
        Self::Internal(error.into())
    }
}

async fn grant(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    acting: &Acting,
) -> Result<TokenResponse, Failure> {
    let form = parse_form(uri, headers, body)?;
    match required(&form, "grant_type")? {
        "password" => password_grant(state, &form, acting).await,
        "refresh_token" => refresh_grant(state, &form, acting).await,
        other => Err(OAuthError::new(
            "unsupported_grant_type",
            format!("The grant type {other:?} is not supported; use password or refresh_token."),
        )
        .into()),
    }
}

// The name is logged with `?`: escaped, so a name with a line break cannot forge a log line.
#[tracing::instrument(skip_all, fields(username = ?form.get("username").map(String::as_str).unwrap_or_default()))]
async fn password_grant(
    state: &AppState,
    form: &HashMap<String, String>,
    acting: &Acting,
) -> Result<TokenResponse, Failure> {
    let origin = &acting.origin;
    if state.settings.disable_password_grant {
        return Err(OAuthError::new(
            "unsupported_grant_type",
            "The password grant is turned off on this site.",
        )
        .into());
    }
    let username = required(form, "username")?;
    let password = required(form, "password")?;
    let requested = optional(form, "scope")?;
    let otp = optional(form, "otp")?;
    // The whole request is checked before the password: a malformed one costs no argon2 and
    // touches no failure count.
    if let Some(requested) = requested {
        scopes::parse(requested).map_err(invalid_scope)?;
    }
    let source = AttemptSource {
        address: origin.ip_address.as_deref(),
        device_cookie: None,
    };
    let verified = match authenticate(state, username, password, source).await? {
        Verdict::Verified(verified) => verified,
        Verdict::Refused => {
            record(
                &state.store,
                refused_sign_in(&state.store, acting, username, Outcome::Failure).await,
            )
            .await;
            return Err(OAuthError::invalid_grant().into());
        }
        Verdict::Throttled(wait) => {
            record(
                &state.store,
                refused_sign_in(&state.store, acting, username, Outcome::Throttled).await,
            )
            .await;
            return Err(Failure::Throttled(wait));
        }
    };
    // Whether the user may hold the scopes is known only now; refused, the request clears
    // no failures.
    let scope = match scopes::grant(&verified.user, requested) {
        Ok(scope) => scope,
        Err(error) => {
            verified.abandon(state).await?;
            return Err(invalid_scope(error).into());
        }
    };
    let user = verified.confirm(state).await?;
    // A second factor is never skipped: the code comes with the password, or nothing is issued.
    if state.store.has_second_factor(user.id).await? {
        second_factor(state, &user, otp, acting).await?;
    }
    // A password an administrator chose opens nothing but the page that replaces it. Said
    // plainly: only someone who knows the password gets this far.
    if user.must_change_password {
        return Err(OAuthError::new(
            "invalid_grant",
            "The password is temporary: sign in on the website and choose your own first.",
        )
        .into());
    }
    let issued = sessions::issue(state, &user, &scope, origin, ClientKind::Program).await?;
    let signed_in = Acting {
        actor: Actor::user(&user),
        ..acting.clone()
    };
    record(&state.store, signed_in.event(AuditAction::SignIn).about(&user)).await;
    tracing::info!(user_id = user.id, scope, "token issued (password grant)");
    Ok(TokenResponse {
        access_token: issued.access_token.token,
        token_type: "bearer",
        expires_in: state.tokens.ttl().as_secs(),
        refresh_token: issued.refresh_token,
        scope,
    })
}

/// Checks the second factor of `user`, whose password was right: `otp` must be a current code
/// or an unused recovery code. Wrong codes are throttled like passwords.
async fn second_factor(
    state: &AppState,
    user: &UserRow,
    otp: Option<&str>,
    acting: &Acting,
) -> Result<(), Failure> {
    let Some(otp) = otp else {
        return Err(OAuthError::new(
            "invalid_grant",
            "This account uses two-step sign-in: send the current 6-digit code of its authenticator app (or an unused recovery code) as the otp parameter.",
        )
        .into());
    };
    let refused = |outcome| {
        let event = Acting {
            actor: Actor::user(user),
            ..acting.clone()
        }
        .event(AuditAction::SignIn)
        .about(user)
        .outcome(outcome);
        record(&state.store, event)
    };
    match check_code(state, user, otp, acting.origin.ip_address.as_deref()).await? {
        CodeVerdict::Accepted | CodeVerdict::RecoveryCodeAccepted { .. } => Ok(()),
        CodeVerdict::Refused => {
            refused(Outcome::Failure).await;
            Err(OAuthError::new(
                "invalid_grant",
                "The otp code is not right or was used already: send the code the authenticator app shows now.",
            )
            .into())
        }
        CodeVerdict::Throttled(wait) => {
            refused(Outcome::Throttled).await;
            Err(Failure::Throttled(wait))
        }
    }
}

#[tracing::instrument(skip_all)]
async fn refresh_grant(
    state: &AppState,
    form: &HashMap<String, String>,
    acting: &Acting,
) -> Result<TokenResponse, Failure> {
    let origin = &acting.origin;
    let presented = required(form, "refresh_token")?;
    let requested = optional(form, "scope")?;
    if let Some(requested) = requested {
        scopes::parse(requested).map_err(invalid_scope)?;
    }
    // Guessing refresh tokens is hopeless (256 bits), but failures still count against the
    // address, like failed passwords.
    let attempt = Attempt::from_address(origin.ip_address.as_deref())?;
    if let Some(wait) = attempt.reserve(state).await? {
        return Err(Failure::Throttled(wait));
    }
    match refresh::rotate(state, presented, ClientKind::Program, requested, acting).await? {
        Rotation::Rotated {
            session,
            user,
            successor,
            scope,
        } => {
            attempt.abandoned(state).await?;
            let issued = state
                .tokens
                .issue(user.id, &session.id, session.token_version, &scope)?;
            tracing::info!(user_id = user.id, "token issued (refresh grant)");
            Ok(TokenResponse {
                access_token: issued.token,
                token_type: "bearer",
                expires_in: state.tokens.ttl().as_secs(),
                refresh_token: successor,
                scope,
            })
        }
        Rotation::InvalidScope(error) => {
            attempt.abandoned(state).await?;
            Err(invalid_scope(error).into())
        }
        // The reservation stays: a failure.
        Rotation::Refused | Rotation::Disabled => Err(OAuthError::invalid_grant().into()),
    }
}

fn invalid_scope(error: ScopeError) -> OAuthError {
    OAuthError::new("invalid_scope", sentence(&error.to_string()))
}

/// The body as a map, after the checks RFC 6749 asks for: the form content type, no credentials
/// in the URL, no parameter given twice.
fn parse_form(uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Result<HashMap<String, String>, OAuthError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    if !media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(OAuthError::invalid_request(
            "Send the parameters as application/x-www-form-urlencoded.",
        ));
    }
    if let Some(query) = uri.query() {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
        if pairs
            .iter()
            .any(|(name, _)| SECRET_PARAMETERS.contains(&name.as_str()))
        {
            return Err(OAuthError::invalid_request(
                "Credentials belong in the request body, never in the URL.",
            ));
        }
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|_| OAuthError::invalid_request("The request body is not a valid form."))?;
    let mut form = HashMap::new();
    for (name, value) in pairs {
        if form.contains_key(&name) {
            return Err(OAuthError::invalid_request(format!(
                "The parameter {name} is repeated."
            )));
        }
        form.insert(name, value);
    }
    Ok(form)
}

fn required<'a>(form: &'a HashMap<String, String>, name: &str) -> Result<&'a str, OAuthError> {
    optional(form, name)?
        .ok_or_else(|| OAuthError::invalid_request(format!("The parameter {name} is missing.")))
}

/// A parameter that may be absent. Sent without a value it counts as absent (RFC 6749 §3.1).
fn optional<'a>(form: &'a HashMap<String, String>, name: &str) -> Result<Option<&'a str>, OAuthError> {
    Ok(form
        .get(name)
        .map(String::as_str)
        .filter(|value| !value.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form_headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"),
        );
        headers
    }

    #[test]
    fn a_form_is_read_into_its_parameters() {
        let form = parse_form(
            &Uri::from_static("/token"),
            &form_headers(),
            b"grant_type=password&username=a&x=1",
        )
        .unwrap();
        assert_eq!(form["grant_type"], "password");
        assert_eq!(
            form["x"], "1",
            "unknown parameters are kept (and ignored by the grants)"
        );
    }

    #[test]
    fn repeated_parameters_other_content_types_and_credentials_in_the_url_are_invalid_requests() {
        let repeated = parse_form(
            &Uri::from_static("/token"),
            &form_headers(),
            b"scope=me&scope=items",
        )
        .unwrap_err();
        assert_eq!(repeated.error, "invalid_request");
        let json = parse_form(&Uri::from_static("/token"), &HeaderMap::new(), b"{}").unwrap_err();
        assert_eq!(json.error, "invalid_request");
        let in_url = parse_form(
            &Uri::from_static("/token?password=x"),
            &form_headers(),
            b"grant_type=password",
        )
        .unwrap_err();
        assert!(in_url.error_description.contains("never in the URL"));
    }

    #[test]
    fn parameters_without_a_value_count_as_absent() {
        let form: HashMap<String, String> = [
            ("scope".to_owned(), String::new()),
            ("username".to_owned(), String::new()),
        ]
        .into();
        assert_eq!(optional(&form, "scope").unwrap(), None);
        assert!(
            required(&form, "username")
                .unwrap_err()
                .error_description
                .contains("missing")
        );
        assert_eq!(optional(&HashMap::new(), "scope").unwrap(), None);
        assert!(
            required(&HashMap::new(), "username")
                .unwrap_err()
                .error_description
                .contains("missing")
        );
    }
}
