//! Signing in, signing out and changing the password: the bodies of the server functions in
//! `crate::api`, with the HTTP details (cookies, redirects) they need.

use axum::http::StatusCode;
use axum::http::request::Parts;
use leptos::prelude::{expect_context, use_context};
use leptos_axum::ResponseOptions;
use secrecy::SecretString;
use time::OffsetDateTime;
use tower_cookies::Cookies;

use crate::api::SessionSummary;
use crate::domain::Password;
use crate::error::AppError;
use crate::server::auth::credentials::{Verdict, authenticate};
use crate::server::auth::current_user::{Caller, caller, human_time, set_session_cookies, signed_in_user};
use crate::server::auth::next_path::{DEFAULT_AFTER_SIGN_IN, safe_next};
use crate::server::auth::password;
use crate::server::auth::refresh;
use crate::server::auth::scopes;
use crate::server::client::{describe_user_agent, session_origin};
use crate::server::errors::{internal, sentence};
use crate::server::state::AppState;

/// Signs a person in; see [`crate::api::login`].
#[tracing::instrument(skip_all, fields(username = %username))]
pub async fn login(
    username: String,
    password: Password,
    remember: bool,
    next: Option<String>,
) -> Result<(), AppError> {
    let state = expect_context::<AppState>();
    let cookies = request_cookies()?;
    let parts = use_context::<Parts>().ok_or_else(|| internal(anyhow::anyhow!("no request parts")))?;
    let origin = session_origin(&parts.headers, &parts.extensions, remember);
    let user = match authenticate(&state, &username, password.expose(), origin.ip_address.as_deref())
        .await
        .map_err(internal)?
    {
        Verdict::SignedIn(user) => user,
        Verdict::Refused => return Err(AppError::InvalidCredentials),
        Verdict::Throttled(wait) => {
            return Err(AppError::TooManyAttempts {
                retry_after: wait.as_secs().max(1),
            });
        }
    };
    // The session's absolute end; without "keep me signed in" it also ends after
    // `--session-idle` without use, and its cookies when the browser closes.
    let expires_at = OffsetDateTime::now_utc() + state.settings.refresh_ttl;
    let scope = scopes::grant(&user, None).map_err(internal)?;
    let session = state
        .store
        .create_session(&user, &scope, expires_at, &origin)
        .await
        .map_err(internal)?;
    let refresh_token = refresh::generate().map_err(internal)?;
    state
        .store
        .add_refresh_token(&session.id, &refresh::hash(&refresh_token))
        .await
        .map_err(internal)?;
    set_session_cookies(&state, &cookies, &user, &session, refresh_token).map_err(internal)?;
    tracing::info!(user_id = user.id, "signed in");
    redirect(
        next.as_deref()
            .and_then(safe_next)
            .unwrap_or(DEFAULT_AFTER_SIGN_IN),
    );
    Ok(())
}

/// Signs the caller out; see [`crate::api::logout`].
#[tracing::instrument(skip_all)]
pub async fn logout() -> Result<(), AppError> {
    let state = expect_context::<AppState>();
    let cookies = request_cookies()?;
    if let Caller::SignedIn(signed_in) = caller() {
        // Server-side: a copy of the token stops working now, not when it expires.
        state
            .store
            .revoke_session(&signed_in.session.id)
            .await
            .map_err(internal)?;
        tracing::info!(user_id = signed_in.user.id, "signed out");
    }
    state.auth_cookies.clear(&cookies);
    redirect("/login");
    Ok(())
}

