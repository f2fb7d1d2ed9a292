//! How big a presentation is as a QR code: compact length, packed length and QR versions.

use super::image::{EcLevel, qr_version};
use super::{QrError, pack};

/// Sizes of one presentation as a QR code. A version is `None` when the text does not fit
/// in a QR code at that error-correction level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeReport {
    /// Length of the compact SD-JWT presentation, in bytes.
    pub compact_len: usize,
    /// Length of the packed QR text (`GT2:`/`GTP2:` + base45), in characters.
    pub qr_text_len: usize,
    /// Smallest QR version at error-correction level L.
    pub version_l: Option<u8>,
    /// Smallest QR version at error-correction level M.
    pub version_m: Option<u8>,
    /// Smallest QR version at error-correction level Q.
    pub version_q: Option<u8>,
}

/// Packs `presentation` and measures it.
pub fn size_report(presentation: &str) -> Result<SizeReport, QrError> {
    let qr_text = pack(presentation)?;
    let version = |ec| match qr_version(&qr_text, ec) {
        Ok(v) => Ok(Some(v)),
        Err(QrError::DataTooLongForQr(_)) => Ok(None),
        Err(e) => Err(e),
    };
    Ok(SizeReport {
        compact_len: presentation.len(),
        qr_text_len: qr_text.len(),
        version_l: version(EcLevel::L)?,
        version_m: version(EcLevel::M)?,
        version_q: version(EcLevel::Q)?,
    })
}
