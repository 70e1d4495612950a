//! What every island does once it is alive in the browser: it counts itself in the `<body>`'s
//! `data-islands-hydrated` attribute. A page is fully interactive when that count equals its
//! number of `<leptos-island>` elements, which is what the browser tests wait for before they
//! use a form (a lazy island's code arrives after the bundle's).
//!
//! Until then each form still works, as the plain form post it is without JavaScript.
//!
//! Islands are rendered on the server too, and dropped on whatever thread finishes the response:
//! whatever they make must not be bound to one thread (see [`browser_action`]).

use std::future::Future;

use leptos::prelude::*;
use send_wrapper::SendWrapper;

/// Counts the calling island once it has hydrated (effects run only in the browser, after
/// hydration). Call it once, at the top of each `#[island]`.
pub fn count_when_alive() {
    Effect::new(|| {
        #[cfg(feature = "hydrate")]
        if let Some(body) = document().body() {
            const ATTRIBUTE: &str = "data-islands-hydrated";
            let alive = body
                .get_attribute(ATTRIBUTE)
                .and_then(|count| count.parse::<u32>().ok())
                .unwrap_or(0);
            _ = body.set_attribute(ATTRIBUTE, &(alive + 1).to_string());
        }
    });
}

/// An action whose work awaits the browser's own APIs (passkeys), which are not `Send`. Leptos'
/// `Action::new_unsync` binds the action itself to the thread that made it: an island rendered on
/// the server and dropped on another thread panicked there, and the page's answer was cut off
/// (the browser saw an empty response). Here only the work is bound, when it is dispatched, which
/// happens in the browser alone.
pub fn browser_action<I, O, F, Fu>(work: F) -> Action<I, O>
where
    I: Send + Sync + 'static,
    O: Send + Sync + 'static,
    F: Fn(&I) -> Fu + Send + Sync + 'static,
    Fu: Future<Output = O> + 'static,
{
    Action::new(move |input: &I| SendWrapper::new(work(input)))
}
