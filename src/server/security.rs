//! Protections every response and every state-changing request gets: security headers, the
//! content security policy, and the same-origin check on form posts and server functions.
//! The limits on headers, bodies and time are `edge`'s.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use leptos::prelude::use_context;

use crate::server::state::AppState;

/// The policy for pages: scripts only from this site or carrying this response's nonce (the
/// hydration scripts), WebAssembly compilation for the bundle, nothing embedded, no `<base>`,
/// no framing, forms posted only here.
fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         frame-ancestors 'none'; form-action 'self'"
    )
}

/// The policy for everything that is not a page (JSON, files, errors): nothing may run.
const NON_PAGE_POLICY: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// Sets the page's CSP header with the nonce Leptos gave this response. Called from the HTML
/// shell, the one place every page passes through while the nonce is known.
pub fn set_page_policy() {
    if let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) && let Some(policy) = page_policy_header(&nonce.to_string())
    {
        response.insert_header(header::CONTENT_SECURITY_POLICY, policy);
    }
}

/// The page policy for `nonce` as a header value (`None` only for a nonce no header can hold,
/// which Leptos' base64 nonces never are).
pub fn page_policy_header(nonce: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&page_policy(nonce)).ok()
}

/// The nonce a page policy admits scripts by: what [`page_policy`] wrote after `'nonce-`.
pub fn nonce_in_page_policy(policy: &HeaderValue) -> Option<&str> {
    let (_, after) = policy.to_str().ok()?.split_once("'nonce-")?;
    after.split_once('\'').map(|(nonce, _)| nonce)
}

/// The headers every response carries, pages, API, files and errors alike (`https`: the site
/// is served over https, so browsers are told to keep to it). Added by `edge::Edge`, which
/// every response passes through.
pub fn add_security_headers(https: bool, headers: &mut HeaderMap) {
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(NON_PAGE_POLICY),
        );
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // A page whose address holds a token asks for less (`no-referrer`): kept when set.
    headers
        .entry(header::REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("strict-origin-when-cross-origin"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
}

/// How an `Origin` header names an opaque origin.
const OPAQUE_ORIGIN: &str = "null";

/// Middleware: a state-changing request to the site (a server function, a form post) must come
/// from a page of the site itself. SameSite=Lax cookies already keep most cross-site posts
/// unauthenticated; this also covers the login form (login CSRF) and browsers or proxies that
/// mishandle SameSite. Evidence, in order: `Origin`, `Sec-Fetch-Site`, `Referer`; a request
/// with none of them is refused. `POST /token` and the Bearer API carry no cookies and are
/// not checked.
///
/// `Origin: null` (an opaque origin) is no evidence either way: browsers send it for a form
/// posted from a page that sends no `Referer` (the mailed-link pages, so that their token never
/// leaves them), and from sandboxed frames. `Sec-Fetch-Site`, which no page can set, tells the
/// two apart: `same-origin` for the first, `cross-site` for a frame on another site.
pub async fn same_origin_only(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || request.uri().path() == "/token" {
        return next.run(request).await;
    }
    let origin = state.public_url.origin();
    let headers = request.headers();
    let text = |name| {
        headers
            .get(name)
            .and_then(|value: &HeaderValue| value.to_str().ok())
    };
    let verdict = if let Some(sent) = text(header::ORIGIN).filter(|sent| *sent != OPAQUE_ORIGIN) {
        Some((sent == origin, sent.to_owned()))
    } else if let Some(site) = text(header::HeaderName::from_static("sec-fetch-site")) {
        Some((site == "same-origin", format!("a {site} page")))
    } else {
        text(header::REFERER).map(|referer| {
            (
                referer == origin || referer.starts_with(&format!("{origin}/")),
                referer.to_owned(),
            )
        })
    };
    match verdict {
        Some((true, _)) => next.run(request).await,
        Some((false, from)) => {
            tracing::warn!(
                from,
                expected = origin,
                path = request.uri().path(),
                "cross-origin request refused"
            );
            forbidden(&format!(
                "This request came from {from}, not from {origin}. If you opened the site at another address, \
                 use {origin} (the site's --public-url)."
            ))
        }
        None => forbidden(
            "This request did not say which page it came from, so it was refused. Submit the form from the site itself.",
        ),
    }
}

/// Middleware: a state-changing request to a server function (under `/api/`) must be a `POST`
/// of an urlencoded form, the only encoding Gatehouse's server functions are written for. A
/// `text/plain` body (what a cross-site form can send without a preflight) or JSON never
/// reaches them: 415, or 405 for other methods.
pub async fn form_posts_only(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    if matches!(method, Method::GET | Method::HEAD | Method::OPTIONS)
        || !request.uri().path().starts_with("/api/")
    {
        return next.run(request).await;
    }
    if method != Method::POST {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "POST"), (header::CACHE_CONTROL, "no-store")],
            "Use POST.",
        )
            .into_response();
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return next.run(request).await;
    }
    (
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        [
            (header::ACCEPT, "application/x-www-form-urlencoded"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        "Send this request as a form (Content-Type: application/x-www-form-urlencoded).",
    )
        .into_response()
}

fn forbidden(message: &str) -> Response {
    (
        StatusCode::FORBIDDEN,
        [(header::CACHE_CONTROL, "no-store")],
        message.to_owned(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_policy_allows_the_nonce_and_wasm_and_forbids_framing_objects_and_base() {
        let policy = page_policy("abc");
        for directive in [
            "'nonce-abc'",
            "'wasm-unsafe-eval'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(policy.contains(directive), "{directive} in {policy}");
        }
        assert!(
            !policy.contains("'unsafe-inline'") && !policy.contains(" 'unsafe-eval'"),
            "{policy}"
        );
    }

    #[test]
    fn the_nonce_is_read_back_from_the_policy_it_was_written_into() {
        let policy = page_policy_header("Zm9vYmFy-_x").unwrap();
        assert_eq!(nonce_in_page_policy(&policy), Some("Zm9vYmFy-_x"));
        assert_eq!(
            nonce_in_page_policy(&HeaderValue::from_static(NON_PAGE_POLICY)),
            None
        );
    }
}
