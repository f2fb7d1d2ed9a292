//! Strict base64url without padding, as JOSE and SD-JWT use it.
//!
//! Decoding refuses padding and non-canonical trailing bits, so every accepted string has
//! exactly one byte form: a signed string can be rebuilt byte for byte from its bytes.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use super::JoseError;

/// Encodes bytes as base64url without padding.
pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes strict, canonical base64url without padding.
pub fn decode(text: impl AsRef<[u8]>) -> Result<Vec<u8>, JoseError> {
    URL_SAFE_NO_PAD
        .decode(text.as_ref())
        .map_err(|_| JoseError::Base64)
}

/// Decodes standard base64 with padding, as `x5c` certificates are written (RFC 7515
/// section 4.1.6) and the trust list's `verifier_anchors`.
pub fn decode_standard(text: impl AsRef<[u8]>) -> Result<Vec<u8>, JoseError> {
    STANDARD
        .decode(text.as_ref())
        .map_err(|_| JoseError::Base64)
}

/// Encodes bytes as standard base64 with padding (`x5c`, `verifier_anchors`).
pub fn encode_standard(bytes: impl AsRef<[u8]>) -> String {
    STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict() {
        assert_eq!(encode(b"hi"), "aGk");
        assert_eq!(decode("aGk").unwrap(), b"hi");
        assert!(decode("aGk=").is_err(), "padding refused");
        assert!(decode("aGl").is_err(), "non-zero trailing bits refused");
        assert!(decode("a+k").is_err(), "standard alphabet refused");
    }
}
