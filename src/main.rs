//! The `gatehouse` binary: parse the command line, then serve or run a `user` command.
//!
//! Everything else lives in the library so that the tests build exactly what ships.

#[cfg(feature = "ssr")]
fn main() -> std::process::ExitCode {
    gatehouse::server::run_cli()
}

#[cfg(not(feature = "ssr"))]
fn main() {
    // The browser build has no binary; `cargo leptos` builds this file with `ssr` only.
}
