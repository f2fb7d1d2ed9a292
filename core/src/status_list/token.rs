//! Status List Tokens in JWT format (draft section "Status List Token in JWT Format"): building
//! the claims, signing through the [`Signer`] seam, and verifying a fetched token.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Status, StatusList, StatusListError};
use crate::jose::jws::{self, CompactJws};
use crate::jose::{JoseError, Jwk, Jwks, NumericDateError, Signer, typ_matches};

/// The JWT `typ` of a Status List Token.
pub const STATUS_LIST_JWT_TYP: &str = "statuslist+jwt";

/// Largest Status List Token accepted, on every path (see [`crate::limits`]).
pub use crate::limits::MAX_STATUS_LIST_TOKEN_BYTES;

/// The JSON `StatusList` (draft section "Status List in JSON Format").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusListClaim {
    /// Bits per Referenced Token: 1, 2, 4 or 8.
    pub bits: u8,
    /// The compressed byte array, base64url.
    pub lst: String,
    /// URI of the Status List Aggregation, if the issuer publishes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregation_uri: Option<String>,
}

/// The claims of a Status List Token in JWT format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusListToken {
    /// Issuer, optional (the draft's example carries one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// URI of this Status List Token; equals the `uri` in each Referenced Token.
    pub sub: String,
    /// Issued at, seconds since the epoch.
    #[serde(deserialize_with = "crate::jose::numeric_date::deserialize")]
    pub iat: i64,
    /// Expiry, seconds since the epoch (RECOMMENDED).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::jose::numeric_date::deserialize_option"
    )]
    pub exp: Option<i64>,
    /// How long, in seconds, a consumer may cache the token before fetching it again
    /// (RECOMMENDED; positive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u64>,
    /// The Status List.
    pub status_list: StatusListClaim,
}

/// Builds the claims of a Status List Token for `list` published at `uri`, as a JSON object
/// ready to be signed with header `typ: statuslist+jwt` (see [`sign_token`]).
pub fn build_claims(
    uri: &str,
    list: &StatusList,
    iat: i64,
    exp: Option<i64>,
    ttl: Option<u64>,
) -> Result<Map<String, Value>, StatusListError> {
    build_claims_with_aggregation(uri, list, iat, exp, ttl, None)
}

/// [`build_claims`] with the list's `aggregation_uri` (draft section "Status List in JSON
/// Format" and "Status List Parameter": the URI of the Status List Aggregation a Relying
/// Party fetches to learn every list of this issuer before meeting them).
pub fn build_claims_with_aggregation(
    uri: &str,
    list: &StatusList,
    iat: i64,
    exp: Option<i64>,
    ttl: Option<u64>,
    aggregation_uri: Option<&str>,
) -> Result<Map<String, Value>, StatusListError> {
    if ttl == Some(0) {
        return Err(StatusListError::InvalidClaim("ttl"));
    }
    if exp.is_some_and(|exp| exp <= iat) {
        return Err(StatusListError::InvalidClaim("exp"));
    }
    let claims = StatusListToken {
        iss: None,
        sub: uri.to_owned(),
        iat,
        exp,
        ttl,
        status_list: StatusListClaim {
            bits: list.bits(),
            lst: list.encode_lst()?,
            aggregation_uri: aggregation_uri.map(str::to_owned),
        },
    };
    match serde_json::to_value(claims) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(StatusListError::InvalidClaim("status_list")),
    }
}

/// Builds and signs a Status List Token (`typ: statuslist+jwt`, `kid` from the signer).
pub fn sign_token(
    uri: &str,
    list: &StatusList,
    iat: i64,
    exp: Option<i64>,
    ttl: Option<u64>,
    signer: &dyn Signer,
) -> Result<String, StatusListError> {
    sign_token_with_aggregation(uri, list, iat, exp, ttl, None, signer)
}

/// [`sign_token`] with the list's `aggregation_uri` (see [`build_claims_with_aggregation`]).
pub fn sign_token_with_aggregation(
    uri: &str,
    list: &StatusList,
    iat: i64,
    exp: Option<i64>,
    ttl: Option<u64>,
    aggregation_uri: Option<&str>,
    signer: &dyn Signer,
) -> Result<String, StatusListError> {
    let claims = build_claims_with_aggregation(uri, list, iat, exp, ttl, aggregation_uri)?;
    let payload = serde_json::to_vec(&claims).map_err(|e| JoseError::Json(e.to_string()))?;
    Ok(jws::sign_compact(
        jws::header_with_typ(STATUS_LIST_JWT_TYP),
        &payload,
        signer,
    )?)
}

/// A Status List Token whose signature, type, subject and validity were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedStatusList {
    /// The token's `sub`, equal to the Referenced Token's `uri`.
    pub uri: String,
    /// `iat` of the token.
    pub iat: i64,
    /// `exp` of the token, if any.
    pub exp: Option<i64>,
    /// `ttl` of the token, if any.
    pub ttl: Option<u64>,
    /// `aggregation_uri` of the list, if any.
    pub aggregation_uri: Option<String>,
    /// The decoded list.
    pub list: StatusList,
    /// The RFC 7638 thumbprint of the key whose signature verified, so a verifier can
    /// require that the Referenced Token's own issuer signed its status list.
    pub signer: String,
}