/// Changes the caller's password; see [`crate::api::change_password`].
#[tracing::instrument(skip_all)]
pub async fn change_password(current: Password, new: Password, confirm: Password) -> Result<(), AppError> {
    let state = expect_context::<AppState>();
    let signed_in = signed_in_user()?;
    if new.expose() != confirm.expose() {
        return Err(AppError::Invalid(
            "The new password and its confirmation differ.".into(),
        ));
    }
    let current_matches = state
        .passwords
        .verify(
            &SecretString::from(current.expose()),
            Some(&signed_in.user.password_hash()),
        )
        .await
        .map_err(internal)?;
    if !current_matches {
        return Err(AppError::WrongCurrentPassword);
    }
    if new.expose() == current.expose() {
        return Err(AppError::Invalid(
            "The new password must differ from the current one.".into(),
        ));
    }
    let new = SecretString::from(new.expose());
    password::check_policy(&new).map_err(|weak| AppError::Invalid(sentence(&weak.to_string())))?;
    let hash = state.passwords.hash(&new).await.map_err(internal)?;
    state
        .store
        .change_password_keeping_session(signed_in.user.id, &hash, &signed_in.session.id)
        .await
        .map_err(internal)?;
    tracing::info!(
        user_id = signed_in.user.id,
        "password changed; other sessions ended"
    );
    Ok(())
}

/// The cookie jar of the request being served.
fn request_cookies() -> Result<Cookies, AppError> {
    use_context::<Parts>()
        .and_then(|parts| parts.extensions.get::<Cookies>().cloned())
        .ok_or_else(|| internal(anyhow::anyhow!("the cookie layer is missing from the router")))
}

/// Redirects to a path of this site, as 303 See Other for a plain form post (the browser then
/// loads the page with GET); the hydrated app follows the same `Location` itself.
/// `location` must already be a safe path: `leptos_axum::redirect` panics on invalid headers.
fn redirect(location: &str) {
    leptos_axum::redirect(location);
    if let Some(response) = use_context::<ResponseOptions>()
        && let Ok(mut parts) = response.0.write()
        && parts.status == Some(StatusCode::FOUND)
    {
        parts.status = Some(StatusCode::SEE_OTHER);
    }
}

/// The caller's live sessions; see [`crate::api::list_sessions`].
pub async fn list_sessions() -> Result<Vec<SessionSummary>, AppError> {
    let state = expect_context::<AppState>();
    let signed_in = signed_in_user()?;
    let now = OffsetDateTime::now_utc();
    let sessions = state
        .store
        .sessions_of(signed_in.user.id, now)
        .await
        .map_err(internal)?;
    sessions
        .into_iter()
        .filter(|session| session.is_live(now, state.settings.session_idle))
        .map(|session| {
            Ok(SessionSummary {
                browser: describe_user_agent(session.user_agent.as_deref()),
                address: session.ip_address.clone(),
                started: human_time(session.created_at).map_err(internal)?,
                last_used: human_time(session.last_used_at.unwrap_or(session.created_at))
                    .map_err(internal)?,
                this_device: session.id == signed_in.session.id,
                id: session.id,
            })
        })
        .collect()
}

/// Ends one of the caller's sessions; see [`crate::api::revoke_session`].
#[tracing::instrument(skip_all)]
pub async fn revoke_session(id: String) -> Result<(), AppError> {
    let state = expect_context::<AppState>();
    let signed_in = signed_in_user()?;
    if !state
        .store
        .revoke_session_of(signed_in.user.id, &id)
        .await
        .map_err(internal)?
    {
        return Err(AppError::Invalid("That session has already ended.".into()));
    }
    tracing::info!(
        user_id = signed_in.user.id,
        "a session was revoked from the sessions list"
    );
    Ok(())
}

/// Ends the caller's other sessions; see [`crate::api::revoke_other_sessions`].
#[tracing::instrument(skip_all)]
pub async fn revoke_other_sessions() -> Result<u64, AppError> {
    let state = expect_context::<AppState>();
    let signed_in = signed_in_user()?;
    let ended = state
        .store
        .revoke_other_sessions(signed_in.user.id, &signed_in.session.id)
        .await
        .map_err(internal)?;
    tracing::info!(user_id = signed_in.user.id, ended, "signed out everywhere else");
    Ok(ended)
}
