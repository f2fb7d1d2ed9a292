//! The request and response bodies of the token, nonce, credential and deferred
//! credential endpoints, shared by this client and giayto's issuer so both sides speak
//! the same bytes. Unknown members are ignored when parsing.

use serde::{Deserialize, Serialize};

use super::error::{IssuerErrorCode, Oid4vciError};
use super::offer::PRE_AUTHORIZED_CODE_GRANT;
use super::secret::SecretString;

/// A token request (RFC 6749 §4.1.3 with OpenID4VCI §6.1), sent form-encoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRequest {
    /// The grant type.
    pub grant_type: String,
    /// The pre-authorized code (pre-authorized grant).
    #[serde(
        rename = "pre-authorized_code",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pre_authorized_code: Option<SecretString>,
    /// The Transaction Code typed by the holder, when the offer asked for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_code: Option<SecretString>,
    /// The client id, when the wallet identifies itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The refresh token (refresh token grant, RFC 6749 section 6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<SecretString>,
}

/// The OAuth 2.0 refresh token grant type (RFC 6749 section 6).
pub const REFRESH_TOKEN_GRANT: &str = "refresh_token";

impl TokenRequest {
    /// A pre-authorized code token request.
    pub fn pre_authorized(
        pre_authorized_code: SecretString,
        tx_code: Option<SecretString>,
        client_id: Option<String>,
    ) -> TokenRequest {
        TokenRequest {
            grant_type: PRE_AUTHORIZED_CODE_GRANT.to_owned(),
            pre_authorized_code: Some(pre_authorized_code),
            tx_code,
            client_id,
            refresh_token: None,
        }
    }

    /// A refresh token request (RFC 6749 section 6): a new access token for the same
    /// authorization, as OpenID4VCI 1.0 section 6.3 allows for obtaining credentials again.
    pub fn refresh(refresh_token: SecretString, client_id: Option<String>) -> TokenRequest {
        TokenRequest {
            grant_type: REFRESH_TOKEN_GRANT.to_owned(),
            pre_authorized_code: None,
            tx_code: None,
            client_id,
            refresh_token: Some(refresh_token),
        }
    }

    /// The `application/x-www-form-urlencoded` body.
    pub fn to_form(&self) -> Result<String, Oid4vciError> {
        serde_urlencoded::to_string(self)
            .map_err(|e| Oid4vciError::Unsupported(format!("form encoding: {e}")))
    }

    /// Parses a form-encoded body (a repeated parameter is refused, RFC 6749 §3.2).
    pub fn from_form(body: &[u8]) -> Result<TokenRequest, serde_urlencoded::de::Error> {
        serde_urlencoded::from_bytes(body)
    }
}

/// A successful token response (RFC 6749 §5.1 with OpenID4VCI §6.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// The access token.
    pub access_token: SecretString,
    /// `Bearer` (case-insensitive) or `DPoP`.
    pub token_type: String,
    /// Lifetime in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    /// Granted scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Authorization details, with `credential_identifiers` for `openid_credential`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_details: Option<Vec<AuthorizationDetail>>,
    /// A refresh token for more access tokens later (RFC 6749 section 5.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<SecretString>,
}

/// The authorization details type of OpenID4VCI.
pub const OPENID_CREDENTIAL: &str = "openid_credential";

/// One authorization details object (RFC 9396, OpenID4VCI §5.1.1 and §6.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationDetail {
    /// The type, `openid_credential` for OpenID4VCI.
    #[serde(rename = "type")]
    pub type_: String,
    /// The configuration the details are about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_configuration_id: Option<String>,
    /// Credential Datasets the access token can obtain; when given, the credential request
    /// uses one of them as `credential_identifier`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_identifiers: Option<Vec<String>>,
    /// Locations (the credential issuer identifier).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locations: Option<Vec<String>>,
}

/// A nonce response (OpenID4VCI §7.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonceResponse {
    /// The fresh challenge for key proofs.
    pub c_nonce: String,
}

/// A credential request (OpenID4VCI §8.2). Exactly one of `credential_identifier` and
/// `credential_configuration_id` is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialRequest {
    /// A Credential Dataset from the token response's `credential_identifiers`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_identifier: Option<String>,
    /// A key of `credential_configurations_supported`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_configuration_id: Option<String>,
    /// Key proofs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proofs: Option<Proofs>,
    /// Response encryption parameters (this client never sends them; the issuer side
    /// reads them to refuse what it does not support).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_response_encryption: Option<serde_json::Value>,
}

/// The `proofs` object: exactly one proof type with a non-empty array.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proofs {
    /// `jwt` key proofs (OpenID4VCI Appendix F.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt: Option<Vec<String>>,
    /// Any other proof type, kept as JSON.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// A credential response (OpenID4VCI §8.3): `credentials`, or `transaction_id` with
/// `interval` for deferred issuance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialResponse {
    /// The issued credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Vec<IssuedCredential>>,
    /// The deferred issuance transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// Seconds to wait before asking the deferred endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<u64>,
    /// Id for the notification endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_id: Option<String>,
}

impl CredentialResponse {
    /// An immediate response carrying string credentials (such as SD-JWT VCs).
    pub fn issued(credentials: Vec<String>) -> CredentialResponse {
        CredentialResponse {
            credentials: Some(
                credentials
                    .into_iter()
                    .map(|c| IssuedCredential {
                        credential: serde_json::Value::String(c),
                    })
                    .collect(),
            ),
            transaction_id: None,
            interval: None,
            notification_id: None,
        }
    }

    /// A deferred response.
    pub fn deferred(transaction_id: impl Into<String>, interval: u64) -> CredentialResponse {
        CredentialResponse {
            credentials: None,
            transaction_id: Some(transaction_id.into()),
            interval: Some(interval),
            notification_id: None,
        }
    }
}

/// One element of `credentials`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedCredential {
    /// The credential: a string (SD-JWT VC, base64url binary formats) or an object.
    pub credential: serde_json::Value,
}

/// A deferred credential request (OpenID4VCI §9.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeferredCredentialRequest {
    /// The transaction from the credential response.
    pub transaction_id: String,
}

/// An error response body of the token (RFC 6749 §5.2), credential (OpenID4VCI §8.3.1.2)
/// or deferred credential (§9.3) endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// The error code.
    pub error: IssuerErrorCode,
    /// Human-readable ASCII text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

impl ErrorResponse {
    /// An error response with an optional description.
    pub fn new(error: IssuerErrorCode, description: Option<&str>) -> ErrorResponse {
        ErrorResponse {
            error,
            error_description: description.map(super::error::sanitize_description),
        }
    }
}
