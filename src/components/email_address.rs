//! The e-mail part of `/profile`: the address and whether it is confirmed, a way to have the
//! confirmation link sent again, and the change form (current password and new address; the
//! old address stays in force until the new one is confirmed).

use leptos::html::Form;
use leptos::prelude::*;

use crate::api::{ChangeEmail, ResendVerification};
use crate::components::island::count_when_alive;

/// The signed-in person's address (`email`, `verified` once confirmed), with its confirmation
/// and its change; `just_verified` after following the confirmation link. An island, loaded on
/// demand.
#[island(lazy)]
pub fn EmailAddress(email: Option<String>, verified: bool, just_verified: bool) -> impl IntoView {
    count_when_alive();
    let resend = ServerAction::<ResendVerification>::new();
    let change = ServerAction::<ChangeEmail>::new();
    let form = NodeRef::<Form>::new();
    // The password must not linger in the field once the request went out.
    Effect::new(move || {
        if matches!(change.value().get(), Some(Ok(_)))
            && let Some(form) = form.get()
        {
            form.reset();
        }
    });
    let unconfirmed = email.is_some() && !verified;
    let status = match (&email, verified) {
        (None, _) => view! { <span class="hint">"No address yet"</span> }.into_any(),
        (Some(_), true) => view! { <span class="badge outcome-success">"Confirmed"</span> }.into_any(),
        (Some(_), false) => view! { <span class="badge outcome-throttled">"Not confirmed"</span> }.into_any(),
    };

    view! {
        <section class="card" aria-labelledby="email-heading">
            <h2 id="email-heading">"E-mail address"</h2>
            {just_verified.then(|| view! {
                <p class="notice success" role="status">"Your e-mail address is confirmed."</p>
            })}
            <p class="email-status">
                <strong>{email.clone().unwrap_or_else(|| "—".to_owned())}</strong>" " {status}
            </p>
            {unconfirmed.then(|| view! {
                <ActionForm action=resend attr:class="inline-form">
                    <p class="hint">"Confirming your address lets you reset a forgotten password by mail."</p>
                    <button type="submit" class="button secondary" disabled=resend.pending()>"Send the confirmation link again"</button>
                    <p class="form-status" aria-live="polite">
                        {move || match resend.value().get() {
                            Some(Ok(())) => view! { <span class="success">"We sent a new link. Check your mail."</span> }.into_any(),
                            Some(Err(error)) => view! { <span class="form-error">{error.to_string()}</span> }.into_any(),
                            None => ().into_any(),
                        }}
                    </p>
                </ActionForm>
            })}
            <h3>"Change your address"</h3>
            <ActionForm action=change node_ref=form attr:class="form">
                <div class="field">
                    <label for="new_email">"New e-mail address"</label>
                    <input id="new_email" name="new_email" type="email" autocomplete="email" required/>
                </div>
                <div class="field">
                    <label for="email_current_password">"Your password, to confirm"</label>
                    <input id="email_current_password" name="current_password" type="password" autocomplete="current-password" required/>
                </div>
                <p class="form-status" aria-live="polite">
                    {move || match change.value().get() {
                        Some(Ok(new)) => {
                            let kept = email.clone().map_or_else(String::new, |old| format!(" Until then your address stays {old}."));
                            view! { <span class="success">{format!("We sent a link to {new}: follow it to confirm the new address.{kept}")}</span> }.into_any()
                        }
                        Some(Err(error)) => view! { <span class="form-error">{error.to_string()}</span> }.into_any(),
                        None => ().into_any(),
                    }}
                </p>
                <button type="submit" class="button" disabled=change.pending()>
                    {move || if change.pending().get() { "Sending…" } else { "Send a confirmation link" }}
                </button>
            </ActionForm>
        </section>
    }
}
