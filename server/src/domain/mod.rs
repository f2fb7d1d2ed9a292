//! The issuer's domain: agencies and their keys, documents and offers, status lists, the
//! OpenID4VCI grant and credential steps, and the trust list. Each state change runs in one
//! database transaction; the HTTP layer only translates.

pub mod accounts;
pub mod agencies;
pub mod c_nonce;
pub mod documents;
pub mod group_commit;
pub mod guardians;
pub mod ids;
pub mod issuance;
pub mod keys;
pub mod offer_tokens;
pub mod status_lists;
pub mod time_bounds;
pub mod trust;
pub mod verifiers;

use std::sync::Arc;

use crate::config::Config;
use crate::db::Db;
use crate::secrets::{MasterKey, SecretError};

/// What every domain operation needs: configuration, database, master key and key cache.
#[derive(Debug, Clone)]
pub struct Services {
    /// The configuration in force.
    pub config: Arc<Config>,
    /// The database.
    pub db: Db,
    /// Derived keys of the master key.
    pub master: Arc<MasterKey>,
    /// Unwrapped signing keys, by `kid`.
    pub keys: Arc<keys::KeyRing>,
    /// Built status list tokens, by list id.
    pub status_cache: Arc<status_lists::StatusCache>,
    /// The group commits of the issuance path (issue 17).
    pub batchers: Arc<group_commit::Batchers>,
}

impl Services {
    /// Bundles the parts.
    pub fn new(config: Config, db: Db, master: MasterKey) -> Self {
        let batchers = Arc::new(group_commit::Batchers::new(&db, config.status_list_size));
        Self {
            config: Arc::new(config),
            db,
            batchers,
            master: Arc::new(master),
            keys: Arc::new(keys::KeyRing::default()),
            status_cache: Arc::new(status_lists::StatusCache::default()),
        }
    }

    /// The `iss` of an agency's credentials: `{public_url}/agencies/{id}`.
    pub fn agency_issuer(&self, agency_id: &str) -> String {
        format!("{}/agencies/{agency_id}", self.config.public_url)
    }
}

/// One invalid field of a request: its JSON path (`claims.sex`) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FieldFault {
    /// JSON path of the field.
    pub field: String,
    /// What is wrong, starting with the claim's path.
    #[serde(rename = "detail")]
    pub reason: String,
}

/// A domain failure. The HTTP layer maps each variant to a status code and hides the
/// details of the internal ones.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The thing does not exist (or belongs to someone else).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// A claim or field is invalid; `field` names it.
    #[error("invalid field {field}: {reason}")]
    Invalid {
        /// JSON path of the bad field.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// Several claims are invalid (every fault of one publish request at once, issue 16);
    /// each names its field. Never empty.
    #[error("{} invalid claims: {}", .0.len(), .0.iter().map(|f| f.reason.as_str()).collect::<Vec<_>>().join("; "))]
    InvalidClaims(Vec<FieldFault>),
    /// The request contradicts the current state.
    #[error("{0}")]
    Conflict(String),
    /// A database error.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// A secrets-layer error.
    #[error("secrets: {0}")]
    Secret(#[from] SecretError),
    /// Anything else that is the server's fault.
    #[error("internal: {0}")]
    Internal(String),
}

/// Result of domain operations.
pub type DomainResult<T> = Result<T, DomainError>;

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
