//! The citizen's side: a [`Wallet`] over core's encrypted vault and wallet façade that
//! receives documents by OpenID4VCI through the app's [`HttpClient`], lists them with their
//! vi/en labels, and presents chosen claims as QR text and PNG, signed by a key of the app's
//! [`KeyStore`].

use std::sync::{Arc, Mutex, MutexGuard};

use giayto_core::oid4vci::{
    self, CredentialOutcome, IssuanceSession, OfferSource, TokenStep, TxCodeInputMode,
};
use giayto_core::qr::{self, Challenge, EcLevel, KeyBindingTarget};
use giayto_core::vault::{VAULT_KEY_LEN, Vault, VaultKey};
use giayto_core::wallet::{self as core_wallet, Binding, DocumentView, WalletError};

use ring::rand::{SecureRandom, SystemRandom};

use crate::http::{self, HttpClient};
use crate::keys::{HolderKey, KeyStore};
use crate::progress::{ProgressListener, ProgressStage, Reporter};
use crate::result::{LabelledClaim, display_value};
use crate::{GiaytoError, unix_now};

/// Bytes of randomness in a holder key alias.
const ALIAS_RANDOM_BYTES: usize = 12;
/// Prefix of the key-store aliases of holder keys.
const ALIAS_PREFIX: &str = "giayto-holder-";

/// Which claims to show.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ClaimSelection {
    /// A preset of the document's type (`full`, `identity`, `age_over_18`, `traffic_stop`, ...).
    Preset {
        /// The preset's name, from `document_types()`.
        name: String,
    },
    /// Claim paths in the catalogue syntax (`given_name`, `age_equal_or_over/18`); each
    /// also shows what lies below it.
    Claims {
        /// The paths.
        paths: Vec<String>,
    },
}

/// How the presentation is bound to this phone.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum PresentationMode {
    /// One-way: the verifier just scans; proven fresh by the time of the proof.
    OneWay,
    /// Two-way: answers the challenge QR the verifier showed.
    AnswerChallenge {
        /// The scanned challenge QR text (`GTC1:...`).
        challenge_qr_text: String,
    },
    /// The printable paper form, not bound to a device.
    Paper,
}

/// A presentation ready to show.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct PresentationQr {
    /// The QR text (`GT1:...`, or `GTP1:...` for paper), for the app's own QR renderer.
    pub qr_text: String,
    /// The same QR as a PNG image.
    pub png: Vec<u8>,
    /// The SD-JWT presentation itself (compact), for online use.
    pub presentation: String,
}

/// Personal data: `Debug` shows only sizes.
impl std::fmt::Debug for PresentationQr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresentationQr")
            .field("qr_text_len", &self.qr_text.len())
            .field("png_len", &self.png.len())
            .finish_non_exhaustive()
    }
}

/// A stored document as the holder sees it.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct DocumentInfo {
    /// Wallet-local id, for `present` and `delete`.
    pub id: String,
    /// The document type (`vct`).
    pub vct: String,
    /// The catalogue id of the type (`driving_licence`, ...), when it is in the catalogue.
    pub document_type_id: Option<String>,
    /// Vietnamese name of the type.
    pub name_vi: Option<String>,
    /// English name of the type.
    pub name_en: Option<String>,
    /// The issuer identifier (`iss`).
    pub issuer: String,
    /// When it expires, Unix seconds.
    pub expires_at: Option<i64>,
    /// When the wallet received it, Unix seconds.
    pub received_at: i64,
    /// Every claim, labelled.
    pub claims: Vec<LabelledClaim>,
}

/// Personal data: `Debug` shows only the id and type.
impl std::fmt::Debug for DocumentInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentInfo")
            .field("id", &self.id)
            .field("vct", &self.vct)
            .finish_non_exhaustive()
    }
}

impl From<DocumentView> for DocumentInfo {
    fn from(d: DocumentView) -> Self {
        DocumentInfo {
            document_type_id: giayto_core::catalogue::by_vct(&d.vct).map(|t| t.id.to_owned()),
            name_vi: d.name.as_ref().map(|n| n.vi.clone()),
            name_en: d.name.as_ref().map(|n| n.en.clone()),
            id: d.id,
            vct: d.vct,
            issuer: d.issuer,
            expires_at: d.expires_at,
            received_at: d.received_at,
            claims: d
                .claims
                .iter()
                .map(|c| LabelledClaim {
                    path: c.path.clone(),
                    label_vi: c.label.as_ref().map(|n| n.vi.clone()),
                    label_en: c.label.as_ref().map(|n| n.en.clone()),
                    value: display_value(&c.value),
                    value_json: c.value.to_string(),
                })
                .collect(),
        }
    }
}

