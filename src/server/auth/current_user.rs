//! Who is calling: decided once per request, here, and nowhere else.
//!
//! [`identify_caller`] (an axum middleware around every route) reads the access-token cookie,
//! validates the token and makes one indexed store read (session joined with user); the result
//! goes into the request's extensions as a [`Caller`]. What the caller may use is decided from
//! it by [`super::access`], against the route table. No argon2 and no key derivation happen on
//! this path.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use leptos::prelude::use_context;
use time::OffsetDateTime;
use time::macros::format_description;
use tower_cookies::Cookies;

use crate::api::UserSummary;
use crate::error::AppError;
use crate::server::audit::{Acting, Actor};
use crate::server::auth::cookies::Lifetimes;
use crate::server::auth::refresh::{self, Rotation};
use crate::server::auth::sessions::{Liveness, liveness};
use crate::server::client::session_origin;
use crate::server::errors::{RETRY_AFTER_UNAVAILABLE, internal, request_id_of};
use crate::server::state::AppState;
use crate::server::store::{ClientKind, SessionRow, StoreError, UserRow};

/// The caller of one request.
#[derive(Debug, Clone)]
pub enum Caller {
    /// No valid session: no cookie, or a token that is expired, forged or revoked.
    Visitor,
    /// A live session of an active user.
    SignedIn(Arc<SignedInUser>),
    /// A session that was valid, of a user who has since been disabled.
    Disabled,
}

/// A signed-in user together with the session the request belongs to.
#[derive(Debug)]
pub struct SignedInUser {
    pub user: UserRow,
    pub session: SessionRow,
    /// The scopes of the token presented (space-separated).
    pub scope: String,
}

/// How a token reached us, which decides what kind of session it may belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presented {
    /// In the browser's access cookie: only a browser session's token counts, since cookies
    /// unlock every server function and a program's token may hold narrowed scopes.
    Cookie,
    /// In `Authorization: Bearer`: any session's token, limited by its scope.
    Bearer,
}

/// Decides who holds `token`.
///
/// # Errors
/// Only when the store fails; every kind of bad token is a [`Caller::Visitor`].
pub async fn identify(state: &AppState, token: &str, presented: Presented) -> Result<Caller, StoreError> {
    let Ok(claims) = state.tokens.validate(token) else {
        return Ok(Caller::Visitor);
    };
    let Some((session, user)) = state.store.find_session(&claims.sid).await? else {
        return Ok(Caller::Visitor);
    };
    if user.id.to_string() != claims.sub
        || claims.tv != session.token_version
        || (presented == Presented::Cookie && !session.is_browser())
    {
        return Ok(Caller::Visitor);
    }
    match liveness(state, &session, &user) {
        Liveness::Alive => {}
        Liveness::Ended => return Ok(Caller::Visitor),
        Liveness::Disabled => return Ok(Caller::Disabled),
    }
    state.store.touch_session(&session, state.clock.now()).await?;
    Ok(Caller::SignedIn(Arc::new(SignedInUser {
        user,
        session,
        scope: claims.scope.clone(),
    })))
}

/// Middleware: identifies the caller of every request and records it in the request.
///
/// When the access token has expired (or is missing) but the refresh cookie is good, the
/// session goes on silently: the refresh token is rotated, both cookies are set on this
/// response and the request is served as signed in. Cookies that no longer identify anyone
/// are cleared.
pub async fn identify_caller(
    State(state): State<AppState>,
    cookies: Cookies,
    mut request: Request,
    next: Next,
) -> Response {
    // Static files need no caller: spare them the store read.
    if is_static(request.uri().path()) {
        return next.run(request).await;
    }
    let access = state.auth_cookies.read_access(&cookies);
    let refresh = state.auth_cookies.read_refresh(&cookies);
    let caller = match identify_from_cookies(
        &state,
        &cookies,
        (request.headers(), request.extensions()),
        access.as_deref(),
        refresh.as_deref(),
    )
    .await
    {
        Ok(caller) => caller,
        Err(error) => return store_unavailable(&request, &error),
    };
    let had_cookies = access.is_some() || refresh.is_some();
    if had_cookies && !matches!(caller, Caller::SignedIn(_)) {
        state.auth_cookies.clear(&cookies);
    }
    request.extensions_mut().insert(caller);
    next.run(request).await
}

