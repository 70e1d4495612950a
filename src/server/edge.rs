//! What every request passes through, whatever its route: its id and log span, the client's
//! address, the limits on headers, body, time and panics, the security headers and
//! `no-store`. One service ([`Edge`]) wraps the routed router, at serve time, for the plain
//! and the TLS server alike.
//!
//! Why one hand-written service rather than a stack of tower-http layers: each layer wrapped
//! the request, the response body or the future in a type of its own, and `/openapi.json`, a
//! fixed document, cost the server twice the instructions of a bare axum server answering the
//! same bytes (callgrind). Here a request costs one boxed future and no wrapped body.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::ConnectInfo;
use axum::extract::connect_info::IntoMakeServiceWithConnectInfo;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use http_body_util::Limited;
use ipnet::IpNet;
use tower::Service;
use tracing::Instrument;

use crate::server::client::{ClientAddress, client_address};
use crate::server::security::add_security_headers;
use crate::server::state::AppState;
use crate::server::telemetry::RequestIds;

/// The header a request's id travels in, both ways.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Most bytes of request headers (names and values) accepted: nginx's default buffers hold
/// 32 KB, browsers send well under 8 KB.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Largest request body accepted: forms and token requests are small, so anything bigger is
/// refused (413) before any parsing or hashing.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Longest a request may take before it is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The service every request enters by: see the module's documentation. The server clones it
/// for every request, hence one `Arc` for all it reads.
#[derive(Clone)]
pub struct Edge {
    router: Router,
    context: Arc<EdgeContext>,
}

struct EdgeContext {
    ids: RequestIds,
    /// `--trusted-proxy`: whose `X-Forwarded-For` names the client.
    trusted_proxies: Vec<IpNet>,
    /// The site is served over https (`--public-url`).
    https: bool,
    /// [`REQUEST_TIMEOUT`], shorter in tests.
    timeout: Duration,
}

impl Edge {
    pub fn new(state: &AppState, router: Router) -> Self {
        Self {
            router,
            context: Arc::new(EdgeContext {
                ids: RequestIds::default(),
                trusted_proxies: state.settings.trusted_proxies.clone(),
                https: state.public_url.is_https(),
                timeout: REQUEST_TIMEOUT,
            }),
        }
    }

    /// The service the servers (plain and TLS) make for each connection: every request through
    /// the edge, knowing its TCP peer.
    pub fn for_each_connection(self) -> IntoMakeServiceWithConnectInfo<Self, SocketAddr> {
        // The request type only picks the `ServiceExt` impl; the edge takes any body.
        axum::ServiceExt::<Request<Body>>::into_make_service_with_connect_info(self)
    }

    /// The request's id: the one the client or a proxy sent, or a new one, written into the
    /// request's headers where handlers and error messages read it.
    fn request_id(&self, headers: &mut HeaderMap) -> HeaderValue {
        if let Some(id) = headers.get(REQUEST_ID) {
            return id.clone();
        }
        let id = self.context.ids.next();
        headers.insert(REQUEST_ID, id.clone());
        id
    }
}

/// Generic in the body, so that the plain and the TLS server (whose bodies differ) share it.
impl<B> Service<Request<B>> for Edge
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // The router is always ready (axum's `Router::poll_ready`).
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let (mut parts, body) = request.into_parts();
        let id = self.request_id(&mut parts.headers);
        let client = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| {
                client_address(peer.ip(), &parts.headers, &self.context.trusted_proxies)
            });
        let span = tracing::info_span!(
            "request",
            method = %parts.method,
            path = parts.uri.path(),
            request_id = id.to_str().unwrap_or_default(),
            client = client.map(tracing::field::display),
        );
        if let Some(client) = client {
            parts.extensions.insert(ClientAddress(client));
        }
        let public = is_public_resource(parts.uri.path());
        let https = self.context.https;
        let timeout = self.context.timeout;

        let answer = match refuse_oversized(&parts.headers) {
            Some(refusal) => Answer::Ready(refusal),
            None => {
                let request = Request::from_parts(parts, Body::new(Limited::new(body, MAX_BODY_BYTES)));
                let _entered = span.enter();
                // Routing runs here, before the future: a panic in it is caught as well.
                match std::panic::catch_unwind(AssertUnwindSafe(|| self.router.call(request))) {
                    Ok(routed) => Answer::Routed(routed),
                    Err(_) => Answer::Ready(panic_response()),
                }
            }
        };
        Box::pin(
            async move {
                let response = match answer {
                    Answer::Ready(response) => response,
                    Answer::Routed(routed) => {
                        match tokio::time::timeout(timeout, AssertUnwindSafe(routed).catch_unwind()).await {
                            Ok(Ok(Ok(response))) => response,
                            Ok(Ok(Err(never))) => match never {},
                            // A panic in a handler becomes a clean 500, not a dropped connection.
                            Ok(Err(_)) => panic_response(),
                            Err(_) => timed_out(),
                        }
                    }
                };
                Ok(finish(response, id, public, https))
            }
            .instrument(span),
        )
    }
}

