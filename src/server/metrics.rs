//! Prometheus metrics, served on an address of their own (`--metrics-addr`, off by default) so
//! that they can never be public by accident: requests and their latency by route, sign-ins by
//! outcome, the argon2 queue, the session and page caches and whether the store answers. The names are
//! listed in the README.
//!
//! Counting is a few atomic additions on the request path, and nothing at all when the metrics
//! are off: the recording layer is only added when `--metrics-addr` is set.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::server::state::AppState;

/// The route of a request as a label: the route the router matched, or `other` (so that
/// scanners asking for random paths cannot grow the label set without bound).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// How a password check ended, for `gatehouse_sign_ins_total`.
#[derive(Debug, Clone, Copy)]
pub enum SignInOutcome {
    /// The password was right and the account active.
    Success,
    /// An unknown user, a wrong password or a disabled account.
    Refused,
    /// Turned away by the throttle before any password was checked.
    Throttled,
}

impl SignInOutcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Refused => "refused",
            Self::Throttled => "throttled",
        }
    }
}

type HistogramFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// Every metric of one running application.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: HistogramFamily,
    sign_ins: Family<OutcomeLabels, Counter>,
    argon2_queue: Gauge,
    store_up: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

fn latency_histogram() -> Histogram {
    // 0.25 ms to about 8 s, doubling.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

impl Metrics {
    /// Metrics for an application; `session_cache` are the hit and miss counters of its store's
    /// session cache, `rendered_pages` those of its kept pages.
    pub fn new(session_cache: (Counter, Counter), rendered_pages: (Counter, Counter)) -> Self {
        let mut registry = Registry::with_prefix("gatehouse");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "Requests answered, by method, route and status",
            requests.clone(),
        );
        let latency: HistogramFamily = Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time from a request's arrival to its response's headers, by route",
            latency.clone(),
        );
        let sign_ins = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "sign_ins",
            "Password checks (login form, POST /token, current password), by outcome: success, refused, throttled",
            sign_ins.clone(),
        );
        let argon2_queue = Gauge::default();
        registry.register(
            "argon2_queue",
            "Password hashes being computed or waiting for an argon2 thread",
            argon2_queue.clone(),
        );
        let (hits, misses) = session_cache;
        registry.register(
            "session_cache_hits",
            "Requests whose session came from the in-memory cache",
            hits,
        );
        registry.register(
            "session_cache_misses",
            "Requests whose session was read from the database",
            misses,
        );
        let (hits, misses) = rendered_pages;
        registry.register(
            "page_cache_hits",
            "Page loads answered with a page rendered before for the same person",
            hits,
        );
        registry.register(
            "page_cache_misses",
            "Loads of a cacheable page that were rendered (and then kept)",
            misses,
        );
        let store_up = Gauge::default();
        registry.register(
            "store_up",
            "1 when the database answered at the last scrape, 0 when it did not",
            store_up.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            sign_ins,
            argon2_queue,
            store_up,
        }
    }

    pub fn count_sign_in(&self, outcome: SignInOutcome) {
        self.sign_ins
            .get_or_create(&OutcomeLabels {
                outcome: outcome.as_str(),
            })
            .inc();
    }
}

/// The label of `request`'s route: what the router matched (the layer is applied route by
/// route, so axum has recorded it), `/pkg` for the bundle's files, `other` for the 404 fallback.
fn route_label(request: &Request) -> String {
    if request.uri().path().starts_with("/pkg/") {
        return "/pkg".to_owned();
    }
    request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "other".to_owned(), |matched| matched.as_str().to_owned())
}

/// Middleware (added only when metrics are on): counts every request and times it.
pub async fn record_request(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = route_label(&request);
    let method = request.method().as_str().to_owned();
    let response = next.run(request).await;
    metrics
        .latency
        .get_or_create(&RouteLabels { route: route.clone() })
        .observe(started.elapsed().as_secs_f64());
    metrics
        .requests
        .get_or_create(&RequestLabels {
            method,
            route,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

/// The router of the metrics address: `GET /metrics` in Prometheus' text format.
pub fn router(state: AppState) -> Router {
    Router::new().route("/metrics", get(scrape)).with_state(state)
}

async fn scrape(State(state): State<AppState>) -> Response {
    let Some(metrics) = &state.metrics else {
        return axum::http::StatusCode::NOT_FOUND.into_response();
    };
    metrics
        .argon2_queue
        .set(i64::try_from(state.passwords.pending()).unwrap_or(i64::MAX));
    metrics.store_up.set(i64::from(state.store.ping().await.is_ok()));
    let mut text = String::new();
    if prometheus_client::encoding::text::encode(&mut text, &metrics.registry).is_err() {
        return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        text,
    )
        .into_response()
}