/// What an offer asks before `receive`: show it to the holder and ask for the code.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OfferSummary {
    /// The issuer identifier.
    pub issuer: String,
    /// The offered credential configurations.
    pub credential_configuration_ids: Vec<String>,
    /// Whether a transaction code (sent to the citizen separately) is needed.
    pub needs_tx_code: bool,
    /// Whether the code is digits only (show a numeric keypad).
    pub tx_code_numeric: bool,
    /// The code's length, when the issuer says.
    pub tx_code_length: Option<u32>,
    /// The issuer's hint on where to find the code.
    pub tx_code_description: Option<String>,
}

impl From<WalletError> for GiaytoError {
    fn from(e: WalletError) -> Self {
        match e {
            WalletError::NotFound(_)
            | WalletError::UnknownPreset { .. }
            | WalletError::NotInCatalogue(_) => GiaytoError::NotFound {
                reason: e.to_string(),
            },
            WalletError::Vault(v) => v.into(),
            WalletError::Presentation(s) => s.into(),
            other => GiaytoError::invalid(other),
        }
    }
}

/// The holder's wallet: an encrypted vault file on the phone, documents received by
/// OpenID4VCI, presentations signed by the app's key store.
#[derive(uniffi::Object)]
pub struct Wallet {
    pub(crate) inner: Arc<Mutex<core_wallet::Wallet>>,
    pub(crate) keys: Arc<dyn KeyStore>,
    pub(crate) http: Arc<dyn HttpClient>,
}

/// Locks the core wallet. Vault updates are atomic (the file is replaced whole), so a
/// poisoned lock still guards a consistent vault.
pub(crate) fn lock(wallet: &Mutex<core_wallet::Wallet>) -> MutexGuard<'_, core_wallet::Wallet> {
    wallet
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Wallet {
    fn inner(&self) -> MutexGuard<'_, core_wallet::Wallet> {
        lock(&self.inner)
    }

    pub(crate) async fn fetch_offer(
        &self,
        offer_uri: &str,
        progress: &Reporter,
    ) -> Result<oid4vci::CredentialOffer, GiaytoError> {
        match oid4vci::parse_offer_uri(offer_uri)? {
            OfferSource::ByValue(offer) => Ok(offer),
            OfferSource::ByReference(url) => {
                progress.report(ProgressStage::CredentialOffer, 0, Some(&url));
                let request = oid4vci::fetch_offer_request(&url)?;
                let response = http::send(self.http.as_ref(), request).await?;
                Ok(oid4vci::on_offer(&response)?)
            }
        }
    }

    /// Runs the Pre-Authorized Code Flow (OpenID4VCI 1.0 §3.5) with the holder key
    /// `holder`; returns the issued SD-JWT VC.
    async fn issue(
        &self,
        offer: oid4vci::CredentialOffer,
        tx_code: Option<&str>,
        holder: &HolderKey,
        progress: &Reporter,
    ) -> Result<String, GiaytoError> {
        let http = self.http.as_ref();
        let (mut session, request) = IssuanceSession::new(offer)?;
        progress.report(ProgressStage::IssuerMetadata, 1, None);
        let request = session.on_issuer_metadata(&http::send(http, request).await?)?;
        progress.report(ProgressStage::AuthorizationServerMetadata, 2, None);
        let token_request = match session.on_as_metadata(&http::send(http, request).await?)? {
            TokenStep::Request(request) => request,
            TokenStep::NeedsTxCode(_) => {
                let code = tx_code.ok_or(oid4vci::Oid4vciError::TxCodeRequired)?;
                session.with_tx_code(code)?
            }
        };
        progress.report(ProgressStage::Token, 3, None);
        if let Some(nonce_request) = session.on_token(&http::send(http, token_request).await?)? {
            progress.report(ProgressStage::Nonce, 4, None);
            session.on_nonce(&http::send(http, nonce_request).await?)?;
        }
        progress.report(ProgressStage::Credential, 5, None);
        let mut retried = false;
        loop {
            // One `now` for both runs of the signing step, so both build the same proof.
            let now = u64::try_from(unix_now()).unwrap_or_default();
            let request = holder
                .run(|signer| session.build_credential_request(signer, now))
                .await?;
            match session.on_credential(&http::send(http, request).await?)? {
                CredentialOutcome::Issued(credentials) => {
                    let first =
                        credentials
                            .into_iter()
                            .next()
                            .ok_or_else(|| GiaytoError::Network {
                                reason: "the issuer answered without a credential".into(),
                            })?;
                    return Ok(first.credential);
                }
                CredentialOutcome::RetryWithFreshNonce(nonce_request) if !retried => {
                    retried = true;
                    session.on_nonce(&http::send(http, nonce_request).await?)?;
                }
                CredentialOutcome::RetryWithFreshNonce(_) => {
                    return Err(GiaytoError::IssuerRefused {
                        reason: "the issuer refused a fresh nonce twice".into(),
                    });
                }
                CredentialOutcome::Deferred { .. } => {
                    return Err(GiaytoError::Unsupported {
                        reason: "the issuer deferred issuance; ask it for a new offer later".into(),
                    });
                }
            }
        }
    }
}

