//! `/forgot-password`: asks for a reset link by username or e-mail address. The answer is the
//! same whether or not an account matches, so the page cannot be used to find accounts.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::api::ForgotPassword;
use crate::components::failure;
use crate::components::island::count_when_alive;

/// The forgotten-password page.
#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    // After the plain form post's redirect (`?sent=1`).
    let sent = use_query_map().read_untracked().get("sent").is_some();
    view! {
        <Title text="Forgot your password?"/>
        <section class="card auth-card">
            <h1>"Forgot your password?"</h1>
            <AskForLink sent/>
            <p class="aside"><A href="/login">"Back to sign in"</A></p>
        </section>
    }
}

/// The form, or (`sent`, or once sent) what happens next. An island, loaded on demand.
#[island(lazy)]
fn AskForLink(sent: bool) -> impl IntoView {
    count_when_alive();
    let action = ServerAction::<ForgotPassword>::new();
    let pending = action.pending();
    // After the plain form post's redirect, or the hydrated call.
    let sent = move || sent || matches!(action.value().get(), Some(Ok(())));
    view! {
        <Show
            when=sent
            fallback=move || view! {
                <p class="lead">"Type your username or your e-mail address. If an account matches, we mail it a link to choose a new password."</p>
                <ActionForm action=action attr:class="form">
                    <div class="field">
                        <label for="identifier">"Username or e-mail address"</label>
                        <input id="identifier" name="identifier" autocomplete="username" autocapitalize="none"
                            spellcheck="false" required maxlength="320" autofocus/>
                    </div>
                    <p class="form-error" aria-live="assertive">
                        {move || failure(action.value().get())}
                    </p>
                    <button type="submit" class="button wide" disabled=pending>
                        {move || if pending.get() { "Sending…" } else { "Send me a link" }}
                    </button>
                </ActionForm>
            }
        >
            <p class="notice" role="status">
                "If an account matches, we sent a link to its e-mail address. It works once, for a limited time. \
                 Nothing arrived? Check your spam folder, or ask again in a few minutes."
            </p>
        </Show>
    }
}
