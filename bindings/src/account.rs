//! The citizen account on the phone (issue 14): `Wallet.activate` binds the account to a
//! new key of the app's key store from the counter's offer, and `Wallet.sync` fetches what
//! agencies published (new documents, new versions, revocations and suspensions), each
//! document bound to its own new holder key. Core's account client
//! ([`giayto_core::wallet::account`]) builds and reads every request; each signature
//! (DPoP proofs by the account key, key proofs by holder keys) goes through
//! [`HolderKey::run`], with its inputs (time, `jti`, `c_nonce`) fixed beforehand.

use giayto_core::oid4vci::inbox::InboxEntry;
use giayto_core::oid4vci::{Oid4vciError, SecretString, new_jti};
use giayto_core::vault::StoredAccount;
use giayto_core::wallet::account::{self as core_account, Activation, InboxAnswer};
use giayto_core::wallet::history::{self, AccountEvent, AccountEventKind};
use giayto_core::wallet::status_check::StatusCheck;

use crate::http;
use crate::keys::HolderKey;
use crate::progress::Reporter;
use crate::wallet::{ALIAS_PREFIX, DocumentInfo, NewKeys, Wallet, lock, new_alias};
use crate::{GiaytoError, unix_now};

/// Prefix of the key-store alias of the account key.
const ACCOUNT_ALIAS_PREFIX: &str = "giayto-account-";

/// A document whose state the sync changed.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DocumentStateChange {
    /// Wallet-local id; `<id>#<preset>` for a purpose credential marked by its own status
    /// list entry.
    pub id: String,
    /// `revoked`, `suspended`, `ended` (a guardianship ended) or `valid`.
    pub state: String,
}

/// What the old phone shows the new one to move the account (issue 14, "Changing
/// phones"): the activation offer and its code, for [`Wallet::activate`] on the new phone.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TransferOffer {
    /// The activation offer (`openid-credential-offer://?credential_offer_uri=...`), to show
    /// as a QR.
    pub offer_uri: String,
    /// The code to type on the new phone (a secret: show it, never log it).
    pub tx_code: String,
    /// When the offer stops being accepted, Unix seconds.
    pub expires_at: i64,
}

/// One entry of the account's history: a document an agency published for the citizen.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PublishedDocument {
    /// The publisher's own document id.
    pub document_id: String,
    /// The document type's catalogue id.
    pub document_type_id: String,
    /// The publishing agency's id.
    pub publisher_id: String,
    /// Its Vietnamese name.
    pub publisher_name_vi: String,
    /// Its English name.
    pub publisher_name_en: String,
    /// When it was published, Unix seconds.
    pub published_at: i64,
    /// When it last changed, Unix seconds.
    pub updated_at: i64,
    /// `valid`, `suspended` or `revoked`.
    pub state: String,
    /// Bumped by each reissue.
    pub version: i64,
}

impl From<&InboxEntry> for PublishedDocument {
    fn from(e: &InboxEntry) -> Self {
        PublishedDocument {
            document_id: e.document_id.clone(),
            document_type_id: e.credential_configuration_id.clone(),
            publisher_id: e.publisher.id.clone(),
            publisher_name_vi: e.publisher.name_vi.clone(),
            publisher_name_en: e.publisher.name_en.clone(),
            published_at: e.published_at,
            updated_at: e.updated_at,
            state: e.state.clone(),
            version: e.version,
        }
    }
}

/// What happened to a document of the account ([`AccountEventKind`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum HistoryEventKind {
    /// The agency published it (its first version).
    Published,
    /// The agency reissued it: a new version.
    NewVersion,
    /// Its state changed (`revoked`, `suspended`, `valid` again).
    StateChanged,
    /// This phone received a version of it.
    Received,
}

/// One event of the account's history, as the vault knows it (core
/// [`giayto_core::wallet::history`]).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HistoryEvent {
    /// When, Unix seconds.
    pub at: i64,
    /// The same as a date in Vietnamese and English (UTC):
    /// `30/11/2026 16:07:49 / 30 Nov 2026 16:07:49 (UTC)`.
    pub at_text: String,
    /// What happened.
    pub kind: HistoryEventKind,
    /// The publisher's own document id.
    pub document_id: String,
    /// The publishing agency's id.
    pub publisher_id: String,
    /// Its Vietnamese name.
    pub publisher_name_vi: String,
    /// Its English name.
    pub publisher_name_en: String,
    /// The version concerned.
    pub version: i64,
    /// The document's state then: `valid`, `suspended` or `revoked`.
    pub state: String,
    /// The document type (SD-JWT VC `vct`).
    pub vct: String,
    /// The type's Vietnamese name from the catalogue (`Giấy phép lái xe`); `None` for a
    /// type not in it.
    pub document_name_vi: Option<String>,
    /// The type's English name from the catalogue (`Driving licence`).
    pub document_name_en: Option<String>,
    /// For a guardian's copy, the child whose document it is (personal identification
    /// number).
    pub on_behalf_of: Option<String>,
}

