//! The OpenID4VP 1.0 wallet, sans-IO, profiled by HAIP 1.0: a verifier's QR code or link
//! (`openid4vp://`, `haip-vp://`) names a signed request object; the wallet fetches and
//! verifies it (`x509_hash` client identifier, certificate chain to a verifier registrar on
//! the trust list), tells the holder who asks (registered names, or not registered, and
//! what goes beyond the registration), answers the DCQL query from the vault with the
//! least disclosed, and posts the presentations encrypted to the verifier
//! (`direct_post.jwt`, ECDH-ES + A128GCM).
//!
//! Like [`crate::oid4vci`], it performs no I/O: [`PresentationSession`] hands out
//! [`crate::oid4vci::HttpRequest`]s and takes [`crate::oid4vci::HttpResponse`]s.

pub mod candidates;
pub mod dcql;
pub mod dcql_check;
mod error;
pub mod invocation;
pub mod preset_query;
pub mod registration;
pub mod request;
pub mod response;
pub mod session;
pub mod view;

pub use candidates::{CandidateSource, candidate_of, wallet_candidates};
pub use dcql::{
    Candidate, ClaimsQuery, CredentialQuery, CredentialSetQuery, DcqlQuery, FORMAT_DC_SD_JWT, Meta,
    PathElement, QueryAnswer, select_claims,
};
pub use dcql_check::{AnsweredCredential, NotAnswered};
pub use error::Oid4vpError;
pub use invocation::{HAIP_VP_SCHEME, Invocation, OPENID4VP_SCHEME};
pub use preset_query::{MAX_PRESET_CLAIM_SETS, catalogue_pointer};
pub use registration::{Registration, UnregisteredClaim};
pub use request::{
    DIRECT_POST_JWT, REQUEST_OBJECT_TYP, SELF_ISSUED_AUDIENCE, VerifiedRequest, X509_HASH_PREFIX,
    check_anchor, verify_request, x509_hash,
};
pub use response::{ResponseOutcome, encrypt_response, read_reply};
pub use session::{Consent, PreparedAnswer, PreparedItem, PresentationSession, RegistrationPolicy};
pub use view::{RequestView, SharedClaim, SharedDocument, Warning};
