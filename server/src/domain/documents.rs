//! Documents an agency publishes: publish (idempotent on the agency's own document id),
//! read, revoke / suspend / reinstate, re-issue after a data change; and the credential
//! offers (pre-authorized code + `tx_code`) that let the citizen's wallet fetch them.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sqlx::{Any, Row, Transaction};
use utoipa::ToSchema;
use zeroize::Zeroizing;

use super::agencies::Agency;
use super::status_lists::{self, REVOKED, SUSPENDED, VALID};
use super::{DomainError, DomainResult, FieldFault, Services, ids, now, time_bounds};
use crate::db::DbKind;
use crate::offer;
use crate::secrets;

/// Purpose label of pre-authorized code hashes.
pub const CODE_PURPOSE: &str = "pre-authorized-code";

/// The stored, looked-up form of a pre-authorized code: the keyed hash of the whole code
/// ([`secrets::MasterKey::hash_secret`] under [`CODE_PURPOSE`]), after the code's time
/// prefix when it has one (every code [`secrets::time_prefixed_token`] made): hashes of
/// codes made one after the other then sort together, and a
/// bulk publish appends to the `code_hash` index instead of dirtying one random page of it
/// per offer. A code without the prefix (made before) hashes as it always did.
pub fn code_hash(master: &secrets::MasterKey, code: &str) -> String {
    let hash = master.hash_secret(CODE_PURPOSE, code);
    match secrets::time_prefix(code) {
        Some(prefix) => format!("{prefix}{hash}"),
        None => hash,
    }
}

/// A document to publish.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    /// The agency's own id of this document: 1-128 of `A-Za-z0-9._:-`, starting and ending
    /// with a letter or digit (grammar in docs/ISSUER_API.md; [`super::ids`]).
    pub document_id: String,
    /// The citizen's personal identification number (12 digits).
    pub citizen_id: String,
    /// Document type (`vct` of the catalogue).
    pub vct: String,
    /// Claims, checked against the catalogue schema of `vct`.
    #[schema(value_type = Object)]
    pub claims: Map<String, Value>,
    /// Credential expiry (Unix seconds): after now and within the type's longest lifetime
    /// (docs/ISSUER_API.md); default: now + the configured lifetime, within that bound.
    #[serde(default)]
    pub valid_until: Option<i64>,
}

/// New claims for a re-issue.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReissueRequest {
    /// The new claims.
    #[schema(value_type = Object)]
    pub claims: Map<String, Value>,
    /// New expiry; default: keep the previous one.
    #[serde(default)]
    pub valid_until: Option<i64>,
}

/// A document's state as the agency sees it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct DocumentView {
    /// The agency's own id.
    pub document_id: String,
    /// Document type.
    pub vct: String,
    /// `valid`, `suspended` or `revoked`.
    pub state: String,
    /// Bumped by each re-issue.
    pub version: i64,
    /// Credential expiry.
    pub valid_until: i64,
    /// Credentials issued to wallets for this document.
    pub credentials: Vec<CredentialView>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

/// One issued credential and its status-list slot.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct CredentialView {
    /// Status list URL.
    pub status_list: String,
    /// Index in it.
    pub idx: i64,
    /// 0 valid, 1 revoked, 2 suspended.
    pub status: i64,
    /// Document version it carries.
    pub version: i64,
    /// Unix seconds.
    pub issued_at: i64,
}

/// The credential offer to hand to the citizen.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct OfferView {
    /// The offer object (OpenID4VCI section 4.1.1).
    #[schema(value_type = Object)]
    pub credential_offer: offer::CredentialOffer,
    /// `openid-credential-offer://?credential_offer=...` (by value).
    pub offer_uri_by_value: String,
    /// `openid-credential-offer://?credential_offer_uri=...` (by reference).
    pub offer_uri_by_reference: String,
    /// Where the offer object is served.
    pub credential_offer_uri: String,
    /// PNG QR code of the by-reference URI.
    pub qr_png_url: String,
    /// Transaction code to tell the citizen through another channel.
    pub tx_code: String,
    /// Unix seconds after which the pre-authorized code is refused.
    pub expires_at: i64,
}

/// Result of publish and re-issue.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct PublishResponse {
    /// The document.
    pub document: DocumentView,
    /// The open offer, when one is open.
    pub offer: Option<OfferView>,
}

