//! Two-step sign-in as people use it: turning it on from `/profile` (the password, then a code
//! from the app), recovery codes, turning it off, the second step of signing in, and an
//! administrator's (or the CLI's) removal. The bodies of the server functions in
//! `crate::api::two_step`; the rules themselves are the parent module's.

use leptos::prelude::expect_context;

use super::{
    CodeVerdict, check_code, enrolment_step, new_enrolment, new_recovery_codes, pending_second_step,
};
use crate::api::{
    AuditAction, BeginTwoStep, ConfirmTwoStep, NewRecoveryCodes, TotpEnrolment, TurnOffTwoStep,
    TwoStepStatus, TwoStepSummary,
};
use crate::domain::Password;
use crate::error::{AppError, Problem};
use crate::server::audit::Outcome;
use crate::server::audit::pages::record_own;
use crate::server::auth::access::admitted;
use crate::server::auth::actions::{
    confirm_own_password, redirect, request_cookies, request_origin, start_browser_session, too_many_attempts,
};
use crate::server::auth::cookies::Pending;
use crate::server::auth::current_user::human_time;
use crate::server::auth::next_path::{DEFAULT_AFTER_SIGN_IN, safe_next};
use crate::server::errors::internal;
use crate::server::mail::messages::Template;
use crate::server::self_service::send_notice;
use crate::server::state::AppState;
use crate::server::store::{SessionOrigin, Store, StoreError, UserRow};

/// See [`crate::api::two_step_status`].
pub async fn status() -> Result<TwoStepSummary, AppError> {
    let state = expect_context::<AppState>();
    let signed_in = admitted::<TwoStepStatus>()?;
    let user_id = signed_in.user.id;
    let factor = state.store.totp_factor(user_id).await.map_err(internal)?;
    let since = match factor.and_then(|factor| factor.enabled_at) {
        Some(at) => Some(human_time(at).map_err(internal)?),
        None => None,
    };
    let recovery_codes_left = if since.is_some() {
        state.store.recovery_codes_left(user_id).await.map_err(internal)?
    } else {
        0
    };
    Ok(TwoStepSummary {
        on_since: since,
        recovery_codes_left,
    })
}

/// See [`crate::api::begin_two_step`].
#[tracing::instrument(skip_all)]
pub async fn begin(password: Password) -> Result<TotpEnrolment, AppError> {
    let state = expect_context::<AppState>();
    let signed_in = admitted::<BeginTwoStep>()?;
    let user = confirm_own_password(&state, &signed_in.user, &password, AuditAction::TwoStepEnabled).await?;
    let enrolment = new_enrolment(&state, &user).map_err(internal)?;
    if !state
        .store
        .begin_totp(user.id, &enrolment.sealed)
        .await
        .map_err(internal)?
    {
        return Err(AppError::Invalid(Problem::TwoStepAlreadyOn));
    }
    tracing::info!(user_id = user.id, "two-step sign-in: enrolment begun");
    Ok(TotpEnrolment {
        secret: enrolment.secret_text,
        uri: enrolment.uri,
        qr_svg: enrolment.qr_svg,
    })
}

/// See [`crate::api::confirm_two_step`].
#[tracing::instrument(skip_all)]
pub async fn confirm(code: String) -> Result<Vec<String>, AppError> {
    let state = expect_context::<AppState>();
    let signed_in = admitted::<ConfirmTwoStep>()?;
    let user = &signed_in.user;
    let factor = state.store.totp_factor(user.id).await.map_err(internal)?;
    let Some(factor) = factor.filter(|factor| factor.enabled_at.is_none()) else {
        return Err(AppError::Invalid(Problem::TwoStepNotBegun));
    };
    let step = enrolment_step(&state, user, &factor.secret_sealed, &code).map_err(internal)?;
    let Some(step) = step else {
        record_own(&state, user, AuditAction::TwoStepEnabled, Outcome::Failure).await;
        return Err(AppError::Invalid(Problem::CodeWrong));
    };
    let (codes, hashes) = new_recovery_codes(&state, user.id).map_err(internal)?;
    if !state
        .store
        .enable_totp(user.id, step, &hashes)
        .await
        .map_err(internal)?
    {
        return Err(AppError::Invalid(Problem::TwoStepNotBegun));
    }
    record_own(&state, user, AuditAction::TwoStepEnabled, Outcome::Success).await;
    notify_change(&state, &request_origin(false)?, user, "turned on");
    tracing::info!(user_id = user.id, "two-step sign-in turned on");
    Ok(codes)
}

/// See [`crate::api::new_recovery_codes`].
#[tracing::instrument(skip_all)]
pub async fn renew_recovery_codes(password: Password) -> Result<Vec<String>, AppError> {
    let state = expect_context::<AppState>();
    let signed_in = admitted::<NewRecoveryCodes>()?;
    let user = confirm_own_password(
        &state,
        &signed_in.user,
        &password,
        AuditAction::RecoveryCodesRenewed,
    )
    .await?;
    let (codes, hashes) = new_recovery_codes(&state, user.id).map_err(internal)?;
    if !state
        .store
        .renew_recovery_codes(user.id, &hashes)
        .await
        .map_err(internal)?
    {
        return Err(AppError::Invalid(Problem::TwoStepOff));
    }
    record_own(&state, &user, AuditAction::RecoveryCodesRenewed, Outcome::Success).await;
    tracing::info!(
        user_id = user.id,
        "new recovery codes made; the old ones no longer work"
    );
    Ok(codes)
}

