//! Two-step sign-in as stored: an account's sealed TOTP secret, its recovery codes (keyed
//! hashes), and the short-lived "password right, code still owed" state of a browser.
//!
//! Every rule that must hold across instances is one statement here: a code is accepted only
//! for a later time step than the last one accepted (a compare-and-set), a recovery code is
//! spent by the `UPDATE` that finds it unspent, and an enrolment becomes active only once.

use anyhow::Context;
use time::OffsetDateTime;

use super::{Store, StoreError};

/// Replaces the recovery codes of `$user_id` with `$hashes` inside `$transaction`. (A macro,
/// not a function: the transaction's type differs per backend inside `on_pool!`.)
macro_rules! replace_recovery_codes {
    ($transaction:ident, $user_id:expr, $hashes:expr) => {{
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind($user_id)
            .execute(&mut *$transaction)
            .await
            .context("Failed to remove old recovery codes")?;
        for hash in $hashes {
            sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                .bind($user_id)
                .bind(hash)
                .execute(&mut *$transaction)
                .await
                .context("Failed to store a recovery code")?;
        }
    }};
}

/// An account's TOTP factor as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TotpRow {
    /// See `server::two_step::Sealer`.
    pub secret_sealed: String,
    /// Set once a correct code turned it on; `None` while enrolling.
    pub enabled_at: Option<OffsetDateTime>,
}

/// A correct password waiting for its code.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SecondStepRow {
    pub user_id: i64,
    pub persistent: bool,
    pub next_path: Option<String>,
}

impl Store {
    /// The account's TOTP factor, on or being enrolled, if any.
    ///
    /// # Errors
    /// Database failures.
    pub async fn totp_factor(&self, user_id: i64) -> Result<Option<TotpRow>, StoreError> {
        let row = on_pool!(self, pool => {
            sqlx::query_as::<_, TotpRow>(
                "SELECT secret_sealed, enabled_at FROM totp_factors WHERE user_id = $1",
            )
            .bind(user_id)
            .fetch_optional(pool)
            .await
        })
        .context("Failed to read a TOTP factor")?;
        Ok(row)
    }

    /// Whether the account must give a code after its password.
    ///
    /// # Errors
    /// Database failures.
    pub async fn has_second_factor(&self, user_id: i64) -> Result<bool, StoreError> {
        Ok(self
            .totp_factor(user_id)
            .await?
            .is_some_and(|factor| factor.enabled_at.is_some()))
    }

