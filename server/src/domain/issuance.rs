//! The OpenID4VCI steps after the offer: the token endpoint's pre-authorized code grant
//! (single use, short-lived, `tx_code` with bounded tries), the nonce endpoint (stateless,
//! time-bounded `c_nonce`, made single use when a credential is issued), and the credential
//! endpoint (proof checks, status slot, SD-JWT VC bound to the proof key).

use std::cell::RefCell;

use giayto_core::jose::jws::CompactJws;
use giayto_core::jose::{Algorithm, Jwk};
use giayto_core::oid4vci::CredentialRequest;
use giayto_core::oid4vci::IssuerErrorCode;
use giayto_core::oid4vci::{VerifiedDpop, verify_proof_jwt};
use giayto_core::sd_jwt_vc::{
    IssueRequest, issue_document, issue_document_to_representative, issue_purpose,
};
use giayto_core::status_list::StatusReference;
use serde_json::{Map, Value};
use sqlx::Row;

use super::documents::code_hash;
use super::group_commit::{CredentialWrite, Refusal};
use super::status_lists::{self, NewCredential};
use super::{DomainError, Services, accounts, c_nonce, group_commit, keys, now, offer_tokens};
use crate::offer;
use crate::secrets;

/// Most credentials one document gets within [`CREDENTIAL_WINDOW_SECS`] (the full one and
/// every purpose batch and refill together: a receive takes about 4 x 30 + 1, a refill 10
/// per preset running low); each holds a status-list slot for good, so a wallet refreshing
/// in a loop is refused before it fills the lists.
pub const MAX_CREDENTIALS_PER_WINDOW: i64 = 600;
/// The window of [`MAX_CREDENTIALS_PER_WINDOW`], seconds (30 days).
pub const CREDENTIAL_WINDOW_SECS: i64 = 30 * 86_400;
/// How long a refresh token lives, seconds (30 days; each use gives a new one). Its
/// credentials still end with their document's `valid_until`.
pub const REFRESH_TOKEN_TTL_SECS: i64 = 30 * 86_400;
/// Most key proofs accepted in one credential request (`batch_size`, OpenID4VCI 1.0
/// section 12.2.4): a phone asks for up to this many purpose credentials of a preset at
/// once, one per key (the EU age-verification issuer uses batches of 30).
pub const BATCH_SIZE: usize = 30;
/// The JWS algorithms of key proofs this issuer accepts: advertised as
/// `proof_signing_alg_values_supported` (OpenID4VCI 1.0 section 12.2.4) and enforced by the
/// credential endpoint, from this one list. ES256 is what HAIP 1.0 requires of wallets.
pub const PROOF_SIGNING_ALGS: &[Algorithm] = &[Algorithm::Es256];
/// The JWS algorithms agency keys sign credentials with: advertised as
/// `credential_signing_alg_values_supported` (OpenID4VCI 1.0 Appendix A.3.2), and the only
/// algorithms an agency key may be made for ([`super::keys::create_key`]).
pub const CREDENTIAL_SIGNING_ALGS: &[Algorithm] = &[Algorithm::Es256];

/// The names of `algs`, as metadata lists them.
pub fn alg_names(algs: &[Algorithm]) -> Vec<&'static str> {
    algs.iter().map(|a| a.name()).collect()
}
/// How old a key proof's `iat` may be, seconds.
const PROOF_MAX_AGE: u64 = 300;

