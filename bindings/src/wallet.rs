//! The citizen's side: a [`Wallet`] over core's encrypted vault and wallet façade that
//! receives documents and their purpose credentials by OpenID4VCI through the app's
//! [`HttpClient`], lists them with their vi/en labels and how many purpose credentials are
//! left, presents chosen claims as QR text and PNG, signed by a key of the app's
//! [`KeyStore`] (a preset from an unused purpose credential, the fallback said), and
//! refills the purpose credentials with the refresh token the issuer gave.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use giayto_core::jose::Signer;
use giayto_core::oid4vci::{
    self, CredentialOutcome, IssuanceSession, OfferSource, TokenStep, TxCodeInputMode,
};
use giayto_core::qr::{self, Challenge, EcLevel, KeyBindingTarget};
use giayto_core::vault::{VAULT_KEY_LEN, Vault, VaultKey};
use giayto_core::wallet::{
    self as core_wallet, Binding, DocumentView, Fallback, HolderKeys, PurposeIssuance,
    PurposeReceipt, PurposeStep, Source, WalletError,
};

use ring::rand::{SecureRandom, SystemRandom};

use crate::http::{self, HttpClient};
use crate::keys::{HolderKey, KeyStore, Signatures, Signing, sign_each};
use crate::progress::{ProgressListener, ProgressStage, Reporter};
use crate::result::{LabelledClaim, display_value};
use crate::{GiaytoError, unix_now};

/// Bytes of randomness in a holder key alias.
const ALIAS_RANDOM_BYTES: usize = 12;
/// Prefix of the key-store aliases of holder keys.
pub(crate) const ALIAS_PREFIX: &str = "giayto-holder-";
/// Prefix of the key-store aliases of purpose credentials' holder keys (one per credential).
const PURPOSE_ALIAS_PREFIX: &str = "giayto-purpose-";

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
    /// Which credential it was made from.
    pub source: PresentationSource,
    /// What to tell the holder, in Vietnamese, when it is not a fresh purpose credential
    /// (a reused one, or the full credential standing in): show it before the QR.
    pub notice_vi: Option<String>,
    /// The same notice in English.
    pub notice_en: Option<String>,
}

/// Which credential a presentation was made from.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum PresentationSource {
    /// An unused purpose credential of the preset, now marked used (each is shown once,
    /// so two verifiers find nothing in common); `left` unused remain for the preset.
    PurposeCredential {
        /// Unused purpose credentials left for this preset.
        left: u32,
    },
    /// None was unused: the least recently shown purpose credential, shown again (the
    /// verifier who saw it then can recognise it).
    ReusedPurposeCredential {
        /// When it had been shown last, Unix seconds.
        last_shown_at: i64,
    },
    /// The full credential: for `full`, claim choices, presets without purpose credentials
    /// and documents that never had any (received through the citizen account: tell the
    /// holder that, not that none is left), or (`fallback`) standing in for a purpose
    /// credential that was not there.
    FullCredential {
        /// Whether it stands in for a purpose credential.
        fallback: bool,
    },
}

impl From<Source> for PresentationSource {
    fn from(source: Source) -> Self {
        match source {
            Source::Purpose { left } => PresentationSource::PurposeCredential {
                left: u32::try_from(left).unwrap_or(u32::MAX),
            },
            Source::ReusedPurpose { last_shown_at } => {
                PresentationSource::ReusedPurposeCredential { last_shown_at }
            }
            Source::FullCredential { fallback } => PresentationSource::FullCredential { fallback },
            // Nothing stands in for a purpose credential: the document never had any.
            Source::NoPurposeCredentials { .. } => {
                PresentationSource::FullCredential { fallback: false }
            }
        }
    }
}

/// What to show when a preset has no unused purpose credential left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PurposeFallback {
    /// The least recently shown purpose credential again: a small QR, but the verifier
    /// who saw it before can recognise it (the default).
    ReuseLeastRecentlyShown,
    /// The preset's claims from the full credential: a larger QR, the same issuer
    /// signature wherever it is shown.
    FullCredential,
}

/// How many purpose credentials a document holds for one preset.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PurposeCount {
    /// The preset (`traffic_stop`, `age_over_18`, ...).
    pub preset: String,
    /// Not shown yet.
    pub unused: u32,
    /// Shown at least once (kept only for the fallback; dropped at the next refill).
    pub used: u32,
}

/// A purpose credential configuration that brought nothing, and why.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PurposeFailure {
    /// The credential configuration id.
    pub configuration: String,
    /// Why (an issuer's refusal, a network or key store failure).
    pub reason: String,
}

