//! The Credential Offer (OpenID4VCI §4.1): its JSON object, the offer URI that carries it by
//! value (`credential_offer`) or by reference (`credential_offer_uri`), and fetching an
//! offer by reference.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use url::Url;

use super::error::{Endpoint, Oid4vciError};
use super::http::{HttpRequest, HttpResponse, read_strict_json};
use super::secret::SecretString;
use super::urls::{parse_identifier, parse_secure_url};

/// The grant type of the Pre-Authorized Code Flow.
pub const PRE_AUTHORIZED_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";

/// The custom URL scheme of a wallet's Credential Offer Endpoint (OpenID4VCI §12.1.1).
pub const CREDENTIAL_OFFER_SCHEME: &str = "openid-credential-offer://";

/// The longest offer URI accepted (a QR code holds far less).
pub const MAX_OFFER_URI_BYTES: usize = 64 * 1024;

/// The longest `tx_code.description` the spec allows.
const MAX_TX_CODE_DESCRIPTION_CHARS: usize = 300;

/// A Credential Offer object (OpenID4VCI §4.1.1). Unknown members are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialOffer {
    /// The Credential Issuer identifier.
    pub credential_issuer: String,
    /// Offered keys of the issuer's `credential_configurations_supported` (non-empty,
    /// unique).
    pub credential_configuration_ids: Vec<String>,
    /// Grants the authorization server is prepared to process for this offer.
    #[serde(default, skip_serializing_if = "Grants::is_empty")]
    pub grants: Grants,
}

/// The `grants` object of an offer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grants {
    /// The Pre-Authorized Code grant.
    #[serde(
        rename = "urn:ietf:params:oauth:grant-type:pre-authorized_code",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pre_authorized_code: Option<PreAuthorizedCodeGrant>,
    /// The Authorization Code grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_code: Option<AuthorizationCodeGrant>,
}

impl Grants {
    /// No grant at all.
    pub fn is_empty(&self) -> bool {
        self.pre_authorized_code.is_none() && self.authorization_code.is_none()
    }
}

/// Parameters of the Pre-Authorized Code grant in an offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreAuthorizedCodeGrant {
    /// The short-lived, single-use pre-authorized code (a bearer secret).
    #[serde(rename = "pre-authorized_code")]
    pub pre_authorized_code: SecretString,
    /// Present (even empty) when the token request needs a Transaction Code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_code: Option<TxCodeSpec>,
    /// Which of the issuer's authorization servers to use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_server: Option<String>,
}

/// What the Transaction Code looks like, for the input screen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxCodeSpec {
    /// `numeric` (default) or `text`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_mode: Option<TxCodeInputMode>,
    /// The code's length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u32>,
    /// How the holder obtains the code (at most 300 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl TxCodeSpec {
    /// The input mode, `numeric` when absent.
    pub fn input_mode(&self) -> TxCodeInputMode {
        self.input_mode.unwrap_or(TxCodeInputMode::Numeric)
    }
}

/// The character set of a Transaction Code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TxCodeInputMode {
    /// Digits only.
    Numeric,
    /// Any characters.
    Text,
}

/// Parameters of the Authorization Code grant in an offer (this client does not run that
/// flow, but parses and keeps it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationCodeGrant {
    /// Opaque issuer state to send back in the authorization request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_state: Option<String>,
    /// Which of the issuer's authorization servers to use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_server: Option<String>,
}

impl CredentialOffer {
    /// An offer for the Pre-Authorized Code Flow.
    pub fn pre_authorized(
        credential_issuer: impl Into<String>,
        credential_configuration_ids: Vec<String>,
        pre_authorized_code: SecretString,
        tx_code: Option<TxCodeSpec>,
    ) -> CredentialOffer {
        CredentialOffer {
            credential_issuer: credential_issuer.into(),
            credential_configuration_ids,
            grants: Grants {
                pre_authorized_code: Some(PreAuthorizedCodeGrant {
                    pre_authorized_code,
                    tx_code,
                    authorization_server: None,
                }),
                authorization_code: None,
            },
        }
    }

