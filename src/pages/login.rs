//! `/login`: the sign-in form.
//!
//! A plain form post to the `login` server function, so it works without JavaScript (the server
//! answers 303 to the next page, or back here with the error); hydrated, the same form submits
//! in the background and shows the error without a page load.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::api::{Login, signup_open};
use crate::error::AppError;

/// What the page says first, from the `reason` its link carries (a fixed set: anyone can
/// write a link, so no text comes from it).
fn notice(reason: Option<&str>) -> Option<String> {
    Some(match reason? {
        "account_disabled" => AppError::AccountDisabled.to_string(),
        "password_reset" => {
            "Your password was changed, and every device was signed out. Sign in with the new password."
                .to_owned()
        }
        "email_verified" => "Your e-mail address is confirmed. Sign in to continue.".to_owned(),
        "signed_up" => "Your account is ready. Sign in with the username and password you chose.".to_owned(),
        _ => return None,
    })
}

/// The sign-in page.
#[component]
pub fn LoginPage() -> impl IntoView {
    // Created here, inside the routes, so that after a failed plain form post it picks up
    // the error the server put in the URL and the page shows it without JavaScript.
    let login = ServerAction::<Login>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let notice = move || notice(query.read().get("reason").as_deref());
    let signup = Resource::new(|| (), |()| signup_open());
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
            {move || notice().map(|notice| view! { <p class="notice" role="status">{notice}</p> })}
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
            <p class="aside"><A href="/forgot-password">"Forgot your password?"</A></p>
            <Suspense>
                {move || Suspend::new(async move {
                    matches!(signup.await, Ok(true)).then(|| view! {
                        <p class="aside">"New here? " <A href="/signup">"Create an account"</A></p>
                    })
                })}
            </Suspense>
        </section>
    }
}
