//! Holder keys: the app's key store (Android Keystore, the Secure Enclave) comes in through
//! the foreign [`KeyStore`] / [`SigningKey`] traits; [`HolderKey`] lets core's synchronous
//! `jose::Signer` use a key whose `sign` is async (a biometric prompt, a hardware round
//! trip); [`software_key_store`] keeps keys in memory for tests and the demo.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use giayto_core::jose::{Algorithm, JoseError, Jwk, Signer, SoftwareSigner};

use crate::GiaytoError;

/// A P-256 private key the app's key store holds; the private part never leaves it.
#[uniffi::export(with_foreign)]
#[async_trait::async_trait]
pub trait SigningKey: Send + Sync {
    /// The public key as a JWK in JSON (`{"kty":"EC","crv":"P-256","x":…,"y":…}`).
    fn public_jwk(&self) -> Result<String, GiaytoError>;
    /// Signs `message` with ECDSA P-256 / SHA-256 and returns the 64-byte `r || s` form
    /// JWS uses (convert the DER form Android's `Signature` and `SecKeyCreateSignature`
    /// return; CryptoKit's `rawRepresentation` is already `r || s`).
    ///
    /// Async, so a key that asks for the user's fingerprint or face first (Android
    /// `BiometricPrompt`, a Secure Enclave key with `.userPresence`) waits without blocking
    /// a thread. A refused or cancelled prompt is a `KeyStore` error.
    async fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, GiaytoError>;
}

/// The app's key store: holder keys by alias. These calls only look up, create or delete a
/// key (no user prompt: that comes with `SigningKey::sign`), so they are synchronous.
#[uniffi::export(with_foreign)]
pub trait KeyStore: Send + Sync {
    /// The key stored under `alias`, generating a new P-256 key there when there is none.
    fn get_or_create_key(&self, alias: String) -> Result<Arc<dyn SigningKey>, GiaytoError>;
    /// The key stored under `alias`; a `NotFound` error when there is none.
    fn get_key(&self, alias: String) -> Result<Arc<dyn SigningKey>, GiaytoError>;
    /// Deletes the key stored under `alias`, if any.
    fn delete_key(&self, alias: String) -> Result<(), GiaytoError>;
}

/// A foreign [`SigningKey`] with its checked public JWK, ready to sign for a core step.
///
/// Core's `Signer` is synchronous (core is sans-IO), the app's key is not. [`HolderKey::run`]
/// bridges them by running the core step twice: the first run records the message core
/// wants signed and stops there; the key signs it asynchronously; the second run is given
/// that signature for that exact message. Every input that makes the message (time, nonce,
/// disclosures) is fixed by the caller before the first run, so both runs build the same
/// message; if they did not, the step fails with a `KeyStore` error, never a wrong signature.
pub(crate) struct HolderKey {
    key: Arc<dyn SigningKey>,
    public: Jwk,
}

impl HolderKey {
    /// Reads and checks the key's public JWK (P-256, no private part).
    pub(crate) fn new(key: Arc<dyn SigningKey>) -> Result<HolderKey, GiaytoError> {
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
        Ok(HolderKey { key, public })
    }

    /// Runs the core step `step` with this key as its `Signer`, signing (at most one
    /// message) through the app's async `sign`. A step that signs nothing (a paper form)
    /// runs once. The error is the key store's own when the key failed (an exception, a
    /// cancelled prompt, a signature in the wrong form), else the step's.
    pub(crate) async fn run<T, E: Into<GiaytoError>>(
        &self,
        mut step: impl FnMut(&dyn Signer) -> Result<T, E>,
    ) -> Result<T, GiaytoError> {
        let mut one = |signers: &[&dyn Signer]| match signers {
            [signer] => step(*signer).map_err(Into::into),
            _ => Err(GiaytoError::KeyStore {
                reason: "one signer expected".into(),
            }),
        };
        match sign_each(&[self], &mut one).await? {
            Signing::Finished(result) => result,
            Signing::Ready(signatures) => signatures.run(one),
        }
    }

