//! The errors of the OpenID4VCI client, and the error codes an issuer or authorization
//! server puts in its error responses (RFC 6749 §5.2, RFC 6750 §3.1, OpenID4VCI §8.3.1.2
//! and §9.3).

use serde::{Deserialize, Serialize};

use crate::jose::JoseError;

/// The longest issuer-supplied text (error description) kept in an error.
const MAX_DESCRIPTION_CHARS: usize = 300;

/// An `error` code from a token, credential or deferred credential error response.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IssuerErrorCode {
    /// RFC 6749 / RFC 6750 `invalid_request` (for a token request: missing or unexpected
    /// `tx_code`, among others).
    InvalidRequest,
    /// RFC 6749 `invalid_client` (for example anonymous pre-authorized access refused).
    InvalidClient,
    /// RFC 6749 `invalid_grant`: wrong or expired pre-authorized code, or wrong `tx_code`.
    InvalidGrant,
    /// RFC 6749 `unauthorized_client`.
    UnauthorizedClient,
    /// RFC 6749 `unsupported_grant_type`.
    UnsupportedGrantType,
    /// RFC 6749 `invalid_scope`.
    InvalidScope,
    /// RFC 6750 `invalid_token`: the access token is missing, expired or revoked.
    InvalidToken,
    /// RFC 6750 `insufficient_scope`.
    InsufficientScope,
    /// `invalid_credential_request`: the Credential Request is malformed.
    InvalidCredentialRequest,
    /// `unknown_credential_configuration`.
    UnknownCredentialConfiguration,
    /// `unknown_credential_identifier`.
    UnknownCredentialIdentifier,
    /// `invalid_proof`: the proofs are missing, invalid, or lack a `c_nonce`.
    InvalidProof,
    /// `invalid_nonce`: a proof carries a `c_nonce` the issuer no longer accepts.
    InvalidNonce,
    /// `invalid_encryption_parameters`.
    InvalidEncryptionParameters,
    /// `credential_request_denied`: unrecoverable.
    CredentialRequestDenied,
    /// `invalid_transaction_id` (deferred endpoint).
    InvalidTransactionId,
    /// Any other code, kept verbatim (truncated and restricted to printable ASCII).
    Other(String),
}

impl IssuerErrorCode {
    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            IssuerErrorCode::InvalidRequest => "invalid_request",
            IssuerErrorCode::InvalidClient => "invalid_client",
            IssuerErrorCode::InvalidGrant => "invalid_grant",
            IssuerErrorCode::UnauthorizedClient => "unauthorized_client",
            IssuerErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            IssuerErrorCode::InvalidScope => "invalid_scope",
            IssuerErrorCode::InvalidToken => "invalid_token",
            IssuerErrorCode::InsufficientScope => "insufficient_scope",
            IssuerErrorCode::InvalidCredentialRequest => "invalid_credential_request",
            IssuerErrorCode::UnknownCredentialConfiguration => "unknown_credential_configuration",
            IssuerErrorCode::UnknownCredentialIdentifier => "unknown_credential_identifier",
            IssuerErrorCode::InvalidProof => "invalid_proof",
            IssuerErrorCode::InvalidNonce => "invalid_nonce",
            IssuerErrorCode::InvalidEncryptionParameters => "invalid_encryption_parameters",
            IssuerErrorCode::CredentialRequestDenied => "credential_request_denied",
            IssuerErrorCode::InvalidTransactionId => "invalid_transaction_id",
            IssuerErrorCode::Other(code) => code,
        }
    }

    /// Parses a wire value; unknown codes become [`IssuerErrorCode::Other`].
    pub fn from_code(code: &str) -> IssuerErrorCode {
        match code {
            "invalid_request" => IssuerErrorCode::InvalidRequest,
            "invalid_client" => IssuerErrorCode::InvalidClient,
            "invalid_grant" => IssuerErrorCode::InvalidGrant,
            "unauthorized_client" => IssuerErrorCode::UnauthorizedClient,
            "unsupported_grant_type" => IssuerErrorCode::UnsupportedGrantType,
            "invalid_scope" => IssuerErrorCode::InvalidScope,
            "invalid_token" => IssuerErrorCode::InvalidToken,
            "insufficient_scope" => IssuerErrorCode::InsufficientScope,
            "invalid_credential_request" => IssuerErrorCode::InvalidCredentialRequest,
            "unknown_credential_configuration" => IssuerErrorCode::UnknownCredentialConfiguration,
            "unknown_credential_identifier" => IssuerErrorCode::UnknownCredentialIdentifier,
            "invalid_proof" => IssuerErrorCode::InvalidProof,
            "invalid_nonce" => IssuerErrorCode::InvalidNonce,
            "invalid_encryption_parameters" => IssuerErrorCode::InvalidEncryptionParameters,
            "credential_request_denied" => IssuerErrorCode::CredentialRequestDenied,
            "invalid_transaction_id" => IssuerErrorCode::InvalidTransactionId,
            other => IssuerErrorCode::Other(sanitize(other, 64)),
        }
    }
}

impl std::fmt::Display for IssuerErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for IssuerErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for IssuerErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Ok(IssuerErrorCode::from_code(&code))
    }
}

