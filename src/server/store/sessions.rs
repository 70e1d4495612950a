//! Sign-in sessions and their refresh tokens: start, look up together with their user, spend,
//! revoke.

use anyhow::Context;
use time::OffsetDateTime;

use super::{Store, StoreError, UserRow};
use crate::server::auth::password::PasswordHash;
use crate::server::random::random_hex;

/// A session as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub id: String,
    pub user_id: i64,
    pub created_at: OffsetDateTime,
    /// Absolute end of the session, whatever its tokens say.
    pub expires_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
    /// Space-separated scopes granted at sign-in.
    pub scope: String,
    /// The user's token version when the session began.
    pub token_version: i64,
    /// The last time a request of this session was seen (at most a minute out of date).
    pub last_used_at: Option<OffsetDateTime>,
    pub user_agent: Option<String>,
    pub ip_address: Option<String>,
    /// "Keep me signed in": no idle limit, only the absolute end.
    pub persistent: bool,
    /// `browser` or `program`: see [`ClientKind`].
    pub client: String,
}

/// Who a session was started for. A program's session (`POST /token`) may hold narrowed
/// scopes, so its tokens never pass as a browser's cookies, which unlock every server function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    Browser,
    Program,
}

impl ClientKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Browser => "browser",
            Self::Program => "program",
        }
    }
}

impl SessionRow {
    /// A session that exists only in memory, for unit tests elsewhere in the crate.
    #[cfg(test)]
    pub(crate) fn for_tests() -> Self {
        Self {
            id: "session".into(),
            user_id: 1,
            created_at: OffsetDateTime::UNIX_EPOCH,
            expires_at: OffsetDateTime::UNIX_EPOCH,
            revoked_at: None,
            scope: String::new(),
            token_version: 0,
            last_used_at: None,
            user_agent: None,
            ip_address: None,
            persistent: false,
            client: ClientKind::Browser.as_str().into(),
        }
    }

    /// Started by the login form, for a browser (as opposed to a program's password grant).
    pub fn is_browser(&self) -> bool {
        self.client == ClientKind::Browser.as_str()
    }

    /// Neither revoked, nor past its absolute end, nor (unless persistent) idle for longer
    /// than `idle_limit`.
    pub fn is_live(&self, now: OffsetDateTime, idle_limit: std::time::Duration) -> bool {
        let last_used = self.last_used_at.unwrap_or(self.created_at);
        self.revoked_at.is_none()
            && self.expires_at > now
            && (self.persistent || now - last_used <= idle_limit)
    }
}

/// Where a session was started from, for the sessions list.
#[derive(Debug, Clone, Default)]
pub struct SessionOrigin {
    pub user_agent: Option<String>,
    pub ip_address: Option<String>,
    pub persistent: bool,
}

/// Ends every live session of a user (`?` 2) but one (`?` 3), at a time (`?` 1).
const REVOKE_OTHER_SESSIONS: &str =
    "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND id <> $3 AND revoked_at IS NULL";

pub(super) const SESSION_COLUMNS: &str = "id, user_id, created_at, expires_at, revoked_at, scope, token_version, last_used_at, user_agent, ip_address, persistent, client";

/// A refresh token as stored: its hash, never the token.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefreshTokenRow {
    pub session_id: String,
    pub spent_at: Option<OffsetDateTime>,
}

/// One row of the session lookup: the user's columns and the session's, renamed apart.
#[derive(sqlx::FromRow)]
struct SessionAndUser {
    #[sqlx(flatten)]
    user: UserRow,
    session_id: String,
    session_created_at: OffsetDateTime,
    session_expires_at: OffsetDateTime,
    session_revoked_at: Option<OffsetDateTime>,
    session_scope: String,
    session_token_version: i64,
    session_last_used_at: Option<OffsetDateTime>,
    session_user_agent: Option<String>,
    session_ip_address: Option<String>,
    session_persistent: bool,
    session_client: String,
}

