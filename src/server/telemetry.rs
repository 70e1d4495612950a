//! Logging: structured `tracing` output on stderr, filtered by `RUST_LOG`, as text or as JSON
//! (`--log-format json`, one object a line, for log shippers).
//!
//! Strings that come from clients (usernames, say) are logged as `?` fields: escaped in text,
//! quoted in JSON, so a line break in a username cannot forge a log line.
//!
//! Every request gets an id ([`RequestIds`]) that its log lines carry and its response echoes.

use std::hash::{BuildHasher, RandomState};
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::HeaderValue;
use tracing_subscriber::EnvFilter;

use crate::server::config::LogFormat;

/// Installs the global subscriber. The server logs at `info` by default; the `user` commands
/// only at `warn`, so their own output stays readable.
pub fn init(serving: bool, format: LogFormat) {
    let default = if serving { "info,sqlx=warn" } else { "warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    // Colours only for a terminal: a log file or a journal gets plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    // A second initialisation (several apps in one test process) is harmless: keep the first.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
}

/// Makes request ids: random-looking version 4 UUIDs (the form `error::reference` shows to
/// people), without a system call. The 128 bits are SipHash, under this process's random key,
/// of a counter: unique within the process, and telling nothing of how many requests came
/// before. (Reading the OS random source for each request, as tower-http's `MakeRequestUuid`
/// does, was 4 % of a protected API call.)
#[derive(Clone, Default)]
pub struct RequestIds {
    key: RandomState,
    counter: Arc<AtomicU64>,
}

impl RequestIds {
    fn make(&self) -> uuid::Uuid {
        let count = self.counter.fetch_add(1, Ordering::Relaxed);
        let high = u128::from(self.key.hash_one((count, 0u8)));
        let low = u128::from(self.key.hash_one((count, 1u8)));
        uuid::Builder::from_random_bytes((high << 64 | low).to_be_bytes()).into_uuid()
    }

    /// A new id, as the `x-request-id` header carries it.
    pub fn next(&self) -> HeaderValue {
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let id = self.make().hyphenated().encode_lower(&mut text);
        // Cannot fail: a hyphenated UUID is hex digits and hyphens.
        HeaderValue::from_str(id).expect("a hyphenated UUID is a valid header value")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn request_ids_are_distinct_version_4_uuids() {
        let ids = RequestIds::default();
        let made: HashSet<_> = (0..10_000).map(|_| ids.make()).collect();
        assert_eq!(made.len(), 10_000);
        assert!(
            made.iter()
                .all(|id| id.get_version_num() == 4 && id.get_variant() == uuid::Variant::RFC4122)
        );
        let other = RequestIds::default();
        assert!(!made.contains(&other.make()), "another process starts elsewhere");
    }
}
