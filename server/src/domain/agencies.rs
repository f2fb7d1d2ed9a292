//! Agencies (the tenants) and their API keys. An API key is shown once at creation and
//! stored only as a keyed hash; authentication looks the hash up.

use giayto_core::jose::Algorithm;
use serde::Serialize;
use sqlx::Row;

use super::{DomainError, DomainResult, Services, ids, keys, now};
use crate::secrets;

const API_KEY_PURPOSE: &str = "api-key";
const API_KEY_PREFIX: &str = "gyk_";

/// An issuing agency.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Agency {
    /// Short id (`police`), part of the agency's `iss`.
    pub id: String,
    /// Vietnamese name.
    pub name_vi: String,
    /// English name.
    pub name_en: String,
    /// The `vct`s it may issue.
    pub allowed_vcts: Vec<String>,
}

/// A newly made API key: the secret is shown to the operator once and never stored.
pub struct NewApiKey {
    /// Row id (used to revoke it).
    pub id: String,
    /// The bearer secret.
    pub secret: String,
}

impl std::fmt::Debug for NewApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewApiKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

fn agency_from_row(row: &sqlx::any::AnyRow) -> DomainResult<Agency> {
    let vcts: String = row.try_get("allowed_vcts")?;
    Ok(Agency {
        id: row.try_get("id")?,
        name_vi: row.try_get("name_vi")?,
        name_en: row.try_get("name_en")?,
        allowed_vcts: serde_json::from_str(&vcts)
            .map_err(|e| DomainError::Internal(e.to_string()))?,
    })
}

/// Adds an agency with its first signing key.
pub async fn add_agency(services: &Services, agency: &Agency, alg: Algorithm) -> DomainResult<()> {
    ids::agency_id(&agency.id)?;
    for vct in &agency.allowed_vcts {
        if giayto_core::catalogue::by_vct(vct).is_none() {
            return Err(DomainError::Invalid {
                field: "allowed_vcts".into(),
                reason: format!("unknown document type {vct}"),
            });
        }
    }
    let vcts = serde_json::to_string(&agency.allowed_vcts)
        .map_err(|e| DomainError::Internal(e.to_string()))?;
    let mut tx = services.db.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO agencies (id, name_vi, name_en, allowed_vcts, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&agency.id)
    .bind(&agency.name_vi)
    .bind(&agency.name_en)
    .bind(vcts)
    .bind(now())
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(DomainError::Conflict(format!(
            "agency {} exists",
            agency.id
        )));
    }
    keys::create_key(services, &mut tx, Some(&agency.id), alg).await?;
    tx.commit().await?;
    Ok(())
}

/// Rotates an agency's signing key; returns the new `kid`.
pub async fn rotate_key(
    services: &Services,
    agency_id: &str,
    alg: Algorithm,
) -> DomainResult<String> {
    let mut tx = services.db.begin().await?;
    let exists: Option<String> = sqlx::query_scalar("SELECT id FROM agencies WHERE id = $1")
        .bind(agency_id)
        .fetch_optional(&mut *tx)
        .await?;
    if exists.is_none() {
        return Err(DomainError::NotFound("agency"));
    }
    let kid = keys::create_key(services, &mut tx, Some(agency_id), alg).await?;
    tx.commit().await?;
    Ok(kid)
}

/// One agency.
pub async fn get_agency(services: &Services, id: &str) -> DomainResult<Option<Agency>> {
    let row = sqlx::query("SELECT id, name_vi, name_en, allowed_vcts FROM agencies WHERE id = $1")
        .bind(id)
        .fetch_optional(services.db.pool())
        .await?;
    row.as_ref().map(agency_from_row).transpose()
}

/// All agencies, by id.
pub async fn list_agencies(services: &Services) -> DomainResult<Vec<Agency>> {
    let rows = sqlx::query("SELECT id, name_vi, name_en, allowed_vcts FROM agencies ORDER BY id")
        .fetch_all(services.db.pool())
        .await?;
    rows.iter().map(agency_from_row).collect()
}

/// Creates an API key for an agency.
pub async fn create_api_key(
    services: &Services,
    agency_id: &str,
    label: &str,
) -> DomainResult<NewApiKey> {
    if get_agency(services, agency_id).await?.is_none() {
        return Err(DomainError::NotFound("agency"));
    }
    let id = secrets::random_id()?;
    let secret = secrets::random_token(API_KEY_PREFIX)?;
    sqlx::query(
        "INSERT INTO api_keys (id, agency_id, key_hash, label, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&id)
    .bind(agency_id)
    .bind(services.master.hash_secret(API_KEY_PURPOSE, &secret))
    .bind(label)
    .bind(now())
    .execute(services.db.writer())
    .await?;
    Ok(NewApiKey { id, secret })
}

/// Revokes an API key by id.
pub async fn revoke_api_key(services: &Services, id: &str) -> DomainResult<()> {
    let done =
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now())
            .bind(id)
            .execute(services.db.writer())
            .await?;
    if done.rows_affected() == 0 {
        return Err(DomainError::NotFound("active API key"));
    }
    Ok(())
}

/// The agency owning an active API key, if any.
pub async fn authenticate(services: &Services, secret: &str) -> DomainResult<Option<Agency>> {
    if !secret.starts_with(API_KEY_PREFIX) || secret.len() > 128 {
        return Ok(None);
    }
    let row = sqlx::query(
        "SELECT a.id, a.name_vi, a.name_en, a.allowed_vcts FROM api_keys k JOIN agencies a ON a.id = k.agency_id \
         WHERE k.key_hash = $1 AND k.revoked_at IS NULL",
    )
    .bind(services.master.hash_secret(API_KEY_PURPOSE, secret))
    .fetch_optional(services.db.pool())
    .await?;
    row.as_ref().map(agency_from_row).transpose()
}