/// A refused OpenID4VCI request: an OAuth / OpenID4VCI error code and a safe description.
#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    /// Token endpoint errors (RFC 6749 section 5.2, OpenID4VCI section 6.3).
    #[error("{code}: {description}")]
    Token {
        /// `invalid_request`, `invalid_grant`, `unsupported_grant_type`.
        code: &'static str,
        /// Human-readable, ASCII, no secret.
        description: &'static str,
    },
    /// A wrong `tx_code` (`invalid_grant`, RFC 6749 section 5.2): how many tries the offer
    /// has left before it is burnt (`tx_code_max_tries` in all), 0 when it just was.
    #[error("invalid_grant: wrong tx_code, {tries_left} tries left")]
    WrongTxCode {
        /// Tries left.
        tries_left: i64,
    },
    /// The access token is missing, unknown, used or expired (RFC 6750 section 3.1).
    #[error("invalid_token")]
    InvalidToken,
    /// Credential endpoint errors (OpenID4VCI section 8.3.1.2).
    #[error("{}: {description}", code.as_str())]
    Credential {
        /// The code.
        code: IssuerErrorCode,
        /// Human-readable, ASCII, no secret.
        description: String,
    },
    /// The server's fault.
    #[error(transparent)]
    Internal(#[from] DomainError),
}

impl From<sqlx::Error> for GrantError {
    fn from(e: sqlx::Error) -> Self {
        GrantError::Internal(DomainError::Db(e))
    }
}

impl From<secrets::SecretError> for GrantError {
    fn from(e: secrets::SecretError) -> Self {
        GrantError::Internal(DomainError::Secret(e))
    }
}

fn token_err(code: &'static str, description: &'static str) -> GrantError {
    GrantError::Token { code, description }
}

fn cred_err(code: IssuerErrorCode, description: impl Into<String>) -> GrantError {
    GrantError::Credential {
        code,
        description: description.into(),
    }
}

/// A granted access token, with the refresh token that can get the next one.
pub struct Grant {
    /// The bearer token (shown once to the wallet; stateless, see [`offer_tokens`]).
    pub access_token: String,
    /// Seconds it lives.
    pub expires_in: i64,
    /// The refresh token (shown once; stateless, single use through the offer's token
    /// generation, see [`offer_tokens`]).
    pub refresh_token: String,
}

impl std::fmt::Debug for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grant")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// A new access token and refresh token for `offer_id` at `generation` (stateless: see
/// [`offer_tokens`]; the caller's `UPDATE offers` set that generation).
fn grant_tokens(
    services: &Services,
    offer_id: &str,
    generation: i64,
    t: i64,
) -> Result<Grant, GrantError> {
    let ttl = services.config.access_token_ttl_secs;
    let mint = |kind, expires_at| {
        offer_tokens::mint(&services.master, kind, offer_id, generation, expires_at)
            .ok_or_else(|| GrantError::Internal(DomainError::Internal("offer id too long".into())))
    };
    Ok(Grant {
        access_token: mint(offer_tokens::Kind::Access, t.saturating_add(ttl))?,
        expires_in: ttl,
        refresh_token: mint(
            offer_tokens::Kind::Refresh,
            t.saturating_add(REFRESH_TOKEN_TTL_SECS),
        )?,
    })
}

/// The refresh token grant (RFC 6749 section 6): a new access token (and a new refresh
/// token; the one used no longer works) for the offer the refresh token came from, while
/// its document is still valid at the version of that offer. Anything else is
/// `invalid_grant`, saying no more than that.
///
/// One statement: the `UPDATE` that moves the offer's `token_generation` on from the
/// token's own is the single use (of two concurrent refreshes with one token, one moves
/// it and wins). Its commit is durable: the wallet keeps only the new refresh token, which
/// a lost rotation would leave without a working one.
pub async fn refresh(services: &Services, refresh_token: &str) -> Result<Grant, GrantError> {
    let refused = || token_err("invalid_grant", "unknown, used or expired refresh token");
    let t = now();
    let token = offer_tokens::check(
        &services.master,
        offer_tokens::Kind::Refresh,
        refresh_token,
        t,
    )
    .ok_or_else(refused)?;
    let row = sqlx::query(
        "UPDATE offers SET token_generation = token_generation + 1 \
         WHERE id = $1 AND token_generation = $2 AND state = 'redeemed' \
         AND EXISTS (SELECT 1 FROM documents d WHERE d.id = offers.document_id \
         AND d.state = 'valid' AND d.version = offers.doc_version) \
         RETURNING token_generation",
    )
    .bind(&token.offer_id)
    .bind(token.generation)
    .fetch_optional(services.db.writer())
    .await?
    .ok_or_else(refused)?;
    let generation: i64 = row.try_get("token_generation")?;
    let grant = grant_tokens(services, &token.offer_id, generation, t)?;
    metrics::counter!("giayto_refresh_grants_total").increment(1);
    Ok(grant)
}

