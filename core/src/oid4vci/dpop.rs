//! DPoP proofs (RFC 9449, OAuth 2.0 Demonstrating Proof of Possession): built by a wallet
//! with its account key for each token or resource request, verified by the issuer, which
//! binds access and refresh tokens to the key's RFC 7638 thumbprint (`jkt`). One
//! implementation for both sides, on the project's [`crate::jose`] module.

use ring::digest::{SHA256, digest};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Deserializer, Serialize};

use crate::jose::jws::{self, CompactJws};
use crate::jose::{Algorithm, JoseError, Jwk, Signer, b64, typ_matches};

/// The `typ` of a DPoP proof JWT (RFC 9449 section 4.2).
pub const DPOP_JWT_TYP: &str = "dpop+jwt";
/// The HTTP header carrying a DPoP proof (RFC 9449 section 4.1).
pub const DPOP_HEADER: &str = "DPoP";
/// The `token_type` of a DPoP-bound access token (RFC 9449 section 5) and the
/// `Authorization` scheme that presents it (section 7.1).
pub const DPOP_TOKEN_TYPE: &str = "DPoP";
/// How far in the future a proof's `iat` may lie (clock skew), seconds.
pub const MAX_DPOP_CLOCK_SKEW_SECS: i64 = 60;
/// How old a proof's `iat` may be, seconds (RFC 9449 section 11.1 leaves the window to the
/// server; a proof is made just before its request).
pub const MAX_DPOP_AGE_SECS: i64 = 300;
/// The longest `jti` accepted (a wallet sends 22 characters: 128 random bits).
pub const MAX_JTI_CHARS: usize = 128;
/// The largest proof accepted (a header JWK and five short claims fit in far less).
const MAX_DPOP_BYTES: usize = 8 * 1024;

/// The claims of a DPoP proof (RFC 9449 section 4.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DpopClaims {
    /// A unique identifier of this proof (replay detection).
    pub jti: String,
    /// The HTTP method of the request (`GET`, `POST`).
    pub htm: String,
    /// The HTTP target URI of the request, without query and fragment.
    pub htu: String,
    /// Creation time, Unix seconds.
    #[serde(deserialize_with = "numeric_date")]
    pub iat: i64,
    /// The base64url SHA-256 of the access token, on resource requests (section 4.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ath: Option<String>,
}

fn numeric_date<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    crate::jose::numeric_date::deserialize(d)
}

/// The `ath` of an access token: base64url of the SHA-256 of its ASCII bytes (RFC 9449
/// section 4.2).
pub fn access_token_hash(access_token: &str) -> String {
    b64::encode(digest(&SHA256, access_token.as_bytes()))
}

/// A fresh `jti`: 128 random bits, base64url (22 characters).
pub fn new_jti() -> Result<String, JoseError> {
    let mut jti = [0u8; 16];
    SystemRandom::new()
        .fill(&mut jti)
        .map_err(|_| JoseError::Signing("no system randomness for the DPoP jti".into()))?;
    Ok(b64::encode(jti))
}

/// Builds a DPoP proof for a request of `htm` to `htu` (query and fragment are removed, as
/// section 4.2 asks) at `iat` (Unix seconds), with a fresh 128-bit random `jti`, and `ath`
/// for `access_token` when one is presented. The header carries the public key as `jwk`.
pub fn build_dpop_proof(
    signer: &dyn Signer,
    htm: &str,
    htu: &str,
    iat: i64,
    access_token: Option<&str>,
) -> Result<String, JoseError> {
    build_dpop_proof_with_jti(signer, htm, htu, iat, access_token, &new_jti()?)
}

/// [`build_dpop_proof`] with the caller's `jti` (from [`new_jti`]): the same inputs give
/// the same signing input, for a key that signs asynchronously in two passes.
pub fn build_dpop_proof_with_jti(
    signer: &dyn Signer,
    htm: &str,
    htu: &str,
    iat: i64,
    access_token: Option<&str>,
    jti: &str,
) -> Result<String, JoseError> {
    let claims = DpopClaims {
        jti: jti.to_owned(),
        htm: htm.to_owned(),
        htu: target_uri(htu).to_owned(),
        iat,
        ath: access_token.map(access_token_hash),
    };
    let mut header = jws::header_with_typ(DPOP_JWT_TYP);
    let jwk = signer.public_jwk()?.to_public();
    header.insert(
        "jwk".into(),
        serde_json::to_value(&jwk).map_err(|e| JoseError::Json(e.to_string()))?,
    );
    let payload = serde_json::to_vec(&claims).map_err(|e| JoseError::Json(e.to_string()))?;
    jws::sign_compact(header, &payload, signer)
}

