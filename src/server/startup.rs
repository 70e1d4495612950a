//! Start-up: from [`Settings`] to a bound listener and the router. `main` and the integration
//! tests build the application the same way (tests pass port 0).

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{delete, get, post};
use axum_server::tls_rustls::RustlsConfig;
use leptos::config::get_configuration;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, file_and_error_handler_with_context, generate_route_list};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_cookies::CookieManagerLayer;

use crate::app::{App, shell};
use crate::server::auth::access::guard;
use crate::server::auth::cookies::AuthCookies;
use crate::server::auth::current_user::identify_caller;
use crate::server::auth::jwt::AccessTokens;
use crate::server::auth::password::Passwords;
use crate::server::auth::signing_key::SigningKey;
use crate::server::bundle::BrowserBundle;
use crate::server::clock::Clock;
use crate::server::config::{PublicUrl, Settings, TlsFiles};
use crate::server::edge::{Edge, REQUEST_TIMEOUT};
use crate::server::errors::server_function_errors;
use crate::server::files::create_private_dir;
use crate::server::mail::Mailer;
use crate::server::metrics::{self, Metrics};
use crate::server::page_cache::{RenderedPages, kept_pages};
use crate::server::passkeys::RelyingParty;
use crate::server::security::{form_posts_only, same_origin_only};
use crate::server::state::{AppState, Shared};
use crate::server::store::Store;
use crate::server::{admin, demo, health, oauth, setup};

/// A built application: listening, not yet serving.
pub struct Application {
    listener: TcpListener,
    /// `--metrics-addr`, when given.
    metrics_listener: Option<TcpListener>,
    router: Router,
    state: AppState,
    /// Certificate and key when serving HTTPS directly (`--tls-cert`, `--tls-key`).
    tls: Option<RustlsConfig>,
    /// The first-run setup link logged at start, while the store has no administrator.
    setup_link: Option<String>,
}

impl Application {
    /// Binds the address, loads or generates the signing key, opens and migrates the store and
    /// assembles the router. Checks run cheapest first, so bad input fails before anything is
    /// written.
    ///
    /// # Errors
    /// Any of those steps failed; the message says which and what to do.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        if settings.demo {
            demo::check_address(settings.addr)?;
        }
        settings.clock.check_address(settings.addr)?;
        let listener = bind(settings.addr, "--addr").await?;
        let metrics_listener = match settings.metrics_addr {
            Some(addr) => Some(bind(addr, "--metrics-addr").await?),
            None => None,
        };
        let addr = listener
            .local_addr()
            .context("Failed to read the bound address")?;
        let tls = match &settings.tls {
            Some(files) => Some(load_tls(files).await?),
            None => None,
        };

        create_private_dir(&settings.store.data_dir)?;
        let signing_key = SigningKey::load_or_generate(&settings.store.key_file)?;
        let store = Store::open(&settings.store)
            .await?
            .with_clock(settings.clock.clone());
        let passwords = Passwords::new();
        let mailer = Mailer::new(&settings.mail)?;
        if settings.demo {
            demo::seed_users(&store, &passwords).await?;
        }

        let mut leptos_options = get_configuration(None)
            .context("Failed to read the Leptos settings")?
            .leptos_options;
        leptos_options.site_addr = addr;
        let bundle = BrowserBundle::find(&leptos_options);
        leptos_options.site_pkg_dir = bundle.site_pkg_dir().into();
        let public_url = settings
            .public_url
            .clone()
            .unwrap_or_else(|| PublicUrl::for_addr(addr, tls.is_some()));
        let rendered_pages = RenderedPages::default();
        let metrics = metrics_listener.is_some().then(|| {
            Arc::new(Metrics::new(
                store.session_cache_counters(),
                rendered_pages.counters(),
            ))
        });
        let passkeys = RelyingParty::for_site(&public_url, &settings.mail.site_name)?.map(Arc::new);
        if passkeys.is_none() {
            tracing::info!(
                public_url = public_url.origin(),
                "passkeys are off: browsers refuse them on an IP address; set --public-url to a host name (http://localhost:PORT locally)"
            );
        }
        let state = AppState::new(Shared {
            leptos_options,
            tokens: Arc::new(AccessTokens::new(
                &signing_key,
                public_url.origin(),
                settings.access_ttl,
                settings.clock.clone(),
            )),
            clock: settings.clock.clone(),
            auth_cookies: AuthCookies::new(&public_url),
            public_url,
            store,
            passwords,
            signing_key: Arc::new(signing_key),
            settings: Arc::new(settings),
            mailer,
            metrics,
            passkeys,
            rendered_pages,
        });
        let setup_link = setup::offer_link(&state).await?;
        Ok(Self {
            listener,
            metrics_listener,
            router: router(state.clone(), &bundle)?,
            state,
            tls,
            setup_link,
        })
    }

    /// The address actually bound (the real port when the settings asked for port 0).
    pub fn addr(&self) -> SocketAddr {
        // Cannot fail: `build` already read it once from the same bound socket.
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The metrics address actually bound, when `--metrics-addr` was given.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|listener| listener.local_addr().ok())
    }

    pub fn setup_link(&self) -> Option<&str> {
        self.setup_link.as_deref()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGINT or SIGTERM, lets running requests finish, then closes the store.
    ///
    /// # Errors
    /// The server failed while running.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        tracing::info!(
            addr = %self.addr(),
            public_url = self.state.public_url.origin(),
            "Gatehouse is serving on {}://{}",
            if self.tls.is_some() { "https" } else { "http" },
            self.addr()
        );
        let purge = tokio::spawn(purge_periodically(
            self.state.store.clone(),
            self.state.clock.clone(),
            self.state.settings.audit_retention,
        ));
        let timer = tokio::spawn(keep_a_timer_due_before_the_request_timeout());
        let metrics = self.metrics_listener.map(|listener| {
            tracing::info!(addr = ?listener.local_addr().ok(), "serving metrics at /metrics");
            tokio::spawn(axum::serve(listener, metrics::router(self.state.clone())).into_future())
        });
        match self.tls {
            None => axum::serve(
                self.listener,
                Edge::new(&self.state, self.router).for_each_connection(),
            )
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("The server stopped with an error")?,
            Some(tls) => {
                let handle = axum_server::Handle::new();
                let stopping = handle.clone();
                tokio::spawn(async move {
                    shutdown_signal().await;
                    stopping.graceful_shutdown(Some(REQUEST_TIMEOUT));
                });
                let listener = self
                    .listener
                    .into_std()
                    .context("Failed to hand the listener to the TLS server")?;
                axum_server::from_tcp_rustls(listener, tls)
                    .context("Failed to start the TLS server")?
                    .handle(handle)
                    .serve(Edge::new(&self.state, self.router).for_each_connection())
                    .await
                    .context("The server stopped with an error")?;
            }
        }
        purge.abort();
        timer.abort();
        if let Some(metrics) = metrics {
            metrics.abort();
        }
        // A reset link asked for just before stopping still goes out.
        self.state.mailer.drain(MAIL_DRAIN_LIMIT).await;
        self.state.store.close().await;
        tracing::info!("Gatehouse stopped");
        Ok(())
    }
}