    /// Signs `message` with the app's key and checks the signature: a key store that
    /// returns DER, or signs with another key, is named at once instead of surfacing as a
    /// verifier's "bad signature" later.
    async fn sign_checked(&self, message: &[u8]) -> Result<Vec<u8>, GiaytoError> {
        let signature = self.key.sign(message.to_vec()).await?;
        if self
            .public
            .verify(Algorithm::Es256, message, &signature)
            .is_err()
        {
            return Err(GiaytoError::KeyStore {
                reason: format!(
                    "the key store's signature ({} bytes) does not verify with its public key; \
                     ES256 needs the 64-byte r||s form",
                    signature.len()
                ),
            });
        }
        Ok(signature)
    }
}

/// Where [`sign_each`] left a step.
pub(crate) enum Signing<T> {
    /// A run asked for no new signature, so it ran to its end: its result.
    Finished(Result<T, GiaytoError>),
    /// Every key signed the one message the step asks of it: run the step once more with
    /// these signers (here, or on a worker thread when it writes a file).
    Ready(Signatures),
}

/// Signers that answer the signatures [`sign_each`] obtained, one per key, in order.
pub(crate) struct Signatures {
    signers: Vec<OneSignature>,
}

impl Signatures {
    /// Signers for a step that should sign nothing (a paper form): asked for a signature,
    /// they fail the step with a `KeyStore` error.
    pub(crate) fn none(keys: &[&HolderKey]) -> Signatures {
        Signatures {
            signers: keys
                .iter()
                .map(|key| OneSignature::recording(key.public.clone()))
                .collect(),
        }
    }

    /// The last run of `step`, with every signature known. Its error is a key store error
    /// when the step asked for a message other than the one signed, else the step's.
    pub(crate) fn run<T, E: Into<GiaytoError>>(
        self,
        mut step: impl FnMut(&[&dyn Signer]) -> Result<T, E>,
    ) -> Result<T, GiaytoError> {
        let refs: Vec<&dyn Signer> = self.signers.iter().map(|s| s as &dyn Signer).collect();
        let result = step(&refs);
        for signer in self.signers {
            match signer.into_state() {
                SignatureState::Failed(failure) => return Err(failure),
                SignatureState::Recorded(_) => {
                    return Err(GiaytoError::KeyStore {
                        reason: "a step asked for a signature it had not asked for before".into(),
                    });
                }
                SignatureState::Recording | SignatureState::Signed { .. } => {}
            }
        }
        result.map_err(Into::into)
    }
}

/// Runs the core step `step`, which signs one message with each of `keys` (a batch of
/// key proofs, OpenID4VCI 1.0 section 8.2), until the app's async `sign` has given every
/// signature: each run records the message of the first key not signed yet (the step stops
/// there, as a failing signer stops it), the key signs it, and the next run goes one key
/// further; at most one run per key, plus one. Every input of the messages (time, nonce)
/// must be fixed by the caller, so every run builds the same ones.
///
/// Errors: the key store's own error (an exception, a cancelled prompt, a signature in
/// the wrong form); a `KeyStore` error when the step asks one key for two messages.
pub(crate) async fn sign_each<T, E: Into<GiaytoError>>(
    keys: &[&HolderKey],
    step: &mut impl FnMut(&[&dyn Signer]) -> Result<T, E>,
) -> Result<Signing<T>, GiaytoError> {
    let mut signed: Vec<Option<(Vec<u8>, Vec<u8>)>> = vec![None; keys.len()];
    loop {
        let signers: Vec<OneSignature> = keys
            .iter()
            .zip(&signed)
            .map(|(key, known)| match known {
                Some((message, signature)) => {
                    OneSignature::signed(key.public.clone(), message.clone(), signature.clone())
                }
                None => OneSignature::recording(key.public.clone()),
            })
            .collect();
        let refs: Vec<&dyn Signer> = signers.iter().map(|s| s as &dyn Signer).collect();
        let result = step(&refs);
        let mut asked = Vec::new();
        for (index, signer) in signers.into_iter().enumerate() {
            match signer.into_state() {
                SignatureState::Failed(failure) => return Err(failure),
                SignatureState::Recorded(message) => asked.push((index, message)),
                SignatureState::Recording | SignatureState::Signed { .. } => {}
            }
        }
        if asked.is_empty() {
            return Ok(Signing::Finished(result.map_err(Into::into)));
        }
        for (index, message) in asked {
            let signature = keys[index].sign_checked(&message).await?;
            signed[index] = Some((message, signature));
        }
        if let Some(all) = signed.iter().cloned().collect::<Option<Vec<_>>>() {
            let signers = keys
                .iter()
                .zip(all)
                .map(|(key, (message, signature))| {
                    OneSignature::signed(key.public.clone(), message, signature)
                })
                .collect();
            return Ok(Signing::Ready(Signatures { signers }));
        }
    }
}

