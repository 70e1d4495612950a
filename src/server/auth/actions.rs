//! Signing in, signing out, changing the password and the sessions list: the bodies of the
//! server functions in `crate::api`, with the HTTP details (cookies, redirects) they need.

use axum::http::StatusCode;
use axum::http::request::Parts;
use leptos::prelude::{expect_context, use_context};
use leptos_axum::ResponseOptions;
use secrecy::SecretString;
use tower_cookies::Cookies;

use crate::api::{
    AuditAction, ChangePassword, ListSessions, RevokeOtherSessions, RevokeSession, SessionSummary,
};
use crate::domain::Password;
use crate::error::{AppError, Problem};
use crate::server::audit::pages::{acting, record_own};
use crate::server::audit::{Actor, Outcome, record, refused_sign_in};
use crate::server::auth::access::admitted;
use crate::server::auth::credentials::{AttemptSource, Verdict, authenticate, recheck};
use crate::server::auth::current_user::{Caller, caller, human_time, set_session_cookies};
use crate::server::auth::next_path::{DEFAULT_AFTER_SIGN_IN, safe_next};
use crate::server::auth::password;
use crate::server::auth::throttle::retry_after_seconds;
use crate::server::auth::{device, scopes, sessions};
use crate::server::client::{describe_user_agent, session_origin};
use crate::server::errors::internal;
use crate::server::state::AppState;
use crate::server::store::{ClientKind, SessionOrigin, UserRow};
use crate::server::two_step::start_second_step;

/// Signs a person in; see [`crate::api::login`].
// The name is logged with `?`: escaped, so a name with a line break cannot forge a log line.
#[tracing::instrument(skip_all, fields(username = ?username))]
pub async fn login(
    username: String,
    password: Password,
    remember: bool,
    next: Option<String>,
) -> Result<(), AppError> {
    let state = expect_context::<AppState>();
    let cookies = request_cookies()?;
    let origin = request_origin(remember)?;
    let device_cookie = state.auth_cookies.read_device(&cookies);
    let source = AttemptSource {
        address: origin.ip_address.as_deref(),
        device_cookie: device_cookie.as_deref(),
    };
    let verified = match authenticate(&state, &username, password.expose(), source)
        .await
        .map_err(internal)?
    {
        Verdict::Verified(verified) => verified,
        Verdict::Refused => {
            let event =
                refused_sign_in(&state.store, &acting(Actor::Visitor), &username, Outcome::Failure).await;
            record(&state.store, event).await;
            return Err(AppError::InvalidCredentials);
        }
        Verdict::Throttled(wait) => {
            let event = refused_sign_in(
                &state.store,
                &acting(Actor::Visitor),
                &username,
                Outcome::Throttled,
            )
            .await;
            record(&state.store, event).await;
            return Err(too_many_attempts(wait));
        }
    };
    let user = verified.confirm(&state).await.map_err(internal)?;
    let next = next.as_deref().and_then(safe_next);
    // With a second factor, a right password opens only the code page.
    if state.store.has_second_factor(user.id).await.map_err(internal)? {
        start_second_step(&state, &cookies, &user, remember, next)
            .await
            .map_err(internal)?;
        redirect(SECOND_STEP_PAGE);
        return Ok(());
    }
    start_browser_session(&state, &cookies, &user, &origin).await?;
    record_own(&state, &user, AuditAction::SignIn, Outcome::Success).await;
    redirect(next.unwrap_or(DEFAULT_AFTER_SIGN_IN));
    Ok(())
}

/// Where a right password leads when the account has a second factor.
pub const SECOND_STEP_PAGE: &str = "/login/code";

/// Starts a browser session for `user` (every scope they may hold) and sets its cookies, with
/// a device cookie that keeps this browser apart from strangers when sign-ins are throttled.
pub async fn start_browser_session(
    state: &AppState,
    cookies: &Cookies,
    user: &UserRow,
    origin: &SessionOrigin,
) -> Result<(), AppError> {
    let scope = scopes::grant(user, None).map_err(internal)?;
    let issued = sessions::issue(state, user, &scope, origin, ClientKind::Browser)
        .await
        .map_err(internal)?;
    set_session_cookies(
        state,
        cookies,
        &issued.session,
        issued.access_token.token,
        issued.refresh_token,
    );
    let device_cookie = device::issue(&state.signing_key, &user.username).map_err(internal)?;
    state.auth_cookies.set_device(cookies, device_cookie);
    Ok(())
}

