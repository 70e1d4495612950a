//! Failed sign-ins, counted for brute-force throttling.

use anyhow::Context;
use time::OffsetDateTime;

use super::{Store, StoreError};

impl Store {
    /// Records one failure against each subject.
    ///
    /// # Errors
    /// Database failures.
    pub async fn record_failure(&self, subjects: &[String], now: OffsetDateTime) -> Result<(), StoreError> {
        for subject in subjects {
            on_pool!(self, pool => {
                sqlx::query("INSERT INTO sign_in_failures (subject, failed_at) VALUES ($1, $2)")
                    .bind(subject)
                    .bind(now)
                    .execute(pool)
                    .await
                    .map(|done| done.rows_affected())
            })
            .context("Failed to record a failed sign-in")?;
        }
        Ok(())
    }

    /// How many failures `subject` has had since `since`, and when the latest was.
    ///
    /// # Errors
    /// Database failures.
    pub async fn failures_since(
        &self,
        subject: &str,
        since: OffsetDateTime,
    ) -> Result<(i64, Option<OffsetDateTime>), StoreError> {
        let row: (i64, Option<OffsetDateTime>) = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT count(*), max(failed_at) FROM sign_in_failures WHERE subject = $1 AND failed_at > $2",
            )
            .bind(subject)
            .bind(since)
            .fetch_one(pool)
            .await
        })
        .context("Failed to count failed sign-ins")?;
        Ok(row)
    }

    /// Forgets a subject's failures (after a successful sign-in).
    ///
    /// # Errors
    /// Database failures.
    pub async fn clear_failures(&self, subject: &str) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("DELETE FROM sign_in_failures WHERE subject = $1")
                .bind(subject)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })
        .context("Failed to clear failed sign-ins")?;
        Ok(())
    }
}
