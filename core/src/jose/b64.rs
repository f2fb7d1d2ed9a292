//! Strict base64url without padding, as JOSE and SD-JWT use it.
//!
//! Decoding refuses padding and non-canonical trailing bits, so every accepted string has
//! exactly one byte form: a signed string can be rebuilt byte for byte from its bytes.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

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
