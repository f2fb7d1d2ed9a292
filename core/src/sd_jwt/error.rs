//! The errors of SD-JWT issuance, presentation and verification, one variant per rule.

use crate::jose::JoseError;

/// Why an SD-JWT could not be issued, presented or verified.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SdJwtError {
    /// The presentation is larger than the verifier accepts.
    #[error("presentation too large: {size} bytes (limit {limit})")]
    TooLarge {
        /// Size of the input.
        size: usize,
        /// The limit in force.
        limit: usize,
    },
    /// The input is neither a compact nor a JSON-serialized SD-JWT.
    #[error("malformed SD-JWT: {0}")]
    Malformed(&'static str),
    /// The issuer-signed JWT or the KB-JWT failed a JOSE check.
    #[error("{context}: {source}")]
    Jose {
        /// Which JWT failed.
        context: &'static str,
        /// The JOSE failure.
        source: JoseError,
    },
    /// A payload or disclosure is not valid JSON of the expected shape.
    #[error("invalid JSON in {context}: {reason}")]
    Json {
        /// Where the JSON was.
        context: &'static str,
        /// What the parser said.
        reason: String,
    },
    /// `_sd_alg` names a hash algorithm that is not accepted.
    #[error("unsupported _sd_alg {0:?}")]
    UnsupportedHashAlg(String),
    /// A disclosure is not a JSON array of two or three elements with a string salt.
    #[error("disclosure {index} is malformed: {reason}")]
    MalformedDisclosure {
        /// Position of the disclosure in the presentation.
        index: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The same disclosure was sent twice.
    #[error("disclosure {index} appears more than once")]
    DuplicateDisclosure {
        /// Position of the repeated disclosure.
        index: usize,
    },
    /// A digest value appears more than once in the payload (directly or via disclosures).
    #[error("digest {digest} appears more than once")]
    DuplicateDigest {
        /// The repeated digest.
        digest: String,
    },
    /// A disclosure is not referenced by any digest in the payload.
    #[error("disclosure {index} is not referenced by any digest")]
    UnreferencedDisclosure {
        /// Position of the unreferenced disclosure.
        index: usize,
    },
    /// A disclosure referenced from `_sd` is not a (salt, name, value) triple.
    #[error("disclosure for an object property must have three elements")]
    ObjectDisclosureExpected,
    /// A disclosure referenced from an array element is not a (salt, value) pair.
    #[error("disclosure for an array element must have two elements")]
    ArrayDisclosureExpected,
    /// A disclosure or payload uses a reserved claim name (`_sd`, `...`, `_sd_alg`).
    #[error("reserved claim name {0:?} used as a claim")]
    ReservedClaimName(String),
    /// A disclosed claim name already exists at its level.
    #[error("claim {0:?} disclosed where it already exists")]
    ClaimNameConflict(String),
    /// `_sd` is not an array of strings, or `...` is not a string.
    #[error("invalid digest container: {0}")]
    InvalidDigestContainer(&'static str),
    /// Nesting (including recursive disclosures) is deeper than accepted.
    #[error("nesting too deep")]
    TooDeep,
    /// A key-binding JWT was expected but is absent.
    #[error("key binding JWT missing")]
    KeyBindingMissing,
    /// The KB-JWT `typ` is not `kb+jwt`.
    #[error("key binding JWT has {}, expected kb+jwt", crate::jose::shown_typ(.0.as_deref()))]
    KeyBindingWrongTyp(Option<String>),
    /// The KB-JWT lacks a required claim or has one of the wrong type.
    #[error("key binding JWT claim {0} missing or invalid")]
    KeyBindingClaim(&'static str),
    /// The KB-JWT `iat` is not a valid NumericDate (RFC 7519 section 2).
    #[error("key binding JWT claim iat {0}")]
    KeyBindingIat(crate::jose::NumericDateError),
    /// The KB-JWT `sd_hash` does not match the presented SD-JWT.
    #[error("key binding JWT sd_hash does not match the presentation")]
    KeyBindingSdHashMismatch,
    /// The KB-JWT `iat` is outside the accepted window.
    #[error(
        "key binding JWT issued at {}, outside the window accepted around the verifier's clock ({}): present again",
        crate::verifier::format_date(*iat),
        crate::verifier::format_date(*now)
    )]
    KeyBindingStale {
        /// The KB-JWT's `iat`.
        iat: i64,
        /// The verifier's clock.
        now: i64,
    },
    /// The KB-JWT `nonce` is not the expected one.
    #[error("key binding JWT nonce does not match")]
    KeyBindingNonceMismatch,
    /// The KB-JWT `aud` is not an accepted audience.
    #[error("key binding JWT audience {0:?} is not accepted")]
    KeyBindingAudienceMismatch(String),
    /// The SD-JWT carries no holder key (`cnf.jwk`) to check key binding against.
    #[error("SD-JWT has no usable cnf.jwk holder key")]
    NoHolderKey,
    /// A claim path given for issuance or selection is invalid.
    #[error("invalid claim path {0:?}")]
    InvalidPath(String),
    /// The random number generator failed.
    #[error("random number generator failed")]
    Rng,
}

impl SdJwtError {
    pub(crate) fn jose(context: &'static str) -> impl FnOnce(JoseError) -> SdJwtError {
        move |source| SdJwtError::Jose { context, source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 16: `key binding JWT issued at 1796054869, outside the accepted window around
    /// 1796055239`: dates as dates (the fields keep the numbers for front ends).
    #[test]
    fn the_key_binding_window_reads_as_dates() {
        let message = SdJwtError::KeyBindingStale {
            iat: 1_796_054_869,
            now: 1_796_055_239,
        }
        .to_string();
        assert_eq!(
            message,
            "key binding JWT issued at 30/11/2026 16:07:49 / 30 Nov 2026 16:07:49 (UTC), outside \
             the window accepted around the verifier's clock (30/11/2026 16:13:59 / 30 Nov 2026 \
             16:13:59 (UTC)): present again"
        );
    }
}
