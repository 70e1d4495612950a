//! `AppState`: what every request handler and server function can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::server::auth::cookies::AuthCookies;
use crate::server::auth::jwt::AccessTokens;
use crate::server::auth::{password::Passwords, signing_key::SigningKey};
use crate::server::clock::Clock;
use crate::server::config::{PublicUrl, Settings};
use crate::server::store::Store;

/// Shared, cheaply cloned state of one running application.
#[derive(Clone, Debug)]
pub struct AppState {
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
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
