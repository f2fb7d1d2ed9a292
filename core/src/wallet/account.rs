//! The wallet's side of the citizen account (issue 14, docs/ARCHITECTURE.md "Citizen
//! account"), sans-IO like [`crate::oid4vci::IssuanceSession`]: it builds each request and
//! reads each response; the caller performs them.
//!
//! ```text
//! activation:  Activation::new(offer) ─GET issuer metadata─▶ on_issuer_metadata
//!                ─GET AS metadata─▶ on_as_metadata ─POST token + DPoP─▶ on_token ⇒ StoredAccount
//! sync:        refresh_request ─POST token + DPoP─▶ on_access_token (refused with
//!                `invalid_grant`: this phone's access ended; only the status lists below,
//!                then SyncReport::access_ended)
//!                ─GET inbox + DPoP, If-None-Match─▶ on_inbox ⇒ Unchanged | Changed(inbox)
//!                plan(stored, inbox) ⇒ for each document to receive:
//!                  nonce_request ─▶ on_nonce ─▶ credential_request (key proof + DPoP) ─▶ on_credential
//!                then the held credentials' status lists (super::status_check), each
//!                  conditional on its ETag; the issuer's keys when a list changed
//!                then Wallet::apply_inbox (replace reissued, mark revoked / suspended)
//!                  and the status lists' marks
//! ```
//!
//! The account key signs the DPoP proofs (RFC 9449): the activation binds the account to
//! it, and every later token, inbox and credential request proves it. Documents are bound
//! to the holder key given for each credential request (`jwt` key proof, OpenID4VCI 1.0
//! Appendix F.1).

use super::status_check::StatusCheck;
use super::{Wallet, WalletError};
use crate::jose::{Jwk, Signer};
use crate::oid4vci::dpop::{DPOP_HEADER, DPOP_TOKEN_TYPE, build_dpop_proof_with_jti, new_jti};
use crate::oid4vci::error::IssuerErrorCode;
use crate::oid4vci::http::{
    APPLICATION_FORM, APPLICATION_JSON, HttpRequest, HttpResponse, Method, read_json,
};
use crate::oid4vci::inbox::{Inbox, InboxEntry, TransferOffer, inbox_url, transfer_url};
use crate::oid4vci::offer::{CredentialOffer, PreAuthorizedCodeGrant, TxCodeSpec};
use crate::oid4vci::proof::{ProofClaims, build_proof_jwt};
use crate::oid4vci::session::check_tx_code;
use crate::oid4vci::urls::{authorization_server_metadata_url, credential_issuer_metadata_url};
use crate::oid4vci::{
    AuthorizationServerMetadata, CredentialIssuerMetadata, CredentialRequest, CredentialResponse,
    Endpoint, NonceResponse, Oid4vciError, Proofs, SecretString, TokenRequest, TokenResponse,
};
use crate::vault::{AccountLink, StoredAccount, StoredCredential};

/// The nonce endpoint answers with "a 2xx status code" (OpenID4VCI 1.0 section 7.2).
const NONCE_SUCCESS: [u16; 4] = [200, 201, 202, 203];

/// Activating an account from the offer the counter showed: the pre-authorized code flow
/// whose token request carries a DPoP proof of the account key.
#[derive(Debug)]
pub struct Activation {
    offer: CredentialOffer,
    metadata: Option<CredentialIssuerMetadata>,
    token_endpoint: Option<String>,
}

impl Activation {
    /// Starts from an offer with a pre-authorized code grant; the issuer metadata request.
    pub fn new(offer: CredentialOffer) -> Result<(Activation, HttpRequest), Oid4vciError> {
        offer.validate()?;
        if offer.grants.pre_authorized_code.is_none() {
            return Err(Oid4vciError::Unsupported(
                "an activation offer has a pre-authorized code".into(),
            ));
        }
        let request = HttpRequest::get(credential_issuer_metadata_url(&offer.credential_issuer)?);
        Ok((
            Activation {
                offer,
                metadata: None,
                token_endpoint: None,
            },
            request,
        ))
    }

    fn grant(&self) -> Result<&PreAuthorizedCodeGrant, Oid4vciError> {
        self.offer
            .grants
            .pre_authorized_code
            .as_ref()
            .ok_or(Oid4vciError::OutOfOrder("no pre-authorized code"))
    }

    /// Reads the issuer metadata (checked as for any offer); the request of the metadata
    /// of the issuer as its own authorization server (giayto's issuer is).
    pub fn on_issuer_metadata(
        &mut self,
        response: &HttpResponse,
    ) -> Result<HttpRequest, Oid4vciError> {
        let metadata: CredentialIssuerMetadata =
            read_json(response, Endpoint::IssuerMetadata, &[200])?;
        metadata.validate(&self.offer.credential_issuer)?;
        let server = metadata
            .authorization_servers
            .as_ref()
            .and_then(|s| s.first().cloned())
            .unwrap_or_else(|| metadata.credential_issuer.clone());
        self.metadata = Some(metadata);
        Ok(HttpRequest::get(authorization_server_metadata_url(
            &server,
        )?))
    }