/// `uri` without its query and fragment (RFC 9449 section 4.2, `htu`).
pub fn target_uri(uri: &str) -> &str {
    let end = uri.find(['?', '#']).unwrap_or(uri.len());
    &uri[..end]
}

/// Why a DPoP proof was refused. Each maps to `invalid_dpop_proof` (RFC 9449 sections 5
/// and 7.1); messages never repeat the proof.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DpopError {
    /// Not a compact JWS, or refused by the JOSE layer (algorithm allow-list, size).
    #[error("malformed DPoP proof: {0}")]
    Malformed(JoseError),
    /// `typ` is not `dpop+jwt`.
    #[error("DPoP proof typ must be dpop+jwt")]
    WrongType,
    /// The algorithm is not one the server accepts.
    #[error("DPoP proof algorithm {0} is not accepted")]
    Algorithm(Algorithm),
    /// No public `jwk` header, or a private one.
    #[error("DPoP proof needs a public jwk header")]
    Key,
    /// The signature does not verify with the header key.
    #[error("DPoP proof signature does not verify with its jwk")]
    BadSignature,
    /// Claims missing or mistyped, or a `jti` out of bounds.
    #[error("invalid DPoP proof claims: {0}")]
    InvalidClaims(String),
    /// `htm` or `htu` names another request.
    #[error("DPoP proof is for another request (htm/htu)")]
    WrongRequest,
    /// `iat` outside the accepted window.
    #[error("DPoP proof iat is outside the accepted window")]
    Stale,
    /// `ath` missing or not the hash of the presented access token.
    #[error("DPoP proof ath does not match the access token")]
    WrongAccessToken,
}

/// A verified proof: the key it proves, its thumbprint and its `jti` (for replay checks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedDpop {
    /// The public key.
    pub jwk: Jwk,
    /// Its RFC 7638 SHA-256 thumbprint, the `jkt` tokens are bound to.
    pub jkt: String,
    /// The proof's `jti`, to be remembered until `iat` + the window.
    pub jti: String,
    /// The proof's `iat`.
    pub iat: i64,
}

