//! The `gatehouse` binary: parse the command line, then serve or run a `user` command.
//!
//! Everything else lives in the library so that the tests build exactly what ships.

/// mimalloc instead of glibc's malloc: a request allocates and frees many small buffers (headers,
/// rows, rendered HTML), and glibc's allocator was a quarter of the server's CPU time under load.
#[cfg(feature = "ssr")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(feature = "ssr")]
fn main() -> std::process::ExitCode {
    gatehouse::server::run_cli()
}

#[cfg(not(feature = "ssr"))]
fn main() {
    // The browser build has no binary; `cargo leptos` builds this file with `ssr` only.
}