impl From<AccountEvent> for HistoryEvent {
    fn from(e: AccountEvent) -> Self {
        HistoryEvent {
            at: e.at,
            at_text: giayto_core::verifier::format_date(e.at),
            kind: match e.kind {
                AccountEventKind::Published => HistoryEventKind::Published,
                AccountEventKind::NewVersion => HistoryEventKind::NewVersion,
                AccountEventKind::State => HistoryEventKind::StateChanged,
                AccountEventKind::Received => HistoryEventKind::Received,
            },
            document_id: e.document_id,
            publisher_id: e.publisher.id,
            publisher_name_vi: e.publisher.name_vi,
            publisher_name_en: e.publisher.name_en,
            version: e.version,
            state: e.state,
            document_name_vi: giayto_core::catalogue::by_vct(&e.vct).map(|t| t.name.vi.into()),
            document_name_en: giayto_core::catalogue::by_vct(&e.vct).map(|t| t.name.en.into()),
            vct: e.vct,
            on_behalf_of: e.on_behalf_of,
        }
    }
}

/// What a sync did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncSummary {
    /// Nothing had changed (the inbox answered `304`).
    pub unchanged: bool,
    /// The documents received (new ones and new versions of reissued ones).
    pub received: Vec<DocumentInfo>,
    /// Documents found revoked, suspended or valid again.
    pub state_changes: Vec<DocumentStateChange>,
}

/// The token endpoint's refusal for the app: an ended access (the account moved to another
/// phone or was closed) in plain words, in both languages; anything else as it is.
fn refused(e: Oid4vciError) -> GiaytoError {
    if core_account::access_ended(&e) {
        GiaytoError::IssuerRefused {
            reason: core_account::ACCESS_ENDED_MESSAGE.into(),
        }
    } else {
        e.into()
    }
}

impl Wallet {
    fn account_of(&self) -> Result<StoredAccount, GiaytoError> {
        lock(&self.inner)
            .account()
            .cloned()
            .ok_or_else(|| GiaytoError::NotFound {
                reason: "this wallet has no citizen account: activate it first".into(),
            })
    }

    /// The access token of `account` (a refresh grant proved by the account key `key`,
    /// RFC 9449), made at `now`.
    async fn access_token(
        &self,
        account: &StoredAccount,
        key: &HolderKey,
        now: i64,
    ) -> Result<SecretString, GiaytoError> {
        self.refresh(account, key, now).await?.map_err(refused)
    }

    /// The refresh itself: the token endpoint's answer, or its refusal as core reads it
    /// (to tell an ended access, [`core_account::access_ended`], from other failures).
    async fn refresh(
        &self,
        account: &StoredAccount,
        key: &HolderKey,
        now: i64,
    ) -> Result<Result<SecretString, Oid4vciError>, GiaytoError> {
        let jti = new_jti()?;
        let request = key
            .run(|signer| core_account::refresh_request(account, signer, now, &jti))
            .await?;
        Ok(core_account::on_access_token(
            &http::send(self.http.as_ref(), request).await?,
        ))
    }

