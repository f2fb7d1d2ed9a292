//! JSON Web Keys (RFC 7517) for P-256 and Ed25519, their RFC 7638 thumbprints, and JWK sets.

use ring::rand::SystemRandom;
use ring::signature::{self, KeyPair as _};
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use super::{Algorithm, JoseError, b64};

/// A private key component: zeroized on drop, never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

/// A JSON Web Key. Only `EC`/`P-256` and `OKP`/`Ed25519` keys can be used; other key types
/// still parse (a JWKS may hold them) but are refused when used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Key type: `EC` or `OKP`.
    pub kty: String,
    /// Curve: `P-256` or `Ed25519`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// Public x coordinate (EC) or public key (OKP), base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// Public y coordinate (EC), base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    d: Option<Secret>,
    /// Key id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Intended algorithm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Intended use (`sig`).
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
}

impl Jwk {
    /// Generates a new private key for `alg` from the system CSPRNG.
    pub fn generate(alg: Algorithm) -> Result<Jwk, JoseError> {
        let rng = SystemRandom::new();
        match alg {
            Algorithm::Es256 => {
                let pkcs8 = signature::EcdsaKeyPair::generate_pkcs8(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    &rng,
                )
                .map_err(|_| JoseError::Signing("key generation failed".into()))?;
                let pair = signature::EcdsaKeyPair::from_pkcs8(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    pkcs8.as_ref(),
                    &rng,
                )
                .map_err(|_| JoseError::Signing("key generation failed".into()))?;
                let d = p256_private_scalar(pkcs8.as_ref())
                    .ok_or(JoseError::Signing("key generation failed".into()))?;
                let mut jwk = Jwk::from_p256_public(pair.public_key().as_ref())?;
                jwk.d = Some(Secret(b64::encode(d)));
                Ok(jwk)
            }
            Algorithm::EdDsa => {
                let mut seed = [0u8; 32];
                ring::rand::SecureRandom::fill(&rng, &mut seed)
                    .map_err(|_| JoseError::Signing("key generation failed".into()))?;
                let pair = signature::Ed25519KeyPair::from_seed_unchecked(&seed)
                    .map_err(|_| JoseError::Signing("key generation failed".into()))?;
                let jwk = Jwk {
                    kty: "OKP".into(),
                    crv: Some("Ed25519".into()),
                    x: Some(b64::encode(pair.public_key().as_ref())),
                    y: None,
                    d: Some(Secret(b64::encode(seed))),
                    kid: None,
                    alg: None,
                    use_: None,
                };
                seed.zeroize();
                Ok(jwk)
            }
        }
    }

    /// Builds a public P-256 JWK from an uncompressed SEC1 point (`04 || x || y`).
    pub fn from_p256_public(point: &[u8]) -> Result<Jwk, JoseError> {
        if point.len() != 65 || point[0] != 0x04 {
            return Err(JoseError::InvalidKey(
                "P-256 point must be 65 bytes, uncompressed",
            ));
        }
        Ok(Jwk {
            kty: "EC".into(),
            crv: Some("P-256".into()),
            x: Some(b64::encode(&point[1..33])),
            y: Some(b64::encode(&point[33..65])),
            d: None,
            kid: None,
            alg: None,
            use_: None,
        })
    }

    /// Builds a public Ed25519 JWK from its 32-byte public key.
    pub fn from_ed25519_public(key: &[u8]) -> Result<Jwk, JoseError> {
        if key.len() != 32 {
            return Err(JoseError::InvalidKey("Ed25519 public key must be 32 bytes"));
        }
        Ok(Jwk {
            kty: "OKP".into(),
            crv: Some("Ed25519".into()),
            x: Some(b64::encode(key)),
            y: None,
            d: None,
            kid: None,
            alg: None,
            use_: None,
        })
    }

    /// The public half of this key (drops `d`).
    pub fn to_public(&self) -> Jwk {
        Jwk {
            d: None,
            ..self.clone()
        }
    }

    /// Whether this JWK carries a private key.
    pub fn is_private(&self) -> bool {
        self.d.is_some()
    }

