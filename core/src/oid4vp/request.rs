//! The request object (RFC 9101 JAR, OpenID4VP 1.0 section 5, HAIP 1.0): verified before
//! anything in it is believed.
//!
//! Checks, in order: size; `alg` ES256 and `typ` `oauth-authz-req+jwt`; the `x5c` chain
//! (leaf first, without the anchor) validated by webpki to a verifier registrar named in
//! the signed trust list (`verifier_anchors`), at `now`; the JWS signature with the leaf's
//! key; `client_id` equal to the invocation's and `x509_hash:` the base64url SHA-256 of
//! the DER leaf (OpenID4VP 1.0 section 5.9.3); `iat`/`exp`; `response_type` `vp_token`,
//! `response_mode` `direct_post.jwt` with an `https` `response_uri`; a `nonce`; the
//! encryption key (`client_metadata.jwks`, P-256, `ECDH-ES`) and content encryption
//! (`encrypted_response_enc_values_supported`, default `A128GCM`); the DCQL query.

use std::time::Duration;

use p256::pkcs8::DecodePublicKey as _;
use ring::digest::{SHA256, digest};
use rustls_pki_types::{CertificateDer, UnixTime};
use serde_json::{Map, Value};
use webpki::{EndEntityCert, ExtendedKeyUsageValidator, KeyPurposeIdIter};

use super::{DcqlQuery, Invocation, Oid4vpError};
use crate::jose::jws::CompactJws;
use crate::jose::{Algorithm, Jwk, b64, typ_matches};
use crate::oid4vci::{HttpResponse, parse_secure_url};
use crate::trust_list::VerifiedTrustList;

/// The JOSE `typ` of a request object (RFC 9101 section 10.8).
pub const REQUEST_OBJECT_TYP: &str = "oauth-authz-req+jwt";
/// The client identifier prefix HAIP 1.0 requires (OpenID4VP 1.0 section 5.9.3).
pub const X509_HASH_PREFIX: &str = "x509_hash:";
/// The only response mode accepted (OpenID4VP 1.0 section 8.3.1, HAIP 1.0).
pub const DIRECT_POST_JWT: &str = "direct_post.jwt";
/// The `aud` of a request object under static discovery (OpenID4VP 1.0 section 5.8).
pub const SELF_ISSUED_AUDIENCE: &str = "https://self-issued.me/v2";
/// The largest request object read.
pub const MAX_REQUEST_OBJECT_BYTES: usize = 64 * 1024;
/// Most certificates in `x5c`.
pub const MAX_CHAIN_LENGTH: usize = 4;
/// Clock difference tolerated for `iat`, seconds.
pub const IAT_SKEW_SECONDS: i64 = 300;
/// Content encryption algorithms the wallet can use, in its order of preference.
pub const SUPPORTED_ENC: [&str; 2] = ["A128GCM", "A256GCM"];

/// A request whose signature, certificate chain and rules have been checked.
#[derive(Debug, Clone)]
pub struct VerifiedRequest {
    /// The client identifier (`x509_hash:…`): the KB-JWT's `aud`.
    pub client_id: String,
    /// Where to POST the response.
    pub response_uri: String,
    /// The nonce: the KB-JWT's `nonce`.
    pub nonce: String,
    /// `state`, echoed in the response when present.
    pub state: Option<String>,
    /// The DCQL query.
    pub dcql_query: DcqlQuery,
    /// The verifier's ephemeral encryption key (public JWK as sent, with `kid`).
    pub encryption_jwk: Map<String, Value>,
    /// The content encryption algorithm chosen (`A128GCM` unless the verifier prefers
    /// another supported one).
    pub enc: String,
    /// The request's `exp`, Unix seconds.
    pub expires_at: i64,
    /// The DER leaf certificate.
    pub leaf_certificate: Vec<u8>,
}

/// Accepts any extended key usage: the registrar decides what its leaves are for; a
/// malformed EKU extension is still refused.
struct AnyExtendedKeyUsage;

impl ExtendedKeyUsageValidator for AnyExtendedKeyUsage {
    fn validate(&self, iter: KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        for purpose in iter {
            purpose?;
        }
        Ok(())
    }
}