impl VerifiedStatusList {
    /// The status of entry `idx`, or `None` when `idx` is beyond the list (the draft then
    /// requires the Referenced Token to be rejected).
    pub fn status(&self, idx: u64) -> Option<Status> {
        self.list.status(idx)
    }
}

/// Longest token-supplied string repeated in an error message.
const MAX_ECHO: usize = 256;

fn echo(text: &str) -> String {
    text.chars().take(MAX_ECHO).collect()
}

/// Verifies a Status List Token in JWT format for a Referenced Token whose
/// `status.status_list.uri` is `expected_uri`, following the draft's "Validation Rules":
/// the token is at most [`MAX_STATUS_LIST_TOKEN_BYTES`]; `typ` is `statuslist+jwt` (compared
/// as a media type, RFC 7515 section 4.1.9: see [`typ_matches`]);
/// the signature verifies with a key of `issuer_keys` (the one its `kid` names, else any);
/// `sub` equals `expected_uri`; `iat` is present; `exp`, if present, is after `now`; `nbf`, if
/// present, is not after `now` (dates read as RFC 7519 NumericDates, fractions floored: see
/// [`crate::jose::numeric_date`]); `ttl`, if present, is positive; and the list decodes.
pub fn verify_token(
    token: &str,
    expected_uri: &str,
    issuer_keys: &Jwks,
    now: i64,
) -> Result<VerifiedStatusList, StatusListError> {
    let jws = CompactJws::parse_with_limit(token, MAX_STATUS_LIST_TOKEN_BYTES)?;
    let typ = jws.header().typ.as_deref();
    if !typ_matches(typ, STATUS_LIST_JWT_TYP) {
        return Err(StatusListError::WrongType {
            found: typ.map(echo),
        });
    }
    let signer = verify_signature(&jws, issuer_keys)?.thumbprint()?;

    let claims: Map<String, Value> = jws.payload_json()?;
    let sub = match claims.get("sub") {
        None => return Err(StatusListError::MissingClaim("sub")),
        Some(Value::String(sub)) => sub,
        Some(_) => return Err(StatusListError::InvalidClaim("sub")),
    };
    if sub != expected_uri {
        return Err(StatusListError::SubjectMismatch {
            expected: echo(expected_uri),
            found: echo(sub),
        });
    }
    let iat = numeric_date(&claims, "iat")?.ok_or(StatusListError::MissingClaim("iat"))?;
    let exp = numeric_date(&claims, "exp")?;
    if let Some(exp) = exp
        && now >= exp
    {
        return Err(StatusListError::Expired { exp });
    }
    if let Some(nbf) = numeric_date(&claims, "nbf")?
        && now < nbf
    {
        return Err(StatusListError::NotYetValid { nbf });
    }
    let ttl = match claims.get("ttl") {
        None => None,
        Some(value) => match value.as_u64() {
            Some(ttl) if ttl > 0 => Some(ttl),
            _ => return Err(StatusListError::InvalidClaim("ttl")),
        },
    };
    let status_list = match claims.get("status_list") {
        None => return Err(StatusListError::MissingClaim("status_list")),
        Some(Value::Object(object)) => object,
        Some(_) => return Err(StatusListError::InvalidClaim("status_list")),
    };
    let bits = match status_list.get("bits") {
        None => return Err(StatusListError::MissingClaim("bits")),
        Some(bits) => bits.as_u64().ok_or(StatusListError::InvalidClaim("bits"))?,
    };
    let lst = match status_list.get("lst") {
        None => return Err(StatusListError::MissingClaim("lst")),
        Some(Value::String(lst)) => lst,
        Some(_) => return Err(StatusListError::InvalidClaim("lst")),
    };
    let aggregation_uri = match status_list.get("aggregation_uri") {
        None => None,
        Some(Value::String(uri)) => Some(uri.clone()),
        Some(_) => return Err(StatusListError::InvalidClaim("aggregation_uri")),
    };
    let list = StatusList::decode(bits, lst)?;
    Ok(VerifiedStatusList {
        uri: sub.clone(),
        iat,
        exp,
        ttl,
        aggregation_uri,
        list,
        signer,
    })
}

/// The key of `issuer_keys` that verifies the token's signature.
fn verify_signature<'k>(
    jws: &CompactJws,
    issuer_keys: &'k Jwks,
) -> Result<&'k Jwk, StatusListError> {
    // The issuer-signed JWT's rule (`verifier::verify_presentation`): the key the `kid`
    // names, else every key (a key given without its `kid`, such as `--issuer-jwk`); the
    // signature decides.
    let kid = jws.header().kid.as_deref();
    if let Some(key) = kid.and_then(|kid| issuer_keys.find(kid)) {
        jws.verify(key).map_err(signature_error)?;
        return Ok(key);
    }
    issuer_keys
        .keys
        .iter()
        .find(|key| jws.verify(key).is_ok())
        .ok_or_else(|| match kid {
            Some(kid) => StatusListError::UnknownKey { kid: echo(kid) },
            None => StatusListError::BadSignature,
        })
}

fn signature_error(error: JoseError) -> StatusListError {
    match error {
        JoseError::BadSignature => StatusListError::BadSignature,
        other => StatusListError::Jose(other),
    }
}

/// A NumericDate claim (RFC 7519 section 2), if present.
fn numeric_date(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<i64>, StatusListError> {
    crate::jose::numeric_date_claim(claims, name).map_err(|reason: NumericDateError| {
        StatusListError::InvalidDate {
            claim: name,
            reason,
        }
    })
}
