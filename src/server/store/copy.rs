//! Copying a whole store into another (`gatehouse db copy`): SQLite to PostgreSQL when a site
//! outgrows one machine, and back.
//!
//! Users, sessions, refresh tokens, items, second factors (with their recovery codes and
//! the last code step used), passkeys (with their sign counters) and the audit log are copied
//! with their ids, so signed-in users stay signed in, two-step sign-in stays on (given the same
//! signing key, which also seals the TOTP secrets) and the trail is whole. Failed sign-ins,
//! half-finished sign-ins and passkey ceremonies under way are not copied: they only matter for
//! minutes. The target is written in one transaction, so a failed copy leaves it as it was.

use anyhow::{Context, bail};
use time::OffsetDateTime;

use super::{ItemRow, PasskeyRow, Pool, SessionRow, Store, UserRow};

/// Rows read from the source at a time.
const BATCH: i64 = 500;

/// How many rows of each kind a store holds (or a copy wrote).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RowCounts {
    pub users: u64,
    pub sessions: u64,
    pub refresh_tokens: u64,
    pub items: u64,
    pub audit_events: u64,
    /// TOTP factors, on or being enrolled (their recovery codes go with them).
    pub second_factors: u64,
    pub passkeys: u64,
}

impl RowCounts {
    pub fn total(&self) -> u64 {
        self.users
            + self.sessions
            + self.refresh_tokens
            + self.items
            + self.audit_events
            + self.second_factors
            + self.passkeys
    }
}

impl std::fmt::Display for RowCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} users, {} sessions, {} refresh tokens, {} items, {} audit events, {} second factors, {} passkeys",
            self.users,
            self.sessions,
            self.refresh_tokens,
            self.items,
            self.audit_events,
            self.second_factors,
            self.passkeys
        )
    }
}

/// A refresh token with every column, as only a copy needs it.
#[derive(sqlx::FromRow)]
struct StoredRefreshToken {
    token_hash: String,
    session_id: String,
    created_at: OffsetDateTime,
    spent_at: Option<OffsetDateTime>,
}

/// A TOTP factor with every column, as only a copy needs it.
#[derive(sqlx::FromRow)]
struct StoredTotpFactor {
    user_id: i64,
    secret_sealed: String,
    created_at: OffsetDateTime,
    enabled_at: Option<OffsetDateTime>,
    last_step: i64,
}

/// A recovery code's hash, as only a copy needs it.
#[derive(sqlx::FromRow)]
struct StoredRecoveryCode {
    user_id: i64,
    code_hash: String,
    used_at: Option<OffsetDateTime>,
}

/// An audit event with every column, as only a copy needs it.
#[derive(sqlx::FromRow)]
struct StoredAuditEvent {
    id: i64,
    at: OffsetDateTime,
    actor_kind: String,
    actor_id: Option<i64>,
    actor_name: Option<String>,
    action: String,
    target_id: Option<i64>,
    target_name: Option<String>,
    ip_address: Option<String>,
    user_agent: Option<String>,
    outcome: String,
    request_id: Option<String>,
}

