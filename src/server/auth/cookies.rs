//! The access-token cookie: its name and attributes, decided here and nowhere else.
//!
//! HttpOnly keeps the token away from page scripts. `SameSite=Lax` keeps the browser from sending
//! it on cross-site sub-requests and form posts, which blocks most CSRF on its own. On an https
//! site the cookie is `Secure` with the `__Host-` prefix, which forbids a `Domain` and pins
//! `Path=/`, so a sibling subdomain cannot plant or overwrite it.

use std::time::Duration;

use tower_cookies::cookie::SameSite;
use tower_cookies::{Cookie, Cookies};

use crate::server::config::PublicUrl;

const NAME: &str = "gatehouse_access";
const SECURE_NAME: &str = "__Host-gatehouse_access";

/// Where and how the access token is kept in the browser.
#[derive(Debug, Clone)]
pub struct AccessCookie {
    secure: bool,
}

impl AccessCookie {
    pub fn new(public_url: &PublicUrl) -> Self {
        Self {
            secure: public_url.is_https(),
        }
    }

    /// The cookie's name: with the `__Host-` prefix on https.
    pub fn name(&self) -> &'static str {
        if self.secure { SECURE_NAME } else { NAME }
    }

    /// The token the request carries, if any.
    pub fn read(&self, cookies: &Cookies) -> Option<String> {
        cookies.get(self.name()).map(|cookie| cookie.value().to_owned())
    }

    /// Stores `token`. With `lifetime` the cookie persists that long ("remember me"); without,
    /// it ends with the browser session. Either way the token's own expiry still applies.
    pub fn set(&self, cookies: &Cookies, token: String, lifetime: Option<Duration>) {
        let mut cookie = self.build(token);
        if let Some(lifetime) = lifetime {
            cookie.set_max_age(time::Duration::try_from(lifetime).ok());
        }
        cookies.add(cookie);
    }

    /// Removes the cookie, with the same attributes it was set with so the browser matches it.
    pub fn clear(&self, cookies: &Cookies) {
        let mut cookie = self.build(String::new());
        cookie.set_max_age(time::Duration::ZERO);
        cookie.set_expires(time::OffsetDateTime::UNIX_EPOCH);
        cookies.add(cookie);
    }

    fn build(&self, value: String) -> Cookie<'static> {
        Cookie::build((self.name(), value))
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

    fn cookie_header(public_url: &str, act: impl FnOnce(&AccessCookie, &Cookies)) -> String {
        let cookies = Cookies::default();
        let access = AccessCookie::new(&PublicUrl::parse(public_url).unwrap());
        act(&access, &cookies);
        cookies
            .list()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn on_http_the_cookie_is_httponly_lax_and_site_wide() {
        let header = cookie_header("http://127.0.0.1:3000", |access, cookies| {
            access.set(cookies, "t".into(), None)
        });
        assert_eq!(header, "gatehouse_access=t; HttpOnly; SameSite=Lax; Path=/");
    }

    #[test]
    fn on_https_the_cookie_is_secure_with_the_host_prefix() {
        let header = cookie_header("https://login.example.com", |access, cookies| {
            access.set(cookies, "t".into(), Some(Duration::from_secs(900)));
        });
        assert_eq!(
            header,
            "__Host-gatehouse_access=t; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=900"
        );
    }

    #[test]
    fn clearing_keeps_the_attributes_and_expires_at_once() {
        let header = cookie_header("https://login.example.com", |access, cookies| {
            access.clear(cookies)
        });
        assert!(
            header.starts_with("__Host-gatehouse_access=; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=0"),
            "{header}"
        );
    }
}
