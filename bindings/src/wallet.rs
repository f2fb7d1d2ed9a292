//! The citizen's side: a [`Wallet`] over core's encrypted vault and wallet façade that
//! receives documents by OpenID4VCI through the app's [`HttpClient`], lists them with their
//! vi/en labels, and presents chosen claims as QR text and PNG, signed by a key of the app's
//! [`KeyStore`].

use std::sync::{Arc, Mutex, MutexGuard};

use giayto_core::oid4vci::{
    self, CredentialOutcome, IssuanceSession, OfferSource, TokenStep, TxCodeInputMode,
};
use giayto_core::qr::{self, Challenge, EcLevel};
use giayto_core::vault::{VAULT_KEY_LEN, Vault, VaultKey};
use giayto_core::wallet::{self as core_wallet, Binding, DocumentView, WalletError};

use ring::rand::{SecureRandom, SystemRandom};

use crate::http::{self, HttpClient};
use crate::keys::{ForeignSigner, KeyStore};
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
    inner: Mutex<core_wallet::Wallet>,
    keys: Arc<dyn KeyStore>,
    http: Arc<dyn HttpClient>,
}

impl Wallet {
    fn inner(&self) -> MutexGuard<'_, core_wallet::Wallet> {
        // Vault updates are atomic (the file is replaced whole), so a poisoned lock still
        // guards a consistent vault.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn fetch_offer(&self, offer_uri: &str) -> Result<oid4vci::CredentialOffer, GiaytoError> {
        match oid4vci::parse_offer_uri(offer_uri)? {
            OfferSource::ByValue(offer) => Ok(offer),
            OfferSource::ByReference(url) => {
                let response = http::send(self.http.as_ref(), oid4vci::fetch_offer_request(&url)?)?;
                Ok(oid4vci::on_offer(&response)?)
            }
        }
    }

    /// Runs the Pre-Authorized Code Flow with the holder key `signer`; returns the issued
    /// SD-JWT VC.
    fn issue(
        &self,
        offer: oid4vci::CredentialOffer,
        tx_code: Option<&str>,
        signer: &ForeignSigner,
    ) -> Result<String, GiaytoError> {
        let http = self.http.as_ref();
        let (mut session, request) = IssuanceSession::new(offer)?;
        let request = session.on_issuer_metadata(&http::send(http, request)?)?;
        let token_request = match session.on_as_metadata(&http::send(http, request)?)? {
            TokenStep::Request(request) => request,
            TokenStep::NeedsTxCode(_) => {
                let code = tx_code.ok_or(oid4vci::Oid4vciError::TxCodeRequired)?;
                session.with_tx_code(code)?
            }
        };
        if let Some(nonce_request) = session.on_token(&http::send(http, token_request)?)? {
            session.on_nonce(&http::send(http, nonce_request)?)?;
        }
        let mut retried = false;
        loop {
            let now = u64::try_from(unix_now()).unwrap_or_default();
            let request = session
                .build_credential_request(signer, now)
                .map_err(|e| signer.explain(e))?;
            match session.on_credential(&http::send(http, request)?)? {
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
                    session.on_nonce(&http::send(http, nonce_request)?)?;
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

#[uniffi::export]
impl Wallet {
    /// Opens the vault file at `path` (creating it when absent), encrypted with the 32-byte
    /// `vault_key` the platform keeps (Android Keystore-wrapped, iOS Keychain). Holder keys
    /// live in `key_store`; `http` performs every network request.
    #[uniffi::constructor]
    pub fn open(
        path: String,
        vault_key: Vec<u8>,
        key_store: Arc<dyn KeyStore>,
        http: Arc<dyn HttpClient>,
    ) -> Result<Arc<Self>, GiaytoError> {
        let bytes: [u8; VAULT_KEY_LEN] = vault_key.try_into().map_err(|_| {
            GiaytoError::invalid(format!("the vault key must be {VAULT_KEY_LEN} bytes"))
        })?;
        let vault = Vault::open_or_create(&path, &VaultKey::from_bytes(bytes))?;
        Ok(Arc::new(Wallet {
            inner: Mutex::new(core_wallet::Wallet::new(vault)),
            keys: key_store,
            http,
        }))
    }

    /// Reads an offer (scanned QR or link; fetched when it is by reference) and says what
    /// it needs before `receive`.
    pub fn inspect_offer(&self, offer_uri: String) -> Result<OfferSummary, GiaytoError> {
        let offer = self.fetch_offer(&offer_uri)?;
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
    /// by value or by reference), with the transaction code the citizen got separately.
    /// A new holder key is made in the key store for it, and removed again if issuance fails.
    pub fn receive(
        &self,
        offer_uri: String,
        tx_code: Option<String>,
    ) -> Result<DocumentInfo, GiaytoError> {
        let offer = self.fetch_offer(&offer_uri)?;
        let alias = new_alias()?;
        let result = self
            .keys
            .get_or_create_key(alias.clone())
            .and_then(ForeignSigner::new)
            .and_then(|signer| self.issue(offer, tx_code.as_deref(), &signer))
            .and_then(|credential| {
                let mut wallet = self.inner();
                let stored = wallet.store(&credential, &alias, unix_now())?;
                Ok(wallet.document(&stored.id)?.into())
            });
        if result.is_err() {
            // Best effort: an orphan key is harmless, but the original error matters more.
            let _ = self.keys.delete_key(alias);
        }
        result
    }

    /// Every stored document, in the order received.
    pub fn documents(&self) -> Result<Vec<DocumentInfo>, GiaytoError> {
        Ok(self
            .inner()
            .documents()?
            .into_iter()
            .map(DocumentInfo::from)
            .collect())
    }

    /// One stored document.
    pub fn document(&self, id: String) -> Result<DocumentInfo, GiaytoError> {
        Ok(self.inner().document(&id)?.into())
    }

    /// Presents the claims of `selection` from document `id` as a QR (text and PNG),
    /// one-way, answering a verifier's challenge, or as the paper form.
    pub fn present(
        &self,
        id: String,
        selection: ClaimSelection,
        mode: PresentationMode,
    ) -> Result<PresentationQr, GiaytoError> {
        let selection = match selection {
            ClaimSelection::Preset { name } => core_wallet::Selection::Preset(name),
            ClaimSelection::Claims { paths } => core_wallet::Selection::Claims(paths),
        };
        let binding = match mode {
            PresentationMode::OneWay => Binding::OneWay,
            PresentationMode::AnswerChallenge { challenge_qr_text } => {
                Binding::Challenge(Challenge::parse(challenge_qr_text.trim(), unix_now())?)
            }
            PresentationMode::Paper => Binding::Paper,
        };
        let alias = self.inner().stored(&id)?.holder_key_id.clone();
        let signer = ForeignSigner::new(self.keys.get_key(alias)?)?;
        let output = self
            .inner()
            .present(&id, &selection, &binding, &signer, unix_now())
            .map_err(|e| signer.explain(e))?;
        let png = qr::render_png(&output.qr_text, EcLevel::M)?;
        Ok(PresentationQr {
            qr_text: output.qr_text,
            png,
            presentation: output.presentation,
        })
    }

    /// Deletes document `id` and its holder key.
    pub fn delete(&self, id: String) -> Result<(), GiaytoError> {
        let alias = {
            let mut wallet = self.inner();
            let alias = wallet.stored(&id)?.holder_key_id.clone();
            wallet.delete(&id)?;
            alias
        };
        self.keys.delete_key(alias)
    }
}

/// A fresh random key-store alias, so each document has its own holder key and two
/// presentations of different documents cannot be linked by key.
fn new_alias() -> Result<String, GiaytoError> {
    let mut random = [0u8; ALIAS_RANDOM_BYTES];
    SystemRandom::new()
        .fill(&mut random)
        .map_err(|_| GiaytoError::KeyStore {
            reason: "the system random generator failed".into(),
        })?;
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{ALIAS_PREFIX}{hex}"))
}
