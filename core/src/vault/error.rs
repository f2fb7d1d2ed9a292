//! Errors of the wallet vault. Messages name what went wrong, never key bytes or contents.

/// Why a vault could not be opened, created or written.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// There is no vault file at the given path. Never treated as an empty wallet.
    #[error("no vault file at this path")]
    NotFound,
    /// [`Vault::create`](super::Vault::create) found a file already at the path and refused
    /// to overwrite it.
    #[error("a file already exists at the vault path; refusing to overwrite it")]
    AlreadyExists,
    /// The AES-GCM tag did not verify. AES-GCM cannot tell a wrong key from altered or
    /// damaged bytes, so this one error covers both.
    #[error("the vault cannot be decrypted: wrong key, or the file is corrupted")]
    WrongKeyOrCorrupted,
    /// The file ends before its header and authentication tag are complete.
    #[error("the vault file is truncated")]
    Truncated,
    /// The file is a vault of a format version this code does not know.
    #[error("unsupported vault format version {0}")]
    UnsupportedVersion(u8),
    /// The file does not start with the vault magic bytes: it is not a vault.
    #[error("not a giayto vault file (bad magic bytes)")]
    BadMagic,
    /// The file, or the vault about to be written, exceeds the size limit
    /// ([`MAX_VAULT_FILE_LEN`](super::MAX_VAULT_FILE_LEN)).
    #[error("the vault file exceeds the size limit")]
    TooLarge,
    /// The decrypted body is not the expected JSON. Only the position is reported, never
    /// the contents.
    #[error("the decrypted vault body is not valid vault JSON (line {line}, column {column})")]
    Json {
        /// Line of the error in the body (1-based; 0 when serializing).
        line: usize,
        /// Column of the error in the body (1-based; 0 when serializing).
        column: usize,
    },
    /// A credential's JSON (its `display` snapshot) nests deeper than
    /// [`MAX_JSON_DEPTH`](crate::limits::MAX_JSON_DEPTH); it is refused so that every vault
    /// written can be read back.
    #[error("the credential's JSON is nested too deeply to store")]
    TooDeep,
    /// The vault file changed on disk since this handle read or wrote it (another handle or
    /// process wrote it). Writing now would drop the other writer's documents, so nothing
    /// was written; reopen the vault and retry.
    #[error("the vault file was changed by another writer; reopen it and retry")]
    ModifiedElsewhere,
    /// The operating system's random generator failed.
    #[error("the system random number generator failed")]
    RandomUnavailable,
    /// A file-system operation failed.
    #[error("vault file I/O failed: {0}")]
    Io(#[from] std::io::Error),
}

impl From<serde_json::Error> for VaultError {
    fn from(error: serde_json::Error) -> VaultError {
        VaultError::Json {
            line: error.line(),
            column: error.column(),
        }
    }
}
