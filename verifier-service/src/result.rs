//! The outcome of a presentation request, as the desk reads it: whether it is accepted,
//! why not, and for each presentation core's [`Verdict`] (document and issuer with their
//! vi/en names, claims with labels in catalogue order, validity, holder binding, status).

use giayto_core::verifier::Verdict;
use serde::Serialize;

/// What came back for one request.
#[derive(Debug, Clone, Serialize)]
pub struct RequestResult {
    /// Accepted: every presentation valid and together they answer the query.
    pub valid: bool,
    /// The wallet declined or failed (an OpenID4VP error response): its `error` code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wallet_error: Option<String>,
    /// Reasons that concern the response as a whole (the query not answered), for people.
    pub errors: Vec<String>,
    /// Each presentation's verdict.
    pub credentials: Vec<CredentialResult>,
}

/// One presentation in the response.
#[derive(Debug, Clone, Serialize)]
pub struct CredentialResult {
    /// The Credential Query id it answers.
    pub query_id: String,
    /// Its verdict.
    pub verdict: Verdict,
}