/// The 429 for a throttled attempt, asking for whole seconds, rounded up.
pub fn too_many_attempts(wait: std::time::Duration) -> AppError {
    AppError::TooManyAttempts {
        retry_after: retry_after_seconds(wait),
    }
}

/// Where this request comes from, as a new session records it.
pub fn request_origin(persistent: bool) -> Result<SessionOrigin, AppError> {
    let parts = use_context::<Parts>().ok_or_else(|| internal(anyhow::anyhow!("no request parts")))?;
    Ok(session_origin(&parts.headers, &parts.extensions, persistent))
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
        record_own(&state, &signed_in.user, AuditAction::SignOut, Outcome::Success).await;
        tracing::info!(user_id = signed_in.user.id, "signed out");
    }
    state.auth_cookies.clear(&cookies);
    redirect("/login");
    Ok(())
}

/// Changes the caller's password; see [`crate::api::change_password`].
///
/// The request is checked before the current password is; the current password goes through
/// the same throttle as a sign-in (so a stolen session cannot guess it), and a wrong one is
/// logged. Every session of the user ends, this one included: it continues under a new
/// session id and new tokens, so a token copied before the change is worthless.
#[tracing::instrument(skip_all)]
pub async fn change_password(current: Password, new: Password, confirm: Password) -> Result<(), AppError> {
    let state = expect_context::<AppState>();
    let cookies = request_cookies()?;
    let signed_in = admitted::<ChangePassword>()?;
    if new.expose() != confirm.expose() {
        return Err(AppError::Invalid(Problem::ConfirmationDiffers));
    }
    if new.expose() == current.expose() {
        return Err(AppError::Invalid(Problem::PasswordUnchanged));
    }
    let new = SecretString::from(new.expose());
    password::check_policy(&new).map_err(|weak| AppError::Invalid(weak.into()))?;
    // The new session keeps "keep me signed in" as the old one had it.
    let origin = request_origin(signed_in.session.persistent)?;
    let device_cookie = state.auth_cookies.read_device(&cookies);
    let source = AttemptSource {
        address: origin.ip_address.as_deref(),
        device_cookie: device_cookie.as_deref(),
    };
    let user = match recheck(&state, &signed_in.user, current.expose(), source)
        .await
        .map_err(internal)?
    {
        Verdict::Verified(verified) => verified.confirm(&state).await.map_err(internal)?,
        Verdict::Refused => {
            tracing::warn!(
                user_id = signed_in.user.id,
                address = origin.ip_address,
                "wrong current password when changing the password"
            );
            record_own(
                &state,
                &signed_in.user,
                AuditAction::PasswordChanged,
                Outcome::Failure,
            )
            .await;
            return Err(AppError::WrongCurrentPassword);
        }
        Verdict::Throttled(wait) => {
            record_own(
                &state,
                &signed_in.user,
                AuditAction::PasswordChanged,
                Outcome::Throttled,
            )
            .await;
            return Err(too_many_attempts(wait));
        }
    };
    let hash = state.passwords.hash(&new).await.map_err(internal)?;
    state
        .store
        .change_password_ending_sessions(user.id, &hash)
        .await
        .map_err(internal)?;
    start_browser_session(&state, &cookies, &user, &origin).await?;
    record_own(&state, &user, AuditAction::PasswordChanged, Outcome::Success).await;
    tracing::info!(
        user_id = user.id,
        "password changed; every session ended, this one continues under a new id"
    );
    // A temporary password kept the person on the page that replaces it; now they may go on.
    if signed_in.user.must_change_password {
        redirect(DEFAULT_AFTER_SIGN_IN);
    }
    Ok(())
}

