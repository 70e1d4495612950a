//! `/verify-email?token=...`: the page an address link opens (a new or unconfirmed address of
//! an account, or a sign-up's). Confirming is a button, not the visit: mail scanners that
//! open every link must not spend it. Afterwards the page goes on (to the profile or the
//! sign-in page), and it sends no `Referer`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::api::{LinkState, VerifyEmail, email_link_state};
use crate::components::failure;
use crate::components::island::count_when_alive;
use crate::components::link_page::{DeadLink, no_referrer};

/// The address confirmation page.
#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    no_referrer();
    // Read once, by the server: the page is never rendered in the browser.
    let token = use_query_map().read_untracked().get("token").unwrap_or_default();
    let link = Resource::new(
        {
            let token = token.clone();
            move || token.clone()
        },
        email_link_state,
    );
    view! {
        <Title text="Confirm your e-mail address"/>
        <section class="card auth-card">
            <h1>"Confirm your e-mail address"</h1>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || {
                    let token = token.clone();
                    Suspend::new(async move {
                        match link.await {
                            Ok(LinkState::Ready { username, email, signup }) => {
                                view! { <ConfirmForm token username email signup/> }.into_any()
                            }
                            Ok(state) => view! {
                                <DeadLink state/>
                                <p class="aside">
                                    "Signed in? Your profile can send a new link. Signing up? "
                                    <A href="/signup">"Start again"</A>"."
                                </p>
                            }.into_any(),
                            Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}

/// The confirming button for `email`, sent with the link's `token`. An island, loaded on demand.
#[island(lazy)]
fn ConfirmForm(token: String, username: String, email: String, signup: bool) -> impl IntoView {
    count_when_alive();
    let action = ServerAction::<VerifyEmail>::new();
    let pending = action.pending();
    let lead = if signup {
        format!("Confirm {email} to create the account {username}.")
    } else {
        format!("Confirm {email} as the address of the account {username}.")
    };
    view! {
        <p class="lead">{lead}</p>
        <ActionForm action=action attr:class="form">
            <input type="hidden" name="token" value=token/>
            <p class="form-error" aria-live="assertive">
                {move || failure(action.value().get())}
            </p>
            <button type="submit" class="button wide" disabled=pending>
                {move || match (pending.get(), signup) {
                    (true, _) => "Confirming…",
                    (false, true) => "Confirm and create my account",
                    (false, false) => "Confirm this address",
                }}
            </button>
        </ActionForm>
    }
}
