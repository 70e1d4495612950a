//! The bodies of the audit server functions in [`crate::api::audit`], and the request's part
//! of an event (address, browser, request id) for the server functions that record one.

use axum::http::request::Parts;
use leptos::prelude::{expect_context, use_context};
use time::macros::format_description;
use time::{Date, OffsetDateTime, Time};

use crate::api::{AuditAction, AuditList, AuditRecord, ListAudit, RecentActivity};
use crate::error::{AppError, Problem};
use crate::server::audit::{Acting, Actor, Outcome, record};
use crate::server::auth::access::admitted;
use crate::server::client::{describe_user_agent, session_origin};
use crate::server::errors::{internal, request_id_of};
use crate::server::state::AppState;
use crate::server::store::{AuditQuery, AuditRow, SessionOrigin, UserRow};

/// Events shown on one page of `/admin/audit`.
const PAGE_SIZE: u32 = 50;
/// Events shown under "Recent activity" on `/profile`.
const RECENT: u32 = 10;

/// `actor` acting in the request being served: its address, browser and id.
pub fn acting(actor: Actor) -> Acting {
    match use_context::<Parts>() {
        Some(parts) => Acting {
            actor,
            origin: session_origin(&parts.headers, &parts.extensions, false),
            request_id: Some(request_id_of(&parts.headers)),
        },
        None => Acting {
            actor,
            origin: SessionOrigin::default(),
            request_id: None,
        },
    }
}

/// Records `action` by `user` on their own account, in the request being served.
pub async fn record_own(state: &AppState, user: &UserRow, action: AuditAction, outcome: Outcome) {
    let event = acting(Actor::user(user))
        .event(action)
        .about(user)
        .outcome(outcome);
    record(&state.store, event).await;
}

/// What the pages show of a stored event.
pub fn shown(row: &AuditRow) -> Result<AuditRecord, time::error::Format> {
    let at = row
        .at
        .to_offset(time::UtcOffset::UTC)
        .format(format_description!(
            "[day padding:none] [month repr:long] [year], [hour]:[minute]:[second] UTC"
        ))?;
    Ok(AuditRecord {
        at,
        actor: row.actor_name.clone().unwrap_or_else(|| row.actor_kind.clone()),
        action: AuditAction::parse(&row.action)
            .map_or_else(|| row.action.clone(), |action| action.label().to_owned()),
        target: row.target_name.clone(),
        address: row.ip_address.clone(),
        device: row
            .user_agent
            .as_deref()
            .map(|agent| describe_user_agent(Some(agent))),
        outcome: row.outcome.clone(),
        request_id: row.request_id.clone(),
    })
}

/// Midnight UTC starting a `YYYY-MM-DD` date; blank is none.
///
/// # Errors
/// [`Problem::DateFormat`] for anything else.
pub fn parse_day(typed: Option<&str>) -> Result<Option<OffsetDateTime>, Problem> {
    match typed.map(str::trim).filter(|typed| !typed.is_empty()) {
        None => Ok(None),
        Some(typed) => Date::parse(typed, format_description!("[year]-[month]-[day]"))
            .map(|day| Some(day.with_time(Time::MIDNIGHT).assume_utc()))
            .map_err(|_| Problem::DateFormat),
    }
}

/// See [`crate::api::list_audit`].
pub async fn list_audit(
    user: Option<String>,
    action: Option<String>,
    since: Option<String>,
    until: Option<String>,
    before: Option<String>,
) -> Result<AuditList, AppError> {
    admitted::<ListAudit>()?;
    let state = expect_context::<AppState>();
    let since = parse_day(since.as_deref()).map_err(AppError::Invalid)?;
    // Inclusive: events of that whole day.
    let until = parse_day(until.as_deref())
        .map_err(AppError::Invalid)?
        .map(|day| day + time::Duration::DAY);
    let page = state
        .store
        .audit_events(&AuditQuery {
            user: user
                .map(|user| user.trim().to_owned())
                .filter(|user| !user.is_empty()),
            about_id: None,
            action: action.filter(|action| AuditAction::parse(action).is_some()),
            since,
            until,
            before: before.and_then(|before| before.parse().ok()),
            limit: PAGE_SIZE,
        })
        .await
        .map_err(internal)?;
    Ok(AuditList {
        events: page
            .events
            .iter()
            .map(shown)
            .collect::<Result<_, _>>()
            .map_err(internal)?,
        next: page.next.map(|next| next.to_string()),
    })
}

/// See [`crate::api::recent_activity`].
pub async fn recent_activity() -> Result<Vec<AuditRecord>, AppError> {
    let signed_in = admitted::<RecentActivity>()?;
    let state = expect_context::<AppState>();
    let page = state
        .store
        .audit_events(&AuditQuery {
            about_id: Some(signed_in.user.id),
            limit: RECENT,
            ..AuditQuery::default()
        })
        .await
        .map_err(internal)?;
    page.events
        .iter()
        .map(shown)
        .collect::<Result<_, _>>()
        .map_err(internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_dates_in_utc_or_nothing() {
        assert_eq!(parse_day(None), Ok(None));
        assert_eq!(parse_day(Some("  ")), Ok(None));
        assert_eq!(
            parse_day(Some("2026-12-02")),
            Ok(Some(time::macros::datetime!(2026-12-02 00:00 UTC)))
        );
        assert_eq!(parse_day(Some("02/12/2026")), Err(Problem::DateFormat));
    }
}
