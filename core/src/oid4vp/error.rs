//! Why an OpenID4VP request is refused or a presentation cannot be made. Messages name the
//! rule that failed and never carry claim values, nonces or keys.

use crate::oid4vci::Oid4vciError;

/// Why the wallet refuses a presentation request, or could not answer it.
#[derive(Debug, thiserror::Error)]
pub enum Oid4vpError {
    /// The invocation URI (or QR text) is not an `openid4vp://` / `haip-vp://` request by
    /// reference (OpenID4VP 1.0 section 5 and 8; HAIP 1.0).
    #[error("not an OpenID4VP request: {0}")]
    Invocation(String),
    /// A URL in the request is not `https` (or `http` on loopback).
    #[error(transparent)]
    Url(#[from] Oid4vciError),
    /// The request object is not a well-formed signed JWT of the expected shape.
    #[error("the request object is malformed: {0}")]
    MalformedRequest(String),
    /// The request object's `typ` is not `oauth-authz-req+jwt` (RFC 9101 section 4).
    #[error("the request object has {}, expected oauth-authz-req+jwt", crate::jose::shown_typ(.0.as_deref()))]
    WrongType(Option<String>),
    /// The request object is not signed with ES256 (HAIP 1.0).
    #[error("the request object is signed with {0}, only ES256 is accepted")]
    WrongAlgorithm(String),
    /// The client identifier does not use the `x509_hash` prefix (HAIP 1.0).
    #[error("client identifier prefix not supported (only x509_hash): {0}")]
    UnsupportedClientIdPrefix(String),
    /// The `client_id` of the request object differs from the invocation's (RFC 9101
    /// section 5).
    #[error("the request object's client_id differs from the invocation's")]
    ClientIdMismatch,
    /// The trust list names no verifier registrar, so no certificate can be trusted.
    #[error("the trust list names no verifier registrar (verifier_anchors is empty)")]
    NoVerifierAnchors,
    /// The `x5c` chain does not lead to a registrar on the trust list, or a certificate is
    /// expired, malformed or not allowed to sign (OpenID4VP 1.0 section 5.9.3).
    #[error("the verifier's certificate is not trusted: {0}")]
    UntrustedCertificate(String),
    /// The `x509_hash` client identifier is not the hash of the leaf certificate.
    #[error("the client identifier is not the hash of the verifier's certificate")]
    ClientIdHashMismatch,
    /// The request object's signature does not verify with the leaf certificate's key.
    #[error("the request object's signature does not verify with the verifier's certificate")]
    BadSignature,
    /// The request expired (`exp`) or claims to be issued in the future (`iat`).
    #[error("the request expired at {}", crate::verifier::format_date(*expired_at))]
    Expired {
        /// The request's `exp`, Unix seconds.
        expired_at: i64,
    },
    /// The request's `iat` is in the future beyond the tolerated clock difference.
    #[error("the request is issued in the future ({})", crate::verifier::format_date(*iat))]
    NotYetValid {
        /// The request's `iat`, Unix seconds.
        iat: i64,
    },
    /// The request asks for a response mode other than `direct_post.jwt` (HAIP 1.0).
    #[error("response_mode {0:?} is not supported (only direct_post.jwt)")]
    WrongResponseMode(String),
    /// The request uses a feature the wallet does not implement (and must then refuse).
    #[error("the request uses {0}, which this wallet does not support")]
    Unsupported(&'static str),
    /// The DCQL query breaks a rule of OpenID4VP 1.0 section 6.
    #[error("the DCQL query is invalid: {0}")]
    InvalidQuery(String),
    /// The wallet cannot satisfy the query: a required credential query (or every option
    /// of a required credential set) has no matching document (OpenID4VP 1.0 section
    /// 6.4.2: then nothing is returned).
    #[error("the wallet has no document for the request: {0}")]
    NoMatch(String),
    /// The verifier asks beyond its registration and the holder's policy refuses that.
    #[error("the verifier asks beyond its registration: {0}")]
    BeyondRegistration(String),
    /// `respond` was called before a request was verified, or twice.
    #[error("the presentation session is in the wrong state: {0}")]
    State(&'static str),
    /// Building a presentation failed.
    #[error(transparent)]
    Wallet(#[from] crate::wallet::WalletError),
    /// Encrypting the response failed.
    #[error("could not encrypt the response: {0}")]
    Encryption(String),
    /// The HTTP response was too large, or an error status.
    #[error("{endpoint} answered {status}{}{}", .error.as_deref().map(|e| format!(": {e}")).unwrap_or_default(), .detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Http {
        /// Which endpoint.
        endpoint: &'static str,
        /// The status code.
        status: u16,
        /// The OAuth `error` code, sanitised, when the body had one.
        error: Option<String>,
        /// What the server explained: an OAuth `error_description` or an RFC 9457
        /// problem's `detail`, cleaned and bounded by [`crate::http_problem::explanation`].
        detail: Option<String>,
    },
    /// A response body is larger than the wallet reads.
    #[error("{endpoint} sent {size} bytes, more than the {limit} read")]
    TooLarge {
        /// Which endpoint.
        endpoint: &'static str,
        /// Its size.
        size: usize,
        /// The bound.
        limit: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_times_read_as_dates_in_both_languages() {
        let expired = Oid4vpError::Expired {
            expired_at: 1_796_054_869,
        };
        assert_eq!(
            expired.to_string(),
            "the request expired at 30/11/2026 16:07:49 / 30 Nov 2026 16:07:49 (UTC)"
        );
        let early = Oid4vpError::NotYetValid { iat: 1_796_054_869 };
        assert!(!early.to_string().contains("1796054869"), "{early}");
        assert!(
            early.to_string().contains("30 Nov 2026 16:07:49"),
            "{early}"
        );
    }
}
