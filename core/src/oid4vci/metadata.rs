//! Credential Issuer metadata (OpenID4VCI §12.2) and OAuth 2.0 Authorization Server
//! metadata (RFC 8414 with the OpenID4VCI §12.3 addition). Unknown members are ignored, as
//! both specs require, so metadata of any standard issuer parses.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::error::{Endpoint, Oid4vciError};
use super::offer::PRE_AUTHORIZED_CODE_GRANT;
use super::urls::{parse_identifier, parse_secure_url};

/// Credential Issuer metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialIssuerMetadata {
    /// The Credential Issuer identifier; must equal the one the metadata was fetched for.
    pub credential_issuer: String,
    /// Authorization servers the issuer relies on; absent: the issuer is its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_servers: Option<Vec<String>>,
    /// The Credential Endpoint.
    pub credential_endpoint: String,
    /// The Nonce Endpoint; absent: the issuer does not use `c_nonce`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce_endpoint: Option<String>,
    /// The Deferred Credential Endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deferred_credential_endpoint: Option<String>,
    /// The Notification Endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_endpoint: Option<String>,
    /// Encryption of credential requests, if supported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_request_encryption: Option<RequestEncryption>,
    /// Encryption of credential responses, if supported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_response_encryption: Option<ResponseEncryption>,
    /// Batch issuance support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_credential_issuance: Option<BatchCredentialIssuance>,
    /// Display properties of the issuer, per language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<Vec<IssuerDisplay>>,
    /// The credentials the issuer can issue, by configuration id.
    pub credential_configurations_supported: BTreeMap<String, CredentialConfiguration>,
}

/// `credential_request_encryption`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestEncryption {
    /// Keys to encrypt requests to.
    pub jwks: serde_json::Value,
    /// Supported JWE `enc` values.
    pub enc_values_supported: Vec<String>,
    /// Supported JWE `zip` values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip_values_supported: Option<Vec<String>>,
    /// Whether every request must be encrypted.
    pub encryption_required: bool,
}

/// `credential_response_encryption`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseEncryption {
    /// Supported JWE `alg` values.
    pub alg_values_supported: Vec<String>,
    /// Supported JWE `enc` values.
    pub enc_values_supported: Vec<String>,
    /// Supported JWE `zip` values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip_values_supported: Option<Vec<String>>,
    /// Whether every response is encrypted (the wallet must then send keys).
    pub encryption_required: bool,
}

/// `batch_credential_issuance`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchCredentialIssuance {
    /// The largest `proofs` array accepted.
    pub batch_size: u32,
}

/// Display properties of an issuer for one language.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerDisplay {
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// BCP 47 language tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Logo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<Image>,
}

/// A logo or background image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    /// Where to get it (`https:` or `data:`).
    pub uri: String,
    /// Alternative text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alt_text: Option<String>,
}

/// An algorithm identifier: a JOSE name, or a COSE number (ISO mdoc profiles).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AlgorithmIdentifier {
    /// A JOSE algorithm name such as `ES256`.
    Name(String),
    /// A COSE algorithm number such as `-7`.
    Cose(i64),
}

/// One entry of `credential_configurations_supported`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialConfiguration {
    /// The Credential Format identifier, e.g. `dc+sd-jwt`.
    pub format: String,
    /// OAuth scope for this credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// SD-JWT VC type (format `dc+sd-jwt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vct: Option<String>,
    /// ISO mdoc document type (format `mso_mdoc`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doctype: Option<String>,
    /// How the credential is bound to a key (`jwk`, `cose_key`, `did:...`); absent: no
    /// key binding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cryptographic_binding_methods_supported: Option<Vec<String>>,
    /// Algorithms the issuer signs the credential with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_signing_alg_values_supported: Option<Vec<AlgorithmIdentifier>>,
    /// Accepted key proof types, by name (`jwt`, ...); absent: no proof needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof_types_supported: Option<BTreeMap<String, ProofTypeMetadata>>,
    /// Display and claims information.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_metadata: Option<CredentialMetadata>,
    /// Display information where pre-1.0 drafts put it (read as a fallback).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<Vec<CredentialDisplay>>,
}

impl CredentialConfiguration {
    /// The display entries: `credential_metadata.display`, else the pre-1.0 `display`.
    pub fn display_entries(&self) -> &[CredentialDisplay] {
        self.credential_metadata
            .as_ref()
            .and_then(|m| m.display.as_deref())
            .or(self.display.as_deref())
            .unwrap_or_default()
    }
}

/// Metadata of one proof type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProofTypeMetadata {
    /// Algorithms the issuer accepts for this proof type.
    pub proof_signing_alg_values_supported: Vec<AlgorithmIdentifier>,
    /// Key attestation requirements, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_attestations_required: Option<serde_json::Value>,
}

/// `credential_metadata` of a configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CredentialMetadata {
    /// Display properties per language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<Vec<CredentialDisplay>>,
    /// Claims description objects, kept as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Vec<serde_json::Value>>,
}

