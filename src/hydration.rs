//! The browser bundle's entry point: makes ready what the page's islands share, before the
//! islands script (Leptos's, sent by `HydrationScripts`) brings each `<leptos-island>` to life.
//!
//! The islands used on most visits (the sign-in form, the not-found page's button) are in the
//! bundle; the rest are `#[island(lazy)]`, each a chunk of its own beside the bundle (under
//! `/pkg/<version>/`), fetched when a page shows it. `cargo leptos build --split` (the Makefile's
//! build) cuts the chunks; without `--split` the bundle does not link.

use leptos_router::location::{BrowserUrl, LocationProvider};

/// Called by the islands script once the WebAssembly is instantiated, before any island.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    // A form posted without JavaScript (or before its island was ready) that failed comes back
    // with the error in the address (`__err`, `__path`). The server rendered it into the form;
    // offered here, the island's `ServerAction` starts from the same error and keeps showing it.
    if let Ok(url) = BrowserUrl::current() {
        url.provide_server_action_error();
    }
}