/// Whether a publish created the document or found it already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// First time.
    Created,
    /// Same document id and content as before: the earlier result.
    Replayed,
}

/// A JSON value with every object's members sorted by name, at every depth (byte order of
/// the names), serialized without a sorted copy being made.
struct Canonical<'a>(&'a Value);

impl Serialize for Canonical<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        match self.0 {
            Value::Object(m) => {
                let mut members: Vec<(&String, &Value)> = m.iter().collect();
                members.sort_unstable_by(|a, b| a.0.cmp(b.0));
                let mut map = s.serialize_map(Some(members.len()))?;
                for (k, v) in members {
                    map.serialize_entry(k, &Canonical(v))?;
                }
                map.end()
            }
            Value::Array(a) => s.collect_seq(a.iter().map(Canonical)),
            other => other.serialize(s),
        }
    }
}

/// What the content hash covers, in this order: stored hashes are compared with it on each
/// re-publish, so its bytes never change.
#[derive(Serialize)]
struct HashedContent<'a> {
    citizen_id: &'a str,
    vct: &'a str,
    claims: Canonical<'a>,
    valid_until: Option<i64>,
}

/// Feeds what serde_json writes to a SHA-256 digest.
struct DigestWriter(ring::digest::Context);

impl std::io::Write for DigestWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// SHA-256 (lower-case hex) of the compact JSON `{"citizen_id", "vct", "claims" (members
/// sorted), "valid_until"}`: equal for equal requests whatever the order of their members,
/// which is what makes a re-publish a replay rather than a conflict.
fn content_hash(
    citizen_id: &str,
    vct: &str,
    claims: &Value,
    valid_until: Option<i64>,
) -> DomainResult<String> {
    let mut digest = DigestWriter(ring::digest::Context::new(&ring::digest::SHA256));
    serde_json::to_writer(
        &mut digest,
        &HashedContent {
            citizen_id,
            vct,
            claims: Canonical(claims),
            valid_until,
        },
    )
    .map_err(|e| DomainError::Internal(e.to_string()))?;
    Ok(secrets::hex_lower(digest.0.finish().as_ref()))
}

/// Checks a publish request's parts against the agency's rights and the catalogue, without
/// I/O; `claims` is the request's claims object.
fn check_request(
    agency: &Agency,
    document_id: &str,
    citizen_id: &str,
    vct: &str,
    claims: &Value,
    valid_until: Option<i64>,
) -> DomainResult<()> {
    ids::document_id(document_id)?;
    ids::citizen_id(citizen_id)?;
    check_claims(agency, vct, claims)?;
    if let Some(until) = valid_until {
        time_bounds::check_valid_until(vct, until, now())?;
    }
    Ok(())
}

fn check_claims(agency: &Agency, vct: &str, claims: &Value) -> DomainResult<()> {
    let Some(doc_type) = giayto_core::catalogue::by_vct(vct) else {
        return Err(DomainError::Invalid {
            field: "vct".into(),
            reason: "unknown document type".into(),
        });
    };
    if !agency.allowed_vcts.iter().any(|v| v == vct) {
        return Err(DomainError::Forbidden(format!(
            "agency {} may not issue {vct}",
            agency.id
        )));
    }
    // Every fault at once: a publisher fixing one per request was trial and error.
    let faults: Vec<FieldFault> = doc_type
        .validate_all(claims)
        .iter()
        .map(|e| {
            // The catalogue's messages start with the claim path: "path: what is wrong".
            let reason = e.to_string();
            let path = reason
                .split_once(": ")
                .map(|(p, _)| p)
                .unwrap_or("")
                .to_owned();
            FieldFault {
                field: if path.is_empty() {
                    "claims".into()
                } else {
                    format!("claims.{path}")
                },
                reason,
            }
        })
        .collect();
    match <[FieldFault; 1]>::try_from(faults) {
        Ok([one]) => Err(DomainError::Invalid {
            field: one.field,
            reason: one.reason,
        }),
        Err(faults) if faults.is_empty() => Ok(()),
        Err(faults) => Err(DomainError::InvalidClaims(faults)),
    }
}