/// Display properties of a credential for one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialDisplay {
    /// Display name.
    pub name: String,
    /// BCP 47 language tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Logo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<Image>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// CSS background colour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_color: Option<String>,
    /// Background image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_image: Option<Image>,
    /// CSS text colour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_color: Option<String>,
}

fn invalid_issuer_metadata(reason: impl Into<String>) -> Oid4vciError {
    Oid4vciError::InvalidMetadata {
        endpoint: Endpoint::IssuerMetadata,
        reason: reason.into(),
    }
}

impl CredentialIssuerMetadata {
    /// Checks the metadata fetched for `expected_issuer`: identical `credential_issuer`
    /// (simple string comparison, OpenID4VCI §12.2.4), secure endpoints, valid
    /// authorization server identifiers, and no mandatory encryption (not supported).
    pub fn validate(&self, expected_issuer: &str) -> Result<(), Oid4vciError> {
        if self.credential_issuer != expected_issuer {
            return Err(Oid4vciError::IssuerMismatch {
                endpoint: Endpoint::IssuerMetadata,
                expected: expected_issuer.to_owned(),
                found: self.credential_issuer.chars().take(120).collect(),
            });
        }
        parse_secure_url(&self.credential_endpoint)?;
        for endpoint in [
            &self.nonce_endpoint,
            &self.deferred_credential_endpoint,
            &self.notification_endpoint,
        ]
        .into_iter()
        .flatten()
        {
            parse_secure_url(endpoint)?;
        }
        if let Some(servers) = &self.authorization_servers {
            if servers.is_empty() {
                return Err(invalid_issuer_metadata("authorization_servers is empty"));
            }
            for server in servers {
                parse_identifier(server)?;
            }
        }
        if self
            .credential_request_encryption
            .as_ref()
            .is_some_and(|e| e.encryption_required)
            || self
                .credential_response_encryption
                .as_ref()
                .is_some_and(|e| e.encryption_required)
        {
            return Err(Oid4vciError::Unsupported(
                "the issuer requires encrypted credential requests or responses".into(),
            ));
        }
        Ok(())
    }

    /// The configuration of that id.
    pub fn configuration(&self, id: &str) -> Result<&CredentialConfiguration, Oid4vciError> {
        self.credential_configurations_supported
            .get(id)
            .ok_or_else(|| Oid4vciError::UnknownConfiguration(id.chars().take(120).collect()))
    }
}

/// OAuth 2.0 Authorization Server metadata (RFC 8414 §2, OpenID4VCI §12.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationServerMetadata {
    /// The authorization server's issuer identifier.
    pub issuer: String,
    /// The token endpoint (RFC 8414 makes it optional only for implicit-only servers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint: Option<String>,
    /// The authorization endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<String>,
    /// The pushed authorization request endpoint (RFC 9126).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushed_authorization_request_endpoint: Option<String>,
    /// The JWKS of the authorization server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// Supported grant types; absent means `authorization_code` and `implicit` per RFC 8414,
    /// but pre-authorized-only servers often omit it, so absence is not treated as refusal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_types_supported: Option<Vec<String>>,
    /// Supported response types (may be omitted by pre-authorized-only servers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_types_supported: Option<Vec<String>>,
    /// Supported client authentication methods at the token endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// DPoP algorithms (RFC 9449), if the server binds tokens with DPoP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_signing_alg_values_supported: Option<Vec<String>>,
    /// Whether a pre-authorized token request without `client_id` is accepted (default
    /// false).
    #[serde(
        rename = "pre-authorized_grant_anonymous_access_supported",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pre_authorized_grant_anonymous_access_supported: Option<bool>,
}

impl AuthorizationServerMetadata {
    /// Checks the metadata fetched for `expected_issuer`: identical `issuer` (RFC 8414
    /// §3.3), a secure token endpoint, and the pre-authorized grant not excluded by
    /// `grant_types_supported`. Returns the token endpoint.
    pub fn validate(&self, expected_issuer: &str) -> Result<&str, Oid4vciError> {
        self.validate_for(expected_issuer, PRE_AUTHORIZED_CODE_GRANT)
    }

    /// As [`AuthorizationServerMetadata::validate`], for the grant type `grant` (the
    /// pre-authorized code, or `refresh_token` to come back for more credentials).
    pub fn validate_for(&self, expected_issuer: &str, grant: &str) -> Result<&str, Oid4vciError> {
        if self.issuer != expected_issuer {
            return Err(Oid4vciError::IssuerMismatch {
                endpoint: Endpoint::AuthorizationServerMetadata,
                expected: expected_issuer.to_owned(),
                found: self.issuer.chars().take(120).collect(),
            });
        }
        let token_endpoint =
            self.token_endpoint
                .as_deref()
                .ok_or_else(|| Oid4vciError::InvalidMetadata {
                    endpoint: Endpoint::AuthorizationServerMetadata,
                    reason: "no token_endpoint".into(),
                })?;
        parse_secure_url(token_endpoint)?;
        if let Some(grants) = &self.grant_types_supported
            && !grants.iter().any(|g| g == grant)
        {
            return Err(Oid4vciError::Unsupported(format!(
                "the authorization server does not support the {grant} grant"
            )));
        }
        Ok(token_endpoint)
    }
}
