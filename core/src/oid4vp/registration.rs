//! Who is asking: the verifier looked up in the trust list's registered verifiers (the
//! ARF's relying-party registration as the model), and whether its request stays within
//! what it is registered to ask for.

use serde_json::Value;

use super::dcql::{DcqlQuery, PathElement};
use crate::catalogue::{self, Purpose};
use crate::trust_list::{IssuerName, RegisteredRequest, VerifiedTrustList};

/// A requested claim the registration does not cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnregisteredClaim {
    /// The Credential Query asking for it.
    pub query_id: String,
    /// The document types the query accepts (`vct_values`).
    pub vcts: Vec<String>,
    /// The claims path pointer; empty when the document type itself is not registered.
    pub path: Vec<PathElement>,
}

/// The verifier's standing on the trust list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registration {
    /// Registered, and everything the query can ask for is within the registration.
    Within {
        /// Its registered names.
        name: IssuerName,
    },
    /// Registered, but the query asks for types or claims beyond the registration.
    Beyond {
        /// Its registered names.
        name: IssuerName,
        /// What lies beyond, one entry per claim (or per type when the type itself is not
        /// registered).
        beyond: Vec<UnregisteredClaim>,
    },
    /// Not on the trust list: it can still ask, and the holder is told.
    NotRegistered,
}

impl Registration {
    /// Looks `client_id` up in `trust_list` and compares `query` with its registration:
    /// every claim the query can select (all `claims` of every Credential Query, whatever
    /// `claim_sets` picks) must be allowed for one of the query's `vct_values`. A registered
    /// type covers its purpose types and its base type; a registered path covers itself
    /// and everything below it, `null` covering every index.
    pub fn assess(
        client_id: &str,
        query: &DcqlQuery,
        trust_list: &VerifiedTrustList,
    ) -> Registration {
        let Some(verifier) = trust_list.verifier(client_id) else {
            return Registration::NotRegistered;
        };
        let mut beyond = Vec::new();
        for credential in &query.credentials {
            let vcts = credential.meta.vct_values.clone().unwrap_or_default();
            let allowed: Vec<&RegisteredRequest> = verifier
                .may_request
                .iter()
                .filter(|r| vcts.iter().any(|v| covers_type(&r.vct, v)))
                .collect();
            if allowed.is_empty() {
                beyond.push(UnregisteredClaim {
                    query_id: credential.id.clone(),
                    vcts,
                    path: Vec::new(),
                });
                continue;
            }
            for claim in credential.claims.iter().flatten() {
                let covered = allowed.iter().any(|r| {
                    r.claims
                        .iter()
                        .any(|registered| covers_path(registered, &claim.path))
                });
                if !covered {
                    beyond.push(UnregisteredClaim {
                        query_id: credential.id.clone(),
                        vcts: vcts.clone(),
                        path: claim.path.clone(),
                    });
                }
            }
        }
        if beyond.is_empty() {
            Registration::Within {
                name: verifier.name.clone(),
            }
        } else {
            Registration::Beyond {
                name: verifier.name.clone(),
                beyond,
            }
        }
    }

    /// The registered names, `None` when not registered.
    pub fn name(&self) -> Option<&IssuerName> {
        match self {
            Registration::Within { name } | Registration::Beyond { name, .. } => Some(name),
            Registration::NotRegistered => None,
        }
    }
}

/// The catalogue document a `vct` belongs to: the document's own type, one of its purpose
/// types, or its base type.
fn document_vct(vct: &str) -> Option<&'static str> {
    catalogue::by_vct(vct)
        .or_else(|| Purpose::by_vct(vct).map(|p| p.document()))
        .or_else(|| catalogue::base_by_vct(vct))
        .map(|d| d.vct)
}

/// Whether registering `registered` allows asking for `requested`.
fn covers_type(registered: &str, requested: &str) -> bool {
    registered == requested
        || matches!((document_vct(registered), document_vct(requested)), (Some(a), Some(b)) if a == b)
}

/// Whether the registered path (JSON elements) covers the requested pointer.
fn covers_path(registered: &[Value], requested: &[PathElement]) -> bool {
    registered.len() <= requested.len()
        && registered
            .iter()
            .zip(requested)
            .all(|(r, q)| match (PathElement::from_json(r), q) {
                (Some(PathElement::All), PathElement::All | PathElement::Index(_)) => true,
                (Some(r), q) => r == *q,
                (None, _) => false,
            })
}