/// What a request turned into before its future runs.
enum Answer<F> {
    /// Answered without the router: refused, or routing panicked.
    Ready(Response),
    /// The router's future, still to run.
    Routed(F),
}

/// The headers every response gets on its way out: the security headers, the request's id
/// (unless the handler set one) and `Cache-Control: no-store`. Every response is personal until
/// shown otherwise: pages, server functions, the API and the token endpoint carry tokens or
/// someone's data, so no cache may keep them. Only what is the same for everyone may be cached
/// (`public`): the static files and the OpenAPI document, unless a cookie is set with them.
fn finish(mut response: Response, id: HeaderValue, public: bool, https: bool) -> Response {
    add_security_headers(https, response.headers_mut());
    let headers = response.headers_mut();
    headers.entry(REQUEST_ID).or_insert(id);
    if !public || headers.contains_key(header::SET_COOKIE) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The same for every visitor, signed in or not.
fn is_public_resource(path: &str) -> bool {
    path.starts_with("/pkg/") || path == "/favicon.svg" || path == "/favicon.ico" || path == "/openapi.json"
}

/// A request too large to read: headers (a pile of cookies, say) over [`MAX_HEADER_BYTES`]
/// are answered 431, a declared body over [`MAX_BODY_BYTES`] 413, before anything is parsed.
/// A body that does not declare its length is cut off at the limit as it is read (the
/// extractors then answer 413).
fn refuse_oversized(headers: &HeaderMap) -> Option<Response> {
    let header_bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return Some(plain_answer(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "This request's headers are too large. Clear this site's cookies and try again.",
        ));
    }
    let declared_body = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|length| length.to_str().ok())
        .and_then(|length| length.parse::<u64>().ok());
    if declared_body.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return Some(plain_answer(
            StatusCode::PAYLOAD_TOO_LARGE,
            "This request is too large: forms and token requests here are a few kilobytes at most.",
        ));
    }
    None
}

fn timed_out() -> Response {
    plain_answer(
        StatusCode::REQUEST_TIMEOUT,
        "This request took too long to answer. Please try again.",
    )
}

fn panic_response() -> Response {
    tracing::error!("a request handler panicked");
    plain_answer(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong on our side. Please try again.",
    )
}

/// A plain-text answer the edge gives by itself (`finish` adds the rest of the headers).
fn plain_answer(status: StatusCode, message: &'static str) -> Response {
    (status, message).into_response()
}

#[cfg(test)]
mod tests {
    use axum::routing::{get, post};
    use tower::ServiceExt;

    use super::*;

    /// An edge around `router`, as a peer at `peer` would reach it through the server.
    fn edge(router: Router, timeout: Duration) -> Edge {
        Edge {
            router,
            context: Arc::new(EdgeContext {
                ids: RequestIds::default(),
                trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
                https: true,
                timeout,
            }),
        }
    }

    /// The answer through the edge, the request coming from a trusted proxy.
    async fn answer_within(router: Router, mut request: Request<Body>, timeout: Duration) -> Response {
        let peer: SocketAddr = "10.1.2.3:5000".parse().unwrap();
        request.extensions_mut().insert(ConnectInfo(peer));
        let Ok(response) = edge(router, timeout).oneshot(request).await;
        response
    }

    async fn answer(router: Router, request: Request<Body>) -> Response {
        answer_within(router, request, REQUEST_TIMEOUT).await
    }

    fn get_request(path: &str) -> Request<Body> {
        Request::get(path).body(Body::empty()).unwrap()
    }

    /// Every answer, whoever gave it, leaves with the security headers, an id and `no-store`.
    fn assert_finished(response: &Response) {
        let headers = response.headers();
        assert_eq!(headers[header::CACHE_CONTROL], "no-store");
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
        assert!(headers.contains_key(header::CONTENT_SECURITY_POLICY));
        assert!(headers.contains_key(header::STRICT_TRANSPORT_SECURITY));
        assert_eq!(headers[REQUEST_ID].len(), 36, "a UUID");
    }

