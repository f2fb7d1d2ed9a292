//! What this service asks with DCQL (OpenID4VP 1.0 section 6): giayto-core's query types,
//! validity rules, preset queries and answer check ([`giayto_core::oid4vp::dcql`]), held to
//! the service's profile: only `dc+sd-jwt` Credential Queries naming their `vct_values`,
//! always with holder binding, at most [`MAX_CREDENTIAL_QUERIES`] of them.

use giayto_core::oid4vp::{DcqlQuery, FORMAT_DC_SD_JWT, NotAnswered, Oid4vpError};

/// The most Credential Queries in one query this service sends.
pub const MAX_CREDENTIAL_QUERIES: usize = 8;

/// Why a query is refused, or a response does not answer it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// The query breaks a rule of section 6 or of this service's profile.
    #[error("invalid DCQL query: {0}")]
    Invalid(String),
    /// No catalogue document or preset by that name.
    #[error("no preset {preset} for document {document} in the catalogue")]
    UnknownPreset {
        /// The document id.
        document: String,
        /// The preset name.
        preset: String,
    },
    /// The presentations do not answer the query.
    #[error(transparent)]
    NotAnswered(#[from] NotAnswered),
}

/// The query for preset `preset` of catalogue document `document`
/// ([`DcqlQuery::for_preset`]), or [`QueryError::UnknownPreset`].
pub fn for_preset(document: &str, preset: &str) -> Result<DcqlQuery, QueryError> {
    DcqlQuery::for_preset(document, preset).ok_or_else(|| QueryError::UnknownPreset {
        document: crate::shown(document),
        preset: crate::shown(preset),
    })
}

/// Checks `query` by the rules of OpenID4VP 1.0 section 6 ([`DcqlQuery::validate`]) and by
/// this service's profile: 1 to [`MAX_CREDENTIAL_QUERIES`] Credential Queries, each of
/// format `dc+sd-jwt` with `meta.vct_values` (Appendix B.3.5) and holder binding required.
pub fn check(query: &DcqlQuery) -> Result<(), QueryError> {
    query.validate().map_err(|e| match e {
        Oid4vpError::InvalidQuery(reason) => QueryError::Invalid(reason),
        other => QueryError::Invalid(other.to_string()),
    })?;
    if query.credentials.len() > MAX_CREDENTIAL_QUERIES {
        return Err(QueryError::Invalid(format!(
            "credentials must hold 1 to {MAX_CREDENTIAL_QUERIES} queries"
        )));
    }
    for credential in &query.credentials {
        let id = &credential.id;
        if credential.format != FORMAT_DC_SD_JWT {
            return Err(QueryError::Invalid(format!(
                "{id}: format {:?} is not supported (only {FORMAT_DC_SD_JWT})",
                crate::shown(&credential.format)
            )));
        }
        if credential.meta.vct_values.is_none() {
            return Err(QueryError::Invalid(format!(
                "{id}: meta.vct_values is required"
            )));
        }
        if !credential.require_cryptographic_holder_binding {
            return Err(QueryError::Invalid(format!(
                "{id}: this service always requires holder binding"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    const HIC: &str = "https://giayto.gov.vn/vct/health_insurance_card";

    #[test]
    fn malformed_queries_are_refused_with_the_rule_they_break() {
        let nine: Vec<_> = (0..9)
            .map(|n| json!({ "id": format!("q{n}"), "format": "dc+sd-jwt", "meta": { "vct_values": [HIC] } }))
            .collect();
        for (query, rule) in [
            (json!({ "credentials": [] }), "credentials is empty"),
            (json!({ "credentials": nine }), "1 to 8"),
            (
                json!({ "credentials": [{ "id": "", "format": "dc+sd-jwt", "meta": { "vct_values": [HIC] } }] }),
                "[A-Za-z0-9_-]+",
            ),
            (
                json!({ "credentials": [
                { "id": "a", "format": "dc+sd-jwt", "meta": { "vct_values": [HIC] } },
                { "id": "a", "format": "dc+sd-jwt", "meta": { "vct_values": [HIC] } }] }),
                "appears twice",
            ),
            (
                json!({ "credentials": [{ "id": "a", "format": "dc+sd-jwt", "meta": { "vct_values": [] } }] }),
                "vct_values is empty",
            ),
            (
                json!({ "credentials": [{ "id": "a", "format": "dc+sd-jwt", "meta": {} }] }),
                "vct_values is required",
            ),
            (
                json!({ "credentials": [{ "id": "a", "format": "mso_mdoc", "meta": { "vct_values": [HIC] } }] }),
                "only dc+sd-jwt",
            ),
            (
                json!({ "credentials": [{ "id": "a", "format": "dc+sd-jwt", "meta": { "vct_values": [HIC] }, "claims": [{ "path": [] }] }] }),
                "claims path",
            ),
            (
                json!({ "credentials": [{ "id": "a", "format": "dc+sd-jwt", "meta": { "vct_values": [HIC] }, "claims": [{ "path": ["x"] }], "claim_sets": [["x"]] }] }),
                "without id",
            ),
            (
                json!({ "credentials": [{ "id": "a", "format": "dc+sd-jwt", "meta": { "vct_values": [HIC] }, "claims": [{ "id": "x", "path": ["x"] }], "claim_sets": [["y"]] }] }),
                "unknown claim",
            ),
            (
                json!({ "credentials": [{ "id": "a", "format": "dc+sd-jwt", "meta": { "vct_values": [HIC] }, "claims": [{ "path": ["x"], "values": [{ "o": 1 }] }] }] }),
                "values",
            ),
            (
                json!({ "credentials": [{ "id": "a", "format": "dc+sd-jwt", "meta": { "vct_values": [HIC] } }], "credential_sets": [{ "options": [["b"]] }] }),
                "unknown query",
            ),
            (
                json!({ "credentials": [{ "id": "a", "format": "dc+sd-jwt", "meta": { "vct_values": [HIC] }, "require_cryptographic_holder_binding": false }] }),
                "holder binding",
            ),
        ] {
            let parsed: DcqlQuery = serde_json::from_value(query.clone()).unwrap();
            let error = check(&parsed).unwrap_err().to_string();
            assert!(error.contains(rule), "{query}: {error}");
        }
        // A path element of the wrong type does not even read as a query.
        assert!(
            serde_json::from_value::<DcqlQuery>(json!({ "credentials": [{ "id": "a", "format": "dc+sd-jwt", "meta": { "vct_values": [HIC] }, "claims": [{ "path": [1.5] }] }] }))
                .is_err()
        );
        assert!(check(&for_preset("health_insurance_card", "insurance_check").unwrap()).is_ok());
        assert_eq!(
            for_preset("driving_licence", "nope")
                .unwrap_err()
                .to_string(),
            "no preset nope for document driving_licence in the catalogue"
        );
    }
}