/// The pre-authorized code grant. `tx_code` must be present exactly when the offer had one
/// (giayto's offers always do).
pub async fn redeem_code(
    services: &Services,
    code: &str,
    tx_code: Option<&str>,
    dpop: Option<&VerifiedDpop>,
) -> Result<Redeemed, GrantError> {
    if code.is_empty() || code.len() > 256 {
        return Err(token_err(
            "invalid_grant",
            "unknown or expired pre-authorized code",
        ));
    }
    let t = now();
    // Read outside the write transaction (the write lock is held only for the updates):
    // every update below re-checks `state = 'open'`, so a concurrent redemption or burn
    // between this read and the writes is still caught.
    // The offer and, for a citizen account's activation offer, whom it activates.
    let row = sqlx::query(
        "SELECT o.id, o.tx_code_hash, o.state, o.expires_at, a.citizen_id, a.agency_id \
         FROM offers o LEFT JOIN account_activations a ON a.offer_id = o.id WHERE o.code_hash = $1",
    )
    .bind(code_hash(&services.master, code));
    let row = services
        .db
        .fetch_optional_hot(row)
        .await?
        .ok_or_else(|| token_err("invalid_grant", "unknown or expired pre-authorized code"))?;
    let offer_id: String = row.try_get("id")?;
    let state: String = row.try_get("state")?;
    let expires_at: i64 = row.try_get("expires_at")?;
    if state != "open" || expires_at <= t {
        return Err(token_err(
            "invalid_grant",
            "unknown, used or expired pre-authorized code",
        ));
    }
    // An activation offer binds the account to the key of a DPoP proof (RFC 9449), so it
    // needs one, checked before the code can be spent. A document's offer gives Bearer
    // tokens (`token_type: Bearer`, which a DPoP client reads, RFC 9449 section 5); a
    // wallet that sends a (valid) proof anyway is not refused for it.
    let activation = match (
        row.try_get::<Option<String>, _>("citizen_id")?,
        row.try_get::<Option<String>, _>("agency_id")?,
    ) {
        (Some(citizen_id), Some(agency_id)) => Some((citizen_id, agency_id)),
        _ => None,
    };
    if activation.is_some() && dpop.is_none() {
        return Err(token_err(
            "invalid_dpop_proof",
            "this offer activates a citizen account: send a DPoP proof of the account key",
        ));
    }
    let Some(tx_code) = tx_code else {
        return Err(token_err(
            "invalid_request",
            "tx_code is required for this offer",
        ));
    };
    let stored: String = row.try_get("tx_code_hash")?;
    let matches =
        services
            .master
            .secret_matches(&offer::tx_code_purpose(&offer_id), tx_code, &stored);
    // The redemption: one statement, which also moves the offer's token generation on
    // (the tokens carry it, see `offer_tokens`).
    let redeem = || {
        sqlx::query(
            "UPDATE offers SET state = 'redeemed', secret_wrapped = NULL, \
             token_generation = token_generation + 1 \
             WHERE id = $1 AND state = 'open' AND expires_at > $2 RETURNING token_generation",
        )
        .bind(&offer_id)
        .bind(t)
    };
    let used = || {
        token_err(
            "invalid_grant",
            "unknown, used or expired pre-authorized code",
        )
    };
    if matches && activation.is_none() {
        // A document's redemption commits without waiting for the disk (one durable
        // commit per issuance, the credential's): a crash loses the offer's `redeemed`
        // state and generation together (the code is open again, and the tokens given,
        // which need the offer redeemed at their generation, no longer work); the
        // credential transaction, which comes after the read of that state, flushes it
        // first. Counting a wrong `tx_code` and activating an account stay durable.
        // Concurrent redemptions share one statement (group commit, issue 17).
        let generation = services
            .batchers
            .redemptions
            .submit(offer_id.clone())
            .await
            .map_err(GrantError::Internal)?
            .ok_or_else(used)?;
        return Ok(Redeemed::Document(grant_tokens(
            services, &offer_id, generation, t,
        )?));
    }
    let mut tx = services.db.begin().await?;
    if !matches {
        // Count the miss and burn the code at the limit; committed even though we refuse.
        let tries: Option<i64> = sqlx::query_scalar(
            "UPDATE offers SET tx_tries = tx_tries + 1, \
             state = CASE WHEN tx_tries + 1 >= $1 THEN 'burnt' ELSE state END, \
             secret_wrapped = CASE WHEN tx_tries + 1 >= $1 THEN NULL ELSE secret_wrapped END \
             WHERE id = $2 AND state = 'open' RETURNING tx_tries",
        )
        .bind(services.config.tx_code_max_tries)
        .bind(&offer_id)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        metrics::counter!("giayto_tx_code_failures_total").increment(1);
        // No row: a concurrent miss burnt it first.
        let tries_left = tries.map_or(0, |t| (services.config.tx_code_max_tries - t).max(0));
        return Err(GrantError::WrongTxCode { tries_left });
    }
    // A matching code of a document's offer took the relaxed path above: this one
    // activates an account (its DPoP proof was required before the code was checked).
    let (Some((citizen_id, agency_id)), Some(proof)) = (activation, dpop) else {
        return Err(GrantError::Internal(DomainError::Internal(
            "redemption without an activation".into(),
        )));
    };
    if redeem().fetch_optional(&mut *tx).await?.is_none() {
        return Err(used());
    }
    if !accounts::record_proof(services, &mut tx, proof).await? {
        return Err(token_err(
            "invalid_dpop_proof",
            "the DPoP proof was used before",
        ));
    }
    let grant = accounts::activate(services, &mut tx, &citizen_id, &agency_id, proof, t).await?;
    tx.commit().await?;
    Ok(Redeemed::Account(grant))
}