    /// The key id, if set.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// This key with `kid` set.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Jwk {
        self.kid = Some(kid.into());
        self
    }

    /// This key with `kid` set to its RFC 7638 thumbprint.
    pub fn with_thumbprint_kid(self) -> Result<Jwk, JoseError> {
        let kid = self.thumbprint()?;
        Ok(self.with_kid(kid))
    }

    /// The JWS algorithm this key is for, from its type and curve.
    pub fn algorithm(&self) -> Result<Algorithm, JoseError> {
        match (self.kty.as_str(), self.crv.as_deref()) {
            ("EC", Some("P-256")) => Ok(Algorithm::Es256),
            ("OKP", Some("Ed25519")) => Ok(Algorithm::EdDsa),
            ("oct", _) => Err(JoseError::InvalidKey("symmetric keys are refused")),
            _ => Err(JoseError::InvalidKey(
                "only EC P-256 and OKP Ed25519 keys are supported",
            )),
        }
    }

    /// The RFC 7638 thumbprint: base64url SHA-256 of the required members in lexicographic
    /// order, without whitespace.
    pub fn thumbprint(&self) -> Result<String, JoseError> {
        // The members in lexicographic order, no whitespace (RFC 7638 section 3).
        let mut canonical = String::with_capacity(128);
        match self.algorithm()? {
            Algorithm::Es256 => {
                let x = self.coordinate(&self.x, "missing x")?;
                let y = self.coordinate(&self.y, "missing y")?;
                for part in [
                    r#"{"crv":"P-256","kty":"EC","x":""#,
                    x,
                    r#"","y":""#,
                    y,
                    r#""}"#,
                ] {
                    canonical.push_str(part);
                }
            }
            Algorithm::EdDsa => {
                let x = self.coordinate(&self.x, "missing x")?;
                for part in [r#"{"crv":"Ed25519","kty":"OKP","x":""#, x, r#""}"#] {
                    canonical.push_str(part);
                }
            }
        }
        Ok(b64::encode(ring::digest::digest(
            &ring::digest::SHA256,
            canonical.as_bytes(),
        )))
    }

    /// A coordinate, checked to be canonical base64url of 32 bytes (so it is safe to embed
    /// in the thumbprint's JSON verbatim).
    fn coordinate<'a>(
        &self,
        value: &'a Option<String>,
        missing: &'static str,
    ) -> Result<&'a str, JoseError> {
        let text = value.as_deref().ok_or(JoseError::InvalidKey(missing))?;
        // Up to 64 characters decode into a buffer on the stack; longer text is too long
        // for a coordinate, and decoding it says whether it is also not base64url.
        let mut bytes = [0u8; 48];
        if text.len() <= 64 {
            let decoded = base64::Engine::decode_slice(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                text,
                &mut bytes,
            )
            .map_err(|_| JoseError::InvalidKey("bad coordinate"))?;
            if decoded != 32 {
                return Err(JoseError::InvalidKey("coordinate must be 32 bytes"));
            }
        } else {
            Self::coordinate_bytes(text, &mut Vec::new())?;
        }
        Ok(text)
    }

    /// Decodes a coordinate into `out`, refusing anything but canonical base64url of 32
    /// bytes.
    fn coordinate_bytes(text: &str, out: &mut Vec<u8>) -> Result<(), JoseError> {
        b64::decode_into(text, out).map_err(|_| JoseError::InvalidKey("bad coordinate"))?;
        if out.len() != 32 {
            return Err(JoseError::InvalidKey("coordinate must be 32 bytes"));
        }
        Ok(())
    }

    /// The public key bytes as ring wants them: SEC1 uncompressed for P-256, raw for Ed25519.
    pub(crate) fn public_key_bytes(&self) -> Result<Vec<u8>, JoseError> {
        let mut point = Vec::with_capacity(65);
        let mut coordinate = Vec::with_capacity(33);
        let mut append = |point: &mut Vec<u8>, value: &Option<String>, missing| {
            let text = value.as_deref().ok_or(JoseError::InvalidKey(missing))?;
            Self::coordinate_bytes(text, &mut coordinate)?;
            point.extend_from_slice(&coordinate);
            Ok::<(), JoseError>(())
        };
        match self.algorithm()? {
            Algorithm::Es256 => {
                point.push(0x04);
                append(&mut point, &self.x, "missing x")?;
                append(&mut point, &self.y, "missing y")?;
            }
            Algorithm::EdDsa => append(&mut point, &self.x, "missing x")?,
        }
        Ok(point)
    }

    /// The private key bytes (P-256 scalar or Ed25519 seed); zeroized by the caller.
    pub(crate) fn private_key_bytes(&self) -> Result<zeroize::Zeroizing<Vec<u8>>, JoseError> {
        let d = self
            .d
            .as_ref()
            .ok_or(JoseError::InvalidKey("not a private key"))?;
        let bytes = b64::decode(d.expose()).map_err(|_| JoseError::InvalidKey("bad d"))?;
        if bytes.len() != 32 {
            return Err(JoseError::InvalidKey("private key must be 32 bytes"));
        }
        Ok(zeroize::Zeroizing::new(bytes))
    }

    /// Verifies `signature` over `message` with this key under `alg`.
    pub fn verify(
        &self,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), JoseError> {
        if self.algorithm()? != alg {
            return Err(JoseError::KeyAlgorithmMismatch(alg));
        }
        let ring_alg: &dyn signature::VerificationAlgorithm = match alg {
            Algorithm::Es256 => &signature::ECDSA_P256_SHA256_FIXED,
            Algorithm::EdDsa => &signature::ED25519,
        };
        let public = self.public_key_bytes()?;
        signature::UnparsedPublicKey::new(ring_alg, public)
            .verify(message, signature)
            .map_err(|_| JoseError::BadSignature)
    }
}

