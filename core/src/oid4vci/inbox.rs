//! The citizen account's inbox (giayto, issue 14): the list of every document published for
//! the citizen, served by the issuer at [`INBOX_PATH`] under a DPoP-bound access token and
//! read by the wallet's account sync. One message type for both sides. Each entry names
//! its `credential_identifier` (OpenID4VCI 1.0 section 6.2) while it can be received.

use serde::{Deserialize, Serialize};

/// The path of the inbox on the Credential Issuer.
pub const INBOX_PATH: &str = "/account/inbox";

/// The path where an account's phone asks to move the account to a new phone.
pub const TRANSFER_PATH: &str = "/account/transfer";

/// The inbox URL of a Credential Issuer identifier (`https://issuer` + [`INBOX_PATH`]).
pub fn inbox_url(credential_issuer: &str) -> String {
    format!("{}{INBOX_PATH}", credential_issuer.trim_end_matches('/'))
}

/// The transfer URL of a Credential Issuer identifier (`https://issuer` + [`TRANSFER_PATH`]).
pub fn transfer_url(credential_issuer: &str) -> String {
    format!("{}{TRANSFER_PATH}", credential_issuer.trim_end_matches('/'))
}

/// The offer a transfer gives the old phone to show the new one (the members of the
/// issuer's answer the wallet reads).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferOffer {
    /// The activation offer (`openid-credential-offer://?credential_offer_uri=...`).
    pub offer_uri: String,
    /// The code to type on the new phone.
    pub tx_code: String,
    /// Unix seconds after which the offer is refused.
    pub expires_at: i64,
}

/// The agency that published a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publisher {
    /// Agency id.
    pub id: String,
    /// Vietnamese name.
    pub name_vi: String,
    /// English name.
    pub name_en: String,
    /// Its credentials' `iss`.
    pub issuer: String,
}

/// One document published for the citizen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxEntry {
    /// What to ask the credential endpoint for (OpenID4VCI 1.0 section 8.2), while the
    /// document can be received (valid, not expired); a reissue gives a new one.
    #[serde(default)]
    pub credential_identifier: Option<String>,
    /// The credential configuration (the document type's id).
    pub credential_configuration_id: String,
    /// The document type.
    pub vct: String,
    /// The publisher's own id of the document.
    pub document_id: String,
    /// Who published it.
    pub publisher: Publisher,
    /// `valid`, `suspended` or `revoked`.
    pub state: String,
    /// Bumped by each reissue.
    pub version: i64,
    /// When it was published, Unix seconds.
    pub published_at: i64,
    /// When its data or state last changed, Unix seconds.
    pub updated_at: i64,
    /// Its expiry, Unix seconds.
    pub valid_until: i64,
    /// The child whose document this is, when the account holds it as the child's
    /// guardian (its credential then carries a `representation` claim naming the guardian
    /// and ends with the guardianship).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<String>,
}

/// The account's inbox: every document published for the citizen, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inbox {
    /// The citizen's personal identification number.
    pub citizen_id: String,
    /// The documents.
    pub documents: Vec<InboxEntry>,
}
