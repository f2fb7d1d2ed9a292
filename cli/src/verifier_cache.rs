//! The verifier cache folder of the desk tool: what `giayto verifier sync` downloaded, so
//! `giayto verify --cache DIR` checks documents offline, including the status of documents
//! whose status list no presentation ever named.
//!
//! Layout (all public data, written atomically: a crash leaves the old file or the new one):
//! - `anchor.json`: the pinned trust anchor (public JWK or JWKS), copied at the first sync;
//! - `trust-list-url`: where the trust list is fetched from, for the next sync;
//! - `state.json`: the device state ([`DeviceState`]): the trust list token and every
//!   status list with its `iat`, `exp`, `ttl`, when it was last confirmed current, and its
//!   HTTP validators, and the key-binding proofs `giayto verify` accepted (their SHA-256 and
//!   window end only), so a one-way QR is refused by the next run as replayed. Status
//!   lists are not re-verified when read (they were when stored): keep the folder writable
//!   only by the desk's user.

use std::io::Write;
use std::path::{Path, PathBuf};

use giayto_core::jose::Jwks;
use giayto_core::verifier::{DeviceState, MAX_STATUS_CACHE_DECODED_BYTES, VerifierDevice};

use crate::error::CliError;
use crate::files;

/// The largest `state.json` read: the decoded cache bound, plus room for base64 and JSON.
pub const MAX_STATE_FILE: u64 = (MAX_STATUS_CACHE_DECODED_BYTES as u64) * 3 / 2;
/// The verifier id the desk tool shows in challenges.
pub const DESK_VERIFIER_ID: &str = "giayto-desk";

/// A verifier cache folder.
#[derive(Debug, Clone)]
pub struct CacheFolder {
    dir: PathBuf,
}

impl CacheFolder {
    /// The folder at `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> CacheFolder {
        CacheFolder { dir: dir.into() }
    }

    /// The folder's path.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The pinned anchor, if the folder has one.
    pub fn anchor(&self) -> Result<Option<Jwks>, CliError> {
        let path = self.path("anchor.json");
        if !path.exists() {
            return Ok(None);
        }
        files::read_public_keys(&path).map(Some)
    }

    /// The trust list URL of the last sync, if any.
    pub fn trust_list_url(&self) -> Result<Option<String>, CliError> {
        let path = self.path("trust-list-url");
        if !path.exists() {
            return Ok(None);
        }
        Ok(Some(files::read_text(&path)?.trim().to_owned()))
    }

    /// The saved device state, if any.
    pub fn state(&self) -> Result<Option<DeviceState>, CliError> {
        let path = self.path("state.json");
        if !path.exists() {
            return Ok(None);
        }
        let bytes = files::read_bounded(&path, MAX_STATE_FILE)?;
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| CliError::Format(format!("{}: {e}", path.display())))
    }

    /// A verifier device pinning the folder's anchor, with the saved state loaded (the
    /// trust list verified again against the anchor at `now`).
    pub fn device(&self, now: i64) -> Result<VerifierDevice, CliError> {
        let anchors = self.anchor()?.ok_or_else(|| {
            CliError::Usage(format!(
                "{} is not a verifier cache: run `giayto verifier sync --cache {} --anchor JWK --trust-list URL` first",
                self.dir.display(),
                self.dir.display()
            ))
        })?;
        let mut device = VerifierDevice::new(anchors, DESK_VERIFIER_ID)
            .map_err(|e| CliError::Format(format!("anchor: {e}")))?;
        if let Some(state) = self.state()? {
            device
                .import_state(state, now)
                .map_err(|e| CliError::Format(format!("{}: {e}", self.dir.display())))?;
        }
        Ok(device)
    }

    /// Pins `anchors` and remembers `trust_list_url`.
    pub fn write_setup(&self, anchors: &Jwks, trust_list_url: &str) -> Result<(), CliError> {
        self.write("anchor.json", files::pretty_json(anchors)?.as_bytes())?;
        self.write("trust-list-url", format!("{trust_list_url}\n").as_bytes())
    }

    /// Saves the device's state.
    pub fn save(&self, device: &VerifierDevice) -> Result<(), CliError> {
        let json = serde_json::to_vec(&device.export_state())
            .map_err(|e| CliError::Format(format!("cannot serialize the cache: {e}")))?;
        self.write("state.json", &json)
    }

    /// Replaces `name` atomically (a temporary file in the folder, synced, renamed over it).
    fn write(&self, name: &str, bytes: &[u8]) -> Result<(), CliError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| CliError::write(&self.dir, e))?;
        let target = self.path(name);
        let mut file =
            tempfile::NamedTempFile::new_in(&self.dir).map_err(|e| CliError::write(&target, e))?;
        file.write_all(bytes)
            .and_then(|()| file.as_file().sync_all())
            .map_err(|e| CliError::write(&target, e))?;
        file.persist(&target)
            .map_err(|e| CliError::write(&target, e.error))?;
        Ok(())
    }
}
