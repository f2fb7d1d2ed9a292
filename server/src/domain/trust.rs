//! The national trust anchor and the signed trust list: every agency with its `iss`, names,
//! published JWKS and the `vct`s it may issue, and the registered OpenID4VP verifiers with
//! their registrars ([`super::verifiers`]), signed by the anchor key, with an expiry.

use giayto_core::jose::{Algorithm, Jwk, Jwks};
use giayto_core::trust_list::{IssuerName, TrustList, TrustedIssuer};

use super::{DomainError, DomainResult, Services, agencies, keys, now};
use crate::secrets;

/// JWS `typ` of the trust list: core's format, so core's verifier accepts what is served.
pub use giayto_core::trust_list::TRUST_LIST_TYP;
/// Media type of the served trust list.
pub const TRUST_LIST_MEDIA_TYPE: &str = "application/trustlist+jwt";

/// Creates the trust anchor key if there is none; returns its public key.
pub async fn ensure_anchor(services: &Services) -> DomainResult<Jwk> {
    let existing = keys::published_keys(services, None).await?;
    if existing.is_empty() {
        let mut tx = services.db.begin().await?;
        let present: Option<String> = sqlx::query_scalar(
            "SELECT kid FROM signing_keys WHERE agency_id IS NULL AND retired_at IS NULL",
        )
        .fetch_optional(&mut *tx)
        .await?;
        if present.is_none() {
            keys::create_key(services, &mut tx, None, Algorithm::Es256).await?;
        }
        tx.commit().await?;
    }
    let signer = keys::active_signer(services, None).await?;
    giayto_core::jose::Signer::public_jwk(signer.as_ref())
        .map_err(|e| DomainError::Internal(e.to_string()))
}

/// Signs and stores a fresh trust list; returns the token.
pub async fn publish(services: &Services) -> DomainResult<String> {
    ensure_anchor(services).await?;
    // Strictly after the newest list, so `current` (newest `issued_at` first) serves this
    // one even when two changes publish within the same second (an operator's script
    // adding a registrar and then a verifier); the wallet tolerates minutes of `iat` skew.
    let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(issued_at) FROM trust_lists")
        .fetch_one(services.db.writer())
        .await?;
    let t = newest.map_or(now(), |newest| now().max(newest.saturating_add(1)));
    let exp = t + services.config.trust_list_lifetime_secs;
    let mut issuers = Vec::new();
    for a in agencies::list_agencies(services).await? {
        // The same keys (kid = RFC 7638 thumbprint, as written in credential headers) the
        // agency's JWT VC issuer metadata publishes.
        let keys = keys::published_keys(services, Some(&a.id)).await?;
        issuers.push(TrustedIssuer {
            id: services.agency_issuer(&a.id),
            name: IssuerName {
                vi: a.name_vi,
                en: a.name_en,
            },
            jwks: Jwks { keys },
            // Each document type with its purpose types: a verifier authorises a purpose
            // credential like any other type, by its own `vct` (no special case).
            vcts: a
                .allowed_vcts
                .iter()
                .flat_map(|vct| giayto_core::catalogue::issued_vcts(vct))
                .collect(),
            status_list_aggregation_endpoint: Some(super::status_lists::aggregation_uri(
                services, &a.id,
            )),
        });
    }
    let list = TrustList {
        iss: services.config.public_url.clone(),
        iat: t,
        exp,
        issuers,
        verifier_anchors: super::verifiers::list_anchors(services)
            .await?
            .into_iter()
            .map(|(_, certificate, _)| certificate)
            .collect(),
        verifiers: super::verifiers::list_verifiers(services).await?,
    };
    let signer = keys::active_signer(services, None).await?;
    let token = list
        .sign(signer.as_ref())
        .map_err(|e| DomainError::Internal(e.to_string()))?;
    sqlx::query(
        "INSERT INTO trust_lists (id, token, issued_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(secrets::random_id()?)
    .bind(&token)
    .bind(t)
    .bind(exp)
    .execute(services.db.writer())
    .await?;
    Ok(token)
}

/// The newest unexpired trust list, if any.
pub async fn current(services: &Services) -> DomainResult<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT token FROM trust_lists WHERE expires_at > $1 ORDER BY issued_at DESC, id LIMIT 1",
    )
    .bind(now())
    .fetch_optional(services.db.pool())
    .await?)
}

/// Serialises the refreshes of this process: a crowd of anonymous `/trust-list` readers
/// finding the list stale makes one new row, not one each.
static REFRESH: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The newest unexpired trust list, refreshed first when it is past half its life (so
/// readers never meet an expired one). At most one new row per half lifetime and process,
/// whoever calls.
pub async fn current_refreshed(services: &Services) -> DomainResult<String> {
    refresh_if_stale(services).await?;
    match current(services).await? {
        Some(token) => Ok(token),
        None => Err(DomainError::Internal("no current trust list".into())),
    }
}

/// Publishes a trust list when none is current or the current one is past half its life
/// (called at start and by readers, so a running deployment never serves an expired list).
pub async fn refresh_if_stale(services: &Services) -> DomainResult<()> {
    if !is_stale(services).await? {
        return Ok(());
    }
    let _one_at_a_time = REFRESH.lock().await;
    // Whoever held the lock before may have refreshed it.
    if is_stale(services).await? {
        publish(services).await?;
    }
    Ok(())
}

async fn is_stale(services: &Services) -> DomainResult<bool> {
    let half = services.config.trust_list_lifetime_secs / 2;
    let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(issued_at) FROM trust_lists")
        .fetch_one(services.db.pool())
        .await?;
    Ok(newest.is_none_or(|iat| iat + half < now()))
}