/// Checks the signed-in `user`'s own password before a change to their account's security
/// (`action`, audited): throttled and counted like a sign-in, so a stolen session cannot
/// guess it; a refusal is audited as `action` failed.
///
/// # Errors
/// [`AppError::WrongCurrentPassword`], [`AppError::TooManyAttempts`], or a store failure.
pub async fn confirm_own_password(
    state: &AppState,
    user: &UserRow,
    password: &Password,
    action: AuditAction,
) -> Result<UserRow, AppError> {
    let cookies = request_cookies()?;
    let origin = request_origin(false)?;
    let device_cookie = state.auth_cookies.read_device(&cookies);
    let source = AttemptSource {
        address: origin.ip_address.as_deref(),
        device_cookie: device_cookie.as_deref(),
    };
    match recheck(state, user, password.expose(), source)
        .await
        .map_err(internal)?
    {
        Verdict::Verified(verified) => verified.confirm(state).await.map_err(internal),
        Verdict::Refused => {
            record_own(state, user, action, Outcome::Failure).await;
            Err(AppError::WrongCurrentPassword)
        }
        Verdict::Throttled(wait) => {
            record_own(state, user, action, Outcome::Throttled).await;
            Err(too_many_attempts(wait))
        }
    }
}

/// The cookie jar of the request being served.
pub fn request_cookies() -> Result<Cookies, AppError> {
    use_context::<Parts>()
        .and_then(|parts| parts.extensions.get::<Cookies>().cloned())
        .ok_or_else(|| internal(anyhow::anyhow!("the cookie layer is missing from the router")))
}

/// The new password a form chose: typed twice alike, and within the password policy.
///
/// # Errors
/// [`Problem::ConfirmationDiffers`], or the policy's problem.
pub fn chosen_password(new: &Password, confirm: &Password) -> Result<SecretString, AppError> {
    if new.expose() != confirm.expose() {
        return Err(AppError::Invalid(Problem::ConfirmationDiffers));
    }
    let secret = SecretString::from(new.expose());
    password::check_policy(&secret).map_err(|weak| AppError::Invalid(weak.into()))?;
    Ok(secret)
}

/// Redirects to a path of this site, as 303 See Other for a plain form post (the browser then
/// loads the page with GET); the hydrated app follows the same `Location` itself.
/// `location` must already be a safe path: `leptos_axum::redirect` panics on invalid headers.
pub fn redirect(location: &str) {
    leptos_axum::redirect(location);
    if let Some(response) = use_context::<ResponseOptions>()
        && let Ok(mut parts) = response.0.write()
        && parts.status == Some(StatusCode::FOUND)
    {
        parts.status = Some(StatusCode::SEE_OTHER);
    }
}

/// Redirects a plain form post (the browser then loads a page that says what happened); a call
/// from an island is left alone, and the island shows the outcome in place, without a page load.
/// The two differ as `leptos_axum::redirect` tells them apart: a plain post accepts HTML.
pub fn redirect_plain_post(location: &str) {
    let accepts_html = use_context::<Parts>().is_some_and(|request| {
        request
            .headers
            .get(axum::http::header::ACCEPT)
            .and_then(|accept| accept.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
    });
    if accepts_html {
        redirect(location);
    }
}

/// The caller's live sessions; see [`crate::api::list_sessions`].
pub async fn list_sessions() -> Result<Vec<SessionSummary>, AppError> {
    let state = expect_context::<AppState>();
    let signed_in = admitted::<ListSessions>()?;
    let now = state.clock.now();
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
    let signed_in = admitted::<RevokeSession>()?;
    if !state
        .store
        .revoke_session_of(signed_in.user.id, &id)
        .await
        .map_err(internal)?
    {
        return Err(AppError::Invalid(Problem::SessionEnded));
    }
    record_own(
        &state,
        &signed_in.user,
        AuditAction::SessionEnded,
        Outcome::Success,
    )
    .await;
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
    let signed_in = admitted::<RevokeOtherSessions>()?;
    let ended = state
        .store
        .revoke_other_sessions(signed_in.user.id, &signed_in.session.id)
        .await
        .map_err(internal)?;
    if ended > 0 {
        record_own(
            &state,
            &signed_in.user,
            AuditAction::SessionEnded,
            Outcome::Success,
        )
        .await;
    }
    tracing::info!(user_id = signed_in.user.id, ended, "signed out everywhere else");
    Ok(ended)
}
