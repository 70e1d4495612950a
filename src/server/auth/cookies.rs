//! The browser's cookies: the two session cookies (access and refresh token), the device
//! cookie and the short-lived cookies of a sign-in or passkey ceremony under way: their names
//! and attributes, decided here and nowhere else.
//!
//! HttpOnly keeps the tokens away from page scripts. `SameSite=Lax` keeps the browser from
//! sending them on cross-site sub-requests and form posts, which blocks most CSRF on its own. On
//! an https site they are `Secure` with the `__Host-` prefix, which forbids a `Domain` and pins
//! `Path=/`, so a sibling subdomain cannot plant or overwrite them.

use std::time::Duration;

use tower_cookies::cookie::SameSite;
use tower_cookies::{Cookie, Cookies};

use crate::server::config::PublicUrl;

const ACCESS: &str = "gatehouse_access";
const REFRESH: &str = "gatehouse_refresh";
/// The device cookie (see `auth::device`): outlives sign-out, so the browser stays known.
const DEVICE: &str = "gatehouse_device";
/// How long a browser stays known as a device its owner signed in from.
const DEVICE_LIFETIME: time::Duration = time::Duration::days(365);

/// Something a browser began and must finish within minutes: its cookie holds a random token
/// naming a single-use record in the store, so the browser that began it is the one that can
/// finish it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pending {
    /// A correct password waiting for its second factor (see `server::two_step`).
    SecondStep,
    /// A passkey being added or signed in with (see `server::passkeys`).
    PasskeyCeremony,
}

impl Pending {
    fn cookie_name(self) -> &'static str {
        match self {
            Self::SecondStep => "gatehouse_second_step",
            Self::PasskeyCeremony => "gatehouse_passkey_ceremony",
        }
    }
}

/// Where and how the tokens are kept in the browser.
#[derive(Debug, Clone)]
pub struct AuthCookies {
    secure: bool,
}

/// How long the browser should keep the cookies: for a "keep me signed in" session, as long as
/// each token lives; otherwise until the browser closes (`None`).
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub access: Duration,
    pub refresh: Duration,
}

impl AuthCookies {
    pub fn new(public_url: &PublicUrl) -> Self {
        Self {
            secure: public_url.is_https(),
        }
    }

    /// The access cookie's name: with the `__Host-` prefix on https.
    pub fn access_name(&self) -> String {
        self.name(ACCESS)
    }

    /// The refresh cookie's name: with the `__Host-` prefix on https.
    pub fn refresh_name(&self) -> String {
        self.name(REFRESH)
    }

    /// The access token the request carries, if any.
    pub fn read_access(&self, cookies: &Cookies) -> Option<String> {
        cookies
            .get(&self.access_name())
            .map(|cookie| cookie.value().to_owned())
    }

    /// The refresh token the request carries, if any.
    pub fn read_refresh(&self, cookies: &Cookies) -> Option<String> {
        cookies
            .get(&self.refresh_name())
            .map(|cookie| cookie.value().to_owned())
    }

    /// The device cookie the request carries, if any.
    pub fn read_device(&self, cookies: &Cookies) -> Option<String> {
        cookies
            .get(&self.name(DEVICE))
            .map(|cookie| cookie.value().to_owned())
    }

    /// Stores the device cookie for a year. Sign-out leaves it: it proves a past sign-in, not
    /// a session.
    pub fn set_device(&self, cookies: &Cookies, value: String) {
        let mut device = self.build(self.name(DEVICE), value);
        device.set_max_age(DEVICE_LIFETIME);
        cookies.add(device);
    }

    /// The token of the `pending` thing the request carries, if any.
    pub fn read_pending(&self, cookies: &Cookies, pending: Pending) -> Option<String> {
        cookies
            .get(&self.name(pending.cookie_name()))
            .map(|cookie| cookie.value().to_owned())
    }

    /// Stores the token of a `pending` thing for as long as it may be finished.
    pub fn set_pending(&self, cookies: &Cookies, pending: Pending, token: String, lifetime: time::Duration) {
        let mut cookie = self.build(self.name(pending.cookie_name()), token);
        cookie.set_max_age(lifetime);
        cookies.add(cookie);
    }

    /// Removes the cookie of a `pending` thing.
    pub fn clear_pending(&self, cookies: &Cookies, pending: Pending) {
        cookies.add(self.expired(self.name(pending.cookie_name())));
    }

    /// Stores both tokens; see [`Lifetimes`].
    pub fn set(&self, cookies: &Cookies, access: String, refresh: String, lifetimes: Option<Lifetimes>) {
        let mut access = self.build(self.access_name(), access);
        let mut refresh = self.build(self.refresh_name(), refresh);
        if let Some(lifetimes) = lifetimes {
            access.set_max_age(time::Duration::try_from(lifetimes.access).ok());
            refresh.set_max_age(time::Duration::try_from(lifetimes.refresh).ok());
        }
        cookies.add(access);
        cookies.add(refresh);
    }

    /// Removes both cookies, with the attributes they were set with so the browser matches them.
    pub fn clear(&self, cookies: &Cookies) {
        for name in [self.access_name(), self.refresh_name()] {
            cookies.add(self.expired(name));
        }
    }

    /// A cookie called `name` that the browser deletes at once.
    fn expired(&self, name: String) -> Cookie<'static> {
        let mut cookie = self.build(name, String::new());
        cookie.set_max_age(time::Duration::ZERO);
        cookie.set_expires(time::OffsetDateTime::UNIX_EPOCH);
        cookie
    }

    fn name(&self, base: &str) -> String {
        if self.secure {
            format!("__Host-{base}")
        } else {
            base.to_owned()
        }
    }

    fn build(&self, name: String, value: String) -> Cookie<'static> {
        Cookie::build((name, value))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set_cookie_headers(public_url: &str, act: impl FnOnce(&AuthCookies, &Cookies)) -> Vec<String> {
        let cookies = Cookies::default();
        let auth = AuthCookies::new(&PublicUrl::parse(public_url).unwrap());
        act(&auth, &cookies);
        let mut headers: Vec<String> = cookies.list().iter().map(ToString::to_string).collect();
        headers.sort();
        headers
    }

    #[test]
    fn on_http_the_cookies_are_httponly_lax_and_site_wide_and_end_with_the_browser() {
        let headers = set_cookie_headers("http://127.0.0.1:3000", |auth, cookies| {
            auth.set(cookies, "a".into(), "r".into(), None);
        });
        assert_eq!(
            headers,
            [
                "gatehouse_access=a; HttpOnly; SameSite=Lax; Path=/",
                "gatehouse_refresh=r; HttpOnly; SameSite=Lax; Path=/"
            ]
        );
    }

    #[test]
    fn on_https_the_cookies_are_secure_with_the_host_prefix_and_remembered_as_long_as_their_tokens() {
        let headers = set_cookie_headers("https://login.example.com", |auth, cookies| {
            let lifetimes = Lifetimes {
                access: Duration::from_secs(900),
                refresh: Duration::from_secs(86_400),
            };
            auth.set(cookies, "a".into(), "r".into(), Some(lifetimes));
        });
        assert_eq!(
            headers,
            [
                "__Host-gatehouse_access=a; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=900",
                "__Host-gatehouse_refresh=r; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=86400"
            ]
        );
    }

    #[test]
    fn clearing_keeps_the_attributes_and_expires_both_at_once() {
        let headers = set_cookie_headers("https://login.example.com", |auth, cookies| auth.clear(cookies));
        assert_eq!(headers.len(), 2);
        for header in headers {
            assert!(
                header.contains("=; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=0"),
                "{header}"
            );
        }
    }
}