    /// Reads the authorization server metadata; the Transaction Code description when the
    /// offer asks for one.
    pub fn on_as_metadata(
        &mut self,
        response: &HttpResponse,
    ) -> Result<Option<TxCodeSpec>, Oid4vciError> {
        let metadata: AuthorizationServerMetadata =
            read_json(response, Endpoint::AuthorizationServerMetadata, &[200])?;
        let issuer = self
            .metadata
            .as_ref()
            .ok_or(Oid4vciError::OutOfOrder("no issuer metadata yet"))?;
        let expected = issuer
            .authorization_servers
            .as_ref()
            .and_then(|s| s.first().cloned())
            .unwrap_or_else(|| issuer.credential_issuer.clone());
        self.token_endpoint = Some(metadata.validate(&expected)?.to_owned());
        Ok(self.grant()?.tx_code.clone())
    }

    /// The token request: the pre-authorized code, the Transaction Code the holder typed
    /// (checked against the offer), and a DPoP proof by `account_key` made at `now` (Unix
    /// seconds) with `jti` ([`new_jti`]), which binds the account to that key.
    pub fn token_request(
        &self,
        tx_code: Option<&str>,
        account_key: &dyn Signer,
        now: i64,
        jti: &str,
    ) -> Result<HttpRequest, Oid4vciError> {
        let grant = self.grant()?;
        let tx_code = match (&grant.tx_code, tx_code) {
            (Some(_), None) => return Err(Oid4vciError::TxCodeRequired),
            (Some(spec), Some(code)) => {
                check_tx_code(spec, code)?;
                Some(SecretString::new(code))
            }
            (None, _) => None,
        };
        let body = TokenRequest::pre_authorized(grant.pre_authorized_code.clone(), tx_code, None)
            .to_form()?;
        let url = self
            .token_endpoint
            .clone()
            .ok_or(Oid4vciError::OutOfOrder("no token endpoint yet"))?;
        token_post(url, body, account_key, now, jti)
    }

    /// Reads the token response: a `DPoP` token with a refresh token. Returns the account
    /// to keep in the vault (the key known by `account_key_id`) and the access token for
    /// the first sync.
    pub fn on_token(
        &self,
        response: &HttpResponse,
        account_key_id: &str,
    ) -> Result<(StoredAccount, SecretString), Oid4vciError> {
        let token = read_token(response)?;
        let refresh_token =
            token
                .refresh_token
                .clone()
                .ok_or_else(|| Oid4vciError::InvalidResponse {
                    endpoint: Endpoint::Token,
                    reason: "an activation gives a refresh token".into(),
                })?;
        let metadata = self
            .metadata
            .as_ref()
            .ok_or(Oid4vciError::OutOfOrder("no issuer metadata yet"))?;
        let account = StoredAccount {
            credential_issuer: metadata.credential_issuer.clone(),
            token_endpoint: self
                .token_endpoint
                .clone()
                .ok_or(Oid4vciError::OutOfOrder("no token endpoint yet"))?,
            credential_endpoint: metadata.credential_endpoint.clone(),
            nonce_endpoint: metadata.nonce_endpoint.clone(),
            inbox_endpoint: inbox_url(&metadata.credential_issuer),
            account_key_id: account_key_id.to_owned(),
            refresh_token: refresh_token.expose().to_owned(),
            citizen_id: None,
            inbox_etag: None,
            inbox: Vec::new(),
            synced_at: None,
            status_lists: Default::default(),
            status_marks: Default::default(),
            history: Vec::new(),
        };
        Ok((account, token.access_token))
    }
}

fn token_post(
    url: String,
    body: String,
    account_key: &dyn Signer,
    now: i64,
    jti: &str,
) -> Result<HttpRequest, Oid4vciError> {
    let proof = build_dpop_proof_with_jti(account_key, "POST", &url, now, None, jti)?;
    Ok(HttpRequest {
        method: Method::Post,
        url,
        headers: vec![
            ("Content-Type".into(), APPLICATION_FORM.into()),
            ("Accept".into(), APPLICATION_JSON.into()),
            (DPOP_HEADER.into(), proof),
        ],
        body: Some(body.into_bytes()),
    })
}

fn read_token(response: &HttpResponse) -> Result<TokenResponse, Oid4vciError> {
    let token: TokenResponse = read_json(response, Endpoint::Token, &[200])?;
    if !token.token_type.eq_ignore_ascii_case(DPOP_TOKEN_TYPE) {
        return Err(Oid4vciError::InvalidResponse {
            endpoint: Endpoint::Token,
            reason: "an account token must be DPoP-bound (token_type DPoP)".into(),
        });
    }
    if token.access_token.expose().is_empty() {
        return Err(Oid4vciError::InvalidResponse {
            endpoint: Endpoint::Token,
            reason: "empty access_token".into(),
        });
    }
    Ok(token)
}