/// An offer made ready outside the write transaction: its row values (secrets only as
/// keyed hashes or wrapped) and the view handed to the agency.
struct PreparedOffer {
    id: String,
    document_id: String,
    doc_version: i64,
    code_hash: String,
    tx_code_hash: String,
    secret_wrapped: Vec<u8>,
    expires_at: i64,
    created_at: i64,
    view: OfferView,
}

/// Draws the pre-authorized code and `tx_code` of a new offer, hashes and wraps them, and
/// builds the view: all the CPU work of an offer, done before any lock is taken.
fn prepare_offer(
    services: &Services,
    document_id: &str,
    doc_version: i64,
    vct: &str,
    valid_until: i64,
) -> DomainResult<PreparedOffer> {
    let id = secrets::random_id()?;
    let code = Zeroizing::new(secrets::time_prefixed_token()?);
    let tx_code = Zeroizing::new(secrets::random_digits(services.config.tx_code_digits)?);
    let secret = offer::OfferSecret {
        code: code.to_string(),
        tx_code: tx_code.to_string(),
    };
    let secret_json = Zeroizing::new(
        serde_json::to_vec(&secret).map_err(|e| DomainError::Internal(e.to_string()))?,
    );
    let t = now();
    let expires_at = time_bounds::offer_expiry(services.config.offer_ttl_secs, valid_until, t);
    Ok(PreparedOffer {
        code_hash: code_hash(&services.master, &code),
        tx_code_hash: services
            .master
            .hash_secret(&offer::tx_code_purpose(&id), &tx_code),
        secret_wrapped: services
            .master
            .wrap(&offer::wrap_context(&id), &secret_json)?,
        view: offer::view(services, &id, vct, &secret, expires_at)?,
        id,
        document_id: document_id.to_owned(),
        doc_version,
        expires_at,
        created_at: t,
    })
}

/// Most rows in one multi-row INSERT (9 parameters a row stays far below both engines'
/// parameter limits).
const INSERT_ROWS: usize = 256;

/// Inserts offers with multi-row INSERTs inside `tx`.
async fn insert_offers(
    kind: DbKind,
    tx: &mut Transaction<'static, Any>,
    offers: &[&PreparedOffer],
) -> DomainResult<()> {
    for chunk in offers.chunks(INSERT_ROWS) {
        let sql = multi_row_insert(
            kind,
            "INSERT INTO offers (id, document_id, doc_version, code_hash, tx_code_hash, state, secret_wrapped, expires_at, created_at) VALUES ",
            "'open'",
            8,
            chunk.len(),
            "",
        );
        let mut q = sqlx::query(&sql);
        for o in chunk {
            q = q
                .bind(&o.id)
                .bind(&o.document_id)
                .bind(o.doc_version)
                .bind(&o.code_hash)
                .bind(&o.tx_code_hash)
                .bind(&o.secret_wrapped)
                .bind(o.expires_at)
                .bind(o.created_at);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// `{head}(…),(…)…{tail}` with `params` placeholders per row; `constant` (a SQL literal) is
/// put as the row's sixth value, where both tables take their fixed state. SQLite gets
/// anonymous `?` placeholders: binding named ones (`$n`) looks each name up in a list, which
/// is quadratic in the number of parameters and dominated bulk publishing.
fn multi_row_insert(
    kind: DbKind,
    head: &str,
    constant: &str,
    params: usize,
    rows: usize,
    tail: &str,
) -> String {
    use std::fmt::Write as _;
    let mut sql = String::with_capacity(head.len() + tail.len() + rows * params * 6);
    sql.push_str(head);
    let mut n = 0;
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ",(" });
        for p in 0..params {
            if p == 5 {
                sql.push_str(constant);
                sql.push(',');
            }
            n += 1;
            match kind {
                DbKind::Sqlite => sql.push('?'),
                DbKind::Postgres => {
                    let _ = write!(sql, "${n}");
                }
            }
            if p + 1 < params {
                sql.push(',');
            }
        }
        sql.push(')');
    }
    sql.push_str(tail);
    sql
}

/// Makes a new offer of `document_id` at `doc_version` inside `tx`; its id and view.
pub(crate) async fn create_offer(
    services: &Services,
    tx: &mut Transaction<'static, Any>,
    document_id: &str,
    doc_version: i64,
    vct: &str,
    valid_until: i64,
) -> DomainResult<(String, OfferView)> {
    let prepared = prepare_offer(services, document_id, doc_version, vct, valid_until)?;
    insert_offers(services.db.kind(), tx, &[&prepared]).await?;
    Ok((prepared.id, prepared.view))
}

