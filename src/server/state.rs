//! `AppState`: what every request handler and server function can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::server::auth::cookies::AuthCookies;
use crate::server::auth::jwt::AccessTokens;
use crate::server::auth::{password::Passwords, signing_key::SigningKey};
use crate::server::clock::Clock;
use crate::server::config::{PublicUrl, Settings};
use crate::server::mail::Mailer;
use crate::server::metrics::Metrics;
use crate::server::page_cache::RenderedPages;
use crate::server::passkeys::RelyingParty;
use crate::server::store::Store;

/// Shared state of one running application. Cloning it is one reference count: axum clones
/// the state for every middleware of every request.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] holds.
#[derive(Debug)]
pub struct Shared {
    pub leptos_options: LeptosOptions,
    pub store: Store,
    pub passwords: Passwords,
    pub signing_key: Arc<SigningKey>,
    /// Issues and checks access tokens with that key.
    pub tokens: Arc<AccessTokens>,
    pub auth_cookies: AuthCookies,
    pub settings: Arc<Settings>,
    /// The one source of "now" for every rule about time.
    pub clock: Clock,
    /// The configured public URL, or `http://` + the bound address.
    pub public_url: PublicUrl,
    /// Sends the site's mail in the background.
    pub mailer: Mailer,
    /// Counted only when `--metrics-addr` is set.
    pub metrics: Option<Arc<Metrics>>,
    /// The site as a WebAuthn relying party; `None` when it is reached by an IP address.
    pub passkeys: Option<Arc<RelyingParty>>,
    /// Pages rendered before, answered again from memory.
    pub rendered_pages: RenderedPages,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