/// The `Signer` of one key in one run of [`sign_each`]: recording the message (a run
/// before the key signed), or answering it with its signature (the runs after).
struct OneSignature {
    public: Jwk,
    state: Mutex<SignatureState>,
}

enum SignatureState {
    /// First run: nothing asked yet.
    Recording,
    /// First run: this message was asked for.
    Recorded(Vec<u8>),
    /// Second run: the signature of this message.
    Signed {
        message: Vec<u8>,
        signature: Vec<u8>,
    },
    /// The step asked for something the first run did not: why.
    Failed(GiaytoError),
}

/// What a recording signer answers: the run stops at its first signature.
const RECORDED: &str = "signature deferred to the key store";

impl OneSignature {
    fn recording(public: Jwk) -> Self {
        OneSignature {
            public,
            state: Mutex::new(SignatureState::Recording),
        }
    }

    fn signed(public: Jwk, message: Vec<u8>, signature: Vec<u8>) -> Self {
        OneSignature {
            public,
            state: Mutex::new(SignatureState::Signed { message, signature }),
        }
    }

    fn into_state(self) -> SignatureState {
        self.state
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Signer for OneSignature {
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
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let outcome = match &*state {
            SignatureState::Recording => {
                *state = SignatureState::Recorded(message.to_vec());
                return Err(JoseError::Signing(RECORDED.into()));
            }
            SignatureState::Signed {
                message: expected,
                signature,
            } if expected.as_slice() == message => return Ok(signature.clone()),
            SignatureState::Signed { .. } => {
                "the message to sign changed between the two runs of a signing step"
            }
            SignatureState::Recorded(_) | SignatureState::Failed(_) => {
                "a signing step asked for more than one signature"
            }
        };
        *state = SignatureState::Failed(GiaytoError::KeyStore {
            reason: outcome.into(),
        });
        Err(JoseError::Signing(outcome.into()))
    }
}

/// A key held in memory by [`software_key_store`].
struct SoftwareKey {
    signer: SoftwareSigner,
    public_json: String,
}

#[async_trait::async_trait]
impl SigningKey for SoftwareKey {
    fn public_jwk(&self) -> Result<String, GiaytoError> {
        Ok(self.public_json.clone())
    }