async fn withdraw_offers(
    tx: &mut Transaction<'static, Any>,
    document_id: &str,
) -> DomainResult<()> {
    sqlx::query("UPDATE offers SET state = 'withdrawn', secret_wrapped = NULL WHERE document_id = $1 AND state = 'open'")
        .bind(document_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// What one publish did.
#[derive(Debug)]
pub struct Outcome {
    /// Created or replayed.
    pub published: Published,
    /// Internal document id.
    pub id: String,
    /// The offer made, when created.
    pub offer: Option<OfferView>,
}

/// A publish request checked against the agency's rights and the catalogue and turned into
/// its rows (document and offer): the CPU work of a publish, done before the write
/// transaction so the database lock is held only for the inserts.
pub struct PreparedPublish {
    id: String,
    external_id: String,
    citizen_id: String,
    vct: String,
    claims: String,
    content_hash: String,
    valid_until: i64,
    created_at: i64,
    offer: PreparedOffer,
}

/// Checks `req` and prepares its rows; no I/O. The document's internal id is time-ordered
/// ([`secrets::time_ordered_id`]): documents published one after the other land at the end
/// of the id indexes of `documents` and `offers` rather than on random pages of them.
pub fn prepare(
    services: &Services,
    agency: &Agency,
    req: PublishRequest,
) -> DomainResult<PreparedPublish> {
    let PublishRequest {
        document_id,
        citizen_id,
        vct,
        claims,
        valid_until,
    } = req;
    let claims = Value::Object(claims);
    check_request(
        agency,
        &document_id,
        &citizen_id,
        &vct,
        &claims,
        valid_until,
    )?;
    let id = secrets::time_ordered_id()?;
    let t = now();
    let content_hash = content_hash(&citizen_id, &vct, &claims, valid_until)?;
    let valid_until = valid_until.unwrap_or_else(|| {
        time_bounds::default_valid_until(&vct, services.config.credential_ttl_secs, t)
    });
    Ok(PreparedPublish {
        offer: prepare_offer(services, &id, 1, &vct, valid_until)?,
        content_hash,
        claims: claims.to_string(),
        valid_until,
        external_id: document_id,
        citizen_id,
        vct,
        created_at: t,
        id,
    })
}

/// Publishes prepared documents of `agency` inside `tx` (the caller commits), with
/// multi-row INSERTs; one result per input, in order. A document id published before (or
/// earlier in `docs`) is a replay when its content is the same, else a conflict. Runs no
/// statement that can fail on bad input, so one transaction may carry many documents.
pub async fn publish_prepared(
    kind: DbKind,
    tx: &mut Transaction<'static, Any>,
    agency: &Agency,
    docs: Vec<PreparedPublish>,
) -> DomainResult<Vec<DomainResult<Outcome>>> {
    let mut inserted = std::collections::HashSet::with_capacity(docs.len());
    for chunk in docs.chunks(INSERT_ROWS) {
        let sql = multi_row_insert(
            kind,
            "INSERT INTO documents (id, agency_id, external_id, citizen_id, vct, state, claims, content_hash, valid_until, version, created_at, updated_at) VALUES ",
            "'valid'",
            11,
            chunk.len(),
            " ON CONFLICT (agency_id, external_id) DO NOTHING RETURNING id",
        );
        let mut q = sqlx::query_scalar::<_, String>(&sql);
        for d in chunk {
            q = q
                .bind(&d.id)
                .bind(&agency.id)
                .bind(&d.external_id)
                .bind(&d.citizen_id)
                .bind(&d.vct)
                .bind(&d.claims)
                .bind(&d.content_hash)
                .bind(d.valid_until)
                .bind(1_i64)
                .bind(d.created_at)
                .bind(d.created_at);
        }
        inserted.extend(q.fetch_all(&mut **tx).await?);
    }
    let offers: Vec<&PreparedOffer> = docs
        .iter()
        .filter(|d| inserted.contains(&d.id))
        .map(|d| &d.offer)
        .collect();
    insert_offers(kind, tx, &offers).await?;
    outcomes(tx, agency, docs, &inserted).await
}

/// The result of each of `docs` once the inserts ran: created when its id is in
/// `inserted`, else a replay (same content hash as the stored document) or a conflict.
async fn outcomes(
    tx: &mut Transaction<'static, Any>,
    agency: &Agency,
    docs: Vec<PreparedPublish>,
    inserted: &std::collections::HashSet<String>,
) -> DomainResult<Vec<DomainResult<Outcome>>> {
    let mut out = Vec::with_capacity(docs.len());
    for d in docs {
        if inserted.contains(&d.id) {
            out.push(Ok(Outcome {
                published: Published::Created,
                id: d.id,
                offer: Some(d.offer.view),
            }));
            continue;
        }
        let existing = sqlx::query(
            "SELECT id, content_hash FROM documents WHERE agency_id = $1 AND external_id = $2",
        )
        .bind(&agency.id)
        .bind(&d.external_id)
        .fetch_one(&mut **tx)
        .await?;
        let existing_hash: String = existing.try_get("content_hash")?;
        out.push(if existing_hash != d.content_hash {
            Err(DomainError::Conflict(format!(
                "document {} was published with other content; re-issue it to change its data",
                d.external_id
            )))
        } else {
            Ok(Outcome {
                published: Published::Replayed,
                id: existing.try_get("id")?,
                offer: None,
            })
        });
    }
    Ok(out)
}

/// Publishes one document in its own transaction and returns the agency's view.
pub async fn publish(
    services: &Services,
    agency: &Agency,
    req: PublishRequest,
) -> DomainResult<(Published, PublishResponse)> {
    let prepared = prepare(services, agency, req)?;
    let mut tx = services.db.begin().await?;
    let outcome = publish_prepared(services.db.kind(), &mut tx, agency, vec![prepared])
        .await?
        .pop()
        .ok_or_else(|| DomainError::Internal("publish result".into()))??;
    tx.commit().await?;
    Ok((outcome.published, response(services, &outcome.id).await?))
}

async fn document_row(
    services: &Services,
    agency_id: &str,
    external_id: &str,
) -> DomainResult<sqlx::any::AnyRow> {
    ids::document_id(external_id)?;
    sqlx::query(
        "SELECT id, external_id, vct, state, version, valid_until, created_at, updated_at, claims FROM documents \
         WHERE agency_id = $1 AND external_id = $2",
    )
    .bind(agency_id)
    .bind(external_id)
    .fetch_optional(services.db.pool())
    .await?
    .ok_or(DomainError::NotFound("document"))
}

/// The view of a document by internal id, with its open offer.
pub async fn response(services: &Services, id: &str) -> DomainResult<PublishResponse> {
    let row = sqlx::query(
        "SELECT id, external_id, vct, state, version, valid_until, created_at, updated_at FROM documents WHERE id = $1",
    )
    .bind(id)
    .fetch_one(services.db.pool())
    .await?;
    let document = view_from_row(services, &row).await?;
    let offer_row = sqlx::query(
        "SELECT id, secret_wrapped, expires_at FROM offers WHERE document_id = $1 AND state = 'open' AND expires_at > $2 \
         AND id NOT IN (SELECT offer_id FROM account_activations) \
         ORDER BY created_at DESC, id LIMIT 1",
    )
    .bind(id)
    .bind(now())
    .fetch_optional(services.db.pool())
    .await?;
    let offer = match offer_row {
        None => None,
        Some(o) => {
            let offer_id: String = o.try_get("id")?;
            let wrapped: Option<Vec<u8>> = o.try_get("secret_wrapped")?;
            match wrapped {
                None => None,
                Some(w) => {
                    let secret = offer::unwrap_secret(services, &offer_id, &w)?;
                    Some(offer::view(
                        services,
                        &offer_id,
                        &document.vct,
                        &secret,
                        o.try_get("expires_at")?,
                    )?)
                }
            }
        }
    };
    Ok(PublishResponse { document, offer })
}

async fn view_from_row(services: &Services, row: &sqlx::any::AnyRow) -> DomainResult<DocumentView> {
    let id: String = row.try_get("id")?;
    let creds = sqlx::query(
        "SELECT list_id, idx, status, doc_version, issued_at FROM credentials WHERE document_id = $1 ORDER BY issued_at, idx",
    )
    .bind(&id)
    .fetch_all(services.db.pool())
    .await?;
    let credentials = creds
        .iter()
        .map(|c| {
            let list_id: String = c.try_get("list_id")?;
            Ok(CredentialView {
                status_list: status_lists::list_uri(services, &list_id),
                idx: c.try_get("idx")?,
                status: c.try_get("status")?,
                version: c.try_get("doc_version")?,
                issued_at: c.try_get("issued_at")?,
            })
        })
        .collect::<DomainResult<Vec<_>>>()?;
    Ok(DocumentView {
        document_id: row.try_get("external_id")?,
        vct: row.try_get("vct")?,
        state: row.try_get("state")?,
        version: row.try_get("version")?,
        valid_until: row.try_get("valid_until")?,
        credentials,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Reads one of the agency's documents.
pub async fn get(
    services: &Services,
    agency: &Agency,
    external_id: &str,
) -> DomainResult<PublishResponse> {
    let row = document_row(services, &agency.id, external_id).await?;
    let id: String = row.try_get("id")?;
    response(services, &id).await
}

/// A state change asked by the agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Permanent.
    Revoke,
    /// Temporary.
    Suspend,
    /// Ends a suspension.
    Reinstate,
}

/// Applies a state change to a document and all its credentials in one transaction.
pub async fn change_state(
    services: &Services,
    agency: &Agency,
    external_id: &str,
    change: Change,
) -> DomainResult<PublishResponse> {
    let (from, to, status): (&[&str], &str, i64) = match change {
        Change::Revoke => (&["valid", "suspended"], "revoked", REVOKED),
        Change::Suspend => (&["valid"], "suspended", SUSPENDED),
        Change::Reinstate => (&["suspended"], "valid", VALID),
    };
    ids::document_id(external_id)?;
    let mut tx = services.db.begin().await?;
    // The UPDATE comes first: it takes the document's row lock, which issuance also takes,
    // so a credential issued concurrently is either seen here or refused there.
    let row = sqlx::query(
        "UPDATE documents SET updated_at = $1 WHERE agency_id = $2 AND external_id = $3 RETURNING id, state",
    )
    .bind(now())
    .bind(&agency.id)
    .bind(external_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("document"))?;
    let id: String = row.try_get("id")?;
    let state: String = row.try_get("state")?;
    if state == to {
        // Already there: idempotent.
        tx.rollback().await?;
        return response(services, &id).await;
    }
    if !from.contains(&state.as_str()) {
        return Err(DomainError::Conflict(format!(
            "a {state} document cannot become {to}"
        )));
    }
    sqlx::query("UPDATE documents SET state = $1 WHERE id = $2")
        .bind(to)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    status_lists::set_document_status(&mut tx, &id, status).await?;
    if change == Change::Revoke {
        withdraw_offers(&mut tx, &id).await?;
    }
    tx.commit().await?;
    response(services, &id).await
}

/// Replaces a document's claims: its credentials are revoked, open offers withdrawn and a
/// new offer made for the new data. The document keeps its state (`valid` or `suspended`;
/// a revoked one is a conflict).
pub async fn reissue(
    services: &Services,
    agency: &Agency,
    external_id: &str,
    req: &ReissueRequest,
) -> DomainResult<PublishResponse> {
    ids::document_id(external_id)?;
    let mut tx = services.db.begin().await?;
    let row = sqlx::query(
        "UPDATE documents SET updated_at = $1 WHERE agency_id = $2 AND external_id = $3 \
         RETURNING id, state, vct, citizen_id, version, valid_until",
    )
    .bind(now())
    .bind(&agency.id)
    .bind(external_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound("document"))?;
    let id: String = row.try_get("id")?;
    let state: String = row.try_get("state")?;
    if state == "revoked" {
        return Err(DomainError::Conflict(
            "a revoked document cannot be re-issued".into(),
        ));
    }
    let vct: String = row.try_get("vct")?;
    let version: i64 = row.try_get("version")?;
    let old_until: i64 = row.try_get("valid_until")?;
    let citizen_id: String = row.try_get("citizen_id")?;
    let claims = Value::Object(req.claims.clone());
    let valid_until = req.valid_until.unwrap_or(old_until);
    check_request(
        agency,
        external_id,
        &citizen_id,
        &vct,
        &claims,
        Some(valid_until),
    )?;
    status_lists::set_document_status(&mut tx, &id, REVOKED).await?;
    withdraw_offers(&mut tx, &id).await?;
    // The state is kept: a data change never ends a suspension (docs/ISSUER_API.md, the
    // lifecycle table). A suspended document's new offer yields a credential once it is
    // reinstated.
    sqlx::query(
        "UPDATE documents SET claims = $1, content_hash = $2, version = $3, valid_until = $4 WHERE id = $5",
    )
    .bind(claims.to_string())
    .bind(content_hash(&citizen_id, &vct, &claims, Some(valid_until))?)
    .bind(version + 1)
    .bind(valid_until)
    .bind(&id)
    .execute(&mut *tx)
    .await?;
    create_offer(services, &mut tx, &id, version + 1, &vct, valid_until).await?;
    tx.commit().await?;
    response(services, &id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_row_insert_numbers_placeholders_and_puts_the_constant_sixth() {
        let head = "INSERT INTO t (a,b,c,d,e,s,f) VALUES ";
        assert_eq!(
            multi_row_insert(DbKind::Postgres, head, "'x'", 6, 2, " RETURNING a"),
            "INSERT INTO t (a,b,c,d,e,s,f) VALUES ($1,$2,$3,$4,$5,'x',$6),($7,$8,$9,$10,$11,'x',$12) RETURNING a"
        );
        assert_eq!(
            multi_row_insert(DbKind::Sqlite, head, "'x'", 6, 2, ""),
            "INSERT INTO t (a,b,c,d,e,s,f) VALUES (?,?,?,?,?,'x',?),(?,?,?,?,?,'x',?)"
        );
    }

    /// A code's stored hash starts with the code's time prefix, so offers made one after the
    /// other append to the `code_hash` index; a code made before time prefixes (plain
    /// base64url) keeps the hash stored for it then.
    #[test]
    fn code_hashes_sort_by_time_and_old_codes_keep_their_hash() {
        let master = secrets::MasterKey::from_bytes(&[7; secrets::MASTER_KEY_LEN]).unwrap();
        let a = secrets::time_prefixed_token().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = secrets::time_prefixed_token().unwrap();
        let (ha, hb) = (code_hash(&master, &a), code_hash(&master, &b));
        assert_eq!(
            ha,
            format!("{}{}", &a[..13], master.hash_secret(CODE_PURPOSE, &a))
        );
        assert!(ha < hb, "{ha} {hb}");
        let old = secrets::random_token("").unwrap();
        assert_eq!(
            code_hash(&master, &old),
            master.hash_secret(CODE_PURPOSE, &old)
        );
    }

    /// The content hash is stored with every document and compared on each re-publish: a
    /// change of its bytes would turn every replay of an older document into a conflict.
    /// The value is the hash the first implementation (a sorted copy of the claims inside
    /// `json!`) gave for this request.
    #[test]
    fn content_hash_keeps_its_bytes() {
        let req: PublishRequest = serde_json::from_str(
            r#"{"document_id":"d-1","citizen_id":"001099012345","vct":"https://giayto.gov.vn/vct/can_cuoc",
                "claims":{"z":1,"a":{"y":[{"b":2,"a":"Nguyễn \"x\""},3.5],"x":null},"m":true}}"#,
        )
        .unwrap();
        let hash = |req: &PublishRequest| {
            content_hash(
                &req.citizen_id,
                &req.vct,
                &Value::Object(req.claims.clone()),
                req.valid_until,
            )
            .unwrap()
        };
        assert_eq!(
            hash(&req),
            "e368056cbf9f0fdc981a704930d03093d0cbb3ddbe715dfb81ef94f6f99534f8"
        );
        let mut later = req.clone();
        later.valid_until = Some(1_900_000_000);
        assert_eq!(
            hash(&later),
            "a336cea16a279a7b75bbd90343cbba8342cdfa4b352c766f0861e6b0e2e5aec6"
        );
        // Members in another order: the same content.
        let mut reordered = req.clone();
        reordered.claims = req.claims.clone().into_iter().rev().collect();
        assert_eq!(hash(&reordered), hash(&req));
    }
}
