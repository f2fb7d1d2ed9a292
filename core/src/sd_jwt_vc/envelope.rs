//! The envelope of an SD-JWT VC: the registered claims that say who issued what, for whom,
//! until when, and where its status is, read from the Processed SD-JWT Payload (RFC 9901
//! section 7.1 step 6: validity is checked "using claims such as `nbf`, `exp`, and `aud` in
//! the processed payload"), so a claim counts the same whether it arrived in the clear or
//! in a disclosure.
//!
//! Which claims may arrive in a disclosure, per profile:
//! - SD-JWT VC (section "Registered JWT Claims"): `iss`, `nbf`, `exp`, `cnf`, `vct`,
//!   `vct#integrity`, `aka_vcts` and `status`, "including any of their sub-claims, ... MUST
//!   NOT be included in Disclosures": [`check_no_protected_disclosed`] refuses such a
//!   presentation. `iat` and `sub` MAY be disclosed and are honoured from the processed
//!   payload. `aud` is on neither list; RFC 9901 (section "Selectively-Disclosable Validity
//!   Claims") lets issuers make its entries disclosable, so it is honoured from the processed
//!   payload too.
//! - plain SD-JWT (RFC 9901 alone): no claim is forbidden in a disclosure; every one above
//!   is honoured from the processed payload.

use serde::Deserialize as _;
use serde_json::{Map, Value};

use crate::jose::{Jwk, NumericDateError, numeric_date};
use crate::sd_jwt::ProcessedPayload;
use crate::status_list::StatusReference;

/// Claims that SD-JWT VC (section "Registered JWT Claims") forbids in disclosures, with
/// their sub-claims.
pub const PROTECTED_CLAIMS: [&str; 8] = [
    "iss",
    "nbf",
    "exp",
    "cnf",
    "vct",
    "vct#integrity",
    "aka_vcts",
    "status",
];

/// Registered claims the verifier acts on (or that describe the credential rather than its
/// subject): never listed among the subject's claims.
pub const ENVELOPE_CLAIMS: [&str; 10] = [
    "iss",
    "iat",
    "nbf",
    "exp",
    "aud",
    "cnf",
    "vct",
    "vct#integrity",
    "aka_vcts",
    "status",
];

/// Why an SD-JWT VC envelope is not acceptable.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum VcError {
    /// A required envelope claim is absent or of the wrong type.
    #[error("SD-JWT VC claim {0} missing or invalid")]
    Claim(&'static str),
    /// A date claim (`iat`, `nbf`, `exp`) is not a valid NumericDate (RFC 7519 section 2).
    #[error("claim {claim} {reason}")]
    Date {
        /// The claim.
        claim: &'static str,
        /// Why it was refused.
        reason: NumericDateError,
    },
    /// A claim that must always be visible was sent as a disclosure.
    #[error("claim {0} must not be selectively disclosed")]
    ProtectedClaimDisclosed(String),
    /// The `cnf` claim does not hold a usable public JWK.
    #[error("cnf.jwk is not a usable public key")]
    BadHolderKey,
}

/// The envelope claims of an SD-JWT VC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VcEnvelope {
    /// `iss`: the issuer identifier.
    pub iss: String,
    /// `vct`: the credential type.
    pub vct: String,
    /// `iat`.
    pub iat: Option<i64>,
    /// `nbf`.
    pub nbf: Option<i64>,
    /// `exp`.
    pub exp: Option<i64>,
    /// `aud` (RFC 7519 section 4.1.3: one string or an array of strings), if present.
    pub aud: Option<Vec<String>>,
    /// `cnf.jwk`: the holder's public key, for key binding.
    pub holder_key: Option<Jwk>,
    /// `status.status_list`.
    pub status: Option<StatusReference>,
}

impl VcEnvelope {
    /// Reads the envelope from the Processed SD-JWT Payload (`ProcessedPayload::claims`, see
    /// the module documentation). With `require_vc`, `iss` and `vct` are required as SD-JWT
    /// VC demands; without it (a plain RFC 9901 SD-JWT), absent ones read as empty strings.
    /// Dates are RFC 7519 NumericDates ([`crate::jose::numeric_date`]: fractions floored).
    pub fn read(payload: &Map<String, Value>, require_vc: bool) -> Result<VcEnvelope, VcError> {
        // One pass over the claims finds the envelope's (instead of one look-up each).
        let mut found: [Option<&Value>; ENVELOPE_CLAIMS.len()] = [None; ENVELOPE_CLAIMS.len()];
        for (name, value) in payload {
            if let Some(slot) = ENVELOPE_CLAIMS.iter().position(|claim| claim == name) {
                found[slot] = Some(value);
            }
        }
        let get = |name: &str| {
            ENVELOPE_CLAIMS
                .iter()
                .position(|claim| *claim == name)
                .and_then(|slot| found[slot])
        };
        let string = |name: &'static str| match get(name) {
            Some(Value::String(s)) => Ok(s.clone()),
            None if !require_vc => Ok(String::new()),
            _ => Err(VcError::Claim(name)),
        };
        let time = |claim: &'static str| {
            get(claim)
                .map(numeric_date)
                .transpose()
                .map_err(|reason| VcError::Date { claim, reason })
        };
        let aud = match get("aud") {
            None => None,
            Some(Value::String(aud)) => Some(vec![aud.clone()]),
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .map(|item| item.as_str().map(str::to_owned))
                    .collect::<Option<Vec<String>>>()
                    .ok_or(VcError::Claim("aud"))?,
            ),
            Some(_) => return Err(VcError::Claim("aud")),
        };
        let holder_key = match get("cnf") {
            None => None,
            Some(Value::Object(cnf)) => match cnf.get("jwk") {
                Some(jwk) => {
                    let jwk = Jwk::deserialize(jwk).map_err(|_| VcError::BadHolderKey)?;
                    if jwk.is_private() || jwk.algorithm().is_err() {
                        return Err(VcError::BadHolderKey);
                    }
                    Some(jwk)
                }
                None => return Err(VcError::BadHolderKey),
            },
            Some(_) => return Err(VcError::Claim("cnf")),
        };
        let status = match get("status") {
            None => None,
            Some(Value::Object(status)) => match status.get("status_list") {
                Some(list) => {
                    Some(StatusReference::deserialize(list).map_err(|_| VcError::Claim("status"))?)
                }
                // Other status mechanisms are not understood; they are not a status list.
                None => None,
            },
            Some(_) => return Err(VcError::Claim("status")),
        };
        Ok(VcEnvelope {
            iss: string("iss")?,
            vct: string("vct")?,
            iat: time("iat")?,
            nbf: time("nbf")?,
            exp: time("exp")?,
            aud,
            holder_key,
            status,
        })
    }
}

/// Refuses a presentation in which a protected claim, or any of its sub-claims (such as
/// `cnf.jwk` or `status.status_list`), came from a disclosure (SD-JWT VC section
/// "Registered JWT Claims").
pub fn check_no_protected_disclosed(processed: &ProcessedPayload) -> Result<(), VcError> {
    for claim in &processed.disclosed {
        if let Some(crate::sd_jwt::PathSegment::Key(name)) = claim.path.0.first()
            && PROTECTED_CLAIMS.contains(&name.as_str())
        {
            return Err(VcError::ProtectedClaimDisclosed(name.clone()));
        }
    }
    Ok(())
}