/// The refresh token request of a sync (RFC 6749 section 6), proved by the account key
/// (DPoP `jti` given, from [`new_jti`]).
pub fn refresh_request(
    account: &StoredAccount,
    account_key: &dyn Signer,
    now: i64,
    jti: &str,
) -> Result<HttpRequest, Oid4vciError> {
    let body =
        TokenRequest::refresh(SecretString::new(account.refresh_token.clone()), None).to_form()?;
    token_post(account.token_endpoint.clone(), body, account_key, now, jti)
}

/// What to tell the holder, in Vietnamese and English, when this phone's access to the
/// account ended ([`access_ended`]).
pub const ACCESS_ENDED_MESSAGE: &str = "Điện thoại này không còn truy cập được tài khoản \
công dân: tài khoản đã chuyển sang điện thoại khác hoặc đã bị đóng. / This phone's access \
to the citizen account ended: the account moved to another phone or was closed.";

/// Whether the token endpoint's refusal of a refresh (`e`, from [`on_access_token`]) means
/// this phone's access to the account ended: `invalid_grant` (RFC 6749 section 5.2, the
/// refresh token "revoked"), which the issuer answers once the account moved to another
/// phone or was deactivated (docs/ARCHITECTURE.md "Citizen account").
pub fn access_ended(e: &Oid4vciError) -> bool {
    matches!(
        e,
        Oid4vciError::Issuer {
            endpoint: Endpoint::Token,
            error: IssuerErrorCode::InvalidGrant,
            ..
        }
    )
}

/// Reads the refresh answer: the access token of this sync.
pub fn on_access_token(response: &HttpResponse) -> Result<SecretString, Oid4vciError> {
    Ok(read_token(response)?.access_token)
}

fn authorized(
    method: Method,
    url: &str,
    access_token: &SecretString,
    account_key: &dyn Signer,
    now: i64,
    jti: &str,
) -> Result<HttpRequest, Oid4vciError> {
    let proof = build_dpop_proof_with_jti(
        account_key,
        method.as_str(),
        url,
        now,
        Some(access_token.expose()),
        jti,
    )?;
    Ok(HttpRequest {
        method,
        url: url.to_owned(),
        headers: vec![
            ("Accept".into(), APPLICATION_JSON.into()),
            (
                "Authorization".into(),
                format!("{DPOP_TOKEN_TYPE} {}", access_token.expose()),
            ),
            (DPOP_HEADER.into(), proof),
        ],
        body: None,
    })
}

/// The inbox request, conditional on the `ETag` of the last inbox read (RFC 9110 section
/// 13.1.2), so an unchanged inbox costs a `304` and no body.
pub fn inbox_request(
    account: &StoredAccount,
    access_token: &SecretString,
    account_key: &dyn Signer,
    now: i64,
    jti: &str,
) -> Result<HttpRequest, Oid4vciError> {
    let mut request = authorized(
        Method::Get,
        &account.inbox_endpoint,
        access_token,
        account_key,
        now,
        jti,
    )?;
    if let Some(etag) = &account.inbox_etag {
        request.headers.push(("If-None-Match".into(), etag.clone()));
    }
    Ok(request)
}

/// What the inbox answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboxAnswer {
    /// `304`: nothing changed since the last sync.
    Unchanged,
    /// The inbox, with its `ETag` for the next sync.
    Changed {
        /// The documents.
        inbox: Inbox,
        /// The validator to send next time.
        etag: Option<String>,
    },
}

/// Reads the inbox answer (bounded like every response, [`crate::oid4vci::MAX_RESPONSE_BYTES`]).
pub fn on_inbox(response: &HttpResponse) -> Result<InboxAnswer, Oid4vciError> {
    if response.status == 304 {
        return Ok(InboxAnswer::Unchanged);
    }
    let inbox: Inbox = read_json(response, Endpoint::AccountInbox, &[200])?;
    Ok(InboxAnswer::Changed {
        etag: response.header("etag").map(str::to_owned),
        inbox,
    })
}

/// The nonce request, when the issuer has a nonce endpoint.
pub fn nonce_request(account: &StoredAccount) -> Option<HttpRequest> {
    account.nonce_endpoint.as_ref().map(|url| HttpRequest {
        method: Method::Post,
        url: url.clone(),
        headers: vec![("Accept".into(), APPLICATION_JSON.into())],
        body: None,
    })
}

