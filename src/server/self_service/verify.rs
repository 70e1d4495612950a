//! Proving an address: `/verify-email?token=...` follows a link mailed to it. The link is one
//! of three: a check of a new address (asked for on `/profile`, which needs the current
//! password and notifies the old address), a check of the account's unproved address (resent
//! from `/profile`), or a sign-up's (which creates the account; see [`super::signup`]).
//!
//! An address becomes the account's only when its link is followed: until then the old one
//! stays in force, for sign-in help and notices alike.

use leptos::prelude::expect_context;

use super::{LinkTarget, link_problem, may_send, send_link, send_notice, signup};
use crate::api::{AuditAction, ChangeEmail, LinkState, ResendVerification};
use crate::domain::{Email, Password};
use crate::error::{AppError, Problem};
use crate::server::audit::pages::{acting, record_own};
use crate::server::audit::{Actor, Outcome, record};
use crate::server::auth::access::admitted;
use crate::server::auth::actions::{confirm_own_password, redirect};
use crate::server::auth::current_user::{Caller, caller};
use crate::server::auth::refresh;
use crate::server::errors::internal;
use crate::server::mail::messages::Template;
use crate::server::state::AppState;
use crate::server::store::{LinkPurpose, UserRow};

/// See [`crate::api::email_link_state`].
pub async fn link_state(token: String) -> Result<LinkState, AppError> {
    super::link_state(
        &expect_context::<AppState>(),
        &token,
        &[LinkPurpose::Verify, LinkPurpose::Signup],
    )
    .await
}

/// See [`crate::api::verify_email`].
#[tracing::instrument(skip_all)]
pub async fn confirm(token: String) -> Result<(), AppError> {
    let state = expect_context::<AppState>();
    let token_hash = refresh::hash(&token);
    let link = state
        .store
        .live_email_link(&token_hash, &[LinkPurpose::Verify, LinkPurpose::Signup])
        .await
        .map_err(link_problem)?;
    if link.purpose() == Some(LinkPurpose::Signup) {
        return signup::complete(&state, &token_hash).await;
    }
    let (user, before) = state
        .store
        .verify_email_by_link(&token_hash)
        .await
        .map_err(link_problem)?;
    record(
        &state.store,
        acting(Actor::user(&user))
            .event(AuditAction::EmailVerified)
            .about(&user),
    )
    .await;
    tracing::info!(
        user_id = user.id,
        changed = before.as_deref() != user.email.as_deref(),
        "address verified"
    );
    // Signed in (often, in the same browser): back to the profile, which shows the address.
    let signed_in = matches!(caller(), Caller::SignedIn(_));
    redirect(if signed_in {
        "/profile?notice=email_verified"
    } else {
        "/login?reason=email_verified"
    });
    Ok(())
}

/// See [`crate::api::resend_verification`].
#[tracing::instrument(skip_all)]
pub async fn resend() -> Result<(), AppError> {
    let state = expect_context::<AppState>();
    let signed_in = admitted::<ResendVerification>()?;
    let user = &signed_in.user;
    let Some(email) = user.email.as_deref() else {
        return Err(AppError::Invalid(Problem::NoEmail));
    };
    if user.email_verified {
        return Err(AppError::Invalid(Problem::EmailAlreadyVerified));
    }
    mail_check(&state, user, email).await
}

/// See [`crate::api::change_email`].
#[tracing::instrument(skip_all)]
pub async fn change(current_password: Password, new_email: String) -> Result<String, AppError> {
    let state = expect_context::<AppState>();
    let signed_in = admitted::<ChangeEmail>()?;
    let new_email = Email::parse(new_email.trim()).map_err(|_| AppError::Invalid(Problem::EmailRules))?;
    let user = &signed_in.user;
    if user.email_verified
        && user
            .email
            .as_deref()
            .is_some_and(|email| email.eq_ignore_ascii_case(new_email.as_str()))
    {
        return Err(AppError::Invalid(Problem::EmailUnchanged));
    }
    // The current password, throttled like a sign-in: a stolen session cannot move the
    // account's mail (and so its password resets) elsewhere.
    confirm_own_password(&state, user, &current_password, AuditAction::EmailChangeRequested).await?;
    let acting = acting(Actor::user(user));
    mail_check(&state, user, new_email.as_str()).await?;
    record_own(&state, user, AuditAction::EmailChangeRequested, Outcome::Success).await;
    if let Some(old) = user
        .email
        .as_deref()
        .filter(|old| !old.eq_ignore_ascii_case(new_email.as_str()))
    {
        send_notice(
            &state,
            &acting.origin,
            old,
            Template::EmailChanging,
            &[("username", &user.username), ("new_email", new_email.as_str())],
        );
    }
    Ok(new_email.as_str().to_owned())
}

/// Mails a link proving `email` for `user`, within the throttle.
async fn mail_check(state: &AppState, user: &UserRow, email: &str) -> Result<(), AppError> {
    let origin = acting(Actor::user(user)).origin;
    if !may_send(state, &origin, Some(user.id), Some(email))
        .await
        .map_err(internal)?
    {
        return Err(AppError::Invalid(Problem::MailThrottled));
    }
    let target = LinkTarget {
        user_id: Some(user.id),
        username: &user.username,
        email,
        signup_password: None,
    };
    send_link(state, &origin, LinkPurpose::Verify, target, Template::Verify)
        .await
        .map_err(internal)
}