    async fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, GiaytoError> {
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
    use crate::test_support::ready;
    use giayto_core::jose::jws;

    struct Refusing;
    #[async_trait::async_trait]
    impl SigningKey for Refusing {
        fn public_jwk(&self) -> Result<String, GiaytoError> {
            let jwk = Jwk::generate(Algorithm::Es256).unwrap().to_public();
            Ok(serde_json::to_string(&jwk).unwrap())
        }
        async fn sign(&self, _: Vec<u8>) -> Result<Vec<u8>, GiaytoError> {
            Err(GiaytoError::KeyStore {
                reason: "user cancelled".into(),
            })
        }
    }

    struct Garbage;
    #[async_trait::async_trait]
    impl SigningKey for Garbage {
        fn public_jwk(&self) -> Result<String, GiaytoError> {
            Refusing.public_jwk()
        }
        async fn sign(&self, _: Vec<u8>) -> Result<Vec<u8>, GiaytoError> {
            Ok(vec![0x30; 70])
        }
    }

    /// A core step that signs `payload` as a compact JWS.
    fn sign_step(payload: &'static [u8]) -> impl FnMut(&dyn Signer) -> Result<String, JoseError> {
        move |signer| {
            let header = serde_json::json!({"alg": "ES256", "typ": "JWT"});
            jws::sign_compact(header.as_object().unwrap().clone(), payload, signer)
        }
    }

    #[test]
    fn software_keys_sign_verifiably_through_two_runs_and_are_kept_by_alias() {
        let store = software_key_store();
        let key = store.get_or_create_key("holder".into()).unwrap();
        let again = store.get_key("holder".into()).unwrap();
        assert_eq!(key.public_jwk().unwrap(), again.public_jwk().unwrap());
        let holder = HolderKey::new(key).unwrap();
        let mut runs = 0;
        let mut step = sign_step(b"message");
        let token = ready(holder.run(|signer| {
            runs += 1;
            step(signer)
        }))
        .unwrap();
        assert_eq!(runs, 2);
        let jws = jws::CompactJws::parse(&token).unwrap();
        jws.verify(&holder.public).unwrap();
        assert_eq!(jws.payload(), b"message");
        store.delete_key("holder".into()).unwrap();
        assert!(matches!(
            store.get_key("holder".into()),
            Err(GiaytoError::NotFound { .. })
        ));
    }

    #[test]
    fn a_step_that_signs_nothing_runs_once() {
        let holder = HolderKey::new(Arc::new(Refusing)).unwrap();
        let mut runs = 0;
        let out: Result<u8, GiaytoError> = ready(holder.run(|_| {
            runs += 1;
            Ok::<u8, JoseError>(7)
        }));
        assert_eq!((out, runs), (Ok(7), 1));
    }

    #[test]
    fn a_failing_key_store_is_reported_as_itself() {
        let holder = HolderKey::new(Arc::new(Refusing)).unwrap();
        let err = ready(holder.run(sign_step(b"m"))).unwrap_err();
        assert_eq!(
            err,
            GiaytoError::KeyStore {
                reason: "user cancelled".into()
            }
        );
    }

    #[test]
    fn a_signature_in_the_wrong_form_is_named() {
        let holder = HolderKey::new(Arc::new(Garbage)).unwrap();
        match ready(holder.run(sign_step(b"m"))).unwrap_err() {
            GiaytoError::KeyStore { reason } => assert!(reason.contains("r||s"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_message_that_changes_between_runs_is_refused_not_signed() {
        let key = software_key_store().get_or_create_key("k".into()).unwrap();
        let holder = HolderKey::new(key).unwrap();
        let mut runs = 0;
        let err = ready(holder.run(|signer| {
            runs += 1;
            let payload: &'static [u8] = if runs == 1 { b"first" } else { b"second" };
            sign_step(payload)(signer)
        }))
        .unwrap_err();
        match err {
            GiaytoError::KeyStore { reason } => assert!(reason.contains("changed"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_step_asking_for_two_signatures_is_refused() {
        let key = software_key_store().get_or_create_key("k".into()).unwrap();
        let holder = HolderKey::new(key).unwrap();
        let err = ready(holder.run(|signer| {
            let _ = sign_step(b"one")(signer);
            sign_step(b"two")(signer)
        }))
        .unwrap_err();
        match err {
            GiaytoError::KeyStore { reason } => {
                assert!(reason.contains("more than one"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }
}
