//! The `jwt` key proof (OpenID4VCI Appendix F.1): built by the wallet with the holder key,
//! verified by the issuer, which learns from it the key to bind the credential to.

use serde::{Deserialize, Deserializer, Serialize};

use super::error::IssuerErrorCode;
use crate::jose::jws::{self, CompactJws};
use crate::jose::{JoseError, Jwk, Signer, typ_matches};

/// The `typ` of a key proof JWT.
pub const PROOF_JWT_TYP: &str = "openid4vci-proof+jwt";

/// How far in the future a proof's `iat` may lie (clock skew), in seconds.
pub const MAX_PROOF_CLOCK_SKEW_SECS: u64 = 60;

/// The largest key proof accepted (a header JWK and three short claims fit in far less).
const MAX_PROOF_BYTES: usize = 8 * 1024;

/// The claims of a key proof JWT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofClaims {
    /// The wallet's `client_id`; omitted after anonymous pre-authorized access.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// The Credential Issuer identifier.
    pub aud: String,
    /// Issuance time, seconds since the Unix epoch.
    #[serde(deserialize_with = "numeric_date")]
    pub iat: u64,
    /// The server-provided `c_nonce`, when the issuer has a Nonce Endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

/// A NumericDate (RFC 7519 section 2) read by the one shared parser,
/// [`crate::jose::numeric_date`] (non-negative, fractions floored, bounded).
fn numeric_date<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let seconds = crate::jose::numeric_date::deserialize(d)?;
    u64::try_from(seconds).map_err(|_| serde::de::Error::custom("NumericDate is negative"))
}

/// Builds a key proof signed by `signer`: header `typ`, `alg` and the holder's public key
/// as `jwk` (no `kid`: the spec forbids it next to `jwk`).
pub fn build_proof_jwt(signer: &dyn Signer, claims: &ProofClaims) -> Result<String, JoseError> {
    let mut header = jws::header_with_typ(PROOF_JWT_TYP);
    let jwk = signer.public_jwk()?.to_public();
    header.insert(
        "jwk".into(),
        serde_json::to_value(&jwk).map_err(|e| JoseError::Json(e.to_string()))?,
    );
    let payload = serde_json::to_vec(claims).map_err(|e| JoseError::Json(e.to_string()))?;
    jws::sign_compact(header, &payload, signer)
}

/// Why a key proof was refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ProofError {
    /// Not a compact JWS, or refused by the JOSE layer (algorithm allow-list, `crit`,
    /// private key in the header, size).
    #[error("malformed key proof: {0}")]
    Malformed(JoseError),
    /// `typ` is not `openid4vci-proof+jwt`.
    #[error("key proof typ must be openid4vci-proof+jwt")]
    WrongType,
    /// No `jwk` header (this issuer binds credentials to JWKs only).
    #[error("key proof has no jwk header")]
    MissingKey,
    /// `kid` or `x5c` next to `jwk`.
    #[error("key proof carries kid or x5c next to jwk")]
    AmbiguousKey,
    /// The signature does not verify with the header key.
    #[error("key proof signature does not verify with its jwk")]
    BadSignature,
    /// The claims are missing or mistyped.
    #[error("invalid key proof claims: {0}")]
    InvalidClaims(String),
    /// `aud` is not this issuer.
    #[error("key proof is for another audience")]
    WrongAudience,
    /// `iat` lies too far in the future.
    #[error("key proof iat lies in the future")]
    IssuedInFuture,
    /// `iat` is older than allowed.
    #[error("key proof is too old")]
    Stale,
    /// No `nonce`, though the issuer has a Nonce Endpoint.
    #[error("key proof has no nonce")]
    MissingNonce,
    /// The `nonce` is not a valid, current `c_nonce`.
    #[error("key proof nonce is not valid")]
    InvalidNonce,
}

impl ProofError {
    /// The credential error code for this failure: `invalid_nonce` for a stale or unknown
    /// nonce (the wallet then fetches a fresh one), `invalid_proof` otherwise.
    pub fn error_code(&self) -> IssuerErrorCode {
        match self {
            ProofError::InvalidNonce => IssuerErrorCode::InvalidNonce,
            _ => IssuerErrorCode::InvalidProof,
        }
    }
}

/// Verifies a `jwt` key proof as an issuer with a Nonce Endpoint (OpenID4VCI Appendix F.4)
/// and returns the holder's public key to bind the credential to.
///
/// Checks: compact JWS on the algorithm allow-list (never `none` or HMAC), `typ` (compared
/// as a media type, RFC 7515 section 4.1.9), a
/// public `jwk` header and neither `kid` nor `x5c`, the signature with that key, `aud`
/// equal to `expected_aud`, `iat` no more than [`MAX_PROOF_CLOCK_SKEW_SECS`] ahead of
/// `now` and no more than `max_age` seconds behind it (a NumericDate, fractions floored),
/// and a `nonce` that `nonce_ok`
/// accepts (it should also consume single-use nonces). Times are Unix seconds.
pub fn verify_proof_jwt(
    proof: &str,
    expected_aud: &str,
    nonce_ok: impl Fn(&str) -> bool,
    now: u64,
    max_age: u64,
) -> Result<Jwk, ProofError> {
    let jws =
        CompactJws::parse_with_limit(proof, MAX_PROOF_BYTES).map_err(ProofError::Malformed)?;
    let header = jws.header();
    if !typ_matches(header.typ.as_deref(), PROOF_JWT_TYP) {
        return Err(ProofError::WrongType);
    }
    let jwk = header.jwk.clone().ok_or(ProofError::MissingKey)?;
    if header.kid.is_some() || header.raw.contains_key("x5c") {
        return Err(ProofError::AmbiguousKey);
    }
    if jwk.is_private() {
        return Err(ProofError::Malformed(JoseError::InvalidKey(
            "header jwk contains a private key",
        )));
    }
    jws.verify(&jwk).map_err(|e| match e {
        JoseError::BadSignature => ProofError::BadSignature,
        other => ProofError::Malformed(other),
    })?;
    let claims: ProofClaims = jws
        .payload_json()
        .map_err(|e| ProofError::InvalidClaims(e.to_string()))?;
    if claims.aud != expected_aud {
        return Err(ProofError::WrongAudience);
    }
    if claims.iat > now.saturating_add(MAX_PROOF_CLOCK_SKEW_SECS) {
        return Err(ProofError::IssuedInFuture);
    }
    if now.saturating_sub(claims.iat) > max_age {
        return Err(ProofError::Stale);
    }
    match claims.nonce.as_deref() {
        None => Err(ProofError::MissingNonce),
        Some(nonce) if nonce_ok(nonce) => Ok(jwk),
        Some(_) => Err(ProofError::InvalidNonce),
    }
}
