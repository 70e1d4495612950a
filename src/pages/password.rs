//! `/password`: where a person whose password an administrator set chooses their own. The guard
//! sends them here from every other page until they have; afterwards they go to the dashboard.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::UserSummary;
use crate::components::change_password::ChangePasswordForm;
use crate::components::with_user::WithUser;

/// The password change form, alone.
#[component]
pub fn PasswordPage() -> impl IntoView {
    view! {
        <Title text="Choose a new password"/>
        <WithUser page=|user: UserSummary| view! {
            <section class="card auth-card">
                <h1>"Choose a new password"</h1>
                {if user.must_change_password {
                    view! {
                        <p class="notice" role="status">
                            "An administrator set your password. Choose your own to continue: type the one you were given as the current password."
                        </p>
                    }.into_any()
                } else {
                    view! { <p class="lead">"Your password is your own; you can change it here or on your profile."</p> }.into_any()
                }}
                <ChangePasswordForm/>
            </section>
        }/>
    }
}
