//! The envelope of an SD-JWT VC: the registered claims that say who issued what, for whom,
//! until when, and where its status is, read from the issuer-signed payload.

use serde_json::{Map, Value};

use crate::jose::Jwk;
use crate::sd_jwt::ProcessedPayload;
use crate::status_list::StatusReference;

/// Claims that the SD-JWT VC draft (section "Registered JWT Claims") forbids in
/// disclosures.
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

/// Why an SD-JWT VC envelope is not acceptable.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum VcError {
    /// A required envelope claim is absent or of the wrong type.
    #[error("SD-JWT VC claim {0} missing or invalid")]
    Claim(&'static str),
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
    /// `cnf.jwk`: the holder's public key, for key binding.
    pub holder_key: Option<Jwk>,
    /// `status.status_list`.
    pub status: Option<StatusReference>,
}

impl VcEnvelope {
    /// Reads the envelope from an issuer-signed payload (before processing: these claims
    /// must be plain there). With `require_vc`, `iss` and `vct` are required as SD-JWT VC
    /// demands; without it (a plain RFC 9901 SD-JWT), absent ones read as empty strings.
    pub fn read(payload: &Map<String, Value>, require_vc: bool) -> Result<VcEnvelope, VcError> {
        let string = |name: &'static str| match payload.get(name) {
            Some(Value::String(s)) => Ok(s.clone()),
            None if !require_vc => Ok(String::new()),
            _ => Err(VcError::Claim(name)),
        };
        let time = |name: &'static str| match payload.get(name) {
            None => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or(VcError::Claim(name)),
        };
        let holder_key = match payload.get("cnf") {
            None => None,
            Some(Value::Object(cnf)) => match cnf.get("jwk") {
                Some(jwk) => {
                    let jwk: Jwk =
                        serde_json::from_value(jwk.clone()).map_err(|_| VcError::BadHolderKey)?;
                    if jwk.is_private() || jwk.algorithm().is_err() {
                        return Err(VcError::BadHolderKey);
                    }
                    Some(jwk)
                }
                None => return Err(VcError::BadHolderKey),
            },
            Some(_) => return Err(VcError::Claim("cnf")),
        };
        let status = match payload.get("status") {
            None => None,
            Some(Value::Object(status)) => match status.get("status_list") {
                Some(list) => Some(
                    serde_json::from_value(list.clone()).map_err(|_| VcError::Claim("status"))?,
                ),
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
            holder_key,
            status,
        })
    }
}

/// Refuses a presentation in which a protected claim came from a disclosure.
pub fn check_no_protected_disclosed(processed: &ProcessedPayload) -> Result<(), VcError> {
    for claim in &processed.disclosed {
        if let [crate::sd_jwt::PathSegment::Key(name)] = claim.path.0.as_slice()
            && PROTECTED_CLAIMS.contains(&name.as_str())
        {
            return Err(VcError::ProtectedClaimDisclosed(name.clone()));
        }
    }
    Ok(())
}