/// What a redeemed pre-authorized code gave.
#[derive(Debug)]
pub enum Redeemed {
    /// Bearer tokens for the offer's document.
    Document(Grant),
    /// An activation: DPoP-bound tokens of the new account.
    Account(accounts::AccountGrant),
}

/// Makes a fresh `c_nonce`, valid `nonce_ttl_secs`. Stores nothing (see [`c_nonce`]).
pub fn new_nonce(services: &Services) -> Result<String, GrantError> {
    Ok(c_nonce::mint(
        &services.master,
        now().saturating_add(services.config.nonce_ttl_secs),
    )?)
}

/// Deletes the expired records of single use (nonces, access token uses; run
/// periodically).
pub async fn purge_expired(services: &Services) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM single_uses WHERE expires_at < $1")
        .bind(now())
        .execute(services.db.writer())
        .await?;
    super::accounts::purge_expired(services).await
}

/// The document (at one version) a credential request is for.
pub(crate) struct Target {
    /// Internal document id.
    pub document_id: String,
    /// The version the credential carries.
    pub doc_version: i64,
    /// The issuing agency.
    pub agency_id: String,
    /// Its type.
    pub vct: String,
    /// Its claims.
    pub claims: Map<String, Value>,
    /// Its expiry (for a guardian's copy, at the latest the guardianship's end).
    pub valid_until: i64,
    /// For a credential issued to a child's guardian: the guardianship and the
    /// `representation` claim naming the guardian.
    pub representation: Option<(String, Value)>,
    /// The `kid` of the agency's active signing key when it was read with the document
    /// (`None`: look it up when issuing).
    pub signing_kid: Option<String>,
}

