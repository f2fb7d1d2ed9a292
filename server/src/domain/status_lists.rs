//! Token Status Lists: slot allocation at a random position inside an agency's open list
//! (atomic with the credential row: `UNIQUE (list_id, idx)` plus retry), and the signed
//! `statuslist+jwt` tokens, cached per process and rebuilt when the list's `version` moved,
//! their HTTP validators, and the Status List Aggregation of each issuing agency (draft
//! section "Status List Aggregation").
//!
//! The cache stays right with any number of processes on one database: every status change
//! bumps `status_lists.version` in its own transaction, and a token is served only while the
//! version it was built from is still the one in the database. The version is read before
//! the entries, so a token can only ever be newer than its label, never older.
//!
//! **A token's `iat` is the same on every process**, so conditional requests work across
//! replicas and a daily sync moves only what changed: it is the later of the list's last
//! change (`updated_at`) and the start of the list's current *signing period*. Signing
//! periods are half of `status_list_lifetime_secs` long and staggered per list (offset by the
//! list id), so each token keeps at least half its lifetime after it is served and the
//! server re-signs unchanged lists a few at a time rather than all at once. The validators
//! follow from it: `ETag` is `W/"<version>-<iat>"` (weak: two processes sign the same
//! content with different ECDSA signatures, RFC 9110 section 8.8.1) and `Last-Modified` is
//! `iat`.

use std::collections::HashMap;
use std::sync::Mutex;

use giayto_core::status_list::{self, StatusList};
use sqlx::{Any, Row, Transaction};

use super::{DomainError, DomainResult, Services, keys, now};
use crate::secrets;

/// Bits per entry: valid (0), revoked (1), suspended (2).
pub const STATUS_BITS: u8 = 2;
/// Status value of a valid credential.
pub const VALID: i64 = 0;
/// Status value of a revoked credential.
pub const REVOKED: i64 = 1;
/// Status value of a suspended credential.
pub const SUSPENDED: i64 = 2;
/// Random tries inside one list before it is declared full (about 85-90 % filled then).
const TRIES_PER_LIST: usize = 16;

#[derive(Debug, Clone)]
struct CachedToken {
    version: i64,
    iat: i64,
    token: String,
}

/// Built tokens by list id.
#[derive(Debug, Default)]
pub struct StatusCache {
    tokens: Mutex<HashMap<String, CachedToken>>,
}

/// A credential row to insert with its slot.
#[derive(Debug, Clone)]
pub struct NewCredential<'a> {
    /// Row id.
    pub id: &'a str,
    /// Owning document.
    pub document_id: &'a str,
    /// Document version it carries.
    pub doc_version: i64,
    /// Signing key.
    pub kid: &'a str,
    /// `iat`.
    pub issued_at: i64,
    /// `exp`.
    pub expires_at: i64,
    /// The citizen account it was issued to, if any.
    pub account_id: Option<&'a str>,
    /// The guardianship it was issued under, if any (a guardian's copy).
    pub guardianship_id: Option<&'a str>,
}

/// The status list URL of a list id.
pub fn list_uri(services: &Services, list_id: &str) -> String {
    format!("{}/status-lists/{list_id}", services.config.public_url)
}

/// The Status List Aggregation URL of an issuing agency: under its issuer identifier.
pub fn aggregation_uri(services: &Services, agency_id: &str) -> String {
    format!("{}/status-lists", services.agency_issuer(agency_id))
}

/// The Status List Aggregation of every agency (the server-wide one the OAuth metadata
/// links as `status_list_aggregation_endpoint`).
pub fn server_aggregation_uri(services: &Services) -> String {
    format!("{}/status-lists", services.config.public_url)
}

/// The URIs of the status lists of `agency_id` (all agencies when `None`), oldest first:
/// the `status_lists` member of a Status List Aggregation (draft section "Status List
/// Aggregation Data Structure"). Lists are never deleted, so the count is a validator.
pub async fn aggregation(
    services: &Services,
    agency_id: Option<&str>,
) -> DomainResult<Vec<String>> {
    let ids: Vec<String> = match agency_id {
        Some(agency_id) => {
            sqlx::query_scalar(
                "SELECT id FROM status_lists WHERE agency_id = $1 ORDER BY created_at, id",
            )
            .bind(agency_id)
            .fetch_all(services.db.pool())
            .await?
        }
        None => {
            sqlx::query_scalar("SELECT id FROM status_lists ORDER BY created_at, id")
                .fetch_all(services.db.pool())
                .await?
        }
    };
    Ok(ids.iter().map(|id| list_uri(services, id)).collect())
}

/// What the server holds of one list at one moment: enough to answer a conditional request
/// without building the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListState {
    /// The list id.
    pub id: String,
    /// The owning agency.
    pub agency_id: String,
    /// Bumped with every status change.
    pub version: i64,
    /// The `iat` of the token served now (see the module documentation), Unix seconds.
    pub iat: i64,
}

impl ListState {
    /// The weak entity tag of the token served now (RFC 9110 section 8.8.3).
    pub fn etag(&self) -> String {
        format!("W/\"{}-{}\"", self.version, self.iat)
    }
}

