//! Reading and writing the command's files: only regular files are opened (a FIFO or a
//! device named in place of a file never blocks the command), reads are bounded, private
//! files are written with mode 0600 (never replacing an existing key) and refused on read
//! when group or others may access them, and keys are read without echoing their contents.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

use giayto_core::jose::{Jwk, Jwks};
use giayto_core::local_file::{self, LocalFileError};
use zeroize::Zeroizing;

use crate::error::CliError;

/// The largest file read as text or JSON (claims, credentials, keys, lists).
pub const MAX_TEXT_FILE: u64 = 4 * 1024 * 1024;
/// The largest image file read.
pub const MAX_IMAGE_FILE: u64 = 32 * 1024 * 1024;

/// Reads the regular file `path` (never a FIFO or a device: see
/// [`giayto_core::local_file`]) if it holds at most `max` bytes.
pub fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, CliError> {
    local_file::read_regular(path, max).map_err(|e| local_error(path, e))
}

/// Reads a private file (a key): regular, at most [`MAX_TEXT_FILE`] bytes, and refused when
/// its group or others have any access to it (Unix modes; `chmod 600` fixes it).
pub fn read_private(path: &Path) -> Result<Zeroizing<Vec<u8>>, CliError> {
    local_file::read_private(path, MAX_TEXT_FILE).map_err(|e| local_error(path, e))
}

/// Opens the regular file `path` for streaming (never a FIFO or a device).
pub fn open_regular(path: &Path) -> Result<File, CliError> {
    local_file::open_regular(path).map_err(|e| local_error(path, e))
}

fn local_error(path: &Path, e: LocalFileError) -> CliError {
    let source = match e {
        LocalFileError::Io(e) => e,
        LocalFileError::NotFound => io::Error::from(io::ErrorKind::NotFound),
        other => io::Error::new(io::ErrorKind::InvalidInput, other),
    };
    CliError::read(path, source)
}

/// Reads at most `max` bytes from `reader`; more is an `InvalidData` error.
pub fn read_all_bounded(reader: impl Read, max: u64) -> io::Result<Vec<u8>> {
    local_file::read_all_bounded(reader, max).map_err(|e| match e {
        LocalFileError::Io(e) => e,
        other => io::Error::new(io::ErrorKind::InvalidData, other),
    })
}

/// Reads a UTF-8 text file of at most [`MAX_TEXT_FILE`] bytes.
pub fn read_text(path: &Path) -> Result<String, CliError> {
    String::from_utf8(read_bounded(path, MAX_TEXT_FILE)?)
        .map_err(|_| CliError::Format(format!("{} is not UTF-8 text", path.display())))
}

/// Writes a public file (created or replaced).
pub fn write_public(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    fs::write(path, bytes).map_err(|e| CliError::write(path, e))
}

/// Creates a new private file (mode 0600 on Unix); refuses to replace an existing one, so a
/// key is never overwritten by mistake.
pub fn write_private_new(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| CliError::write(path, e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| CliError::write(path, e))
}

/// Reads a private JWK. Errors name the file and a position, never the key's contents.
pub fn read_private_jwk(path: &Path) -> Result<Jwk, CliError> {
    let file = open_regular(path)?;
    let bytes = Zeroizing::new(
        read_all_bounded(&file, MAX_TEXT_FILE).map_err(|e| CliError::read(path, e))?,
    );
    let jwk: Jwk = serde_json::from_slice(&bytes).map_err(|e| {
        CliError::Format(format!(
            "{} is not a JWK (JSON error at line {}, column {})",
            path.display(),
            e.line(),
            e.column()
        ))
    })?;
    if !jwk.is_private() {
        return Err(CliError::Format(format!(
            "{} holds a public key; a private JWK (with \"d\") is needed",
            path.display()
        )));
    }
    // A private key open to group or others is refused (a public one needs no secrecy).
    local_file::ensure_private(&file).map_err(|e| local_error(path, e))?;
    Ok(jwk)
}

/// Reads public keys: a JWK or a JWKS (`{"keys": [...]}`); private parts are dropped.
pub fn read_public_keys(path: &Path) -> Result<Jwks, CliError> {
    let bytes = read_bounded(path, MAX_TEXT_FILE)?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        CliError::Format(format!(
            "{} is not JSON (line {}, column {})",
            path.display(),
            e.line(),
            e.column()
        ))
    })?;
    let not_keys = || CliError::Format(format!("{} is neither a JWK nor a JWKS", path.display()));
    let keys = if value.get("keys").is_some() {
        serde_json::from_value::<Jwks>(value).map_err(|_| not_keys())?
    } else {
        Jwks {
            keys: vec![serde_json::from_value::<Jwk>(value).map_err(|_| not_keys())?],
        }
    };
    Ok(Jwks {
        keys: keys.keys.iter().map(Jwk::to_public).collect(),
    })
}

/// Reads a public JWK (a private one is reduced to its public part).
pub fn read_public_jwk(path: &Path) -> Result<Jwk, CliError> {
    let mut keys = read_public_keys(path)?.keys;
    match (keys.pop(), keys.is_empty()) {
        (Some(key), true) => Ok(key),
        _ => Err(CliError::Format(format!(
            "{} must hold exactly one JWK",
            path.display()
        ))),
    }
}

/// Pretty JSON with a final newline.
pub fn pretty_json(value: &impl serde::Serialize) -> Result<String, CliError> {
    serde_json::to_string_pretty(value)
        .map(|s| s + "\n")
        .map_err(|e| CliError::Format(format!("cannot serialize JSON: {e}")))
}
