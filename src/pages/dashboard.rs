//! `/dashboard`: the protected home page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::api::UserSummary;
use crate::components::with_user::WithUser;

/// Greets the signed-in user by name.
#[component]
pub fn DashboardPage() -> impl IntoView {
    view! {
        <Title text="Dashboard"/>
        <WithUser page=|user: UserSummary| view! {
            <section class="card">
                <h1>"Welcome, " {user.display_name().to_owned()}</h1>
                <p>"You signed in on " {user.signed_in_at.clone()} "."</p>
                <p>"Your account details and password are on your " <A href="/profile">"profile"</A> "."</p>
            </section>
        }/>
    }
}