/// Reads a nonce answer: the `c_nonce`.
pub fn on_nonce(response: &HttpResponse) -> Result<String, Oid4vciError> {
    let nonce: NonceResponse = read_json(response, Endpoint::Nonce, &NONCE_SUCCESS)?;
    if nonce.c_nonce.is_empty() {
        return Err(Oid4vciError::InvalidResponse {
            endpoint: Endpoint::Nonce,
            reason: "empty c_nonce".into(),
        });
    }
    Ok(nonce.c_nonce)
}

/// The `jwt` key proof by `holder` for a credential request of the account (`aud` the
/// issuer, the `c_nonce`, `iat` = `now`): deterministic, so a key that signs in two
/// passes builds the same one.
pub fn key_proof(
    account: &StoredAccount,
    holder: &dyn Signer,
    c_nonce: Option<String>,
    now: i64,
) -> Result<String, Oid4vciError> {
    Ok(build_proof_jwt(
        holder,
        &ProofClaims {
            iss: None,
            aud: account.credential_issuer.clone(),
            iat: u64::try_from(now).unwrap_or_default(),
            nonce: c_nonce,
        },
    )?)
}

/// The credential request for one inbox document (OpenID4VCI 1.0 section 8.2, by
/// `credential_identifier`) carrying `key_proof` ([`key_proof`]), with the DPoP proof by
/// `account_key` (`jti` given).
pub fn credential_request(
    account: &StoredAccount,
    access_token: &SecretString,
    credential_identifier: &str,
    key_proof: String,
    account_key: &dyn Signer,
    now: i64,
    jti: &str,
) -> Result<HttpRequest, Oid4vciError> {
    let body = CredentialRequest {
        credential_identifier: Some(credential_identifier.to_owned()),
        credential_configuration_id: None,
        proofs: Some(Proofs {
            jwt: Some(vec![key_proof]),
            other: serde_json::Map::new(),
        }),
        credential_response_encryption: None,
    };
    let mut request = authorized(
        Method::Post,
        &account.credential_endpoint,
        access_token,
        account_key,
        now,
        jti,
    )?;
    request
        .headers
        .push(("Content-Type".into(), APPLICATION_JSON.into()));
    request.body = Some(
        serde_json::to_vec(&body)
            .map_err(|e| Oid4vciError::Unsupported(format!("JSON encoding: {e}")))?,
    );
    Ok(request)
}

/// Reads a credential answer: the one credential, which must be bound to `holder` (the
/// key whose proof was sent).
pub fn on_credential(response: &HttpResponse, holder: &Jwk) -> Result<String, Oid4vciError> {
    let invalid = |reason: &str| Oid4vciError::InvalidResponse {
        endpoint: Endpoint::Credential,
        reason: reason.to_owned(),
    };
    let body: CredentialResponse = read_json(response, Endpoint::Credential, &[200])?;
    let credential = body
        .credentials
        .and_then(|c| c.into_iter().next())
        .and_then(|c| match c.credential {
            serde_json::Value::String(text) if !text.is_empty() => Some(text),
            _ => None,
        })
        .ok_or_else(|| invalid("no credential in the answer"))?;
    let bound = super::holder_jwk_of(&credential)
        .map_err(|_| invalid("the credential is not a key-bound SD-JWT VC"))?;
    if bound.thumbprint()? != holder.thumbprint()? {
        return Err(invalid(
            "the credential is bound to another key than the holder's",
        ));
    }
    Ok(credential)
}

/// The transfer request of the old phone (its access token and a DPoP proof by its account
/// key, `jti` given): the issuer answers with the activation offer for the new phone.
pub fn transfer_request(
    account: &StoredAccount,
    access_token: &SecretString,
    account_key: &dyn Signer,
    now: i64,
    jti: &str,
) -> Result<HttpRequest, Oid4vciError> {
    authorized(
        Method::Post,
        &transfer_url(&account.credential_issuer),
        access_token,
        account_key,
        now,
        jti,
    )
}

/// Reads the transfer answer (`201` with the issuer's activation answer): the offer and the
/// code for the new phone to give `giayto wallet activate` / `Wallet.activate`.
pub fn on_transfer(response: &HttpResponse) -> Result<TransferOffer, Oid4vciError> {
    #[derive(serde::Deserialize)]
    struct Offer {
        offer_uri_by_reference: String,
        tx_code: String,
        expires_at: i64,
    }
    #[derive(serde::Deserialize)]
    struct Answer {
        offer: Offer,
    }
    let answer: Answer = read_json(response, Endpoint::AccountTransfer, &[201])?;
    Ok(TransferOffer {
        offer_uri: answer.offer.offer_uri_by_reference,
        tx_code: answer.offer.tx_code,
        expires_at: answer.offer.expires_at,
    })
}

/// What a sync must do after reading the inbox.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncPlan {
    /// Documents to receive: new, or a new version of one held.
    pub receive: Vec<InboxEntry>,
}

