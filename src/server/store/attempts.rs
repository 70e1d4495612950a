//! Sign-in attempts, counted for brute-force throttling: reserved before the password is
//! checked, released by a success.
//!
//! A reservation is decided and written under a lock (SQLite's one writer, `BEGIN IMMEDIATE`;
//! a PostgreSQL advisory lock per subject), so attempts racing each other, on one instance or
//! several, are counted one after the other: none can slip past while others are being checked.

use std::time::Duration;

use anyhow::Context;
use time::OffsetDateTime;

use super::{Pool, Store, StoreError};

/// What the store knows of one subject's recent attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptHistory {
    /// Attempts since the window began: failures, and attempts still being checked.
    pub count: i64,
    pub latest: Option<OffsetDateTime>,
}

/// Counts one subject's attempts since `since` (inside the reserving transaction).
const HISTORY: &str =
    "SELECT count(*), max(attempted_at) FROM sign_in_attempts WHERE subject = $1 AND attempted_at > $2";
const RECORD: &str = "INSERT INTO sign_in_attempts (attempt_id, subject, attempted_at) VALUES ($1, $2, $3)";

impl Store {
    /// Reserves attempt `attempt_id` against every subject, unless `wait_for` says one of them
    /// must still wait: then nothing is written and the longest wait is returned.
    ///
    /// # Errors
    /// Database failures.
    pub async fn reserve_attempt(
        &self,
        attempt_id: &str,
        subjects: &[&str],
        since: OffsetDateTime,
        now: OffsetDateTime,
        wait_for: &(dyn Fn(&str, AttemptHistory) -> Option<Duration> + Sync),
    ) -> Result<Option<Duration>, StoreError> {
        // Locks are taken in one order everywhere, so two attempts can never wait on each other.
        let mut subjects = subjects.to_vec();
        subjects.sort_unstable();
        subjects.dedup();
        // The same statements on either backend, inside that backend's locking transaction.
        macro_rules! decide_and_record {
            ($transaction:ident) => {{
                let mut longest: Option<Duration> = None;
                for subject in &subjects {
                    let (count, latest): (i64, Option<OffsetDateTime>) = sqlx::query_as(HISTORY)
                        .bind(subject)
                        .bind(since)
                        .fetch_one(&mut *$transaction)
                        .await
                        .context("Failed to count sign-in attempts")?;
                    longest = longest.max(wait_for(subject, AttemptHistory { count, latest }));
                }
                if longest.is_none() {
                    for subject in &subjects {
                        sqlx::query(RECORD)
                            .bind(attempt_id)
                            .bind(subject)
                            .bind(now)
                            .execute(&mut *$transaction)
                            .await
                            .context("Failed to record a sign-in attempt")?;
                    }
                }
                $transaction
                    .commit()
                    .await
                    .context("Failed to commit a sign-in attempt")?;
                longest
            }};
        }
        let wait = match &self.pool {
            Pool::Sqlite(pool) => {
                // IMMEDIATE takes the write lock before the first read: the count cannot go
                // stale before the reservation is written.
                let mut transaction = pool
                    .begin_with("BEGIN IMMEDIATE")
                    .await
                    .context("Failed to begin counting a sign-in attempt")?;
                decide_and_record!(transaction)
            }
            Pool::Postgres(pool) => {
                let mut transaction = pool
                    .begin()
                    .await
                    .context("Failed to begin counting a sign-in attempt")?;
                for subject in &subjects {
                    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                        .bind(subject)
                        .execute(&mut *transaction)
                        .await
                        .context("Failed to lock a sign-in subject")?;
                }
                decide_and_record!(transaction)
            }
        };
        Ok(wait)
    }

    /// Takes back a reservation: the attempt succeeded, or failed for a reason other than
    /// its password.
    ///
    /// # Errors
    /// Database failures.
    pub async fn release_attempt(&self, attempt_id: &str) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("DELETE FROM sign_in_attempts WHERE attempt_id = $1")
                .bind(attempt_id)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })
        .context("Failed to release a sign-in attempt")?;
        Ok(())
    }

    /// Forgets a subject's failures (after a successful sign-in).
    ///
    /// # Errors
    /// Database failures.
    pub async fn clear_attempts(&self, subject: &str) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("DELETE FROM sign_in_attempts WHERE subject = $1")
                .bind(subject)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })
        .context("Failed to clear sign-in attempts")?;
        Ok(())
    }
}
