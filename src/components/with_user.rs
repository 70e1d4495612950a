//! Renders a page for the signed-in user, or sends a visitor to the login page, or tells a
//! non-administrator that an admin page is not for them (the route table decides which).
//!
//! The server's guard already redirects before rendering (and refuses the server functions);
//! this renders the page with the user it admitted, and says the same should a page ever be
//! rendered for someone the guard did not send away.

use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_location;
use leptos_router::location::Url;

use crate::api::UserSummary;
use crate::components::forbidden::Forbidden;
use crate::components::session::use_session;
use crate::error::AppError;
use crate::routes::access_of;

/// Shows `page(user)` once the user is known and the route table admits them here; a visitor
/// is redirected to `/login?next=<this page>`, a person whose account was disabled with the
/// reason too, a person with a temporary password goes to the page that replaces it, and a
/// signed-in person the page is not for sees the 403 notice.
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
                        Ok(Some(user)) if access_of(&location.pathname.get_untracked()).admits(Some(&user)) => {
                            page(user).into_any()
                        }
                        Ok(Some(user)) if user.must_change_password => {
                            view! { <Redirect path="/password"/> }.into_any()
                        }
                        Ok(Some(_)) => view! { <Forbidden/> }.into_any(),
                        Ok(None) => {
                            let next = Url::escape(&location.pathname.get_untracked());
                            view! { <Redirect path=format!("/login?next={next}")/> }.into_any()
                        }
                        // Sent on with the same notice a page load gets from the server.
                        Err(AppError::AccountDisabled) => {
                            let next = Url::escape(&location.pathname.get_untracked());
                            view! { <Redirect path=format!("/login?next={next}&reason=account_disabled")/> }.into_any()
                        }
                        Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}
