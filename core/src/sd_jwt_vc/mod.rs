//! SD-JWT VC (draft-ietf-oauth-sd-jwt-vc): the `dc+sd-jwt` credential profile on top of
//! [`crate::sd_jwt`]. The envelope claims (`iss`, `vct`, `iat`, `nbf`, `exp`, `cnf`,
//! `status`) are always visible and never come from a disclosure; the document's own
//! claims follow the catalogue's schema and disclosability.

mod envelope;
mod issue;

pub use envelope::{PROTECTED_CLAIMS, VcEnvelope, VcError, check_no_protected_disclosed};
pub use issue::{CATALOGUE_ISSUE_OPTIONS, IssueError, IssueRequest, issue_document, issue_vc};

/// The JOSE `typ` of an SD-JWT VC.
pub const SD_JWT_VC_TYP: &str = "dc+sd-jwt";

/// The `typ` earlier drafts used; accepted from other issuers, never issued.
pub const LEGACY_SD_JWT_VC_TYP: &str = "vc+sd-jwt";