/// What `Wallet.refill` did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RefillResult {
    /// Purpose credentials added.
    pub added: u32,
    /// How many are left per preset now.
    pub purposes: Vec<PurposeCount>,
    /// The presets' configurations that brought nothing.
    pub failures: Vec<PurposeFailure>,
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
    /// For each purpose of the type (every preset but `full` shown offline), how many
    /// purpose credentials are left; empty for a type without purposes.
    pub purposes: Vec<PurposeCount>,
    /// The presets with few unused purpose credentials left: call `refill` when online.
    pub presets_to_refill: Vec<String>,
    /// Whether the issuer gave a refresh token, so that `refill` can work.
    pub refillable: bool,
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

impl DocumentInfo {
    /// Document `id` as the holder sees it, with its purpose counts.
    fn of(wallet: &core_wallet::Wallet, id: &str) -> Result<DocumentInfo, GiaytoError> {
        let mut info = DocumentInfo::from(wallet.document(id)?);
        info.purposes = purpose_counts(wallet, id)?;
        info.presets_to_refill = wallet.presets_to_refill(id)?;
        info.refillable = wallet.stored(id)?.refill.is_some();
        Ok(info)
    }
}

/// How many purpose credentials document `id` holds per preset.
fn purpose_counts(
    wallet: &core_wallet::Wallet,
    id: &str,
) -> Result<Vec<PurposeCount>, GiaytoError> {
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    Ok(wallet
        .purpose_counts(id)?
        .into_iter()
        .map(|c| PurposeCount {
            preset: c.preset,
            unused: count(c.unused),
            used: count(c.used),
        })
        .collect())
}

