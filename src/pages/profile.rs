//! `/profile`: account details and the password change form.

use leptos::html::Form;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{
    ChangePassword, RevokeOtherSessions, RevokeSession, SessionSummary, UserSummary, list_sessions,
};
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
            <SessionsList/>
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

/// Where the user is signed in, with a way to end any other session.
#[component]
fn SessionsList() -> impl IntoView {
    let revoke = ServerAction::<RevokeSession>::new();
    let revoke_others = ServerAction::<RevokeOtherSessions>::new();
    let sessions = Resource::new(
        move || (revoke.version().get(), revoke_others.version().get()),
        |_| list_sessions(),
    );
    let error = move || {
        let failed = |value: Option<Result<_, crate::error::AppError>>| {
            value.and_then(Result::err).map(|e| e.to_string())
        };
        failed(revoke.value().get().map(|r| r.map(|_| ())))
            .or_else(|| failed(revoke_others.value().get().map(|r| r.map(|_| ()))))
    };
    let row = move |session: SessionSummary| {
        let label = format!(
            "Sign out {} from {}",
            session.browser,
            session
                .address
                .clone()
                .unwrap_or_else(|| "an unknown address".into())
        );
        view! {
            <li class="session" aria-current=session.this_device.then_some("true")>
                <div>
                    <strong>{session.browser.clone()}</strong>
                    {session.this_device.then(|| view! { <span class="badge">"This device"</span> })}
                    <p class="hint">
                        {session.address.clone().unwrap_or_else(|| "Unknown address".into())}
                        " · signed in " {session.started.clone()} " · last used " {session.last_used.clone()}
                    </p>
                </div>
                {(!session.this_device).then(|| view! {
                    <ActionForm action=revoke attr:class="inline">
                        <input type="hidden" name="id" value=session.id.clone()/>
                        <button type="submit" class="button secondary small" aria-label=label.clone()>"Sign out"</button>
                    </ActionForm>
                })}
            </li>
        }
    };

    view! {
        <section class="card">
            <h2>"Where you are signed in"</h2>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match sessions.await {
                        Ok(list) => {
                            let others = list.iter().filter(|session| !session.this_device).count();
                            view! {
                                <ul class="sessions" aria-label="Sessions">{list.into_iter().map(row).collect_view()}</ul>
                                {(others > 0).then(|| view! {
                                    <ActionForm action=revoke_others>
                                        <button type="submit" class="button secondary">"Sign out everywhere else"</button>
                                    </ActionForm>
                                })}
                            }.into_any()
                        }
                        Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            <p class="form-status form-error" aria-live="polite">{error}</p>
        </section>
    }
}
