//! Reading an encrypted Authorization Response (OpenID4VP 1.0 section 8.3, response mode
//! `direct_post.jwt`, section 8.3.1): the JWE's protected header (to find the request by
//! `kid`), decryption with the request's ephemeral key (ECDH-ES on P-256 with A128GCM or
//! A256GCM, HAIP 1.0; josekit), and the payload's `vp_token` and `state` (section 8.1).

use std::collections::BTreeMap;

use giayto_core::jose::b64;
use josekit::jwe::ECDH_ES;
use serde::Deserialize;

/// The largest `response` parameter read, bytes (a few full credentials).
pub const MAX_RESPONSE_BYTES: usize = 512 * 1024;
/// The most presentations one response may carry (each is verified: CPU an anonymous
/// wallet could otherwise make the service spend without bound).
pub const MAX_PRESENTATIONS: usize = 16;
/// The JWE `alg` accepted (HAIP 1.0).
pub const JWE_ALG: &str = "ECDH-ES";
/// The JWE `enc` values accepted and advertised in `encrypted_response_enc_values_supported`
/// (HAIP 1.0: Verifiers list both).
pub const JWE_ENC_VALUES: [&str; 2] = ["A128GCM", "A256GCM"];

/// Why a response could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    /// Not a compact JWE, or its header is not JSON.
    #[error("the response is not a compact JWE: {0}")]
    Malformed(String),
    /// Larger than [`MAX_RESPONSE_BYTES`].
    #[error("the response is larger than {MAX_RESPONSE_BYTES} bytes")]
    TooLarge,
    /// `alg` or `enc` outside what the request offered.
    #[error("the JWE uses {0}, which the request did not offer")]
    Algorithm(String),
    /// The header asks for compression (`zip`): OpenID4VP responses are not compressed, and
    /// a compressed plaintext could expand without bound.
    #[error("the JWE is compressed (zip), which this service does not accept")]
    Compressed,
    /// The header names no `kid`.
    #[error("the JWE header has no kid naming the request's key")]
    NoKid,
    /// Decryption failed: not encrypted to this request's key, or altered.
    #[error(
        "the JWE does not decrypt with the request's key (altered, or meant for another request)"
    )]
    Decrypt,
    /// The decrypted payload is not an Authorization Response.
    #[error("the decrypted response is not an authorization response: {0}")]
    Payload(String),
}

/// The protected header fields used.
#[derive(Debug, Deserialize)]
struct Header {
    alg: Option<String>,
    enc: Option<String>,
    kid: Option<String>,
    zip: Option<serde_json::Value>,
}

/// The decrypted Authorization Response (section 8.1).
#[derive(Debug, Clone, Deserialize)]
pub struct AuthorizationResponse {
    /// For each Credential Query id, its presentations.
    pub vp_token: BTreeMap<String, Vec<String>>,
    /// The request's `state`.
    pub state: Option<String>,
}

/// The `kid` of a compact JWE, after checking `alg`, `enc` and that there is no `zip`
/// (nothing is decrypted).
pub fn response_kid(jwe: &str) -> Result<String, ResponseError> {
    if jwe.len() > MAX_RESPONSE_BYTES {
        return Err(ResponseError::TooLarge);
    }
    let parts: Vec<&str> = jwe.split('.').collect();
    let [header, _, _, _, _] = parts.as_slice() else {
        return Err(ResponseError::Malformed(format!(
            "{} parts, a compact JWE has 5",
            parts.len()
        )));
    };
    let bytes = b64::decode(header).map_err(|e| ResponseError::Malformed(e.to_string()))?;
    let header: Header =
        serde_json::from_slice(&bytes).map_err(|e| ResponseError::Malformed(e.to_string()))?;
    let alg = header.alg.unwrap_or_default();
    if alg != JWE_ALG {
        return Err(ResponseError::Algorithm(format!("alg {}", truncate(&alg))));
    }
    let enc = header.enc.unwrap_or_default();
    if !JWE_ENC_VALUES.contains(&enc.as_str()) {
        return Err(ResponseError::Algorithm(format!("enc {}", truncate(&enc))));
    }
    if header.zip.is_some() {
        return Err(ResponseError::Compressed);
    }
    header.kid.ok_or(ResponseError::NoKid)
}

/// Decrypts `jwe` with the request's private key (P-256, DER) and reads the response (at
/// most [`MAX_PRESENTATIONS`] presentations).
pub fn decrypt(jwe: &str, key_der: &[u8]) -> Result<AuthorizationResponse, ResponseError> {
    let decrypter = ECDH_ES
        .decrypter_from_der(key_der)
        .map_err(|_| ResponseError::Decrypt)?;
    // No decompression at all (josekit's DEFLATE reads without bound), whatever the header
    // that [`response_kid`] checked says.
    let mut context = josekit::jwe::JweContext::new();
    context.remove_compression("DEF");
    let (payload, header) = context
        .deserialize_compact(jwe, &decrypter)
        .map_err(|_| ResponseError::Decrypt)?;
    if header.compression().is_some() {
        return Err(ResponseError::Compressed);
    }
    let response: AuthorizationResponse =
        serde_json::from_slice(&payload).map_err(|e| ResponseError::Payload(e.to_string()))?;
    let count: usize = response.vp_token.values().map(Vec::len).sum();
    if count > MAX_PRESENTATIONS {
        return Err(ResponseError::Payload(format!(
            "{count} presentations, more than the {MAX_PRESENTATIONS} this service reads"
        )));
    }
    Ok(response)
}

fn truncate(text: &str) -> String {
    crate::shown(text)
}
