//! Citizen accounts (issue 14, docs/ARCHITECTURE.md "Citizen account"): activation by the
//! agency that issues the ID card (an offer of the citizen's ID card whose DPoP key becomes
//! the account key), DPoP-bound access and refresh tokens (RFC 9449 section 5), the inbox
//! of every document published for the citizen with its `credential_identifier`
//! (OpenID4VCI 1.0 section 6.2), and closing an account (a new phone, or a lost one), which
//! revokes every credential issued to it in the same transaction.

use std::collections::BTreeMap;

use giayto_core::oid4vci::dpop::{MAX_DPOP_AGE_SECS, MAX_DPOP_CLOCK_SKEW_SECS};
use giayto_core::oid4vci::inbox::{Inbox, InboxEntry, Publisher};
use giayto_core::oid4vci::{AuthorizationDetail, OPENID_CREDENTIAL, VerifiedDpop};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sqlx::{Any, Row, Transaction};
use utoipa::ToSchema;

use super::agencies::Agency;
use super::documents::{self, OfferView};
use super::issuance::{GrantError, Target};
use super::status_lists::{self, REVOKED};
use super::{DomainError, DomainResult, Services, ids, now};
use crate::secrets;

/// The catalogue id of the ID card: the document whose issuer may activate accounts, and
/// whose offer activates one.
pub const ID_CARD_TYPE: &str = "can_cuoc";
/// Prefix of account refresh tokens (told apart from per-document refresh tokens at the
/// token endpoint).
pub const REFRESH_PREFIX: &str = "gyc_";
/// Most documents an inbox lists (the newest first); far above what one citizen holds,
/// and it bounds the answer.
pub const MAX_INBOX_DOCUMENTS: i64 = 500;
const ACCESS_PURPOSE: &str = "account-access-token";
const REFRESH_PURPOSE: &str = "account-refresh-token";
const JTI_PURPOSE: &str = "dpop-jti";

/// Whether `agency` may activate and deactivate accounts: it issues the ID card, so it is
/// the one that vouches for the citizen's identity.
pub fn may_manage_accounts(agency: &Agency) -> bool {
    id_card_vct().is_some_and(|vct| agency.allowed_vcts.iter().any(|v| v == vct))
}

fn id_card_vct() -> Option<&'static str> {
    giayto_core::catalogue::by_id(ID_CARD_TYPE).map(|t| t.vct)
}

fn forbidden(agency: &Agency) -> DomainError {
    DomainError::Forbidden(format!(
        "agency {} does not issue the ID card, so it may not manage citizen accounts",
        agency.id
    ))
}

/// An activation request.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivationRequest {
    /// The citizen's personal identification number (12 digits).
    pub citizen_id: String,
}

/// What the counter hands over: the offer of the citizen's ID card (QR and `tx_code`, the
/// latter by another channel). Redeeming it with a DPoP proof activates the account.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct ActivationResponse {
    /// The citizen.
    pub citizen_id: String,
    /// The ID card document the offer is for (the agency's own id).
    pub document_id: String,
    /// The offer.
    pub offer: OfferView,
}

/// An account as the agency sees it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct AccountView {
    /// The citizen.
    pub citizen_id: String,
    /// `active` or `closed`.
    pub state: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds, once closed.
    pub closed_at: Option<i64>,
    /// Credentials revoked by this call.
    pub revoked_credentials: u64,
}

/// Makes the activation offer for `citizen_id`: an offer of the agency's latest valid ID
/// card of that citizen (none: `409`), recorded as an activation. An agency that does not
/// issue the ID card gets `403`.
pub async fn start_activation(
    services: &Services,
    agency: &Agency,
    req: &ActivationRequest,
) -> DomainResult<ActivationResponse> {
    ids::citizen_id(&req.citizen_id)?;
    if !may_manage_accounts(agency) {
        return Err(forbidden(agency));
    }
    activation_offer(services, &agency.id, &req.citizen_id).await
}

