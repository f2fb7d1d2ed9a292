//! The citizen account on the phone (issue 14): `Wallet.activate` binds the account to a
//! new key of the app's key store from the counter's offer, and `Wallet.sync` fetches what
//! agencies published (new documents, new versions, revocations and suspensions), each
//! document bound to its own new holder key. Core's account client
//! ([`giayto_core::wallet::account`]) builds and reads every request; each signature
//! (DPoP proofs by the account key, key proofs by holder keys) goes through
//! [`HolderKey::run`], with its inputs (time, `jti`, `c_nonce`) fixed beforehand.

use giayto_core::oid4vci::inbox::InboxEntry;
use giayto_core::oid4vci::new_jti;
use giayto_core::vault::StoredAccount;
use giayto_core::wallet::account::{self as core_account, Activation, InboxAnswer};

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
    /// Wallet-local id.
    pub id: String,
    /// `revoked`, `suspended` or `valid`.
    pub state: String,
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

impl Wallet {
    fn account_of(&self) -> Result<StoredAccount, GiaytoError> {
        lock(&self.inner)
            .account()
            .cloned()
            .ok_or_else(|| GiaytoError::NotFound {
                reason: "this wallet has no citizen account: activate it first".into(),
            })
    }

    /// One sync with the account key `key` (see [`Wallet::sync`]).
    async fn run_sync(&self, key: &HolderKey) -> Result<SyncSummary, GiaytoError> {
        let http = self.http.as_ref();
        let mut account = self.account_of()?;
        let now = unix_now();
        let jti = new_jti()?;
        let request = key
            .run(|signer| core_account::refresh_request(&account, signer, now, &jti))
            .await?;
        let access = core_account::on_access_token(&http::send(http, request).await?)?;
        let jti = new_jti()?;
        let request = key
            .run(|signer| core_account::inbox_request(&account, &access, signer, now, &jti))
            .await?;
        let (inbox, etag) = match core_account::on_inbox(&http::send(http, request).await?)? {
            InboxAnswer::Unchanged => {
                return Ok(SyncSummary {
                    unchanged: true,
                    received: Vec::new(),
                    state_changes: Vec::new(),
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
    /// suspended. Cheap when nothing changed: one token request and a `304`.
    ///
    /// Async: waits for the network and the keys' `sign`. A cancelled or failed sync keeps
    /// what it had stored; the next one goes on from there.
    pub async fn sync(&self) -> Result<SyncSummary, GiaytoError> {
        let account = self.account_of()?;
        let key = HolderKey::new(self.keys.get_key(account.account_key_id.clone())?)?;
        self.run_sync(&key).await
    }

    /// The account's history as the last sync read it: every document published for the
    /// citizen, by whom and when, newest first. Empty without an account.
    pub fn account_history(&self) -> Vec<PublishedDocument> {
        lock(&self.inner)
            .account()
            .map(|a| a.inbox.iter().map(PublishedDocument::from).collect())
            .unwrap_or_default()
    }
}
