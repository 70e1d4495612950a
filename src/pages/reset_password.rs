//! `/reset-password?token=...`: the page a reset link opens. The link is checked before the
//! form is shown; setting the password spends it and goes to the sign-in page, so the token
//! leaves the address bar, and the page sends no `Referer` (`Referrer-Policy: no-referrer`).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::api::{LinkState, ResetPassword, reset_link_state};
use crate::components::failure;
use crate::components::island::count_when_alive;
use crate::components::link_page::{DeadLink, no_referrer};

/// The reset page.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    no_referrer();
    // Read once, by the server: the page is never rendered in the browser.
    let token = use_query_map().read_untracked().get("token").unwrap_or_default();
    let link = Resource::new(
        {
            let token = token.clone();
            move || token.clone()
        },
        reset_link_state,
    );
    view! {
        <Title text="Choose a new password"/>
        <section class="card auth-card">
            <h1>"Choose a new password"</h1>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || {
                    let token = token.clone();
                    Suspend::new(async move {
                        match link.await {
                            Ok(LinkState::Ready { username, .. }) => view! { <ResetForm token username/> }.into_any(),
                            Ok(state) => view! {
                                <DeadLink state/>
                                <p class="aside"><A href="/forgot-password">"Ask for a new link"</A></p>
                            }.into_any(),
                            Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}

/// The new password for `username`'s account, sent with the link's `token`. An island, loaded on
/// demand.
#[island(lazy)]
fn ResetForm(token: String, username: String) -> impl IntoView {
    count_when_alive();
    let action = ServerAction::<ResetPassword>::new();
    let pending = action.pending();
    view! {
        <p class="lead">"For the account " <strong>{username.clone()}</strong> ". Every device signed in to it will be signed out."</p>
        <ActionForm action=action attr:class="form">
            <input type="hidden" name="token" value=token/>
            // For password managers: which account this new password belongs to.
            <input type="text" value=username autocomplete="username" hidden readonly aria-hidden="true"/>
            <div class="field">
                <label for="reset-password">"New password"</label>
                <input id="reset-password" name="new_password" type="password" autocomplete="new-password" required
                    minlength="8" maxlength="1024" aria-describedby="reset-password-rules" autofocus/>
                <p id="reset-password-rules" class="hint">"At least 8 characters. Long passphrases are welcome; common passwords are refused."</p>
            </div>
            <div class="field">
                <label for="reset-confirm">"Repeat the new password"</label>
                <input id="reset-confirm" name="confirm_password" type="password" autocomplete="new-password" required/>
            </div>
            <p class="form-error" aria-live="assertive">
                {move || failure(action.value().get())}
            </p>
            <button type="submit" class="button wide" disabled=pending>
                {move || if pending.get() { "Saving…" } else { "Set the new password" }}
            </button>
        </ActionForm>
    }
}