/// Moves `account` to a new phone without a counter (the old phone is at hand): the same
/// activation offer as a counter's, of the citizen's ID card from the agency that activated
/// the account, asked by the old phone with its account key. The old phone shows it (QR
/// and code); when the new phone redeems it, the old account is closed and everything
/// issued to it revoked, in that transaction, as for a new activation at the counter.
pub async fn start_transfer(
    services: &Services,
    account: &Account,
) -> DomainResult<ActivationResponse> {
    let agency: String = sqlx::query_scalar("SELECT activated_by FROM accounts WHERE id = $1")
        .bind(&account.id)
        .fetch_one(services.db.pool())
        .await?;
    activation_offer(services, &agency, &account.citizen_id).await
}

/// The activation offer of `citizen_id`'s latest valid ID card from `agency_id`.
async fn activation_offer(
    services: &Services,
    agency_id: &str,
    citizen_id: &str,
) -> DomainResult<ActivationResponse> {
    let vct = id_card_vct().ok_or(DomainError::NotFound("document type"))?;
    let t = now();
    let mut tx = services.db.begin().await?;
    let row = sqlx::query(
        "SELECT id, external_id, version, valid_until FROM documents \
         WHERE agency_id = $1 AND citizen_id = $2 AND vct = $3 AND state = 'valid' AND valid_until > $4 \
         ORDER BY updated_at DESC, id LIMIT 1",
    )
    .bind(agency_id)
    .bind(citizen_id)
    .bind(vct)
    .bind(t)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| {
        // Read by the citizen too (a transfer from the phone), not only at the counter.
        DomainError::Conflict(
            "no valid ID card of this citizen from this agency: an account is activated or \
             moved only with a valid ID card (the citizen can have it issued again at the \
             agency's counter)"
                .into(),
        )
    })?;
    let document_id: String = row.try_get("id")?;
    let (offer_id, offer) = documents::create_offer(
        services,
        &mut tx,
        &document_id,
        row.try_get("version")?,
        vct,
        row.try_get("valid_until")?,
    )
    .await?;
    sqlx::query(
        "INSERT INTO account_activations (offer_id, citizen_id, agency_id, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&offer_id)
    .bind(citizen_id)
    .bind(agency_id)
    .bind(t)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(ActivationResponse {
        citizen_id: citizen_id.to_owned(),
        document_id: row.try_get("external_id")?,
        offer,
    })
}

