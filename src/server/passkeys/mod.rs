//! Passkeys (WebAuthn): signing in with a key the person's device keeps, unlocked by their
//! fingerprint, face or PIN. A passkey is a whole sign-in on its own (the library demands user
//! verification, so it is something held and something known or been), so it does not go
//! through the two-step code that follows a password. [`actions`] holds the server functions.
//!
//! - The relying party is the site's `--public-url`: its host is the RP id and its origin the
//!   only origin accepted. Browsers refuse WebAuthn on an IP address, so a site reached at one
//!   offers no passkeys (run it with `--public-url http://localhost:PORT` instead).
//! - Passkeys are discoverable (the authenticator keeps the account's random user handle), so
//!   signing in needs no username: the login button and the username field's autofill.
//! - A ceremony's challenge and state live in the store under the hash of a random token that
//!   only the browser that began it holds (an HttpOnly cookie); they expire in five minutes and
//!   are taken by the one request that finishes them. Any instance can finish a ceremony.
//! - The sign counter and backup flags are kept with the credential and updated after each
//!   sign-in; a counter that goes backwards (a cloned key) is refused by the library.

pub mod actions;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use tower_cookies::Cookies;
use webauthn_rs::prelude::{PasskeyRegistration, Url, Uuid, Webauthn, WebauthnBuilder};

use crate::server::auth::cookies::Pending;
use crate::server::auth::refresh;
use crate::server::config::PublicUrl;
use crate::server::random::random_hex;
use crate::server::state::AppState;
use crate::server::store::CeremonyRow;

/// How long a browser has to answer a ceremony's challenge.
pub const CEREMONY_LIFETIME: time::Duration = time::Duration::minutes(5);
/// How recent the sign-in must be to remove a passkey.
pub const RECENT_SIGN_IN: time::Duration = time::Duration::minutes(15);
/// The longest name a passkey may have.
pub const NAME_MAX_CHARS: usize = 60;

/// What a ceremony is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ceremony {
    Register,
    SignIn,
}

impl Ceremony {
    fn as_str(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::SignIn => "sign_in",
        }
    }
}

/// The state of adding a passkey, as kept between its two requests.
#[derive(Serialize, Deserialize)]
pub struct Registration {
    /// The account's user handle (new for its first passkey).
    pub user_handle: Uuid,
    /// The name the passkey gets.
    pub name: String,
    pub state: PasskeyRegistration,
}

/// The site as a WebAuthn relying party.
#[derive(Debug)]
pub struct RelyingParty {
    pub webauthn: Webauthn,
}

impl RelyingParty {
    /// The relying party of a site reached at `public_url`, or `None` when that names an IP
    /// address rather than a host name (browsers refuse WebAuthn there).
    ///
    /// # Errors
    /// The library refused the origin.
    pub fn for_site(public_url: &PublicUrl, site_name: &str) -> anyhow::Result<Option<Self>> {
        let origin = Url::parse(public_url.origin()).context("The public URL is not a URL")?;
        let Some(host) = origin.domain() else {
            return Ok(None);
        };
        let webauthn = WebauthnBuilder::new(host, &origin)
            .context("WebAuthn refused the public URL")?
            .rp_name(site_name)
            .timeout(std::time::Duration::try_from(CEREMONY_LIFETIME).unwrap_or_default())
            .build()
            .context("WebAuthn refused the public URL")?;
        Ok(Some(Self { webauthn }))
    }
}

/// A passkey's name as its owner typed it, trimmed; `None` when empty, too long or holding a
/// line break or other control character.
pub fn passkey_name(raw: &str) -> Option<String> {
    let name = raw.trim();
    let fits = (1..=NAME_MAX_CHARS).contains(&name.chars().count());
    (fits && !name.chars().any(char::is_control)).then(|| name.to_owned())
}

/// A credential id as stored and as browsers write it: base64url without padding.
pub fn credential_id_text(id: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(id)
}

/// Whether a stored credential (webauthn-rs's `Passkey` as JSON) says it is backed up, i.e.
/// synced by a password manager or platform rather than bound to one device.
pub fn is_backed_up(credential: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(credential)
        .ok()
        .and_then(|value| value["cred"]["backup_state"].as_bool())
        .unwrap_or(false)
}

/// Starts a ceremony in this browser: its state in the store and a cookie naming it (any
/// earlier ceremony of this browser is forgotten).
///
/// # Errors
/// The store or the OS random source failed.
pub async fn begin_ceremony(
    state: &AppState,
    cookies: &Cookies,
    ceremony: Ceremony,
    user_id: Option<i64>,
    ceremony_state: String,
) -> anyhow::Result<()> {
    let token = random_hex(32)?;
    let row = CeremonyRow {
        kind: ceremony.as_str().to_owned(),
        user_id,
        state: ceremony_state,
        expires_at: state.clock.now() + CEREMONY_LIFETIME,
    };
    state
        .store
        .add_passkey_ceremony(&refresh::hash(&token), &row)
        .await?;
    state
        .auth_cookies
        .set_pending(cookies, Pending::PasskeyCeremony, token, CEREMONY_LIFETIME);
    Ok(())
}

/// Takes the ceremony this browser began, if it is of the kind expected and has not expired:
/// single use, whatever happens next.
///
/// # Errors
/// The store failed.
pub async fn take_ceremony(
    state: &AppState,
    cookies: &Cookies,
    ceremony: Ceremony,
) -> anyhow::Result<Option<CeremonyRow>> {
    let Some(token) = state.auth_cookies.read_pending(cookies, Pending::PasskeyCeremony) else {
        return Ok(None);
    };
    state
        .auth_cookies
        .clear_pending(cookies, Pending::PasskeyCeremony);
    let row = state.store.take_passkey_ceremony(&refresh::hash(&token)).await?;
    Ok(row.filter(|row| row.kind == ceremony.as_str()))
}

/// A new random user handle for an account's first passkey.
///
/// # Errors
/// The OS random source failed.
pub fn new_user_handle() -> anyhow::Result<Uuid> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).context("Failed to read the OS random source")?;
    Ok(Uuid::from_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_host_name_can_be_a_relying_party() {
        let site = |url: &str| RelyingParty::for_site(&PublicUrl::parse(url).unwrap(), "Gatehouse").unwrap();
        assert!(site("http://localhost:3000").is_some());
        assert!(site("https://login.example.com").is_some());
        assert!(site("http://127.0.0.1:3000").is_none(), "an IPv4 address");
        assert!(site("http://[::1]:3000").is_none(), "an IPv6 address");
    }

    #[test]
    fn passkey_names_are_short_single_lines() {
        assert_eq!(passkey_name("  laptop ").as_deref(), Some("laptop"));
        assert_eq!(
            passkey_name("Téléphone de Zoé").as_deref(),
            Some("Téléphone de Zoé")
        );
        assert_eq!(passkey_name("   "), None);
        assert_eq!(passkey_name("two\nlines"), None);
        assert_eq!(
            passkey_name(&"x".repeat(NAME_MAX_CHARS)).map(|name| name.len()),
            Some(NAME_MAX_CHARS)
        );
        assert_eq!(passkey_name(&"x".repeat(NAME_MAX_CHARS + 1)), None);
    }
}
