//! What a scanned giayto QR holds, told apart by its prefix.

use super::challenge::Challenge;
use super::text::{self, Kind};
use super::{QrError, unpack};

/// The content of a scanned giayto QR code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QrPayload {
    /// A presentation bound to the holder's device by a KB-JWT (`GT2:`, or `GT1:` of format 1).
    Presentation(String),
    /// A printed paper form: a presentation without key binding, so not bound to a device
    /// (`GTP2:`, or `GTP1:` of format 1).
    Paper(String),
    /// A verifier's challenge for two-way presentation, not expired (`GTC1:`).
    Challenge(Challenge),
}

/// Reads any giayto QR text; `now` (Unix seconds) decides whether a challenge has expired.
pub fn classify(qr_text: &str, now: i64) -> Result<QrPayload, QrError> {
    match text::split_prefix(qr_text)?.0 {
        Kind::Presentation => Ok(QrPayload::Presentation(unpack(qr_text)?)),
        Kind::Paper => Ok(QrPayload::Paper(unpack(qr_text)?)),
        Kind::Challenge => Ok(QrPayload::Challenge(Challenge::parse(qr_text, now)?)),
    }
}