/// The start of the signing period `now` falls in for the list `list_id`: periods are
/// `period` seconds long, offset per list by its id so lists are re-signed spread out.
fn signing_period_start(list_id: &str, now: i64, period: i64) -> i64 {
    let period = period.max(1);
    // List ids are random hex: their first 15 digits spread the offsets evenly.
    let offset = list_id
        .get(..15)
        .and_then(|h| i64::from_str_radix(h, 16).ok())
        .unwrap_or(0)
        .rem_euclid(period);
    now - (now - offset).rem_euclid(period)
}

/// The state of list `list_id` at `now`.
pub async fn state(services: &Services, list_id: &str, now: i64) -> DomainResult<ListState> {
    let row = sqlx::query("SELECT agency_id, version, updated_at FROM status_lists WHERE id = $1")
        .bind(list_id)
        .fetch_optional(services.db.pool())
        .await?
        .ok_or(DomainError::NotFound("status list"))?;
    let updated_at: i64 = row.try_get("updated_at")?;
    let period = services.config.status_list_lifetime_secs / 2;
    Ok(ListState {
        id: list_id.to_owned(),
        agency_id: row.try_get("agency_id")?,
        version: row.try_get("version")?,
        iat: updated_at
            .max(signing_period_start(list_id, now, period))
            .min(now),
    })
}

/// Inserts `cred` with a fresh random slot in one of the agency's open lists (new lists get
/// `status_list_size` entries), inside `tx`. Returns `(list_id, idx)`.
///
/// Usually one statement: the oldest open list and the credential row together, at a
/// random index below `status_list_size` (`INSERT ... SELECT ... ON CONFLICT DO NOTHING`).
/// When that inserts nothing (the slot was taken, the agency has no open list yet, or the
/// list is smaller than the configured size), the slower path reads the open list (making
/// one if none), retries random slots in it and marks it full after `TRIES_PER_LIST` (16)
/// misses.
pub async fn insert_with_slot(
    status_list_size: u32,
    tx: &mut Transaction<'_, Any>,
    agency_id: &str,
    cred: &NewCredential<'_>,
) -> DomainResult<(String, i64)> {
    let configured = u64::from(status_list_size);
    let idx = i64::try_from(secrets::random_below(configured)?)
        .map_err(|_| DomainError::Internal("slot".into()))?;
    if let Some(list_id) = insert_at(tx, cred, idx, SlotIn::OldestOpenList(agency_id)).await? {
        return Ok((list_id, idx));
    }
    for _ in 0..8 {
        let open = sqlx::query(
            "SELECT id, size FROM status_lists WHERE agency_id = $1 AND is_full = 0 ORDER BY created_at, id LIMIT 1",
        )
        .bind(agency_id)
        .fetch_optional(&mut **tx)
        .await?;
        let (list_id, size): (String, i64) = match open {
            Some(row) => (row.try_get("id")?, row.try_get("size")?),
            None => {
                let id = secrets::random_id()?;
                let size = i64::from(status_list_size);
                let t = now();
                sqlx::query(
                    "INSERT INTO status_lists (id, agency_id, bits, size, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
                )
                .bind(&id)
                .bind(agency_id)
                .bind(i64::from(STATUS_BITS))
                .bind(size)
                .bind(t)
                .execute(&mut **tx)
                .await?;
                (id, size)
            }
        };
        let bound = u64::try_from(size).map_err(|_| DomainError::Internal("list size".into()))?;
        for _ in 0..TRIES_PER_LIST {
            let idx = i64::try_from(secrets::random_below(bound)?)
                .map_err(|_| DomainError::Internal("slot".into()))?;
            if insert_at(tx, cred, idx, SlotIn::List(&list_id))
                .await?
                .is_some()
            {
                return Ok((list_id, idx));
            }
        }
        sqlx::query("UPDATE status_lists SET is_full = 1 WHERE id = $1")
            .bind(&list_id)
            .execute(&mut **tx)
            .await?;
    }
    Err(DomainError::Internal("no free status-list slot".into()))
}

