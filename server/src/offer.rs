//! Credential offers on the wire (OpenID4VCI section 4.1): the offer object with its
//! pre-authorized code grant and `tx_code` description, its by-value and by-reference
//! `openid-credential-offer://` URIs, and the wrapped copy of the code kept while it is open
//! (so the offer can be served by reference and an idempotent publish can answer again).

use giayto_core::catalogue::Purpose;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::domain::documents::OfferView;
use crate::domain::{DomainError, DomainResult, Services};

/// Grant type of the pre-authorized code flow.
pub const PRE_AUTHORIZED_GRANT: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";

/// The secrets of one open offer, wrapped at rest. Never logged, never in `Debug`.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct OfferSecret {
    /// The pre-authorized code.
    pub code: String,
    /// The transaction code.
    pub tx_code: String,
}

impl std::fmt::Debug for OfferSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OfferSecret(..)")
    }
}

/// Hash purpose of an offer's `tx_code` (per offer, so equal codes never hash alike).
pub fn tx_code_purpose(offer_id: &str) -> String {
    format!("tx-code:{offer_id}")
}

/// Associated data of an offer's wrapped secret.
pub fn wrap_context(offer_id: &str) -> String {
    format!("offer:{offer_id}")
}

/// Unwraps an offer's secret.
pub fn unwrap_secret(
    services: &Services,
    offer_id: &str,
    wrapped: &[u8],
) -> DomainResult<OfferSecret> {
    let plain = services.master.unwrap(&wrap_context(offer_id), wrapped)?;
    serde_json::from_slice(&plain).map_err(|e| DomainError::Internal(e.to_string()))
}

/// The credential configuration id of a `vct` in this issuer's metadata.
pub fn configuration_id(vct: &str) -> DomainResult<String> {
    giayto_core::catalogue::by_vct(vct)
        .map(|t| t.id.to_string())
        .ok_or(DomainError::NotFound("document type"))
}

/// The credential configuration id of a purpose type: the document id, `.`, the preset
/// (`driving_licence.traffic_stop`).
pub fn purpose_configuration_id(purpose: &Purpose) -> String {
    format!("{}.{}", purpose.document().id, purpose.preset().name)
}

/// Every credential configuration an offer of a document of type `vct` covers: the full
/// credential first, then one per purpose type.
pub fn configuration_ids(vct: &str) -> DomainResult<Vec<String>> {
    let document =
        giayto_core::catalogue::by_vct(vct).ok_or(DomainError::NotFound("document type"))?;
    let mut ids = vec![document.id.to_owned()];
    ids.extend(document.purposes().map(|p| purpose_configuration_id(&p)));
    Ok(ids)
}

/// What configuration `id` issues for a document of type `vct`: `Some(None)` for the full
/// credential, `Some(Some(purpose))` for a purpose type, `None` when the document's offer
/// does not cover it.
pub fn configuration_of(vct: &str, id: &str) -> Option<Option<Purpose>> {
    let document = giayto_core::catalogue::by_vct(vct)?;
    if id == document.id {
        return Some(None);
    }
    document
        .purposes()
        .find(|p| purpose_configuration_id(p) == id)
        .map(Some)
}

/// The credential offer object (OpenID4VCI 1.0 section 4.1.1) of a pre-authorized code
/// grant, as served by reference and put in the by-value URI; members in the order they
/// are written.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CredentialOffer {
    /// This issuer's URL.
    pub credential_issuer: String,
    /// The configurations the offer covers (the full credential first).
    pub credential_configuration_ids: Vec<String>,
    /// The one grant.
    pub grants: OfferGrants,
}

/// The `grants` member of an offer: the pre-authorized code grant only.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OfferGrants {
    /// Under the grant type's URN ([`PRE_AUTHORIZED_GRANT`]).
    #[serde(rename = "urn:ietf:params:oauth:grant-type:pre-authorized_code")]
    pub pre_authorized_code: PreAuthorizedCodeGrant,
}

/// The pre-authorized code grant (OpenID4VCI 1.0 section 4.1.1).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PreAuthorizedCodeGrant {
    /// The code the wallet redeems at the token endpoint.
    #[serde(rename = "pre-authorized_code")]
    pub pre_authorized_code: String,
    /// What the wallet asks the citizen for.
    pub tx_code: TxCodeDescription,
}

/// The description of the transaction code (OpenID4VCI 1.0 section 4.1.1, `tx_code`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TxCodeDescription {
    /// Always `numeric`.
    pub input_mode: String,
    /// Number of digits.
    pub length: usize,
    /// Shown to the citizen, in Vietnamese and English.
    pub description: String,
}

/// The description shown with the transaction code prompt.
const TX_CODE_DESCRIPTION: &str =
    "Mã giao dịch do cơ quan cấp gửi riêng / the transaction code the agency sent you separately";

/// The offer object.
pub fn offer_object(
    services: &Services,
    vct: &str,
    secret: &OfferSecret,
) -> DomainResult<CredentialOffer> {
    Ok(CredentialOffer {
        credential_issuer: services.config.public_url.clone(),
        credential_configuration_ids: configuration_ids(vct)?,
        grants: OfferGrants {
            pre_authorized_code: PreAuthorizedCodeGrant {
                pre_authorized_code: secret.code.clone(),
                tx_code: TxCodeDescription {
                    input_mode: "numeric".into(),
                    length: secret.tx_code.len(),
                    description: TX_CODE_DESCRIPTION.into(),
                },
            },
        },
    })
}

fn percent(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// URL where the offer object is served (by reference).
pub fn offer_url(services: &Services, offer_id: &str) -> String {
    format!("{}/offers/{offer_id}", services.config.public_url)
}

/// Start of a by-value offer URI (OpenID4VCI 1.0 section 4.1), before the percent-encoded
/// offer object.
const BY_VALUE_PREFIX: &str = "openid-credential-offer://?credential_offer=";

/// Builds what the agency hands to the citizen.
pub fn view(
    services: &Services,
    offer_id: &str,
    vct: &str,
    secret: &OfferSecret,
    expires_at: i64,
) -> DomainResult<OfferView> {
    let object = offer_object(services, vct, secret)?;
    let json = serde_json::to_string(&object).map_err(|e| DomainError::Internal(e.to_string()))?;
    let url = offer_url(services, offer_id);
    let mut by_value = String::with_capacity(BY_VALUE_PREFIX.len() + json.len() * 3 / 2);
    by_value.push_str(BY_VALUE_PREFIX);
    by_value.extend(url::form_urlencoded::byte_serialize(json.as_bytes()));
    Ok(OfferView {
        offer_uri_by_value: by_value,
        offer_uri_by_reference: format!(
            "openid-credential-offer://?credential_offer_uri={}",
            percent(&url)
        ),
        qr_png_url: format!("{url}/qr.png"),
        credential_offer_uri: url,
        credential_offer: object,
        tx_code: secret.tx_code.clone(),
        expires_at,
    })
}
