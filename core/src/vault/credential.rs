//! One document as the wallet keeps it: the issued SD-JWT VC with all its disclosures, the
//! alias of its holder key, a snapshot of its display labels, and its purpose credentials.

use serde::{Deserialize, Serialize};

/// A credential stored in the [`Vault`](super::Vault).
///
/// Not a secret key, but personal data: `Debug` shows only `id` and `vct`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredCredential {
    /// Wallet-local identifier, unique within a vault.
    pub id: String,
    /// The SD-JWT VC type (`vct`) of the document.
    pub vct: String,
    /// Credential format identifier, `dc+sd-jwt` for SD-JWT VC.
    pub format: String,
    /// The SD-JWT exactly as issued: `<jws>~<disclosure>~...~`, every disclosure kept so any
    /// subset can be presented later.
    pub credential: String,
    /// Alias of the holder's private key in the platform key store.
    pub holder_key_id: String,
    /// The issuer identifier (`iss`).
    pub issuer: String,
    /// When the wallet received it, in seconds since the Unix epoch.
    pub received_at: i64,
    /// Snapshot of names and labels for display (from the type metadata), kept so the wallet
    /// can show the document offline.
    pub display: serde_json::Value,
    /// The document's purpose credentials, received in batches; absent in vaults written
    /// before they existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub purposes: Vec<PurposeCredential>,
    /// How to ask the issuer for more purpose credentials, when it gave a refresh token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refill: Option<RefillGrant>,
    /// The citizen-account inbox entry it came from (issue 14), with the state the last
    /// sync saw; `None` for a document received by its own offer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<super::AccountLink>,
}

/// What a wallet keeps to refill a document's purpose credentials without the holder: the
/// issuer, its purpose configurations and the OAuth refresh token (RFC 6749 section 6) of
/// the issuance. The token is a bearer secret: it lives only in the encrypted vault and
/// `Debug` never shows it.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct RefillGrant {
    /// The Credential Issuer identifier.
    pub credential_issuer: String,
    /// The purpose credential configurations, by preset name.
    pub configurations: std::collections::BTreeMap<String, String>,
    /// The latest refresh token (rotated on each use).
    pub refresh_token: String,
}

impl std::fmt::Debug for RefillGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefillGrant")
            .field("credential_issuer", &self.credential_issuer)
            .field("configurations", &self.configurations)
            .finish_non_exhaustive()
    }
}

/// A purpose credential kept with its document: one preset's claims, none selectively
/// disclosable, bound to its own holder key and status index, shown once
/// (see [`crate::catalogue::Purpose`]).
///
/// Personal data: `Debug` shows only the preset and whether it was shown.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct PurposeCredential {
    /// The preset it serves (`traffic_stop`), the last segment of its `vct`.
    pub preset: String,
    /// The SD-JWT VC as issued (`<jws>~`: no disclosures).
    pub credential: String,
    /// Alias of its own holder key in the platform key store.
    pub holder_key_id: String,
    /// When the wallet received it, in seconds since the Unix epoch.
    pub received_at: i64,
    /// When it was last shown, in seconds since the Unix epoch; `None` while unused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shown_at: Option<i64>,
}

impl std::fmt::Debug for PurposeCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PurposeCredential")
            .field("preset", &self.preset)
            .field("shown_at", &self.shown_at)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for StoredCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredCredential")
            .field("id", &self.id)
            .field("vct", &self.vct)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_credential_body() {
        let stored = StoredCredential {
            id: "doc-1".into(),
            vct: "urn:vn:cccd".into(),
            format: "dc+sd-jwt".into(),
            credential: "eyJhbGciOiJFUzI1NiJ9.secretpayload.sig~disc~".into(),
            holder_key_id: "holder-key".into(),
            issuer: "https://issuer.example".into(),
            received_at: 1_700_000_000,
            display: serde_json::json!({"name": "Nguyen Van A"}),
            purposes: Vec::new(),
            refill: None,
            account: None,
        };
        let printed = format!("{stored:?}");
        assert_eq!(
            printed,
            r#"StoredCredential { id: "doc-1", vct: "urn:vn:cccd", .. }"#
        );
    }
}