impl Store {
    /// How many rows of each kind the store holds.
    ///
    /// # Errors
    /// Database failures.
    pub async fn row_counts(&self) -> anyhow::Result<RowCounts> {
        let (users, sessions, refresh_tokens, items, audit_events, second_factors, passkeys): (
            i64,
            i64,
            i64,
            i64,
            i64,
            i64,
            i64,
        ) = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM sessions), \
                        (SELECT count(*) FROM refresh_tokens), (SELECT count(*) FROM items), \
                        (SELECT count(*) FROM audit_events), (SELECT count(*) FROM totp_factors), \
                        (SELECT count(*) FROM passkeys)",
            )
            .fetch_one(pool)
            .await
        })
        .context("Failed to count the rows of the store")?;
        let count = |n: i64| u64::try_from(n).unwrap_or_default();
        Ok(RowCounts {
            users: count(users),
            sessions: count(sessions),
            refresh_tokens: count(refresh_tokens),
            items: count(items),
            audit_events: count(audit_events),
            second_factors: count(second_factors),
            passkeys: count(passkeys),
        })
    }

    /// Copies every user, session, refresh token and item of this store into `target`, calling
    /// `progress` with the number of rows written after each batch. Returns what was copied.
    ///
    /// # Errors
    /// The source lacks migrations this build has (migrate it first), the target is not empty
    /// and `overwrite` is false, or a database failed; the target is then left unchanged.
    pub async fn copy_into(
        &self,
        target: &Store,
        overwrite: bool,
        progress: &(dyn Fn(u64) + Sync),
    ) -> anyhow::Result<RowCounts> {
        if self.pending_migrations().await > 0 {
            bail!(
                "the source database is not up to date; run `gatehouse migrate` on it first (the copy leaves its source untouched)"
            );
        }
        let existing = target.row_counts().await?;
        if existing.total() > 0 && !overwrite {
            bail!(
                "the target already holds {existing}; pass --overwrite to replace them with the source's rows"
            );
        }
        let mut copied = RowCounts::default();
        on_pool!(target, pool => {
            let mut tx = pool.begin().await.context("Failed to begin a transaction on the target")?;
            // Children first, though the cascades would do it: the order reads like the schema.
            // Mailed links and mail requests are not copied: they live for minutes, and a
            // person whose link stopped working asks for another.
            for table in [
                "email_links", "mail_requests", "passkey_ceremonies", "passkeys", "second_steps", "recovery_codes",
                "totp_factors", "audit_events",
                "sign_in_attempts", "refresh_tokens", "items", "sessions", "users",
            ] {
                sqlx::query(&format!("DELETE FROM {table}"))
                    .execute(&mut *tx)
                    .await
                    .with_context(|| format!("Failed to empty {table} in the target"))?;
            }

            let mut after = 0;
            loop {
                let users = self.users_after(after).await?;
                let Some(last) = users.last() else { break };
                after = last.id;
                for user in &users {
                    sqlx::query(
                        "INSERT INTO users (id, username, full_name, email, password_hash, disabled, admin, \
                                            token_version, created_at, updated_at, must_change_password, email_verified) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                    )
                    .bind(user.id)
                    .bind(&user.username)
                    .bind(&user.full_name)
                    .bind(&user.email)
                    .bind(user.password_hash().as_str())
                    .bind(user.disabled)
                    .bind(user.admin)
                    .bind(user.token_version)
                    .bind(user.created_at)
                    .bind(user.updated_at)
                    .bind(user.must_change_password)
                    .bind(user.email_verified)
                    .execute(&mut *tx)
                    .await
                    .context("Failed to copy a user")?;
                }
                copied.users += users.len() as u64;
                progress(copied.total());
            }

            let mut after = String::new();
            loop {
                let sessions = self.sessions_after(&after).await?;
                let Some(last) = sessions.last() else { break };
                after.clone_from(&last.id);
                for session in &sessions {
                    sqlx::query(
                        "INSERT INTO sessions (id, user_id, created_at, expires_at, revoked_at, scope, \
                                               token_version, last_used_at, user_agent, ip_address, persistent, client) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                    )
                    .bind(&session.id)
                    .bind(session.user_id)
                    .bind(session.created_at)
                    .bind(session.expires_at)
                    .bind(session.revoked_at)
                    .bind(&session.scope)
                    .bind(session.token_version)
                    .bind(session.last_used_at)
                    .bind(&session.user_agent)
                    .bind(&session.ip_address)
                    .bind(session.persistent)
                    .bind(&session.client)
                    .execute(&mut *tx)
                    .await
                    .context("Failed to copy a session")?;
                }
                copied.sessions += sessions.len() as u64;
                progress(copied.total());
            }

            let mut after = String::new();
            loop {
                let tokens = self.refresh_tokens_after(&after).await?;
                let Some(last) = tokens.last() else { break };
                after.clone_from(&last.token_hash);
                for token in &tokens {
                    sqlx::query(
                        "INSERT INTO refresh_tokens (token_hash, session_id, created_at, spent_at) \
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(&token.token_hash)
                    .bind(&token.session_id)
                    .bind(token.created_at)
                    .bind(token.spent_at)
                    .execute(&mut *tx)
                    .await
                    .context("Failed to copy a refresh token")?;
                }
                copied.refresh_tokens += tokens.len() as u64;
                progress(copied.total());
            }

            let mut after = 0;
            loop {
                let items = self.items_after(after).await?;
                let Some(last) = items.last() else { break };
                after = last.id;
                for item in &items {
                    sqlx::query("INSERT INTO items (id, owner_id, title, description) VALUES ($1, $2, $3, $4)")
                        .bind(item.id)
                        .bind(item.owner_id)
                        .bind(&item.title)
                        .bind(&item.description)
                        .execute(&mut *tx)
                        .await
                        .context("Failed to copy an item")?;
                }
                copied.items += items.len() as u64;
                progress(copied.total());
            }

            let mut after = 0;
            loop {
                let events = self.audit_events_after(after).await?;
                let Some(last) = events.last() else { break };
                after = last.id;
                for event in &events {
                    sqlx::query(
                        "INSERT INTO audit_events (id, at, actor_kind, actor_id, actor_name, action, target_id, \
                                                   target_name, ip_address, user_agent, outcome, request_id) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                    )
                    .bind(event.id)
                    .bind(event.at)
                    .bind(&event.actor_kind)
                    .bind(event.actor_id)
                    .bind(&event.actor_name)
                    .bind(&event.action)
                    .bind(event.target_id)
                    .bind(&event.target_name)
                    .bind(&event.ip_address)
                    .bind(&event.user_agent)
                    .bind(&event.outcome)
                    .bind(&event.request_id)
                    .execute(&mut *tx)
                    .await
                    .context("Failed to copy an audit event")?;
                }
                copied.audit_events += events.len() as u64;
                progress(copied.total());
            }

            let mut after = 0;
            loop {
                let factors = self.totp_factors_after(after).await?;
                let Some(last) = factors.last() else { break };
                after = last.user_id;
                for factor in &factors {
                    sqlx::query(
                        "INSERT INTO totp_factors (user_id, secret_sealed, created_at, enabled_at, last_step) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(factor.user_id)
                    .bind(&factor.secret_sealed)
                    .bind(factor.created_at)
                    .bind(factor.enabled_at)
                    .bind(factor.last_step)
                    .execute(&mut *tx)
                    .await
                    .context("Failed to copy a TOTP factor")?;
                }
                copied.second_factors += factors.len() as u64;
                progress(copied.total());
            }

            let mut after = (0, String::new());
            loop {
                let codes = self.recovery_codes_after(&after).await?;
                let Some(last) = codes.last() else { break };
                after = (last.user_id, last.code_hash.clone());
                for code in &codes {
                    sqlx::query("INSERT INTO recovery_codes (user_id, code_hash, used_at) VALUES ($1, $2, $3)")
                        .bind(code.user_id)
                        .bind(&code.code_hash)
                        .bind(code.used_at)
                        .execute(&mut *tx)
                        .await
                        .context("Failed to copy a recovery code")?;
                }
            }

            let mut after = 0;
            loop {
                let passkeys = self.passkeys_after(after).await?;
                let Some(last) = passkeys.last() else { break };
                after = last.id;
                for passkey in &passkeys {
                    sqlx::query(
                        "INSERT INTO passkeys (id, user_id, credential_id, user_handle, name, credential, \
                                               created_at, last_used_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(passkey.id)
                    .bind(passkey.user_id)
                    .bind(&passkey.credential_id)
                    .bind(&passkey.user_handle)
                    .bind(&passkey.name)
                    .bind(&passkey.credential)
                    .bind(passkey.created_at)
                    .bind(passkey.last_used_at)
                    .execute(&mut *tx)
                    .await
                    .context("Failed to copy a passkey")?;
                }
                copied.passkeys += passkeys.len() as u64;
                progress(copied.total());
            }

            if matches!(target.pool, Pool::Postgres(_)) {
                // Rows came with their ids: move the identity counters past them.
                for table in ["users", "items", "audit_events", "passkeys"] {
                    sqlx::query(&format!(
                        "SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 0) + 1, false) \
                         FROM {table}"
                    ))
                    .execute(&mut *tx)
                    .await
                    .with_context(|| format!("Failed to move the id counter of {table}"))?;
                }
            }
            tx.commit().await.context("Failed to commit the copy")?;
        });
        // Every user may have changed: no cached session of the target may be trusted.
        target.sessions.changed_all();
        Ok(copied)
    }

    async fn users_after(&self, after: i64) -> anyhow::Result<Vec<UserRow>> {
        on_pool!(self, pool => {
            sqlx::query_as(&format!(
                "SELECT {} FROM users WHERE id > $1 ORDER BY id LIMIT $2",
                super::users::USER_COLUMNS
            ))
            .bind(after)
            .bind(BATCH)
            .fetch_all(pool)
            .await
        })
        .context("Failed to read users from the source")
    }

    async fn sessions_after(&self, after: &str) -> anyhow::Result<Vec<SessionRow>> {
        on_pool!(self, pool => {
            sqlx::query_as(&format!(
                "SELECT {} FROM sessions WHERE id > $1 ORDER BY id LIMIT $2",
                super::sessions::SESSION_COLUMNS
            ))
            .bind(after)
            .bind(BATCH)
            .fetch_all(pool)
            .await
        })
        .context("Failed to read sessions from the source")
    }

    async fn refresh_tokens_after(&self, after: &str) -> anyhow::Result<Vec<StoredRefreshToken>> {
        on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT token_hash, session_id, created_at, spent_at FROM refresh_tokens \
                 WHERE token_hash > $1 ORDER BY token_hash LIMIT $2",
            )
            .bind(after)
            .bind(BATCH)
            .fetch_all(pool)
            .await
        })
        .context("Failed to read refresh tokens from the source")
    }

    async fn audit_events_after(&self, after: i64) -> anyhow::Result<Vec<StoredAuditEvent>> {
        on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, at, actor_kind, actor_id, actor_name, action, target_id, target_name, ip_address, \
                        user_agent, outcome, request_id FROM audit_events WHERE id > $1 ORDER BY id LIMIT $2",
            )
            .bind(after)
            .bind(BATCH)
            .fetch_all(pool)
            .await
        })
        .context("Failed to read the audit log from the source")
    }

    async fn totp_factors_after(&self, after: i64) -> anyhow::Result<Vec<StoredTotpFactor>> {
        on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT user_id, secret_sealed, created_at, enabled_at, last_step FROM totp_factors \
                 WHERE user_id > $1 ORDER BY user_id LIMIT $2",
            )
            .bind(after)
            .bind(BATCH)
            .fetch_all(pool)
            .await
        })
        .context("Failed to read TOTP factors from the source")
    }

    async fn recovery_codes_after(&self, after: &(i64, String)) -> anyhow::Result<Vec<StoredRecoveryCode>> {
        on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT user_id, code_hash, used_at FROM recovery_codes \
                 WHERE (user_id, code_hash) > ($1, $2) ORDER BY user_id, code_hash LIMIT $3",
            )
            .bind(after.0)
            .bind(&after.1)
            .bind(BATCH)
            .fetch_all(pool)
            .await
        })
        .context("Failed to read recovery codes from the source")
    }

    async fn passkeys_after(&self, after: i64) -> anyhow::Result<Vec<PasskeyRow>> {
        on_pool!(self, pool => {
            sqlx::query_as(&format!(
                "SELECT {} FROM passkeys WHERE id > $1 ORDER BY id LIMIT $2",
                super::passkeys::PASSKEY_COLUMNS
            ))
            .bind(after)
            .bind(BATCH)
            .fetch_all(pool)
            .await
        })
        .context("Failed to read passkeys from the source")
    }

    async fn items_after(&self, after: i64) -> anyhow::Result<Vec<ItemRow>> {
        on_pool!(self, pool => {
            sqlx::query_as("SELECT id, owner_id, title, description FROM items WHERE id > $1 ORDER BY id LIMIT $2")
                .bind(after)
                .bind(BATCH)
                .fetch_all(pool)
                .await
        })
        .context("Failed to read items from the source")
    }
}
