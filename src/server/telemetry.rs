//! Logging: structured `tracing` output on stderr, filtered by `RUST_LOG`, as text or as JSON
//! (`--log-format json`, one object a line, for log shippers).
//!
//! Strings that come from clients (usernames, say) are logged as `?` fields: escaped in text,
//! quoted in JSON, so a line break in a username cannot forge a log line.

use std::io::IsTerminal;

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
