//! Opening files that a user or an operator names (keys, vaults, configuration, inputs):
//! only regular files, opened without waiting (a FIFO or a device named in their place
//! never blocks the caller), read with a bound, and checked to be private when they hold
//! secrets or personal data.
//!
//! On Unix the file is opened with `O_NONBLOCK` and checked with `fstat` on the opened
//! handle, so a file swapped for a FIFO between a check and the open cannot block either.
//! `O_NONBLOCK` has no effect on reads of a regular file.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::path::Path;

use zeroize::Zeroizing;

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub enum LocalFileError {
    /// Nothing at the path.
    #[error("no such file")]
    NotFound,
    /// The path names a FIFO, a device, a socket or a folder.
    #[error("not a regular file")]
    NotRegular,
    /// The file holds more than the caller's bound.
    #[error("larger than the {max}-byte limit")]
    TooLarge {
        /// The bound, bytes.
        max: u64,
    },
    /// A private file may be read or written by its group or by others (Unix mode shown in
    /// octal); `chmod 600` fixes it.
    #[error("mode {mode:o} lets group or others access it (chmod 600)")]
    TooOpen {
        /// The permission bits.
        mode: u32,
    },
    /// Any other operating-system error.
    #[error("{0}")]
    Io(io::Error),
}

impl From<io::Error> for LocalFileError {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::NotFound {
            LocalFileError::NotFound
        } else {
            LocalFileError::Io(e)
        }
    }
}

/// Opens `path` for reading if it is a regular file (symbolic links are followed), without
/// ever blocking on a FIFO or a device.
pub fn open_regular(path: &Path) -> Result<File, LocalFileError> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(LocalFileError::NotRegular);
    }
    Ok(file)
}

/// Reads at most `max` bytes from `reader`; more is [`LocalFileError::TooLarge`], found
/// after reading `max + 1` bytes, never more.
pub fn read_all_bounded(reader: impl Read, max: u64) -> Result<Vec<u8>, LocalFileError> {
    let mut bytes = Vec::new();
    reader.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(LocalFileError::TooLarge { max });
    }
    Ok(bytes)
}

/// Reads the regular file `path` whole, refusing one of more than `max` bytes.
pub fn read_regular(path: &Path, max: u64) -> Result<Vec<u8>, LocalFileError> {
    let file = open_regular(path)?;
    if file.metadata()?.len() > max {
        return Err(LocalFileError::TooLarge { max });
    }
    read_all_bounded(file, max)
}

/// Refuses an open file whose mode gives group or others any access (Unix; elsewhere the
/// platform's ACLs rule and nothing is checked).
pub fn ensure_private(file: &File) -> Result<(), LocalFileError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata()?.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(LocalFileError::TooOpen { mode });
        }
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

/// Reads a secret: a regular, private ([`ensure_private`]) file of at most `max` bytes,
/// into memory that is wiped when dropped.
pub fn read_private(path: &Path, max: u64) -> Result<Zeroizing<Vec<u8>>, LocalFileError> {
    let file = open_regular(path)?;
    ensure_private(&file)?;
    if file.metadata()?.len() > max {
        return Err(LocalFileError::TooLarge { max });
    }
    // Room for max + 1 bytes up front: no reallocation leaves a stray copy of the secret.
    let capacity = usize::try_from(max.saturating_add(1).min(1 << 16)).unwrap_or(1 << 16);
    let mut bytes = Zeroizing::new(Vec::with_capacity(capacity));
    file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(LocalFileError::TooLarge { max });
    }
    Ok(bytes)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_are_read_within_their_bound() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"12345").unwrap();
        assert_eq!(read_regular(&path, 5).unwrap(), b"12345");
        assert!(matches!(
            read_regular(&path, 4),
            Err(LocalFileError::TooLarge { max: 4 })
        ));
        assert!(matches!(
            read_regular(&dir.path().join("none"), 4),
            Err(LocalFileError::NotFound)
        ));
        assert!(matches!(
            read_regular(dir.path(), 4),
            Err(LocalFileError::NotRegular)
        ));
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_fifos_are_refused_without_blocking() {
        // /dev/zero never ends: it must be refused, not read until memory runs out.
        assert!(matches!(
            read_regular(Path::new("/dev/zero"), 32),
            Err(LocalFileError::NotRegular)
        ));
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        // With no writer, a plain open() of a FIFO blocks for ever; this returns.
        assert!(matches!(
            read_regular(&fifo, 32),
            Err(LocalFileError::NotRegular)
        ));
        assert!(matches!(
            read_private(&fifo, 32),
            Err(LocalFileError::NotRegular)
        ));
    }

    #[cfg(unix)]
    #[test]
    fn private_files_must_not_be_open_to_group_or_others() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, b"secret").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            read_private(&path, 64),
            Err(LocalFileError::TooOpen { mode: 0o644 })
        ));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_private(&path, 64).unwrap().as_slice(), b"secret");
        assert!(matches!(
            read_private(&path, 3),
            Err(LocalFileError::TooLarge { max: 3 })
        ));
    }
}
