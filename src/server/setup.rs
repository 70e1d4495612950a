//! First-run setup: while the store has no active administrator and the server is not a demo,
//! start-up logs one single-use link (`/setup?token=...`, random, valid for an hour, stored only
//! as a hash) whose page creates the first administrator and signs them in. Once an
//! administrator exists, `/setup` is "not found". No account ever has a default password.

use leptos::prelude::expect_context;

use crate::api::{AuditAction, SetupState};
use crate::domain::Password;
use crate::error::{AppError, Problem};
use crate::server::admin::{self, AdminError};
use crate::server::audit::pages::acting;
use crate::server::audit::{Actor, record};
use crate::server::auth::actions::{
    chosen_password, redirect, request_cookies, request_origin, start_browser_session,
};
use crate::server::auth::refresh;
use crate::server::errors::internal;
use crate::server::random::random_hex;
use crate::server::state::AppState;
use crate::server::store::{NewUser, SetupError};

/// How long a setup link works.
const LINK_LIFETIME: time::Duration = time::Duration::HOUR;

/// Makes a setup link and logs it, when the store has no active administrator (and this is not
/// a `--demo` server, whose accounts are made for it). Returns the link.
///
/// # Errors
/// The store or the OS random source failed.
pub async fn offer_link(state: &AppState) -> anyhow::Result<Option<String>> {
    if state.settings.demo || state.store.count_active_admins().await? > 0 {
        return Ok(None);
    }
    // 256 bits: as hopeless to guess as a refresh token, and stored the same way.
    let token = random_hex(32)?;
    state
        .store
        .add_setup_token(&refresh::hash(&token), state.clock.now() + LINK_LIFETIME)
        .await?;
    let link = format!("{}/setup?token={token}", state.public_url.origin());
    tracing::warn!(
        "No administrator yet: create the first one at {link} (the link works once, for an hour; restarting makes a new one)"
    );
    Ok(Some(link))
}

/// What `/setup?token=...` shows; see [`crate::api::setup_state`].
pub async fn link_state(token: String) -> Result<SetupState, AppError> {
    let state = expect_context::<AppState>();
    if state.store.count_active_admins().await.map_err(internal)? > 0 {
        return Ok(SetupState::Done);
    }
    let live = state
        .store
        .setup_token_is_live(&refresh::hash(&token))
        .await
        .map_err(internal)?;
    Ok(if live {
        SetupState::Ready
    } else {
        SetupState::LinkInvalid
    })
}

/// Creates the first administrator and signs them in; see [`crate::api::complete_setup`].
#[tracing::instrument(skip_all)]
pub async fn complete(
    token: String,
    username: String,
    full_name: Option<String>,
    email: Option<String>,
    new_password: Password,
    confirm_password: Password,
) -> Result<(), AppError> {
    let state = expect_context::<AppState>();
    let secret = chosen_password(&new_password, &confirm_password)?;
    let username = admin::parse_username(&username).map_err(AppError::Invalid)?;
    let full_name = admin::parse_full_name(full_name.as_deref()).map_err(AppError::Invalid)?;
    let email = admin::parse_email(email.as_deref()).map_err(AppError::Invalid)?;
    // Checked before hashing, so a dead link costs no argon2; checked again when spent.
    let token_hash = refresh::hash(&token);
    if !state
        .store
        .setup_token_is_live(&token_hash)
        .await
        .map_err(internal)?
    {
        return Err(AppError::Invalid(Problem::SetupLinkInvalid));
    }
    let password_hash = state.passwords.hash(&secret).await.map_err(internal)?;
    let new = NewUser {
        username,
        full_name,
        email,
        password_hash,
        admin: true,
        disabled: false,
    };
    let user = match state.store.complete_setup(&token_hash, &new).await {
        Ok(user) => user,
        Err(SetupError::LinkInvalid) => return Err(AppError::Invalid(Problem::SetupLinkInvalid)),
        Err(SetupError::Store(error)) => return Err(AdminError::from(error).into()),
    };
    record(
        &state.store,
        acting(Actor::user(&user))
            .event(AuditAction::SetupCompleted)
            .about(&user),
    )
    .await;
    tracing::info!(
        user_id = user.id,
        "setup completed: the first administrator exists"
    );
    let cookies = request_cookies()?;
    let origin = request_origin(false)?;
    start_browser_session(&state, &cookies, &user, &origin).await?;
    redirect("/admin/users");
    Ok(())
}
