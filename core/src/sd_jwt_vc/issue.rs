//! Issuing SD-JWT VCs: [`issue_vc`] for any type (offline issuers, tests, other schemas),
//! [`issue_document`] for catalogue documents, which checks the claims against the
//! document's schema, adds the age predicates and applies its disclosability, and
//! [`issue_purpose`] for a purpose credential of a catalogue document (one preset's claims,
//! none selectively disclosable; see [`crate::catalogue::Purpose`]).

use serde_json::{Map, Value};

use super::{PROTECTED_CLAIMS, SD_JWT_VC_TYP};
use crate::catalogue::{self, CivilDate, DocumentType, Purpose, SchemaError};
use crate::jose::{Jwk, Signer, jws};
use crate::sd_jwt::{self, IssueOptions, SdJwt, SdJwtError};
use crate::status_list::StatusReference;

/// Vietnam's UTC offset: a document's "today" (for age predicates) is the civil date in
/// Vietnam at the time of issuance.
const VIETNAM_UTC_OFFSET_SECONDS: i64 = 7 * 3600;

/// How catalogue documents are issued: SHA-256 and no decoy digests. A catalogue type's
/// schema is public and its claims are mostly required, so the digest count reveals little
/// more than which optional claims are present, while every decoy costs 32 bytes (about 48
/// QR characters) in every presentation of the document.
pub const CATALOGUE_ISSUE_OPTIONS: IssueOptions = IssueOptions {
    hash_alg: crate::sd_jwt::HashAlg::Sha256,
    max_decoys_per_object: 0,
};

/// What an issuer asks to be signed.
#[derive(Debug, Clone)]
pub struct IssueRequest {
    /// `iss`: the issuer identifier (its public URL).
    pub issuer: String,
    /// `vct`: the document type.
    pub vct: String,
    /// The document's claims, as the agency sent them.
    pub claims: Map<String, Value>,
    /// The holder's public key for `cnf.jwk`.
    pub holder_jwk: Option<Jwk>,
    /// The credential's status-list entry.
    pub status: Option<StatusReference>,
    /// `iat`, Unix seconds.
    pub issued_at: i64,
    /// `nbf`, Unix seconds.
    pub not_before: Option<i64>,
    /// `exp`, Unix seconds.
    pub expires_at: Option<i64>,
}

/// Why a credential could not be issued.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// The `vct` is not in the catalogue.
    #[error("unknown document type {0:?}")]
    UnknownType(String),
    /// The document type has no purpose credential of this name (`full` never has one).
    #[error("document type {vct} has no purpose {preset:?}")]
    UnknownPurpose {
        /// The document type.
        vct: String,
        /// The preset asked for.
        preset: String,
    },
    /// The claims do not fit the document's schema (the message names the field).
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// A document claim uses an envelope claim name.
    #[error("claim {0:?} is reserved for the SD-JWT VC envelope")]
    ReservedClaim(String),
    /// An envelope claim was asked to be selectively disclosable.
    #[error("claim {0:?} must not be selectively disclosable")]
    ProtectedClaimDisclosable(String),
    /// The issuance time is outside the calendar the catalogue handles.
    #[error("issuance time {0} is out of range")]
    BadIssuanceTime(i64),
    /// The holder key is private or unusable.
    #[error("holder key must be a public P-256 or Ed25519 JWK")]
    BadHolderKey,
    /// Building or signing the SD-JWT failed.
    #[error(transparent)]
    SdJwt(#[from] SdJwtError),
}

/// Issues a catalogue document: schema check, age predicates, the type's disclosable
/// claims, signed as `dc+sd-jwt`. Returns the compact SD-JWT (ending with `~`).
pub fn issue_document(request: &IssueRequest, signer: &dyn Signer) -> Result<String, IssueError> {
    issue_checked(request, None, signer)
}

/// The document's checked claims, with `representation` added in the clear when given,
/// issued with the catalogue's disclosable paths.
fn issue_checked(
    request: &IssueRequest,
    representation: Option<Value>,
    signer: &dyn Signer,
) -> Result<String, IssueError> {
    let (document, mut claims) = prepare(request)?;
    if let Some(representation) = representation {
        claims.insert(REPRESENTATION_CLAIM.to_owned(), representation);
    }
    let sd_jwt = issue_envelope(
        request,
        &request.vct,
        claims,
        &document.disclosable_paths(),
        signer,
        CATALOGUE_ISSUE_OPTIONS,
    )?;
    Ok(sd_jwt.to_compact())
}

