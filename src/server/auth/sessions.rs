//! Sessions: the one place a session is issued and the one place that decides whether a session
//! is alive. The login form, the password grant, a password change, the silent refresh, the
//! refresh grant and every request's caller check all come through here, so they cannot
//! disagree.

use crate::server::auth::jwt::IssuedToken;
use crate::server::auth::refresh;
use crate::server::state::AppState;
use crate::server::store::{ClientKind, SessionOrigin, SessionRow, UserRow};

/// A session just started, with its first tokens.
pub struct Issued {
    pub session: SessionRow,
    pub access_token: IssuedToken,
    /// Opaque; only its hash is stored.
    pub refresh_token: String,
}

/// Starts a session for `user` with `scope`, for a browser or a program, ending
/// `--refresh-ttl` from now at the latest, and issues its first access and refresh tokens.
///
/// A user holds at most `--max-sessions-per-user` live sessions: starting one more ends the
/// least recently used, so a loop of password grants cannot fill the store.
///
/// # Errors
/// The store failed, or a token could not be made.
pub async fn issue(
    state: &AppState,
    user: &UserRow,
    scope: &str,
    origin: &SessionOrigin,
    client: ClientKind,
) -> anyhow::Result<Issued> {
    let expires_at = state.clock.now() + state.settings.refresh_ttl;
    let session = state
        .store
        .create_session(user, scope, expires_at, origin, client)
        .await?;
    let refresh_token = refresh::generate()?;
    state
        .store
        .add_refresh_token(&session.id, &refresh::hash(&refresh_token))
        .await?;
    let ended = state
        .store
        .end_sessions_beyond(user.id, state.settings.max_sessions_per_user)
        .await?;
    if ended > 0 {
        tracing::info!(
            user_id = user.id,
            ended,
            "the oldest sessions ended: too many live sessions"
        );
    }
    let access_token = state
        .tokens
        .issue(user.id, &session.id, session.token_version, scope)?;
    tracing::info!(
        user_id = user.id,
        client = client.as_str(),
        scope,
        "session started"
    );
    Ok(Issued {
        session,
        access_token,
        refresh_token,
    })
}

/// Whether a session may still be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    Alive,
    /// Revoked, past its absolute end, idle too long (unless "keep me signed in"), or from
    /// before the user's password changed.
    Ended,
    /// It was alive, but its user has been disabled: worth telling them why.
    Disabled,
}

/// Decides whether `session` of `user` is alive now.
pub fn liveness(state: &AppState, session: &SessionRow, user: &UserRow) -> Liveness {
    if !session.is_live(state.clock.now(), state.settings.session_idle) {
        Liveness::Ended
    } else if user.disabled {
        // Checked before the token version, which disabling also raises, so the person can be
        // told why they were signed out.
        Liveness::Disabled
    } else if user.token_version != session.token_version {
        Liveness::Ended
    } else {
        Liveness::Alive
    }
}
