//! The [`Signer`] seam: whoever holds a private key (a server's josekit key, a phone's
//! Android Keystore or Secure Enclave key, or a software key) signs JWS signing inputs.

use ring::rand::SystemRandom;
use ring::signature;

use super::{Algorithm, JoseError, Jwk};

/// Something that signs JWS signing inputs with one private key.
pub trait Signer: Send + Sync {
    /// The JWS algorithm of the key.
    fn algorithm(&self) -> Algorithm;
    /// The key id written into the JWS `kid` header, if any.
    fn key_id(&self) -> Option<String>;
    /// The public key as a JWK.
    fn public_jwk(&self) -> Result<Jwk, JoseError>;
    /// Signs `message`, returning the raw JWS signature (ES256: 64-byte `r || s`).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JoseError>;
}

enum KeyPair {
    Es256(signature::EcdsaKeyPair),
    EdDsa(signature::Ed25519KeyPair),
}

/// A software key held in memory, signing with ring.
pub struct SoftwareSigner {
    pair: KeyPair,
    public: Jwk,
    kid: Option<String>,
    rng: SystemRandom,
}

impl std::fmt::Debug for SoftwareSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftwareSigner")
            .field("public", &self.public)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SoftwareSigner {
    /// A signer for a private JWK; its `kid` is the JWK's `kid` if set.
    pub fn from_jwk(jwk: &Jwk) -> Result<SoftwareSigner, JoseError> {
        let rng = SystemRandom::new();
        let private = jwk.private_key_bytes()?;
        let public_bytes = jwk.public_key_bytes()?;
        let pair = match jwk.algorithm()? {
            Algorithm::Es256 => KeyPair::Es256(
                signature::EcdsaKeyPair::from_private_key_and_public_key(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    &private,
                    &public_bytes,
                    &rng,
                )
                .map_err(|_| {
                    JoseError::InvalidKey("P-256 private key does not match public key")
                })?,
            ),
            Algorithm::EdDsa => KeyPair::EdDsa(
                signature::Ed25519KeyPair::from_seed_and_public_key(&private, &public_bytes)
                    .map_err(|_| {
                        JoseError::InvalidKey("Ed25519 private key does not match public key")
                    })?,
            ),
        };
        Ok(SoftwareSigner {
            pair,
            public: jwk.to_public(),
            kid: jwk.kid.clone(),
            rng,
        })
    }

    /// A signer for a freshly generated key, with its thumbprint as `kid`.
    pub fn generate(alg: Algorithm) -> Result<SoftwareSigner, JoseError> {
        SoftwareSigner::from_jwk(&Jwk::generate(alg)?.with_thumbprint_kid()?)
    }

    /// This signer with another `kid` (or none).
    pub fn with_key_id(mut self, kid: Option<String>) -> SoftwareSigner {
        self.kid = kid;
        self
    }
}

impl Signer for SoftwareSigner {
    fn algorithm(&self) -> Algorithm {
        match self.pair {
            KeyPair::Es256(_) => Algorithm::Es256,
            KeyPair::EdDsa(_) => Algorithm::EdDsa,
        }
    }

    fn key_id(&self) -> Option<String> {
        self.kid.clone()
    }

    fn public_jwk(&self) -> Result<Jwk, JoseError> {
        Ok(self.public.clone())
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JoseError> {
        match &self.pair {
            KeyPair::Es256(pair) => pair
                .sign(&self.rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| JoseError::Signing("ECDSA signing failed".into())),
            KeyPair::EdDsa(pair) => Ok(pair.sign(message).as_ref().to_vec()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify_both_algorithms() {
        for alg in [Algorithm::Es256, Algorithm::EdDsa] {
            let jwk = Jwk::generate(alg).unwrap();
            let signer = SoftwareSigner::from_jwk(&jwk).unwrap();
            let sig = signer.sign(b"message").unwrap();
            assert_eq!(sig.len(), 64);
            let public = signer.public_jwk().unwrap();
            public.verify(alg, b"message", &sig).unwrap();
            assert_eq!(
                public.verify(alg, b"messagE", &sig),
                Err(JoseError::BadSignature)
            );
        }
    }

    #[test]
    fn mismatched_private_and_public_refused() {
        let a = Jwk::generate(Algorithm::Es256).unwrap();
        let b = Jwk::generate(Algorithm::Es256).unwrap();
        let mut mixed = a.clone();
        mixed.x = b.x.clone();
        mixed.y = b.y.clone();
        assert!(SoftwareSigner::from_jwk(&mixed).is_err());
    }
}
