//! The errors of the JOSE layer; none of them ever carries key material.

/// Why a JOSE operation failed.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum JoseError {
    /// A value is not strict, unpadded base64url.
    #[error("invalid base64url encoding")]
    Base64,
    /// A JSON part could not be parsed or has the wrong shape.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// The token does not have the compact JWS shape.
    #[error("malformed JWS: {0}")]
    Malformed(&'static str),
    /// The token is larger than the caller's limit.
    #[error("token too large: {size} bytes (limit {limit})")]
    TooLarge {
        /// Size of the input.
        size: usize,
        /// The limit in force.
        limit: usize,
    },
    /// `alg: none` is never accepted.
    #[error("unsigned tokens (alg none) are refused")]
    AlgorithmNone,
    /// HMAC algorithms are never accepted (they would let a public key act as a secret).
    #[error("HMAC algorithms are refused")]
    HmacRefused,
    /// An algorithm outside the allow-list.
    #[error("unsupported algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// A `crit` header names an extension this implementation does not understand.
    #[error("unknown critical header parameter {0:?}")]
    UnknownCritical(String),
    /// A header points at a key by URL (`jku`, `x5u`); keys are never fetched from tokens.
    #[error("key reference by URL ({0}) is refused")]
    KeyUrlRefused(&'static str),
    /// The key is malformed or of an unsupported type or curve.
    #[error("invalid key: {0}")]
    InvalidKey(&'static str),
    /// The key's type does not fit the token's algorithm.
    #[error("key does not match algorithm {0}")]
    KeyAlgorithmMismatch(super::Algorithm),
    /// The signature does not verify.
    #[error("signature verification failed")]
    BadSignature,
    /// Signing failed (a hardware key refused, or the RNG failed).
    #[error("signing failed: {0}")]
    Signing(String),
}
