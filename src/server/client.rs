//! Where a request comes from: the client's address (the one place that decides it, for
//! throttling, the sessions list and the logs) and its browser.

use std::net::IpAddr;

use axum::http::{Extensions, HeaderMap, header};
use ipnet::IpNet;

use crate::server::store::SessionOrigin;

/// Longest User-Agent kept; the rest says nothing the list would show.
const MAX_USER_AGENT: usize = 512;

/// The address of the client that sent a request, as [`client_address`] decided it (once per
/// request, by `edge::Edge`, which stores it in the request's extensions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

/// The client's address: the TCP peer, unless the peer is a trusted proxy. Then the
/// `X-Forwarded-For` chain is read from the right (the hop nearest to us), skipping trusted
/// proxies: the first address that is not one is the client. Anything left of it was written
/// by the client and proves nothing. An entry that is not an address stops the walk at the
/// last hop known good.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |address: &IpAddr| trusted.iter().any(|network| network.contains(address));
    if !is_trusted(&peer) {
        return peer;
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .collect();
    let mut client = peer;
    for hop in forwarded.iter().rev() {
        let Ok(address) = hop.trim().parse::<IpAddr>() else {
            break;
        };
        client = address;
        if !is_trusted(&address) {
            break;
        }
    }
    client
}

/// The origin of a new session from its request's headers and client address.
pub fn session_origin(headers: &HeaderMap, extensions: &Extensions, persistent: bool) -> SessionOrigin {
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .map(|agent| agent.chars().take(MAX_USER_AGENT).collect());
    let ip_address = extensions
        .get::<ClientAddress>()
        .map(|ClientAddress(address)| address.to_string());
    SessionOrigin {
        user_agent,
        ip_address,
        persistent,
    }
}

/// A short, human name for a User-Agent: "Firefox on Linux", "curl", "Unknown browser".
pub fn describe_user_agent(user_agent: Option<&str>) -> String {
    let Some(agent) = user_agent else {
        return "Unknown browser".to_owned();
    };
    // Order matters: Edge and Opera also say Chrome, Chrome also says Safari.
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Chromium/", "Chromium"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
        ("python", "Python script"),
    ]
    .into_iter()
    .find(|(marker, _)| agent.contains(marker))
    .map(|(_, name)| name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(marker, _)| agent.contains(marker))
    .map(|(_, name)| name);
    match (browser, system) {
        (Some(browser), Some(system)) => format!("{browser} on {system}"),
        (Some(browser), None) => browser.to_owned(),
        (None, Some(system)) => format!("A browser on {system}"),
        (None, None) => "Unknown browser".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(chain: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in chain {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    }

    fn ip(raw: &str) -> IpAddr {
        raw.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() {
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        let headers = forwarded(&["203.0.113.9"]);
        assert_eq!(
            client_address(ip("198.51.100.1"), &headers, &trusted),
            ip("198.51.100.1")
        );
        assert_eq!(client_address(ip("10.0.0.2"), &headers, &[]), ip("10.0.0.2"));
        assert_eq!(
            client_address(ip("10.0.0.2"), &headers, &trusted),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn the_chain_is_read_from_the_right_past_trusted_proxies_only() {
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        // The client wrote "1.2.3.4" itself; the proxies appended what they saw.
        let headers = forwarded(&["1.2.3.4, 203.0.113.9", "10.0.0.7"]);
        assert_eq!(
            client_address(ip("10.0.0.2"), &headers, &trusted),
            ip("203.0.113.9")
        );
        // All hops trusted: the left-most is the client.
        let headers = forwarded(&["10.1.1.1, 10.0.0.7"]);
        assert_eq!(client_address(ip("10.0.0.2"), &headers, &trusted), ip("10.1.1.1"));
        // Garbage stops the walk at the last good hop; no header leaves the peer.
        let headers = forwarded(&["not-an-ip, 10.0.0.7"]);
        assert_eq!(client_address(ip("10.0.0.2"), &headers, &trusted), ip("10.0.0.7"));
        assert_eq!(
            client_address(ip("10.0.0.2"), &HeaderMap::new(), &trusted),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn common_browsers_are_named_with_their_system() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
                "Firefox on Linux",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 Edg/131.0",
                "Edge on Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
                "Safari on macOS",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36",
                "Chrome on Android",
            ),
            ("curl/8.5.0", "curl"),
        ];
        for (agent, expected) in cases {
            assert_eq!(describe_user_agent(Some(agent)), expected);
        }
        assert_eq!(describe_user_agent(None), "Unknown browser");
        assert_eq!(describe_user_agent(Some("???")), "Unknown browser");
    }
}
