//! `/setup?token=...`: creates the first administrator, from the link start-up logs while the
//! store has none. "Not found" once an administrator exists.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::{CompleteSetup, SetupState, setup_link_state};
use crate::components::island::count_when_alive;
use crate::error::{AppError, Problem};
use crate::pages::not_found::NotFound;

/// The setup page.
#[component]
pub fn SetupPage() -> impl IntoView {
    let token = use_query_map().read_untracked().get("token").unwrap_or_default();
    let link = Resource::new(
        {
            let token = token.clone();
            move || token.clone()
        },
        setup_link_state,
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || {
                let token = token.clone();
                Suspend::new(async move {
                    match link.await {
                        Ok(SetupState::Ready) => view! {
                            <Title text="Set up Gatehouse"/>
                            <section class="card auth-card">
                                <h1>"Set up Gatehouse"</h1>
                                <p class="lead">"Create the first administrator. You will be signed in as them, and can then add everyone else."</p>
                                <SetupForm token/>
                            </section>
                        }.into_any(),
                        Ok(SetupState::Done) => view! { <NotFound/> }.into_any(),
                        Ok(SetupState::LinkInvalid) => {
                            #[cfg(feature = "ssr")]
                            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                                response.set_status(axum::http::StatusCode::FORBIDDEN);
                            }
                            view! {
                                <Title text="Set up Gatehouse"/>
                                <section class="card auth-card">
                                    <h1>"Set up Gatehouse"</h1>
                                    <p class="form-error" role="alert">{AppError::Invalid(Problem::SetupLinkInvalid).to_string()}</p>
                                </section>
                            }.into_any()
                        }
                        Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// The first administrator's details, sent with the setup link's `token`. An island, loaded on
/// demand.
#[island(lazy)]
fn SetupForm(token: String) -> impl IntoView {
    count_when_alive();
    let action = ServerAction::<CompleteSetup>::new();
    let pending = action.pending();
    view! {
        <ActionForm action=action attr:class="form">
            <input type="hidden" name="token" value=token/>
            <div class="field">
                <label for="setup-username">"Username"</label>
                <input id="setup-username" name="username" autocomplete="username" required minlength="3" maxlength="32"
                    pattern="[A-Za-z0-9][A-Za-z0-9._\\-]*" aria-describedby="setup-username-rules"/>
                <p id="setup-username-rules" class="hint">"3 to 32 letters, digits, '.', '_' or '-'."</p>
            </div>
            <div class="field">
                <label for="setup-full-name">"Full name (optional)"</label>
                <input id="setup-full-name" name="full_name" autocomplete="name" maxlength="100"/>
            </div>
            <div class="field">
                <label for="setup-email">"E-mail (optional)"</label>
                <input id="setup-email" name="email" type="email" autocomplete="email"/>
            </div>
            <div class="field">
                <label for="setup-password">"Password"</label>
                <input id="setup-password" name="new_password" type="password" autocomplete="new-password" required
                    minlength="8" maxlength="1024" aria-describedby="setup-password-rules"/>
                <p id="setup-password-rules" class="hint">"At least 8 characters. Long passphrases are welcome; common passwords are refused."</p>
            </div>
            <div class="field">
                <label for="setup-confirm">"Repeat the password"</label>
                <input id="setup-confirm" name="confirm_password" type="password" autocomplete="new-password" required/>
            </div>
            <p class="form-status" aria-live="polite">
                {move || action.value().get().and_then(Result::err).map(|error| view! {
                    <span class="form-error">{error.to_string()}</span>
                })}
            </p>
            <button type="submit" class="button wide" disabled=pending>
                {move || if pending.get() { "Creating…" } else { "Create administrator" }}
            </button>
        </ActionForm>
    }
}