/// See [`crate::api::turn_off_two_step`].
#[tracing::instrument(skip_all)]
pub async fn turn_off(password: Password) -> Result<(), AppError> {
    let state = expect_context::<AppState>();
    let signed_in = admitted::<TurnOffTwoStep>()?;
    let user = confirm_own_password(&state, &signed_in.user, &password, AuditAction::TwoStepDisabled).await?;
    if !state
        .store
        .remove_second_factor(user.id)
        .await
        .map_err(internal)?
    {
        return Err(AppError::Invalid(Problem::TwoStepOff));
    }
    record_own(&state, &user, AuditAction::TwoStepDisabled, Outcome::Success).await;
    notify_change(&state, &request_origin(false)?, &user, "turned off");
    tracing::info!(user_id = user.id, "two-step sign-in turned off");
    Ok(())
}

/// See [`crate::api::finish_sign_in`].
///
/// The browser's half-finished sign-in names the account; the code is checked (throttled) and,
/// when right, the record is ended (once: of two requests at once, one finds it gone) and the
/// session starts exactly as after a password alone.
#[tracing::instrument(skip_all)]
pub async fn finish_sign_in(code: String) -> Result<(), AppError> {
    let state = expect_context::<AppState>();
    let cookies = request_cookies()?;
    let Some((hash, step)) = pending_second_step(&state, &cookies).await.map_err(internal)? else {
        return Err(AppError::Invalid(Problem::SecondStepExpired));
    };
    let user = state
        .store
        .user_by_id(step.user_id)
        .await
        .map_err(internal)?
        .filter(|user| !user.disabled);
    let Some(user) = user else {
        state.store.end_second_step(&hash).await.map_err(internal)?;
        state.auth_cookies.clear_pending(&cookies, Pending::SecondStep);
        return Err(AppError::InvalidCredentials);
    };
    let origin = request_origin(step.persistent)?;
    let verdict = check_code(&state, &user, &code, origin.ip_address.as_deref())
        .await
        .map_err(internal)?;
    let recovery_codes_left = match verdict {
        CodeVerdict::Accepted => None,
        CodeVerdict::RecoveryCodeAccepted { left } => Some(left),
        CodeVerdict::Refused => {
            record_own(&state, &user, AuditAction::SignIn, Outcome::Failure).await;
            return Err(AppError::Invalid(Problem::CodeWrong));
        }
        CodeVerdict::Throttled(wait) => {
            record_own(&state, &user, AuditAction::SignIn, Outcome::Throttled).await;
            return Err(too_many_attempts(wait));
        }
    };
    if !state.store.end_second_step(&hash).await.map_err(internal)? {
        return Err(AppError::Invalid(Problem::SecondStepExpired));
    }
    state.auth_cookies.clear_pending(&cookies, Pending::SecondStep);
    start_browser_session(&state, &cookies, &user, &origin).await?;
    record_own(&state, &user, AuditAction::SignIn, Outcome::Success).await;
    match recovery_codes_left {
        // Said on /profile, where new codes are made.
        Some(left) => {
            tracing::info!(user_id = user.id, left, "signed in with a recovery code");
            redirect("/profile?notice=recovery_code_used");
        }
        None => redirect(
            step.next_path
                .as_deref()
                .and_then(safe_next)
                .unwrap_or(DEFAULT_AFTER_SIGN_IN),
        ),
    }
    Ok(())
}

/// Mails the account's confirmed address that its two-step sign-in was `change`d ("turned
/// off"), from where and when, and what to do if it was not them.
pub fn notify_change(state: &AppState, origin: &SessionOrigin, user: &UserRow, change: &str) {
    if let Some(email) = user.email.as_deref().filter(|_| user.email_verified) {
        send_notice(
            state,
            origin,
            email,
            Template::TwoStepChanged,
            &[("username", &user.username), ("change", change)],
        );
    }
}

/// Removes `user_id`'s second factor and passkeys (if any) after their identity was checked out
/// of band, and ends every session of theirs either way: whoever holds one may have been the
/// reason for the call (and may have added a passkey of their own). Returns whether anything
/// was removed. For administrators and `gatehouse user reset-mfa`.
///
/// # Errors
/// Database failures.
pub async fn reset(store: &Store, user_id: i64) -> Result<bool, StoreError> {
    let factor_was_on = store.remove_second_factor(user_id).await?;
    let passkeys = store.remove_passkeys_of(user_id).await?;
    store.end_sessions_of(user_id).await?;
    Ok(factor_was_on || passkeys > 0)
}