/// Verifies a DPoP proof as RFC 9449 section 4.3 lists, except the `jti` replay check and
/// the `jkt` binding, which need the caller's state: a compact JWS of at most 8 KiB whose
/// `alg` is one of `algs`, `typ` `dpop+jwt`, a public `jwk` header and a signature by it,
/// `htm` equal to `method`, `htu` equal to `uri` (both without query and fragment), `iat`
/// at most [`MAX_DPOP_CLOCK_SKEW_SECS`] after `now` and [`MAX_DPOP_AGE_SECS`] before it
/// (Unix seconds), a `jti` of 1 to [`MAX_JTI_CHARS`] characters, and `ath` equal to
/// [`access_token_hash`] of `access_token` when one is presented.
pub fn verify_dpop_proof(
    proof: &str,
    algs: &[Algorithm],
    method: &str,
    uri: &str,
    access_token: Option<&str>,
    now: i64,
) -> Result<VerifiedDpop, DpopError> {
    let jws = CompactJws::parse_with_limit(proof, MAX_DPOP_BYTES).map_err(DpopError::Malformed)?;
    let header = jws.header();
    if !typ_matches(header.typ.as_deref(), DPOP_JWT_TYP) {
        return Err(DpopError::WrongType);
    }
    if !algs.contains(&header.alg) {
        return Err(DpopError::Algorithm(header.alg));
    }
    let jwk = header.jwk.clone().ok_or(DpopError::Key)?;
    if jwk.is_private() {
        return Err(DpopError::Key);
    }
    jws.verify(&jwk).map_err(|e| match e {
        JoseError::BadSignature => DpopError::BadSignature,
        other => DpopError::Malformed(other),
    })?;
    let claims: DpopClaims = jws
        .payload_json()
        .map_err(|e| DpopError::InvalidClaims(e.to_string()))?;
    if claims.jti.is_empty() || claims.jti.chars().count() > MAX_JTI_CHARS {
        return Err(DpopError::InvalidClaims(format!(
            "jti must have 1 to {MAX_JTI_CHARS} characters"
        )));
    }
    if claims.htm != method || target_uri(&claims.htu) != target_uri(uri) {
        return Err(DpopError::WrongRequest);
    }
    if claims.iat > now.saturating_add(MAX_DPOP_CLOCK_SKEW_SECS)
        || now.saturating_sub(claims.iat) > MAX_DPOP_AGE_SECS
    {
        return Err(DpopError::Stale);
    }
    match (access_token, claims.ath.as_deref()) {
        (None, _) => {}
        (Some(token), Some(ath)) if ath == access_token_hash(token) => {}
        (Some(_), _) => return Err(DpopError::WrongAccessToken),
    }
    let jkt = jwk.thumbprint().map_err(DpopError::Malformed)?;
    Ok(VerifiedDpop {
        jwk,
        jkt,
        jti: claims.jti,
        iat: claims.iat,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::SoftwareSigner;

    const URL: &str = "https://issuer.example/account/inbox";
    const NOW: i64 = 1_800_000_000;

    fn signer() -> SoftwareSigner {
        SoftwareSigner::generate(Algorithm::Es256).unwrap()
    }

    #[test]
    fn a_proof_verifies_and_names_its_key() {
        let key = signer();
        let proof = build_dpop_proof(&key, "GET", URL, NOW, Some("tok")).unwrap();
        let verified =
            verify_dpop_proof(&proof, &[Algorithm::Es256], "GET", URL, Some("tok"), NOW).unwrap();
        assert_eq!(
            verified.jkt,
            key.public_jwk().unwrap().thumbprint().unwrap()
        );
        assert_eq!(verified.jti.len(), 22);
        // Query and fragment are not part of htu on either side.
        let with_query = format!("{URL}?x=1#f");
        let proof = build_dpop_proof(&key, "GET", &with_query, NOW, None).unwrap();
        verify_dpop_proof(&proof, &[Algorithm::Es256], "GET", URL, None, NOW).unwrap();
    }

    #[test]
    fn every_check_refuses_its_fault() {
        let key = signer();
        let algs = [Algorithm::Es256];
        let proof = build_dpop_proof(&key, "GET", URL, NOW, Some("tok")).unwrap();
        assert_eq!(
            verify_dpop_proof(&proof, &algs, "POST", URL, Some("tok"), NOW),
            Err(DpopError::WrongRequest)
        );
        assert_eq!(
            verify_dpop_proof(
                &proof,
                &algs,
                "GET",
                "https://issuer.example/credential",
                Some("tok"),
                NOW
            ),
            Err(DpopError::WrongRequest)
        );
        assert_eq!(
            verify_dpop_proof(&proof, &algs, "GET", URL, Some("other"), NOW),
            Err(DpopError::WrongAccessToken)
        );
        assert_eq!(
            verify_dpop_proof(&proof, &algs, "GET", URL, Some("tok"), NOW + 301),
            Err(DpopError::Stale)
        );
        assert_eq!(
            verify_dpop_proof(&proof, &algs, "GET", URL, Some("tok"), NOW - 61),
            Err(DpopError::Stale)
        );
        assert_eq!(
            verify_dpop_proof(&proof, &[Algorithm::EdDsa], "GET", URL, Some("tok"), NOW),
            Err(DpopError::Algorithm(Algorithm::Es256))
        );
        // No ath though a token is presented.
        let bare = build_dpop_proof(&key, "GET", URL, NOW, None).unwrap();
        assert_eq!(
            verify_dpop_proof(&bare, &algs, "GET", URL, Some("tok"), NOW),
            Err(DpopError::WrongAccessToken)
        );
        // Another typ: an OpenID4VCI key proof is not a DPoP proof.
        let wrong_typ = jws::sign_compact(
            {
                let mut h = jws::header_with_typ("openid4vci-proof+jwt");
                h.insert(
                    "jwk".into(),
                    serde_json::to_value(key.public_jwk().unwrap()).unwrap(),
                );
                h
            },
            br#"{"jti":"a","htm":"GET","htu":"https://issuer.example/account/inbox","iat":1800000000}"#,
            &key,
        )
        .unwrap();
        assert_eq!(
            verify_dpop_proof(&wrong_typ, &algs, "GET", URL, None, NOW),
            Err(DpopError::WrongType)
        );
        // The signature by another key than the header's.
        let other = signer();
        let mut parts: Vec<String> = proof.split('.').map(str::to_owned).collect();
        let forged = build_dpop_proof(&other, "GET", URL, NOW, Some("tok")).unwrap();
        parts[2] = forged.split('.').nth(2).unwrap().to_owned();
        assert_eq!(
            verify_dpop_proof(&parts.join("."), &algs, "GET", URL, Some("tok"), NOW),
            Err(DpopError::BadSignature)
        );
        assert!(matches!(
            verify_dpop_proof("garbage", &algs, "GET", URL, None, NOW),
            Err(DpopError::Malformed(_))
        ));
    }

    #[test]
    fn ath_is_the_rfc_example() {
        // RFC 9449 section 7.1: the access token "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"
        // has ath "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo".
        assert_eq!(
            access_token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
            "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
        );
    }
}
