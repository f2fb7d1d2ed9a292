//! Holder keys: the app's key store (Android Keystore, the Secure Enclave) comes in through
//! the foreign [`KeyStore`] / [`SigningKey`] traits and is adapted to core's
//! `jose::Signer`; [`software_key_store`] keeps keys in memory for tests and the demo.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use giayto_core::jose::{Algorithm, JoseError, Jwk, Signer, SoftwareSigner};

use crate::GiaytoError;

/// A P-256 private key the app's key store holds; the private part never leaves it.
#[uniffi::export(with_foreign)]
pub trait SigningKey: Send + Sync {
    /// The public key as a JWK in JSON (`{"kty":"EC","crv":"P-256","x":…,"y":…}`).
    fn public_jwk(&self) -> Result<String, GiaytoError>;
    /// Signs `message` with ECDSA P-256 / SHA-256 and returns the 64-byte `r || s` form
    /// JWS uses (convert the DER form Android's `Signature` and `SecKeyCreateSignature`
    /// return; CryptoKit's `rawRepresentation` is already `r || s`).
    fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, GiaytoError>;
}

/// The app's key store: holder keys by alias.
#[uniffi::export(with_foreign)]
pub trait KeyStore: Send + Sync {
    /// The key stored under `alias`, generating a new P-256 key there when there is none.
    fn get_or_create_key(&self, alias: String) -> Result<Arc<dyn SigningKey>, GiaytoError>;
    /// The key stored under `alias`; a `NotFound` error when there is none.
    fn get_key(&self, alias: String) -> Result<Arc<dyn SigningKey>, GiaytoError>;
    /// Deletes the key stored under `alias`, if any.
    fn delete_key(&self, alias: String) -> Result<(), GiaytoError>;
}

/// Adapts a foreign [`SigningKey`] to core's [`Signer`]. A failure of the app's key (an
/// exception, a cancelled prompt, a signature in the wrong form) is kept, so the caller
/// reports it as the `KeyStore` error it is rather than as a generic signing failure.
pub(crate) struct ForeignSigner {
    key: Arc<dyn SigningKey>,
    public: Jwk,
    failure: Mutex<Option<GiaytoError>>,
}

impl ForeignSigner {
    /// Reads and checks the key's public JWK (P-256, no private part).
    pub(crate) fn new(key: Arc<dyn SigningKey>) -> Result<ForeignSigner, GiaytoError> {
        let json = key.public_jwk()?;
        let public: Jwk = serde_json::from_str(&json).map_err(|e| GiaytoError::KeyStore {
            reason: format!("the key store's public JWK is not valid JSON: {e}"),
        })?;
        if public.is_private() {
            return Err(GiaytoError::KeyStore {
                reason: "the key store returned a private JWK as the public key".into(),
            });
        }
        if public.algorithm().map_err(|e| GiaytoError::KeyStore {
            reason: format!("the key store's public JWK is unusable: {e}"),
        })? != Algorithm::Es256
        {
            return Err(GiaytoError::KeyStore {
                reason: "holder keys must be P-256 (ES256)".into(),
            });
        }
        Ok(ForeignSigner {
            key,
            public,
            failure: Mutex::new(None),
        })
    }

    /// Turns the error of a core call that used this signer into the error to report: the
    /// key store's own failure when there was one.
    pub(crate) fn explain(&self, core_error: impl Into<GiaytoError>) -> GiaytoError {
        let kept = self
            .failure
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        kept.unwrap_or_else(|| core_error.into())
    }

    fn fail(&self, error: GiaytoError) -> JoseError {
        let message = error.to_string();
        *self
            .failure
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(error);
        JoseError::Signing(message)
    }
}

impl Signer for ForeignSigner {
    fn algorithm(&self) -> Algorithm {
        Algorithm::Es256
    }

    fn key_id(&self) -> Option<String> {
        None
    }

    fn public_jwk(&self) -> Result<Jwk, JoseError> {
        Ok(self.public.clone())
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JoseError> {
        let signature = self.key.sign(message.to_vec()).map_err(|e| self.fail(e))?;
        // Checked here so a key store that returns DER, or signs with another key, is
        // named at once instead of surfacing as a verifier's "bad signature" later.
        if self
            .public
            .verify(Algorithm::Es256, message, &signature)
            .is_err()
        {
            return Err(self.fail(GiaytoError::KeyStore {
                reason: format!(
                    "the key store's signature ({} bytes) does not verify with its public key; \
                     ES256 needs the 64-byte r||s form",
                    signature.len()
                ),
            }));
        }
        Ok(signature)
    }
}

/// A key held in memory by [`software_key_store`].
struct SoftwareKey {
    signer: SoftwareSigner,
    public_json: String,
}

impl SigningKey for SoftwareKey {
    fn public_jwk(&self) -> Result<String, GiaytoError> {
        Ok(self.public_json.clone())
    }

    fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, GiaytoError> {
        Ok(self.signer.sign(&message)?)
    }
}

/// Keys generated with ring and kept in memory only.
struct SoftwareKeyStore {
    keys: Mutex<HashMap<String, Arc<SoftwareKey>>>,
}

impl SoftwareKeyStore {
    fn keys(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<SoftwareKey>>> {
        self.keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl KeyStore for SoftwareKeyStore {
    fn get_or_create_key(&self, alias: String) -> Result<Arc<dyn SigningKey>, GiaytoError> {
        let mut keys = self.keys();
        if let Some(key) = keys.get(&alias) {
            return Ok(key.clone());
        }
        let jwk = Jwk::generate(Algorithm::Es256)?;
        let public_json =
            serde_json::to_string(&jwk.to_public()).map_err(|e| GiaytoError::KeyStore {
                reason: e.to_string(),
            })?;
        let key = Arc::new(SoftwareKey {
            signer: SoftwareSigner::from_jwk(&jwk)?,
            public_json,
        });
        keys.insert(alias, key.clone());
        Ok(key)
    }

    fn get_key(&self, alias: String) -> Result<Arc<dyn SigningKey>, GiaytoError> {
        match self.keys().get(&alias) {
            Some(key) => Ok(key.clone()),
            None => Err(GiaytoError::NotFound {
                reason: format!("no key under alias {alias:?}"),
            }),
        }
    }

    fn delete_key(&self, alias: String) -> Result<(), GiaytoError> {
        self.keys().remove(&alias);
        Ok(())
    }
}

/// A key store that generates P-256 keys with ring and keeps them in memory only, for
/// tests and demos. Keys are lost when the process ends; a phone app uses the platform
/// key store (see mobile-demo/README.md).
#[uniffi::export]
pub fn software_key_store() -> Arc<dyn KeyStore> {
    Arc::new(SoftwareKeyStore {
        keys: Mutex::new(HashMap::new()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Refusing;
    impl SigningKey for Refusing {
        fn public_jwk(&self) -> Result<String, GiaytoError> {
            let jwk = Jwk::generate(Algorithm::Es256).unwrap().to_public();
            Ok(serde_json::to_string(&jwk).unwrap())
        }
        fn sign(&self, _: Vec<u8>) -> Result<Vec<u8>, GiaytoError> {
            Err(GiaytoError::KeyStore {
                reason: "user cancelled".into(),
            })
        }
    }

    struct Garbage;
    impl SigningKey for Garbage {
        fn public_jwk(&self) -> Result<String, GiaytoError> {
            Refusing.public_jwk()
        }
        fn sign(&self, _: Vec<u8>) -> Result<Vec<u8>, GiaytoError> {
            Ok(vec![0x30; 70])
        }
    }

    #[test]
    fn software_keys_sign_verifiably_and_are_kept_by_alias() {
        let store = software_key_store();
        let key = store.get_or_create_key("holder".into()).unwrap();
        let again = store.get_key("holder".into()).unwrap();
        assert_eq!(key.public_jwk().unwrap(), again.public_jwk().unwrap());
        let signer = ForeignSigner::new(key).unwrap();
        let sig = Signer::sign(&signer, b"message").unwrap();
        assert_eq!(sig.len(), 64);
        Signer::public_jwk(&signer)
            .unwrap()
            .verify(Algorithm::Es256, b"message", &sig)
            .unwrap();
        store.delete_key("holder".into()).unwrap();
        assert!(matches!(
            store.get_key("holder".into()),
            Err(GiaytoError::NotFound { .. })
        ));
    }

    #[test]
    fn a_failing_key_store_is_reported_as_itself() {
        let signer = ForeignSigner::new(Arc::new(Refusing)).unwrap();
        let err = Signer::sign(&signer, b"m").unwrap_err();
        assert!(matches!(err, JoseError::Signing(_)));
        assert_eq!(
            signer.explain(err),
            GiaytoError::KeyStore {
                reason: "user cancelled".into()
            }
        );
    }

    #[test]
    fn a_signature_in_the_wrong_form_is_named() {
        let signer = ForeignSigner::new(Arc::new(Garbage)).unwrap();
        let err = Signer::sign(&signer, b"m").unwrap_err();
        match signer.explain(err) {
            GiaytoError::KeyStore { reason } => assert!(reason.contains("r||s"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }
}
