//! Refresh tokens: opaque, 256 random bits, stored only as a SHA-256 hash.
//!
//! The token that replaces a spent one is derived from it with HMAC under the site's key, so any
//! instance that sees the same spent token computes the same successor. That is what lets a
//! refresh racing another one (two tabs, two instances) within the grace window receive the same
//! new token instead of being taken for a thief.

use std::time::Duration;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::Mac;
use sha2::{Digest, Sha256};

use crate::api::AuditAction;
use crate::server::audit::{Acting, Actor, Outcome, record};
use crate::server::auth::scopes::{self, ScopeError};
use crate::server::auth::sessions::{Liveness, liveness};
use crate::server::auth::signing_key::SigningKey;
use crate::server::random::hex;
use crate::server::state::AppState;
use crate::server::store::{ClientKind, SessionRow, StoreError, UserRow};

/// How long after a refresh token is spent a duplicate of it still gets the same successor
/// instead of being treated as theft: long enough for racing tabs, a page and its server
/// functions, or retries; short enough that a stolen token is caught.
pub const GRACE_WINDOW: Duration = Duration::from_secs(5);

/// The outcome of presenting a refresh token.
// Returned once per refresh and consumed at once, never stored: boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Rotation {
    /// The token was good: here is its successor, for a session that is still live, and the
    /// scope its new access token carries.
    Rotated {
        session: SessionRow,
        user: UserRow,
        successor: String,
        scope: String,
    },
    /// Unknown, spent long ago (the session is now revoked), or its session has ended.
    Refused,
    /// The token was good but its user has been disabled.
    Disabled,
    /// The token was good but the scope asked for is not the session's to give: nothing was
    /// spent, so the client can retry with a corrected request.
    InvalidScope(ScopeError),
}

/// Spends `presented` and returns its successor, for `POST /token` (a `Program`'s session) and
/// the browser's silent refresh (a `Browser`'s) alike: a token of the other kind of session is
/// refused unspent. `requested` narrows the new access token's scope (RFC 6749 §6).
///
/// Everything is checked before the token is spent: a request that fails spends nothing. A
/// token already spent (by an earlier use or one racing this one) gets the same successor
/// within [`GRACE_WINDOW`]; after it, someone replays an old token, so the whole session ends
/// (refresh token rotation with reuse detection, RFC 9700 §4.14.2). Spent tokens are kept as
/// long as their session, so a replay is recognised however late it comes, and recorded in the
/// audit log with the request of `acting`.
///
/// # Errors
/// Only when the store fails.
pub async fn rotate(
    state: &AppState,
    presented: &str,
    client: ClientKind,
    requested: Option<&str>,
    acting: &Acting,
) -> Result<Rotation, StoreError> {
    let presented_hash = hash(presented);
    let Some(stored) = state.store.find_refresh_token(&presented_hash).await? else {
        return Ok(Rotation::Refused);
    };
    let Some((session, user)) = state.store.find_session(&stored.session_id).await? else {
        return Ok(Rotation::Refused);
    };
    if session.client != client.as_str() {
        return Ok(Rotation::Refused);
    }
    match liveness(state, &session, &user) {
        Liveness::Alive => {}
        Liveness::Ended => return Ok(Rotation::Refused),
        Liveness::Disabled => return Ok(Rotation::Disabled),
    }
    let scope = match requested.map(|requested| scopes::narrow(&session.scope, requested)) {
        None => session.scope.clone(),
        Some(Ok(narrowed)) => narrowed,
        Some(Err(error)) => return Ok(Rotation::InvalidScope(error)),
    };
    let now = state.clock.now();
    let spent_at = match stored.spent_at {
        None if state.store.spend_refresh_token(&presented_hash).await? => None,
        None => Some(now),
        Some(spent_at) => Some(spent_at),
    };
    if let Some(spent_at) = spent_at
        && now - spent_at > GRACE_WINDOW
    {
        state.store.revoke_session(&session.id).await?;
        let replayed = Acting {
            actor: Actor::System,
            ..acting.clone()
        };
        record(
            &state.store,
            replayed
                .event(AuditAction::RefreshReuse)
                .about(&user)
                .outcome(Outcome::Failure),
        )
        .await;
        tracing::warn!(
            user_id = user.id,
            session_id = session.id,
            "a spent refresh token was replayed: session revoked"
        );
        return Ok(Rotation::Refused);
    }
    let successor = successor(&state.signing_key, presented);
    state
        .store
        .add_refresh_token(&session.id, &hash(&successor))
        .await?;
    state.store.touch_session(&session, now).await?;
    Ok(Rotation::Rotated {
        session,
        user,
        successor,
        scope,
    })
}

/// A new, random refresh token.
///
/// # Errors
/// The OS random source failed.
pub fn generate() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).context("Failed to read the OS random source")?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The token that replaces `token` once it is spent.
pub fn successor(key: &SigningKey, token: &str) -> String {
    let mut mac = key.mac("gatehouse refresh token successor");
    mac.update(token.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// What the store keeps of a token: its SHA-256, hex. A stolen database yields no usable token.
pub fn hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_random_bits() {
        let (a, b) = (generate().unwrap(), generate().unwrap());
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
        assert_ne!(a, b);
    }

    #[test]
    fn the_successor_is_the_same_every_time_and_secret_without_the_key() {
        let key = SigningKey::for_tests();
        let token = generate().unwrap();
        assert_eq!(successor(&key, &token), successor(&key, &token));
        assert_ne!(
            successor(&key, &token),
            successor(&SigningKey::for_tests(), &token)
        );
        assert_ne!(successor(&key, &token), token);
    }

    #[test]
    fn the_stored_hash_is_sha256_hex() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