impl From<DocumentView> for DocumentInfo {
    fn from(d: DocumentView) -> Self {
        DocumentInfo {
            purposes: Vec::new(),
            presets_to_refill: Vec::new(),
            refillable: false,
            document_type_id: giayto_core::catalogue::by_vct(&d.vct).map(|t| t.id.to_owned()),
            name_vi: d.name.as_ref().map(|n| n.vi.to_string()),
            name_en: d.name.as_ref().map(|n| n.en.to_string()),
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
                    label_vi: c.label.as_ref().map(|n| n.vi.to_string()),
                    label_en: c.label.as_ref().map(|n| n.en.to_string()),
                    value: display_value(&c.path, &c.value),
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
    /// `holder`; returns the issued SD-JWT VC, its type, and the session, ready for the
    /// purpose credentials.
    async fn issue(
        &self,
        offer: oid4vci::CredentialOffer,
        tx_code: Option<&str>,
        holder: &HolderKey,
        progress: &Reporter,
    ) -> Result<(String, String, IssuanceSession), GiaytoError> {
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
                    return Ok((first.credential, first.vct.unwrap_or_default(), session));
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

/// Holder keys made for credentials that are not stored yet: deleted from the key store
/// when dropped, but for those [`NewKeys::keep`] names: so when `receive` or `refill`
/// fails or is cancelled (a cancelled coroutine or task drops the Rust future at the
/// `await` it is waiting on), no orphan key is left behind.
pub(crate) struct NewKeys {
    keys: Arc<dyn KeyStore>,
    aliases: Vec<String>,
}

impl NewKeys {
    pub(crate) fn new(keys: Arc<dyn KeyStore>) -> NewKeys {
        NewKeys {
            keys,
            aliases: Vec::new(),
        }
    }

    /// A new key, in the key store under a fresh alias with `prefix`.
    fn create(&mut self, prefix: &str) -> Result<(String, HolderKey), GiaytoError> {
        let alias = new_alias(prefix)?;
        // Listed first: a key store that fails half-way may have made it.
        self.aliases.push(alias.clone());
        let key = HolderKey::new(self.keys.get_or_create_key(alias.clone())?)?;
        Ok((alias, key))
    }

    /// A key made under `alias` by the caller, deleted like the others unless kept.
    pub(crate) fn adopt(&mut self, alias: String) {
        self.aliases.push(alias);
    }

    /// The credentials these keys are bound to are stored: the keys stay; the others are
    /// deleted when `self` is dropped (as are aliases added to `aliases` after this).
    pub(crate) fn keep<'a>(&mut self, stored: impl IntoIterator<Item = &'a String>) {
        let stored: Vec<&String> = stored.into_iter().collect();
        self.aliases.retain(|alias| !stored.contains(&alias));
    }
}

impl Drop for NewKeys {
    fn drop(&mut self) {
        for alias in self.aliases.drain(..) {
            // Best effort: an orphan key is harmless, but the original error matters more.
            let _ = self.keys.delete_key(alias);
        }
    }
}

/// Signs with the one key a presentation of a preset uses, under its alias.
struct OneKey<'a> {
    alias: &'a str,
    signer: &'a dyn Signer,
}

impl HolderKeys for OneKey<'_> {
    fn holder_key(&self, alias: &str) -> Option<&dyn Signer> {
        (alias == self.alias).then_some(self.signer)
    }
}

impl Wallet {
    /// Drives a purpose-credential run ([`PurposeIssuance`]) from `step` through the
    /// app's `HttpClient`, with new keys from the key store (listed in `new_keys`) and
    /// one signature per key, each batch's proofs signed in one step. For a refill of
    /// document `refill_of`, a rotated refresh token is written at once (the old one no
    /// longer works). A request or key that fails ends the run, keeping what came.
    /// Reports each configuration to `progress`, from `completed` steps on.
    async fn run_purposes(
        &self,
        mut run: PurposeIssuance,
        mut step: PurposeStep,
        new_keys: &mut NewKeys,
        refill_of: Option<&str>,
        progress: &Reporter,
        mut completed: u32,
    ) -> Result<PurposeReceipt, GiaytoError> {
        let mut holders: HashMap<String, HolderKey> = HashMap::new();
        let mut reported: Option<String> = None;
        // A refill's requests before the first configuration, in order.
        let mut before = [
            ProgressStage::IssuerMetadata,
            ProgressStage::AuthorizationServerMetadata,
            ProgressStage::Token,
        ]
        .into_iter();
        loop {
            match run.current_configuration() {
                Some(configuration) if reported.as_deref() != Some(configuration) => {
                    progress.report(
                        ProgressStage::PurposeCredentials,
                        completed,
                        Some(configuration),
                    );
                    completed += 1;
                    reported = Some(configuration.to_owned());
                }
                None if matches!(step, PurposeStep::Send(_)) => {
                    if let Some(stage) = before.next() {
                        progress.report(stage, completed, None);
                        completed += 1;
                    }
                }
                _ => {}
            }
            step = match step {
                PurposeStep::Send(request) => match http::send(self.http.as_ref(), request).await {
                    Ok(response) => run.on_response(&response)?,
                    Err(error) => {
                        run.interrupted(&error.to_string());
                        PurposeStep::Done
                    }
                },
                PurposeStep::NewKeys(count) => {
                    let mut aliases = Vec::with_capacity(count);
                    for _ in 0..count {
                        let (alias, key) = new_keys.create(PURPOSE_ALIAS_PREFIX)?;
                        holders.insert(alias.clone(), key);
                        aliases.push(alias);
                    }
                    run.with_keys(aliases)?
                }
                PurposeStep::Sign => {
                    let aliases = run.batch_keys().to_vec();
                    let keys = aliases
                        .iter()
                        .map(|alias| holders.get(alias))
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| GiaytoError::KeyStore {
                            reason: "a purpose key of this batch went missing".into(),
                        })?;
                    // One `now` for every run of the signing step, so all build the same proofs.
                    let now = u64::try_from(unix_now()).unwrap_or_default();
                    let mut request =
                        |signers: &[&dyn Signer]| run.credential_request(signers, now);
                    let built = match sign_each(&keys, &mut request).await {
                        Ok(Signing::Finished(result)) => result,
                        Ok(Signing::Ready(signatures)) => signatures.run(request),
                        Err(error) => Err(error),
                    };
                    match built {
                        Ok(step) => step,
                        Err(error) => {
                            run.interrupted(&error.to_string());
                            PurposeStep::Done
                        }
                    }
                }
                PurposeStep::KeepRefill(grant) => {
                    if let Some(id) = refill_of {
                        let (wallet, id) = (self.inner.clone(), id.to_owned());
                        blocking::unblock(move || lock(&wallet).set_refill(&id, grant)).await?;
                    }
                    run.next_step()
                }
                PurposeStep::Done => return Ok(run.finish()),
            };
        }
    }
}

