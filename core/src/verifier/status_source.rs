//! Which keys verify a Status List Token a verifier loads: those of the trusted issuer that
//! signed it. Status List Tokens carry no `iss`, so with a trust list the signer is the
//! issuer holding the key its `kid` names (an RFC 7638 thumbprint, unique across issuers);
//! with bare keys, any of them. The list is cached with its signer, and a document is
//! checked only against a list its own issuer signed (see [`super::verify_presentation`]):
//! a list signed by another trusted issuer is reported by that issuer's name.

use crate::jose::jws::CompactJws;
use crate::limits::MAX_STATUS_LIST_TOKEN_BYTES;
use crate::status_list::{StatusListError, VerifiedStatusList, verify_token};
use crate::verifier::IssuerTrust;

/// Why a Status List Token could not be attributed to a trusted issuer or verified.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum StatusListSourceError {
    /// The token names no `kid`, so no trusted issuer can be chosen.
    #[error("status list token has no kid")]
    WithoutKid,
    /// No issuer on the trust list holds the key that signed it.
    #[error("status list token is not signed by a key of any issuer on the trust list")]
    UnknownSigner,
    /// The token does not verify (too large, wrong type, signature, subject, dates, list).
    #[error(transparent)]
    StatusList(#[from] StatusListError),
}

/// Verifies the Status List Token `token` published at `uri` (its `sub` must equal `uri`)
/// with the keys of the trusted issuer that signed it. The token is at most
/// [`MAX_STATUS_LIST_TOKEN_BYTES`], the same limit whether it came from a file, a URL or
/// the bindings; every other rule is [`verify_token`]'s.
pub fn verify_status_list_for(
    trust: &IssuerTrust,
    uri: &str,
    token: &str,
    now: i64,
) -> Result<VerifiedStatusList, StatusListSourceError> {
    let token = token.trim();
    match trust {
        IssuerTrust::Keys(keys) => Ok(verify_token(token, uri, keys, now)?),
        IssuerTrust::TrustList(list) => {
            let jws = CompactJws::parse_with_limit(token, MAX_STATUS_LIST_TOKEN_BYTES)
                .map_err(StatusListError::from)?;
            let kid = jws
                .header()
                .kid
                .as_deref()
                .ok_or(StatusListSourceError::WithoutKid)?;
            let issuer = list
                .issuer_with_key(kid)
                .ok_or(StatusListSourceError::UnknownSigner)?;
            Ok(verify_token(token, uri, &issuer.jwks, now)?)
        }
    }
}
