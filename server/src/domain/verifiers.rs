//! Registered verifiers (OpenID4VP relying parties) and their registrars: what the
//! `giayto-server verifier …` admin commands keep, and what [`super::trust::publish`]
//! signs into the trust list's `verifier_anchors` and `verifiers`.

use giayto_core::jose::b64;
use giayto_core::oid4vp::{X509_HASH_PREFIX, x509_hash};
use giayto_core::trust_list::{IssuerName, RegisteredRequest, RegisteredVerifier};
use sqlx::Row;

use super::{DomainError, DomainResult, Services, now};

/// Most registrars and most registered verifiers kept (the trust list is bounded).
pub const MAX_VERIFIER_ENTRIES: i64 = 1000;

fn invalid(field: &str, reason: impl Into<String>) -> DomainError {
    DomainError::Invalid {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Adds a registrar CA certificate (DER). Returns its `x509_hash` id. The certificate must
/// parse as an X.509 trust anchor (webpki's reading, the wallet's).
pub async fn add_anchor(services: &Services, der: &[u8], subject: &str) -> DomainResult<String> {
    giayto_core::oid4vp::check_anchor(der).map_err(|e| invalid("certificate", e.to_string()))?;
    let id = x509_hash(der);
    check_room(services, "verifier_anchors").await?;
    sqlx::query(
        "INSERT INTO verifier_anchors (id, certificate, subject, added_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&id)
    .bind(b64::encode_standard(der))
    .bind(subject)
    .bind(now())
    .execute(services.db.writer())
    .await?;
    Ok(id)
}

/// Removes a registrar by its id; `NotFound` when there is none.
pub async fn remove_anchor(services: &Services, id: &str) -> DomainResult<()> {
    let done = sqlx::query("DELETE FROM verifier_anchors WHERE id = $1")
        .bind(id)
        .execute(services.db.writer())
        .await?;
    if done.rows_affected() == 0 {
        return Err(DomainError::NotFound("verifier anchor"));
    }
    Ok(())
}

/// The registrars' certificates, base64 DER, oldest first; with their ids and subjects.
pub async fn list_anchors(services: &Services) -> DomainResult<Vec<(String, String, String)>> {
    let rows =
        sqlx::query("SELECT id, certificate, subject FROM verifier_anchors ORDER BY added_at, id")
            .fetch_all(services.db.pool())
            .await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get("id")?,
                row.try_get("certificate")?,
                row.try_get("subject")?,
            ))
        })
        .collect()
}

/// Registers (or re-registers, replacing) a verifier. Its `client_id` must be
/// `x509_hash:` with a 32-byte base64url hash; every `vct` must be in the catalogue.
pub async fn register(services: &Services, verifier: &RegisteredVerifier) -> DomainResult<()> {
    let hash = verifier
        .client_id
        .strip_prefix(X509_HASH_PREFIX)
        .ok_or_else(|| invalid("client_id", "must start with x509_hash:"))?;
    if b64::decode(hash).map(|h| h.len()) != Ok(32) {
        return Err(invalid("client_id", "the hash must be 32 bytes, base64url"));
    }
    if verifier.name.vi.trim().is_empty() || verifier.name.en.trim().is_empty() {
        return Err(invalid("name", "both names are required"));
    }
    for request in &verifier.may_request {
        if giayto_core::catalogue::by_vct(&request.vct).is_none() {
            return Err(invalid(
                "may_request",
                format!("unknown document type {}", request.vct),
            ));
        }
    }
    let may_request = serde_json::to_string(&verifier.may_request)
        .map_err(|e| DomainError::Internal(e.to_string()))?;
    check_room(services, "registered_verifiers").await?;
    sqlx::query(
        "INSERT INTO registered_verifiers (client_id, name_vi, name_en, may_request, added_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (client_id) DO UPDATE SET \
         name_vi = excluded.name_vi, name_en = excluded.name_en, may_request = excluded.may_request",
    )
    .bind(&verifier.client_id)
    .bind(&verifier.name.vi)
    .bind(&verifier.name.en)
    .bind(may_request)
    .bind(now())
    .execute(services.db.writer())
    .await?;
    Ok(())
}

/// Removes a registered verifier; `NotFound` when there is none.
pub async fn unregister(services: &Services, client_id: &str) -> DomainResult<()> {
    let done = sqlx::query("DELETE FROM registered_verifiers WHERE client_id = $1")
        .bind(client_id)
        .execute(services.db.writer())
        .await?;
    if done.rows_affected() == 0 {
        return Err(DomainError::NotFound("registered verifier"));
    }
    Ok(())
}

/// The registered verifiers, oldest first.
pub async fn list_verifiers(services: &Services) -> DomainResult<Vec<RegisteredVerifier>> {
    let rows = sqlx::query(
        "SELECT client_id, name_vi, name_en, may_request FROM registered_verifiers ORDER BY added_at, client_id",
    )
    .fetch_all(services.db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            let may_request: String = row.try_get("may_request")?;
            Ok(RegisteredVerifier {
                client_id: row.try_get("client_id")?,
                name: IssuerName {
                    vi: row.try_get("name_vi")?,
                    en: row.try_get("name_en")?,
                },
                may_request: serde_json::from_str::<Vec<RegisteredRequest>>(&may_request)
                    .map_err(|e| DomainError::Internal(e.to_string()))?,
            })
        })
        .collect()
}

async fn check_room(services: &Services, table: &'static str) -> DomainResult<()> {
    let count: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(services.db.pool())
        .await?;
    if count >= MAX_VERIFIER_ENTRIES {
        return Err(DomainError::Conflict(format!(
            "{table} already holds {MAX_VERIFIER_ENTRIES} entries"
        )));
    }
    Ok(())
}

/// Parses one `--may-request` value: `<catalogue id or vct>=<path>,<path>…`, each path in
/// the catalogue's `/` syntax with `*` for every array element (`driving_privileges/*/class`),
/// written to the trust list as a DCQL claims path pointer (`*` becomes `null`). A type
/// with no `=` may be requested with no claims beyond the always-visible ones.
pub fn parse_may_request(text: &str) -> DomainResult<RegisteredRequest> {
    let (doc, claims) = text.split_once('=').unwrap_or((text, ""));
    let document = giayto_core::catalogue::by_id(doc.trim())
        .or_else(|| giayto_core::catalogue::by_vct(doc.trim()))
        .ok_or_else(|| invalid("may_request", format!("unknown document type {doc}")))?;
    let claims = claims
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|path| {
            path.split('/')
                .map(|segment| match segment {
                    "*" => Ok(serde_json::Value::Null),
                    "" => Err(invalid("may_request", format!("empty segment in {path}"))),
                    key => Ok(serde_json::Value::from(key)),
                })
                .collect::<DomainResult<Vec<_>>>()
        })
        .collect::<DomainResult<Vec<_>>>()?;
    Ok(RegisteredRequest {
        vct: document.vct.to_owned(),
        claims,
    })
}
