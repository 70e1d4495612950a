//! `/profile`: account details, the e-mail address (confirmed or not, and its change), the
//! password change form, passkeys, two-step sign-in, where the person is signed in and their recent
//! account activity.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::{
    AuditRecord, RevokeOtherSessions, RevokeSession, SessionSummary, UserSummary, list_sessions,
    recent_activity,
};
use crate::components::change_password::ChangePasswordForm;
use crate::components::email_address::EmailAddress;
use crate::components::island::count_when_alive;
use crate::components::passkeys::Passkeys;
use crate::components::two_step::TwoStepSignIn;
use crate::components::with_user::WithUser;

/// The signed-in user's own account.
#[component]
pub fn ProfilePage() -> impl IntoView {
    // What the page says first, from the address the server was asked for.
    let notice = use_query_map().read_untracked().get("notice");
    let just_verified = notice.as_deref() == Some("email_verified");
    let used_recovery_code = notice.as_deref() == Some("recovery_code_used");
    view! {
        <Title text="Your profile"/>
        <WithUser page=move |user: UserSummary| view! {
            <section class="card">
                <h1>"Your profile"</h1>
                <dl class="details">
                    <dt>"Username"</dt>
                    <dd>{user.username.clone()}</dd>
                    <dt>"Full name"</dt>
                    <dd>{user.full_name.clone().unwrap_or_else(|| "—".to_owned())}</dd>
                    <dt>"Role"</dt>
                    <dd>{if user.admin { "Administrator" } else { "User" }}</dd>
                    <dt>"Member since"</dt>
                    <dd>{user.member_since.clone()}</dd>
                    <dt>"Signed in"</dt>
                    <dd>{user.signed_in_at.clone()}</dd>
                </dl>
            </section>
            <EmailAddress email=user.email.clone() verified=user.email_verified just_verified/>
            <section class="card" aria-labelledby="password-heading">
                <h2 id="password-heading">"Change your password"</h2>
                <ChangePasswordForm/>
            </section>
            <Passkeys/>
            <TwoStepSignIn used_recovery_code/>
            <SessionsList/>
            <RecentActivity/>
        }/>
    }
}

/// Where the user is signed in, with a way to end any other session. An island, loaded on
/// demand.
#[island(lazy)]
fn SessionsList() -> impl IntoView {
    count_when_alive();
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

/// The latest sign-ins (failed ones too) and changes to the account, so that its owner can spot
/// one that was not theirs.
#[component]
fn RecentActivity() -> impl IntoView {
    let events = Resource::new(|| (), |_| recent_activity());
    let row = |event: AuditRecord| {
        let failed = event.outcome != "success";
        let place = [event.address.clone(), event.device.clone()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · ");
        view! {
            <li>
                <span>
                    <strong>{event.action.clone()}</strong>
                    {failed.then(|| view! { <span class=format!("badge outcome-{}", event.outcome)>{event.outcome.clone()}</span> })}
                    {(event.actor != event.target.clone().unwrap_or_default() && event.actor != "visitor")
                        .then(|| view! { <span class="hint">" by " {event.actor.clone()}</span> })}
                </span>
                <span class="hint">{event.at.clone()} {(!place.is_empty()).then(|| format!(" · {place}"))}</span>
            </li>
        }
    };
    view! {
        <section class="card">
            <h2>"Recent activity"</h2>
            <p class="hint">"Sign-ins and changes to your account. If one was not you, change your password and sign out everywhere else."</p>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match events.await {
                        Ok(list) if list.is_empty() => view! { <p>"Nothing yet."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="activity" aria-label="Recent activity">{list.into_iter().map(row).collect_view()}</ul>
                        }.into_any(),
                        Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
