//! Token Status Lists: slot allocation at a random position inside an agency's open list
//! (atomic with the credential row: `UNIQUE (list_id, idx)` plus retry), and the signed
//! `statuslist+jwt` tokens, cached per process and rebuilt when the list's `version` moved.
//!
//! The cache stays right with any number of processes on one database: every status change
//! bumps `status_lists.version` in its own transaction, and a token is served only while the
//! version it was built from is still the one in the database. The version is read before
//! the entries, so a token can only ever be newer than its label, never older.

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
    refresh_at: i64,
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
}

/// The status list URL of a list id.
pub fn list_uri(services: &Services, list_id: &str) -> String {
    format!("{}/status-lists/{list_id}", services.config.public_url)
}

/// Inserts `cred` with a fresh random slot in one of the agency's open lists, inside `tx`.
/// Returns `(list_id, idx)`.
pub async fn insert_with_slot(
    services: &Services,
    tx: &mut Transaction<'static, Any>,
    agency_id: &str,
    cred: &NewCredential<'_>,
) -> DomainResult<(String, i64)> {
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
                let size = i64::from(services.config.status_list_size);
                sqlx::query(
                    "INSERT INTO status_lists (id, agency_id, bits, size, created_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&id)
                .bind(agency_id)
                .bind(i64::from(STATUS_BITS))
                .bind(size)
                .bind(now())
                .execute(&mut **tx)
                .await?;
                (id, size)
            }
        };
        let bound = u64::try_from(size).map_err(|_| DomainError::Internal("list size".into()))?;
        for _ in 0..TRIES_PER_LIST {
            let idx = i64::try_from(secrets::random_below(bound)?)
                .map_err(|_| DomainError::Internal("slot".into()))?;
            let done = sqlx::query(
                "INSERT INTO credentials (id, document_id, doc_version, list_id, idx, status, kid, issued_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $8) ON CONFLICT (list_id, idx) DO NOTHING",
            )
            .bind(cred.id)
            .bind(cred.document_id)
            .bind(cred.doc_version)
            .bind(&list_id)
            .bind(idx)
            .bind(cred.kid)
            .bind(cred.issued_at)
            .bind(cred.expires_at)
            .execute(&mut **tx)
            .await?;
            if done.rows_affected() == 1 {
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

/// Sets the status of every credential of `document_id` (never un-revoking one) and bumps
/// the version of each list touched, inside `tx`.
pub async fn set_document_status(
    tx: &mut Transaction<'static, Any>,
    document_id: &str,
    status: i64,
) -> DomainResult<()> {
    sqlx::query(
        "UPDATE status_lists SET version = version + 1 WHERE id IN \
         (SELECT DISTINCT list_id FROM credentials WHERE document_id = $1 AND status <> $2 AND status <> 1)",
    )
    .bind(document_id)
    .bind(status)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE credentials SET status = $1 WHERE document_id = $2 AND status <> $1 AND status <> 1")
        .bind(status)
        .bind(document_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The current signed `statuslist+jwt` of a list.
pub async fn token(services: &Services, list_id: &str) -> DomainResult<String> {
    let row = sqlx::query("SELECT agency_id, bits, size, version FROM status_lists WHERE id = $1")
        .bind(list_id)
        .fetch_optional(services.db.pool())
        .await?
        .ok_or(DomainError::NotFound("status list"))?;
    let version: i64 = row.try_get("version")?;
    let t = now();
    if let Ok(cache) = services.status_cache.tokens.lock()
        && let Some(c) = cache.get(list_id)
        && c.version == version
        && t < c.refresh_at
    {
        return Ok(c.token.clone());
    }
    let agency_id: String = row.try_get("agency_id")?;
    let size: i64 = row.try_get("size")?;
    let entries =
        sqlx::query("SELECT idx, status FROM credentials WHERE list_id = $1 AND status <> 0")
            .bind(list_id)
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
    let signer = keys::active_signer(services, Some(&agency_id)).await?;
    let token = status_list::sign_token(
        &list_uri(services, list_id),
        &list,
        t,
        Some(t + lifetime),
        ttl,
        signer.as_ref(),
    )
    .map_err(|e| DomainError::Internal(e.to_string()))?;
    if let Ok(mut cache) = services.status_cache.tokens.lock() {
        // Rebuild well before `exp` so a cached token always has most of its life left.
        cache.insert(
            list_id.to_owned(),
            CachedToken {
                version,
                refresh_at: t + lifetime / 4,
                token: token.clone(),
            },
        );
    }
    Ok(token)
}
