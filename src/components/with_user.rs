//! Renders a page for the signed-in user, or sends a visitor to the login page.
//!
//! This is for the person's experience in the hydrated app (client-side navigation). Security
//! is decided on the server, which redirects before rendering and refuses the server functions.

use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_location;

use crate::api::UserSummary;
use crate::components::session::use_session;
use crate::error::AppError;

/// Shows `page(user)` once the user is known; a visitor is redirected to
/// `/login?next=<this page>`, a person whose account was disabled with the reason too.
#[component]
pub fn WithUser<F, V>(page: F) -> impl IntoView
where
    F: Fn(UserSummary) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let session = use_session();
    let location = use_location();
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || {
                let page = page.clone();
                Suspend::new(async move {
                    match session.user.await {
                        Ok(Some(user)) => page(user).into_any(),
                        Ok(None) => {
                            let next = location.pathname.get_untracked();
                            view! { <Redirect path=format!("/login?next={next}")/> }.into_any()
                        }
                        // Sent on with the same notice a page load gets from the server.
                        Err(AppError::AccountDisabled) => {
                            let next = location.pathname.get_untracked();
                            view! { <Redirect path=format!("/login?next={next}&reason=account_disabled")/> }.into_any()
                        }
                        Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}
