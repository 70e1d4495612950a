//! Pages rendered once and answered again from memory.
//!
//! Rendering a page with Leptos costs about a hundred microseconds (the reactive owner tree,
//! the router, the resources, the HTML), twenty times what the rest of a request costs. Some
//! pages render from nothing but their address, the caller's [`UserSummary`] and the site's
//! settings (the route table marks them, [`crate::routes::Page::cacheable`]): the sign-in page
//! is the same for every visitor, a person's dashboard the same on every visit of one session.
//! Such a page is kept here under exactly those inputs, its path and the summary, and the next
//! identical request is answered with the kept HTML.
//!
//! Only a page asked for without a query is kept (`/login`, not `/login?next=...`): a query is
//! chosen by whoever wrote the link, so keeping those would let anyone fill the cache with
//! pages nobody else asks for, and would let a visitor time whether someone else recently
//! followed a given link. A page with a query is rendered each time, as before.
//!
//! Nothing about who may see a page is decided from here: this layer runs after the caller has
//! been identified and the page's guard has admitted them, on every request, so a session
//! ended or a user disabled a moment ago is sent to the sign-in page as before. A change to the
//! user (a new name, an administrator's rights) changes the summary, hence the key: a page is
//! never shown from stale inputs, and one person's page never answers another's request.
//!
//! What differs between two renders of the same page is the script nonce of its content
//! security policy, fresh for every response: a kept page is stored cut where its nonce was,
//! and each answer is joined with a new nonce, which its policy header names.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use leptos::nonce::Nonce;
use prometheus_client::metrics::counter::Counter;
use quick_cache::Weighter;
use quick_cache::sync::{Cache, DefaultLifecycle};

use crate::api::UserSummary;
use crate::routes::cacheable_page;
use crate::server::auth::current_user::{Caller, summary_of};
use crate::server::errors::internal;
use crate::server::security::{nonce_in_page_policy, page_policy_header};
use crate::server::state::AppState;

/// Bytes of HTML kept at most, all pages together (a page is a few kilobytes).
const CAPACITY_BYTES: u64 = 8 * 1024 * 1024;
/// Pages expected to fit, for sizing the table.
const EXPECTED_PAGES: usize = 2_000;

/// The rendered pages this instance keeps, by what they were rendered from.
pub struct RenderedPages {
    pages: Cache<PageKey, Arc<RenderedPage>, ByLength, foldhash::fast::RandomState>,
    /// Answers from memory, for the metrics.
    hits: Counter,
    /// Pages rendered and kept.
    misses: Counter,
}

impl std::fmt::Debug for RenderedPages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RenderedPages")
            .field("pages", &self.pages.len())
            .finish_non_exhaustive()
    }
}

impl Default for RenderedPages {
    fn default() -> Self {
        Self {
            pages: Cache::with(
                EXPECTED_PAGES,
                CAPACITY_BYTES,
                ByLength,
                foldhash::fast::RandomState::default(),
                DefaultLifecycle::default(),
            ),
            hits: Counter::default(),
            misses: Counter::default(),
        }
    }
}

impl RenderedPages {
    /// The hit and miss counters, for `gatehouse_page_cache_hits` and `_misses`.
    pub fn counters(&self) -> (Counter, Counter) {
        (self.hits.clone(), self.misses.clone())
    }
}

/// All a cacheable page is rendered from, besides the settings (fixed while the server runs).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PageKey {
    /// The page's path, from the route table.
    path: &'static str,
    /// Who asked: `None` for a visitor.
    user: Option<UserSummary>,
}

/// A page as Leptos answered it, cut where its nonce was.
#[derive(Debug)]
struct RenderedPage {
    /// The answer's headers but its policy, which names each answer's own nonce.
    headers: HeaderMap,
    /// The HTML before, between and after the nonce's occurrences.
    pieces: Box<[Box<str>]>,
    /// The HTML's length without the nonces.
    length: usize,
}

/// Weighs a kept page by its HTML's length, so that the limit is in bytes.
#[derive(Debug, Clone, Copy)]
struct ByLength;

impl Weighter<PageKey, Arc<RenderedPage>> for ByLength {
    fn weight(&self, key: &PageKey, page: &Arc<RenderedPage>) -> u64 {
        (key.path.len() + page.length) as u64
    }
}

impl RenderedPage {
    /// Keeps `html`, rendered with `nonce`; `None` when the HTML is not text.
    fn cut(headers: HeaderMap, html: &[u8], nonce: &str) -> Option<Self> {
        let html = std::str::from_utf8(html).ok()?;
        let pieces: Box<[Box<str>]> = html.split(nonce).map(Box::from).collect();
        let length = pieces.iter().map(|piece| piece.len()).sum();
        Some(Self {
            headers,
            pieces,
            length,
        })
    }

