//! Opening the master key against the database at start: a new master key is made only for
//! a database that holds nothing wrapped or hashed by one, and an existing key must open
//! what the database holds, else the server refuses to start and says why.
//!
//! The proof is a check value (a keyed hash of a fixed text, `master_key_check`) written at
//! the first start. A database set up before the check value existed is checked by
//! unwrapping one of its signing keys, then gets its check value.

use std::path::Path;

use sqlx::Row;

use crate::db::Db;
use crate::domain::{keys, now};
use crate::secrets::{MasterKey, SecretError};

const CHECK_PURPOSE: &str = "master-key-check";
const CHECK_TEXT: &str = "giayto-server";

/// Why the master key was not opened.
#[derive(Debug, thiserror::Error)]
pub enum UnlockError {
    /// No key file, but the database holds material wrapped or hashed by a master key.
    #[error(
        "master key file {path} is missing, but the database already holds keys made under a \
         master key: restore that file (a new key would open nothing; none was created)"
    )]
    KeyMissing {
        /// The configured key file.
        path: String,
    },
    /// The key file does not open what the database holds.
    #[error(
        "the master key in {path} does not open this database (it was set up with another \
         master key): restore the right key file"
    )]
    WrongKey {
        /// The configured key file.
        path: String,
    },
    /// Reading or creating the key file.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// Reading or writing the database.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

/// Loads the master key at `path` and checks it against `db`, creating the key (mode 0600)
/// only when both the file and any keyed material in the database are absent.
pub async fn open_master_key(path: &Path, db: &Db) -> Result<MasterKey, UnlockError> {
    let shown = || path.display().to_string();
    let check: Option<String> =
        sqlx::query_scalar("SELECT check_value FROM master_key_check WHERE id = 1")
            .fetch_optional(db.pool())
            .await?;
    let sample = sqlx::query(
        "SELECT kid, wrapped_private FROM signing_keys ORDER BY created_at, kid LIMIT 1",
    )
    .fetch_optional(db.pool())
    .await?;
    let api_key: Option<String> = sqlx::query_scalar("SELECT id FROM api_keys LIMIT 1")
        .fetch_optional(db.pool())
        .await?;
    let (master, created) = match MasterKey::load(path)? {
        Some(master) => (master, false),
        None if check.is_some() || sample.is_some() || api_key.is_some() => {
            return Err(UnlockError::KeyMissing { path: shown() });
        }
        None => (MasterKey::create(path)?, true),
    };
    let refuse = |e: UnlockError| {
        if created {
            // Never leave behind a key that opens nothing.
            let _ = std::fs::remove_file(path);
        }
        Err(e)
    };
    if let Some(check) = check {
        if !master.secret_matches(CHECK_PURPOSE, CHECK_TEXT, &check) {
            return refuse(UnlockError::WrongKey { path: shown() });
        }
        return Ok(master);
    }
    if let Some(row) = sample {
        let kid: String = row.try_get("kid")?;
        let wrapped: Vec<u8> = row.try_get("wrapped_private")?;
        if keys::unwrap_private(&master, &kid, &wrapped).is_err() {
            return refuse(UnlockError::WrongKey { path: shown() });
        }
    }
    let value = master.hash_secret(CHECK_PURPOSE, CHECK_TEXT);
    sqlx::query(
        "INSERT INTO master_key_check (id, check_value, created_at) VALUES (1, $1, $2) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&value)
    .bind(now())
    .execute(db.writer())
    .await?;
    // Another server may have set up the same empty database at the same moment.
    let stored: String =
        sqlx::query_scalar("SELECT check_value FROM master_key_check WHERE id = 1")
            .fetch_one(db.pool())
            .await?;
    if !master.secret_matches(CHECK_PURPOSE, CHECK_TEXT, &stored) {
        return refuse(UnlockError::WrongKey { path: shown() });
    }
    Ok(master)
}