/// The endpoint a response came from, named in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// The `credential_offer_uri` resource.
    CredentialOffer,
    /// `/.well-known/openid-credential-issuer`.
    IssuerMetadata,
    /// `/.well-known/oauth-authorization-server`.
    AuthorizationServerMetadata,
    /// The token endpoint.
    Token,
    /// The nonce endpoint.
    Nonce,
    /// The credential endpoint.
    Credential,
    /// The deferred credential endpoint.
    DeferredCredential,
    /// The citizen account's inbox (giayto, [`super::inbox`]).
    AccountInbox,
    /// The citizen account's transfer to a new phone (giayto, [`super::inbox`]).
    AccountTransfer,
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Endpoint::CredentialOffer => "credential offer",
            Endpoint::IssuerMetadata => "credential issuer metadata",
            Endpoint::AuthorizationServerMetadata => "authorization server metadata",
            Endpoint::Token => "token",
            Endpoint::Nonce => "nonce",
            Endpoint::Credential => "credential",
            Endpoint::DeferredCredential => "deferred credential",
            Endpoint::AccountInbox => "account inbox",
            Endpoint::AccountTransfer => "account transfer",
        })
    }
}

/// Why an OpenID4VCI step failed. No variant ever carries a transaction code, a
/// pre-authorized code or an access token.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum Oid4vciError {
    /// The credential offer URI is not usable.
    #[error("invalid credential offer URI: {0}")]
    InvalidOfferUri(&'static str),
    /// The credential offer object is invalid.
    #[error("invalid credential offer: {0}")]
    InvalidOffer(String),
    /// A URL cannot be parsed or has a component it must not have.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL (truncated).
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A URL does not use `https` (plain `http` is allowed only for loopback hosts).
    #[error("URL {0:?} must use https")]
    InsecureUrl(String),
    /// Metadata is invalid.
    #[error("invalid {endpoint}: {reason}")]
    InvalidMetadata {
        /// Which metadata document.
        endpoint: Endpoint,
        /// What is wrong with it.
        reason: String,
    },
    /// The metadata names another issuer than the one it was fetched for.
    #[error("{endpoint} is for {found:?}, expected {expected:?}")]
    IssuerMismatch {
        /// Which metadata document.
        endpoint: Endpoint,
        /// The identifier the metadata was fetched for.
        expected: String,
        /// The identifier in the metadata.
        found: String,
    },
    /// The offer names a credential configuration the issuer does not publish.
    #[error("credential configuration {0:?} is not in the issuer metadata")]
    UnknownConfiguration(String),
    /// The offer requires a transaction code and none was given.
    #[error("the offer requires a transaction code")]
    TxCodeRequired,
    /// The transaction code does not fit the offer's description of it.
    #[error("transaction code rejected: {0}")]
    InvalidTxCode(&'static str),
    /// A response body is larger than the client accepts.
    #[error("{endpoint} response too large: {size} bytes (limit {limit})")]
    ResponseTooLarge {
        /// Where it came from.
        endpoint: Endpoint,
        /// Body size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// An HTTP status the protocol does not allow there, without an OAuth error body.
    #[error("unexpected HTTP status {status} from the {endpoint} endpoint{}", detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    UnexpectedStatus {
        /// Where it came from.
        endpoint: Endpoint,
        /// The status code.
        status: u16,
        /// What the server said: an RFC 9457 problem's `detail` or an OAuth
        /// `error_description`, cleaned and bounded by [`crate::http_problem::explanation`].
        detail: Option<String>,
    },
    /// A response body does not have the shape the spec requires.
    #[error("invalid {endpoint} response: {reason}")]
    InvalidResponse {
        /// Where it came from.
        endpoint: Endpoint,
        /// What is wrong with it.
        reason: String,
    },
    /// The issuer or authorization server answered with an error response.
    #[error("{endpoint} endpoint error {error}{}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Issuer {
        /// Which endpoint answered.
        endpoint: Endpoint,
        /// The `error` code.
        error: IssuerErrorCode,
        /// The `error_description`, restricted to printable ASCII and 300 characters.
        description: Option<String>,
    },
    /// The issuer needs a feature this client does not implement.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A session method was called in the wrong state.
    #[error("issuance step out of order: {0}")]
    OutOfOrder(&'static str),
    /// Building the key proof failed.
    #[error("key proof: {0}")]
    Jose(#[from] JoseError),
}

/// Keeps issuer-supplied text short and free of control characters, so an error can be
/// logged or shown safely. Keeps the characters OpenID4VCI allows in `error_description`
/// (`%x20-21 / %x23-5B / %x5D-7E`), drops the rest.
pub(crate) fn sanitize(text: &str, max_chars: usize) -> String {
    text.chars()
        .filter(|c| matches!(*c as u32, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E))
        .take(max_chars)
        .collect()
}

/// Sanitizes an issuer's `error_description`.
pub(crate) fn sanitize_description(text: &str) -> String {
    sanitize(text, MAX_DESCRIPTION_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_is_kept() {
        for code in [
            "invalid_request",
            "invalid_grant",
            "invalid_proof",
            "invalid_nonce",
            "unknown_credential_configuration",
            "credential_request_denied",
            "invalid_transaction_id",
        ] {
            assert_eq!(IssuerErrorCode::from_code(code).as_str(), code);
            assert!(!matches!(
                IssuerErrorCode::from_code(code),
                IssuerErrorCode::Other(_)
            ));
        }
        assert_eq!(
            IssuerErrorCode::from_code("slow_down"),
            IssuerErrorCode::Other("slow_down".into())
        );
    }

    #[test]
    fn descriptions_are_sanitized() {
        assert_eq!(sanitize_description("bad\n\"proof\"\\ ok"), "badproof ok");
        assert_eq!(sanitize_description(&"x".repeat(1000)).len(), 300);
    }
}
