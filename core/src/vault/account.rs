//! The citizen account as the wallet keeps it (issue 14): the issuer's endpoints, the alias
//! of the account key, the DPoP-bound refresh token, and the last inbox with its `ETag`
//! (the citizen's history, readable offline). Each document received through the account
//! carries an [`AccountLink`] to its inbox entry.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::oid4vci::inbox::InboxEntry;

/// The account kept in the [`Vault`](super::Vault). The refresh token is a secret bound
/// to the account key (RFC 9449 section 5): it lives only in the encrypted vault and
/// `Debug` never shows it.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredAccount {
    /// The Credential Issuer identifier.
    pub credential_issuer: String,
    /// Its token endpoint.
    pub token_endpoint: String,
    /// Its credential endpoint.
    pub credential_endpoint: String,
    /// Its nonce endpoint, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce_endpoint: Option<String>,
    /// Its inbox.
    pub inbox_endpoint: String,
    /// Alias of the account key in the platform key store.
    pub account_key_id: String,
    /// The refresh token.
    pub refresh_token: String,
    /// The citizen, once an inbox was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citizen_id: Option<String>,
    /// The `ETag` of the last inbox read, sent as `If-None-Match`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbox_etag: Option<String>,
    /// The last inbox read: who published what and when.
    #[serde(default)]
    pub inbox: Vec<InboxEntry>,
    /// When the last sync finished, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synced_at: Option<i64>,
    /// The status lists the last syncs read for the held documents, by list URI: what makes
    /// the next read conditional ([`crate::wallet::status_check`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub status_lists: BTreeMap<String, CheckedStatusList>,
    /// What the status lists say of held credentials that are not valid, by mark key (the
    /// document's wallet id, or `<id>#<preset>` for one of its purpose credentials):
    /// `revoked`, `suspended`. Absent: valid (or never checked).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub status_marks: BTreeMap<String, String>,
    /// What the syncs saw and received, oldest first (see [`crate::wallet::history`]);
    /// empty in vaults written before it was kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<crate::wallet::history::AccountEvent>,
}

/// A status list as a sync last read it: its `ETag` and the indices it was read for. The
/// next read sends `If-None-Match` only when every index the wallet now needs is among
/// `indices` (a `304` says nothing of an index not read then).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckedStatusList {
    /// The validator the list was served with.
    pub etag: String,
    /// The indices read from it.
    pub indices: Vec<u64>,
}

impl std::fmt::Debug for StoredAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredAccount")
            .field("credential_issuer", &self.credential_issuer)
            .field("inbox_etag", &self.inbox_etag)
            .field("documents", &self.inbox.len())
            .finish_non_exhaustive()
    }
}

/// What ties a stored document to the account's inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountLink {
    /// The identifier it was received by (`<document>.<version>` on giayto's issuer).
    pub credential_identifier: String,
    /// The publisher's agency id.
    pub publisher: String,
    /// The publisher's own document id.
    pub document_id: String,
    /// The version received.
    pub version: i64,
    /// `valid`, `suspended` or `revoked`, as the last sync saw it.
    pub state: String,
}
