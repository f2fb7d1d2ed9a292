//! The wallet vault: credentials encrypted with AES-256-GCM under a platform key, written atomically.
//!
//! A [`Vault`] keeps the wallet's [`StoredCredential`]s (each SD-JWT VC with all its
//! disclosures, the alias of its holder key and a display snapshot) in one encrypted file.
//! The key ([`VaultKey`]) comes from the platform key store; the vault never stores it.
//!
//! # File format (version 1)
//!
//! ```text
//! offset  len  field
//!      0    8  magic, ASCII "GIAYTOV1"
//!      8    1  format version, 0x01
//!      9   12  AES-GCM nonce, fresh from the OS CSPRNG (ring SystemRandom) on every write
//!     21    n  AES-256-GCM ciphertext of the UTF-8 JSON body
//!   21+n   16  AES-GCM tag; the additional authenticated data is the 21 header bytes
//! ```
//!
//! The JSON body is `{"credentials":[StoredCredential, ...]}`. Files larger than
//! [`MAX_VAULT_FILE_LEN`] are refused before they are read. The format is pinned by byte
//! vectors computed with an independent AES-GCM implementation.
//!
//! # Crash safety
//!
//! Every change is written in full to a temporary file in the vault's folder (named
//! `.<vault file name>.tmp.<16 hex digits>`, mode 0600 on Unix), fsynced, renamed over the
//! vault file and followed by an fsync of the folder. A change is reported successful only
//! after that, so a crash at any moment leaves either the previous vault or the new one,
//! never a mix, and a temporary file never holds anything acknowledged: [`Vault::open`]
//! deletes any left over.
//!
//! # One writer
//!
//! A handle remembers the nonce of the file it last read or wrote. Before writing it checks
//! that the file still carries that nonce; if another handle or process wrote in between,
//! the write is refused with [`VaultError::ModifiedElsewhere`] instead of silently dropping
//! the other writer's documents. The check and the rename are not one atomic step, so an
//! application should still keep a single `Vault` per file (behind a `Mutex` if shared).

mod account;
mod atomic;
mod credential;
mod error;
mod format;
mod key;

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::local_file::{self, LocalFileError};

pub use account::{AccountLink, CheckedStatusList, StoredAccount};
pub use credential::{PurposeCredential, RefillGrant, StoredCredential};
pub use error::VaultError;
pub use format::{FORMAT_VERSION, MAGIC, MAX_VAULT_FILE_LEN};
pub use key::{VAULT_KEY_LEN, VaultKey};

use format::{HEADER_LEN, TAG_LEN, VaultNonce};

/// The decrypted body of a vault file, as read.
#[derive(Deserialize)]
struct VaultBody {
    credentials: Vec<StoredCredential>,
    #[serde(default)]
    account: Option<StoredAccount>,
}

/// The decrypted body of a vault file, as written (borrows instead of cloning).
#[derive(Serialize)]
struct VaultBodyRef<'a> {
    credentials: &'a [StoredCredential],
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<&'a StoredAccount>,
}

/// A failed write, and whether the new file had already replaced the old one anyway.
struct PersistFailure {
    error: VaultError,
    committed: bool,
}

impl From<VaultError> for PersistFailure {
    fn from(error: VaultError) -> PersistFailure {
        PersistFailure {
            error,
            committed: false,
        }
    }
}

impl From<serde_json::Error> for PersistFailure {
    fn from(error: serde_json::Error) -> PersistFailure {
        VaultError::from(error).into()
    }
}

/// An open, decrypted wallet vault bound to its file and key.
///
/// Reads come from memory; every change ([`insert`](Vault::insert),
/// [`remove`](Vault::remove)) is written to disk atomically before it returns. If a write
/// fails, the in-memory state is rolled back to match the file.
pub struct Vault {
    path: PathBuf,
    key: VaultKey,
    credentials: Vec<StoredCredential>,
    /// The citizen account, once activated (issue 14).
    account: Option<StoredAccount>,
    /// Nonce of the file this handle last read or wrote; `None` before the first write of a
    /// new vault.
    on_disk_nonce: Option<VaultNonce>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("path", &self.path)
            .field("len", &self.credentials.len())
            .finish_non_exhaustive()
    }
}

