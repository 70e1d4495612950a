//! What the pages that mailed links open (`/reset-password`, `/verify-email`) share: no
//! `Referer` leaves them (their address holds a live token), and one way to say why a link
//! does nothing.

use leptos::prelude::*;

use crate::api::LinkState;
use crate::error::{AppError, Problem};

/// Asks that this page's address (with its token) is never sent as a `Referer`, whatever the
/// page links to. The site's default policy already keeps it from other sites; this keeps it
/// out of every request.
pub fn no_referrer() {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(
            axum::http::header::REFERRER_POLICY,
            axum::http::HeaderValue::from_static("no-referrer"),
        );
    }
}

/// Why a link does nothing, in the site's fixed words; the page answers 410 (Gone) for a link
/// that once worked, 404 for one that never did.
#[component]
pub fn DeadLink(state: LinkState) -> impl IntoView {
    let (problem, gone) = match state {
        LinkState::Used => (Problem::LinkUsed, true),
        LinkState::Replaced => (Problem::LinkReplaced, true),
        LinkState::Expired => (Problem::LinkExpired, true),
        LinkState::Invalid | LinkState::Ready { .. } => (Problem::LinkInvalid, false),
    };
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(if gone {
            axum::http::StatusCode::GONE
        } else {
            axum::http::StatusCode::NOT_FOUND
        });
    }
    #[cfg(not(feature = "ssr"))]
    let _ = gone;
    view! { <p class="form-error" role="alert">{AppError::Invalid(problem).to_string()}</p> }
}
