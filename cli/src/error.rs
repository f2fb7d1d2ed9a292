//! The command's one error type and how each error maps to an exit code.
//!
//! Messages never contain secrets: private keys, API keys and transaction codes are never
//! formatted into an error, and JSON parse errors of key files report only a position.

use std::io;
use std::path::Path;

use giayto_core::jose::JoseError;
use giayto_core::oid4vci::Oid4vciError;
use giayto_core::qr::QrError;
use giayto_core::sd_jwt_vc::IssueError;
use giayto_core::vault::VaultError;
use giayto_core::wallet::WalletError;

/// Exit code of a valid verification or a successful command.
pub const EXIT_OK: u8 = 0;
/// Exit code of an invalid presentation (the input was read, and it is not acceptable).
pub const EXIT_INVALID: u8 = 1;
/// Exit code of a usage, input/output or network error.
pub const EXIT_ERROR: u8 = 2;

/// Everything that can stop a `giayto` command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The arguments make no sense together.
    #[error("{0}")]
    Usage(String),
    /// A file could not be read or written.
    #[error("{what} {path}: {source}")]
    Io {
        /// `cannot read`, `cannot write`, ...
        what: &'static str,
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A file or argument is not in the expected format.
    #[error("{0}")]
    Format(String),
    /// A network request failed.
    #[error("network: {0}")]
    Network(String),
    /// A key could not be generated, read or used.
    #[error("key: {0}")]
    Key(#[from] JoseError),
    /// A QR code could not be built, read or understood.
    #[error("QR: {0}")]
    Qr(#[from] QrError),
    /// A credential could not be issued.
    #[error("issue: {0}")]
    Issue(#[from] IssueError),
    /// The wallet refused an operation.
    #[error("wallet: {0}")]
    Wallet(#[from] WalletError),
    /// The wallet's vault could not be opened or written.
    #[error("vault: {0}")]
    Vault(#[from] VaultError),
    /// The OpenID4VCI exchange failed.
    #[error("OpenID4VCI: {0}")]
    Oid4vci(#[from] Oid4vciError),
    /// Some lines of a bulk publication failed (the summary was printed).
    #[error("{failed} of {total} documents failed to publish")]
    PublishFailed {
        /// Lines that failed.
        failed: usize,
        /// Lines sent.
        total: usize,
    },
}

impl CliError {
    /// The exit code for this error: 1 when the failure is a verdict on the presented
    /// data, 2 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::PublishFailed { .. } => EXIT_INVALID,
            _ => EXIT_ERROR,
        }
    }

    /// An I/O error reading `path`.
    pub fn read(path: &Path, source: io::Error) -> CliError {
        CliError::Io {
            what: "cannot read",
            path: path.display().to_string(),
            source,
        }
    }

    /// An I/O error writing `path`.
    pub fn write(path: &Path, source: io::Error) -> CliError {
        CliError::Io {
            what: "cannot write",
            path: path.display().to_string(),
            source,
        }
    }
}