/// The steps of `receive`, as `ProgressReport::total` counts them: offer, issuer metadata,
/// authorization server metadata, token, nonce, credential, storing.
const RECEIVE_STEPS: u32 = 7;

/// A holder key made for a document that is not stored yet: deleted from the key store
/// when dropped before [`NewHolderKey::keep`], that is when `receive` fails or is
/// cancelled (a cancelled coroutine or task drops the Rust future at the `await` it is
/// waiting on), so no orphan key is left behind.
pub(crate) struct NewHolderKey {
    pub(crate) keys: Arc<dyn KeyStore>,
    pub(crate) alias: Option<String>,
}

impl NewHolderKey {
    /// The document is stored: the key stays.
    pub(crate) fn keep(mut self) {
        self.alias = None;
    }
}

impl Drop for NewHolderKey {
    fn drop(&mut self) {
        if let Some(alias) = self.alias.take() {
            // Best effort: an orphan key is harmless, but the original error matters more.
            let _ = self.keys.delete_key(alias);
        }
    }
}

#[uniffi::export]
impl Wallet {
    /// Opens the vault file at `path` (creating it when absent), encrypted with the 32-byte
    /// `vault_key` the platform keeps (Android Keystore-wrapped, iOS Keychain). Holder keys
    /// live in `key_store`; `http` performs every network request.
    ///
    /// Async: the file is read (or created) on a worker thread, never on the caller's.
    /// The vault then stays in memory: `documents` and `document` read no file.
    #[uniffi::constructor]
    pub async fn open(
        path: String,
        vault_key: Vec<u8>,
        key_store: Arc<dyn KeyStore>,
        http: Arc<dyn HttpClient>,
    ) -> Result<Arc<Self>, GiaytoError> {
        let bytes: [u8; VAULT_KEY_LEN] = vault_key.try_into().map_err(|_| {
            GiaytoError::invalid(format!("the vault key must be {VAULT_KEY_LEN} bytes"))
        })?;
        let vault =
            blocking::unblock(move || Vault::open_or_create(&path, &VaultKey::from_bytes(bytes)))
                .await?;
        Ok(Arc::new(Wallet {
            inner: Arc::new(Mutex::new(core_wallet::Wallet::new(vault))),
            keys: key_store,
            http,
        }))
    }

    /// Reads an offer (scanned QR or link; fetched through the app's `HttpClient` when it is
    /// by reference) and says what it needs before `receive`. Async: waits for the network.
    pub async fn inspect_offer(&self, offer_uri: String) -> Result<OfferSummary, GiaytoError> {
        let offer = self
            .fetch_offer(&offer_uri, &Reporter::new(None, RECEIVE_STEPS))
            .await?;
        let spec = offer
            .grants
            .pre_authorized_code
            .as_ref()
            .and_then(|g| g.tx_code.as_ref());
        Ok(OfferSummary {
            issuer: offer.credential_issuer.clone(),
            credential_configuration_ids: offer.credential_configuration_ids.clone(),
            needs_tx_code: spec.is_some(),
            tx_code_numeric: spec.is_some_and(|s| s.input_mode() == TxCodeInputMode::Numeric),
            tx_code_length: spec.and_then(|s| s.length),
            tx_code_description: spec.and_then(|s| s.description.clone()),
        })
    }

