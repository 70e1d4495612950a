//! `/`: what this site is.

use leptos::prelude::*;
use leptos_meta::Title;

/// The front page.
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="Welcome"/>
        <section class="card">
            <h1>"Gatehouse"</h1>
            <p>
                "Gatehouse keeps the door to this site: people sign in with a password, programs use "
                "the same accounts through OAuth2 bearer tokens."
            </p>
            <p>
                "Accounts are managed from the command line with "
                <code>"gatehouse user add"</code> " and its sibling commands."
            </p>
        </section>
    }
}
