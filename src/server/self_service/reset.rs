//! A forgotten password: `/forgot-password` mails a reset link to the account named by its
//! username or address, `/reset-password?token=...` sets a new password through it.
//!
//! The request answers at once and the same way whatever matches; the lookup, the throttle and
//! the mail happen in a background task. Disabled accounts and accounts without an address get
//! nothing. Following the link sets the password, spends the link and ends every session of
//! the account in one transaction, then a notice goes to the account's address.

use leptos::prelude::expect_context;

use super::{LinkTarget, link_problem, may_send, send_link, send_notice};
use crate::api::{AuditAction, LinkState};
use crate::domain::Password;
use crate::error::{AppError, Problem};
use crate::server::audit::pages::acting;
use crate::server::audit::{Acting, Actor, Outcome, record};
use crate::server::auth::actions::{chosen_password, redirect, redirect_plain_post};
use crate::server::auth::refresh;
use crate::server::errors::internal;
use crate::server::mail::messages::Template;
use crate::server::state::AppState;
use crate::server::store::LinkPurpose;

/// Longer than any username or address: not worth a lookup.
const IDENTIFIER_MAX: usize = 320;

/// See [`crate::api::forgot_password`].
#[tracing::instrument(skip_all)]
pub async fn request(identifier: String) -> Result<(), AppError> {
    let identifier = identifier.trim().to_owned();
    if identifier.is_empty() {
        return Err(AppError::Invalid(Problem::IdentifierRequired));
    }
    let state = expect_context::<AppState>();
    let acting = acting(Actor::Visitor);
    if identifier.chars().count() <= IDENTIFIER_MAX {
        // Nothing the answer could depend on is awaited here: a match and no match take the
        // same time, and a slow store or mail server delays nobody.
        state.mailer.clone().in_background(async move {
            if let Err(error) = mail_reset_links(&state, &acting, &identifier).await {
                tracing::error!(error = format!("{error:#}"), "a password reset request failed");
            }
        });
    }
    // Without JavaScript the form post lands on the notice too; the island shows it in place.
    redirect_plain_post("/forgot-password?sent=1");
    Ok(())
}

/// Mails a reset link to each active account `identifier` names, within the throttle.
async fn mail_reset_links(state: &AppState, acting: &Acting, identifier: &str) -> anyhow::Result<()> {
    let accounts = state.store.users_for_recovery(identifier).await?;
    if accounts.is_empty() {
        // Counted against the client address all the same: probing names costs the same quota.
        may_send(state, &acting.origin, None, None).await?;
        tracing::info!("password reset asked for an unknown, disabled or address-less account: nothing sent");
        return Ok(());
    }
    for user in accounts {
        let Some(email) = user.email.as_deref() else {
            may_send(state, &acting.origin, Some(user.id), None).await?;
            tracing::info!(
                user_id = user.id,
                "password reset asked for an account without an address: nothing sent"
            );
            continue;
        };
        let event = acting.event(AuditAction::ResetRequested).about(&user);
        if !may_send(state, &acting.origin, Some(user.id), Some(email)).await? {
            record(&state.store, event.outcome(Outcome::Throttled)).await;
            continue;
        }
        let target = LinkTarget {
            user_id: Some(user.id),
            username: &user.username,
            email,
            signup_password: None,
        };
        send_link(state, &acting.origin, LinkPurpose::Reset, target, Template::Reset).await?;
        record(&state.store, event).await;
    }
    Ok(())
}

/// See [`crate::api::reset_link_state`].
pub async fn link_state(token: String) -> Result<LinkState, AppError> {
    super::link_state(&expect_context::<AppState>(), &token, &[LinkPurpose::Reset]).await
}

/// See [`crate::api::reset_password`].
#[tracing::instrument(skip_all)]
pub async fn reset(
    token: String,
    new_password: Password,
    confirm_password: Password,
) -> Result<(), AppError> {
    let state = expect_context::<AppState>();
    let secret = chosen_password(&new_password, &confirm_password)?;
    let token_hash = refresh::hash(&token);
    // Checked before hashing, so a dead link costs no argon2; spent with the change below.
    state
        .store
        .live_email_link(&token_hash, &[LinkPurpose::Reset])
        .await
        .map_err(link_problem)?;
    let password_hash = state.passwords.hash(&secret).await.map_err(internal)?;
    let user = state
        .store
        .reset_password_by_link(&token_hash, &password_hash)
        .await
        .map_err(link_problem)?;
    let acting = acting(Actor::user(&user));
    record(
        &state.store,
        acting.event(AuditAction::PasswordResetByEmail).about(&user),
    )
    .await;
    tracing::info!(
        user_id = user.id,
        "password reset through a mailed link: every session ended"
    );
    if let Some(email) = user.email.as_deref() {
        send_notice(
            &state,
            &acting.origin,
            email,
            Template::PasswordChanged,
            &[("username", &user.username)],
        );
    }
    redirect("/login?reason=password_reset");
    Ok(())
}
