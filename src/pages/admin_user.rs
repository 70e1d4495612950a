//! `/admin/users/<username>`: one account for administrators: its details, editing, the
//! buttons (disable, admin rights, sign out everywhere), a temporary password and deletion.
//! Every action is a form post, so the page works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::api::{ActOnUser, EditUser, SetTemporaryPassword, UserOverview, user_details};
use crate::components::island::count_when_alive;
use crate::components::with_user::WithUser;
use crate::error::AppError;

/// One account's page.
#[component]
pub fn AdminUserPage() -> impl IntoView {
    // Read once, by the server: the page is never rendered in the browser.
    let username = use_params_map().with_untracked(|params| params.get("username").unwrap_or_default());
    view! {
        <Title text="User"/>
        <WithUser page=move |_| view! {
            <p class="breadcrumb"><A href="/admin/users">"← All users"</A></p>
            <ManagedAccount username=username.clone()/>
        }/>
    }
}

/// What an action's outcome says, for its status line.
fn outcome_line<T>(value: Option<Result<T, AppError>>, done: &'static str) -> impl IntoView {
    value.map(|outcome| match outcome {
        Ok(_) => view! { <span class="success">{done}</span> }.into_any(),
        Err(error) => view! { <span class="form-error">{error.to_string()}</span> }.into_any(),
    })
}

/// The account named `username`, with every action on it; shown again after each. An island,
/// loaded on demand.
#[island(lazy)]
fn ManagedAccount(username: String) -> impl IntoView {
    count_when_alive();
    let act = ServerAction::<ActOnUser>::new();
    let edit = ServerAction::<EditUser>::new();
    let reset = ServerAction::<SetTemporaryPassword>::new();
    let details = Resource::new(
        move || {
            (
                username.clone(),
                act.version().get(),
                edit.version().get(),
                reset.version().get(),
            )
        },
        |(username, ..)| user_details(username),
    );

    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match details.await {
                    Ok(overview) => view! { <Account overview act edit reset/> }.into_any(),
                    Err(error) => {
                        #[cfg(feature = "ssr")]
                        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                            response.set_status(crate::server::errors::status_of(&error));
                        }
                        view! {
                            <section class="card">
                                <h1>"User"</h1>
                                <p class="form-error" role="alert">{error.to_string()}</p>
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// One of the account buttons: a small form of its own, so that it works as a plain post.
fn action_button(
    act: ServerAction<ActOnUser>,
    username: String,
    action: &'static str,
    label: &'static str,
    class: &'static str,
) -> impl IntoView {
    view! {
        <ActionForm action=act attr:class="inline">
            <input type="hidden" name="username" value=username/>
            <input type="hidden" name="action" value=action/>
            <button type="submit" class=format!("button {class}")>{label}</button>
        </ActionForm>
    }
}

#[component]
fn Account(
    overview: UserOverview,
    act: ServerAction<ActOnUser>,
    edit: ServerAction<EditUser>,
    reset: ServerAction<SetTemporaryPassword>,
) -> impl IntoView {
    let resettable = overview.two_step || overview.passkeys > 0;
    let user = overview.user;
    let name = user.username.clone();
    let button = |action, label, class| action_button(act, name.clone(), action, label, class);
    let status = if user.disabled { "Disabled" } else { "Active" };
    let role = if user.admin { "Administrator" } else { "User" };
    // Each form's children are a closure of their own, with a copy of the name.
    let (for_edit, for_reset, for_delete) = (name.clone(), name.clone(), name.clone());
    view! {
        <section class="card">
            <h1>{name.clone()} {overview.is_you.then(|| view! { <span class="badge">"You"</span> })}</h1>
            <dl class="details">
                <dt>"Status"</dt>
                <dd>{status}</dd>
                <dt>"Role"</dt>
                <dd>{role}</dd>
                <dt>"Password"</dt>
                <dd>{if user.must_change_password { "Temporary: must be changed at the next sign-in" } else { "Chosen by the user" }}</dd>
                <dt>"Two-step sign-in"</dt>
                <dd>{if overview.two_step { "On" } else { "Off" }}</dd>
                <dt>"Passkeys"</dt>
                <dd>{overview.passkeys}</dd>
                <dt>"Live sessions"</dt>
                <dd>{overview.live_sessions}</dd>
                <dt>"Last seen"</dt>
                <dd>{overview.last_seen.unwrap_or_else(|| "—".to_owned())}</dd>
                <dt>"Created"</dt>
                <dd>{user.created.clone()}</dd>
            </dl>
        </section>
        <section class="card">
            <h2>"Account actions"</h2>
            <div class="actions-row">
                {if user.disabled {
                    button("enable", "Enable account", "").into_any()
                } else {
                    button("disable", "Disable account", "danger").into_any()
                }}
                {if user.admin {
                    button("revoke_admin", "Revoke administrator rights", "secondary").into_any()
                } else {
                    button("grant_admin", "Make administrator", "secondary").into_any()
                }}
                {button("end_sessions", "Sign out everywhere", "secondary")}
                {resettable.then(|| button("reset_two_step", "Remove two-step sign-in and passkeys", "danger"))}
            </div>
            {resettable.then(|| view! {
                <p class="hint">"Remove two-step sign-in and passkeys only for someone who lost their phone, recovery codes or passkeys, once you are sure who they are: it signs them out everywhere."</p>
            })}
            <p class="form-status" aria-live="polite">
                {move || act.value().get().map(|outcome| match outcome {
                    Ok(action) => view! { <span class="success">{action.done()}</span> }.into_any(),
                    Err(error) => view! { <span class="form-error">{error.to_string()}</span> }.into_any(),
                })}
            </p>
        </section>
        <section class="card">
            <h2>"Details"</h2>
            <ActionForm action=edit attr:class="form">
                <input type="hidden" name="username" value=for_edit/>
                <div class="field">
                    <label for="full_name">"Full name"</label>
                    <input id="full_name" name="full_name" maxlength="100" value=user.full_name.clone().unwrap_or_default()/>
                </div>
                <div class="field">
                    <label for="email">"E-mail"</label>
                    <input id="email" name="email" type="email" value=user.email.clone().unwrap_or_default()/>
                </div>
                <p class="form-status" aria-live="polite">{move || outcome_line(edit.value().get(), "Saved.")}</p>
                <button type="submit" class="button">"Save details"</button>
            </ActionForm>
        </section>
        <section class="card">
            <h2>"Temporary password"</h2>
            <p>"Their sessions end, and they must choose a new password when they next sign in."</p>
            <ActionForm action=reset attr:class="form">
                <input type="hidden" name="username" value=for_reset/>
                <div class="field">
                    <label for="temporary_password">"Temporary password"</label>
                    <input id="temporary_password" name="password" type="password" autocomplete="new-password" required minlength="8" maxlength="1024"/>
                </div>
                <p class="form-status" aria-live="polite">{move || outcome_line(reset.value().get(), "Temporary password set.")}</p>
                <button type="submit" class="button secondary">"Set temporary password"</button>
            </ActionForm>
        </section>
        <section class="card danger-zone">
            <h2>"Delete the account"</h2>
            <p>"Their sessions and items are deleted; the audit trail stays. This cannot be undone."</p>
            <ActionForm action=act attr:class="form">
                <input type="hidden" name="username" value=for_delete/>
                <input type="hidden" name="action" value="delete"/>
                <div class="field">
                    <label for="confirm">"Type " <strong>{name}</strong> " to confirm"</label>
                    <input id="confirm" name="confirm" autocomplete="off" required/>
                </div>
                <button type="submit" class="button danger">"Delete account"</button>
            </ActionForm>
        </section>
    }
}
