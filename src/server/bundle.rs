//! The browser bundle under `/pkg` (the wasm, its JavaScript loader and the stylesheet): sent
//! precompressed, and named by its content so that browsers keep it for a year.
//!
//! At start-up the server hashes the bundle's files and tells Leptos that the bundle lives at
//! `/pkg/<version>/`: the hydration scripts and the stylesheet link name that path, which changes
//! whenever a build changes a file. Files under it are `immutable` for a year, so a returning
//! visitor loads nothing. The same files under their plain names (`/pkg/gatehouse.wasm`) stay
//! `no-cache`: revalidated each time, `304 Not Modified` while unchanged.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::http::{HeaderValue, header};
use leptos::config::LeptosOptions;
use sha2::{Digest, Sha256};
use tower::ServiceBuilder;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::server::random::hex;

/// Where the bundle's files are, and the version that names them.
#[derive(Debug, Clone)]
pub struct BrowserBundle {
    dir: PathBuf,
    /// `None` when the bundle has not been built (a server without `make build`).
    version: Option<String>,
}

impl BrowserBundle {
    /// Finds the bundle cargo-leptos wrote for `options` and names it by its content.
    pub fn find(options: &LeptosOptions) -> Self {
        let dir = Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
        let version = version_of(&dir);
        if version.is_none() {
            tracing::warn!(
                dir = %dir.display(),
                "no browser bundle found: pages will not hydrate; build it with `make build`"
            );
        }
        Self { dir, version }
    }

    /// The directory pages load the bundle from, as Leptos' `site_pkg_dir`: `pkg/<version>`.
    pub fn site_pkg_dir(&self) -> String {
        match &self.version {
            Some(version) => format!("pkg/{version}"),
            None => "pkg".to_owned(),
        }
    }

    /// The service for `/pkg`: versioned paths cached for a year, plain ones revalidated.
    pub fn service(&self) -> Router {
        let files = ServeDir::new(&self.dir).precompressed_br().precompressed_gzip();
        let cached_for = |policy: &'static str| {
            ServiceBuilder::new()
                .layer(SetResponseHeaderLayer::overriding(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static(policy),
                ))
                // The answer depends on the encodings the browser accepts.
                .layer(SetResponseHeaderLayer::appending(
                    header::VARY,
                    HeaderValue::from_static("accept-encoding"),
                ))
                .service(files.clone())
        };
        let plain = Router::new().fallback_service(cached_for("no-cache"));
        match &self.version {
            Some(version) => plain.nest_service(
                &format!("/{version}"),
                cached_for("public, max-age=31536000, immutable"),
            ),
            None => plain,
        }
    }
}

/// The first 12 hex digits of a SHA-256 over every file's path and content, in path order,
/// subdirectories included (wasm-bindgen puts the JavaScript the wasm imports, such as the
/// passkey helpers, under `snippets/`).
fn version_of(dir: &Path) -> Option<String> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(next) = dirs.pop() {
        for entry in std::fs::read_dir(&next).ok()? {
            let path = entry.ok()?.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.is_file() {
                files.push(path);
            }
        }
    }
    if files.is_empty() {
        return None;
    }
    files.sort();
    let mut hash = Sha256::new();
    for file in &files {
        hash.update(file.strip_prefix(dir).ok()?.as_os_str().as_encoded_bytes());
        hash.update(std::fs::read(file).ok()?);
    }
    Some(hex(&hash.finalize()[..6]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_changes_with_any_file_and_only_then() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(version_of(dir.path()), None, "nothing built");
        std::fs::write(dir.path().join("gatehouse.wasm"), b"one").unwrap();
        std::fs::write(dir.path().join("gatehouse.js"), b"loader").unwrap();
        let first = version_of(dir.path()).unwrap();
        assert_eq!(first.len(), 12);
        assert_eq!(version_of(dir.path()).unwrap(), first, "same files, same version");
        std::fs::write(dir.path().join("gatehouse.wasm"), b"two").unwrap();
        let second = version_of(dir.path()).unwrap();
        assert_ne!(second, first);
        let snippets = dir.path().join("snippets/gatehouse-1");
        std::fs::create_dir_all(&snippets).unwrap();
        std::fs::write(snippets.join("webauthn.js"), b"export function a() {}").unwrap();
        let third = version_of(dir.path()).unwrap();
        assert_ne!(third, second, "a file in a subdirectory counts");
        std::fs::write(snippets.join("webauthn.js"), b"export function b() {}").unwrap();
        assert_ne!(version_of(dir.path()).unwrap(), third, "and so does its content");
    }
}
