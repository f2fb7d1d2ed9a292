//! What the user hands to `verify`, `qr decode` or `wallet present --challenge`: a literal
//! text, a file holding text, `-` for stdin, or a PNG/JPEG image of a QR code, read back to
//! the text it carries.

use std::io::Read;
use std::path::Path;

use giayto_core::qr;

use crate::error::CliError;
use crate::files;

/// Whether `bytes` start like a PNG or JPEG file.
fn is_image(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x89PNG\r\n\x1a\n") || bytes.starts_with(&[0xff, 0xd8, 0xff])
}

/// Whether `text` is plainly data rather than a file name: a QR text, a compact SD-JWT
/// (it has `~`) or a JSON object.
fn looks_like_data(text: &str) -> bool {
    let text = text.trim_start();
    text.starts_with('{') || text.contains('~') || qr::text::split_prefix(text).is_ok()
}

/// The text of `input`; images are decoded to the QR text they show.
pub fn read_input(input: &str) -> Result<String, CliError> {
    let bytes = if input == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .take(files::MAX_IMAGE_FILE + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| CliError::read(Path::new("-"), e))?;
        if bytes.len() as u64 > files::MAX_IMAGE_FILE {
            return Err(CliError::Format("standard input is too large".into()));
        }
        bytes
    } else if !Path::new(input).is_file() && looks_like_data(input) {
        return Ok(input.trim().to_owned());
    } else {
        files::read_bounded(Path::new(input), files::MAX_IMAGE_FILE)?
    };
    if is_image(&bytes) {
        return Ok(qr::image::decode_image(&bytes)?);
    }
    String::from_utf8(bytes)
        .map(|text| text.trim().to_owned())
        .map_err(|_| {
            CliError::Format(format!(
                "{input} is neither UTF-8 text nor a PNG/JPEG image"
            ))
        })
}