    async fn text(response: Response) -> String {
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        String::from_utf8(body.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn a_panicking_handler_is_answered_500_and_the_server_goes_on() {
        async fn buggy() -> &'static str {
            panic!("handler bug")
        }
        let router = Router::new().route("/boom", get(buggy));
        let response = answer(router.clone(), get_request("/boom")).await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_finished(&response);
        assert!(
            !text(response).await.contains("handler bug"),
            "no internals shown"
        );
    }

    #[tokio::test]
    async fn a_request_that_outlives_its_time_is_answered_408() {
        let router = Router::new().route("/stuck", get(std::future::pending::<&'static str>));
        // A timeout of a millisecond: the handler never answers, so the timer always wins.
        let response = answer_within(router, get_request("/stuck"), Duration::from_millis(1)).await;
        assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
        assert_finished(&response);
    }

    #[tokio::test]
    async fn the_id_a_client_sent_is_kept_and_a_missing_one_is_made_for_handlers_and_answer() {
        let router = Router::new().route(
            "/id",
            get(|headers: HeaderMap| async move { headers[REQUEST_ID].to_str().unwrap().to_owned() }),
        );
        let sent = Request::get("/id")
            .header(REQUEST_ID, "proxy-17")
            .body(Body::empty())
            .unwrap();
        let response = answer(router.clone(), sent).await;
        assert_eq!(response.headers()[REQUEST_ID], "proxy-17");
        assert_eq!(text(response).await, "proxy-17");

        let response = answer(router, get_request("/id")).await;
        let id = response.headers()[REQUEST_ID].clone();
        assert_eq!(id.len(), 36);
        assert_eq!(
            text(response).await,
            id.to_str().unwrap(),
            "the handler saw the same id"
        );
    }

    #[tokio::test]
    async fn handlers_see_the_client_a_trusted_proxy_names() {
        let router = Router::new().route(
            "/client",
            get(|request: axum::extract::Request| async move {
                request
                    .extensions()
                    .get::<ClientAddress>()
                    .map(|ClientAddress(address)| address.to_string())
                    .unwrap_or_default()
            }),
        );
        let forwarded = Request::get("/client")
            .header("x-forwarded-for", "203.0.113.9")
            .body(Body::empty())
            .unwrap();
        assert_eq!(text(answer(router, forwarded).await).await, "203.0.113.9");
    }

    #[tokio::test]
    async fn a_body_that_does_not_declare_its_length_is_cut_off_at_the_limit() {
        let router = Router::new().route("/echo", post(|body: Bytes| async move { body.len().to_string() }));
        let stream = |size: usize| {
            let chunks = vec![Ok::<_, Infallible>(Bytes::from(vec![b'x'; size]))];
            Body::from_stream(futures::stream::iter(chunks))
        };
        let small = Request::post("/echo").body(stream(1000)).unwrap();
        assert_eq!(text(answer(router.clone(), small).await).await, "1000");
        let large = Request::post("/echo").body(stream(MAX_BODY_BYTES + 1)).unwrap();
        assert_eq!(
            answer(router, large).await.status(),
            StatusCode::PAYLOAD_TOO_LARGE
        );
    }

    fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    HeaderName::from_static(name),
                    HeaderValue::from_str(value).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn headers_and_declared_bodies_over_their_limits_are_refused_before_reading() {
        let status = |headers: HeaderMap| refuse_oversized(&headers).map(|answer| answer.status());
        assert_eq!(
            status(headers(&[("cookie", "x".repeat(MAX_HEADER_BYTES - 6))])),
            None
        );
        assert_eq!(
            status(headers(&[("cookie", "x".repeat(MAX_HEADER_BYTES - 5))])),
            Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
        );
        assert_eq!(
            status(headers(&[("content-length", MAX_BODY_BYTES.to_string())])),
            None
        );
        assert_eq!(
            status(headers(&[("content-length", (MAX_BODY_BYTES + 1).to_string())])),
            Some(StatusCode::PAYLOAD_TOO_LARGE)
        );
        assert_eq!(
            status(headers(&[("content-length", u64::MAX.to_string())])),
            Some(StatusCode::PAYLOAD_TOO_LARGE)
        );
    }

    #[test]
    fn only_what_is_the_same_for_everyone_may_be_cached() {
        let cache_control = |path: &str, cookie: bool| {
            let mut response = Response::new(Body::empty());
            if cookie {
                response
                    .headers_mut()
                    .insert(header::SET_COOKIE, HeaderValue::from_static("a=b"));
            }
            let id = HeaderValue::from_static("id");
            finish(response, id, is_public_resource(path), false)
                .headers()
                .get(header::CACHE_CONTROL)
                .cloned()
        };
        let no_store = Some(HeaderValue::from_static("no-store"));
        for path in ["/", "/dashboard", "/api/users/me", "/token", "/login"] {
            assert_eq!(cache_control(path, false), no_store, "{path}");
        }
        for path in ["/pkg/gatehouse.wasm", "/favicon.svg", "/openapi.json"] {
            assert_eq!(cache_control(path, false), None, "{path}");
            assert_eq!(cache_control(path, true), no_store, "{path} with a cookie");
        }
    }
}