/// The document an offer's access token is for, with the agency's active key, in one
/// read: while the offer is redeemed at the token's generation or a later one (see
/// [`offer_tokens`]).
async fn target_of_token(
    services: &Services,
    token: &offer_tokens::OfferToken,
) -> Result<Target, GrantError> {
    let row = sqlx::query(
        "SELECT o.document_id, o.doc_version, d.agency_id, d.vct, d.claims, d.valid_until, k.kid \
         FROM offers o JOIN documents d ON d.id = o.document_id \
         LEFT JOIN signing_keys k ON k.agency_id = d.agency_id AND k.retired_at IS NULL \
         WHERE o.id = $1 AND o.state = 'redeemed' AND o.token_generation >= $2",
    )
    .bind(&token.offer_id)
    .bind(token.generation);
    let row = services
        .db
        .fetch_optional_hot(row)
        .await?
        .ok_or(GrantError::InvalidToken)?;
    let claims: String = row.try_get("claims")?;
    let claims = match serde_json::from_str(&claims) {
        Ok(Value::Object(m)) => m,
        _ => {
            return Err(GrantError::Internal(DomainError::Internal(
                "stored claims".into(),
            )));
        }
    };
    Ok(Target {
        document_id: row.try_get("document_id")?,
        doc_version: row.try_get("doc_version")?,
        agency_id: row.try_get("agency_id")?,
        vct: row.try_get("vct")?,
        claims,
        valid_until: row.try_get("valid_until")?,
        representation: None,
        signing_kid: row.try_get("kid")?,
    })
}

/// The credential endpoint: checks the request and its key proofs, allocates a status slot
/// per proof, and signs one SD-JWT VC per proof key: the full credential, or for a purpose
/// configuration (`driving_licence.traffic_stop`) purpose credentials of the same document,
/// whose status rows make revocation, suspension and reissue act on them all.
pub async fn issue_credentials(
    services: &Services,
    access_token: &str,
    request: &CredentialRequest,
) -> Result<Vec<String>, GrantError> {
    let t = now();
    let token = offer_tokens::check(
        &services.master,
        offer_tokens::Kind::Access,
        access_token,
        t,
    )
    .ok_or(GrantError::InvalidToken)?;
    let target = target_of_token(services, &token).await?;
    if request.credential_identifier.is_some() {
        return Err(cred_err(
            IssuerErrorCode::UnknownCredentialIdentifier,
            "this issuer returns no credential_identifiers; use credential_configuration_id",
        ));
    }
    let Some(configuration_id) = request.credential_configuration_id.as_deref() else {
        return Err(cred_err(
            IssuerErrorCode::InvalidCredentialRequest,
            "credential_configuration_id is missing",
        ));
    };
    // The full credential or one of the document's purpose types.
    let purpose = offer::configuration_of(&target.vct, configuration_id).ok_or_else(|| {
        cred_err(
            IssuerErrorCode::UnknownCredentialConfiguration,
            "the access token does not cover this credential configuration",
        )
    })?;
    let (holder_keys, nonces) = check_proofs(services, request, t)?;
    issue_to(
        services,
        &target,
        purpose.as_ref(),
        holder_keys,
        &nonces,
        TokenUse::Offer {
            use_key: token.use_key(configuration_id),
            expires_at: token.expires_at,
        },
    )
    .await
}

/// The credential endpoint for a citizen account (already authenticated by its DPoP-bound
/// token): the request names a `credential_identifier` from the account's
/// `authorization_details` or inbox, and gets the full credential of that document, bound
/// to each proved key and recorded with the account.
pub async fn issue_for_account(
    services: &Services,
    account: &accounts::Account,
    request: &CredentialRequest,
) -> Result<Vec<String>, GrantError> {
    let Some(identifier) = request.credential_identifier.as_deref() else {
        return Err(cred_err(
            IssuerErrorCode::InvalidCredentialRequest,
            "an account token receives documents by credential_identifier (OpenID4VCI 1.0 section 8.2)",
        ));
    };
    if request.credential_configuration_id.is_some() {
        return Err(cred_err(
            IssuerErrorCode::InvalidCredentialRequest,
            "credential_identifier and credential_configuration_id together",
        ));
    }
    let target = accounts::target_of_identifier(services, account, identifier).await?;
    let (holder_keys, nonces) = check_proofs(services, request, now())?;
    issue_to(
        services,
        &target,
        None,
        holder_keys,
        &nonces,
        TokenUse::Account {
            account_id: &account.id,
        },
    )
    .await
}

