//! The passkeys part of `/profile`: the person's passkeys (name, when added, when last used,
//! whether synced), renaming and removing them, and adding one with this device.

use leptos::prelude::*;

use crate::api::{
    PasskeySummary, RemovePasskey, RenamePasskey, begin_add_passkey, finish_add_passkey, list_passkeys,
    passkeys_offered,
};
use crate::components::failure;
use crate::components::island::{browser_action, count_when_alive};
use crate::components::webauthn::{create_passkey, passkeys_supported};
use crate::error::Problem;

/// Adds a passkey called `name` made by this browser's authenticator: the server's options,
/// the browser's dialog, the server's check.
async fn add_passkey(name: String) -> Result<(), String> {
    let options = begin_add_passkey(name).await.map_err(|error| error.to_string())?;
    let answer = create_passkey(&options)
        .await
        .map_err(|refusal| refusal.to_string())?;
    finish_add_passkey(answer)
        .await
        .map_err(|error| error.to_string())
}

/// The signed-in person's passkeys. An island, loaded on demand.
#[island(lazy)]
pub fn Passkeys() -> impl IntoView {
    count_when_alive();
    let add = browser_action(|name: &String| add_passkey(name.clone()));
    let rename = ServerAction::<RenamePasskey>::new();
    let remove = ServerAction::<RemovePasskey>::new();
    // The list is read again only once a change took effect. A refused name changes nothing,
    // and reading the list again would draw it anew, closing the rename form the person is
    // correcting and putting the old name back in its field.
    let changes = RwSignal::new(0_u32);
    let changed = move || changes.update(|count| *count += 1);
    let passkeys = Resource::new(move || changes.get(), |_| list_passkeys());
    Effect::new(move || {
        if matches!(rename.value().get(), Some(Ok(()))) {
            changed();
        }
    });
    Effect::new(move || {
        if matches!(remove.value().get(), Some(Ok(()))) {
            changed();
        }
    });
    let offered = Resource::new(|| (), |()| passkeys_offered());
    // Known only in the browser, once hydrated.
    let supported = RwSignal::new(None::<bool>);
    Effect::new(move || supported.set(Some(passkeys_supported())));
    let name = RwSignal::new(String::new());
    let adding = add.pending();
    Effect::new(move || {
        if matches!(add.value().get(), Some(Ok(()))) {
            name.set(String::new());
            changed();
        }
    });

    view! {
        <section class="card" aria-labelledby="passkeys-heading">
            <h2 id="passkeys-heading">"Passkeys"</h2>
            <p class="hint">
                "A passkey signs you in with your fingerprint, face or screen lock instead of your password, and cannot be phished. It stays on your device (or in your password manager)."
            </p>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match passkeys.await {
                        Ok(list) if list.is_empty() => view! { <p>"You have no passkeys yet."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="passkeys" aria-label="Your passkeys">
                                {list.into_iter().map(|passkey| view! { <PasskeyItem passkey rename remove/> }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            <p class="form-status form-error" aria-live="polite">
                {move || failure(rename.value().get())}
                {move || failure(remove.value().get())}
            </p>
            <h3>"Add a passkey"</h3>
            <Suspense>
                {move || Suspend::new(async move {
                    if !matches!(offered.await, Ok(true)) {
                        return view! { <p class="hint">{Problem::PasskeysUnavailable.to_string()}</p> }.into_any();
                    }
                    view! {
                        <form class="form" on:submit=move |event| {
                            event.prevent_default();
                            add.dispatch(name.get_untracked());
                        }>
                            <div class="field">
                                <label for="passkey_name">"Name it, so you know which one it is"</label>
                                <input id="passkey_name" name="name" type="text" placeholder="e.g. laptop" maxlength="60" aria-describedby="passkey_name_hint"
                                    prop:value=name on:input=move |event| name.set(event_target_value(&event))/>
                                <p id="passkey_name_hint" class="hint">"Left empty, it is named after this browser."</p>
                            </div>
                            <p class="form-status" aria-live="polite">
                                {move || match add.value().get() {
                                    Some(Ok(())) => view! { <span class="success">"Passkey added. You can sign in with it now."</span> }.into_any(),
                                    Some(Err(message)) => view! { <span class="form-error">{message}</span> }.into_any(),
                                    None => ().into_any(),
                                }}
                                {move || (supported.get() == Some(false)).then(|| view! {
                                    <span class="form-error">"This browser cannot make passkeys. Use an up-to-date browser to add one."</span>
                                })}
                            </p>
                            <button type="submit" class="button" disabled=move || adding.get() || supported.get() != Some(true)>
                                {move || if adding.get() { "Waiting for your device…" } else { "Add a passkey" }}
                            </button>
                        </form>
                    }.into_any()
                })}
            </Suspense>
        </section>
    }
}

/// One passkey, with its rename and remove forms.
#[component]
fn PasskeyItem(
    passkey: PasskeySummary,
    rename: ServerAction<RenamePasskey>,
    remove: ServerAction<RemovePasskey>,
) -> impl IntoView {
    let rename_id = passkey.id.to_string();
    let remove_id = rename_id.clone();
    let name = passkey.name.clone();
    let remove_label = format!("Remove {}", passkey.name);
    let rename_label = format!("Rename {}", passkey.name);
    let rename_field = format!("passkey_rename_{}", passkey.id);
    let last_used = passkey
        .last_used
        .map_or_else(|| "never used yet".to_owned(), |at| format!("last used {at}"));
    view! {
        <li class="passkey">
            <div>
                <strong class="passkey-name">{passkey.name.clone()}</strong>
                {passkey.synced.then(|| view! { <span class="badge">"Synced"</span> })}
                <p class="hint">{format!("Added {}, {last_used}.", passkey.created)}</p>
            </div>
            <details>
                <summary>{rename_label}</summary>
                <ActionForm action=rename attr:class="form inline">
                    <input type="hidden" name="id" value=rename_id.clone()/>
                    <label for=rename_field.clone()>"New name"</label>
                    <input id=rename_field.clone() name="name" type="text" maxlength="60" required value=name.clone()/>
                    <button type="submit" class="button secondary">"Save name"</button>
                </ActionForm>
            </details>
            <ActionForm action=remove attr:class="form inline">
                <input type="hidden" name="id" value=remove_id.clone()/>
                <button type="submit" class="button danger" aria-label=remove_label.clone()>"Remove"</button>
            </ActionForm>
        </li>
    }
}