/// The documents of `inbox` the wallet (holding `stored`) must receive: every entry with a
/// `credential_identifier` no stored document was received by.
pub fn plan(stored: &[StoredCredential], inbox: &Inbox) -> SyncPlan {
    let held = |identifier: &str| {
        stored.iter().any(|s| {
            s.account
                .as_ref()
                .is_some_and(|a| a.credential_identifier == identifier)
        })
    };
    SyncPlan {
        receive: inbox
            .documents
            .iter()
            .filter(|e| {
                e.credential_identifier
                    .as_deref()
                    .is_some_and(|id| !held(id))
            })
            .cloned()
            .collect(),
    }
}

/// The state [`Wallet::apply_inbox`] gives a document the inbox no longer lists (a child's
/// document once the guardianship ended).
pub const ENDED: &str = "ended";

/// What [`Wallet::apply_inbox`] changed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InboxChanges {
    /// Stored documents whose state changed, with the new state.
    pub marked: Vec<(String, String)>,
}

/// The link of a document received for inbox `entry` by `credential_identifier`.
fn link_of(entry: &InboxEntry, credential_identifier: &str) -> AccountLink {
    AccountLink {
        credential_identifier: credential_identifier.to_owned(),
        publisher: entry.publisher.id.clone(),
        document_id: entry.document_id.clone(),
        version: entry.version,
        state: entry.state.clone(),
    }
}

impl Wallet {
    /// The citizen account, once activated.
    pub fn account(&self) -> Option<&StoredAccount> {
        self.vault.account()
    }

    /// Keeps the citizen account (after activation, or a sync) in the vault.
    pub fn set_account(&mut self, account: StoredAccount) -> Result<(), WalletError> {
        Ok(self.vault.set_account(Some(account))?)
    }

    /// Stores a credential received through the account for inbox `entry` (received by
    /// `credential_identifier`), bound to `holder_key_id`, and removes every older version
    /// of the same document (same publisher and document id) that was received through the
    /// account: a reissue replaces. Returns the stored document's id and the holder key
    /// aliases of the versions removed (for the key store to delete, unless shared).
    pub fn store_from_account(
        &mut self,
        credential: &str,
        holder_key_id: &str,
        entry: &InboxEntry,
        credential_identifier: &str,
        now: i64,
    ) -> Result<(String, Vec<String>), WalletError> {
        let mut stored = super::Parsed::read(credential)?.into_stored(holder_key_id, now);
        stored.account = Some(link_of(entry, credential_identifier));
        let id = stored.id.clone();
        self.vault.insert(stored)?;
        if let Some(mut account) = self.vault.account().cloned() {
            super::history::log(&mut account, [super::history::received_event(entry, now)]);
            self.vault.set_account(Some(account))?;
        }
        let older: Vec<(String, String)> = self
            .vault
            .list()
            .iter()
            .filter(|s| {
                s.id != id
                    && s.account.as_ref().is_some_and(|a| {
                        a.publisher == entry.publisher.id && a.document_id == entry.document_id
                    })
            })
            .map(|s| (s.id.clone(), s.holder_key_id.clone()))
            .collect();
        let mut keys = Vec::with_capacity(older.len());
        for (old, key) in older {
            self.vault.remove(&old)?;
            keys.push(key);
        }
        Ok((id, keys))
    }

    /// Marks each document received through the account with the state `inbox` gives its
    /// document (`revoked`, `suspended`, or `valid` again; an older version `revoked`; one
    /// the inbox no longer lists [`ENDED`]), so the holder knows before showing it.
    pub fn apply_inbox(&mut self, inbox: &Inbox) -> Result<InboxChanges, WalletError> {
        let mut changes = InboxChanges::default();
        let updates: Vec<StoredCredential> = self
            .vault
            .list()
            .iter()
            .filter_map(|s| {
                let link = s.account.as_ref()?;
                let entry = inbox.documents.iter().find(|e| {
                    e.publisher.id == link.publisher && e.document_id == link.document_id
                });
                let state = match entry {
                    // No longer the account's: a guardianship ended (its copies end with it).
                    None => ENDED.to_owned(),
                    // A held older version stays marked by its own state: a reissue revoked it.
                    Some(entry) if entry.version != link.version => "revoked".to_owned(),
                    Some(entry) => entry.state.clone(),
                };
                (state != link.state).then(|| {
                    let mut updated = s.clone();
                    if let Some(link) = updated.account.as_mut() {
                        link.state = state;
                    }
                    updated
                })
            })
            .collect();
        for updated in updates {
            let state = updated
                .account
                .as_ref()
                .map(|a| a.state.clone())
                .unwrap_or_default();
            changes.marked.push((updated.id.clone(), state));
            self.vault.insert(updated)?;
        }
        Ok(changes)
    }
}