/// Records a DPoP proof's `jti` until its window ends, inside `tx`; `false` when it was
/// seen before (a replayed proof, RFC 9449 section 11.1).
pub async fn record_proof(
    services: &Services,
    tx: &mut Transaction<'static, Any>,
    proof: &VerifiedDpop,
) -> DomainResult<bool> {
    let hash = services
        .master
        .hash_secret(JTI_PURPOSE, &format!("{}:{}", proof.jkt, proof.jti));
    let expires_at = proof
        .iat
        .saturating_add(MAX_DPOP_AGE_SECS + MAX_DPOP_CLOCK_SKEW_SECS);
    let done = sqlx::query(
        "INSERT INTO dpop_proofs (jti_hash, expires_at) VALUES ($1, $2) ON CONFLICT (jti_hash) DO NOTHING",
    )
    .bind(hash)
    .bind(expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Access (and, at activation, refresh) tokens of an account.
pub struct AccountGrant {
    /// The DPoP-bound access token.
    pub access_token: String,
    /// Seconds it lives.
    pub expires_in: i64,
    /// The refresh token, given once at activation (not rotated: it is DPoP-bound).
    pub refresh_token: Option<String>,
    /// The citizen, for the authorization details.
    pub citizen_id: String,
}

impl std::fmt::Debug for AccountGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountGrant")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

async fn new_access_token(
    services: &Services,
    tx: &mut Transaction<'static, Any>,
    account_id: &str,
    t: i64,
) -> DomainResult<(String, i64)> {
    let token = secrets::random_token("gyt_")?;
    let ttl = services.config.access_token_ttl_secs;
    sqlx::query(
        "INSERT INTO account_tokens (token_hash, account_id, kind, expires_at) VALUES ($1, $2, 'access', $3)",
    )
    .bind(services.master.hash_secret(ACCESS_PURPOSE, &token))
    .bind(account_id)
    .bind(t + ttl)
    .execute(&mut **tx)
    .await?;
    Ok((token, ttl))
}

/// Closes `account_id` inside `tx`: no token of it works any more and every credential
/// issued to it is revoked (its status lists' versions bumped). Returns how many
/// credentials were revoked.
async fn close(
    tx: &mut Transaction<'static, Any>,
    account_id: &str,
    reason: &str,
    t: i64,
) -> DomainResult<u64> {
    sqlx::query(
        "UPDATE accounts SET state = 'closed', closed_at = $1, closed_reason = $2 WHERE id = $3",
    )
    .bind(t)
    .bind(reason)
    .bind(account_id)
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM account_tokens WHERE account_id = $1")
        .bind(account_id)
        .execute(&mut **tx)
        .await?;
    status_lists::set_status_of(tx, status_lists::Holder::Account(account_id), REVOKED).await
}

/// Activates the account of `citizen_id` with the key `proof` proved, inside `tx` (the
/// caller has redeemed the activation offer in it and commits): an active account the
/// citizen had is closed as `replaced` and its credentials revoked; the new one gets an
/// access token and a refresh token bound to the key.
pub async fn activate(
    services: &Services,
    tx: &mut Transaction<'static, Any>,
    citizen_id: &str,
    agency_id: &str,
    proof: &VerifiedDpop,
    t: i64,
) -> DomainResult<AccountGrant> {
    let previous: Option<String> =
        sqlx::query_scalar("SELECT id FROM accounts WHERE citizen_id = $1 AND state = 'active'")
            .bind(citizen_id)
            .fetch_optional(&mut **tx)
            .await?;
    if let Some(previous) = previous {
        close(tx, &previous, "replaced", t).await?;
    }
    let account_id = secrets::random_id()?;
    let jwk = serde_json::to_string(&proof.jwk.to_public())
        .map_err(|e| DomainError::Internal(e.to_string()))?;
    sqlx::query(
        "INSERT INTO accounts (id, citizen_id, state, jkt, public_jwk, activated_by, created_at) \
         VALUES ($1, $2, 'active', $3, $4, $5, $6)",
    )
    .bind(&account_id)
    .bind(citizen_id)
    .bind(&proof.jkt)
    .bind(jwk)
    .bind(agency_id)
    .bind(t)
    .execute(&mut **tx)
    .await?;
    let refresh_token = secrets::random_token(REFRESH_PREFIX)?;
    sqlx::query(
        "INSERT INTO account_tokens (token_hash, account_id, kind, expires_at) VALUES ($1, $2, 'refresh', NULL)",
    )
    .bind(services.master.hash_secret(REFRESH_PURPOSE, &refresh_token))
    .bind(&account_id)
    .execute(&mut **tx)
    .await?;
    let (access_token, expires_in) = new_access_token(services, tx, &account_id, t).await?;
    metrics::counter!("giayto_account_activations_total").increment(1);
    Ok(AccountGrant {
        access_token,
        expires_in,
        refresh_token: Some(refresh_token),
        citizen_id: citizen_id.to_owned(),
    })
}

fn invalid_grant() -> GrantError {
    GrantError::Token {
        code: "invalid_grant",
        description: "unknown refresh token, closed account, or a DPoP key other than the account's",
    }
}

/// The refresh token grant of an account (RFC 6749 section 6 with RFC 9449 section 5): a
/// new access token when the token is the account's, the account is active and `proof`
/// is by the account key (and not replayed). Anything else is `invalid_grant`.
pub async fn refresh(
    services: &Services,
    refresh_token: &str,
    proof: &VerifiedDpop,
) -> Result<AccountGrant, GrantError> {
    if refresh_token.len() > 256 {
        return Err(invalid_grant());
    }
    let t = now();
    let mut tx = services.db.begin().await?;
    let row = sqlx::query(
        "SELECT a.id, a.citizen_id, a.jkt FROM account_tokens k JOIN accounts a ON a.id = k.account_id \
         WHERE k.token_hash = $1 AND k.kind = 'refresh' AND a.state = 'active'",
    )
    .bind(services.master.hash_secret(REFRESH_PURPOSE, refresh_token))
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(invalid_grant)?;
    let jkt: String = row.try_get("jkt")?;
    if jkt != proof.jkt {
        return Err(invalid_grant());
    }
    if !record_proof(services, &mut tx, proof).await? {
        return Err(GrantError::Token {
            code: "invalid_dpop_proof",
            description: "the DPoP proof was used before",
        });
    }
    let account_id: String = row.try_get("id")?;
    let (access_token, expires_in) = new_access_token(services, &mut tx, &account_id, t).await?;
    tx.commit().await?;
    Ok(AccountGrant {
        access_token,
        expires_in,
        refresh_token: None,
        citizen_id: row.try_get("citizen_id")?,
    })
}

/// An account authenticated by its access token and a DPoP proof of its key.
#[derive(Debug, Clone)]
pub struct Account {
    /// Internal id.
    pub id: String,
    /// The citizen.
    pub citizen_id: String,
}

/// Why an account request was refused (RFC 9449 section 7.1, RFC 6750 section 3.1).
#[derive(Debug, thiserror::Error)]
pub enum AccountAuthError {
    /// Unknown, expired or closed-account token, or a proof by another key than the
    /// token's.
    #[error("invalid_token")]
    InvalidToken,
    /// The proof was used before.
    #[error("invalid_dpop_proof")]
    ReplayedProof,
    /// The server's fault.
    #[error(transparent)]
    Internal(#[from] DomainError),
}

impl From<sqlx::Error> for AccountAuthError {
    fn from(e: sqlx::Error) -> Self {
        AccountAuthError::Internal(DomainError::Db(e))
    }
}

/// The account of `access_token`, when it is live, its account active and `proof` (already
/// verified against the request and the token's `ath`) is by the account key and new.
pub async fn authenticate(
    services: &Services,
    access_token: &str,
    proof: &VerifiedDpop,
) -> Result<Account, AccountAuthError> {
    if access_token.len() > 256 {
        return Err(AccountAuthError::InvalidToken);
    }
    let t = now();
    let row = sqlx::query(
        "SELECT a.id, a.citizen_id, a.jkt FROM account_tokens k JOIN accounts a ON a.id = k.account_id \
         WHERE k.token_hash = $1 AND k.kind = 'access' AND k.expires_at > $2 AND a.state = 'active'",
    )
    .bind(services.master.hash_secret(ACCESS_PURPOSE, access_token))
    .bind(t)
    .fetch_optional(services.db.pool())
    .await?
    .ok_or(AccountAuthError::InvalidToken)?;
    let jkt: String = row.try_get("jkt")?;
    if jkt != proof.jkt {
        return Err(AccountAuthError::InvalidToken);
    }
    let mut tx = services.db.begin().await?;
    if !record_proof(services, &mut tx, proof).await? {
        return Err(AccountAuthError::ReplayedProof);
    }
    tx.commit().await?;
    Ok(Account {
        id: row.try_get("id")?,
        citizen_id: row.try_get("citizen_id")?,
    })
}

/// A credential identifier: `<document>.<version>` (opaque to the wallet).
fn identifier(document_id: &str, version: i64) -> String {
    format!("{document_id}.{version}")
}

fn parse_identifier(identifier: &str) -> Option<(&str, i64)> {
    let (id, version) = identifier.split_once('.')?;
    let well_formed = id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit());
    let version: i64 = version.parse().ok().filter(|v| *v > 0)?;
    well_formed.then_some((id, version))
}

/// The inbox of the account of `citizen_id`.
pub async fn inbox(services: &Services, citizen_id: &str) -> DomainResult<Inbox> {
    let t = now();
    // The citizen's own documents, and those of each child the citizen is the live
    // guardian of (ward ids come from the database, never from the request).
    let mut citizens = vec![citizen_id.to_owned()];
    citizens.extend(super::guardians::wards(services, citizen_id, t).await?);
    // Placeholders numbered in the order they appear (SQLite numbers `$n` that way).
    let placeholders: Vec<String> = (1..=citizens.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT d.id, d.external_id, d.citizen_id, d.vct, d.state, d.version, d.created_at, d.updated_at, d.valid_until, \
         a.id AS agency_id, a.name_vi, a.name_en \
         FROM documents d JOIN agencies a ON a.id = d.agency_id \
         WHERE d.citizen_id IN ({}) ORDER BY d.created_at DESC, d.id LIMIT ${}",
        placeholders.join(", "),
        citizens.len() + 1
    );
    let mut query = sqlx::query(&sql);
    for citizen in &citizens {
        query = query.bind(citizen);
    }
    let query = query.bind(MAX_INBOX_DOCUMENTS);
    let rows = query.fetch_all(services.db.pool()).await?;
    let documents = rows
        .iter()
        .map(|r| {
            let id: String = r.try_get("id")?;
            let vct: String = r.try_get("vct")?;
            let state: String = r.try_get("state")?;
            let version: i64 = r.try_get("version")?;
            let valid_until: i64 = r.try_get("valid_until")?;
            let agency_id: String = r.try_get("agency_id")?;
            let subject: String = r.try_get("citizen_id")?;
            Ok(InboxEntry {
                on_behalf_of: (subject != citizen_id).then_some(subject),
                credential_identifier: (state == "valid" && valid_until > t)
                    .then(|| identifier(&id, version)),
                credential_configuration_id: crate::offer::configuration_id(&vct)?,
                vct,
                document_id: r.try_get("external_id")?,
                publisher: Publisher {
                    issuer: services.agency_issuer(&agency_id),
                    id: agency_id,
                    name_vi: r.try_get("name_vi")?,
                    name_en: r.try_get("name_en")?,
                },
                state,
                version,
                published_at: r.try_get("created_at")?,
                updated_at: r.try_get("updated_at")?,
                valid_until,
            })
        })
        .collect::<DomainResult<Vec<_>>>()?;
    Ok(Inbox {
        citizen_id: citizen_id.to_owned(),
        documents,
    })
}

/// The `authorization_details` of a token response (OpenID4VCI 1.0 section 6.2): one
/// `openid_credential` object per configuration, naming every document of the inbox that
/// can be received now.
pub fn authorization_details(services: &Services, inbox: &Inbox) -> Vec<AuthorizationDetail> {
    let mut by_configuration: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for entry in &inbox.documents {
        if let Some(id) = &entry.credential_identifier {
            by_configuration
                .entry(&entry.credential_configuration_id)
                .or_default()
                .push(id.clone());
        }
    }
    by_configuration
        .into_iter()
        .map(|(configuration, ids)| AuthorizationDetail {
            type_: OPENID_CREDENTIAL.to_owned(),
            credential_configuration_id: Some(configuration.to_owned()),
            credential_identifiers: Some(ids),
            locations: Some(vec![services.config.public_url.clone()]),
        })
        .collect()
}

/// The document a `credential_identifier` names, when `account` may receive it now: the
/// citizen's own, valid, at that version. Another citizen's document, an unknown or
/// malformed identifier and an outdated version are all `unknown_credential_identifier`
/// or `credential_request_denied`, never saying whose a document is.
pub(crate) async fn target_of_identifier(
    services: &Services,
    account: &Account,
    credential_identifier: &str,
) -> Result<Target, GrantError> {
    let unknown = || GrantError::Credential {
        code: giayto_core::oid4vci::IssuerErrorCode::UnknownCredentialIdentifier,
        description: "no such credential identifier for this account".into(),
    };
    let (document_id, version) = parse_identifier(credential_identifier).ok_or_else(unknown)?;
    let row = sqlx::query(
        "SELECT id, citizen_id, agency_id, vct, claims, state, version, valid_until FROM documents WHERE id = $1",
    )
    .bind(document_id)
    .fetch_optional(services.db.pool())
    .await?
    .ok_or_else(unknown)?;
    // The account's own document, or a child's while the account's citizen is its live
    // guardian; anyone else's is unknown, as an id that does not exist.
    let subject: String = row.try_get("citizen_id")?;
    let mut valid_until: i64 = row.try_get("valid_until")?;
    let representation = if subject == account.citizen_id {
        None
    } else {
        let (guardianship, ends_at) =
            super::guardians::live(services, &account.citizen_id, &subject, now())
                .await?
                .ok_or_else(unknown)?;
        valid_until = valid_until.min(ends_at);
        let claim =
            super::guardians::representation(services, &account.citizen_id, ends_at).await?;
        Some((guardianship, claim))
    };
    let state: String = row.try_get("state")?;
    let current: i64 = row.try_get("version")?;
    if state != "valid" || current != version {
        return Err(GrantError::Credential {
            code: giayto_core::oid4vci::IssuerErrorCode::CredentialRequestDenied,
            description: "the document was revoked, suspended or re-issued: sync again".into(),
        });
    }
    let claims: String = row.try_get("claims")?;
    let Ok(Value::Object(claims)) = serde_json::from_str::<Value>(&claims) else {
        return Err(GrantError::Internal(DomainError::Internal(
            "stored claims".into(),
        )));
    };
    let claims: Map<String, Value> = claims;
    Ok(Target {
        document_id: row.try_get("id")?,
        doc_version: version,
        agency_id: row.try_get("agency_id")?,
        vct: row.try_get("vct")?,
        claims,
        valid_until,
        representation,
        signing_kid: None,
    })
}

/// Closes the citizen's active account at a counter (a lost phone): its tokens stop
/// working and every credential issued to it is revoked, in one transaction. `404` when
/// the citizen has no active account; `403` for an agency that does not issue the ID card.
pub async fn deactivate(
    services: &Services,
    agency: &Agency,
    citizen_id: &str,
) -> DomainResult<AccountView> {
    ids::citizen_id(citizen_id)?;
    if !may_manage_accounts(agency) {
        return Err(forbidden(agency));
    }
    let t = now();
    let mut tx = services.db.begin().await?;
    let row = sqlx::query(
        "UPDATE accounts SET closed_at = $1 WHERE citizen_id = $2 AND state = 'active' RETURNING id, created_at",
    )
    .bind(t)
    .bind(citizen_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("active account"))?;
    let id: String = row.try_get("id")?;
    let revoked = close(&mut tx, &id, "deactivated", t).await?;
    tx.commit().await?;
    metrics::counter!("giayto_account_deactivations_total").increment(1);
    Ok(AccountView {
        citizen_id: citizen_id.to_owned(),
        state: "closed".into(),
        created_at: row.try_get("created_at")?,
        closed_at: Some(t),
        revoked_credentials: revoked,
    })
}

/// Deletes expired account access tokens and remembered DPoP proof ids (run periodically).
pub async fn purge_expired(services: &Services) -> Result<(), sqlx::Error> {
    let t = now();
    sqlx::query("DELETE FROM account_tokens WHERE kind = 'access' AND expires_at < $1")
        .bind(t)
        .execute(services.db.writer())
        .await?;
    sqlx::query("DELETE FROM dpop_proofs WHERE expires_at < $1")
        .bind(t)
        .execute(services.db.writer())
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_round_trip_and_refuse_anything_else() {
        let id = "0123456789abcdef0123456789abcdef";
        assert_eq!(parse_identifier(&identifier(id, 3)), Some((id, 3)));
        for bad in [
            "",
            "x.1",
            "0123456789abcdef0123456789abcdef",
            "0123456789abcdef0123456789abcdef.0",
            "0123456789abcdef0123456789abcdef.-1",
            "0123456789abcdef0123456789abcdeg.1",
            "0123456789abcdef0123456789abcdef.1.2",
        ] {
            assert_eq!(parse_identifier(bad), None, "{bad}");
        }
    }
}
