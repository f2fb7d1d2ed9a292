//! Crash-safe file replacement: write a temporary file next to the target, fsync it, rename
//! it over the target, fsync the folder. At every instant the target path holds either the
//! complete old file or the complete new one.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use ring::rand::{SecureRandom, SystemRandom};

/// Why an atomic write failed, and whether the new file had already replaced the old one.
#[derive(Debug)]
pub(crate) struct WriteFailure {
    /// The underlying I/O error.
    pub error: io::Error,
    /// `true` when the rename happened and only the folder fsync failed: the new contents
    /// are in place but may not survive a power cut.
    pub renamed: bool,
}

impl WriteFailure {
    fn before_rename(error: io::Error) -> WriteFailure {
        WriteFailure {
            error,
            renamed: false,
        }
    }
}

/// The folder holding `target` (`.` for a bare file name).
fn folder_of(target: &Path) -> &Path {
    match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// The prefix of every temporary file for `target`: `.<file name>.tmp.`. The leading dot
/// hides it from casual listings; the prefix lets [`remove_stale_temp_files`] find it.
fn temp_prefix(target: &Path) -> io::Result<OsString> {
    let name = target.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "vault path has no file name")
    })?;
    let mut prefix = OsString::from(".");
    prefix.push(name);
    prefix.push(".tmp.");
    Ok(prefix)
}

/// A fresh, unguessable temporary path next to `target`.
fn temp_path(target: &Path) -> io::Result<PathBuf> {
    let mut random = [0u8; 8];
    SystemRandom::new()
        .fill(&mut random)
        .map_err(|_| io::Error::other("the system random generator failed"))?;
    let mut name = temp_prefix(target)?;
    for byte in random {
        name.push(format!("{byte:02x}"));
    }
    Ok(folder_of(target).join(name))
}

/// Creates a new file that only its owner can read and write (0600 on Unix), refusing to
/// reuse an existing path.
fn create_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Makes a rename inside `folder` durable. On Unix the folder itself must be fsynced;
/// other platforms give no portable way to do it and rely on the rename alone.
fn sync_folder(folder: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(folder)?.sync_all()?;
    }
    #[cfg(not(unix))]
    {
        let _ = folder;
    }
    Ok(())
}

/// Replaces `target` with `contents` atomically and durably.
///
/// On any failure before the rename the temporary file is removed and `target` is untouched.
pub(crate) fn write_atomically(target: &Path, contents: &[u8]) -> Result<(), WriteFailure> {
    let temp = temp_path(target).map_err(WriteFailure::before_rename)?;
    let written = create_private(&temp).and_then(|mut file| {
        file.write_all(contents)?;
        file.sync_all()
    });
    if let Err(error) = written.and_then(|()| fs::rename(&temp, target)) {
        // Best effort: a leftover is also removed by the next open.
        let _ = fs::remove_file(&temp);
        return Err(WriteFailure::before_rename(error));
    }
    sync_folder(folder_of(target)).map_err(|error| WriteFailure {
        error,
        renamed: true,
    })
}

/// Deletes temporary files a crashed or interrupted write left next to `target`, and
/// returns how many it removed. A temporary file never holds anything acknowledged to the
/// caller: a write only reports success after its rename. Failures are ignored; the next
/// open tries again.
pub(crate) fn remove_stale_temp_files(target: &Path) -> usize {
    let Ok(prefix) = temp_prefix(target) else {
        return 0;
    };
    let prefix = prefix.as_encoded_bytes();
    let Ok(entries) = fs::read_dir(folder_of(target)) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().as_encoded_bytes().starts_with(prefix))
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_file()))
        .filter(|entry| fs::remove_file(entry.path()).is_ok())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_contents_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("w.vault");
        write_atomically(&target, b"one").unwrap();
        write_atomically(&target, b"two").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"two");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn file_is_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("w.vault");
        write_atomically(&target, b"x").unwrap();
        let mode = fs::metadata(&target).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn stale_temps_of_this_target_only_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("w.vault");
        fs::write(temp_path(&target).unwrap(), b"partial").unwrap();
        fs::write(temp_path(&target).unwrap(), b"partial").unwrap();
        let other = dir.path().join("other.vault");
        fs::write(temp_path(&other).unwrap(), b"keep").unwrap();
        fs::write(dir.path().join("w.vault.bak"), b"keep").unwrap();
        assert_eq!(remove_stale_temp_files(&target), 2);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn failed_write_leaves_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("w.vault");
        write_atomically(&target, b"old").unwrap();
        // Renaming a file over a non-empty folder fails: simulate with a folder target.
        let folder_target = dir.path().join("sub");
        fs::create_dir(&folder_target).unwrap();
        fs::write(folder_target.join("x"), b"x").unwrap();
        let failure = write_atomically(&folder_target, b"new").unwrap_err();
        assert!(!failure.renamed);
        assert_eq!(fs::read(&target).unwrap(), b"old");
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    }
}