async fn identify_from_cookies(
    state: &AppState,
    cookies: &Cookies,
    (headers, extensions): (&HeaderMap, &Extensions),
    access: Option<&str>,
    refresh: Option<&str>,
) -> Result<Caller, StoreError> {
    let caller = match access {
        Some(token) => identify(state, token, Presented::Cookie).await?,
        None => Caller::Visitor,
    };
    let (Caller::Visitor, Some(refresh)) = (&caller, refresh) else {
        return Ok(caller);
    };
    // Who refreshes, for the audit log should the token turn out to be a replay.
    let acting = Acting {
        actor: Actor::Visitor,
        origin: session_origin(headers, extensions, false),
        request_id: Some(request_id_of(headers)),
    };
    Ok(
        match refresh::rotate(state, refresh, ClientKind::Browser, None, &acting).await? {
            Rotation::Rotated {
                session,
                user,
                successor,
                scope,
            } => {
                let access = match state
                    .tokens
                    .issue(user.id, &session.id, session.token_version, &scope)
                {
                    Ok(access) => access,
                    Err(error) => {
                        tracing::error!(error = format!("{error:#}"), "cannot issue an access token");
                        return Ok(Caller::Visitor);
                    }
                };
                set_session_cookies(state, cookies, &session, access.token, successor);
                tracing::debug!(user_id = user.id, "session refreshed silently");
                Caller::SignedIn(Arc::new(SignedInUser { user, session, scope }))
            }
            Rotation::Refused | Rotation::InvalidScope(_) => Caller::Visitor,
            Rotation::Disabled => Caller::Disabled,
        },
    )
}

fn is_static(path: &str) -> bool {
    path.starts_with("/pkg/") || path == "/favicon.svg" || path == "/healthz"
}

/// Sets a browser session's tokens in the two cookies, kept by the browser as long as the
/// tokens live for a "keep me signed in" session, else until the browser closes. The tokens
/// never reach a page.
pub fn set_session_cookies(
    state: &AppState,
    cookies: &Cookies,
    session: &SessionRow,
    access_token: String,
    refresh_token: String,
) {
    let lifetimes = session.persistent.then(|| Lifetimes {
        access: state.tokens.ttl(),
        refresh: (session.expires_at - state.clock.now())
            .try_into()
            .unwrap_or_default(),
    });
    state
        .auth_cookies
        .set(cookies, access_token, refresh_token, lifetimes);
}

fn store_unavailable(request: &Request, error: &StoreError) -> Response {
    let request_id = request_id_of(request.headers());
    tracing::error!(
        request_id,
        error = format!("{error:#}"),
        "cannot identify the caller: the store failed"
    );
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            (header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_UNAVAILABLE)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        format!("Gatehouse cannot reach its database right now. Please try again in a moment (reference {request_id})."),
    )
        .into_response()
}

/// The caller of the request a server function is running for.
pub fn caller() -> Caller {
    use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Caller>().cloned())
        .unwrap_or(Caller::Visitor)
}

/// What the browser may know of the caller (the body of the `current_user` server function).
///
/// # Errors
/// [`AppError::AccountDisabled`] for a session whose account has been disabled, so the running
/// app can say why it signs the person out.
pub async fn summary() -> Result<Option<UserSummary>, AppError> {
    summary_of(&caller())
}

/// What the browser may know of `caller`: all that a page learns of who is asking, which is
/// why kept pages are kept by it ([`crate::server::page_cache`]).
///
/// # Errors
/// As [`summary`].
pub fn summary_of(caller: &Caller) -> Result<Option<UserSummary>, AppError> {
    let signed_in = match caller {
        Caller::SignedIn(signed_in) => signed_in,
        Caller::Disabled => return Err(AppError::AccountDisabled),
        Caller::Visitor => return Ok(None),
    };
    let SignedInUser { user, session, .. } = signed_in.as_ref();
    Ok(Some(UserSummary {
        username: user.username.clone(),
        full_name: user.full_name.clone(),
        email: user.email.clone(),
        email_verified: user.email_verified,
        admin: user.admin,
        must_change_password: user.must_change_password,
        signed_in_at: human_time(session.created_at).map_err(internal)?,
        member_since: human_time(user.created_at).map_err(internal)?,
    }))
}

/// "28 November 2026, 14:05 UTC".
pub fn human_time(at: OffsetDateTime) -> Result<String, time::error::Format> {
    at.to_offset(time::UtcOffset::UTC).format(format_description!(
        "[day padding:none] [month repr:long] [year], [hour]:[minute] UTC"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_like_a_sentence() {
        let at = time::macros::datetime!(2026-11-28 14:05:09 UTC);
        assert_eq!(human_time(at).unwrap(), "28 November 2026, 14:05 UTC");
    }
}
