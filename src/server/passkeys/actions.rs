//! Passkeys as people use them: adding, listing, renaming and removing them on `/profile`, and
//! signing in with one. The bodies of the server functions in `crate::api::passkeys`; the
//! ceremony rules are the parent module's, the checks of signatures and counters the library's.

use leptos::prelude::expect_context;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PublicKeyCredential, RegisterPublicKeyCredential, WebauthnError,
};
use webauthn_rs_proto::ResidentKeyRequirement;

use super::{
    Ceremony, RECENT_SIGN_IN, Registration, RelyingParty, begin_ceremony, credential_id_text, is_backed_up,
    new_user_handle, passkey_name, take_ceremony,
};
use crate::api::{
    AuditAction, BeginAddPasskey, FinishAddPasskey, ListPasskeys, PasskeySummary, RemovePasskey,
    RenamePasskey,
};
use crate::error::{AppError, Problem};
use crate::server::audit::Outcome;
use crate::server::audit::pages::record_own;
use crate::server::auth::access::admitted;
use crate::server::auth::actions::{
    redirect, request_cookies, request_origin, start_browser_session, too_many_attempts,
};
use crate::server::auth::current_user::human_time;
use crate::server::auth::next_path::{DEFAULT_AFTER_SIGN_IN, safe_next};
use crate::server::auth::throttle::Attempt;
use crate::server::client::describe_user_agent;
use crate::server::errors::internal;
use crate::server::mail::messages::Template;
use crate::server::self_service::send_notice;
use crate::server::state::AppState;
use crate::server::store::UserRow;

/// The site's relying party, or the reason there is none.
fn relying_party(state: &AppState) -> Result<&RelyingParty, AppError> {
    state
        .passkeys
        .as_deref()
        .ok_or(AppError::Invalid(Problem::PasskeysUnavailable))
}

/// See [`crate::api::passkeys_offered`].
pub fn offered() -> Result<bool, AppError> {
    Ok(expect_context::<AppState>().passkeys.is_some())
}

/// See [`crate::api::list_passkeys`].
pub async fn list() -> Result<Vec<PasskeySummary>, AppError> {
    let state = expect_context::<AppState>();
    let signed_in = admitted::<ListPasskeys>()?;
    let rows = state
        .store
        .passkeys_of(signed_in.user.id)
        .await
        .map_err(internal)?;
    rows.into_iter()
        .map(|row| {
            Ok(PasskeySummary {
                id: row.id,
                synced: is_backed_up(&row.credential),
                created: human_time(row.created_at).map_err(internal)?,
                last_used: row.last_used_at.map(human_time).transpose().map_err(internal)?,
                name: row.name,
            })
        })
        .collect()
}

