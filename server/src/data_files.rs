//! The SQLite database on disk holds citizens' names, birth dates, ID numbers and addresses:
//! it is created mode 0600 whatever the umask (SQLite then gives its `-wal`, `-shm` and
//! `-journal` files the database file's own mode), and a server refuses to start when any of
//! them lets group or others in (the same rule as the master key file; `chmod 600` fixes
//! it). PostgreSQL and in-memory databases have no such files.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::sqlite::SqliteConnectOptions;

/// A database file that is not private, or could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DataFileError {
    /// The file lets group or others in.
    #[error(
        "database file {path} has mode {mode:o}: it holds personal data and must not be \
         accessible to group or others (chmod 600 it and its -wal and -shm files)"
    )]
    TooOpen {
        /// The file.
        path: String,
        /// Its permission bits.
        mode: u32,
    },
    /// Creating or inspecting the file failed.
    #[error("database file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The URL does not parse as a SQLite URL.
    #[error("database URL: {0}")]
    Url(#[from] sqlx::Error),
}

/// The files SQLite keeps for the database at `db`.
fn companions(db: &Path) -> [PathBuf; 4] {
    let with = |suffix: &str| {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    [
        db.to_path_buf(),
        with("-wal"),
        with("-shm"),
        with("-journal"),
    ]
}

/// Before SQLite opens `url`: creates the database file empty and 0600 when it is missing and
/// the URL lets it be created (`mode=rwc`), and refuses any existing database, `-wal`,
/// `-shm` or `-journal` file whose mode gives group or others access.
pub fn prepare_sqlite(url: &str) -> Result<(), DataFileError> {
    let options = SqliteConnectOptions::from_str(url)?;
    let mode = url.split_once('?').and_then(|(_, query)| {
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "mode")
            .map(|(_, v)| v.into_owned())
    });
    if mode.as_deref() == Some("memory") || url.contains(":memory:") {
        return Ok(());
    }
    let db = options.get_filename();
    let io = |path: &Path, source| DataFileError::Io {
        path: path.display().to_string(),
        source,
    };
    if mode.as_deref() == Some("rwc") && !db.exists() {
        let mut create = std::fs::OpenOptions::new();
        create.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            create.mode(0o600);
        }
        match create.open(db) {
            Ok(_) => {}
            // Another process made it in between: checked below like any existing file.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io(db, e)),
        }
    }
    #[cfg(unix)]
    for path in companions(db) {
        use std::os::unix::fs::PermissionsExt;
        match std::fs::metadata(&path) {
            Ok(meta) => {
                let mode = meta.permissions().mode() & 0o7777;
                if mode & 0o077 != 0 {
                    return Err(DataFileError::TooOpen {
                        path: path.display().to_string(),
                        mode,
                    });
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&path, e)),
        }
    }
    Ok(())
}

#[cfg(all(test, unix))]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_missing_database_is_created_private_and_an_open_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("giayto.db");
        let url = format!("sqlite://{}?mode=rwc", db.display());
        prepare_sqlite(&url).unwrap();
        assert_eq!(mode(&db), 0o600);
        prepare_sqlite(&url).unwrap();
        let wal = dir.path().join("giayto.db-wal");
        std::fs::write(&wal, b"").unwrap();
        std::fs::set_permissions(&wal, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = prepare_sqlite(&url).unwrap_err();
        assert!(
            matches!(e, DataFileError::TooOpen { mode: 0o644, .. }),
            "{e}"
        );
        assert!(e.to_string().contains("giayto.db-wal"), "{e}");
        // Without mode=rwc nothing is created (SQLite will then say the file is missing).
        let other = dir.path().join("other.db");
        prepare_sqlite(&format!("sqlite://{}", other.display())).unwrap();
        assert!(!other.exists());
        prepare_sqlite("sqlite::memory:").unwrap();
    }
}