    /// Starts (or restarts) an enrolment with a new sealed secret. Returns `false`, changing
    /// nothing, when the account's factor is already on.
    ///
    /// # Errors
    /// Database failures.
    pub async fn begin_totp(&self, user_id: i64, secret_sealed: &str) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let written = on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO totp_factors (user_id, secret_sealed, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id) DO UPDATE SET secret_sealed = excluded.secret_sealed, \
                     created_at = excluded.created_at, last_step = 0 \
                 WHERE totp_factors.enabled_at IS NULL",
            )
            .bind(user_id)
            .bind(secret_sealed)
            .bind(now)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })
        .context("Failed to store a TOTP enrolment")?;
        Ok(written == 1)
    }

    /// Turns the enrolment on, its first code (time `step`) counting as used, with these
    /// recovery codes in place of any older ones. Returns `false`, changing nothing, when there
    /// is no enrolment in progress (never begun, removed, or already on).
    ///
    /// # Errors
    /// Database failures.
    pub async fn enable_totp(
        &self,
        user_id: i64,
        step: i64,
        recovery_hashes: &[String],
    ) -> Result<bool, StoreError> {
        let now = self.clock.now();
        on_pool!(self, pool => {
            let mut transaction = pool.begin().await.context("Failed to begin a transaction")?;
            let enabled = sqlx::query(
                "UPDATE totp_factors SET enabled_at = $1, last_step = $2 \
                 WHERE user_id = $3 AND enabled_at IS NULL",
            )
            .bind(now)
            .bind(step)
            .bind(user_id)
            .execute(&mut *transaction)
            .await
            .context("Failed to turn a TOTP factor on")?
            .rows_affected();
            if enabled != 1 {
                return Ok(false);
            }
            replace_recovery_codes!(transaction, user_id, recovery_hashes);
            transaction.commit().await.context("Failed to commit a TOTP factor")?;
        });
        Ok(true)
    }

    /// Accepts a code of time `step` if no code of this step or a later one was accepted
    /// before: the one check that makes each code single use, across instances.
    ///
    /// # Errors
    /// Database failures.
    pub async fn accept_totp_step(&self, user_id: i64, step: i64) -> Result<bool, StoreError> {
        let accepted = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE totp_factors SET last_step = $1 \
                 WHERE user_id = $2 AND enabled_at IS NOT NULL AND last_step < $1",
            )
            .bind(step)
            .bind(user_id)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })
        .context("Failed to record a TOTP code")?;
        Ok(accepted == 1)
    }

    /// Replaces the account's recovery codes; only when its factor is on. Returns whether it
    /// was.
    ///
    /// # Errors
    /// Database failures.
    pub async fn renew_recovery_codes(&self, user_id: i64, hashes: &[String]) -> Result<bool, StoreError> {
        on_pool!(self, pool => {
            let mut transaction = pool.begin().await.context("Failed to begin a transaction")?;
            let on: Option<i64> = sqlx::query_scalar(
                "SELECT user_id FROM totp_factors WHERE user_id = $1 AND enabled_at IS NOT NULL",
            )
            .bind(user_id)
            .fetch_optional(&mut *transaction)
            .await
            .context("Failed to read a TOTP factor")?;
            if on.is_none() {
                return Ok(false);
            }
            replace_recovery_codes!(transaction, user_id, hashes);
            transaction.commit().await.context("Failed to commit recovery codes")?;
        });
        Ok(true)
    }

    /// Spends the unspent recovery code with this hash; returns how many are left after it,
    /// or `None` when there was no such unspent code.
    ///
    /// # Errors
    /// Database failures.
    pub async fn spend_recovery_code(
        &self,
        user_id: i64,
        code_hash: &str,
    ) -> Result<Option<i64>, StoreError> {
        let spent = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE recovery_codes SET used_at = $1 \
                 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
            )
            .bind(self.clock.now())
            .bind(user_id)
            .bind(code_hash)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })
        .context("Failed to spend a recovery code")?;
        if spent != 1 {
            return Ok(None);
        }
        Ok(Some(self.recovery_codes_left(user_id).await?))
    }

    /// How many of the account's recovery codes are unspent.
    ///
    /// # Errors
    /// Database failures.
    pub async fn recovery_codes_left(&self, user_id: i64) -> Result<i64, StoreError> {
        let left = on_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
            )
            .bind(user_id)
            .fetch_one(pool)
            .await
        })
        .context("Failed to count recovery codes")?;
        Ok(left)
    }

    /// Removes the account's second factor (on or being enrolled), its recovery codes and any
    /// half-finished sign-in. Returns whether a factor was on.
    ///
    /// # Errors
    /// Database failures.
    pub async fn remove_second_factor(&self, user_id: i64) -> Result<bool, StoreError> {
        let was_on = self.has_second_factor(user_id).await?;
        on_pool!(self, pool => {
            let mut transaction = pool.begin().await.context("Failed to begin a transaction")?;
            for table in ["second_steps", "recovery_codes", "totp_factors"] {
                sqlx::query(&format!("DELETE FROM {table} WHERE user_id = $1"))
                    .bind(user_id)
                    .execute(&mut *transaction)
                    .await
                    .with_context(|| format!("Failed to empty {table} of a user"))?;
            }
            transaction.commit().await.context("Failed to commit removing a second factor")?;
        });
        Ok(was_on)
    }

    /// Keeps a browser's half-finished sign-in, named by the hash of its cookie's token.
    ///
    /// # Errors
    /// Database failures.
    pub async fn add_second_step(
        &self,
        token_hash: &str,
        step: &SecondStepRow,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO second_steps (token_hash, user_id, persistent, next_path, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(token_hash)
            .bind(step.user_id)
            .bind(step.persistent)
            .bind(&step.next_path)
            .bind(self.clock.now())
            .bind(expires_at)
            .execute(pool)
            .await
            .map(|_| ())
        })
        .context("Failed to store a half-finished sign-in")?;
        Ok(())
    }

    /// The half-finished sign-in with this hash, if it has not expired.
    ///
    /// # Errors
    /// Database failures.
    pub async fn second_step(&self, token_hash: &str) -> Result<Option<SecondStepRow>, StoreError> {
        let row = on_pool!(self, pool => {
            sqlx::query_as::<_, SecondStepRow>(
                "SELECT user_id, persistent, next_path FROM second_steps \
                 WHERE token_hash = $1 AND expires_at > $2",
            )
            .bind(token_hash)
            .bind(self.clock.now())
            .fetch_optional(pool)
            .await
        })
        .context("Failed to read a half-finished sign-in")?;
        Ok(row)
    }

    /// Ends a half-finished sign-in; returns whether it was still there (of two requests
    /// finishing one sign-in at once, one finds it gone).
    ///
    /// # Errors
    /// Database failures.
    pub async fn end_second_step(&self, token_hash: &str) -> Result<bool, StoreError> {
        let ended = on_pool!(self, pool => {
            sqlx::query("DELETE FROM second_steps WHERE token_hash = $1")
                .bind(token_hash)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })
        .context("Failed to end a half-finished sign-in")?;
        Ok(ended == 1)
    }

    /// Deletes half-finished sign-ins that expired before `cutoff`; returns how many.
    ///
    /// # Errors
    /// Database failures.
    pub async fn purge_second_steps(&self, cutoff: OffsetDateTime) -> Result<u64, StoreError> {
        let purged = on_pool!(self, pool => {
            sqlx::query("DELETE FROM second_steps WHERE expires_at < $1")
                .bind(cutoff)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })
        .context("Failed to purge half-finished sign-ins")?;
        Ok(purged)
    }
}