/// The claim naming who holds a credential on the subject's behalf (issue 14: a guardian
/// holding a child's document, after the EUDI ARF topic 29 "representation"). Never
/// selectively disclosable, so every presentation shows it.
pub const REPRESENTATION_CLAIM: &str = "representation";

/// Issues a catalogue document (as [`issue_document`]) to a representative of its subject:
/// `representation` (a JSON object naming the representative) is added as the
/// [`REPRESENTATION_CLAIM`], in the clear, beside the document's own checked claims; the
/// credential is bound to the representative's key (`request.holder_jwk`).
pub fn issue_document_to_representative(
    request: &IssueRequest,
    representation: Value,
    signer: &dyn Signer,
) -> Result<String, IssueError> {
    issue_checked(request, Some(representation), signer)
}

/// Issues the purpose credential `preset` of a catalogue document: `request` is the same as
/// for [`issue_document`] (the document's own `vct` and all its claims, checked against the
/// schema); the credential gets the purpose `vct` (`<vct>/<preset>`), only the preset's
/// claims, and no selectively disclosable claim, hence no `_sd`, no `_sd_alg` and no
/// Disclosure (draft-ietf-oauth-sd-jwt-vc, "SD-JWT VC without Selectively Disclosable
/// Claims"; RFC 9901 section 4.1.1: without `_sd_alg` the hash is SHA-256). `iss`, `iat`,
/// `nbf`, `exp`, `cnf` and `status` are taken from `request` as for the full credential; the
/// caller gives each purpose credential its own holder key and status index.
///
/// Returns the compact SD-JWT (ending with `~`). Errors: [`IssueError::UnknownPurpose`]
/// for `full` or a preset the type lacks, and the errors of [`issue_document`].
pub fn issue_purpose(
    request: &IssueRequest,
    preset: &str,
    signer: &dyn Signer,
) -> Result<String, IssueError> {
    let (document, claims) = prepare(request)?;
    let purpose = Purpose::of(document, preset).ok_or_else(|| IssueError::UnknownPurpose {
        vct: request.vct.clone(),
        preset: preset.to_owned(),
    })?;
    let sd_jwt = issue_envelope(
        request,
        &purpose.vct(),
        purpose.claims(&claims)?,
        &[] as &[&str],
        signer,
        CATALOGUE_ISSUE_OPTIONS,
    )?;
    Ok(sd_jwt.to_compact())
}

/// The catalogue type of `request.vct` and its claims checked and completed for signing.
fn prepare(
    request: &IssueRequest,
) -> Result<(&'static DocumentType, Map<String, Value>), IssueError> {
    let document = catalogue::by_vct(&request.vct)
        .ok_or_else(|| IssueError::UnknownType(request.vct.clone()))?;
    let today = civil_date(request.issued_at.saturating_add(VIETNAM_UTC_OFFSET_SECONDS))
        .ok_or(IssueError::BadIssuanceTime(request.issued_at))?;
    let claims = document.prepare_object(&request.claims, today)?;
    Ok((document, claims))
}

/// Issues an SD-JWT VC of any type: the envelope from `request`, its claims with those at
/// `disclosable` paths made selectively disclosable. With no `disclosable` path the
/// payload is signed as it is, without `_sd_alg` (draft-ietf-oauth-sd-jwt-vc, "SD-JWT VC
/// without Selectively Disclosable Claims"), unless `options` asks for a hash other than
/// the default SHA-256, which a key-binding JWT's `sd_hash` then uses.
pub fn issue_vc(
    request: &IssueRequest,
    disclosable: &[impl AsRef<str>],
    signer: &dyn Signer,
    options: IssueOptions,
) -> Result<SdJwt, IssueError> {
    issue_envelope(
        request,
        &request.vct,
        request.claims.clone(),
        disclosable,
        signer,
        options,
    )
}