fn malformed(reason: impl Into<String>) -> Oid4vpError {
    Oid4vpError::MalformedRequest(reason.into())
}

/// Reads the request object from the response to the `request_uri` GET: status 200 and at
/// most [`MAX_REQUEST_OBJECT_BYTES`].
pub fn request_object_of(response: &HttpResponse) -> Result<String, Oid4vpError> {
    if response.body.len() > MAX_REQUEST_OBJECT_BYTES {
        return Err(Oid4vpError::TooLarge {
            endpoint: "request_uri",
            size: response.body.len(),
            limit: MAX_REQUEST_OBJECT_BYTES,
        });
    }
    if response.status != 200 {
        return Err(Oid4vpError::Http {
            endpoint: "request_uri",
            status: response.status,
            error: None,
            detail: crate::http_problem::explanation(&response.body),
        });
    }
    let text = std::str::from_utf8(&response.body)
        .map_err(|_| malformed("the request object is not UTF-8"))?;
    Ok(text.trim().to_owned())
}

/// Verifies `token` (the request object) for `invocation` against the verifier registrars
/// of `trust_list`, at `now` (Unix seconds). See the module docs for every check; each
/// failure is its own [`Oid4vpError`].
pub fn verify_request(
    token: &str,
    invocation: &Invocation,
    trust_list: &VerifiedTrustList,
    now: i64,
) -> Result<VerifiedRequest, Oid4vpError> {
    let jws = CompactJws::parse_with_limit(token, MAX_REQUEST_OBJECT_BYTES)
        .map_err(|e| malformed(e.to_string()))?;
    if jws.header().alg != Algorithm::Es256 {
        return Err(Oid4vpError::WrongAlgorithm(jws.header().alg.name().into()));
    }
    if !typ_matches(jws.header().typ.as_deref(), REQUEST_OBJECT_TYP) {
        return Err(Oid4vpError::WrongType(jws.header().typ.clone()));
    }
    let chain = x5c_chain(jws.header().raw.get("x5c"))?;
    let Some((leaf, intermediates)) = chain.split_first() else {
        return Err(malformed("x5c is empty"));
    };
    validate_chain(leaf, intermediates, trust_list, now)?;
    let leaf_key = leaf_jwk(leaf)?;
    jws.verify(&leaf_key)
        .map_err(|_| Oid4vpError::BadSignature)?;

    let claims: Map<String, Value> = jws.payload_json().map_err(|e| malformed(e.to_string()))?;
    let client_id = string_claim(&claims, "client_id")?.ok_or_else(|| malformed("no client_id"))?;
    if client_id != invocation.client_id {
        return Err(Oid4vpError::ClientIdMismatch);
    }
    let Some(hash) = client_id.strip_prefix(X509_HASH_PREFIX) else {
        return Err(Oid4vpError::UnsupportedClientIdPrefix(
            crate::jose::truncate(&client_id),
        ));
    };
    if hash != x509_hash(leaf) {
        return Err(Oid4vpError::ClientIdHashMismatch);
    }
    check_times(&claims, now)?;
    let expires_at = crate::jose::numeric_date_claim(&claims, "exp")
        .map_err(|e| malformed(e.to_string()))?
        .ok_or_else(|| malformed("no exp"))?;
    // OpenID4VP 1.0 section 5.8 asks the verifier for `aud` = SELF_ISSUED_AUDIENCE under
    // static discovery; deployed verifiers also send their request_uri
    // (@openid4vc/openid4vp 0.4.6 does). The wallet has no identifier of its own to match,
    // so any string (or array of strings) is taken; anything else is malformed.
    match claims.get("aud") {
        None | Some(Value::String(_)) => {}
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {}
        Some(_) => return Err(malformed("aud must be a string or an array of strings")),
    }
    if string_claim(&claims, "response_type")?.as_deref() != Some("vp_token") {
        return Err(malformed("response_type must be vp_token"));
    }
    let mode = string_claim(&claims, "response_mode")?.unwrap_or_default();
    if mode != DIRECT_POST_JWT {
        return Err(Oid4vpError::WrongResponseMode(crate::jose::truncate(&mode)));
    }
    if claims.contains_key("redirect_uri") {
        // OpenID4VP 1.0 section 8.2: with direct_post the redirect_uri MUST NOT be present.
        return Err(malformed(
            "redirect_uri must not be present with direct_post.jwt",
        ));
    }
    let response_uri =
        string_claim(&claims, "response_uri")?.ok_or_else(|| malformed("no response_uri"))?;
    parse_secure_url(&response_uri)?;
    let nonce = string_claim(&claims, "nonce")?
        .filter(|n| !n.is_empty())
        .ok_or_else(|| malformed("no nonce"))?;
    let state = string_claim(&claims, "state")?;
    if claims.contains_key("transaction_data") {
        return Err(Oid4vpError::Unsupported("transaction_data"));
    }
    if claims.contains_key("scope") && !claims.contains_key("dcql_query") {
        return Err(Oid4vpError::Unsupported("a scope-only request"));
    }
    let dcql_query = DcqlQuery::from_json(
        claims
            .get("dcql_query")
            .ok_or_else(|| malformed("no dcql_query"))?,
    )?;
    let metadata = claims
        .get("client_metadata")
        .and_then(Value::as_object)
        .ok_or_else(|| malformed("no client_metadata"))?;
    let (encryption_jwk, enc) = encryption_key(metadata)?;
    Ok(VerifiedRequest {
        client_id,
        response_uri,
        nonce,
        state,
        dcql_query,
        encryption_jwk,
        enc,
        expires_at,
        leaf_certificate: leaf.clone(),
    })
}