impl Vault {
    /// Creates a new, empty vault file at `path`, encrypted under `key`.
    ///
    /// Refuses with [`VaultError::AlreadyExists`] if anything is already at `path`: an
    /// existing wallet is never overwritten by an empty one.
    pub fn create(path: impl AsRef<Path>, key: &VaultKey) -> Result<Vault, VaultError> {
        let path = path.as_ref().to_path_buf();
        match fs::symlink_metadata(&path) {
            Ok(_) => return Err(VaultError::AlreadyExists),
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => return Err(VaultError::Io(error)),
        }
        atomic::remove_stale_temp_files(&path);
        let mut vault = Vault {
            path,
            key: key.clone(),
            credentials: Vec::new(),
            account: None,
            on_disk_nonce: None,
        };
        vault.persist().map_err(|failure| failure.error)?;
        Ok(vault)
    }

    /// Opens and decrypts the vault at `path` with `key`.
    ///
    /// A missing file is [`VaultError::NotFound`], never an empty wallet; a wrong key or a
    /// damaged file is an error ([`VaultError::WrongKeyOrCorrupted`], [`VaultError::Truncated`],
    /// [`VaultError::BadMagic`], ...). Temporary files left by an interrupted write are
    /// deleted once the vault has been read.
    pub fn open(path: impl AsRef<Path>, key: &VaultKey) -> Result<Vault, VaultError> {
        let path = path.as_ref().to_path_buf();
        let file = read_bounded(&path)?;
        let (body, nonce) = format::open_sealed(key, &file)?;
        let body: VaultBody = serde_json::from_slice(&body)?;
        atomic::remove_stale_temp_files(&path);
        Ok(Vault {
            path,
            key: key.clone(),
            credentials: body.credentials,
            account: body.account,
            on_disk_nonce: Some(nonce),
        })
    }

    /// Opens the vault at `path`, or creates an empty one if there is no file there.
    /// Every other error of [`Vault::open`] is returned as is.
    pub fn open_or_create(path: impl AsRef<Path>, key: &VaultKey) -> Result<Vault, VaultError> {
        match Vault::open(path.as_ref(), key) {
            Err(VaultError::NotFound) => Vault::create(path, key),
            result => result,
        }
    }

    /// The path of the vault file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// All stored credentials, in insertion order.
    pub fn list(&self) -> &[StoredCredential] {
        &self.credentials
    }

    /// The credential with this `id`, if any.
    pub fn get(&self, id: &str) -> Option<&StoredCredential> {
        self.credentials.iter().find(|stored| stored.id == id)
    }

    /// Number of stored credentials.
    pub fn len(&self) -> usize {
        self.credentials.len()
    }

    /// Whether the vault holds no credential.
    pub fn is_empty(&self) -> bool {
        self.credentials.is_empty()
    }

    /// Stores `credential` and writes the vault to disk before returning. A credential with
    /// the same `id` is replaced in place (one atomic write, so a re-issued document never
    /// goes missing in between).
    ///
    /// On error the vault in memory is unchanged, except for an [`VaultError::Io`] from the
    /// final folder fsync: the new file is then already in place and kept in memory too.
    pub fn insert(&mut self, credential: StoredCredential) -> Result<(), VaultError> {
        let position = self
            .credentials
            .iter()
            .position(|stored| stored.id == credential.id);
        let replaced = match position {
            Some(index) => Some((
                index,
                std::mem::replace(&mut self.credentials[index], credential),
            )),
            None => {
                self.credentials.push(credential);
                None
            }
        };
        if let Err(failure) = self.persist() {
            if !failure.committed {
                match replaced {
                    Some((index, previous)) => self.credentials[index] = previous,
                    None => {
                        self.credentials.pop();
                    }
                }
            }
            return Err(failure.error);
        }
        Ok(())
    }

    /// Removes the credential with this `id` and writes the vault to disk. Returns whether
    /// there was one; nothing is written when there was none. Errors as for
    /// [`Vault::insert`].
    pub fn remove(&mut self, id: &str) -> Result<bool, VaultError> {
        let Some(index) = self.credentials.iter().position(|stored| stored.id == id) else {
            return Ok(false);
        };
        let removed = self.credentials.remove(index);
        if let Err(failure) = self.persist() {
            if !failure.committed {
                self.credentials.insert(index, removed);
            }
            return Err(failure.error);
        }
        Ok(true)
    }

    /// The citizen account, once activated.
    pub fn account(&self) -> Option<&StoredAccount> {
        self.account.as_ref()
    }

