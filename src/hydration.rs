//! The browser bundle's entry point: takes over the page the server rendered.
//!
//! Hydration is asynchronous, because a page may first have to fetch its own code (`pages::lazy`).
//! Until it has finished, a click on a link is left to the browser, which loads the linked page
//! as any page without JavaScript would. The router listens for link clicks on the window from
//! the moment it starts and turns them into in-app navigations; while the current page is still
//! hydrating, the router cannot show the next page yet and the click would be lost (seen on a
//! slow machine: a link clicked on a page whose code was still downloading went nowhere).

use leptos::prelude::{document, window};
use wasm_bindgen::{JsCast, closure::Closure};
use web_sys::{Element, MouseEvent};

/// Called by the bundle's loader once the WebAssembly is instantiated.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    let links_load_pages = LinksLoadPages::start();
    wasm_bindgen_futures::spawn_local(async move {
        let body = document().body().expect("the page has a body");
        let app = leptos::mount::hydrate_from_async(body, crate::app::App).await;
        // The app lives as long as the page.
        app.forget();
        drop(links_load_pages);
    });
}

/// While it exists, clicks on links skip the router and reach only the browser: a listener in
/// the window's capture phase, which runs before the router's listener (bubble phase on the
/// window), stops the click there. The browser's default action, following the link, is not
/// prevented.
struct LinksLoadPages {
    listener: Closure<dyn Fn(MouseEvent)>,
}

impl LinksLoadPages {
    const CAPTURE: bool = true;

    fn start() -> Self {
        let listener = Closure::<dyn Fn(MouseEvent)>::new(|click: MouseEvent| {
            let on_link = click
                .target()
                .and_then(|target| target.dyn_into::<Element>().ok())
                .and_then(|element| element.closest("a[href]").ok().flatten())
                .is_some();
            if on_link {
                click.stop_propagation();
            }
        });
        let added = window().add_event_listener_with_callback_and_bool(
            "click",
            listener.as_ref().unchecked_ref(),
            Self::CAPTURE,
        );
        if let Err(error) = added {
            web_sys::console::error_2(&"could not watch link clicks during hydration:".into(), &error);
        }
        Self { listener }
    }
}

impl Drop for LinksLoadPages {
    fn drop(&mut self) {
        _ = window().remove_event_listener_with_callback_and_bool(
            "click",
            self.listener.as_ref().unchecked_ref(),
            Self::CAPTURE,
        );
    }
}
