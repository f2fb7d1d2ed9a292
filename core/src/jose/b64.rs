//! Strict base64url without padding, as JOSE and SD-JWT use it.
//!
//! Decoding refuses padding and non-canonical trailing bits, so every accepted string has
//! exactly one byte form: a signed string can be rebuilt byte for byte from its bytes.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::JoseError;

/// Encodes bytes as base64url without padding.
pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    let bytes = bytes.as_ref();
    // Sized once and written in place (the engine's own `encode` zero-fills a buffer first).
    let mut out = String::with_capacity(base64::encoded_len(bytes.len(), false).unwrap_or(0));
    URL_SAFE_NO_PAD.encode_string(bytes, &mut out);
    out
}

/// Decodes strict, canonical base64url without padding.
pub fn decode(text: impl AsRef<[u8]>) -> Result<Vec<u8>, JoseError> {
    let mut out = Vec::new();
    decode_into(text, &mut out)?;
    Ok(out)
}

/// Decodes strict, canonical base64url without padding into `out`, replacing what it held
/// (a buffer reused across many small decodes allocates once).
pub fn decode_into(text: impl AsRef<[u8]>, out: &mut Vec<u8>) -> Result<(), JoseError> {
    let text = text.as_ref();
    out.clear();
    out.reserve(base64::decoded_len_estimate(text.len()));
    URL_SAFE_NO_PAD
        .decode_vec(text, out)
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
        let mut buffer = b"left over".to_vec();
        decode_into("aGk", &mut buffer).unwrap();
        assert_eq!(buffer, b"hi", "the buffer holds only the new bytes");
        assert!(decode_into("aGk=", &mut buffer).is_err());
        for len in 0..70 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 % 256) as u8).collect();
            assert_eq!(encode(&bytes), URL_SAFE_NO_PAD.encode(&bytes));
            assert_eq!(decode(encode(&bytes)).unwrap(), bytes);
        }
    }
}
