//! The frame of every page: a header with the site name, then the page itself.

use leptos::prelude::*;
use leptos_router::components::A;

/// Wraps a page in the site header and the main landmark.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    view! {
        <header class="site-header">
            <A href="/" attr:class="brand">"Gatehouse"</A>
        </header>
        <main class="page">{children()}</main>
    }
}
