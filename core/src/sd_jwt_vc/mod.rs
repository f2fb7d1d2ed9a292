//! SD-JWT VC (draft-ietf-oauth-sd-jwt-vc): the `dc+sd-jwt` credential profile on top of
//! [`crate::sd_jwt`]. The envelope claims are read from the processed payload; those the
//! spec forbids in disclosures (`iss`, `nbf`, `exp`, `cnf`, `vct`, `vct#integrity`,
//! `aka_vcts`, `status`) are refused when they come from one (see [`VcEnvelope`]); the
//! document's own claims follow the catalogue's schema and disclosability.

mod envelope;
mod issue;

pub use envelope::{
    ENVELOPE_CLAIMS, PROTECTED_CLAIMS, VcEnvelope, VcError, check_no_protected_disclosed,
};
pub use issue::{
    CATALOGUE_ISSUE_OPTIONS, IssueError, IssueRequest, REPRESENTATION_CLAIM, issue_document,
    issue_document_to_representative, issue_purpose, issue_vc,
};

/// The JOSE `typ` of an SD-JWT VC (section "JOSE Header": "The `typ` value MUST use
/// `dc+sd-jwt`"), compared as a media type (RFC 7515 section 4.1.9,
/// [`crate::jose::typ_matches`]): `application/dc+sd-jwt` is the same type. The `vc+sd-jwt`
/// of earlier drafts is refused: the current draft removed its transition note.
pub const SD_JWT_VC_TYP: &str = "dc+sd-jwt";