/// Why an account step failed: the protocol, or the vault.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// A request could not be built or a response was refused.
    #[error(transparent)]
    Protocol(#[from] Oid4vciError),
    /// The wallet could not store the result.
    #[error(transparent)]
    Wallet(#[from] WalletError),
    /// No account in this wallet.
    #[error("this wallet has no citizen account: activate it first (the counter's offer)")]
    NoAccount,
    /// A step was called in the wrong order.
    #[error("account sync step out of order: {0}")]
    OutOfOrder(&'static str),
}

impl From<crate::jose::JoseError> for AccountError {
    fn from(e: crate::jose::JoseError) -> Self {
        AccountError::Protocol(e.into())
    }
}

/// What a finished sync did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncReport {
    /// The inbox had not changed (`304`): no document was asked for (the status lists
    /// were still read, each conditionally).
    pub unchanged: bool,
    /// Ids of the documents received (new ones and new versions).
    pub received: Vec<String>,
    /// Stored documents whose state changed, with the new state: the inbox's, and the
    /// status lists' (a purpose credential as `<id>#<preset>`, see
    /// [`super::status_check::mark_key`]).
    pub marked: Vec<(String, String)>,
    /// What reading the status lists did.
    pub status: super::status_check::StatusCheckReport,
    /// The token endpoint refused the refresh token (RFC 6749 section 5.2
    /// `invalid_grant`): this phone's access to the account ended (the account moved to
    /// another phone, or was deactivated). The inbox was not read; the status lists of the
    /// documents held were, and their marks kept (docs/ARCHITECTURE.md "Citizen account").
    pub access_ended: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SyncStep {
    Token,
    Inbox,
    Nonce,
    Credential,
    Status,
    Done,
}

/// One sync of the account, as a state machine: [`AccountSync::start`] gives the first
/// request; each [`AccountSync::on_response`] takes the answer and gives the next request,
/// or the [`SyncReport`] once done. Received documents are stored as they arrive; the inbox
/// `ETag` is kept only once everything was received, so an interrupted sync is simply run
/// again (what was stored is not asked twice).
#[derive(Debug)]
pub struct AccountSync {
    account: StoredAccount,
    step: SyncStep,
    access_token: Option<SecretString>,
    inbox: Option<(Inbox, Option<String>)>,
    pending: std::collections::VecDeque<InboxEntry>,
    c_nonce: Option<String>,
    status: Option<StatusCheck>,
    report: SyncReport,
}

/// The next thing to do in a sync.
#[derive(Debug)]
pub enum SyncNext {
    /// Perform this request and hand the answer to [`AccountSync::on_response`].
    Send(HttpRequest),
    /// The sync is over.
    Done(SyncReport),
}

impl AccountSync {
    /// Starts a sync of `wallet`'s account: the refresh token request, proved by
    /// `account_key` at `now` (Unix seconds).
    pub fn start(
        wallet: &Wallet,
        account_key: &dyn Signer,
        now: i64,
    ) -> Result<(AccountSync, HttpRequest), AccountError> {
        let account = wallet.account().ok_or(AccountError::NoAccount)?.clone();
        let request = refresh_request(&account, account_key, now, &new_jti()?)?;
        Ok((
            AccountSync {
                account,
                step: SyncStep::Token,
                access_token: None,
                inbox: None,
                pending: Default::default(),
                c_nonce: None,
                status: None,
                report: SyncReport::default(),
            },
            request,
        ))
    }

    /// Takes the answer to the last request. `account_key` signs the DPoP proofs, `holder`
    /// (known in the key store as `holder_key_id`) is the key the documents are bound to;
    /// `now` in Unix seconds.
    pub fn on_response(
        &mut self,
        response: &HttpResponse,
        wallet: &mut Wallet,
        account_key: &dyn Signer,
        holder: &dyn Signer,
        holder_key_id: &str,
        now: i64,
    ) -> Result<SyncNext, AccountError> {
        match self.step {
            SyncStep::Token => {
                let access = match on_access_token(response) {
                    Ok(access) => access,
                    // The refresh token is no longer this phone's: what it holds is still
                    // checked against the status lists, which need no account.
                    Err(e) if access_ended(&e) => {
                        self.report.access_ended = true;
                        return self.check_status(wallet, now);
                    }
                    Err(e) => return Err(e.into()),
                };
                let request = inbox_request(&self.account, &access, account_key, now, &new_jti()?)?;
                self.access_token = Some(access);
                self.step = SyncStep::Inbox;
                Ok(SyncNext::Send(request))
            }
            SyncStep::Inbox => match on_inbox(response)? {
                InboxAnswer::Unchanged => {
                    self.report.unchanged = true;
                    self.check_status(wallet, now)
                }
                InboxAnswer::Changed { inbox, etag } => {
                    self.pending = plan(wallet.vault.list(), &inbox).receive.into();
                    self.inbox = Some((inbox, etag));
                    self.next_document(account_key, holder, wallet, now)
                }
            },
            SyncStep::Nonce => {
                self.c_nonce = Some(on_nonce(response)?);
                self.credential(account_key, holder, now)
            }
            SyncStep::Credential => {
                let entry = self
                    .pending
                    .pop_front()
                    .ok_or(AccountError::OutOfOrder("no credential asked"))?;
                let credential = on_credential(response, &holder.public_jwk()?)?;
                let identifier = entry
                    .credential_identifier
                    .clone()
                    .ok_or(AccountError::OutOfOrder("no credential identifier"))?;
                // The replaced versions shared this sync's holder key: nothing to delete.
                let (id, _) = wallet.store_from_account(
                    &credential,
                    holder_key_id,
                    &entry,
                    &identifier,
                    now,
                )?;
                self.report.received.push(id);
                self.next_document(account_key, holder, wallet, now)
            }
            SyncStep::Status => {
                let check = self
                    .status
                    .as_mut()
                    .ok_or(AccountError::OutOfOrder("no status check"))?;
                check.on_response(response, now);
                self.next_status(wallet, now)
            }
            SyncStep::Done => Err(AccountError::OutOfOrder("the sync is over")),
        }
    }

    fn next_document(
        &mut self,
        account_key: &dyn Signer,
        holder: &dyn Signer,
        wallet: &mut Wallet,
        now: i64,
    ) -> Result<SyncNext, AccountError> {
        if self.pending.is_empty() {
            return self.check_status(wallet, now);
        }
        match nonce_request(&self.account) {
            Some(request) => {
                self.step = SyncStep::Nonce;
                Ok(SyncNext::Send(request))
            }
            None => {
                self.c_nonce = None;
                self.credential(account_key, holder, now)
            }
        }
    }

    fn credential(
        &mut self,
        account_key: &dyn Signer,
        holder: &dyn Signer,
        now: i64,
    ) -> Result<SyncNext, AccountError> {
        let entry = self
            .pending
            .front()
            .ok_or(AccountError::OutOfOrder("nothing to receive"))?;
        let identifier = entry
            .credential_identifier
            .as_deref()
            .ok_or(AccountError::OutOfOrder("no credential identifier"))?;
        let access = self
            .access_token
            .as_ref()
            .ok_or(AccountError::OutOfOrder("no access token"))?;
        let proof = key_proof(&self.account, holder, self.c_nonce.take(), now)?;
        let request = credential_request(
            &self.account,
            access,
            identifier,
            proof,
            account_key,
            now,
            &new_jti()?,
        )?;
        self.step = SyncStep::Credential;
        Ok(SyncNext::Send(request))
    }

    /// The most body bytes worth reading for the last request given (a status list token
    /// may be larger than the protocol's other answers).
    pub fn max_body_bytes(&self) -> usize {
        match (&self.step, &self.status) {
            (SyncStep::Status, Some(check)) => check.max_body_bytes(),
            _ => crate::oid4vci::MAX_RESPONSE_BYTES,
        }
    }

    /// Whether the last request given reads a status list (or its issuer's keys): one
    /// that cannot be performed is then given to [`AccountSync::on_network_error`], and
    /// the sync goes on.
    pub fn reading_status_lists(&self) -> bool {
        self.step == SyncStep::Status
    }

    /// The last request, which read a status list ([`AccountSync::reading_status_lists`]),
    /// could not be performed: reported in [`SyncReport::status`], the marks stay as they
    /// were, and the sync goes on. Any other request that fails fails the sync.
    pub fn on_network_error(
        &mut self,
        reason: String,
        wallet: &mut Wallet,
        now: i64,
    ) -> Result<SyncNext, AccountError> {
        match (&self.step, self.status.as_mut()) {
            (SyncStep::Status, Some(check)) => {
                check.on_network_error(reason);
                self.next_status(wallet, now)
            }
            _ => Err(AccountError::OutOfOrder(
                "only a status list request may fail without failing the sync",
            )),
        }
    }

    fn check_status(&mut self, wallet: &mut Wallet, now: i64) -> Result<SyncNext, AccountError> {
        let account = wallet.account().ok_or(AccountError::NoAccount)?;
        self.status = Some(StatusCheck::new(wallet, account));
        self.step = SyncStep::Status;
        self.next_status(wallet, now)
    }

    fn next_status(&mut self, wallet: &mut Wallet, now: i64) -> Result<SyncNext, AccountError> {
        match self.status.as_mut().and_then(StatusCheck::next_request) {
            Some(request) => Ok(SyncNext::Send(request)),
            None => self.finish(wallet, now),
        }
    }

    fn finish(&mut self, wallet: &mut Wallet, now: i64) -> Result<SyncNext, AccountError> {
        let mut account = wallet.account().ok_or(AccountError::NoAccount)?.clone();
        if let Some((inbox, etag)) = self.inbox.take() {
            self.report.marked = wallet.apply_inbox(&inbox)?.marked;
            let seen = super::history::inbox_events(&account.inbox, &inbox.documents);
            super::history::log(&mut account, seen);
            account.inbox_etag = etag;
            account.citizen_id = Some(inbox.citizen_id);
            account.inbox = inbox.documents;
        }
        if !self.report.access_ended {
            account.synced_at = Some(now);
        }
        wallet.set_account(account)?;
        if let Some(check) = self.status.take() {
            let (report, marked) = check.apply(wallet)?;
            self.report.status = report;
            merge_marks(&mut self.report.marked, marked);
        }
        self.step = SyncStep::Done;
        Ok(SyncNext::Done(std::mem::take(&mut self.report)))
    }
}

/// Adds the status lists' `marked` to the inbox's `into`: a document both mark the same
/// way is reported once, by its strongest state ([`Wallet::document_state`]).
pub fn merge_marks(into: &mut Vec<(String, String)>, marked: Vec<(String, String)>) {
    for (key, state) in marked {
        match into.iter_mut().find(|(id, _)| *id == key) {
            Some((_, existing)) => {
                if state_rank(&state) > state_rank(existing) {
                    *existing = state;
                }
            }
            None => into.push((key, state)),
        }
    }
}

/// How strongly a state stops a document being shown: revoked, ended, suspended, valid.
fn state_rank(state: &str) -> u8 {
    match state {
        "revoked" => 3,
        ENDED => 2,
        "suspended" => 1,
        _ => 0,
    }
}

impl Wallet {
    /// The state to show for stored document `id` (or `<id>#<preset>`, one of its purpose
    /// credentials): the strongest of what the account's inbox and the status lists last
    /// said (`revoked`, `ended`, `suspended`, else `valid`); `None` when neither said
    /// anything of it.
    pub fn document_state(&self, id: &str) -> Option<String> {
        let document = id.split('#').next().unwrap_or(id);
        let inbox = if document == id {
            self.vault
                .list()
                .iter()
                .find(|s| s.id == id)
                .and_then(|s| s.account.as_ref())
                .map(|a| a.state.clone())
        } else {
            None
        };
        let status = self.account().and_then(|a| a.status_marks.get(id).cloned());
        match (inbox, status) {
            (Some(a), Some(b)) => Some(if state_rank(&b) > state_rank(&a) {
                b
            } else {
                a
            }),
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oid4vci::inbox::Publisher;

    fn entry(document_id: &str, version: i64, state: &str, identifier: Option<&str>) -> InboxEntry {
        InboxEntry {
            credential_identifier: identifier.map(str::to_owned),
            credential_configuration_id: "driving_licence".into(),
            vct: "https://giayto.gov.vn/vct/driving_licence".into(),
            document_id: document_id.into(),
            publisher: Publisher {
                id: "police".into(),
                name_vi: "Bộ Công an".into(),
                name_en: "Ministry of Public Security".into(),
                issuer: "https://issuer.example/agencies/police".into(),
            },
            state: state.into(),
            version,
            published_at: 1_800_000_000,
            updated_at: 1_800_000_000,
            valid_until: 1_900_000_000,
            on_behalf_of: None,
        }
    }

    fn held(identifier: &str, document_id: &str, version: i64) -> StoredCredential {
        StoredCredential {
            id: format!("id-{identifier}"),
            vct: "https://giayto.gov.vn/vct/driving_licence".into(),
            format: "dc+sd-jwt".into(),
            credential: String::new(),
            holder_key_id: "k".into(),
            issuer: "https://issuer.example/agencies/police".into(),
            received_at: 0,
            display: serde_json::Value::Null,
            purposes: Vec::new(),
            refill: None,
            account: Some(AccountLink {
                credential_identifier: identifier.into(),
                publisher: "police".into(),
                document_id: document_id.into(),
                version,
                state: "valid".into(),
            }),
        }
    }

    #[test]
    fn the_plan_asks_only_for_identifiers_not_held() {
        let inbox = Inbox {
            citizen_id: "001090000001".into(),
            documents: vec![
                entry("A", 2, "valid", Some("a.2")),
                entry("B", 1, "valid", Some("b.1")),
                entry("C", 1, "revoked", None),
            ],
        };
        let stored = [held("a.1", "A", 1), held("b.1", "B", 1)];
        let plan = plan(&stored, &inbox);
        let asked: Vec<_> = plan
            .receive
            .iter()
            .map(|e| e.credential_identifier.clone().unwrap())
            .collect();
        assert_eq!(
            asked,
            ["a.2"],
            "the new version of A, not B held, not C revoked"
        );
    }
}