/// Which list [`insert_at`] puts a credential in.
#[derive(Debug, Clone, Copy)]
enum SlotIn<'a> {
    /// The oldest open list of this agency, if the index is below its size.
    OldestOpenList(&'a str),
    /// This list (its size already checked by the caller).
    List(&'a str),
}

/// Inserts `cred` at `idx` of the list `slot_in` names, in one statement; the list's id,
/// or `None` when nothing was inserted (the slot is taken, or no list fits).
async fn insert_at(
    tx: &mut Transaction<'_, Any>,
    cred: &NewCredential<'_>,
    idx: i64,
    slot_in: SlotIn<'_>,
) -> DomainResult<Option<String>> {
    let (list, bound) = match slot_in {
        SlotIn::OldestOpenList(agency_id) => (
            "WHERE agency_id = $10 AND is_full = 0 AND $4 < size ORDER BY created_at, id LIMIT 1",
            agency_id,
        ),
        SlotIn::List(list_id) => ("WHERE id = $10", list_id),
    };
    Ok(sqlx::query_scalar(&format!(
        "INSERT INTO credentials (id, document_id, doc_version, list_id, idx, status, kid, issued_at, expires_at, account_id, guardianship_id) \
         SELECT $1, $2, $3, id, $4, 0, $5, $6, $7, $8, $9 FROM status_lists {list} \
         ON CONFLICT (list_id, idx) DO NOTHING RETURNING list_id"
    ))
    .bind(cred.id)
    .bind(cred.document_id)
    .bind(cred.doc_version)
    .bind(idx)
    .bind(cred.kid)
    .bind(cred.issued_at)
    .bind(cred.expires_at)
    .bind(cred.account_id)
    .bind(cred.guardianship_id)
    .bind(bound)
    .fetch_optional(&mut **tx)
    .await?)
}

/// Sets the status of every credential of `document_id` (never un-revoking one) and bumps
/// the version (and `updated_at`, the next token's `iat`) of each list touched, inside `tx`.
pub async fn set_document_status(
    tx: &mut Transaction<'static, Any>,
    document_id: &str,
    status: i64,
) -> DomainResult<()> {
    set_status_of(tx, Holder::Document(document_id), status).await?;
    Ok(())
}

/// Whose credentials a status change covers.
#[derive(Debug, Clone, Copy)]
pub enum Holder<'a> {
    /// Every credential of a document.
    Document(&'a str),
    /// Every credential issued to a citizen account (issue 14).
    Account(&'a str),
    /// Every credential issued to a guardian under a guardianship (issue 14).
    Guardianship(&'a str),
}

/// Sets the status of every credential of `holder` (never un-revoking one) and bumps the
/// version (and `updated_at`, the next token's `iat`) of each list touched, inside `tx`;
/// how many credentials changed.
pub async fn set_status_of(
    tx: &mut Transaction<'static, Any>,
    holder: Holder<'_>,
    status: i64,
) -> DomainResult<u64> {
    // The column is one of three fixed names, never input.
    let (column, id) = match holder {
        Holder::Document(id) => ("document_id", id),
        Holder::Account(id) => ("account_id", id),
        Holder::Guardianship(id) => ("guardianship_id", id),
    };
    sqlx::query(&format!(
        "UPDATE status_lists SET version = version + 1, updated_at = $3 WHERE id IN \
         (SELECT DISTINCT list_id FROM credentials WHERE {column} = $1 AND status <> $2 AND status <> 1)"
    ))
    .bind(id)
    .bind(status)
    .bind(now())
    .execute(&mut **tx)
    .await?;
    let done = sqlx::query(&format!(
        "UPDATE credentials SET status = $1 WHERE {column} = $2 AND status <> $1 AND status <> 1"
    ))
    .bind(status)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

/// The signed `statuslist+jwt` of the list in `state` (from [`state`]): `iat` and the
/// validators are the state's, `exp` = `iat` + `status_list_lifetime_secs`, `ttl` =
/// `status_list_ttl_secs`, and `aggregation_uri` names the agency's aggregation.
pub async fn token(services: &Services, state: &ListState) -> DomainResult<String> {
    if let Ok(cache) = services.status_cache.tokens.lock()
        && let Some(c) = cache.get(&state.id)
        && c.version == state.version
        && c.iat == state.iat
    {
        return Ok(c.token.clone());
    }
    let row = sqlx::query("SELECT size FROM status_lists WHERE id = $1")
        .bind(&state.id)
        .fetch_one(services.db.pool())
        .await?;
    let size: i64 = row.try_get("size")?;
    let entries =
        sqlx::query("SELECT idx, status FROM credentials WHERE list_id = $1 AND status <> 0")
            .bind(&state.id)
            .fetch_all(services.db.pool())
            .await?;
    let size = u64::try_from(size).map_err(|_| DomainError::Internal("list size".into()))?;
    let mut list =
        StatusList::new(STATUS_BITS, size).map_err(|e| DomainError::Internal(e.to_string()))?;
    for e in &entries {
        let idx: i64 = e.try_get("idx")?;
        let status: i64 = e.try_get("status")?;
        let idx = u64::try_from(idx).map_err(|_| DomainError::Internal("slot".into()))?;
        let status = u8::try_from(status).map_err(|_| DomainError::Internal("status".into()))?;
        list.set(idx, status)
            .map_err(|e| DomainError::Internal(e.to_string()))?;
    }
    let lifetime = services.config.status_list_lifetime_secs;
    let ttl = u64::try_from(services.config.status_list_ttl_secs).ok();
    let signer = keys::active_signer(services, Some(&state.agency_id)).await?;
    let token = status_list::sign_token_with_aggregation(
        &list_uri(services, &state.id),
        &list,
        state.iat,
        Some(state.iat + lifetime),
        ttl,
        Some(&aggregation_uri(services, &state.agency_id)),
        signer.as_ref(),
    )
    .map_err(|e| DomainError::Internal(e.to_string()))?;
    if let Ok(mut cache) = services.status_cache.tokens.lock() {
        cache.insert(
            state.id.clone(),
            CachedToken {
                version: state.version,
                iat: state.iat,
                token: token.clone(),
            },
        );
    }
    Ok(token)
}