    /// One sync with the account key `key` (see [`Wallet::sync`]).
    async fn run_sync(&self, key: &HolderKey) -> Result<SyncSummary, GiaytoError> {
        let http = self.http.as_ref();
        let mut account = self.account_of()?;
        let now = unix_now();
        let access = match self.refresh(&account, key, now).await? {
            Ok(access) => access,
            Err(e) => {
                // This phone's access ended: what it holds is still checked against the
                // status lists (the marks kept), then the sync fails saying why.
                if core_account::access_ended(&e) {
                    self.check_status_lists().await?;
                }
                return Err(refused(e));
            }
        };
        let jti = new_jti()?;
        let request = key
            .run(|signer| core_account::inbox_request(&account, &access, signer, now, &jti))
            .await?;
        let (inbox, etag) = match core_account::on_inbox(&http::send(http, request).await?)? {
            InboxAnswer::Unchanged => {
                let state_changes = self.check_status_lists().await?;
                return Ok(SyncSummary {
                    unchanged: true,
                    received: Vec::new(),
                    state_changes: state_changes
                        .into_iter()
                        .map(|(id, state)| DocumentStateChange { id, state })
                        .collect(),
                });
            }
            InboxAnswer::Changed { inbox, etag } => (inbox, etag),
        };
        let plan = core_account::plan(lock(&self.inner).vault().list(), &inbox);
        let mut received = Vec::new();
        for entry in plan.receive {
            let identifier = entry
                .credential_identifier
                .clone()
                .ok_or_else(|| GiaytoError::invalid("an inbox entry without an identifier"))?;
            let c_nonce = match core_account::nonce_request(&account) {
                Some(request) => Some(core_account::on_nonce(&http::send(http, request).await?)?),
                None => None,
            };
            let alias = new_alias(ALIAS_PREFIX)?;
            let mut new_key = NewKeys::new(self.keys.clone());
            new_key.adopt(alias.clone());
            let signing_key = self.keys.get_or_create_key(alias.clone())?;
            let public: giayto_core::jose::Jwk = serde_json::from_str(&signing_key.public_jwk()?)
                .map_err(|e| GiaytoError::KeyStore {
                reason: format!("the key store's public JWK is not valid JSON: {e}"),
            })?;
            let holder = HolderKey::new(signing_key)?;
            let now = unix_now();
            let proof = holder
                .run(|signer| core_account::key_proof(&account, signer, c_nonce.clone(), now))
                .await?;
            let jti = new_jti()?;
            let request = key
                .run(|signer| {
                    core_account::credential_request(
                        &account,
                        &access,
                        &identifier,
                        proof.clone(),
                        signer,
                        now,
                        &jti,
                    )
                })
                .await?;
            let credential =
                core_account::on_credential(&http::send(http, request).await?, &public)?;
            // On a worker thread, which owns the new key from here (as `receive` does).
            let wallet = self.inner.clone();
            let keys = self.keys.clone();
            let id = blocking::unblock(move || -> Result<String, GiaytoError> {
                let (id, replaced) = lock(&wallet).store_from_account(
                    &credential,
                    &alias,
                    &entry,
                    &identifier,
                    unix_now(),
                )?;
                new_key.keep([&alias]);
                for old in replaced {
                    // Best effort: the old version is gone from the vault already.
                    let _ = keys.delete_key(old);
                }
                Ok(id)
            })
            .await?;
            received.push(lock(&self.inner).document(&id)?.into());
        }
        let wallet = self.inner.clone();
        let state_changes = blocking::unblock(move || -> Result<_, GiaytoError> {
            let mut wallet = lock(&wallet);
            let marked = wallet.apply_inbox(&inbox)?.marked;
            account.inbox_etag = etag;
            account.citizen_id = Some(inbox.citizen_id);
            account.inbox = inbox.documents;
            account.synced_at = Some(unix_now());
            wallet.set_account(account)?;
            Ok(marked)
        })
        .await?;
        let mut state_changes = state_changes;
        core_account::merge_marks(&mut state_changes, self.check_status_lists().await?);
        Ok(SyncSummary {
            unchanged: false,
            received,
            state_changes: state_changes
                .into_iter()
                .map(|(id, state)| DocumentStateChange { id, state })
                .collect(),
        })
    }
}

impl Wallet {
    /// Reads the status lists of every held credential (core's [`StatusCheck`]: each list
    /// conditional on its `ETag`, verified with its issuer's JWT VC Issuer Metadata keys)
    /// and keeps the marks; the credentials whose mark changed. A list out of reach leaves
    /// its credentials' marks as they were.
    async fn check_status_lists(&self) -> Result<Vec<(String, String)>, GiaytoError> {
        let http = self.http.as_ref();
        let account = self.account_of()?;
        let mut check = StatusCheck::new(&lock(&self.inner), &account);
        while let Some(request) = check.next_request() {
            match http::send(http, request).await {
                Ok(response) => check.on_response(&response, unix_now()),
                Err(e) => check.on_network_error(e.to_string()),
            }
        }
        let wallet = self.inner.clone();
        let (_, changed) = blocking::unblock(move || check.apply(&mut lock(&wallet))).await?;
        Ok(changed)
    }
}