/// The `x509_hash` of a DER certificate: base64url (no padding) of its SHA-256
/// (OpenID4VP 1.0 section 5.9.3).
pub fn x509_hash(der: &[u8]) -> String {
    b64::encode(digest(&SHA256, der))
}

/// Checks that `der` reads as an X.509 trust anchor the way the wallet will read a
/// `verifier_anchors` entry (webpki), for the tools that put one on the trust list.
pub fn check_anchor(der: &[u8]) -> Result<(), Oid4vpError> {
    let cert = CertificateDer::from(der);
    webpki::anchor_from_trusted_cert(&cert)
        .map(|_| ())
        .map_err(|e| Oid4vpError::UntrustedCertificate(format!("not a CA certificate: {e:?}")))
}

fn x5c_chain(value: Option<&Value>) -> Result<Vec<Vec<u8>>, Oid4vpError> {
    let entries = value
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("no x5c header"))?;
    if entries.is_empty() || entries.len() > MAX_CHAIN_LENGTH {
        return Err(malformed(format!(
            "x5c must hold 1 to {MAX_CHAIN_LENGTH} certificates"
        )));
    }
    entries
        .iter()
        .map(|entry| {
            entry
                .as_str()
                .and_then(|text| b64::decode_standard(text).ok())
                .ok_or_else(|| malformed("an x5c entry is not base64 DER"))
        })
        .collect()
}

fn validate_chain(
    leaf: &[u8],
    intermediates: &[Vec<u8>],
    trust_list: &VerifiedTrustList,
    now: i64,
) -> Result<(), Oid4vpError> {
    let anchor_ders: Vec<CertificateDer<'_>> = trust_list
        .verifier_anchors_der()
        .into_iter()
        .map(CertificateDer::from)
        .collect();
    let anchors: Vec<_> = anchor_ders
        .iter()
        .filter_map(|der| webpki::anchor_from_trusted_cert(der).ok())
        .collect();
    if anchors.is_empty() {
        return Err(Oid4vpError::NoVerifierAnchors);
    }
    let leaf_der = CertificateDer::from(leaf);
    let intermediates: Vec<CertificateDer<'_>> = intermediates
        .iter()
        .map(|der| CertificateDer::from(der.as_slice()))
        .collect();
    let cert = EndEntityCert::try_from(&leaf_der)
        .map_err(|e| Oid4vpError::UntrustedCertificate(format!("leaf: {e:?}")))?;
    let time = UnixTime::since_unix_epoch(Duration::from_secs(u64::try_from(now).unwrap_or(0)));
    cert.verify_for_usage(
        &[
            webpki::ring::ECDSA_P256_SHA256,
            webpki::ring::ECDSA_P256_SHA384,
            webpki::ring::ECDSA_P384_SHA256,
            webpki::ring::ECDSA_P384_SHA384,
        ],
        &anchors,
        &intermediates,
        time,
        AnyExtendedKeyUsage,
        None,
        None,
    )
    .map_err(|e| Oid4vpError::UntrustedCertificate(format!("{e:?}")))?;
    Ok(())
}

