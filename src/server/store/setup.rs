//! First-run setup links: stored as hashes with their end, spent all at once when the first
//! administrator is created through one of them.

use anyhow::Context;
use time::OffsetDateTime;

use super::users::USER_COLUMNS;
use super::{NewUser, Store, StoreError, UserRow, is_unique_violation};

/// Why the first administrator was not created.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The link is unknown, spent or expired, or an administrator exists already.
    #[error("the setup link is not valid (spent, expired, or an administrator exists)")]
    LinkInvalid,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// Keeps a setup link's hash until `expires_at`.
    ///
    /// # Errors
    /// Database failures.
    pub async fn add_setup_token(
        &self,
        token_hash: &str,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("INSERT INTO setup_tokens (token_hash, expires_at) VALUES ($1, $2)")
                .bind(token_hash)
                .bind(expires_at)
                .execute(pool)
                .await
                .map(|_| ())
        })
        .context("Failed to store a setup link")?;
        Ok(())
    }

    /// Whether a setup link with this hash is live now and no active administrator exists.
    ///
    /// # Errors
    /// Database failures.
    pub async fn setup_token_is_live(&self, token_hash: &str) -> Result<bool, StoreError> {
        let live = on_pool!(self, pool => {
            sqlx::query_scalar::<_, bool>(
                "SELECT EXISTS (SELECT 1 FROM setup_tokens WHERE token_hash = $1 AND expires_at > $2) \
                 AND NOT EXISTS (SELECT 1 FROM users WHERE admin AND NOT disabled)",
            )
            .bind(token_hash)
            .bind(self.clock.now())
            .fetch_one(pool)
            .await
        })
        .context("Failed to check a setup link")?;
        Ok(live)
    }

    /// Creates the first administrator through the setup link with this hash, spending every
    /// setup link, in one transaction: two people racing with two links cannot both succeed
    /// (the second finds the links gone), and a failure (a taken name) spends nothing.
    ///
    /// # Errors
    /// [`SetupError::LinkInvalid`], [`StoreError::DuplicateUsername`], or database failures.
    pub async fn complete_setup(&self, token_hash: &str, new: &NewUser) -> Result<UserRow, SetupError> {
        let now = self.clock.now();
        let created = on_pool!(self, pool => {
            let mut transaction = pool.begin().await.context("Failed to begin a transaction").map_err(StoreError::from)?;
            // Deleting first takes the write lock (SQLite) or the rows' locks (PostgreSQL).
            let spent: Vec<(String, OffsetDateTime)> =
                sqlx::query_as("DELETE FROM setup_tokens RETURNING token_hash, expires_at")
                .fetch_all(&mut *transaction)
                .await
                .context("Failed to spend the setup links")
                .map_err(StoreError::from)?;
            let live = sqlx::query_scalar::<_, bool>(
                "SELECT NOT EXISTS (SELECT 1 FROM users WHERE admin AND NOT disabled)",
            )
            .fetch_one(&mut *transaction)
            .await
            .context("Failed to count the administrators")
            .map_err(StoreError::from)?;
            let ours = spent.iter().any(|(hash, expires_at)| hash == token_hash && *expires_at > now);
            if !live || !ours {
                return Err(SetupError::LinkInvalid);
            }
            let user = sqlx::query_as::<_, UserRow>(&format!(
                "INSERT INTO users (username, full_name, email, password_hash, disabled, admin, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, false, true, $5, $5) RETURNING {USER_COLUMNS}"
            ))
            .bind(new.username.as_str())
            .bind(new.full_name.as_ref().map(|name| name.as_str()))
            .bind(new.email.as_ref().map(|email| email.as_str()))
            .bind(new.password_hash.as_str())
            .bind(now)
            .fetch_one(&mut *transaction)
            .await
            .map_err(|error| {
                if is_unique_violation(&error) {
                    StoreError::DuplicateUsername(new.username.to_string())
                } else {
                    anyhow::Error::new(error).context("Failed to create the first administrator").into()
                }
            })?;
            transaction.commit().await.context("Failed to commit the setup").map_err(StoreError::from)?;
            user
        });
        Ok(created)
    }
}
