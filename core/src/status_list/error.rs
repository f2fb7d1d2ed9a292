//! The one error type of the status-list module: every way a list, a token or a lookup fails.

use thiserror::Error;

use crate::jose::JoseError;

/// Why a status list, a Status List Token or a status lookup was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum StatusListError {
    /// `bits` is not one of 1, 2, 4, 8 (draft section "Compressed Byte Array", step 1).
    #[error("status list bits must be 1, 2, 4 or 8, got {0}")]
    InvalidBits(u64),
    /// A list of this many entries would exceed [`crate::status_list::MAX_DECOMPRESSED_BYTES`].
    #[error("a status list of {entries} entries at {bits} bits exceeds the size limit")]
    TooLarge {
        /// Requested number of entries.
        entries: u64,
        /// Bits per entry.
        bits: u8,
    },
    /// The index is beyond the end of the list.
    #[error("status index {idx} is out of range for a list of {len} entries")]
    IndexOutOfRange {
        /// The index asked for.
        idx: u64,
        /// How many entries the list holds.
        len: u64,
    },
    /// The value does not fit in `bits` bits.
    #[error("status value {value} does not fit in {bits} bits")]
    ValueTooLarge {
        /// The value that was to be stored.
        value: u8,
        /// Bits per entry of the list.
        bits: u8,
    },
    /// `lst` is not valid base64url without padding.
    #[error("status list `lst` is not base64url")]
    Base64,
    /// The compressed list is longer than [`crate::status_list::MAX_COMPRESSED_BYTES`].
    #[error("compressed status list exceeds the size limit")]
    CompressedTooLarge,
    /// The list decompresses to more than [`crate::status_list::MAX_DECOMPRESSED_BYTES`].
    #[error("status list decompresses beyond the size limit")]
    DecompressedTooLarge,
    /// `lst` is not a valid ZLIB stream (bad header, corrupt DEFLATE data, bad checksum,
    /// truncated or followed by trailing bytes).
    #[error("status list `lst` is not a valid zlib stream")]
    Zlib,
    /// The list decompresses to zero bytes, so it describes no Referenced Token.
    #[error("status list is empty")]
    Empty,
    /// Compressing the list failed (should not happen for in-memory data).
    #[error("status list compression failed")]
    Compression,
    /// The token is not a well-formed compact JWS, or uses a refused algorithm or header.
    #[error("status list token: {0}")]
    Jose(#[from] JoseError),
    /// The JWT `typ` header is not `statuslist+jwt`.
    #[error("status list token has {}, expected statuslist+jwt", crate::jose::shown_typ(found.as_deref()))]
    WrongType {
        /// The `typ` found, if any.
        found: Option<String>,
    },
    /// The `kid` of the token names no key of the issuer.
    #[error("status list token is signed with unknown key {kid:?}")]
    UnknownKey {
        /// The `kid` of the token header.
        kid: String,
    },
    /// No key of the issuer verifies the signature.
    #[error("status list token signature does not verify with any issuer key")]
    BadSignature,
    /// A required claim is absent (`sub`, `iat`, `status_list`, `bits`, `lst`).
    #[error("status list token lacks the `{0}` claim")]
    MissingClaim(&'static str),
    /// A claim has the wrong type or an impossible value.
    #[error("status list token claim `{0}` is invalid")]
    InvalidClaim(&'static str),
    /// A date claim (`iat`, `exp`, `nbf`) is not a valid NumericDate (RFC 7519 section 2).
    #[error("status list token claim `{claim}` {reason}")]
    InvalidDate {
        /// The claim.
        claim: &'static str,
        /// Why it was refused.
        reason: crate::jose::NumericDateError,
    },
    /// `sub` differs from the `uri` the Referenced Token points to.
    #[error("status list token is for {found:?}, expected {expected:?}")]
    SubjectMismatch {
        /// The `uri` of the Referenced Token.
        expected: String,
        /// The `sub` of the Status List Token (truncated).
        found: String,
    },
    /// `exp` has passed: the list must not be relied upon any longer.
    #[error("status list token expired at {}", crate::verifier::format_date(*exp))]
    Expired {
        /// The token's `exp`.
        exp: i64,
    },
    /// `nbf` is still in the future.
    #[error("status list token not valid before {}", crate::verifier::format_date(*nbf))]
    NotYetValid {
        /// The token's `nbf`.
        nbf: i64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_times_read_as_dates_in_both_languages() {
        assert_eq!(
            StatusListError::NotYetValid { nbf: 1_796_054_869 }.to_string(),
            "status list token not valid before 30/11/2026 16:07:49 / 30 Nov 2026 16:07:49 (UTC)"
        );
    }
}
