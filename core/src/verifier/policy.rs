//! What a verifier demands of a presentation: key binding, audiences, nonce, freshness,
//! clock skew, how strictly status is checked, which document types it accepts, and the
//! replay cache for one-way (no-challenge) presentations.

use std::sync::Arc;

use super::ReplayCache;

/// Which profile a presentation is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// An SD-JWT VC (`typ: dc+sd-jwt`, `vct`, `iss`, envelope rules): giayto's documents.
    #[default]
    SdJwtVc,
    /// A plain RFC 9901 SD-JWT of any `typ`, without SD-JWT VC rules (as in the RFC's
    /// own examples).
    SdJwt,
}

/// How a missing or stale status list is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusStrictness {
    /// A credential whose status cannot be checked, or only against a stale list, is
    /// refused.
    Fail,
    /// It is accepted with a warning.
    Warn,
}

/// A verifier's policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The profile.
    pub profile: Profile,
    /// Whether a key-binding JWT is required. Decided by the use case, never by whether
    /// one was sent (RFC 9901 section 7.3).
    pub require_key_binding: bool,
    /// The audiences the KB-JWT `aud` may name; `None` accepts any.
    pub accepted_audiences: Option<Vec<String>>,
    /// The nonce the verifier showed in a challenge (two-way mode).
    pub expected_nonce: Option<String>,
    /// How old a KB-JWT may be, in seconds (one-way mode freshness window).
    pub max_kb_age_seconds: i64,
    /// Tolerated clock difference, in seconds, for `iat`, `nbf` and `exp`.
    pub clock_skew_seconds: i64,
    /// A status list that is absent from the cache.
    pub missing_status: StatusStrictness,
    /// A status list past its `ttl` (draft "Validation Rules" step 4.d: a fresh copy
    /// SHOULD be fetched; the status is still the issuer's last word).
    pub stale_status: StatusStrictness,
    /// A status list past its `exp` (draft step 4.c: it MUST be checked, and then no
    /// statement about the status can be made). With `Warn`, the expired list's value is
    /// used with a `status_list_expired` warning (a revoked or suspended value still
    /// refuses).
    pub expired_status: StatusStrictness,
    /// The accepted `vct` values; `None` accepts every type the issuer may issue.
    pub accepted_types: Option<Vec<String>>,
    /// How long after its `exp` a trust list is still used (with a warning), in seconds.
    pub trust_list_grace_seconds: i64,
    /// Remembers key-binding proofs to refuse replays inside the freshness window.
    pub replay_cache: Option<Arc<ReplayCache>>,
}

impl Default for Policy {
    /// A roadside check: key binding required, a KB-JWT at most 5 minutes old, 60 s of
    /// clock skew, missing status fails, stale status warns, expired status fails, trust
    /// list grace of 7 days, and a replay cache. (docs/OPERATIONS.md argues the status
    /// defaults.)
    fn default() -> Self {
        Policy {
            profile: Profile::SdJwtVc,
            require_key_binding: true,
            accepted_audiences: None,
            expected_nonce: None,
            max_kb_age_seconds: 300,
            clock_skew_seconds: 60,
            missing_status: StatusStrictness::Fail,
            stale_status: StatusStrictness::Warn,
            expired_status: StatusStrictness::Fail,
            accepted_types: None,
            trust_list_grace_seconds: 7 * 24 * 3600,
            replay_cache: Some(Arc::new(ReplayCache::new(10_000))),
        }
    }
}
