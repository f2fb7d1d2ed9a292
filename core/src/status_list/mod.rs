//! Token Status List: bit-packed, zlib-compressed status lists, `statuslist+jwt` tokens and a freshness-aware cache.
//!
//! Implements draft-ietf-oauth-status-list (text in `shared/specs/token-status-list.md`):
//! - [`StatusList`]: the byte array of section "Compressed Byte Array" (1, 2, 4 or 8 bits per
//!   Referenced Token, packed from the least significant bit), compressed with DEFLATE in the
//!   ZLIB format and base64url-encoded as the `lst` member of the JSON `StatusList`;
//! - [`Status`]: the Status Type values of section "Status Types Values";
//! - [`StatusReference`]: the `status.status_list` object a Referenced Token carries;
//! - [`build_claims`] / [`sign_token`] / [`verify_token`]: Status List Tokens in JWT format
//!   (`typ: statuslist+jwt`);
//! - [`StatusCache`]: verified lists kept by URI, answering lookups with their freshness.
//!
//! Lists from the network are untrusted: `bits` outside {1, 2, 4, 8} is refused, decompression
//! stops at [`MAX_DECOMPRESSED_BYTES`], and an index beyond the list yields no status.
//!
//! giayto uses 2 bits per credential: VALID (0x00), INVALID i.e. revoked (0x01), SUSPENDED (0x02).

mod cache;
mod error;
mod list;
mod status;
mod token;

pub use cache::{CachePolicy, CachedStatusList, StatusCache, StatusLookup, Validators};
pub use error::StatusListError;
pub use list::{MAX_COMPRESSED_BYTES, MAX_DECOMPRESSED_BYTES, StatusList};
pub use status::{Status, StatusClaim, StatusReference};
pub use token::{
    MAX_STATUS_LIST_TOKEN_BYTES, STATUS_LIST_JWT_TYP, StatusListClaim, StatusListToken,
    VerifiedStatusList, build_claims, build_claims_with_aggregation, sign_token,
    sign_token_with_aggregation, verify_token,
};