/// Finds the 32-byte private scalar inside the PKCS#8 document ring generates for P-256:
/// the `ECPrivateKey` holds `INTEGER 1` followed by `OCTET STRING (32)`.
fn p256_private_scalar(pkcs8: &[u8]) -> Option<&[u8]> {
    const MARKER: [u8; 5] = [0x02, 0x01, 0x01, 0x04, 0x20];
    let at = pkcs8.windows(MARKER.len()).position(|w| w == MARKER)? + MARKER.len();
    pkcs8.get(at..at + 32)
}

/// A JSON Web Key Set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<Jwk>,
}

impl Jwks {
    /// The key whose `kid` (or, for keys without one, RFC 7638 thumbprint) is `kid`.
    pub fn find(&self, kid: &str) -> Option<&Jwk> {
        self.keys.iter().find(|k| match k.kid() {
            Some(own) => own == kid,
            None => k.thumbprint().is_ok_and(|t| t == kid),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7638_thumbprint_of_the_rfc_example_style_key() {
        // RFC 9901's issuer key from the shared vectors settings.
        let jwk: Jwk = serde_json::from_str(
            r#"{"kty":"EC","crv":"P-256","x":"b28d4MwZMjw8-00CG4xfnn9SLMVMM19SlqZpVb_uNtQ","y":"Xv5zWwuoaTgdS6hV43yI6gBwTnjukmFQQnJ_kCxzqk8"}"#,
        )
        .unwrap();
        let expected = {
            let canonical = r#"{"crv":"P-256","kty":"EC","x":"b28d4MwZMjw8-00CG4xfnn9SLMVMM19SlqZpVb_uNtQ","y":"Xv5zWwuoaTgdS6hV43yI6gBwTnjukmFQQnJ_kCxzqk8"}"#;
            b64::encode(ring::digest::digest(
                &ring::digest::SHA256,
                canonical.as_bytes(),
            ))
        };
        assert_eq!(jwk.thumbprint().unwrap(), expected);
    }

    #[test]
    fn rfc8037_ed25519_thumbprint() {
        // RFC 8037 appendix A.3.
        let jwk: Jwk = serde_json::from_str(
            r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
        )
        .unwrap();
        assert_eq!(
            jwk.thumbprint().unwrap(),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn private_part_never_in_debug_nor_public() {
        let jwk = Jwk::generate(Algorithm::Es256).unwrap();
        assert!(jwk.is_private());
        let d = jwk.d.as_ref().unwrap().expose().to_owned();
        assert!(!format!("{jwk:?}").contains(&d));
        let public = jwk.to_public();
        assert!(!public.is_private());
        assert!(!serde_json::to_string(&public).unwrap().contains(&d));
    }

    #[test]
    fn refuses_other_key_types() {
        let jwk: Jwk = serde_json::from_str(r#"{"kty":"oct","k":"c2VjcmV0"}"#).unwrap();
        assert!(jwk.algorithm().is_err());
        let jwk: Jwk = serde_json::from_str(r#"{"kty":"RSA","n":"AQAB","e":"AQAB"}"#).unwrap();
        assert!(jwk.thumbprint().is_err());
    }
}
