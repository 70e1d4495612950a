//! The audit log's table: append an event, read pages of them (newest first, by person, action
//! and time), and delete what is older than the retention. Nothing here updates an event.

use anyhow::Context;
use time::OffsetDateTime;

use super::{Store, StoreError};

/// An event to append, in the table's terms (see `crate::server::audit` for their meaning).
#[derive(Debug, Clone)]
pub struct NewAuditEvent {
    pub actor_kind: &'static str,
    pub actor_id: Option<i64>,
    pub actor_name: Option<String>,
    pub action: &'static str,
    pub target_id: Option<i64>,
    pub target_name: Option<String>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub outcome: &'static str,
    pub request_id: Option<String>,
}

/// An event as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: OffsetDateTime,
    pub actor_kind: String,
    pub actor_name: Option<String>,
    pub action: String,
    pub target_name: Option<String>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub outcome: String,
    pub request_id: Option<String>,
}

/// Which events to read, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Events by or about this username (any letter case).
    pub user: Option<String>,
    /// Events about the account with this id (not its name, which a new account may reuse).
    pub about_id: Option<i64>,
    /// One action (`sign_in`, ...).
    pub action: Option<String>,
    pub since: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
    /// Where the previous page ended (the last id shown).
    pub before: Option<i64>,
    pub limit: u32,
}

/// One page of events.
#[derive(Debug)]
pub struct AuditPage {
    pub events: Vec<AuditRow>,
    /// Passed as `before` for the next page, when there is one.
    pub next: Option<i64>,
}

const AUDIT_COLUMNS: &str =
    "id, at, actor_kind, actor_name, action, target_name, ip_address, user_agent, outcome, request_id";

impl Store {
    /// Appends an event, stamped with the store's clock.
    ///
    /// # Errors
    /// Database failures.
    pub async fn record_audit_event(&self, event: &NewAuditEvent) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO audit_events (at, actor_kind, actor_id, actor_name, action, target_id, target_name, \
                                           ip_address, user_agent, outcome, request_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(self.clock.now())
            .bind(event.actor_kind)
            .bind(event.actor_id)
            .bind(&event.actor_name)
            .bind(event.action)
            .bind(event.target_id)
            .bind(&event.target_name)
            .bind(&event.ip_address)
            .bind(&event.user_agent)
            .bind(event.outcome)
            .bind(&event.request_id)
            .execute(pool)
            .await
            .map(|_| ())
        })
        .context("Failed to write an audit event")?;
        Ok(())
    }

    /// One page of events matching `query`, newest first.
    ///
    /// # Errors
    /// Database failures.
    pub async fn audit_events(&self, query: &AuditQuery) -> Result<AuditPage, StoreError> {
        let fetch = i64::from(query.limit) + 1;
        let user = query.user.as_deref().map(str::to_lowercase);
        let mut events = on_pool!(self, pool => {
            sqlx::query_as::<_, AuditRow>(&format!(
                "SELECT {AUDIT_COLUMNS} FROM audit_events \
                 WHERE ($1 IS NULL OR lower(target_name) = $1 OR lower(actor_name) = $1) \
                   AND ($2 IS NULL OR action = $2) \
                   AND ($3 IS NULL OR at >= $3) \
                   AND ($4 IS NULL OR at < $4) \
                   AND ($5 IS NULL OR id < $5) \
                   AND ($7 IS NULL OR target_id = $7) \
                 ORDER BY id DESC LIMIT $6"
            ))
            .bind(user.as_deref())
            .bind(query.action.as_deref())
            .bind(query.since)
            .bind(query.until)
            .bind(query.before)
            .bind(fetch)
            .bind(query.about_id)
            .fetch_all(pool)
            .await
        })
        .context("Failed to read the audit log")?;
        let next = if events.len() > query.limit as usize {
            events.truncate(query.limit as usize);
            events.last().map(|last| last.id)
        } else {
            None
        };
        Ok(AuditPage { events, next })
    }

    /// Deletes the events from before `cutoff`; returns how many.
    ///
    /// # Errors
    /// Database failures.
    pub async fn purge_audit_events(&self, cutoff: OffsetDateTime) -> Result<u64, StoreError> {
        let deleted = on_pool!(self, pool => {
            sqlx::query("DELETE FROM audit_events WHERE at < $1")
                .bind(cutoff)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })
        .context("Failed to purge the audit log")?;
        Ok(deleted)
    }
}