/// See [`crate::api::begin_add_passkey`].
#[tracing::instrument(skip_all)]
pub async fn begin_add(name: String) -> Result<String, AppError> {
    let state = expect_context::<AppState>();
    let signed_in = admitted::<BeginAddPasskey>()?;
    let relying_party = relying_party(&state)?;
    // Unnamed, it is called after the browser that made it ("Firefox on Linux").
    let name = if name.trim().is_empty() {
        describe_user_agent(request_origin(false)?.user_agent.as_deref())
    } else {
        passkey_name(&name).ok_or(AppError::Invalid(Problem::PasskeyNameRules))?
    };
    let user = &signed_in.user;
    let existing = state.store.passkeys_of(user.id).await.map_err(internal)?;
    // Every passkey of an account carries the same handle: it is how a usernameless sign-in
    // names the account.
    let user_handle = match existing.first() {
        Some(row) => row.user_handle.parse().map_err(internal)?,
        None => new_user_handle().map_err(internal)?,
    };
    // The browser refuses to make a second passkey on an authenticator that holds one already.
    let exclude = existing
        .iter()
        .map(|row| serde_json::from_str::<Passkey>(&row.credential).map(|passkey| passkey.cred_id().clone()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(internal)?;
    let display_name = user.full_name.as_deref().unwrap_or(&user.username);
    let (mut options, registration) = relying_party
        .webauthn
        .start_passkey_registration(user_handle, &user.username, display_name, Some(exclude))
        .map_err(internal)?;
    // Discoverable: the authenticator keeps the account's handle, so signing in needs no
    // username (the library asks for none by default).
    if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
        selection.resident_key = Some(ResidentKeyRequirement::Required);
        selection.require_resident_key = true;
    }
    let kept = Registration {
        user_handle,
        name,
        state: registration,
    };
    let cookies = request_cookies()?;
    let kept = serde_json::to_string(&kept).map_err(internal)?;
    begin_ceremony(&state, &cookies, Ceremony::Register, Some(user.id), kept)
        .await
        .map_err(internal)?;
    serde_json::to_string(&options).map_err(internal)
}

/// See [`crate::api::finish_add_passkey`].
#[tracing::instrument(skip_all)]
pub async fn finish_add(response: String) -> Result<(), AppError> {
    let state = expect_context::<AppState>();
    let signed_in = admitted::<FinishAddPasskey>()?;
    let relying_party = relying_party(&state)?;
    let user = &signed_in.user;
    let cookies = request_cookies()?;
    let ceremony = take_ceremony(&state, &cookies, Ceremony::Register)
        .await
        .map_err(internal)?
        .filter(|ceremony| ceremony.user_id == Some(user.id))
        .ok_or(AppError::Invalid(Problem::PasskeyCeremonyExpired))?;
    let kept: Registration = serde_json::from_str(&ceremony.state).map_err(internal)?;
    let refused = |why: String| {
        tracing::info!(user_id = user.id, why, "a new passkey was refused");
        AppError::Invalid(Problem::PasskeyRefused)
    };
    let answer: RegisterPublicKeyCredential =
        serde_json::from_str(&response).map_err(|error| refused(error.to_string()))?;
    let passkey = relying_party
        .webauthn
        .finish_passkey_registration(&answer, &kept.state)
        .map_err(|error| refused(error.to_string()));
    let passkey = match passkey {
        Ok(passkey) => passkey,
        Err(error) => {
            record_own(&state, user, AuditAction::PasskeyAdded, Outcome::Failure).await;
            return Err(error);
        }
    };
    let credential = serde_json::to_string(&passkey).map_err(internal)?;
    let added = state
        .store
        .add_passkey(
            user.id,
            &credential_id_text(passkey.cred_id()),
            &kept.user_handle.to_string(),
            &kept.name,
            &credential,
        )
        .await
        .map_err(internal)?;
    if !added {
        return Err(AppError::Invalid(Problem::PasskeyAlreadyAdded));
    }
    record_own(&state, user, AuditAction::PasskeyAdded, Outcome::Success).await;
    notify_change(&state, user, &kept.name, "added to")?;
    tracing::info!(user_id = user.id, "passkey added");
    Ok(())
}

/// See [`crate::api::rename_passkey`].
#[tracing::instrument(skip_all)]
pub async fn rename(id: i64, name: String) -> Result<(), AppError> {
    let state = expect_context::<AppState>();
    let signed_in = admitted::<RenamePasskey>()?;
    let name = passkey_name(&name).ok_or(AppError::Invalid(Problem::PasskeyNameRules))?;
    if !state
        .store
        .rename_passkey(signed_in.user.id, id, &name)
        .await
        .map_err(internal)?
    {
        return Err(AppError::Invalid(Problem::UnknownPasskey));
    }
    Ok(())
}

/// See [`crate::api::remove_passkey`]. A session taken over later (a stolen cookie, an
/// unlocked computer) cannot remove the owner's passkeys: that needs a sign-in of the last
/// minutes.
#[tracing::instrument(skip_all)]
pub async fn remove(id: i64) -> Result<(), AppError> {
    let state = expect_context::<AppState>();
    let signed_in = admitted::<RemovePasskey>()?;
    if signed_in.session.created_at < state.clock.now() - RECENT_SIGN_IN {
        return Err(AppError::Invalid(Problem::RecentSignInNeeded));
    }
    let user = &signed_in.user;
    let Some(name) = state.store.remove_passkey(user.id, id).await.map_err(internal)? else {
        return Err(AppError::Invalid(Problem::UnknownPasskey));
    };
    record_own(&state, user, AuditAction::PasskeyRemoved, Outcome::Success).await;
    notify_change(&state, user, &name, "removed from")?;
    tracing::info!(user_id = user.id, "passkey removed");
    Ok(())
}

/// Mails the account's confirmed address that the passkey called `name` was `change`d ("added
/// to"), from where and when, and what to do if it was not them: a thief with a session would
/// add a passkey to come back.
fn notify_change(state: &AppState, user: &UserRow, name: &str, change: &str) -> Result<(), AppError> {
    if let Some(email) = user.email.as_deref().filter(|_| user.email_verified) {
        send_notice(
            state,
            &request_origin(false)?,
            email,
            Template::PasskeysChanged,
            &[
                ("username", &user.username),
                ("passkey", name),
                ("change", change),
            ],
        );
    }
    Ok(())
}

/// See [`crate::api::begin_passkey_sign_in`].
#[tracing::instrument(skip_all)]
pub async fn begin_sign_in(autofill: bool) -> Result<String, AppError> {
    let state = expect_context::<AppState>();
    let relying_party = relying_party(&state)?;
    let (mut options, authentication) = relying_party
        .webauthn
        .start_discoverable_authentication()
        .map_err(internal)?;
    // The library asks for autofill (conditional mediation); the button wants the browser's
    // own passkey dialog.
    if !autofill {
        options.mediation = None;
    }
    let cookies = request_cookies()?;
    let kept = serde_json::to_string(&authentication).map_err(internal)?;
    begin_ceremony(&state, &cookies, Ceremony::SignIn, None, kept)
        .await
        .map_err(internal)?;
    serde_json::to_string(&options).map_err(internal)
}

/// See [`crate::api::finish_passkey_sign_in`].
///
/// Every failure after the challenge is counted against the client's address like a wrong
/// password, and answered alike, so the answer does not say whether a passkey is known, its
/// account disabled or its signature wrong.
#[tracing::instrument(skip_all)]
pub async fn finish_sign_in(response: String, remember: bool, next: Option<String>) -> Result<(), AppError> {
    let state = expect_context::<AppState>();
    let relying_party = relying_party(&state)?;
    let cookies = request_cookies()?;
    let origin = request_origin(remember)?;
    let ceremony = take_ceremony(&state, &cookies, Ceremony::SignIn)
        .await
        .map_err(internal)?
        .ok_or(AppError::Invalid(Problem::PasskeyCeremonyExpired))?;
    let authentication: DiscoverableAuthentication =
        serde_json::from_str(&ceremony.state).map_err(internal)?;
    let attempt = Attempt::from_address(origin.ip_address.as_deref()).map_err(internal)?;
    if let Some(wait) = attempt.reserve(&state).await.map_err(internal)? {
        return Err(too_many_attempts(wait));
    }
    let refused = |why: &str| {
        tracing::info!(why, "passkey sign-in refused");
        AppError::Invalid(Problem::PasskeyRefused)
    };
    let answer: PublicKeyCredential =
        serde_json::from_str(&response).map_err(|_| refused("the answer is not a credential"))?;
    let (user_handle, credential_id) = relying_party
        .webauthn
        .identify_discoverable_authentication(&answer)
        .map_err(|_| refused("the answer names no account"))?;
    let row = state
        .store
        .passkey_by_credential_id(&credential_id_text(credential_id))
        .await
        .map_err(internal)?
        .filter(|row| row.user_handle == user_handle.to_string())
        .ok_or_else(|| refused("no such passkey"))?;
    let user = state
        .store
        .user_by_id(row.user_id)
        .await
        .map_err(internal)?
        .ok_or_else(|| refused("no such account"))?;
    let mut passkey: Passkey = serde_json::from_str(&row.credential).map_err(internal)?;
    let checked =
        relying_party
            .webauthn
            .finish_discoverable_authentication_v2(&answer, authentication, &passkey);
    let result = match checked {
        Ok(result) if !user.disabled => result,
        outcome => {
            match outcome {
                Err(WebauthnError::CredentialPossibleCompromise) => tracing::warn!(
                    user_id = user.id,
                    passkey_id = row.id,
                    "a passkey's sign counter went backwards: it may have been cloned; refused"
                ),
                Err(error) => tracing::info!(user_id = user.id, error = %error, "passkey sign-in refused"),
                Ok(_) => tracing::info!(
                    user_id = user.id,
                    "passkey sign-in refused: the account is disabled"
                ),
            }
            record_own(&state, &user, AuditAction::SignIn, Outcome::Failure).await;
            return Err(AppError::Invalid(Problem::PasskeyRefused));
        }
    };
    attempt.succeeded(&state).await.map_err(internal)?;
    let changed = passkey.update_credential(&result) == Some(true);
    let credential = if changed {
        Some(serde_json::to_string(&passkey).map_err(internal)?)
    } else {
        None
    };
    state
        .store
        .record_passkey_use(row.id, credential.as_deref())
        .await
        .map_err(internal)?;
    start_browser_session(&state, &cookies, &user, &origin).await?;
    record_own(&state, &user, AuditAction::SignIn, Outcome::Success).await;
    tracing::info!(user_id = user.id, passkey_id = row.id, "signed in with a passkey");
    redirect(
        next.as_deref()
            .and_then(safe_next)
            .unwrap_or(DEFAULT_AFTER_SIGN_IN),
    );
    Ok(())
}
