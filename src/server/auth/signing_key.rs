//! The key that signs access tokens: generated once into the data directory, or given as a file
//! that every instance of one site shares.

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use anyhow::{Context, bail};
use secrecy::{ExposeSecret, SecretSlice};

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
        if let Ok(metadata) = fs::metadata(path)
            && metadata.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(path = %path.display(), "the key file is readable by other users; run `chmod 600` on it");
        }
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

/// Creates `dir` (and its parents) readable by the owner only: it holds the key and the database.
///
/// # Errors
/// The directory cannot be created, e.g. because a parent is a file.
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("Failed to create the data directory {}", dir.display()))
}

#[cfg(test)]
mod tests {
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