    /// Receives the document of an OpenID4VCI credential offer (`openid-credential-offer://`
    /// by value or by reference) by the Pre-Authorized Code Flow, with the transaction code
    /// the citizen got separately. A new holder key is made in the key store for it.
    ///
    /// Async: waits for the network and for the holder key's `sign`. `progress`, when
    /// given, hears each step start ([`ProgressStage`], 7 steps). Cancelling the call (the
    /// coroutine, Swift task or asyncio task) stops it at the request or signature it is
    /// waiting on, cancels that request, and deletes the new holder key; the vault is
    /// written only after the last network or key wait, on a worker thread, in one atomic
    /// file replacement, so a cancelled call leaves it as it was (or, cancelled during that
    /// write, with the document and its key both stored). The same cleanup happens on any
    /// error.
    #[uniffi::method(default(progress = None))]
    pub async fn receive(
        &self,
        offer_uri: String,
        tx_code: Option<String>,
        progress: Option<Arc<dyn ProgressListener>>,
    ) -> Result<DocumentInfo, GiaytoError> {
        let progress = Reporter::new(progress, RECEIVE_STEPS);
        let offer = self.fetch_offer(&offer_uri, &progress).await?;
        let alias = new_alias()?;
        let new_key = NewHolderKey {
            keys: self.keys.clone(),
            alias: Some(alias.clone()),
        };
        let holder = HolderKey::new(self.keys.get_or_create_key(alias.clone())?)?;
        let credential = self
            .issue(offer, tx_code.as_deref(), &holder, &progress)
            .await?;
        progress.report(ProgressStage::Storing, RECEIVE_STEPS - 1, None);
        // On a worker thread, which owns the new key from here: a call cancelled now either
        // never starts the write (the key is deleted) or completes it (the key is kept).
        let wallet = self.inner.clone();
        let id = blocking::unblock(move || -> Result<String, GiaytoError> {
            let id = lock(&wallet)
                .store(&credential, &alias, unix_now())?
                .id
                .clone();
            new_key.keep();
            Ok(id)
        })
        .await?;
        let info = self.inner().document(&id)?.into();
        progress.done();
        Ok(info)
    }

    /// Every stored document, in the order received. Reads the vault already in memory.
    pub fn documents(&self) -> Result<Vec<DocumentInfo>, GiaytoError> {
        Ok(self
            .inner()
            .documents()?
            .into_iter()
            .map(DocumentInfo::from)
            .collect())
    }

    /// One stored document. Reads the vault already in memory.
    pub fn document(&self, id: String) -> Result<DocumentInfo, GiaytoError> {
        Ok(self.inner().document(&id)?.into())
    }

    /// Presents the claims of `selection` from document `id` as a QR (text and PNG),
    /// one-way, answering a verifier's challenge, or as the paper form.
    ///
    /// Async: the holder key's `sign` may ask for the user's fingerprint or face first.
    /// Cancelling the call while it waits for the key leaves nothing behind.
    pub async fn present(
        &self,
        id: String,
        selection: ClaimSelection,
        mode: PresentationMode,
    ) -> Result<PresentationQr, GiaytoError> {
        let selection = match selection {
            ClaimSelection::Preset { name } => core_wallet::Selection::Preset(name),
            ClaimSelection::Claims { paths } => core_wallet::Selection::Claims(paths),
        };
        // The one-way nonce and the time are fixed here, so that both runs of the signing
        // step (see `HolderKey::run`) build the same key-binding JWT.
        let binding = match mode {
            PresentationMode::OneWay => Binding::Target(KeyBindingTarget::one_way()?),
            PresentationMode::AnswerChallenge { challenge_qr_text } => {
                Binding::Challenge(Challenge::parse(challenge_qr_text.trim(), unix_now())?)
            }
            PresentationMode::Paper => Binding::Paper,
        };
        let now = unix_now();
        let alias = self.inner().stored(&id)?.holder_key_id.clone();
        let holder = HolderKey::new(self.keys.get_key(alias)?)?;
        let output = holder
            .run(|signer| self.inner().present(&id, &selection, &binding, signer, now))
            .await?;
        let png = qr::render_png(&output.qr_text, EcLevel::M)?;
        Ok(PresentationQr {
            qr_text: output.qr_text,
            png,
            presentation: output.presentation,
        })
    }