    /// Replaces the citizen account (`None` forgets it) and writes the vault to disk.
    /// Errors as for [`Vault::insert`]; on error the account in memory is unchanged unless
    /// the new file was already in place.
    pub fn set_account(&mut self, account: Option<StoredAccount>) -> Result<(), VaultError> {
        let previous = std::mem::replace(&mut self.account, account);
        if let Err(failure) = self.persist() {
            if !failure.committed {
                self.account = previous;
            }
            return Err(failure.error);
        }
        Ok(())
    }

    /// Encrypts the current state under a fresh nonce and replaces the file atomically.
    fn persist(&mut self) -> Result<(), PersistFailure> {
        self.ensure_not_modified_elsewhere()?;
        let body = Zeroizing::new(serde_json::to_vec(&VaultBodyRef {
            credentials: &self.credentials,
            account: self.account.as_ref(),
        })?);
        // serde_json refuses to read JSON nested past its recursion limit; never write any.
        crate::limits::check_json_depth(&body).map_err(|_| VaultError::TooDeep)?;
        let nonce = format::random_nonce()?;
        let sealed = format::seal_with_nonce(&self.key, nonce, &body)?;
        match atomic::write_atomically(&self.path, &sealed) {
            Ok(()) => {
                self.on_disk_nonce = Some(nonce);
                Ok(())
            }
            Err(failure) => {
                if failure.renamed {
                    self.on_disk_nonce = Some(nonce);
                }
                Err(PersistFailure {
                    error: VaultError::Io(failure.error),
                    committed: failure.renamed,
                })
            }
        }
    }

    /// Refuses to write when the file on disk is a valid vault written by someone else since
    /// this handle last saw it. A missing or damaged file does not block the write: this
    /// handle then holds the last good state.
    fn ensure_not_modified_elsewhere(&self) -> Result<(), VaultError> {
        let mut header = Vec::with_capacity(HEADER_LEN + TAG_LEN);
        match local_file::open_regular(&self.path) {
            Ok(file) => {
                file.take((HEADER_LEN + TAG_LEN) as u64)
                    .read_to_end(&mut header)?;
            }
            Err(LocalFileError::NotFound) => return Ok(()),
            Err(error) => return Err(error.into()),
        }
        match format::parse_header(&header) {
            Ok(nonce) if Some(nonce) != self.on_disk_nonce => Err(VaultError::ModifiedElsewhere),
            _ => Ok(()),
        }
    }
}

/// Reads a whole vault file, refusing one over [`MAX_VAULT_FILE_LEN`] before reading it
/// (and also if it grows while being read), and anything but a regular file (a FIFO named
/// as the vault must not block the wallet).
fn read_bounded(path: &Path) -> Result<Vec<u8>, VaultError> {
    Ok(local_file::read_regular(path, MAX_VAULT_FILE_LEN)?)
}

impl From<LocalFileError> for VaultError {
    fn from(error: LocalFileError) -> VaultError {
        match error {
            LocalFileError::NotFound => VaultError::NotFound,
            LocalFileError::TooLarge { .. } => VaultError::TooLarge,
            LocalFileError::Io(error) => VaultError::Io(error),
            other @ (LocalFileError::NotRegular | LocalFileError::TooOpen { .. }) => {
                VaultError::Io(io::Error::new(io::ErrorKind::InvalidInput, other))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authentic_body_of_the_wrong_shape_is_a_json_error_without_contents() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.vault");
        let key = VaultKey::from_bytes([9; 32]);
        let body = br#"{"credentials":[{"id":"secret-personal-data"}]}"#;
        let sealed = format::seal_with_nonce(&key, [3; 12], body).unwrap();
        fs::write(&path, sealed).unwrap();
        let error = Vault::open(&path, &key).unwrap_err();
        assert!(matches!(error, VaultError::Json { line: 1, .. }), "{error}");
        assert!(!error.to_string().contains("secret-personal-data"));
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_named_as_the_vault_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault.giayto");
        let made = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .unwrap();
        assert!(made.success());
        // No writer ever opens the FIFO: a plain open() would wait for ever.
        let error = Vault::open(&path, &VaultKey::from_bytes([9; 32])).unwrap_err();
        assert!(
            matches!(&error, VaultError::Io(e) if e.kind() == io::ErrorKind::InvalidInput),
            "{error}"
        );
        assert!(error.to_string().contains("not a regular file"), "{error}");
    }
}