    /// The page again, with `nonce` wherever the rendered one was.
    fn join(&self, nonce: &str) -> String {
        let mut html = String::with_capacity(self.length + nonce.len() * self.pieces.len());
        for (index, piece) in self.pieces.iter().enumerate() {
            if index > 0 {
                html.push_str(nonce);
            }
            html.push_str(piece);
        }
        html
    }

    /// The answer to one more request for this page, with a nonce of its own.
    fn answer(&self) -> Response {
        let nonce = Nonce::new().to_string();
        let mut response = Response::new(Body::from(self.join(&nonce)));
        *response.headers_mut() = self.headers.clone();
        if let Some(policy) = page_policy_header(&nonce) {
            response
                .headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, policy);
        }
        response
    }
}

/// Middleware, after the guard: answers a cacheable page from memory when it was rendered
/// before for the same path and caller, else renders it and keeps it when it came out
/// whole (200, no cookie set, a nonce in its policy).
pub async fn kept_pages(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(key) = key_of(&request) else {
        return next.run(request).await;
    };
    let kept = &state.rendered_pages;
    if let Some(page) = kept.pages.get(&key) {
        kept.hits.inc();
        return page.answer();
    }
    let response = next.run(request).await;
    let nonce = response
        .headers()
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(nonce_in_page_policy)
        .map(str::to_owned);
    let (Some(nonce), StatusCode::OK, false) = (
        nonce,
        response.status(),
        response.headers().contains_key(header::SET_COOKIE),
    ) else {
        return response;
    };
    let (parts, body) = response.into_parts();
    let html = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(html) => html,
        Err(error) => {
            return (StatusCode::INTERNAL_SERVER_ERROR, internal(error).to_string()).into_response();
        }
    };
    let mut headers = parts.headers.clone();
    headers.remove(header::CONTENT_SECURITY_POLICY);
    headers.remove(header::CONTENT_LENGTH);
    if let Some(page) = RenderedPage::cut(headers, &html, &nonce) {
        kept.misses.inc();
        kept.pages.insert(key, Arc::new(page));
    }
    Response::from_parts(parts, Body::from(html))
}

/// What `request` would be rendered from, when it asks for a cacheable page.
fn key_of(request: &Request) -> Option<PageKey> {
    if request.method() != Method::GET || request.uri().query().is_some() {
        return None;
    }
    let path = cacheable_page(request.uri().path())?;
    let caller = request.extensions().get::<Caller>()?;
    // A disabled account's session gets the page's notice, rendered each time.
    let user = summary_of(caller).ok()?;
    Some(PageKey { path, user })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_occurrence_of_the_nonce_is_replaced_and_nothing_else() {
        let page = RenderedPage::cut(
            HeaderMap::new(),
            br#"<script nonce="N0nce">a</script><p>N0n</p><script nonce="N0nce">b</script>"#,
            "N0nce",
        )
        .unwrap();
        assert_eq!(
            page.join("fresh"),
            r#"<script nonce="fresh">a</script><p>N0n</p><script nonce="fresh">b</script>"#
        );
        assert_eq!(page.length, page.join("").len());
    }

    fn request(address: &str, method: Method) -> Request {
        let mut request = Request::builder()
            .method(method)
            .uri(address)
            .body(Body::empty())
            .unwrap();
        request.extensions_mut().insert(Caller::Visitor);
        request
    }

    #[test]
    fn only_a_cacheable_page_asked_for_without_a_query_is_kept() {
        let key = key_of(&request("/login", Method::GET)).unwrap();
        assert_eq!((key.path, key.user), ("/login", None));
        for (address, method) in [
            ("/login?next=/profile", Method::GET),
            ("/login?", Method::GET),
            ("/login", Method::HEAD),
            ("/profile", Method::GET),
            ("/login/", Method::GET),
            ("/api/users/me", Method::GET),
        ] {
            assert!(
                key_of(&request(address, method.clone())).is_none(),
                "{method} {address}"
            );
        }
        let mut disabled = request("/dashboard", Method::GET);
        disabled.extensions_mut().insert(Caller::Disabled);
        assert!(
            key_of(&disabled).is_none(),
            "a disabled account's page is rendered each time"
        );
    }

    #[test]
    fn each_answer_has_a_nonce_of_its_own_named_by_its_policy() {
        let page = RenderedPage::cut(HeaderMap::new(), br#"<script nonce="old"></script>"#, "old").unwrap();
        let mut nonces = std::collections::HashSet::new();
        for _ in 0..3 {
            let answer = page.answer();
            let nonce = nonce_in_page_policy(&answer.headers()[header::CONTENT_SECURITY_POLICY])
                .unwrap()
                .to_owned();
            assert_eq!(nonce.len(), 22, "128 bits in base64: {nonce}");
            assert!(nonces.insert(nonce), "a nonce is never reused");
        }
    }
}
