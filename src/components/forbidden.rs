//! The notice a signed-in person gets on a page that is not for them (status 403, set by the
//! server's guard), with a way home: never a redirect, which would loop between the page and
//! the login page that sends them back.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// "You need administrator rights", with a link home.
#[component]
pub fn Forbidden() -> impl IntoView {
    view! {
        <Title text="Not allowed"/>
        <section class="card not-found">
            <p class="status-code" aria-hidden="true">"403"</p>
            <h1>"You need administrator rights"</h1>
            <p>"This page is for the site's administrators. If you need access, ask one of them."</p>
            <p class="actions">
                <A href="/dashboard" attr:class="button">"Go to your dashboard"</A>
            </p>
        </section>
    }
}
