//! Signing keys of agencies and of the trust anchor: generation (wrapped by the master key at
//! once), rotation (retired keys stay published while credentials they signed are valid),
//! the public JWKS, and an in-memory cache of unwrapped signers.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use giayto_core::jose::{Algorithm, Jwk};
use sqlx::{Any, Row, Transaction};
use zeroize::Zeroizing;

use super::issuance::CREDENTIAL_SIGNING_ALGS;
use super::{DomainError, DomainResult, Services, now};
use crate::secrets::{MasterKey, SecretError};
use crate::signer::{self, JosekitSigner};

/// Unwrapped signers by `kid`; filled on first use, shared by all requests.
#[derive(Debug, Default)]
pub struct KeyRing {
    cache: RwLock<HashMap<String, Arc<JosekitSigner>>>,
}

fn wrap_context(kid: &str) -> String {
    format!("signing-key:{kid}")
}

/// Unwraps the stored private JWK (JSON bytes) of `kid` with `master`.
pub fn unwrap_private(
    master: &MasterKey,
    kid: &str,
    wrapped: &[u8],
) -> Result<Zeroizing<Vec<u8>>, SecretError> {
    master.unwrap(&wrap_context(kid), wrapped)
}

/// Generates a key for `agency_id` (None: the trust anchor), stores it wrapped and active.
/// Any key active before is retired, staying published until `published_until`.
pub async fn create_key(
    services: &Services,
    tx: &mut Transaction<'static, Any>,
    agency_id: Option<&str>,
    alg: Algorithm,
) -> DomainResult<String> {
    if agency_id.is_some() && !CREDENTIAL_SIGNING_ALGS.contains(&alg) {
        // The metadata promises wallets only these algorithms.
        return Err(DomainError::Invalid {
            field: "alg".into(),
            reason: format!(
                "agencies sign with {:?} only (credential_signing_alg_values_supported)",
                super::issuance::alg_names(CREDENTIAL_SIGNING_ALGS)
            ),
        });
    }
    let key = signer::generate(alg).map_err(|e| DomainError::Internal(e.to_string()))?;
    let wrapped = services
        .master
        .wrap(&wrap_context(&key.kid), &key.private_json)?;
    let public =
        serde_json::to_string(&key.public).map_err(|e| DomainError::Internal(e.to_string()))?;
    let t = now();
    // Retire the current key first (the unique index allows one active key per owner).
    let current: Option<String> = match agency_id {
        Some(a) => {
            sqlx::query_scalar(
                "SELECT kid FROM signing_keys WHERE agency_id = $1 AND retired_at IS NULL",
            )
            .bind(a)
            .fetch_optional(&mut **tx)
            .await?
        }
        None => {
            sqlx::query_scalar(
                "SELECT kid FROM signing_keys WHERE agency_id IS NULL AND retired_at IS NULL",
            )
            .fetch_optional(&mut **tx)
            .await?
        }
    };
    if let Some(old) = current {
        let last_exp: Option<i64> =
            sqlx::query_scalar("SELECT MAX(expires_at) FROM credentials WHERE kid = $1")
                .bind(&old)
                .fetch_one(&mut **tx)
                .await?;
        let until = match agency_id {
            Some(_) => last_exp.unwrap_or(t).max(t),
            // A retired anchor key stays published as long as trust lists it signed live.
            None => t + services.config.trust_list_lifetime_secs,
        };
        sqlx::query("UPDATE signing_keys SET retired_at = $1, published_until = $2 WHERE kid = $3")
            .bind(t)
            .bind(until)
            .bind(&old)
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO signing_keys (kid, agency_id, alg, public_jwk, wrapped_private, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&key.kid)
    .bind(agency_id)
    .bind(alg.name())
    .bind(public)
    .bind(wrapped)
    .bind(t)
    .execute(&mut **tx)
    .await?;
    Ok(key.kid)
}

/// The signer that signs now for `agency_id` (None: the trust anchor).
pub async fn active_signer(
    services: &Services,
    agency_id: Option<&str>,
) -> DomainResult<Arc<JosekitSigner>> {
    let row = match agency_id {
        Some(a) => sqlx::query("SELECT kid, alg, wrapped_private FROM signing_keys WHERE agency_id = $1 AND retired_at IS NULL")
            .bind(a)
            .fetch_optional(services.db.pool())
            .await?,
        None => sqlx::query("SELECT kid, alg, wrapped_private FROM signing_keys WHERE agency_id IS NULL AND retired_at IS NULL")
            .fetch_optional(services.db.pool())
            .await?,
    };
    let row = row.ok_or(DomainError::NotFound("signing key"))?;
    let kid: String = row.try_get("kid")?;
    if let Some(s) = cached(services, &kid) {
        return Ok(s);
    }
    unwrap_row(services, kid, &row)
}

/// The signer of key `kid`, as a caller that already read which key signs now (issuance
/// reads the agency's active `kid` with its document): from the cache of unwrapped
/// signers, reading the wrapped key only on a miss. `NotFound` for an unknown `kid`.
pub async fn signer_of(services: &Services, kid: &str) -> DomainResult<Arc<JosekitSigner>> {
    if let Some(s) = cached(services, kid) {
        return Ok(s);
    }
    let row = sqlx::query("SELECT kid, alg, wrapped_private FROM signing_keys WHERE kid = $1")
        .bind(kid)
        .fetch_optional(services.db.pool())
        .await?
        .ok_or(DomainError::NotFound("signing key"))?;
    unwrap_row(services, kid.to_owned(), &row)
}

fn cached(services: &Services, kid: &str) -> Option<Arc<JosekitSigner>> {
    let cache = services.keys.cache.read().ok()?;
    cache.get(kid).map(Arc::clone)
}

/// Unwraps the key of a `signing_keys` row (`alg`, `wrapped_private`) and caches it.
fn unwrap_row(
    services: &Services,
    kid: String,
    row: &sqlx::any::AnyRow,
) -> DomainResult<Arc<JosekitSigner>> {
    let alg: String = row.try_get("alg")?;
    let wrapped: Vec<u8> = row.try_get("wrapped_private")?;
    let alg = Algorithm::from_name(&alg).map_err(|e| DomainError::Internal(e.to_string()))?;
    let private = unwrap_private(&services.master, &kid, &wrapped)?;
    let signer = Arc::new(
        JosekitSigner::from_private_jwk_json(alg, &private)
            .map_err(|e| DomainError::Internal(e.to_string()))?,
    );
    if let Ok(mut cache) = services.keys.cache.write() {
        cache.insert(kid, Arc::clone(&signer));
    }
    Ok(signer)
}

/// Public keys to publish for `agency_id` (None: the trust anchor): the active key and the
/// retired ones still covering valid credentials.
pub async fn published_keys(
    services: &Services,
    agency_id: Option<&str>,
) -> DomainResult<Vec<Jwk>> {
    let t = now();
    let rows: Vec<String> = match agency_id {
        Some(a) => {
            sqlx::query_scalar(
                "SELECT public_jwk FROM signing_keys WHERE agency_id = $1 \
             AND (retired_at IS NULL OR published_until > $2) ORDER BY created_at DESC",
            )
            .bind(a)
            .bind(t)
            .fetch_all(services.db.pool())
            .await?
        }
        None => {
            sqlx::query_scalar(
                "SELECT public_jwk FROM signing_keys WHERE agency_id IS NULL \
             AND (retired_at IS NULL OR published_until > $1) ORDER BY created_at DESC",
            )
            .bind(t)
            .fetch_all(services.db.pool())
            .await?
        }
    };
    rows.iter()
        .map(|j| serde_json::from_str(j).map_err(|e| DomainError::Internal(e.to_string())))
        .collect()
}

/// Every agency's published keys (the server-wide JWKS).
pub async fn all_agency_keys(services: &Services) -> DomainResult<Vec<Jwk>> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT public_jwk FROM signing_keys WHERE agency_id IS NOT NULL \
         AND (retired_at IS NULL OR published_until > $1) ORDER BY agency_id, created_at DESC",
    )
    .bind(now())
    .fetch_all(services.db.pool())
    .await?;
    rows.iter()
        .map(|j| serde_json::from_str(j).map_err(|e| DomainError::Internal(e.to_string())))
        .collect()
}
