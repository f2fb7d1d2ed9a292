//! One document as the wallet keeps it: the issued SD-JWT VC with all its disclosures, the
//! alias of its holder key, and a snapshot of its display labels.

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
        };
        let printed = format!("{stored:?}");
        assert_eq!(
            printed,
            r#"StoredCredential { id: "doc-1", vct: "urn:vn:cccd", .. }"#
        );
    }
}