#[uniffi::export]
impl Wallet {
    /// Activates the citizen account from the offer shown at the police counter
    /// (`openid-credential-offer://`) and the code sent separately: a new key is made in the
    /// key store as the account key (the issuer binds the account to it by DPoP, RFC 9449),
    /// then a first [`Wallet::sync`] receives the ID card and everything else published.
    ///
    /// Async: waits for the network and the keys' `sign`. A new activation (a new phone,
    /// or after a deactivation) replaces the wallet's account.
    pub async fn activate(
        &self,
        offer_uri: String,
        tx_code: Option<String>,
    ) -> Result<SyncSummary, GiaytoError> {
        let http = self.http.as_ref();
        let offer = self
            .fetch_offer(&offer_uri, &Reporter::new(None, 1))
            .await?;
        let (mut activation, request) = Activation::new(offer)?;
        let request = activation.on_issuer_metadata(&http::send(http, request).await?)?;
        activation.on_as_metadata(&http::send(http, request).await?)?;
        let alias = format!(
            "{ACCOUNT_ALIAS_PREFIX}{}",
            new_alias(ALIAS_PREFIX)?
                .rsplit('-')
                .next()
                .unwrap_or_default()
        );
        let mut new_key = NewKeys::new(self.keys.clone());
        new_key.adopt(alias.clone());
        let key = HolderKey::new(self.keys.get_or_create_key(alias.clone())?)?;
        let now = unix_now();
        let jti = new_jti()?;
        let request = key
            .run(|signer| activation.token_request(tx_code.as_deref(), signer, now, &jti))
            .await?;
        let (account, _access) = activation.on_token(&http::send(http, request).await?, &alias)?;
        let wallet = self.inner.clone();
        let keys = self.keys.clone();
        blocking::unblock(move || -> Result<(), GiaytoError> {
            let mut wallet = lock(&wallet);
            let previous = wallet.account().map(|a| a.account_key_id.clone());
            wallet.set_account(account)?;
            new_key.keep([&alias]);
            if let Some(previous) = previous.filter(|p| *p != alias) {
                let _ = keys.delete_key(previous);
            }
            Ok(())
        })
        .await?;
        self.run_sync(&key).await
    }

    /// Fetches what agencies published for the citizen: receives each new document and the
    /// new version of each reissued one (replacing the old), and marks documents revoked or
    /// suspended: as the inbox says, and as each held credential's status list says (also
    /// documents received by their own offer, and purpose credentials), the lists verified
    /// with the issuer's keys from its JWT VC Issuer Metadata (SD-JWT VC). Cheap when
    /// nothing changed: one token request, a `304` from the inbox and one per status list.
    ///
    /// Async: waits for the network and the keys' `sign`. A cancelled or failed sync keeps
    /// what it had stored; the next one goes on from there. When the token endpoint refuses
    /// this phone's refresh token (`invalid_grant`: the account moved to another phone or
    /// was closed), the held documents' status lists are still read and their marks kept
    /// (see `documents`), then the sync fails with `IssuerRefused` saying, in both
    /// languages, that this phone's access to the account ended.
    pub async fn sync(&self) -> Result<SyncSummary, GiaytoError> {
        let account = self.account_of()?;
        let key = HolderKey::new(self.keys.get_key(account.account_key_id.clone())?)?;
        self.run_sync(&key).await
    }

    /// Moves the account to a new phone, from this (the old) one: asks the issuer, with
    /// this phone's account key (a refresh, then the transfer request, each with a DPoP
    /// proof, RFC 9449), for the new phone's activation offer. Once the new phone activates
    /// with it, every credential bound to this phone's keys is revoked and this phone's
    /// account stops syncing (docs/ARCHITECTURE.md "Citizen account").
    ///
    /// Async: waits for the network and the account key's `sign`. Errors: `NotFound`
    /// without an account; the issuer's refusal (a deactivated account, a refresh token
    /// already replaced) as a protocol error.
    pub async fn transfer(&self) -> Result<TransferOffer, GiaytoError> {
        let http = self.http.as_ref();
        let account = self.account_of()?;
        let key = HolderKey::new(self.keys.get_key(account.account_key_id.clone())?)?;
        let access = self.access_token(&account, &key, unix_now()).await?;
        let now = unix_now();
        let jti = new_jti()?;
        let request = key
            .run(|signer| core_account::transfer_request(&account, &access, signer, now, &jti))
            .await?;
        let offer = core_account::on_transfer(&http::send(http, request).await?)?;
        Ok(TransferOffer {
            offer_uri: offer.offer_uri,
            tx_code: offer.tx_code,
            expires_at: offer.expires_at,
        })
    }

    /// The account's history as the last sync read it: every document published for the
    /// citizen, by whom and when, newest first. Empty without an account.
    pub fn account_history(&self) -> Vec<PublishedDocument> {
        lock(&self.inner)
            .account()
            .map(|a| a.inbox.iter().map(PublishedDocument::from).collect())
            .unwrap_or_default()
    }

    /// Every event the vault knows of the account's documents, newest first: each
    /// publication, new version and change of state the syncs saw, and each version this
    /// phone received (the inbox of [`Wallet::account_history`] gives only a document's
    /// first publication and latest version). Empty without an account.
    pub fn account_events(&self) -> Vec<HistoryEvent> {
        let inner = lock(&self.inner);
        inner
            .account()
            .map(|a| history::history(a, inner.vault().list()))
            .unwrap_or_default()
            .into_iter()
            .map(HistoryEvent::from)
            .collect()
    }
}
