//! Strict base64url without padding, as JOSE and SD-JWT use it.
//!
//! Decoding refuses padding and non-canonical trailing bits, so every accepted string has
//! exactly one byte form: a signed string can be rebuilt byte for byte from its bytes.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::JoseError;

/// Encodes bytes as base64url without padding.
///
/// Every JWS part, salt, disclosure and digest an issuer signs is encoded here, so it uses
/// the SIMD encoder of `base64-simd` (the decoder's crate), with the same alphabet and no
/// padding: the tests below pin its output to the `base64` crate's engine.
pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    base64_simd::URL_SAFE_NO_PAD.encode_to_string(bytes.as_ref())
}

/// [`encode`] appended to `out` (a JWS built in one buffer: `header.payload.signature`).
pub fn encode_append(bytes: impl AsRef<[u8]>, out: &mut String) {
    base64_simd::URL_SAFE_NO_PAD.encode_append(bytes.as_ref(), out);
}

/// Decodes strict, canonical base64url without padding.
pub fn decode(text: impl AsRef<[u8]>) -> Result<Vec<u8>, JoseError> {
    let mut out = Vec::new();
    decode_into(text, &mut out)?;
    Ok(out)
}

/// Decodes strict, canonical base64url without padding into `out`, replacing what it held
/// (a buffer reused across many small decodes allocates once).
///
/// Decoding is most of the bytes a verifier reads (payloads, disclosures), so it uses the
/// SIMD decoder of `base64-simd`, with the same rules: the URL-safe alphabet only, no
/// padding, and zero trailing bits (its non-forgiving decoding), as the tests below pin
/// against the `base64` crate's engine.
pub fn decode_into(text: impl AsRef<[u8]>, out: &mut Vec<u8>) -> Result<(), JoseError> {
    out.clear();
    base64_simd::URL_SAFE_NO_PAD
        .decode_append(text.as_ref(), out)
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
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    proptest::proptest! {
        /// The SIMD decoder accepts exactly what the `base64` engine accepts, with the same
        /// bytes: any text over the URL-safe and standard alphabets, padding and a stray
        /// byte, of every length (the SIMD path starts at 32 bytes).
        #[test]
        fn decoders_agree(
            text in proptest::collection::vec(
                proptest::sample::select(
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/= ~"
                        .to_vec()
                ),
                0..160,
            )
        ) {
            proptest::prop_assert_eq!(decode(&text).ok(), URL_SAFE_NO_PAD.decode(&text).ok());
        }

        /// The SIMD encoder writes what the `base64` engine writes, alone and appended.
        #[test]
        fn encoders_agree(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            proptest::prop_assert_eq!(encode(&bytes), URL_SAFE_NO_PAD.encode(&bytes));
            let mut appended = "head.".to_owned();
            encode_append(&bytes, &mut appended);
            proptest::prop_assert_eq!(appended, format!("head.{}", URL_SAFE_NO_PAD.encode(&bytes)));
        }

        #[test]
        fn valid_text_decodes_alike(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let text = URL_SAFE_NO_PAD.encode(&bytes);
            proptest::prop_assert_eq!(decode(&text).ok(), Some(bytes));
        }
    }

    #[test]
    fn strict() {
        assert_eq!(encode(b"hi"), "aGk");
        assert_eq!(decode("aGk").unwrap(), b"hi");
        assert!(decode("aGk=").is_err(), "padding refused");
        assert!(decode("aGl").is_err(), "non-zero trailing bits refused");
        assert!(decode("a+k").is_err(), "standard alphabet refused");
        // Past the SIMD decoder's 32-byte blocks too: non-zero trailing bits, padding and a
        // character of the other alphabet are refused at the end of long text.
        for len in [40usize, 41, 100, 101] {
            let text = encode(vec![0x5a; len]);
            assert!(decode(&text).is_ok());
            let mut bad_bits = text.clone();
            bad_bits.pop();
            bad_bits.push('B');
            assert!(decode(&bad_bits).is_err(), "{bad_bits}");
            assert!(decode(format!("{text}=")).is_err());
            assert!(decode(format!("+{}", &text[1..])).is_err());
            assert!(decode(format!("{}/{}", &text[..20], &text[21..])).is_err());
        }
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
