//! Compact JWE encryption (RFC 7516) with `ECDH-ES` direct key agreement on P-256 and
//! `A128GCM` / `A256GCM` (RFC 7518 sections 4.6 and 5.3), as an OpenID4VP wallet encrypts
//! its response to the verifier's ephemeral key (OpenID4VP 1.0 section 8.3).
//!
//! Only the composition is here, each primitive comes from a library: the key agreement and
//! AES-GCM from ring (as every other primitive of core), the Concat KDF (NIST SP 800-56A,
//! RFC 7518 section 4.6.2) from the RustCrypto `concat-kdf` crate with SHA-256. The sender's
//! key is ephemeral, used once, and never leaves this function. No `apu`/`apv` are sent
//! (both empty in the KDF input), as OpenID4VP does not require them.

use ring::aead::{self, AES_128_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::agreement::{self, ECDH_P256, EphemeralPrivateKey, UnparsedPublicKey};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{Map, Value};

use super::{Algorithm, JoseError, Jwk, b64};

/// The only key management algorithm.
pub const ECDH_ES: &str = "ECDH-ES";

/// A content encryption algorithm this module can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentEncryption {
    /// AES-128 in GCM mode (`A128GCM`), the OpenID4VP default.
    A128Gcm,
    /// AES-256 in GCM mode (`A256GCM`).
    A256Gcm,
}

impl ContentEncryption {
    /// Parses an `enc` value; `None` for an algorithm this module does not implement.
    pub fn from_name(name: &str) -> Option<ContentEncryption> {
        match name {
            "A128GCM" => Some(ContentEncryption::A128Gcm),
            "A256GCM" => Some(ContentEncryption::A256Gcm),
            _ => None,
        }
    }

    /// The `enc` value.
    pub fn name(self) -> &'static str {
        match self {
            ContentEncryption::A128Gcm => "A128GCM",
            ContentEncryption::A256Gcm => "A256GCM",
        }
    }

    fn aead(self) -> &'static aead::Algorithm {
        match self {
            ContentEncryption::A128Gcm => &AES_128_GCM,
            ContentEncryption::A256Gcm => &AES_256_GCM,
        }
    }
}

fn failed(what: &str) -> JoseError {
    JoseError::Signing(format!("JWE encryption: {what}"))
}

