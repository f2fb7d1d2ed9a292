//! SD-JWT (RFC 9901): issuance with selectively disclosable object properties and array
//! elements (recursive disclosures and decoy digests included), holder-side selection of
//! disclosures, key-binding JWTs, and verification with every check of RFC 9901 section 7,
//! for both the compact and the JWS JSON serialization.
//!
//! Paths name claims inside the payload: property names joined by `/`, with `*` standing
//! for every element of an array (`driving_privileges/*/class`). The catalogue lists the
//! disclosable paths of each document type in this syntax, and presets select with it.

mod disclosure;
mod error;
mod hash;
mod issue;
mod key_binding;
mod path;
mod presentation;
mod process;

pub use disclosure::Disclosure;
pub use error::SdJwtError;
pub use hash::HashAlg;
pub use issue::{IssueOptions, issue};
pub use key_binding::{KbExpectations, KeyBindingClaims, create_kb_jwt, verify_kb_jwt};
pub use path::{ClaimPath, PathSegment};
pub use presentation::{Presentation, SdJwt};
pub use process::{DisclosedClaim, ProcessedPayload, process_payload};

/// The `typ` of a key-binding JWT.
pub const KB_JWT_TYP: &str = "kb+jwt";
