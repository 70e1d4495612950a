//! `/login`: the sign-in form.
//!
//! A plain form post to the `login` server function, so it works without JavaScript (the server
//! answers 303 to the next page, or back here with the error); hydrated, the same form submits
//! in the background and shows the error without a page load.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::Login;
use crate::error::AppError;

/// The sign-in page.
#[component]
pub fn LoginPage() -> impl IntoView {
    // Created here, inside the routes, so that after a failed plain form post it picks up
    // the error the server put in the URL and the page shows it without JavaScript.
    let login = ServerAction::<Login>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let account_disabled = move || query.read().get("reason").as_deref() == Some("account_disabled");
    let pending = login.pending();
    let error = move || {
        login
            .value()
            .get()
            .and_then(Result::err)
            .map(|error| error.to_string())
    };

    view! {
        <Title text="Sign in"/>
        <section class="card auth-card">
            <h1>"Sign in"</h1>
            <p class="lead">"Use your Gatehouse account to continue."</p>
            <Show when=account_disabled>
                <p class="notice" role="status">{AppError::AccountDisabled.to_string()}</p>
            </Show>
            <ActionForm action=login attr:class="form" attr:aria-describedby="login-error">
                <input type="hidden" name="next" value=next/>
                <div class="field">
                    <label for="username">"Username"</label>
                    <input
                        id="username"
                        name="username"
                        type="text"
                        autocomplete="username"
                        autocapitalize="none"
                        spellcheck="false"
                        required
                        autofocus
                    />
                </div>
                <div class="field">
                    <label for="password">"Password"</label>
                    <input id="password" name="password" type="password" autocomplete="current-password" required/>
                </div>
                <label class="checkbox">
                    <input type="checkbox" name="remember" value="on"/>
                    "Keep me signed in on this device"
                </label>
                <p id="login-error" class="form-error" aria-live="assertive">{error}</p>
                <button type="submit" class="button wide" disabled=pending aria-busy=move || pending.get().to_string()>
                    {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
        </section>
    }
}
