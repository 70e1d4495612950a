//! `/signup`, only with `--allow-signup` (otherwise "not found"): a username, an address and
//! a password. The account is created when the link mailed to the address is followed. The
//! answer never says whether the name or the address is taken; the mail does.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::api::{SignUp, signup_open};
use crate::components::failure;
use crate::components::island::count_when_alive;
use crate::pages::not_found::NotFound;

/// The sign-up page.
#[component]
pub fn SignupPage() -> impl IntoView {
    let open = Resource::new(|| (), |()| signup_open());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match open.await {
                    Ok(true) => view! { <SignupCard/> }.into_any(),
                    Ok(false) => view! { <NotFound/> }.into_any(),
                    Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SignupCard() -> impl IntoView {
    // After the plain form post's redirect, which does not name the address.
    let sent = use_query_map().read_untracked().get("sent").is_some();
    view! {
        <Title text="Create an account"/>
        <section class="card auth-card">
            <h1>"Create an account"</h1>
            <SignupForm sent/>
            <p class="aside">"Already have an account? " <A href="/login">"Sign in"</A></p>
        </section>
    }
}

/// The sign-up form, or (`sent`, or once sent) where the link went. An island, loaded on demand.
#[island(lazy)]
fn SignupForm(sent: bool) -> impl IntoView {
    count_when_alive();
    let action = ServerAction::<SignUp>::new();
    let pending = action.pending();
    let sent_to = move || action.value().get().and_then(Result::ok);
    // After the hydrated call (which knows the address), or the plain form post's redirect.
    let sent = move || sent || sent_to().is_some();
    view! {
        <Show
            when=sent
            fallback=move || view! {
                <p class="lead">"We mail you a link: the account is ready once you follow it."</p>
                <ActionForm action=action attr:class="form">
                    <div class="field">
                        <label for="signup-username">"Username"</label>
                        <input id="signup-username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false"
                            required minlength="3" maxlength="32" pattern="[A-Za-z0-9][A-Za-z0-9._\\-]*" aria-describedby="signup-username-rules"/>
                        <p id="signup-username-rules" class="hint">"3 to 32 letters, digits, '.', '_' or '-'."</p>
                    </div>
                    <div class="field">
                        <label for="signup-email">"E-mail address"</label>
                        <input id="signup-email" name="email" type="email" autocomplete="email" required/>
                    </div>
                    <div class="field">
                        <label for="signup-password">"Password"</label>
                        <input id="signup-password" name="new_password" type="password" autocomplete="new-password" required
                            minlength="8" maxlength="1024" aria-describedby="signup-password-rules"/>
                        <p id="signup-password-rules" class="hint">"At least 8 characters. Long passphrases are welcome; common passwords are refused."</p>
                    </div>
                    <div class="field">
                        <label for="signup-confirm">"Repeat the password"</label>
                        <input id="signup-confirm" name="confirm_password" type="password" autocomplete="new-password" required/>
                    </div>
                    <p class="form-error" aria-live="assertive">
                        {move || failure(action.value().get())}
                    </p>
                    <button type="submit" class="button wide" disabled=pending>
                        {move || if pending.get() { "Sending…" } else { "Create account" }}
                    </button>
                </ActionForm>
            }
        >
            <p class="notice" role="status">
                {move || format!(
                    "Check your mail: we sent a message to {}. Follow the link in it to finish. Nothing arrived? Check your spam folder.",
                    sent_to().unwrap_or_else(|| "the address you gave".to_owned())
                )}
            </p>
        </Show>
    }
}