/// How the access token of a credential request is accounted for.
pub(crate) enum TokenUse<'a> {
    /// An offer's token covers each configuration once (the full credential, each purpose
    /// type): one credential request each.
    Offer {
        /// The `single_uses` id of this token and configuration
        /// ([`offer_tokens::OfferToken::use_key`]).
        use_key: String,
        /// The token's expiry (the record is kept until then).
        expires_at: i64,
    },
    /// A citizen account's token (already checked with its DPoP proof): the credentials
    /// are recorded with the account, so closing it revokes them.
    Account {
        /// The account.
        account_id: &'a str,
    },
}

/// Each distinct `c_nonce` of a request's key proofs with its expiry.
type ProofNonces = Vec<(String, i64)>;

/// Checks the request's other parameters and its `jwt` key proofs at time `t`; the holder
/// keys and the nonces (recorded as used only when issuing).
pub(crate) fn check_proofs(
    services: &Services,
    request: &CredentialRequest,
    t: i64,
) -> Result<(Vec<Jwk>, ProofNonces), GrantError> {
    if request.credential_response_encryption.is_some() {
        return Err(cred_err(
            IssuerErrorCode::InvalidEncryptionParameters,
            "response encryption is not supported",
        ));
    }
    let proofs = match request.proofs.as_ref() {
        Some(p) if !p.other.is_empty() => {
            return Err(cred_err(
                IssuerErrorCode::InvalidProof,
                "only the jwt proof type is supported",
            ));
        }
        Some(p) => p.jwt.as_deref().unwrap_or_default(),
        None => &[],
    };
    if proofs.is_empty() {
        return Err(cred_err(
            IssuerErrorCode::InvalidProof,
            "proofs.jwt is missing",
        ));
    }
    if proofs.len() > BATCH_SIZE {
        return Err(cred_err(
            IssuerErrorCode::InvalidCredentialRequest,
            format!("at most {BATCH_SIZE} proofs"),
        ));
    }
    let mut holder_keys: Vec<Jwk> = Vec::with_capacity(proofs.len());
    // Each distinct c_nonce with its expiry; recorded as used only when issuing.
    let mut nonces: Vec<(String, i64)> = Vec::new();
    for proof in proofs {
        // Only the advertised algorithms (core's allow-list is wider: EdDSA too).
        if let Ok(jws) = CompactJws::parse(proof)
            && !PROOF_SIGNING_ALGS.contains(&jws.header().alg)
        {
            return Err(cred_err(
                IssuerErrorCode::InvalidProof,
                format!(
                    "key proofs signed with {} are not accepted; use one of {:?} \
                     (proof_signing_alg_values_supported)",
                    jws.header().alg,
                    alg_names(PROOF_SIGNING_ALGS)
                ),
            ));
        }
        let seen = RefCell::new(None::<(String, i64)>);
        let key = verify_proof_jwt(
            proof,
            &services.config.public_url,
            |n| match c_nonce::check(&services.master, n, t) {
                Some(expires_at) => {
                    *seen.borrow_mut() = Some((n.to_owned(), expires_at));
                    true
                }
                None => false,
            },
            u64::try_from(t).unwrap_or_default(),
            PROOF_MAX_AGE,
        )
        .map_err(|e| cred_err(e.error_code(), e.to_string()))?;
        if let Some(n) = seen.into_inner()
            && !nonces.iter().any(|(seen, _)| *seen == n.0)
        {
            nonces.push(n);
        }
        holder_keys.push(key);
    }
    Ok((holder_keys, nonces))
}