/// [`issue_vc`] with `vct` and `claims` given apart from `request` (whose own are not
/// read): the claims are moved into the payload, never copied.
fn issue_envelope(
    request: &IssueRequest,
    vct: &str,
    claims: Map<String, Value>,
    disclosable: &[impl AsRef<str>],
    signer: &dyn Signer,
    options: IssueOptions,
) -> Result<SdJwt, IssueError> {
    for path in disclosable {
        let top = path.as_ref().split('/').next().unwrap_or_default();
        if PROTECTED_CLAIMS.contains(&top) {
            return Err(IssueError::ProtectedClaimDisclosable(top.to_owned()));
        }
    }
    let mut payload = Map::new();
    payload.insert("iss".into(), Value::String(request.issuer.clone()));
    payload.insert("iat".into(), Value::from(request.issued_at));
    if let Some(nbf) = request.not_before {
        payload.insert("nbf".into(), Value::from(nbf));
    }
    if let Some(exp) = request.expires_at {
        payload.insert("exp".into(), Value::from(exp));
    }
    payload.insert("vct".into(), Value::String(vct.to_owned()));
    if let Some(holder) = &request.holder_jwk {
        if holder.is_private() || holder.algorithm().is_err() {
            return Err(IssueError::BadHolderKey);
        }
        let mut cnf = Map::new();
        // Only the key itself: a kid or alg in cnf.jwk would cost QR space and add nothing.
        let mut holder = holder.to_public();
        holder.kid = None;
        holder.alg = None;
        holder.use_ = None;
        cnf.insert(
            "jwk".into(),
            serde_json::to_value(&holder).map_err(|_| IssueError::BadHolderKey)?,
        );
        payload.insert("cnf".into(), Value::Object(cnf));
    }
    if let Some(status) = &request.status {
        let mut wrapper = Map::new();
        wrapper.insert(
            "status_list".into(),
            serde_json::json!({"idx": status.idx, "uri": status.uri}),
        );
        payload.insert("status".into(), Value::Object(wrapper));
    }
    for (name, value) in claims {
        if PROTECTED_CLAIMS.contains(&name.as_str()) || payload.contains_key(&name) {
            return Err(IssueError::ReservedClaim(name));
        }
        payload.insert(name, value);
    }
    if disclosable.is_empty() && options.hash_alg == crate::sd_jwt::HashAlg::Sha256 {
        refuse_sd_names(&payload)?;
        let payload_json = serde_json::to_vec(&payload).map_err(|e| SdJwtError::Json {
            context: "payload",
            reason: e.to_string(),
        })?;
        let issuer_jwt =
            jws::sign_compact(jws::header_with_typ(SD_JWT_VC_TYP), &payload_json, signer)
                .map_err(SdJwtError::jose("issuer-signed JWT"))?;
        return Ok(SdJwt::from_parts(issuer_jwt, Vec::new()));
    }
    Ok(sd_jwt::issue(
        jws::header_with_typ(SD_JWT_VC_TYP),
        payload,
        disclosable,
        signer,
        options,
    )?)
}

/// Refuses the names RFC 9901 reserves (`_sd`, `...`, `_sd_alg`) at any depth, as
/// [`sd_jwt::issue`] does, for a payload signed without it.
fn refuse_sd_names(object: &Map<String, Value>) -> Result<(), SdJwtError> {
    fn walk(value: &Value) -> Result<(), SdJwtError> {
        match value {
            Value::Object(object) => refuse_sd_names(object),
            Value::Array(items) => items.iter().try_for_each(walk),
            _ => Ok(()),
        }
    }
    for (name, value) in object {
        if matches!(name.as_str(), "_sd" | "..." | "_sd_alg") {
            return Err(SdJwtError::ReservedClaimName(name.clone()));
        }
        walk(value)?;
    }
    Ok(())
}

/// The civil (proleptic Gregorian) date of a Unix time, by the days-from-civil inverse of
/// H. Hinnant's `chrono`-compatible algorithm.
fn civil_date(unix_seconds: i64) -> Option<CivilDate> {
    let days = unix_seconds.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    CivilDate::new(
        u16::try_from(year).ok()?,
        u8::try_from(month).ok()?,
        u8::try_from(day).ok()?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), CivilDate::new(1970, 1, 1));
        assert_eq!(civil_date(951_782_400), CivilDate::new(2000, 2, 29));
        assert_eq!(civil_date(1_795_421_105), CivilDate::new(2026, 11, 23));
        assert_eq!(civil_date(1_709_251_199), CivilDate::new(2024, 2, 29));
        assert_eq!(civil_date(1_709_251_200), CivilDate::new(2024, 3, 1));
        // 2024-03-01 00:30 in Hanoi is still 2024-02-29 in UTC.
        assert_eq!(
            civil_date(1_709_227_800 + VIETNAM_UTC_OFFSET_SECONDS),
            CivilDate::new(2024, 3, 1)
        );
    }
}