/// Listens on `addr`, given by `flag`; a taken address is explained in words.
async fn bind(addr: SocketAddr, flag: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|error| match error.kind() {
        std::io::ErrorKind::AddrInUse => {
            anyhow::anyhow!("{addr} is already in use by another program; choose another address with {flag}")
        }
        _ => anyhow::Error::new(error).context(format!("Failed to listen on {addr}")),
    })
}

/// Reads the certificate chain and key of `--tls-cert` and `--tls-key`.
async fn load_tls(files: &TlsFiles) -> anyhow::Result<RustlsConfig> {
    RustlsConfig::from_pem_file(&files.cert, &files.key)
        .await
        .map_err(|error| {
            anyhow::anyhow!(
                "cannot use {} and {} for TLS ({error}); give a PEM certificate chain and its PEM private key",
                files.cert.display(),
                files.key.display()
            )
        })
}

/// The routes: health, the Leptos pages and server functions, static files and a 404 page,
/// the site's behind the layers that identify the caller and guard the pages. What every
/// request passes through, routed or not, is [`Edge`]'s.
fn router(state: AppState, bundle: &BrowserBundle) -> anyhow::Result<Router> {
    let routes = generate_route_list(App);
    let openapi = oauth::openapi::OpenApiDocument::build()?;
    // Pages and server functions reach the state through Leptos' context.
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };

    // Each kind of route passes only through what it needs: a program's request carries no
    // cookies and renders no page, so it skips the site's layers. Layers are grouped in one
    // ServiceBuilder each (the first added sees the request first): every `Router::layer` call
    // boxes every route once more, and that boxing, not the middleware, was most of a cheap
    // request's cost.
    let for_programs = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/token", post(oauth::token::token))
        .route("/api/users/me", get(oauth::api::me))
        .route("/api/users/me/items", get(oauth::api::my_items))
        .route("/api/admin/users", get(admin::api::list).post(admin::api::create))
        .route(
            "/api/admin/users/{username}",
            get(admin::api::get_user)
                .patch(admin::api::change)
                .delete(admin::api::delete),
        )
        .route(
            "/api/admin/users/{username}/temporary-password",
            post(admin::api::temporary_password),
        )
        .route(
            "/api/admin/users/{username}/sessions",
            delete(admin::api::end_sessions),
        )
        .route(
            "/api/admin/users/{username}/two-step",
            delete(admin::api::reset_two_step),
        )
        .route("/openapi.json", get(move || std::future::ready(openapi)))
        .nest_service("/pkg", bundle.service());
    let for_browsers = Router::new()
        // The shell holds the state (one `Arc`), not the options: axum clones a route's handler
        // for every request, once per layer, and the options are a dozen strings.
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let state = state.clone();
            move || shell(state.leptos_options.clone())
        })
        .fallback(file_and_error_handler_with_context::<AppState, _>(context, shell))
        .layer(
            ServiceBuilder::new()
                .layer(CookieManagerLayer::new())
                .layer(from_fn_with_state(state.clone(), same_origin_only))
                .layer(from_fn(form_posts_only))
                .layer(from_fn_with_state(state.clone(), identify_caller))
                .layer(from_fn(server_function_errors))
                .layer(from_fn(guard))
                .layer(from_fn_with_state(state.clone(), kept_pages)),
        );
    let mut router = for_programs.merge(for_browsers);
    if let Some(metrics) = &state.metrics {
        // After routing: the metrics are labelled by the matched route.
        router = router.layer(from_fn_with_state(metrics.clone(), metrics::record_request));
    }
    Ok(router.with_state(state))
}