/// The steps of `receive`, as `ProgressReport::total` counts them before the purpose
/// credentials: offer, issuer metadata, authorization server metadata, token, nonce,
/// credential, storing; one more per purpose configuration offered.
const RECEIVE_STEPS: u32 = 7;
/// The steps of `refill` before the purpose credentials: issuer metadata, authorization
/// server metadata, token, storing; one more per purpose configuration asked.
const REFILL_STEPS: u32 = 4;

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
    /// the citizen got separately. A new holder key is made in the key store for it. When
    /// the offer also covers the document type's purpose credentials (one configuration per
    /// preset shown offline), a batch of each comes with the same access token (OpenID4VCI
    /// 1.0 §8.2, one key proof per credential), each credential bound to its own new key
    /// in the key store; the issuer's refresh token is kept for `refill`. A batch the issuer
    /// refuses, or that a network or key store failure interrupts, is left out: the
    /// document is still stored, and `DocumentInfo.purposes` says what came.
    ///
    /// Async: waits for the network and for the keys' `sign` (one per purpose credential:
    /// a key store that prompts the user for each should make purpose keys without a
    /// prompt). `progress`, when given, hears each step start ([`ProgressStage`]: 7 steps,
    /// and one per further configuration the offer names, counted once the offer is read:
    /// an offer by reference reports its first step with `total` 7).
    /// Cancelling the call (the coroutine, Swift task or asyncio task) stops it at the
    /// request or signature it is waiting on, cancels that request, and deletes every key
    /// it made; the vault is written only after the last network or key wait, on a worker
    /// thread, in one atomic file replacement (document, purpose credentials and refresh
    /// token together), so a cancelled call leaves it as it was (or, cancelled during that
    /// write, with everything and its keys stored). The same cleanup happens on any error.
    #[uniffi::method(default(progress = None))]
    pub async fn receive(
        &self,
        offer_uri: String,
        tx_code: Option<String>,
        progress: Option<Arc<dyn ProgressListener>>,
    ) -> Result<DocumentInfo, GiaytoError> {
        let mut progress = Reporter::new(progress, RECEIVE_STEPS);
        let offer = self.fetch_offer(&offer_uri, &progress).await?;
        // Every configuration offered after the document's may be one of its purposes: a
        // step each (those that are not count as completed).
        let extra = offer.credential_configuration_ids.len().saturating_sub(1);
        let extra = u32::try_from(extra).unwrap_or(u32::MAX);
        progress.add_steps(extra);
        let mut new_keys = NewKeys::new(self.keys.clone());
        let (alias, holder) = new_keys.create(ALIAS_PREFIX)?;
        let (credential, vct, session) = self
            .issue(offer, tx_code.as_deref(), &holder, &progress)
            .await?;
        let (run, step) = PurposeIssuance::after_document(session, &vct);
        let receipt = self
            .run_purposes(run, step, &mut new_keys, None, &progress, RECEIVE_STEPS - 1)
            .await?;
        progress.report(ProgressStage::Storing, RECEIVE_STEPS - 1 + extra, None);
        // On a worker thread, which owns the new keys from here: a call cancelled now
        // either never starts the write (the keys are deleted) or completes it (the keys of
        // what was stored are kept).
        let wallet = self.inner.clone();
        let id = blocking::unblock(move || -> Result<String, GiaytoError> {
            let kept =
                lock(&wallet).store_with_purposes(&credential, &alias, &receipt, unix_now())?;
            new_keys
                .keep(std::iter::once(&alias).chain(receipt.credentials.iter().map(|(_, a)| a)));
            // The keys of used purpose credentials that fresh ones replaced go too.
            new_keys.aliases.extend(kept.dropped_keys);
            Ok(kept.id)
        })
        .await?;
        let info = DocumentInfo::of(&self.inner(), &id)?;
        progress.done();
        Ok(info)
    }

    /// Asks the issuer of document `id` for more purpose credentials of the presets with
    /// few unused left (`DocumentInfo.presets_to_refill`), with the refresh token kept
    /// from its issuance (RFC 6749 §6, OpenID4VCI 1.0 §6.3): a batch per preset, each
    /// credential bound to its own new key. The used credentials of a refilled preset are
    /// dropped. Nothing is asked when no preset is low.
    ///
    /// Errors: `NotFound` for an unknown id; `Unsupported` when the issuer gave no refresh
    /// token for it (receive a new offer); `IssuerRefused` when the refresh token is no
    /// longer valid (the document was revoked, or the token expired); `Network`.
    ///
    /// Async, cancellable and reported as `receive` is (3 steps, one per preset asked,
    /// then storing). The issuer replaces the refresh token at each use, and the new one is
    /// written at once; apart from it, a cancelled or failed call leaves the vault and the
    /// key store as they were.
    #[uniffi::method(default(progress = None))]
    pub async fn refill(
        &self,
        id: String,
        progress: Option<Arc<dyn ProgressListener>>,
    ) -> Result<RefillResult, GiaytoError> {
        let (grant, low, before) = {
            let wallet = self.inner();
            let stored = wallet.stored(&id)?;
            let grant = stored
                .refill
                .clone()
                .ok_or_else(|| GiaytoError::Unsupported {
                    reason: giayto_core::wallet::no_refill_reason(stored).into(),
                })?;
            // A document the wallet knows is not valid: the issuer would refuse.
            if let Some(state) = wallet.document_state(&id).filter(|s| s != "valid") {
                return Err(GiaytoError::IssuerRefused {
                    reason: giayto_core::wallet::refill_refused_reason(Some(&state)).into(),
                });
            }
            (
                grant,
                wallet.presets_to_refill(&id)?,
                purpose_counts(&wallet, &id)?,
            )
        };
        let mut progress = Reporter::new(progress, REFILL_STEPS);
        let mut failures = Vec::new();
        if let Some((run, request)) = PurposeIssuance::refill(&grant, &low)? {
            let asked = u32::try_from(run.configurations_to_ask()).unwrap_or(u32::MAX);
            progress.add_steps(asked);
            let mut new_keys = NewKeys::new(self.keys.clone());
            let receipt = self
                .run_purposes(
                    run,
                    PurposeStep::Send(request),
                    &mut new_keys,
                    Some(&id),
                    &progress,
                    0,
                )
                .await?;
            progress.report(ProgressStage::Storing, REFILL_STEPS - 1 + asked, None);
            failures = receipt
                .failures
                .iter()
                .map(|f| PurposeFailure {
                    configuration: f.configuration.clone(),
                    reason: f.reason.clone(),
                })
                .collect();
            let (wallet, id) = (self.inner.clone(), id.clone());
            blocking::unblock(move || -> Result<(), GiaytoError> {
                let kept = lock(&wallet).keep_purposes(&id, &receipt, unix_now())?;
                new_keys.keep(receipt.credentials.iter().map(|(_, a)| a));
                // The keys of the used credentials that the fresh ones replaced go too.
                new_keys.aliases.extend(kept.dropped_keys);
                Ok(())
            })
            .await?;
        }
        let purposes = purpose_counts(&self.inner(), &id)?;
        let unused = |counts: &[PurposeCount]| counts.iter().map(|c| c.unused).sum::<u32>();
        progress.done();
        Ok(RefillResult {
            added: unused(&purposes).saturating_sub(unused(&before)),
            purposes,
            failures,
        })
    }

    /// Every stored document, in the order received. Reads the vault already in memory.
    pub fn documents(&self) -> Result<Vec<DocumentInfo>, GiaytoError> {
        let wallet = self.inner();
        wallet
            .documents()?
            .iter()
            .map(|d| DocumentInfo::of(&wallet, &d.id))
            .collect()
    }

    /// One stored document. Reads the vault already in memory.
    pub fn document(&self, id: String) -> Result<DocumentInfo, GiaytoError> {
        DocumentInfo::of(&self.inner(), &id)
    }

    /// Presents the claims of `selection` from document `id` as a QR (text and PNG),
    /// one-way, answering a verifier's challenge, or as the paper form.
    ///
    /// A preset with purpose credentials (every preset but `full` of a catalogue type whose
    /// issuer sent them) comes from an unused one, marked used in the vault before the QR
    /// is returned (on a worker thread): each is shown once, so two verifiers who compare
    /// what they scanned find nothing in common. When none is left, `fallback` (default:
    /// reuse the least recently shown) says what to show instead, and the result's
    /// `source` and notice (Vietnamese and English) say so: show the notice to the holder,
    /// and `refill` when online. `full` and claim choices come from the full credential.
    ///
    /// Async: the holder key's `sign` may ask for the user's fingerprint or face first.
    /// Cancelling the call while it waits for the key leaves nothing behind.
    #[uniffi::method(default(fallback = None))]
    pub async fn present(
        &self,
        id: String,
        selection: ClaimSelection,
        mode: PresentationMode,
        fallback: Option<PurposeFallback>,
    ) -> Result<PresentationQr, GiaytoError> {
        // The one-way nonce and the time are fixed here, so that every run of the signing
        // step (see `HolderKey::run`) builds the same key-binding JWT.
        let binding = match mode {
            PresentationMode::OneWay => Binding::Target(KeyBindingTarget::one_way()?),
            PresentationMode::AnswerChallenge { challenge_qr_text } => {
                Binding::Challenge(Challenge::parse(challenge_qr_text.trim(), unix_now())?)
            }
            PresentationMode::Paper => Binding::Paper,
        };
        let now = unix_now();
        let shown = match selection {
            ClaimSelection::Preset { name } => {
                let fallback = match fallback {
                    Some(PurposeFallback::FullCredential) => Fallback::FullCredential,
                    Some(PurposeFallback::ReuseLeastRecentlyShown) | None => {
                        Fallback::ReuseLeastRecentlyShown
                    }
                };
                self.present_preset(id, name, binding, fallback, now)
                    .await?
            }
            ClaimSelection::Claims { paths } => {
                let selection = core_wallet::Selection::Claims(paths);
                let alias = self.inner().stored(&id)?.holder_key_id.clone();
                let holder = HolderKey::new(self.keys.get_key(alias)?)?;
                let output = holder
                    .run(|signer| self.inner().present(&id, &selection, &binding, signer, now))
                    .await?;
                core_wallet::ShownPreset {
                    output,
                    source: Source::FullCredential { fallback: false },
                }
            }
        };
        let png = qr::render_png(&shown.output.qr_text, EcLevel::M)?;
        let notice = shown.source.notice();
        Ok(PresentationQr {
            qr_text: shown.output.qr_text,
            png,
            presentation: shown.output.presentation,
            source: shown.source.into(),
            notice_vi: notice.map(|(vi, _)| vi.to_owned()),
            notice_en: notice.map(|(_, en)| en.to_owned()),
        })
    }

    /// Deletes document `id`, its holder key and its purpose credentials' keys. Async:
    /// the vault file is rewritten on a worker thread, never on the caller's; a cancelled
    /// call deletes all or none.
    pub async fn delete(&self, id: String) -> Result<(), GiaytoError> {
        let wallet = self.inner.clone();
        let keys = self.keys.clone();
        blocking::unblock(move || {
            let aliases = {
                let mut wallet = lock(&wallet);
                let stored = wallet.stored(&id)?;
                let mut aliases = vec![stored.holder_key_id.clone()];
                aliases.extend(stored.purposes.iter().map(|p| p.holder_key_id.clone()));
                wallet.delete(&id)?;
                aliases
            };
            // Every key, even past one that fails: the document is gone already.
            let mut outcome = Ok(());
            for alias in aliases {
                if let Err(error) = keys.delete_key(alias) {
                    outcome = Err(error);
                }
            }
            outcome
        })
        .await
    }
}

