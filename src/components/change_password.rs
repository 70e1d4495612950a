//! The password change form: on `/profile`, and alone on `/password` for a person whose
//! password an administrator set.

use leptos::html::Form;
use leptos::prelude::*;

use crate::api::ChangePassword;
use crate::components::island::count_when_alive;

/// Change the password, with the current one; ends the user's other sessions. An island,
/// loaded on demand.
#[island(lazy)]
pub fn ChangePasswordForm() -> impl IntoView {
    count_when_alive();
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
    }
}