impl Store {
    /// Starts a session for `user` with the granted `scope`, ending at `expires_at` at the latest.
    ///
    /// # Errors
    /// Database failures.
    pub async fn create_session(
        &self,
        user: &UserRow,
        scope: &str,
        expires_at: OffsetDateTime,
        origin: &SessionOrigin,
        client: ClientKind,
    ) -> Result<SessionRow, StoreError> {
        let id = random_hex(16)?;
        let now = self.clock.now();
        let session = on_pool!(self, pool => {
            sqlx::query_as::<_, SessionRow>(&format!(
                "INSERT INTO sessions (id, user_id, created_at, expires_at, scope, token_version, last_used_at, \
                                       user_agent, ip_address, persistent, client) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING {SESSION_COLUMNS}"
            ))
            .bind(id)
            .bind(user.id)
            .bind(now)
            .bind(expires_at)
            .bind(scope)
            .bind(user.token_version)
            .bind(now)
            .bind(origin.user_agent.as_deref())
            .bind(origin.ip_address.as_deref())
            .bind(origin.persistent)
            .bind(client.as_str())
            .fetch_one(pool)
            .await
        })
        .context("Failed to start a session")?;
        Ok(session)
    }

    /// A session and its user: all that checking a token needs. From the session cache when a
    /// fresh copy is there, otherwise in one indexed read.
    ///
    /// # Errors
    /// Database failures; an unknown session is `Ok(None)`.
    pub async fn find_session(&self, session_id: &str) -> Result<Option<(SessionRow, UserRow)>, StoreError> {
        if let Some(found) = self.sessions.get(session_id) {
            return Ok(Some(found));
        }
        let before = self.sessions.before_read();
        let found = self.read_session(session_id).await?;
        if let Some((session, user)) = &found {
            self.sessions.fill(before, session, user);
        }
        Ok(found)
    }

    async fn read_session(&self, session_id: &str) -> Result<Option<(SessionRow, UserRow)>, StoreError> {
        let row = on_pool!(self, pool => {
            sqlx::query_as::<_, SessionAndUser>(
                "SELECT users.*, sessions.id AS session_id, sessions.created_at AS session_created_at, \
                        sessions.expires_at AS session_expires_at, sessions.revoked_at AS session_revoked_at, \
                        sessions.scope AS session_scope, sessions.token_version AS session_token_version, \
                        sessions.last_used_at AS session_last_used_at, sessions.user_agent AS session_user_agent, \
                        sessions.ip_address AS session_ip_address, sessions.persistent AS session_persistent, \
                        sessions.client AS session_client \
                 FROM sessions JOIN users ON users.id = sessions.user_id WHERE sessions.id = $1",
            )
            .bind(session_id)
            .fetch_optional(pool)
            .await
        })
        .context("Failed to look up a session")?;
        Ok(row.map(|row| {
            let session = SessionRow {
                id: row.session_id,
                user_id: row.user.id,
                created_at: row.session_created_at,
                expires_at: row.session_expires_at,
                revoked_at: row.session_revoked_at,
                scope: row.session_scope,
                token_version: row.session_token_version,
                last_used_at: row.session_last_used_at,
                user_agent: row.session_user_agent,
                ip_address: row.session_ip_address,
                persistent: row.session_persistent,
                client: row.session_client,
            };
            (session, row.user)
        }))
    }

