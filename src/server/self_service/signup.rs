//! Opt-in sign-up (`--allow-signup`): `/signup` takes a username, an address and a password;
//! the account is created only when the link mailed to the address is followed, so an account
//! always has a proved address and nobody can sign up in someone else's name.
//!
//! No enumeration: a taken username or address gets the same answer, after the same work (the
//! password is hashed whatever happens next); the mail to the address says what happened.

use leptos::prelude::expect_context;

use super::{LinkTarget, link_problem, may_send, send_link, send_notice};
use crate::api::AuditAction;
use crate::domain::{Email, Password, Username};
use crate::error::{AppError, Problem};
use crate::server::admin;
use crate::server::audit::pages::acting;
use crate::server::audit::{Acting, Actor, record};
use crate::server::auth::actions::{chosen_password, redirect, redirect_plain_post};
use crate::server::auth::password::PasswordHash;
use crate::server::errors::internal;
use crate::server::mail::messages::Template;
use crate::server::state::AppState;
use crate::server::store::{LinkError, LinkPurpose};

/// Whether this site lets anyone sign up.
pub fn is_open() -> bool {
    expect_context::<AppState>().settings.allow_signup
}

/// See [`crate::api::sign_up`].
#[tracing::instrument(skip_all)]
pub async fn request(
    username: String,
    email: String,
    new_password: Password,
    confirm_password: Password,
) -> Result<String, AppError> {
    let state = expect_context::<AppState>();
    if !state.settings.allow_signup {
        return Err(AppError::Invalid(Problem::SignupClosed));
    }
    let secret = chosen_password(&new_password, &confirm_password)?;
    let username = admin::parse_username(&username).map_err(AppError::Invalid)?;
    let email = match email.trim() {
        "" => return Err(AppError::Invalid(Problem::EmailRequired)),
        typed => Email::parse(typed).map_err(|_| AppError::Invalid(Problem::EmailRules))?,
    };
    // Hashed whatever happens next: a taken name or address answers after the same work.
    let password_hash = state.passwords.hash(&secret).await.map_err(internal)?;
    let acting = acting(Actor::Visitor);
    let address = email.as_str().to_owned();
    state.mailer.clone().in_background(async move {
        if let Err(error) = mail_signup(&state, &acting, &username, &email, &password_hash).await {
            tracing::error!(error = format!("{error:#}"), "a sign-up request failed");
        }
    });
    // Without JavaScript the form post lands on the notice too; the island shows it in place,
    // with the address.
    redirect_plain_post("/signup?sent=1");
    Ok(address)
}

/// Mails the sign-up link, or, when the address has an account or the name is taken, a mail
/// saying so: only the mailbox's owner learns it.
async fn mail_signup(
    state: &AppState,
    acting: &Acting,
    username: &Username,
    email: &Email,
    password_hash: &PasswordHash,
) -> anyhow::Result<()> {
    if !may_send(state, &acting.origin, None, Some(email.as_str())).await? {
        return Ok(());
    }
    let refused = if state.store.email_in_use(email.as_str()).await? {
        Some("this address already belongs to an account.")
    } else if state.store.find_user(username).await?.is_some() {
        Some("that username is taken.")
    } else {
        None
    };
    if let Some(reason) = refused {
        tracing::info!("sign-up refused (address or name taken): the address is told by mail");
        send_notice(
            state,
            &acting.origin,
            email.as_str(),
            Template::SignupRefused,
            &[("username", username.as_str()), ("reason", reason)],
        );
        return Ok(());
    }
    let target = LinkTarget {
        user_id: None,
        username: username.as_str(),
        email: email.as_str(),
        signup_password: Some(password_hash),
    };
    send_link(
        state,
        &acting.origin,
        LinkPurpose::Signup,
        target,
        Template::Signup,
    )
    .await
}

/// Creates the account of the sign-up link with this hash; see [`super::verify::confirm`].
pub async fn complete(state: &AppState, token_hash: &str) -> Result<(), AppError> {
    let user = state
        .store
        .complete_signup_by_link(token_hash)
        .await
        .map_err(|error| match error {
            // The name was taken between the sign-up and the link.
            LinkError::Refused => AppError::Invalid(Problem::UsernameTaken),
            other => link_problem(other),
        })?;
    record(
        &state.store,
        acting(Actor::user(&user))
            .event(AuditAction::SignedUp)
            .about(&user),
    )
    .await;
    tracing::info!(user_id = user.id, "account created by sign-up");
    redirect("/login?reason=signed_up");
    Ok(())
}
