//! The key that signs access tokens: generated once into the data directory, or given as a file
//! that every instance of one site shares.

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{Context, bail};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use sha2::Sha256;

use crate::server::files::{create_private_dir, make_private};

/// Bytes of key material: HS256 wants at least as many as its output (RFC 7518 §3.2).
pub const MIN_LEN: usize = 32;

/// The HMAC key. Its `Debug` shows nothing of it.
pub struct SigningKey(SecretSlice<u8>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

impl SigningKey {
    /// Reads the key at `path`, or, when there is no file there, generates one from the OS random
    /// source and writes it with mode 0600 (creating its directory with mode 0700).
    ///
    /// # Errors
    /// The file is shorter than [`MIN_LEN`] bytes, or cannot be read or written.
    pub fn load_or_generate(path: &Path) -> anyhow::Result<Self> {
        match fs::read(path) {
            Ok(bytes) => Self::from_file_bytes(path, bytes),
            Err(error) if error.kind() == ErrorKind::NotFound => Self::generate(path),
            Err(error) => {
                Err(error).with_context(|| format!("Failed to read the key file {}", path.display()))
            }
        }
    }

    /// An HMAC-SHA256 under this key for one `purpose` (written first, NUL-terminated), so that
    /// no MAC made for one purpose can pass for another's.
    pub fn mac(&self, purpose: &str) -> Hmac<Sha256> {
        // Cannot fail: HMAC accepts keys of any length.
        let mut mac = Hmac::<Sha256>::new_from_slice(self.expose()).expect("HMAC takes any key length");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac
    }

    /// A fresh random key in a throw-away file, for unit tests elsewhere in the crate.
    #[cfg(test)]
    pub(crate) fn for_tests() -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self::load_or_generate(&dir.path().join("signing.key")).unwrap()
    }

    pub fn expose(&self) -> &[u8] {
        self.0.expose_secret()
    }

    fn from_file_bytes(path: &Path, bytes: Vec<u8>) -> anyhow::Result<Self> {
        if bytes.len() < MIN_LEN {
            bail!(
                "the key file {} holds {} bytes; a signing key needs at least {MIN_LEN} \
                 (make one with `head -c 32 /dev/urandom > {}`)",
                path.display(),
                bytes.len(),
                path.display()
            );
        }
        make_private(path, 0o600)?;
        Ok(Self(bytes.into()))
    }

    fn generate(path: &Path) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            create_private_dir(dir)?;
        }
        let mut key = vec![0u8; MIN_LEN];
        getrandom::fill(&mut key).context("Failed to read the OS random source")?;
        // `create_new`: if another instance generated the key a moment ago, use theirs.
        let mut file = match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(file) => file,
            Err(error) if error.kind() == ErrorKind::AlreadyExists => return Self::load_or_generate(path),
            Err(error) => {
                return Err(error)
                    .with_context(|| format!("Failed to create the key file {}", path.display()));
            }
        };
        file.write_all(&key)
            .and_then(|()| file.sync_all())
            .with_context(|| format!("Failed to write the key file {}", path.display()))?;
        tracing::info!(path = %path.display(), "generated a new signing key");
        Ok(Self(key.into()))
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn a_missing_key_is_generated_private_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/signing.key");
        let first = SigningKey::load_or_generate(&path).unwrap();
        assert_eq!(first.expose().len(), MIN_LEN);
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(
            fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let second = SigningKey::load_or_generate(&path).unwrap();
        assert_eq!(first.expose(), second.expose());
    }

    #[test]
    fn a_key_file_readable_by_others_is_made_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("loose.key");
        fs::write(&path, [7u8; 32]).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        SigningKey::load_or_generate(&path).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn a_short_key_file_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("short.key");
        fs::write(&path, b"too short").unwrap();
        let error = SigningKey::load_or_generate(&path).unwrap_err().to_string();
        assert!(
            error.contains("holds 9 bytes") && error.contains("at least 32"),
            "{error}"
        );
        assert_eq!(fs::read(&path).unwrap(), b"too short");
    }

    #[test]
    fn two_keys_generated_apart_differ() {
        let dir = tempfile::tempdir().unwrap();
        let a = SigningKey::load_or_generate(&dir.path().join("a.key")).unwrap();
        let b = SigningKey::load_or_generate(&dir.path().join("b.key")).unwrap();
        assert_ne!(a.expose(), b.expose());
    }

    #[test]
    fn the_key_never_shows_in_debug_output() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::load_or_generate(&dir.path().join("k")).unwrap();
        assert_eq!(format!("{key:?}"), "SigningKey(<redacted>)");
    }
}