    /// Deletes document `id` and its holder key. Async: the vault file is rewritten on a
    /// worker thread, never on the caller's; a cancelled call deletes both or neither.
    pub async fn delete(&self, id: String) -> Result<(), GiaytoError> {
        let wallet = self.inner.clone();
        let keys = self.keys.clone();
        blocking::unblock(move || {
            let alias = {
                let mut wallet = lock(&wallet);
                let alias = wallet.stored(&id)?.holder_key_id.clone();
                wallet.delete(&id)?;
                alias
            };
            keys.delete_key(alias)
        })
        .await
    }
}

/// A fresh random key-store alias, so each document has its own holder key and two
/// presentations of different documents cannot be linked by key.
pub(crate) fn new_alias() -> Result<String, GiaytoError> {
    let mut random = [0u8; ALIAS_RANDOM_BYTES];
    SystemRandom::new()
        .fill(&mut random)
        .map_err(|_| GiaytoError::KeyStore {
            reason: "the system random generator failed".into(),
        })?;
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{ALIAS_PREFIX}{hex}"))
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Waker};

    use super::*;
    use crate::HttpRequest;
    use crate::http::HttpResponse;
    use crate::keys::{SigningKey, software_key_store};

    /// An HTTP client whose requests are never answered: a call waits until cancelled.
    #[derive(Default)]
    struct Silent {
        sent: AtomicUsize,
    }

    #[async_trait::async_trait]
    impl HttpClient for Silent {
        async fn send(&self, _: HttpRequest) -> Result<HttpResponse, GiaytoError> {
            self.sent.fetch_add(1, Ordering::SeqCst);
            std::future::pending().await
        }
    }

    /// A software key store that lists its aliases.
    struct Listed {
        inner: Arc<dyn KeyStore>,
        aliases: Mutex<Vec<String>>,
    }

    impl Listed {
        fn aliases(&self) -> Vec<String> {
            self.aliases.lock().unwrap().clone()
        }
    }

    impl KeyStore for Listed {
        fn get_or_create_key(&self, alias: String) -> Result<Arc<dyn SigningKey>, GiaytoError> {
            self.aliases.lock().unwrap().push(alias.clone());
            self.inner.get_or_create_key(alias)
        }
        fn get_key(&self, alias: String) -> Result<Arc<dyn SigningKey>, GiaytoError> {
            self.inner.get_key(alias)
        }
        fn delete_key(&self, alias: String) -> Result<(), GiaytoError> {
            self.aliases.lock().unwrap().retain(|a| *a != alias);
            self.inner.delete_key(alias)
        }
    }

    #[test]
    fn a_cancelled_receive_deletes_its_new_key_and_leaves_the_vault_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wallet.vault");
        let keys = Arc::new(Listed {
            inner: software_key_store(),
            aliases: Mutex::new(Vec::new()),
        });
        let http = Arc::new(Silent::default());
        let wallet = futures_lite::future::block_on(Wallet::open(
            path.to_string_lossy().into_owned(),
            vec![7; VAULT_KEY_LEN],
            keys.clone(),
            http.clone(),
        ))
        .unwrap();
        let vault_before = std::fs::read(&path).unwrap();
        let offer: oid4vci::CredentialOffer = serde_json::from_value(serde_json::json!({
            "credential_issuer": "https://issuer.example",
            "credential_configuration_ids": ["driving_licence"],
            "grants": {"urn:ietf:params:oauth:grant-type:pre-authorized_code": {
                "pre-authorized_code": "code", "tx_code": {"input_mode": "numeric", "length": 6}
            }}
        }))
        .unwrap();
        {
            let mut call =
                Box::pin(wallet.receive(offer.to_uri().unwrap(), Some("123456".into()), None));
            let poll = call.as_mut().poll(&mut Context::from_waker(Waker::noop()));
            assert!(poll.is_pending());
            // Waiting on the issuer metadata, with the new holder key made.
            assert_eq!(http.sent.load(Ordering::SeqCst), 1);
            assert_eq!(keys.aliases().len(), 1);
        } // Dropping the future is what a cancelled coroutine or task does.
        assert_eq!(keys.aliases(), Vec::<String>::new());
        assert!(wallet.documents().unwrap().is_empty());
        assert_eq!(std::fs::read(&path).unwrap(), vault_before);
    }
}
