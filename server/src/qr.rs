//! PNG QR codes of credential offer URIs (the `qrcode` crate, rendered with `image`).

use std::io::Cursor;

/// Rendering failed.
#[derive(Debug, thiserror::Error)]
pub enum QrError {
    /// The text does not fit a QR code.
    #[error("QR encoding: {0}")]
    Encode(String),
    /// PNG encoding failed.
    #[error("PNG encoding: {0}")]
    Png(String),
}

/// Encodes `text` as a QR code (error correction M) and returns a PNG, 8 pixels per module.
pub fn png(text: &str) -> Result<Vec<u8>, QrError> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| QrError::Encode(e.to_string()))?;
    let image = code
        .render::<image::Luma<u8>>()
        .module_dimensions(8, 8)
        .build();
    let mut out = Cursor::new(Vec::new());
    image
        .write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| QrError::Png(e.to_string()))?;
    Ok(out.into_inner())
}
