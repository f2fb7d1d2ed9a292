//! giayto-e2e: the whole journey under test, across crates and processes. The real
//! `giayto-server` binary runs on a free port over SQLite or PostgreSQL ([`server`]);
//! agencies publish through its issuer API ([`agency`]); phones receive by OpenID4VCI
//! with core's sans-IO client and keep documents in core's wallet ([`phone`]); a roadside
//! officer verifies QR images offline from cached trust and status lists ([`officer`]).
//!
//! The harness returns typed [`HarnessError`]s; the journeys live in `tests/`.

pub mod agency;
pub mod error;
pub mod http;
pub mod officer;
pub mod phone;
pub mod server;

pub use error::HarnessError;

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