    /// Ends one session and with it every token it issued. Ending an ended session changes
    /// nothing.
    ///
    /// # Errors
    /// Database failures.
    pub async fn revoke_session(&self, session_id: &str) -> Result<(), StoreError> {
        let user_id = on_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>(
                "UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING user_id",
            )
            .bind(self.clock.now())
            .bind(session_id)
            .fetch_optional(pool)
            .await
        })
        .context("Failed to revoke a session")?;
        if let Some(user_id) = user_id {
            self.sessions.changed(user_id);
        }
        Ok(())
    }

    /// Notes that a session was just used, at most once a minute: the sessions list and the
    /// idle limit need it, and a write on every request would not be worth it.
    ///
    /// # Errors
    /// Database failures.
    pub async fn touch_session(&self, session: &SessionRow, now: OffsetDateTime) -> Result<(), StoreError> {
        if session
            .last_used_at
            .is_some_and(|last| now - last < time::Duration::MINUTE)
        {
            return Ok(());
        }
        on_pool!(self, pool => {
            sqlx::query("UPDATE sessions SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(&session.id)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })
        .context("Failed to note a session's use")?;
        // The idle limit is measured from this time: the cached copy must not keep the old one.
        self.sessions.changed(session.user_id);
        Ok(())
    }

    /// A user's live sessions (not revoked, not expired), most recently used first.
    ///
    /// # Errors
    /// Database failures.
    pub async fn sessions_of(
        &self,
        user_id: i64,
        now: OffsetDateTime,
    ) -> Result<Vec<SessionRow>, StoreError> {
        let sessions = on_pool!(self, pool => {
            sqlx::query_as::<_, SessionRow>(&format!(
                "SELECT {SESSION_COLUMNS} FROM sessions \
                 WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 \
                 ORDER BY coalesce(last_used_at, created_at) DESC"
            ))
            .bind(user_id)
            .bind(now)
            .fetch_all(pool)
            .await
        })
        .context("Failed to list sessions")?;
        Ok(sessions)
    }

    /// Ends one of a user's sessions; returns whether there was such a live session.
    ///
    /// # Errors
    /// Database failures.
    pub async fn revoke_session_of(&self, user_id: i64, session_id: &str) -> Result<bool, StoreError> {
        let revoked = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
            )
            .bind(self.clock.now())
            .bind(session_id)
            .bind(user_id)
            .execute(pool)
            .await
                .map(|done| done.rows_affected())
        })
        .context("Failed to revoke a session")?;
        if revoked == 1 {
            self.sessions.changed(user_id);
        }
        Ok(revoked == 1)
    }

    /// Ends every session of a user but one; returns how many ended.
    ///
    /// # Errors
    /// Database failures.
    pub async fn revoke_other_sessions(
        &self,
        user_id: i64,
        keep_session_id: &str,
    ) -> Result<u64, StoreError> {
        let revoked = on_pool!(self, pool => {
            sqlx::query(REVOKE_OTHER_SESSIONS)
                .bind(self.clock.now())
                .bind(user_id)
                .bind(keep_session_id)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })
        .context("Failed to revoke sessions")?;
        if revoked > 0 {
            self.sessions.changed(user_id);
        }
        Ok(revoked)
    }

    /// Ends every live session of a user; returns how many ended.
    ///
    /// # Errors
    /// Database failures.
    pub async fn end_sessions_of(&self, user_id: i64) -> Result<u64, StoreError> {
        let ended = on_pool!(self, pool => {
            sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
                .bind(self.clock.now())
                .bind(user_id)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })
        .context("Failed to end a user's sessions")?;
        self.sessions.changed(user_id);
        Ok(ended)
    }

    /// Deletes what can never be used again: sessions past their end or revoked a day ago, and
    /// with them their refresh tokens, and sign-in attempts a day old. A spent refresh token is
    /// kept as long as its session: presented again at any time, it is recognised as a replay
    /// and ends the session (RFC 9700 §4.14.2). Returns the numbers of sessions and refresh
    /// tokens deleted.
    ///
    /// # Errors
    /// Database failures.
    pub async fn purge(&self, now: OffsetDateTime) -> Result<(u64, u64), StoreError> {
        let ended = "SELECT id FROM sessions WHERE expires_at <= $1 OR revoked_at <= $2";
        let tokens = on_pool!(self, pool => {
            sqlx::query(&format!("DELETE FROM refresh_tokens WHERE session_id IN ({ended})"))
                .bind(now)
                .bind(now - time::Duration::DAY)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })
        .context("Failed to purge refresh tokens")?;
        let sessions = on_pool!(self, pool => {
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR revoked_at <= $2")
                .bind(now)
                .bind(now - time::Duration::DAY)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })
        .context("Failed to purge sessions")?;
        on_pool!(self, pool => {
            sqlx::query("DELETE FROM sign_in_attempts WHERE attempted_at <= $1")
                .bind(now - time::Duration::DAY)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })
        .context("Failed to purge old sign-in attempts")?;
        Ok((sessions, tokens))
    }

    /// Ends the user's least recently used live sessions beyond the newest `keep`; returns how
    /// many ended.
    ///
    /// # Errors
    /// Database failures.
    pub async fn end_sessions_beyond(&self, user_id: i64, keep: u32) -> Result<u64, StoreError> {
        let now = self.clock.now();
        let ended = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE sessions SET revoked_at = $1 WHERE id IN ( \
                     SELECT id FROM ( \
                         SELECT id, row_number() OVER ( \
                             ORDER BY coalesce(last_used_at, created_at) DESC, created_at DESC, id) AS newest \
                         FROM sessions WHERE user_id = $2 AND revoked_at IS NULL AND expires_at > $1 \
                     ) ranked WHERE newest > $3)",
            )
            .bind(now)
            .bind(user_id)
            .bind(i64::from(keep))
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })
        .context("Failed to end the oldest sessions")?;
        if ended > 0 {
            self.sessions.changed(user_id);
        }
        Ok(ended)
    }

    /// Records a refresh token of a session by its hash. Recording the same hash twice (two
    /// racing refreshes deriving the same successor) keeps the first.
    ///
    /// # Errors
    /// Database failures.
    pub async fn add_refresh_token(&self, session_id: &str, token_hash: &str) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO refresh_tokens (token_hash, session_id, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (token_hash) DO NOTHING",
            )
            .bind(token_hash)
            .bind(session_id)
            .bind(self.clock.now())
            .execute(pool)
            .await
                .map(|done| done.rows_affected())
        })
        .context("Failed to store a refresh token")?;
        Ok(())
    }

    /// The refresh token with this hash, if any.
    ///
    /// # Errors
    /// Database failures.
    pub async fn find_refresh_token(&self, token_hash: &str) -> Result<Option<RefreshTokenRow>, StoreError> {
        let row = on_pool!(self, pool => {
            sqlx::query_as::<_, RefreshTokenRow>(
                "SELECT session_id, spent_at FROM refresh_tokens WHERE token_hash = $1",
            )
            .bind(token_hash)
            .fetch_optional(pool)
            .await
        })
        .context("Failed to look up a refresh token")?;
        Ok(row)
    }

    /// Spends a refresh token. Returns `true` for the one caller that spent it, `false` when it
    /// was already spent (by an earlier use or a racing one).
    ///
    /// # Errors
    /// Database failures.
    pub async fn spend_refresh_token(&self, token_hash: &str) -> Result<bool, StoreError> {
        let spent = on_pool!(self, pool => {
            sqlx::query("UPDATE refresh_tokens SET spent_at = $1 WHERE token_hash = $2 AND spent_at IS NULL")
                .bind(self.clock.now())
                .bind(token_hash)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })
        .context("Failed to spend a refresh token")?;
        Ok(spent == 1)
    }

    /// Sets a new password hash and ends every session of the user, in one transaction: a
    /// token stolen before the change, from any session, stops working.
    ///
    /// # Errors
    /// Database failures.
    pub async fn change_password_ending_sessions(
        &self,
        user_id: i64,
        hash: &PasswordHash,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        on_pool!(self, pool => {
            let mut transaction = pool.begin().await.context("Failed to begin a transaction")?;
            // The person chose this password: a temporary one's duty to change it is done.
            sqlx::query(
                "UPDATE users SET password_hash = $1, updated_at = $2, must_change_password = false \
                 WHERE id = $3",
            )
                .bind(hash.as_str())
                .bind(now)
                .bind(user_id)
                .execute(&mut *transaction)
                .await
                .context("Failed to update a password")?;
            sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(user_id)
                .execute(&mut *transaction)
                .await
                .context("Failed to end the sessions")?;
            transaction
                .commit()
                .await
                .context("Failed to commit a password change")?;
        });
        self.sessions.changed(user_id);
        Ok(())
    }
}
