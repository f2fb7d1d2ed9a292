//! QR helpers for the app: render a QR text as a PNG or terminal picture, read one from a photo.

use giayto_core::qr::image::{self, EcLevel};

use crate::GiaytoError;

/// Renders a QR text (a presentation, a paper form or a challenge) as PNG bytes, with
/// the error-correction level giayto uses for presentations (M).
#[uniffi::export]
pub fn render_qr_png(qr_text: &str) -> Result<Vec<u8>, GiaytoError> {
    Ok(image::render_png(qr_text, EcLevel::M)?)
}

/// Renders a QR text as text made of block characters, for a terminal.
#[uniffi::export]
pub fn render_qr_terminal(qr_text: &str) -> Result<String, GiaytoError> {
    Ok(image::render_terminal(qr_text, EcLevel::M)?)
}

/// Reads the QR code in a PNG or JPEG image (a camera frame or a screenshot) and returns
/// its text. Images too large to decode safely are refused.
#[uniffi::export]
pub fn decode_qr_image(image_bytes: Vec<u8>) -> Result<String, GiaytoError> {
    Ok(image::decode_image(&image_bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_round_trips_through_the_decoder() {
        let text = "GTC1:ABC DEF";
        let png = render_qr_png(text).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(decode_qr_image(png).unwrap(), text);
    }

    #[test]
    fn garbage_is_an_invalid_input_error() {
        assert!(matches!(
            decode_qr_image(b"not an image".to_vec()),
            Err(GiaytoError::InvalidInput { .. })
        ));
    }
}