    /// Checks what the spec requires of an offer: a valid issuer identifier, a non-empty
    /// list of unique configuration ids, a non-empty pre-authorized code, a short
    /// `tx_code` description, and a secure `authorization_server`.
    pub fn validate(&self) -> Result<(), Oid4vciError> {
        parse_identifier(&self.credential_issuer)?;
        if self.credential_configuration_ids.is_empty() {
            return Err(invalid("credential_configuration_ids is empty"));
        }
        let mut seen = HashSet::new();
        for id in &self.credential_configuration_ids {
            if id.is_empty() {
                return Err(invalid("empty credential configuration id"));
            }
            if !seen.insert(id.as_str()) {
                return Err(invalid("credential_configuration_ids has duplicates"));
            }
        }
        if let Some(grant) = &self.grants.pre_authorized_code {
            if grant.pre_authorized_code.expose().is_empty() {
                return Err(invalid("empty pre-authorized_code"));
            }
            if let Some(description) = grant.tx_code.as_ref().and_then(|t| t.description.as_ref())
                && description.chars().count() > MAX_TX_CODE_DESCRIPTION_CHARS
            {
                return Err(invalid("tx_code description longer than 300 characters"));
            }
            if let Some(server) = &grant.authorization_server {
                parse_identifier(server)?;
            }
        }
        if let Some(server) = self
            .grants
            .authorization_code
            .as_ref()
            .and_then(|g| g.authorization_server.as_ref())
        {
            parse_identifier(server)?;
        }
        Ok(())
    }

    /// Parses and validates an offer object from JSON.
    pub fn from_json(json: &[u8]) -> Result<CredentialOffer, Oid4vciError> {
        if json.len() > MAX_OFFER_URI_BYTES {
            return Err(invalid("offer object too large"));
        }
        let offer: CredentialOffer =
            crate::limits::parse_json(json).map_err(Oid4vciError::InvalidOffer)?;
        offer.validate()?;
        Ok(offer)
    }

    /// The offer by value as a wallet link or QR payload:
    /// `openid-credential-offer://?credential_offer=<form-urlencoded JSON>`.
    pub fn to_uri(&self) -> Result<String, Oid4vciError> {
        let json = serde_json::to_string(self).map_err(|e| invalid(&e.to_string()))?;
        Ok(format!(
            "{CREDENTIAL_OFFER_SCHEME}?{}",
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("credential_offer", &json)
                .finish()
        ))
    }
}

fn invalid(reason: &str) -> Oid4vciError {
    Oid4vciError::InvalidOffer(reason.to_owned())
}

/// An offer by reference as a wallet link or QR payload:
/// `openid-credential-offer://?credential_offer_uri=<form-urlencoded URL>`.
pub fn offer_by_reference_uri(credential_offer_uri: &str) -> String {
    format!(
        "{CREDENTIAL_OFFER_SCHEME}?{}",
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("credential_offer_uri", credential_offer_uri)
            .finish()
    )
}

/// Where an offer URI put the offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfferSource {
    /// The offer itself, already validated.
    ByValue(CredentialOffer),
    /// A secure URL to fetch the offer from (see [`fetch_offer_request`]).
    ByReference(String),
}

/// Parses an offer URI: `openid-credential-offer://?credential_offer=...` or
/// `...?credential_offer_uri=https://...`, or any other URL (for example an `https` link)
/// carrying exactly one of those two query parameters exactly once.
pub fn parse_offer_uri(uri: &str) -> Result<OfferSource, Oid4vciError> {
    if uri.len() > MAX_OFFER_URI_BYTES {
        return Err(Oid4vciError::InvalidOfferUri("too long"));
    }
    let parsed = Url::parse(uri.trim()).map_err(|_| Oid4vciError::InvalidOfferUri("not a URI"))?;
    let mut by_value = None;
    let mut by_reference = None;
    for (name, value) in parsed.query_pairs() {
        let slot = match name.as_ref() {
            "credential_offer" => &mut by_value,
            "credential_offer_uri" => &mut by_reference,
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return Err(Oid4vciError::InvalidOfferUri("parameter repeated"));
        }
    }
    match (by_value, by_reference) {
        (Some(json), None) => Ok(OfferSource::ByValue(CredentialOffer::from_json(
            json.as_bytes(),
        )?)),
        (None, Some(reference)) => {
            parse_secure_url(&reference)?;
            Ok(OfferSource::ByReference(reference.into_owned()))
        }
        (Some(_), Some(_)) => Err(Oid4vciError::InvalidOfferUri(
            "both credential_offer and credential_offer_uri",
        )),
        (None, None) => Err(Oid4vciError::InvalidOfferUri(
            "neither credential_offer nor credential_offer_uri",
        )),
    }
}

/// The GET request fetching an offer by reference (OpenID4VCI §4.1.3).
pub fn fetch_offer_request(credential_offer_uri: &str) -> Result<HttpRequest, Oid4vciError> {
    let url = parse_secure_url(credential_offer_uri)?;
    Ok(HttpRequest::get(url))
}

/// Reads the response to [`fetch_offer_request`]: status 200, `application/json`, a valid
/// offer.
pub fn on_offer(response: &HttpResponse) -> Result<CredentialOffer, Oid4vciError> {
    let offer: CredentialOffer = read_strict_json(response, Endpoint::CredentialOffer)?;
    offer.validate()?;
    Ok(offer)
}
