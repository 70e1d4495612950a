//! `/profile`: account details and the password change form.

use leptos::html::Form;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{ChangePassword, UserSummary};
use crate::components::with_user::WithUser;

/// The signed-in user's own account.
#[component]
pub fn ProfilePage() -> impl IntoView {
    view! {
        <Title text="Your profile"/>
        <WithUser page=|user: UserSummary| view! {
            <section class="card">
                <h1>"Your profile"</h1>
                <dl class="details">
                    <dt>"Username"</dt>
                    <dd>{user.username.clone()}</dd>
                    <dt>"Full name"</dt>
                    <dd>{user.full_name.clone().unwrap_or_else(|| "—".to_owned())}</dd>
                    <dt>"E-mail"</dt>
                    <dd>{user.email.clone().unwrap_or_else(|| "—".to_owned())}</dd>
                    <dt>"Role"</dt>
                    <dd>{if user.admin { "Administrator" } else { "User" }}</dd>
                    <dt>"Member since"</dt>
                    <dd>{user.member_since.clone()}</dd>
                    <dt>"Signed in"</dt>
                    <dd>{user.signed_in_at.clone()}</dd>
                </dl>
            </section>
            <ChangePasswordForm/>
        }/>
    }
}

/// Change the password, with the current one; ends the user's other sessions.
#[component]
fn ChangePasswordForm() -> impl IntoView {
    let action = ServerAction::<ChangePassword>::new();
    let form = NodeRef::<Form>::new();
    let pending = action.pending();
    let outcome = move || action.value().get();
    // Passwords must not linger in the fields once they have been changed.
    Effect::new(move || {
        if matches!(outcome(), Some(Ok(())))
            && let Some(form) = form.get()
        {
            form.reset();
        }
    });

    view! {
        <section class="card">
            <h2>"Change your password"</h2>
            <ActionForm action=action node_ref=form attr:class="form">
                <div class="field">
                    <label for="current_password">"Current password"</label>
                    <input id="current_password" name="current_password" type="password" autocomplete="current-password" required/>
                </div>
                <div class="field">
                    <label for="new_password">"New password"</label>
                    <input id="new_password" name="new_password" type="password" autocomplete="new-password" minlength="8" maxlength="1024" required aria-describedby="password-rules"/>
                    <p id="password-rules" class="hint">"At least 8 characters. Long passphrases are welcome; common passwords are refused."</p>
                </div>
                <div class="field">
                    <label for="confirm_password">"Repeat the new password"</label>
                    <input id="confirm_password" name="confirm_password" type="password" autocomplete="new-password" required/>
                </div>
                <p class="form-status" aria-live="polite">
                    {move || match outcome() {
                        Some(Ok(())) => view! { <span class="success">"Your password has been changed. Your other sessions have been signed out."</span> }.into_any(),
                        Some(Err(error)) => view! { <span class="form-error">{error.to_string()}</span> }.into_any(),
                        None => ().into_any(),
                    }}
                </p>
                <button type="submit" class="button" disabled=pending>
                    {move || if pending.get() { "Changing…" } else { "Change password" }}
                </button>
            </ActionForm>
        </section>
    }
}
