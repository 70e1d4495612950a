//! Who is calling: decided once per request, here, and nowhere else.
//!
//! [`identify_caller`] (an axum middleware around every route) reads the access-token cookie,
//! validates the token and makes one indexed store read (session joined with user); the result
//! goes into the request's extensions as a [`Caller`]. [`guard_pages`] turns it into redirects
//! before any page renders, and server functions read it through [`signed_in_user`]. No argon2
//! and no key derivation happen on this path.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use leptos::prelude::use_context;
use time::OffsetDateTime;
use time::macros::format_description;
use tower_cookies::Cookies;

use crate::api::UserSummary;
use crate::error::AppError;
use crate::server::auth::cookies::Lifetimes;
use crate::server::auth::next_path::{DEFAULT_AFTER_SIGN_IN, safe_next};
use crate::server::auth::refresh::{self, Rotation};
use crate::server::auth::scopes;
use crate::server::auth::sessions::{Liveness, liveness};
use crate::server::errors::{RETRY_AFTER_UNAVAILABLE, internal, request_id_of};
use crate::server::state::AppState;
use crate::server::store::{ClientKind, SessionRow, StoreError, UserRow};

/// Pages only signed-in, active users may see (each with everything below it).
const PROTECTED_PAGES: [&str; 3] = ["/dashboard", "/profile", "/admin"];

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
        scope: claims.scope,
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
    let caller = match identify_from_cookies(&state, &cookies, access.as_deref(), refresh.as_deref()).await {
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
    Ok(
        match refresh::rotate(state, refresh, ClientKind::Browser, None).await? {
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

/// Middleware: the redirects that depend on who is calling, answered before any page renders.
///
/// - `/` goes to the dashboard or the login page;
/// - a protected page without a valid session goes to `/login?next=<path>` (with
///   `reason=account_disabled` when that is why);
/// - `/login` for a signed-in user goes on to `next` or the dashboard.
pub async fn guard_pages(request: Request, next: Next) -> Response {
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return next.run(request).await;
    }
    let signed_in = matches!(request.extensions().get::<Caller>(), Some(Caller::SignedIn(_)));
    let path = request.uri().path();
    if path == "/" {
        return see_other(if signed_in {
            DEFAULT_AFTER_SIGN_IN
        } else {
            "/login"
        });
    }
    if path == "/login" && signed_in {
        let next = query_value(&request, "next");
        return see_other(
            next.as_deref()
                .and_then(safe_next)
                .unwrap_or(DEFAULT_AFTER_SIGN_IN),
        );
    }
    if !signed_in && is_protected(path) {
        let asked_for = request.uri().path_and_query().map_or(path, |pq| pq.as_str());
        let disabled = matches!(request.extensions().get::<Caller>(), Some(Caller::Disabled));
        return see_other(&login_url(asked_for, disabled));
    }
    next.run(request).await
}

/// The login page URL that brings the person back to `asked_for` afterwards.
pub fn login_url(asked_for: &str, disabled: bool) -> String {
    let mut query = vec![("next", asked_for)];
    if disabled {
        query.push(("reason", "account_disabled"));
    }
    // Cannot fail: serializing string pairs.
    format!(
        "/login?{}",
        serde_urlencoded::to_string(query).unwrap_or_default()
    )
}

fn is_static(path: &str) -> bool {
    path.starts_with("/pkg/") || path == "/favicon.svg" || path == "/healthz"
}

/// Whether `path`, however it is spelled, names a protected page: the check runs on the path
/// as the router might understand it, so `/./dashboard`, `//dashboard`, `/%64ashboard`,
/// `/DASHBOARD` or `/dashboard;x` cannot slip past the guard into a render.
fn is_protected(path: &str) -> bool {
    let path = canonical_path(path);
    PROTECTED_PAGES
        .iter()
        .any(|page| path == *page || path.strip_prefix(page).is_some_and(|rest| rest.starts_with('/')))
}

/// The plainest spelling of `path`: percent-decoded, lower case, `;parameters` dropped, empty
/// and `.` segments removed and `..` applied, no trailing slash.
fn canonical_path(path: &str) -> String {
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8_lossy()
        .to_lowercase();
    let mut segments: Vec<&str> = Vec::new();
    for segment in decoded.split(['/', '\\']) {
        let segment = segment.split(';').next().unwrap_or_default();
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    format!("/{}", segments.join("/"))
}

fn query_value(request: &Request, key: &str) -> Option<String> {
    let query = request.uri().query()?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    pairs
        .into_iter()
        .find(|(name, _)| name == key)
        .map(|(_, value)| value)
}

/// 303 See Other: after it, the browser always uses GET.
fn see_other(location: &str) -> Response {
    Redirect::to(location).into_response()
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

/// The signed-in user, for server functions that require one and the `scope` they act in
/// (checked like the API checks a Bearer token's, though browser sessions hold every scope
/// their user may).
///
/// # Errors
/// [`AppError::AccountDisabled`] when the session's account has been disabled,
/// [`AppError::NotPermitted`] when the session lacks `scope`, [`AppError::SignInRequired`] for
/// anyone else.
pub fn signed_in_user(scope: &'static str) -> Result<Arc<SignedInUser>, AppError> {
    match caller() {
        Caller::SignedIn(user) if scopes::includes(&user.scope, scope) => Ok(user),
        Caller::SignedIn(_) => Err(AppError::NotPermitted),
        Caller::Disabled => Err(AppError::AccountDisabled),
        Caller::Visitor => Err(AppError::SignInRequired),
    }
}

/// What the browser may know of the caller (the body of the `current_user` server function).
///
/// # Errors
/// [`AppError::AccountDisabled`] for a session whose account has been disabled, so the running
/// app can say why it signs the person out.
pub async fn summary() -> Result<Option<UserSummary>, AppError> {
    let signed_in = match signed_in_user(scopes::ME) {
        Ok(signed_in) => signed_in,
        Err(AppError::SignInRequired) => return Ok(None),
        Err(error) => return Err(error),
    };
    let SignedInUser { user, session, .. } = signed_in.as_ref();
    Ok(Some(UserSummary {
        username: user.username.clone(),
        full_name: user.full_name.clone(),
        email: user.email.clone(),
        admin: user.admin,
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
    fn protected_pages_include_everything_below_them() {
        for path in ["/dashboard", "/profile", "/admin", "/admin/users"] {
            assert!(is_protected(path), "{path}");
        }
        for path in ["/", "/login", "/dashboards", "/administrator", "/healthz"] {
            assert!(!is_protected(path), "{path}");
        }
    }

    #[test]
    fn every_spelling_of_a_protected_path_is_protected() {
        for path in [
            "/./dashboard",
            "//dashboard",
            "/dashboard/",
            "/%64ashboard",
            "/%2Fdashboard",
            "/DASHBOARD",
            "/dashboard;x",
            "/login/../dashboard",
            "/.%2e/profile",
            "/Admin/Users",
            "/\\dashboard",
        ] {
            assert!(is_protected(path), "{path}");
        }
    }

    #[test]
    fn the_login_url_carries_the_page_asked_for() {
        assert_eq!(login_url("/dashboard", false), "/login?next=%2Fdashboard");
        assert_eq!(
            login_url("/admin/users?page=2", true),
            "/login?next=%2Fadmin%2Fusers%3Fpage%3D2&reason=account_disabled"
        );
    }

    #[test]
    fn times_read_like_a_sentence() {
        let at = time::macros::datetime!(2026-11-28 14:05:09 UTC);
        assert_eq!(human_time(at).unwrap(), "28 November 2026, 14:05 UTC");
    }
}