impl Wallet {
    /// Shows preset `name` of document `id` through core's `present_preset`: the key it
    /// will use is asked for first, signs in the key store, and the run that marks the
    /// credential used happens on a worker thread.
    async fn present_preset(
        &self,
        id: String,
        name: String,
        binding: Binding,
        fallback: Fallback,
        now: i64,
    ) -> Result<core_wallet::ShownPreset, GiaytoError> {
        let alias = self.inner().preset_key_alias(&id, &name, fallback)?;
        let holder = HolderKey::new(self.keys.get_key(alias.clone())?)?;
        let wallet = self.inner.clone();
        let paper = binding == Binding::Paper;
        let mut step = move |signers: &[&dyn Signer]| {
            let [signer] = signers else {
                return Err(GiaytoError::KeyStore {
                    reason: "one signer expected".into(),
                });
            };
            let key = OneKey {
                alias: &alias,
                signer: *signer,
            };
            Ok(lock(&wallet).present_preset(&id, &name, &binding, &key, fallback, now)?)
        };
        // A paper form signs nothing: the one run goes straight to the worker thread.
        let signatures = if paper {
            Signatures::none(&[&holder])
        } else {
            match sign_each(&[&holder], &mut step).await? {
                Signing::Ready(signatures) => signatures,
                // The step asked for no signature, so it failed before writing anything.
                Signing::Finished(result) => return result,
            }
        };
        blocking::unblock(move || signatures.run(step)).await
    }
}

/// A fresh random key-store alias with `prefix`, so each credential has its own holder key
/// and two presentations of different credentials cannot be linked by key.
pub(crate) fn new_alias(prefix: &str) -> Result<String, GiaytoError> {
    let mut random = [0u8; ALIAS_RANDOM_BYTES];
    SystemRandom::new()
        .fill(&mut random)
        .map_err(|_| GiaytoError::KeyStore {
            reason: "the system random generator failed".into(),
        })?;
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{prefix}{hex}"))
}
