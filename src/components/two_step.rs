//! The two-step sign-in part of `/profile`: turning it on (password, then the QR code or the
//! secret in an authenticator app, then its first code), the recovery codes shown once, making
//! new ones, and turning it off.

use leptos::prelude::*;

use crate::api::{
    BeginTwoStep, ConfirmTwoStep, NewRecoveryCodes, TotpEnrolment, TurnOffTwoStep, TwoStepSummary,
    two_step_status,
};
use crate::components::failure;
use crate::components::island::count_when_alive;

/// Fewer unspent recovery codes than this, and the page suggests making new ones.
const FEW_CODES_LEFT: i64 = 3;

/// The signed-in person's second factor; `used_recovery_code` after signing in with one. An
/// island, loaded on demand.
#[island(lazy)]
pub fn TwoStepSignIn(used_recovery_code: bool) -> impl IntoView {
    count_when_alive();
    let begin = ServerAction::<BeginTwoStep>::new();
    let confirm = ServerAction::<ConfirmTwoStep>::new();
    let renew = ServerAction::<NewRecoveryCodes>::new();
    let turn_off = ServerAction::<TurnOffTwoStep>::new();
    // The status is read again only once a change took effect. A refused code or password
    // changes nothing, and reading it again would draw the form anew, emptying the field the
    // person is already typing the next code into.
    let changes = RwSignal::new(0_u32);
    let changed = move || changes.update(|count| *count += 1);
    let status = Resource::new(move || changes.get(), |_| two_step_status());
    // The codes just made, shown until the page is left: they are never shown again.
    let fresh_codes = RwSignal::new(None::<Vec<String>>);
    Effect::new(move || {
        if let Some(Ok(codes)) = confirm.value().get() {
            fresh_codes.set(Some(codes));
            changed();
        }
    });
    Effect::new(move || {
        if let Some(Ok(codes)) = renew.value().get() {
            fresh_codes.set(Some(codes));
            changed();
        }
    });
    Effect::new(move || {
        if matches!(turn_off.value().get(), Some(Ok(()))) {
            fresh_codes.set(None);
            begin.value().set(None);
            changed();
        }
    });

    view! {
        <section class="card" aria-labelledby="two-step-heading">
            <h2 id="two-step-heading">"Two-step sign-in"</h2>
            // First, so that the person sees them before anything else.
            {move || fresh_codes.get().map(|codes| view! { <RecoveryCodes codes=codes/> })}
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match status.await {
                        Ok(summary) => {
                            let used = used_recovery_code.then_some(summary.recovery_codes_left);
                            match summary.on_since.clone() {
                                Some(since) => view! {
                                    <TwoStepOn summary=summary since=since used_recovery_code=used renew=renew turn_off=turn_off/>
                                }.into_any(),
                                None => view! { <TwoStepOff begin=begin confirm=confirm/> }.into_any(),
                            }
                        }
                        Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// Off: what it is, and the way to turn it on.
#[component]
fn TwoStepOff(begin: ServerAction<BeginTwoStep>, confirm: ServerAction<ConfirmTwoStep>) -> impl IntoView {
    view! {
        <p>
            <span class="badge">"Off"</span>
            " With two-step sign-in, signing in takes your password and a 6-digit code from an authenticator app on your phone, so a stolen password alone opens nothing."
        </p>
        {move || match begin.value().get() {
            Some(Ok(enrolment)) => view! { <Enrol enrolment=enrolment confirm=confirm/> }.into_any(),
            failed => view! {
                <ActionForm action=begin attr:class="form">
                    <div class="field">
                        <label for="two_step_begin_password">"Your password, to confirm"</label>
                        <input id="two_step_begin_password" name="password" type="password" autocomplete="current-password" required/>
                    </div>
                    <p class="form-status form-error" aria-live="polite">{failure(failed)}</p>
                    <button type="submit" class="button" disabled=begin.pending()>"Turn on two-step sign-in"</button>
                </ActionForm>
            }.into_any(),
        }}
    }
}

/// The new secret for the app, and the first code that turns it on.
#[component]
fn Enrol(enrolment: TotpEnrolment, confirm: ServerAction<ConfirmTwoStep>) -> impl IntoView {
    view! {
        <ol class="steps">
            <li>
                "Scan this QR code with an authenticator app (such as Aegis, Google Authenticator or 1Password):"
                <div class="qr" role="img" aria-label="QR code for your authenticator app" inner_html=enrolment.qr_svg></div>
                <p class="hint">"Or type this key into the app: " <code id="totp-secret" class="secret">{enrolment.secret}</code></p>
            </li>
            <li>
                <ActionForm action=confirm attr:class="form">
                    <div class="field">
                        <label for="two_step_first_code">"Enter the 6-digit code the app shows"</label>
                        <input id="two_step_first_code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" maxlength="7" required/>
                    </div>
                    <p class="form-status form-error" aria-live="polite">{move || failure(confirm.value().get())}</p>
                    <button type="submit" class="button" disabled=confirm.pending()>"Turn on"</button>
                </ActionForm>
            </li>
        </ol>
    }
}

/// On: since when, the recovery codes left, new codes, and turning it off.
#[component]
fn TwoStepOn(
    summary: TwoStepSummary,
    since: String,
    /// After signing in with a recovery code: how many are left.
    used_recovery_code: Option<i64>,
    renew: ServerAction<NewRecoveryCodes>,
    turn_off: ServerAction<TurnOffTwoStep>,
) -> impl IntoView {
    let left = summary.recovery_codes_left;
    view! {
        {used_recovery_code.map(|left| view! {
            <p class="notice" role="status">
                {format!("You signed in with a recovery code, which no longer works. You have {}.", codes_left(left))}
                {(left < FEW_CODES_LEFT).then_some(" Make new ones below, and keep them somewhere safe.")}
            </p>
        })}
        <p><span class="badge outcome-success">"On"</span> " since " {since}</p>
        <p class="recovery-left">
            {format!("Recovery codes: {}.", codes_left(left))}
            {(left < FEW_CODES_LEFT).then_some(" You are running out: make new ones.")}
        </p>
        <h3>"New recovery codes"</h3>
        <p class="hint">"The new codes replace all the old ones."</p>
        <ActionForm action=renew attr:class="form">
            <div class="field">
                <label for="two_step_renew_password">"Your password, to make new codes"</label>
                <input id="two_step_renew_password" name="password" type="password" autocomplete="current-password" required/>
            </div>
            <p class="form-status form-error" aria-live="polite">{move || failure(renew.value().get())}</p>
            <button type="submit" class="button secondary" disabled=renew.pending()>"Make new recovery codes"</button>
        </ActionForm>
        <h3>"Turn off"</h3>
        <ActionForm action=turn_off attr:class="form">
            <div class="field">
                <label for="two_step_off_password">"Your password, to turn it off"</label>
                <input id="two_step_off_password" name="password" type="password" autocomplete="current-password" required/>
            </div>
            <p class="form-status form-error" aria-live="polite">{move || failure(turn_off.value().get())}</p>
            <button type="submit" class="button danger" disabled=turn_off.pending()>"Turn off two-step sign-in"</button>
        </ActionForm>
    }
}

/// "1 code left", "no codes left".
fn codes_left(left: i64) -> String {
    match left {
        0 => "no codes left".to_owned(),
        1 => "1 code left".to_owned(),
        many => format!("{many} codes left"),
    }
}

/// Recovery codes just made, shown this once.
#[component]
fn RecoveryCodes(codes: Vec<String>) -> impl IntoView {
    view! {
        <div class="recovery-codes" role="region" aria-labelledby="recovery-codes-heading">
            <h3 id="recovery-codes-heading">"Your recovery codes"</h3>
            <p>"Each one signs you in once in place of a code, if you lose your phone. Keep them somewhere safe, away from your password: they are not shown again."</p>
            <ol class="codes" aria-label="Recovery codes">
                {codes.into_iter().map(|code| view! { <li><code>{code}</code></li> }).collect_view()}
            </ol>
        </div>
    }
}