/// The leaf certificate's P-256 key as a JWK (anything else cannot sign ES256).
fn leaf_jwk(leaf: &[u8]) -> Result<Jwk, Oid4vpError> {
    let der = CertificateDer::from(leaf);
    let cert = EndEntityCert::try_from(&der)
        .map_err(|e| Oid4vpError::UntrustedCertificate(format!("leaf: {e:?}")))?;
    let spki = cert.subject_public_key_info();
    let key = p256::PublicKey::from_public_key_der(spki.as_ref())
        .map_err(|_| Oid4vpError::UntrustedCertificate("the leaf key is not P-256".into()))?;
    let uncompressed = p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&key, false);
    Jwk::from_p256_public(uncompressed.as_bytes())
        .map_err(|_| Oid4vpError::UntrustedCertificate("the leaf key is not P-256".into()))
}

fn string_claim(claims: &Map<String, Value>, name: &str) -> Result<Option<String>, Oid4vpError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(malformed(format!("{name} must be a string"))),
    }
}

fn check_times(claims: &Map<String, Value>, now: i64) -> Result<(), Oid4vpError> {
    let exp = crate::jose::numeric_date_claim(claims, "exp")
        .map_err(|e| malformed(e.to_string()))?
        .ok_or_else(|| malformed("no exp"))?;
    // RFC 7519 section 4.1.4: not accepted on or after exp.
    if now >= exp {
        return Err(Oid4vpError::Expired { expired_at: exp });
    }
    if let Some(iat) =
        crate::jose::numeric_date_claim(claims, "iat").map_err(|e| malformed(e.to_string()))?
        && iat > now.saturating_add(IAT_SKEW_SECONDS)
    {
        return Err(Oid4vpError::NotYetValid { iat });
    }
    Ok(())
}

/// The key to encrypt the response to: the first `client_metadata.jwks` key that is EC
/// P-256 with `alg` `ECDH-ES` and `use` absent or `enc` (OpenID4VP 1.0 section 8.3), and
/// the content encryption: the first of `encrypted_response_enc_values_supported` the
/// wallet supports (default `A128GCM`).
fn encryption_key(
    metadata: &Map<String, Value>,
) -> Result<(Map<String, Value>, String), Oid4vpError> {
    let keys = metadata
        .get("jwks")
        .and_then(|jwks| jwks.get("keys"))
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("client_metadata has no jwks"))?;
    let key = keys
        .iter()
        .filter_map(Value::as_object)
        .find(|key| {
            key.get("kty").and_then(Value::as_str) == Some("EC")
                && key.get("crv").and_then(Value::as_str) == Some("P-256")
                && key.get("alg").and_then(Value::as_str) == Some("ECDH-ES")
                && matches!(key.get("use").and_then(Value::as_str), None | Some("enc"))
                && !key.contains_key("d")
        })
        .ok_or_else(|| malformed("client_metadata.jwks has no P-256 ECDH-ES key"))?;
    let offered: Vec<&str> = match metadata.get("encrypted_response_enc_values_supported") {
        None => vec!["A128GCM"],
        Some(Value::Array(values)) => values.iter().filter_map(Value::as_str).collect(),
        Some(_) => {
            return Err(malformed(
                "encrypted_response_enc_values_supported must be an array",
            ));
        }
    };
    let enc = offered
        .iter()
        .find(|enc| SUPPORTED_ENC.contains(enc))
        .ok_or(Oid4vpError::Unsupported(
            "none of the offered content encryptions",
        ))?;
    if let Some(formats) = metadata.get("vp_formats_supported")
        && formats.get(super::dcql::FORMAT_DC_SD_JWT).is_none()
    {
        return Err(Oid4vpError::Unsupported(
            "a verifier that takes no dc+sd-jwt",
        ));
    }
    Ok((key.clone(), (*enc).to_owned()))
}
