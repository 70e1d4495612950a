//! `/login/code`: the second step of signing in, for an account with two-step sign-in. The
//! password step leads here (its right password is remembered for five minutes by a cookie of
//! this browser); the code finishes the sign-in.
//!
//! A plain form post to `finish_sign_in`, so it works without JavaScript too.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::api::FinishSignIn;
use crate::components::island::count_when_alive;
use crate::error::{AppError, Problem};

/// The code page.
#[component]
pub fn SecondStepPage() -> impl IntoView {
    view! {
        <Title text="Enter your code"/>
        <section class="card auth-card">
            <h1>"Two-step sign-in"</h1>
            <SecondStepForm/>
            <p class="aside"><A href="/login">"Start again"</A></p>
        </section>
    }
}

/// The code form, and the switch between an app's code and a recovery code. An island, loaded
/// on demand.
#[island(lazy)]
fn SecondStepForm() -> impl IntoView {
    count_when_alive();
    let finish = ServerAction::<FinishSignIn>::new();
    let recovery = RwSignal::new(false);
    let pending = finish.pending();
    let error = move || finish.value().get().and_then(Result::err);
    let expired = move || matches!(error(), Some(AppError::Invalid(Problem::SecondStepExpired)));

    view! {
        <ActionForm action=finish attr:class="form" attr:aria-describedby="code-error">
            <div class="field">
                <label for="code">
                    {move || if recovery.get() { "Enter one of your recovery codes" } else { "Enter the 6-digit code" }}
                </label>
                <p class="hint">
                    {move || if recovery.get() {
                        "A recovery code looks like abcd-efgh-jkmn. Each one works once."
                    } else {
                        "Open the authenticator app on your phone and type the code it shows for this site."
                    }}
                </p>
                <input
                    id="code"
                    name="code"
                    type="text"
                    autocomplete="one-time-code"
                    inputmode=move || if recovery.get() { "text" } else { "numeric" }
                    autocapitalize="none"
                    spellcheck="false"
                    maxlength="20"
                    required
                    autofocus
                />
            </div>
            <p id="code-error" class="form-error" aria-live="assertive">
                {move || error().map(|error| error.to_string())}
                {move || expired().then(|| view! { " " <a href="/login">"Sign in again"</a> })}
            </p>
            <button type="submit" class="button wide" disabled=pending aria-busy=move || pending.get().to_string()>
                {move || if pending.get() { "Checking…" } else { "Sign in" }}
            </button>
        </ActionForm>
        <p class="aside">
            <button type="button" class="link-button" on:click=move |_| recovery.update(|on| *on = !*on)>
                {move || if recovery.get() { "Use a code from the app instead" } else { "Lost your phone? Use a recovery code" }}
            </button>
        </p>
    }
}
