//! `/login`: the sign-in form.
//!
//! A plain form post to the `login` server function, so it works without JavaScript (the server
//! answers 303 to the next page, or back here with the error); hydrated, the same form submits
//! in the background and shows the error without a page load.
//!
//! Hydrated (the form is an island, in the bundle itself), and where the site and the browser
//! both can, it also offers passkeys: a button that opens the browser's passkey dialog, and the
//! username field's autofill, which lists the passkeys this device holds for the site.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::api::{Login, begin_passkey_sign_in, finish_passkey_sign_in, passkeys_offered, signup_open};
use crate::components::island::{browser_action, count_when_alive};
use crate::components::webauthn::{
    BrowserRefusal, autofill_passkey, autofill_supported, passkeys_supported, stop_autofill, use_passkey,
};
use crate::error::AppError;

/// How the person picks their passkey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PasskeyPicker {
    /// The browser's passkey dialog, opened by the button.
    Dialog,
    /// The username field's autofill suggestions.
    Autofill,
}

/// Signs in with a passkey: the server's challenge, the browser's answer, the server's check
/// (which starts the session and redirects). `Err(None)` when there is nothing to say: the
/// autofill request is not the person's doing, so until they pick a passkey in it, however it
/// ends (stopped by the button, no passkey for this site, the browser refusing) the page stays
/// quiet. The button's own request, and the check of a picked passkey, say why they failed.
async fn passkey_sign_in(
    picker: PasskeyPicker,
    remember: bool,
    next: Option<String>,
) -> Result<(), Option<String>> {
    let autofill = picker == PasskeyPicker::Autofill;
    let options = begin_passkey_sign_in(autofill)
        .await
        .map_err(|error| (!autofill).then(|| error.to_string()))?;
    let answer = if autofill {
        autofill_passkey(&options).await
    } else {
        use_passkey(&options).await
    };
    let answer = answer
        .map_err(|refusal| (!autofill && refusal != BrowserRefusal::Stopped).then(|| refusal.to_string()))?;
    finish_passkey_sign_in(answer, remember, next)
        .await
        .map_err(|error| Some(error.to_string()))
}

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
    // Read once, by the server: the page is never rendered in the browser.
    let (next, notice) = use_query_map().with_untracked(|query| {
        (
            query.get("next").unwrap_or_default(),
            notice(query.get("reason").as_deref()),
        )
    });
    let signup = Resource::new(|| (), |()| signup_open());

    view! {
        <Title text="Sign in"/>
        <section class="card auth-card">
            <h1>"Sign in"</h1>
            <p class="lead">"Use your Gatehouse account to continue."</p>
            {notice.map(|notice| view! { <p class="notice" role="status">{notice}</p> })}
            <LoginForm next/>
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

/// The password form and, once hydrated, the passkey button and autofill; after signing in,
/// the server's redirect leads to `next`.
#[island]
fn LoginForm(next: String) -> impl IntoView {
    count_when_alive();
    let login = ServerAction::<Login>::new();
    let pending = login.pending();
    let error = move || {
        login
            .value()
            .get()
            .and_then(Result::err)
            .map(|error| error.to_string())
    };
    // Passkeys: offered once hydrated, when the site has them and the browser can use them.
    let remember = RwSignal::new(false);
    let passkeys = RwSignal::new(false);
    let passkey_next = (!next.is_empty()).then(|| next.clone());
    let passkey = browser_action(move |picker: &PasskeyPicker| {
        passkey_sign_in(*picker, remember.get_untracked(), passkey_next.clone())
    });
    let passkey_error = move || passkey.value().get().and_then(Result::err).flatten();
    Effect::new(move || {
        leptos::task::spawn_local(async move {
            let offered = passkeys_supported() && matches!(passkeys_offered().await, Ok(true));
            passkeys.set(offered);
            if offered && autofill_supported().await {
                passkey.dispatch(PasskeyPicker::Autofill);
            }
        });
    });
    // Leaving the page withdraws the autofill request (the browser keeps it otherwise).
    on_cleanup(stop_autofill);

    view! {
        <ActionForm action=login attr:class="form" attr:aria-describedby="login-error">
            <input type="hidden" name="next" value=next/>
            <div class="field">
                <label for="username">"Username"</label>
                <input
                    id="username"
                    name="username"
                    type="text"
                    autocomplete="username webauthn"
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
                <input type="checkbox" name="remember" value="on" on:change=move |event| remember.set(event_target_checked(&event))/>
                "Keep me signed in on this device"
            </label>
            <p id="login-error" class="form-error" aria-live="assertive">{error}</p>
            <button type="submit" class="button wide" disabled=pending aria-busy=move || pending.get().to_string()>
                {move || if pending.get() { "Signing in…" } else { "Sign in" }}
            </button>
        </ActionForm>
        <Show when=move || passkeys.get()>
            <div class="passkey-sign-in">
                <p class="divider">"or"</p>
                <button type="button" class="button secondary wide" on:click=move |_| {
                    passkey.dispatch(PasskeyPicker::Dialog);
                }>
                    "Sign in with a passkey"
                </button>
                <p class="form-error" aria-live="assertive">{passkey_error}</p>
            </div>
        </Show>
    }
}