/// Encrypts `plaintext` to the P-256 public key `recipient` as a compact JWE:
/// `BASE64URL(header)..BASE64URL(iv).BASE64URL(ciphertext).BASE64URL(tag)` (the encrypted
/// key is empty for direct key agreement). The protected header is `{"alg": "ECDH-ES",
/// "enc", "kid"?, "epk"}`, `kid` being the recipient's when `kid` is given (OpenID4VP 1.0
/// section 8.3). Errors: [`JoseError::InvalidKey`] for a key that is not a public P-256
/// point, [`JoseError::Signing`] when the RNG or the key agreement fails.
pub fn encrypt_ecdh_es(
    plaintext: &[u8],
    recipient: &Jwk,
    enc: ContentEncryption,
    kid: Option<&str>,
) -> Result<String, JoseError> {
    if recipient.algorithm()? != Algorithm::Es256 {
        return Err(JoseError::InvalidKey("ECDH-ES needs a P-256 key"));
    }
    if recipient.is_private() {
        return Err(JoseError::InvalidKey("the recipient key must be public"));
    }
    let rng = SystemRandom::new();
    let ephemeral =
        EphemeralPrivateKey::generate(&ECDH_P256, &rng).map_err(|_| failed("key generation"))?;
    let epk_point = ephemeral
        .compute_public_key()
        .map_err(|_| failed("key generation"))?;
    let epk = Jwk::from_p256_public(epk_point.as_ref())?;

    let mut header = Map::new();
    header.insert("alg".into(), Value::from(ECDH_ES));
    header.insert("enc".into(), Value::from(enc.name()));
    if let Some(kid) = kid {
        header.insert("kid".into(), Value::from(kid));
    }
    header.insert(
        "epk".into(),
        serde_json::to_value(&epk).map_err(|e| JoseError::Json(e.to_string()))?,
    );
    let header_b64 = b64::encode(
        serde_json::to_vec(&Value::Object(header)).map_err(|e| JoseError::Json(e.to_string()))?,
    );

    // RFC 7518 section 4.6.2: OtherInfo = AlgorithmID || PartyUInfo || PartyVInfo ||
    // SuppPubInfo, each a 32-bit big-endian length and its bytes; for direct key agreement
    // AlgorithmID is the `enc` value and SuppPubInfo the key length in bits.
    let key_len = enc.aead().key_len();
    let mut other_info = Vec::new();
    for part in [enc.name().as_bytes(), b"", b""] {
        other_info.extend_from_slice(&u32::try_from(part.len()).unwrap_or(u32::MAX).to_be_bytes());
        other_info.extend_from_slice(part);
    }
    other_info.extend_from_slice(&u32::try_from(key_len * 8).unwrap_or(u32::MAX).to_be_bytes());

    let peer = UnparsedPublicKey::new(&ECDH_P256, recipient.public_key_bytes()?);
    let mut cek = zeroize::Zeroizing::new(vec![0u8; key_len]);
    agreement::agree_ephemeral(ephemeral, &peer, |z| {
        concat_kdf::derive_key_into::<sha2::Sha256>(z, &other_info, &mut cek)
    })
    .map_err(|_| JoseError::InvalidKey("the recipient key is not a P-256 point"))?
    .map_err(|_| failed("key derivation"))?;

    let mut iv = [0u8; aead::NONCE_LEN];
    rng.fill(&mut iv).map_err(|_| failed("random IV"))?;
    let key = LessSafeKey::new(UnboundKey::new(enc.aead(), &cek).map_err(|_| failed("key"))?);
    let mut ciphertext = plaintext.to_vec();
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(iv),
            Aad::from(header_b64.as_bytes()),
            &mut ciphertext,
        )
        .map_err(|_| failed("AES-GCM"))?;
    Ok(format!(
        "{header_b64}..{}.{}.{}",
        b64::encode(iv),
        b64::encode(&ciphertext),
        b64::encode(tag.as_ref())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_p256_recipients() {
        let ed = Jwk::generate(Algorithm::EdDsa).unwrap().to_public();
        assert!(matches!(
            encrypt_ecdh_es(b"x", &ed, ContentEncryption::A128Gcm, None),
            Err(JoseError::InvalidKey(_))
        ));
        let private = Jwk::generate(Algorithm::Es256).unwrap();
        assert!(matches!(
            encrypt_ecdh_es(b"x", &private, ContentEncryption::A128Gcm, None),
            Err(JoseError::InvalidKey(_))
        ));
        let mut off_curve = private.to_public();
        off_curve.y = off_curve.x.clone();
        assert!(matches!(
            encrypt_ecdh_es(b"x", &off_curve, ContentEncryption::A128Gcm, None),
            Err(JoseError::InvalidKey(_))
        ));
    }

    #[test]
    fn compact_shape_and_header() {
        let recipient = Jwk::generate(Algorithm::Es256).unwrap().to_public();
        let jwe =
            encrypt_ecdh_es(b"hello", &recipient, ContentEncryption::A256Gcm, Some("k1")).unwrap();
        let parts: Vec<&str> = jwe.split('.').collect();
        assert_eq!(parts.len(), 5);
        assert_eq!(parts[1], "", "direct key agreement sends no encrypted key");
        assert_eq!(b64::decode(parts[2]).unwrap().len(), 12);
        assert_eq!(b64::decode(parts[3]).unwrap().len(), 5);
        assert_eq!(b64::decode(parts[4]).unwrap().len(), 16);
        let header: Value = serde_json::from_slice(&b64::decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "ECDH-ES");
        assert_eq!(header["enc"], "A256GCM");
        assert_eq!(header["kid"], "k1");
        assert_eq!(header["epk"]["crv"], "P-256");
        assert!(header["epk"].get("d").is_none());
    }
}
