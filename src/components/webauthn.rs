//! The browser's credential API (WebAuthn) as async Rust functions, through the small module
//! `webauthn.js` beside this file. The options and answers are the JSON strings the server
//! functions of `crate::api::passkeys` send and take: the wasm side never reads them.
//!
//! On the server these functions answer [`BrowserRefusal::Unsupported`]: they are only ever
//! called from event handlers and effects, which run in the browser.

/// Why the browser gave no passkey answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrowserRefusal {
    /// The person closed the dialog, or it timed out (`NotAllowedError`).
    Cancelled,
    /// Stopped on purpose (the autofill request, when the button is pressed): say nothing.
    Stopped,
    /// The authenticator already holds a passkey for this account (`InvalidStateError`).
    AlreadyThere,
    /// This browser has no WebAuthn with JSON options.
    Unsupported,
    /// Anything else, by its `DOMException` name.
    Other(String),
}

impl std::fmt::Display for BrowserRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Cancelled => write!(
                f,
                "No passkey was used: the request was cancelled or timed out. Try again."
            ),
            Self::Stopped => write!(f, "The passkey request was stopped."),
            Self::AlreadyThere => write!(
                f,
                "This device or security key already holds a passkey for your account."
            ),
            Self::Unsupported => write!(
                f,
                "This browser cannot use passkeys. Use an up-to-date browser, or sign in with your password."
            ),
            Self::Other(name) => write!(f, "Your browser could not use a passkey ({name}). Try again."),
        }
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use wasm_bindgen::prelude::*;

    use super::BrowserRefusal;

    #[wasm_bindgen(module = "/src/components/webauthn.js")]
    extern "C" {
        #[wasm_bindgen(js_name = passkeysSupported)]
        pub fn passkeys_supported() -> bool;
        #[wasm_bindgen(js_name = autofillSupported)]
        async fn autofill_supported_js() -> JsValue;
        #[wasm_bindgen(catch, js_name = createPasskey)]
        async fn create_passkey_js(options: &str) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(catch, js_name = usePasskey)]
        async fn use_passkey_js(options: &str) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(catch, js_name = autofillPasskey)]
        async fn autofill_passkey_js(options: &str) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(js_name = stopAutofill)]
        pub fn stop_autofill();
    }

    pub async fn autofill_supported() -> bool {
        autofill_supported_js().await.as_bool().unwrap_or(false)
    }

    /// The answer as a string, or why there is none.
    fn answer(result: Result<JsValue, JsValue>) -> Result<String, BrowserRefusal> {
        match result {
            Ok(json) => json.as_string().ok_or(BrowserRefusal::Unsupported),
            Err(error) => {
                let name = js_sys::Reflect::get(&error, &JsValue::from_str("name"))
                    .ok()
                    .and_then(|name| name.as_string())
                    .unwrap_or_default();
                Err(match name.as_str() {
                    "NotAllowedError" => BrowserRefusal::Cancelled,
                    "AbortError" => BrowserRefusal::Stopped,
                    "InvalidStateError" => BrowserRefusal::AlreadyThere,
                    "TypeError" | "NotSupportedError" => BrowserRefusal::Unsupported,
                    _ => BrowserRefusal::Other(name),
                })
            }
        }
    }

    pub async fn create_passkey(options: &str) -> Result<String, BrowserRefusal> {
        answer(create_passkey_js(options).await)
    }

    pub async fn use_passkey(options: &str) -> Result<String, BrowserRefusal> {
        answer(use_passkey_js(options).await)
    }

    pub async fn autofill_passkey(options: &str) -> Result<String, BrowserRefusal> {
        answer(autofill_passkey_js(options).await)
    }
}

#[cfg(not(feature = "hydrate"))]
mod browser {
    use super::BrowserRefusal;

    pub fn passkeys_supported() -> bool {
        false
    }

    pub async fn autofill_supported() -> bool {
        false
    }

    pub async fn create_passkey(_options: &str) -> Result<String, BrowserRefusal> {
        Err(BrowserRefusal::Unsupported)
    }

    pub async fn use_passkey(_options: &str) -> Result<String, BrowserRefusal> {
        Err(BrowserRefusal::Unsupported)
    }

    pub async fn autofill_passkey(_options: &str) -> Result<String, BrowserRefusal> {
        Err(BrowserRefusal::Unsupported)
    }

    pub fn stop_autofill() {}
}

/// Whether this browser can make and use passkeys.
pub fn passkeys_supported() -> bool {
    browser::passkeys_supported()
}

/// Whether the username field can offer passkeys in its autofill.
pub async fn autofill_supported() -> bool {
    browser::autofill_supported().await
}

/// Makes a passkey with `options` (from `begin_add_passkey`); the answer for
/// `finish_add_passkey`.
///
/// # Errors
/// See [`BrowserRefusal`].
pub async fn create_passkey(options: &str) -> Result<String, BrowserRefusal> {
    browser::create_passkey(options).await
}

/// Signs in with a passkey picked in the browser's dialog; the answer for
/// `finish_passkey_sign_in`.
///
/// # Errors
/// See [`BrowserRefusal`].
pub async fn use_passkey(options: &str) -> Result<String, BrowserRefusal> {
    browser::use_passkey(options).await
}

/// Offers passkeys in the username field's autofill and waits for one to be picked.
///
/// # Errors
/// See [`BrowserRefusal`]; [`BrowserRefusal::Stopped`] after [`stop_autofill`].
pub async fn autofill_passkey(options: &str) -> Result<String, BrowserRefusal> {
    browser::autofill_passkey(options).await
}

/// Stops a waiting [`autofill_passkey`].
pub fn stop_autofill() {
    browser::stop_autofill();
}
