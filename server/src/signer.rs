//! The server's implementation of core's [`Signer`] trait on josekit (OpenSSL), and the
//! generation and unwrapping of the issuers' private JWKs.
//!
//! josekit's JWS signers already emit JWS-format signatures (ES256: the 64-byte `r || s`,
//! not DER), which is what core's `Signer::sign` must return.

use std::fmt;

use giayto_core::jose::{Algorithm, JoseError, Jwk, Signer};
use josekit::jwk::KeyPair as _;
use josekit::jws::JwsSigner;
use zeroize::Zeroizing;

/// Errors making or loading a signing key.
#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    /// josekit refused the key or failed to generate one (its message names no key bytes).
    #[error("josekit: {0}")]
    Josekit(String),
    /// Core's JWK layer refused the public key.
    #[error("jwk: {0}")]
    Jose(#[from] JoseError),
}

/// A signing key held in memory: the josekit signer plus the public JWK and its `kid`.
pub struct JosekitSigner {
    alg: Algorithm,
    kid: String,
    public: Jwk,
    inner: Box<dyn JwsSigner>,
}

impl fmt::Debug for JosekitSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JosekitSigner")
            .field("alg", &self.alg.name())
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// A freshly generated key: the private JWK JSON (to be wrapped at once) and its public half.
pub struct GeneratedKey {
    /// RFC 7638 thumbprint of the public key.
    pub kid: String,
    /// Public JWK with `kid`, `alg` and `use` set.
    pub public: Jwk,
    /// Private JWK as JSON; zeroized on drop.
    pub private_json: Zeroizing<Vec<u8>>,
}

fn jk(e: josekit::JoseError) -> SignerError {
    SignerError::Josekit(e.to_string())
}

/// Generates a key pair of `alg` with josekit.
pub fn generate(alg: Algorithm) -> Result<GeneratedKey, SignerError> {
    let private = match alg {
        Algorithm::Es256 => josekit::jws::ES256
            .generate_key_pair()
            .map_err(jk)?
            .to_jwk_key_pair(),
        Algorithm::EdDsa => josekit::jws::EdDSA
            .generate_key_pair(josekit::jwk::alg::ed::EdCurve::Ed25519)
            .map_err(jk)?
            .to_jwk_key_pair(),
    };
    let signer = JosekitSigner::from_private_jwk_json(alg, private.to_string().as_bytes())?;
    Ok(GeneratedKey {
        kid: signer.kid.clone(),
        public: signer.public.clone(),
        private_json: Zeroizing::new(private.to_string().into_bytes()),
    })
}

impl JosekitSigner {
    /// Loads a private JWK (JSON) for `alg`; the `kid` becomes its RFC 7638 thumbprint.
    pub fn from_private_jwk_json(alg: Algorithm, json: &[u8]) -> Result<Self, SignerError> {
        let jwk = josekit::jwk::Jwk::from_bytes(json).map_err(jk)?;
        let inner: Box<dyn JwsSigner> = match alg {
            Algorithm::Es256 => Box::new(josekit::jws::ES256.signer_from_jwk(&jwk).map_err(jk)?),
            Algorithm::EdDsa => Box::new(josekit::jws::EdDSA.signer_from_jwk(&jwk).map_err(jk)?),
        };
        // Only the public members cross into core's Jwk: `d` stays inside josekit.
        let mut public = serde_json::Map::new();
        for member in ["kty", "crv", "x", "y"] {
            if let Some(v) = jwk.parameter(member) {
                public.insert(member.to_owned(), v.clone());
            }
        }
        let public: Jwk = serde_json::from_value(serde_json::Value::Object(public))
            .map_err(|e| SignerError::Josekit(format!("public JWK: {e}")))?;
        let kid = public.thumbprint()?;
        let public = public.with_kid(kid.clone());
        Ok(Self {
            alg,
            kid,
            public,
            inner,
        })
    }

    /// The key id (thumbprint).
    pub fn kid(&self) -> &str {
        &self.kid
    }
}

impl Signer for JosekitSigner {
    fn algorithm(&self) -> Algorithm {
        self.alg
    }

    fn key_id(&self) -> Option<String> {
        Some(self.kid.clone())
    }

    fn public_jwk(&self) -> Result<Jwk, JoseError> {
        Ok(self.public.clone())
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JoseError> {
        self.inner
            .sign(message)
            .map_err(|e| JoseError::Signing(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn es256_signature_is_raw_r_s_and_verifies_with_core() {
        let key = generate(Algorithm::Es256).unwrap();
        let signer =
            JosekitSigner::from_private_jwk_json(Algorithm::Es256, &key.private_json).unwrap();
        assert_eq!(signer.kid(), key.kid);
        assert_eq!(key.public.thumbprint().unwrap(), key.kid);
        assert!(!key.public.is_private());
        let sig = signer.sign(b"header.payload").unwrap();
        assert_eq!(sig.len(), 64);
        key.public
            .verify(Algorithm::Es256, b"header.payload", &sig)
            .unwrap();
        assert!(
            key.public
                .verify(Algorithm::Es256, b"header.other", &sig)
                .is_err()
        );
    }

    #[test]
    fn eddsa_signature_verifies_with_core() {
        let key = generate(Algorithm::EdDsa).unwrap();
        let signer =
            JosekitSigner::from_private_jwk_json(Algorithm::EdDsa, &key.private_json).unwrap();
        let sig = signer.sign(b"m").unwrap();
        assert_eq!(sig.len(), 64);
        key.public.verify(Algorithm::EdDsa, b"m", &sig).unwrap();
    }

    #[test]
    fn debug_shows_no_key_material() {
        let key = generate(Algorithm::Es256).unwrap();
        let signer =
            JosekitSigner::from_private_jwk_json(Algorithm::Es256, &key.private_json).unwrap();
        let shown = format!("{signer:?}");
        let private: serde_json::Value = serde_json::from_slice(&key.private_json).unwrap();
        let d = private["d"].as_str().unwrap();
        assert!(!shown.contains(d));
        assert!(shown.contains(&key.kid));
    }
}