/// Wakes up every few seconds and does nothing, so that tokio's timer wheel always holds a
/// timer due before [`REQUEST_TIMEOUT`] ends. Why: each request's timeout is a timer, and tokio
/// wakes its driver (a write to an eventfd, a system call) whenever a new timer is due earlier
/// than the earliest it knew of when it last went idle. Requests end long before their timeout,
/// so without this the wheel was mostly empty and every request paid that wake-up (perf: one
/// `write` per request). With a timer always due sooner, a new request's timer never is the
/// earliest.
async fn keep_a_timer_due_before_the_request_timeout() {
    let mut every = tokio::time::interval(REQUEST_TIMEOUT / 3);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
    }
}

/// How long a stopping server waits for mail still being delivered.
const MAIL_DRAIN_LIMIT: std::time::Duration = std::time::Duration::from_secs(20);

/// How often ended sessions and spent refresh tokens are deleted.
const PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// Expired mailed links are kept this long, so that following one says "expired", not "unknown".
const EMAIL_LINKS_KEPT: time::Duration = time::Duration::DAY;

/// Keeps the store from growing without bound: deletes what can never be used again. A failed
/// round is logged and tried again at the next one.
async fn purge_periodically(store: Store, clock: Clock, audit_retention: std::time::Duration) {
    let mut every = tokio::time::interval(PURGE_EVERY);
    loop {
        every.tick().await;
        match store.purge(clock.now()).await {
            Ok((sessions, refresh_tokens)) => {
                tracing::info!(sessions, refresh_tokens, "purged ended sessions")
            }
            Err(error) => tracing::warn!(error = format!("{error:#}"), "purging ended sessions failed"),
        }
        match store.purge_email_links(clock.now() - EMAIL_LINKS_KEPT).await {
            Ok(0) => {}
            Ok(links) => tracing::info!(links, "purged expired mailed links"),
            Err(error) => tracing::warn!(error = format!("{error:#}"), "purging mailed links failed"),
        }
        match store.purge_second_steps(clock.now()).await {
            Ok(0) => {}
            Ok(steps) => tracing::info!(steps, "purged expired half-finished sign-ins"),
            Err(error) => tracing::warn!(
                error = format!("{error:#}"),
                "purging half-finished sign-ins failed"
            ),
        }
        match store.purge_passkey_ceremonies(clock.now()).await {
            Ok(0) => {}
            Ok(ceremonies) => tracing::info!(ceremonies, "purged expired passkey ceremonies"),
            Err(error) => tracing::warn!(error = format!("{error:#}"), "purging passkey ceremonies failed"),
        }
        match store.purge_audit_events(clock.now() - audit_retention).await {
            Ok(0) => {}
            Ok(events) => tracing::info!(events, "purged audit events past --audit-retention"),
            Err(error) => tracing::warn!(error = format!("{error:#}"), "purging the audit log failed"),
        }
    }
}

async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing the requests in flight");
}
