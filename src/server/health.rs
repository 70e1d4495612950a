//! `GET /healthz`: whether this process serves and its store answers, for load balancers.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::json;

use crate::server::state::AppState;

/// A store slower than this counts as down: a balancer should try another instance.
const STORE_TIMEOUT: Duration = Duration::from_secs(2);

/// 200 `{"status":"ok", ...}` when the store answers in time, else 503
/// `{"status":"unavailable", ...}`. The body also counts this process's mail (pending, sent,
/// failed tries, given up): a mail server that fails does not make the site unhealthy, but an
/// operator should see it.
pub async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let (status, body) = match tokio::time::timeout(STORE_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, "ok"),
        Ok(Err(error)) => {
            tracing::warn!(
                error = format!("{error:#}"),
                "health check: the store does not answer"
            );
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        }
        Err(_) => {
            tracing::warn!("health check: the store timed out");
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        }
    };
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({ "status": body, "mail": state.mailer.counts() })),
    )
}