/// Issues one credential of `target` (the full one, or a `purpose` credential) per holder
/// key, after marking the nonces used and accounting for the token as `token_use` says,
/// with the document's row lock held, within the per-document window bound
/// ([`MAX_CREDENTIALS_PER_WINDOW`] in a fixed window of [`CREDENTIAL_WINDOW_SECS`]).
/// An offer token's write goes through the group commit
/// ([`group_commit::CredentialWrites`]: one transaction for the requests waiting at that
/// moment, with the outcome of one after the other); a citizen account's runs in its own
/// transaction. The credentials are signed after the commit.
pub(crate) async fn issue_to(
    services: &Services,
    target: &Target,
    purpose: Option<&giayto_core::catalogue::Purpose>,
    holder_keys: Vec<Jwk>,
    nonces: &[(String, i64)],
    token_use: TokenUse<'_>,
) -> Result<Vec<String>, GrantError> {
    let t = now();
    if target.valid_until <= t {
        // Never a credential whose `exp` is not after its `iat`; no status slot used.
        return Err(cred_err(
            IssuerErrorCode::CredentialRequestDenied,
            "the document has expired",
        ));
    }
    let signer = match &target.signing_kid {
        Some(kid) => keys::signer_of(services, kid).await?,
        None => keys::active_signer(services, Some(&target.agency_id)).await?,
    };
    let slots = match token_use {
        TokenUse::Offer {
            use_key,
            expires_at,
        } => {
            // Through the group commit: one transaction for the requests waiting now.
            let credential_ids = holder_keys
                .iter()
                .map(|_| secrets::random_id())
                .collect::<Result<Vec<_>, _>>()?;
            let written = services
                .batchers
                .credentials
                .submit(CredentialWrite {
                    document_id: target.document_id.clone(),
                    doc_version: target.doc_version,
                    agency_id: target.agency_id.clone(),
                    kid: signer.kid().to_owned(),
                    issued_at: t,
                    expires_at: target.valid_until,
                    credential_ids,
                    nonces: nonces.to_vec(),
                    token_use: (use_key, expires_at),
                })
                .await
                .map_err(GrantError::Internal)?;
            written.map_err(refused)?
        }
        TokenUse::Account { account_id } => {
            write_for_account(
                services,
                target,
                holder_keys.len(),
                nonces,
                account_id,
                signer.kid(),
                t,
            )
            .await?
        }
    };
    let issuer = services.agency_issuer(&target.agency_id);
    let mut out = Vec::with_capacity(slots.len());
    for (key, (list_id, idx)) in holder_keys.into_iter().zip(slots) {
        let req = IssueRequest {
            issuer: issuer.clone(),
            vct: target.vct.clone(),
            claims: target.claims.clone(),
            holder_jwk: Some(key),
            status: Some(StatusReference {
                idx: u64::try_from(idx).unwrap_or_default(),
                uri: status_lists::list_uri(services, &list_id),
            }),
            issued_at: t,
            not_before: None,
            expires_at: Some(target.valid_until),
        };
        let issued = match (purpose, &target.representation) {
            (None, Some((_, claim))) => {
                issue_document_to_representative(&req, claim.clone(), signer.as_ref())
            }
            (None, None) => issue_document(&req, signer.as_ref()),
            (Some(purpose), _) => issue_purpose(&req, purpose.preset().name, signer.as_ref()),
        };
        let credential = issued.map_err(|e| {
            GrantError::Internal(DomainError::Internal(format!(
                "issue {}: {e}",
                target.document_id
            )))
        })?;
        out.push(credential);
    }
    metrics::counter!("giayto_credentials_issued_total").increment(out.len() as u64);
    Ok(out)
}

