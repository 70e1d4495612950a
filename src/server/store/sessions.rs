//! Sign-in sessions: start, look up together with their user, revoke.

use anyhow::Context;
use time::OffsetDateTime;

use super::{Store, StoreError, UserRow};
use crate::server::auth::password::PasswordHash;

/// A session as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub id: String,
    pub user_id: i64,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

impl SessionRow {
    /// Neither revoked nor past its absolute end.
    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
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
}

impl Store {
    /// Starts a session for a user, ending at `expires_at` at the latest.
    ///
    /// # Errors
    /// Database failures.
    pub async fn create_session(
        &self,
        user_id: i64,
        expires_at: OffsetDateTime,
    ) -> Result<SessionRow, StoreError> {
        let mut id = [0u8; 16];
        getrandom::fill(&mut id).context("Failed to read the OS random source")?;
        let id: String = id.iter().map(|byte| format!("{byte:02x}")).collect();
        let session = sqlx::query_as::<_, SessionRow>(
            "INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?) \
             RETURNING id, user_id, created_at, expires_at, revoked_at",
        )
        .bind(id)
        .bind(user_id)
        .bind(OffsetDateTime::now_utc())
        .bind(expires_at)
        .fetch_one(&self.pool)
        .await
        .context("Failed to start a session")?;
        Ok(session)
    }

    /// A session and its user, in one indexed read: all that checking a token needs.
    ///
    /// # Errors
    /// Database failures; an unknown session is `Ok(None)`.
    pub async fn find_session(&self, session_id: &str) -> Result<Option<(SessionRow, UserRow)>, StoreError> {
        let row = sqlx::query_as::<_, SessionAndUser>(
            "SELECT users.*, sessions.id AS session_id, sessions.created_at AS session_created_at, \
                    sessions.expires_at AS session_expires_at, sessions.revoked_at AS session_revoked_at \
             FROM sessions JOIN users ON users.id = sessions.user_id WHERE sessions.id = ?",
        )
        .bind(session_id)
        .fetch_optional(&self.pool)
        .await
        .context("Failed to look up a session")?;
        Ok(row.map(|row| {
            let session = SessionRow {
                id: row.session_id,
                user_id: row.user.id,
                created_at: row.session_created_at,
                expires_at: row.session_expires_at,
                revoked_at: row.session_revoked_at,
            };
            (session, row.user)
        }))
    }

    /// Ends one session. Ending an already ended session changes nothing.
    ///
    /// # Errors
    /// Database failures.
    pub async fn revoke_session(&self, session_id: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
            .bind(OffsetDateTime::now_utc())
            .bind(session_id)
            .execute(&self.pool)
            .await
            .context("Failed to revoke a session")?;
        Ok(())
    }

    /// Sets a new password hash and ends every other session of the user, in one transaction:
    /// the session that changed the password stays signed in.
    ///
    /// # Errors
    /// Database failures.
    pub async fn change_password_keeping_session(
        &self,
        user_id: i64,
        hash: &PasswordHash,
        keep_session_id: &str,
    ) -> Result<(), StoreError> {
        let now = OffsetDateTime::now_utc();
        let mut transaction = self.pool.begin().await.context("Failed to begin a transaction")?;
        sqlx::query("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?")
            .bind(hash.as_str())
            .bind(now)
            .bind(user_id)
            .execute(&mut *transaction)
            .await
            .context("Failed to update a password")?;
        sqlx::query(
            "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND id <> ? AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(user_id)
        .bind(keep_session_id)
        .execute(&mut *transaction)
        .await
        .context("Failed to end the other sessions")?;
        transaction
            .commit()
            .await
            .context("Failed to commit a password change")?;
        Ok(())
    }
}
