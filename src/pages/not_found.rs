//! The page for every path no route claims, answered with status 404.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_location};

use crate::components::island::count_when_alive;

/// Tells the visitor that nothing lives at the path they asked for and offers a way out.
#[component]
pub fn NotFound() -> impl IntoView {
    // Only the server sets the status; in the browser the page is already delivered.
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    let path = use_location().pathname.get_untracked();

    view! {
        <Title text="Page not found"/>
        <section class="card not-found">
            <p class="status-code" aria-hidden="true">"404"</p>
            <h1>"Page not found"</h1>
            <p>"There is no page at " <code>{path}</code> "."</p>
            <p class="actions">
                <GoBack/>
                <A href="/" attr:class="button">"Go to the home page"</A>
            </p>
        </section>
    }
}

/// "Go back" needs the browser's history, so it stays disabled until its island is hydrated
/// (effects run only in the browser) instead of being a button that silently does nothing.
#[island]
fn GoBack() -> impl IntoView {
    count_when_alive();
    let interactive = RwSignal::new(false);
    Effect::new(move || interactive.set(true));
    let go_back = move |_| {
        if let Ok(history) = window().history() {
            let _ = history.back();
        }
    };
    view! {
        <button type="button" class="button secondary" disabled=move || !interactive.get() on:click=go_back>
            "Go back"
        </button>
    }
}