/// The credential write of a citizen account's request (unbatched): the nonces, the
/// account still active, the document's row lock and window bound, and `count` status
/// slots, in one transaction; the slots.
async fn write_for_account(
    services: &Services,
    target: &Target,
    count: usize,
    nonces: &[(String, i64)],
    account_id: &str,
    kid: &str,
    t: i64,
) -> Result<Vec<(String, i64)>, GrantError> {
    // The nonces, recorded in one statement.
    let single_uses: Vec<(&str, i64)> = nonces.iter().map(|(n, e)| (n.as_str(), *e)).collect();
    let mut tx = services.db.begin().await?;
    if !single_uses.is_empty() {
        let first_uses = group_commit::record_single_uses(&mut tx, &single_uses).await?;
        if first_uses.len() != single_uses.len() {
            // A nonce was used before (the transaction rolls back whole).
            return Err(refused(Refusal::NonceUsed));
        }
    }
    // The account must still be active when the credential is written (a deactivation
    // in between is seen here or revokes the row there).
    let active =
        sqlx::query("UPDATE accounts SET state = state WHERE id = $1 AND state = 'active'")
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
    if active.rows_affected() != 1 {
        return Err(GrantError::InvalidToken);
    }
    // One statement takes the document's row lock (as revocation does), checks it may
    // still be issued, and counts the credentials against the window bound: each holds a
    // status-list slot for good, so a wallet that refreshes in a loop must not fill the
    // lists. The window is fixed (it starts at the first issuance after the last one
    // ended), so up to twice the bound can fall in any 30 days straddling two windows.
    let asked = i64::try_from(count).unwrap_or(i64::MAX);
    let live = sqlx::query(
        "UPDATE documents SET \
         credentials_window_start = CASE WHEN credentials_window_start > $3 \
           THEN credentials_window_start ELSE $4 END, \
         credentials_in_window = CASE WHEN credentials_window_start > $3 \
           THEN credentials_in_window ELSE 0 END + $5 \
         WHERE id = $1 AND state = 'valid' AND version = $2 \
         AND CASE WHEN credentials_window_start > $3 THEN credentials_in_window ELSE 0 END + $5 <= $6",
    )
    .bind(&target.document_id)
    .bind(target.doc_version)
    .bind(t - CREDENTIAL_WINDOW_SECS)
    .bind(t)
    .bind(asked)
    .bind(MAX_CREDENTIALS_PER_WINDOW)
    .execute(&mut *tx)
    .await?;
    if live.rows_affected() != 1 {
        // Refused: tell a document no longer issued from one over its bound.
        let row = sqlx::query("SELECT state, version FROM documents WHERE id = $1")
            .bind(&target.document_id)
            .fetch_optional(&mut *tx)
            .await?;
        let still_valid = match row {
            Some(row) => {
                row.try_get::<String, _>("state")? == "valid"
                    && row.try_get::<i64, _>("version")? == target.doc_version
            }
            None => false,
        };
        return Err(refused(if still_valid {
            Refusal::OverBound
        } else {
            Refusal::DocumentGone
        }));
    }
    let mut slots = Vec::with_capacity(count);
    for _ in 0..count {
        let id = secrets::random_id()?;
        let cred = NewCredential {
            id: &id,
            document_id: &target.document_id,
            doc_version: target.doc_version,
            kid,
            issued_at: t,
            expires_at: target.valid_until,
            account_id: Some(account_id),
            guardianship_id: target.representation.as_ref().map(|(g, _)| g.as_str()),
        };
        slots.push(
            status_lists::insert_with_slot(
                services.config.status_list_size,
                &mut tx,
                &target.agency_id,
                &cred,
            )
            .await?,
        );
    }
    tx.commit().await?;
    Ok(slots)
}

/// The answer to a refused credential write (the same on both paths).
fn refused(refusal: Refusal) -> GrantError {
    match refusal {
        Refusal::NonceUsed => cred_err(IssuerErrorCode::InvalidNonce, "c_nonce was already used"),
        Refusal::TokenUsed => GrantError::InvalidToken,
        Refusal::OverBound => cred_err(
            IssuerErrorCode::CredentialRequestDenied,
            format!(
                "a document gets at most {MAX_CREDENTIALS_PER_WINDOW} credentials in {} days",
                CREDENTIAL_WINDOW_SECS / 86_400
            ),
        ),
        Refusal::DocumentGone => cred_err(
            IssuerErrorCode::CredentialRequestDenied,
            "the document was revoked, suspended or re-issued since the offer",
        ),
    }
}
