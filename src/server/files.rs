//! Files only the server may read: the data directory (0700), the signing key and the SQLite
//! files (0600). Whatever existed before is tightened at start; where that is impossible (a
//! file of another owner, say), start-up stops and says which file and what to run.

use std::fs;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use anyhow::{Context, anyhow};

/// Creates `dir` (and its parents) readable by the owner only, or makes an existing one so: it
/// holds the key and the database.
///
/// # Errors
/// The directory cannot be created (a parent is a file, say) or tightened.
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.is_dir() {
        return make_private(dir, 0o700);
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("Failed to create the data directory {}", dir.display()))
}

/// Creates `path` empty with `0600` unless it exists, so that SQLite, which gives its journal
/// files the database file's mode, never makes a file others can read.
///
/// # Errors
/// The file cannot be created.
pub fn create_private_file(path: &Path) -> anyhow::Result<()> {
    match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error).with_context(|| format!("Failed to create {}", path.display())),
    }
}

/// Takes every permission of group and others away from an existing `path` (leaving the
/// owner's `mode`); a missing file is fine.
///
/// # Errors
/// The permissions are too loose and cannot be changed; the message says what to run.
pub fn make_private(path: &Path, mode: u32) -> anyhow::Result<()> {
    let Ok(metadata) = fs::metadata(path) else {
        return Ok(());
    };
    if metadata.permissions().mode() & 0o077 == 0 {
        return Ok(());
    }
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(|error| {
        anyhow!(
            "{} can be read by other users and cannot be made private ({error}); run `chmod {mode:o} {}` as its owner",
            path.display(),
            path.display()
        )
    })?;
    tracing::warn!(path = %path.display(), "tightened the permissions of a file other users could read");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_loose_data_directory_is_tightened_and_a_new_one_is_private() {
        let root = tempfile::tempdir().unwrap();
        let loose = root.path().join("loose");
        fs::create_dir(&loose).unwrap();
        fs::set_permissions(&loose, fs::Permissions::from_mode(0o755)).unwrap();
        create_private_dir(&loose).unwrap();
        assert_eq!(mode(&loose), 0o700);
        let new = root.path().join("a/b");
        create_private_dir(&new).unwrap();
        assert_eq!(mode(&new), 0o700);
    }

    #[test]
    fn a_new_file_is_private_and_an_existing_one_is_left_to_make_private() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("db");
        create_private_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        fs::set_permissions(&file, fs::Permissions::from_mode(0o664)).unwrap();
        create_private_file(&file).unwrap();
        make_private(&file, 0o600).unwrap();
        assert_eq!(mode(&file), 0o600);
        make_private(&root.path().join("missing"), 0o600).unwrap();
    }
}
