//! The Digital Credentials Query Language (OpenID4VP 1.0 section 6) for SD-JWT VCs
//! (`dc+sd-jwt`, Appendix B.3): the query's types with their validity rules, claims path
//! pointers (section 7) applied to a credential's processed claims, and the selection of
//! credentials and claims (section 6.4).
//!
//! [`DcqlQuery::evaluate`] picks, for each Credential Query it must answer, the
//! [`Candidate`] that satisfies it with the fewest claims shown, and for it the concrete
//! claim paths to disclose. Nothing outside those paths is disclosed; a candidate whose
//! always-visible claims go beyond the query (a purpose credential holding more than was
//! asked) is not used.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::Oid4vpError;
use crate::sd_jwt::{ClaimPath, PathSegment};

/// The Credential Format Identifier of SD-JWT VC (OpenID4VP 1.0 Appendix B.3.1).
pub const FORMAT_DC_SD_JWT: &str = "dc+sd-jwt";
/// Most Credential Queries a query may hold.
pub const MAX_CREDENTIAL_QUERIES: usize = 32;
/// Most Claims Queries one Credential Query may hold.
pub const MAX_CLAIMS_QUERIES: usize = 64;
/// Most elements of a claims path pointer.
pub const MAX_PATH_ELEMENTS: usize = 16;
/// Most entries of a `values`, `claim_sets`, `credential_sets` or `options` array.
pub const MAX_ALTERNATIVES: usize = 32;
/// Longest key (bytes) in a claims path pointer.
pub const MAX_PATH_KEY_LEN: usize = 256;

/// A DCQL query (OpenID4VP 1.0 section 6). Unknown members are ignored, as the spec says;
/// serialised, members at their default are left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DcqlQuery {
    /// The Credential Queries (non-empty).
    pub credentials: Vec<CredentialQuery>,
    /// The Credential Set Queries, when the verifier gives alternatives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_sets: Option<Vec<CredentialSetQuery>>,
}

/// A Credential Query (OpenID4VP 1.0 section 6.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialQuery {
    /// Its identifier: `[A-Za-z0-9_-]+`, unique in the query; the key of the answer in
    /// `vp_token`.
    pub id: String,
    /// The Credential Format Identifier; only `dc+sd-jwt` is held by this wallet.
    pub format: String,
    /// Whether several credentials may answer it (this wallet returns one).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub multiple: bool,
    /// Format-specific constraints (`vct_values` for SD-JWT VC).
    #[serde(default)]
    pub meta: Meta,
    /// Whether a key-binding proof is required (default `true`).
    #[serde(default = "default_true", skip_serializing_if = "Clone::clone")]
    pub require_cryptographic_holder_binding: bool,
    /// The claims requested; absent: only what is always shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Vec<ClaimsQuery>>,
    /// Alternative combinations of `claims` ids, most preferred first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_sets: Option<Vec<Vec<String>>>,
}

/// The `meta` of an SD-JWT VC Credential Query (OpenID4VP 1.0 Appendix B.3.5).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Meta {
    /// The accepted types (`vct`), or types they extend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vct_values: Option<Vec<String>>,
}

/// A Claims Query (OpenID4VP 1.0 section 6.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimsQuery {
    /// Its identifier, required when the Credential Query has `claim_sets`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The claims path pointer (section 7).
    pub path: Vec<PathElement>,
    /// Accepted values (strings, integers, booleans): a claim with another value is treated
    /// as absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<Value>>,
}

/// A Credential Set Query (OpenID4VP 1.0 section 6.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialSetQuery {
    /// Alternative sets of Credential Query ids, each satisfying the use case.
    pub options: Vec<Vec<String>>,
    /// Whether the set must be satisfied (default `true`).
    #[serde(default = "default_true")]
    pub required: bool,
}

fn default_true() -> bool {
    true
}

/// One element of a claims path pointer (OpenID4VP 1.0 section 7).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathElement {
    /// A key of an object.
    Key(String),
    /// One element of an array.
    Index(usize),
    /// Every element of an array (`null`).
    All,
}

impl<'de> Deserialize<'de> for PathElement {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(key) => Ok(PathElement::Key(key)),
            Value::Null => Ok(PathElement::All),
            Value::Number(n) => n
                .as_u64()
                .and_then(|i| usize::try_from(i).ok())
                .map(PathElement::Index)
                .ok_or_else(|| {
                    serde::de::Error::custom("a path index must be a non-negative integer")
                }),
            _ => Err(serde::de::Error::custom(
                "a path element must be a string, null or a non-negative integer",
            )),
        }
    }
}

impl Serialize for PathElement {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl PathElement {
    /// The element as JSON (`"key"`, `0`, `null`).
    pub fn to_json(&self) -> Value {
        match self {
            PathElement::Key(k) => Value::from(k.as_str()),
            PathElement::Index(i) => Value::from(*i),
            PathElement::All => Value::Null,
        }
    }

    /// Reads one element from JSON; `None` for anything else.
    pub fn from_json(value: &Value) -> Option<PathElement> {
        serde_json::from_value(value.clone()).ok()
    }
}

fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn invalid(reason: impl Into<String>) -> Oid4vpError {
    Oid4vpError::InvalidQuery(reason.into())
}

impl DcqlQuery {
    /// Reads a query from JSON and checks every rule of OpenID4VP 1.0 section 6 that a
    /// wallet can check, within the bounds above ([`Oid4vpError::InvalidQuery`]).
    pub fn from_json(value: &Value) -> Result<DcqlQuery, Oid4vpError> {
        let query: DcqlQuery =
            serde_json::from_value(value.clone()).map_err(|e| invalid(e.to_string()))?;
        query.validate()?;
        Ok(query)
    }

    /// Checks a query built or deserialised otherwise than by [`DcqlQuery::from_json`]: ids
    /// unique and `[A-Za-z0-9_-]+`, claims paths non-empty, `values` of strings, integers
    /// or booleans, `claim_sets` naming claim ids, `credential_sets` naming credential
    /// query ids (OpenID4VP 1.0 sections 6.1 to 6.3), every array within the `MAX_*`
    /// bounds above ([`Oid4vpError::InvalidQuery`]).
    pub fn validate(&self) -> Result<(), Oid4vpError> {
        if self.credentials.is_empty() {
            return Err(invalid("credentials is empty"));
        }
        if self.credentials.len() > MAX_CREDENTIAL_QUERIES {
            return Err(invalid("too many credential queries"));
        }
        let mut ids = HashSet::new();
        for query in &self.credentials {
            if !is_valid_id(&query.id) {
                return Err(invalid("a credential query id is not [A-Za-z0-9_-]+"));
            }
            if !ids.insert(query.id.as_str()) {
                return Err(invalid(format!(
                    "credential query {} appears twice",
                    query.id
                )));
            }
            query.validate()?;
        }
        if let Some(sets) = &self.credential_sets {
            if sets.is_empty() || sets.len() > MAX_ALTERNATIVES {
                return Err(invalid("credential_sets is empty or too long"));
            }
            for set in sets {
                if set.options.is_empty() || set.options.len() > MAX_ALTERNATIVES {
                    return Err(invalid("a credential set has no options or too many"));
                }
                for option in &set.options {
                    if option.is_empty() || option.len() > MAX_CREDENTIAL_QUERIES {
                        return Err(invalid("a credential set option is empty or too long"));
                    }
                    if let Some(unknown) = option.iter().find(|id| !ids.contains(id.as_str())) {
                        return Err(invalid(format!(
                            "credential set names unknown query {}",
                            crate::jose::truncate(unknown)
                        )));
                    }
                }
            }
        }
        Ok(())
    }
}

impl CredentialQuery {
    fn validate(&self) -> Result<(), Oid4vpError> {
        if let Some(vcts) = &self.meta.vct_values
            && (vcts.is_empty() || vcts.len() > MAX_ALTERNATIVES)
        {
            return Err(invalid("vct_values is empty or too long"));
        }
        let Some(claims) = &self.claims else {
            if self.claim_sets.is_some() {
                return Err(invalid("claim_sets without claims"));
            }
            return Ok(());
        };
        if claims.is_empty() || claims.len() > MAX_CLAIMS_QUERIES {
            return Err(invalid("claims is empty or too long"));
        }
        let mut claim_ids = HashSet::new();
        for claim in claims {
            if claim.path.is_empty()
                || claim.path.len() > MAX_PATH_ELEMENTS
                || claim
                    .path
                    .iter()
                    .any(|e| matches!(e, PathElement::Key(k) if k.len() > MAX_PATH_KEY_LEN))
            {
                return Err(invalid("a claims path pointer is empty or too long"));
            }
            if let Some(id) = &claim.id {
                if !is_valid_id(id) {
                    return Err(invalid("a claim id is not [A-Za-z0-9_-]+"));
                }
                if !claim_ids.insert(id.as_str()) {
                    return Err(invalid(format!("claim id {id} appears twice")));
                }
            } else if self.claim_sets.is_some() {
                return Err(invalid("a claim without id in a query with claim_sets"));
            }
            if let Some(values) = &claim.values
                && (values.is_empty()
                    || values.len() > MAX_ALTERNATIVES
                    || values
                        .iter()
                        .any(|v| !(v.is_string() || v.is_i64() || v.is_u64() || v.is_boolean())))
            {
                return Err(invalid(
                    "values must be a non-empty array of strings, integers or booleans",
                ));
            }
        }
        if let Some(sets) = &self.claim_sets {
            if sets.is_empty() || sets.len() > MAX_ALTERNATIVES {
                return Err(invalid("claim_sets is empty or too long"));
            }
            for set in sets {
                if set.is_empty() {
                    return Err(invalid("a claim set is empty"));
                }
                if let Some(unknown) = set.iter().find(|id| !claim_ids.contains(id.as_str())) {
                    return Err(invalid(format!(
                        "claim set names unknown claim {}",
                        crate::jose::truncate(unknown)
                    )));
                }
            }
        }
        Ok(())
    }
}

/// Applies a claims path pointer to a credential's claims (OpenID4VP 1.0 section 7.1.1):
/// the concrete paths of the selected elements and their values; `None` when processing
/// aborts (a key on a non-object, an index on a non-array) or selects nothing.
pub fn select_claims<'v>(
    claims: &'v Map<String, Value>,
    pointer: &[PathElement],
) -> Option<Vec<(ClaimPath, &'v Value)>> {
    let mut selected: Vec<(ClaimPath, Option<&'v Value>)> = vec![(ClaimPath::default(), None)];
    for element in pointer {
        let mut next = Vec::new();
        for (path, value) in selected {
            match element {
                PathElement::Key(key) => {
                    let object = match value {
                        None => claims,
                        Some(Value::Object(object)) => object,
                        Some(_) => return None,
                    };
                    if let Some(child) = object.get(key) {
                        next.push((path.child(PathSegment::Key(key.clone())), Some(child)));
                    }
                }
                PathElement::All => {
                    let Some(Value::Array(items)) = value else {
                        return None;
                    };
                    for (i, item) in items.iter().enumerate() {
                        next.push((path.child(PathSegment::Index(i)), Some(item)));
                    }
                }
                PathElement::Index(i) => {
                    let Some(Value::Array(items)) = value else {
                        return None;
                    };
                    if let Some(item) = items.get(*i) {
                        next.push((path.child(PathSegment::Index(*i)), Some(item)));
                    }
                }
            }
        }
        selected = next;
    }
    let out: Vec<(ClaimPath, &Value)> = selected
        .into_iter()
        .filter_map(|(path, value)| value.map(|v| (path, v)))
        .collect();
    (!out.is_empty()).then_some(out)
}

/// A credential the wallet could present, as DCQL sees it.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Its `vct`.
    pub vct: String,
    /// The types it extends (for `vct_values`, OpenID4VP 1.0 Appendix B.3.5).
    pub extends: Vec<String>,
    /// Its processed claims, every disclosure applied.
    pub claims: Map<String, Value>,
    /// Whether it has a `cnf` key, so it can be presented with key binding.
    pub key_bound: bool,
    /// Where each selectively disclosable claim sits (one path per Disclosure): a leaf is
    /// shown exactly when every Disclosure at or above it is sent.
    pub sd_paths: Vec<ClaimPath>,
    /// Leaf claims outside the SD-JWT VC envelope (`iss`, `vct`, `cnf`, times, `status`),
    /// which are what a holder is shown.
    pub leaves: Vec<ClaimPath>,
    /// Whether it is a purpose credential (preferred at equal disclosure: unlinkable).
    pub purpose: bool,
}

/// One Credential Query answered: by which candidate, disclosing what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryAnswer {
    /// The Credential Query's `id`.
    pub query_id: String,
    /// The index of the chosen candidate in the slice given to [`DcqlQuery::evaluate`].
    pub candidate: usize,
    /// The concrete paths to disclose (each with everything below it).
    pub disclose: Vec<ClaimPath>,
    /// Every leaf claim the presentation shows (disclosed and always visible), outside the
    /// envelope.
    pub shown: Vec<ClaimPath>,
    /// Whether it answers only an optional credential set (`required: false`).
    pub optional: bool,
    /// Whether the presentation carries a key-binding JWT: whenever the credential is
    /// key-bound (a query that requires binding matches only those).
    pub key_binding: bool,
}

impl DcqlQuery {
    /// Answers the query from `candidates` (OpenID4VP 1.0 section 6.4): without
    /// `credential_sets` every Credential Query must be answered; with them every required
    /// set by its first satisfiable option, optional sets when satisfiable (marked
    /// [`QueryAnswer::optional`]). Errors with [`Oid4vpError::NoMatch`], naming the first
    /// Credential Query or set that cannot be satisfied, when a required one cannot: then
    /// nothing may be returned.
    pub fn evaluate(&self, candidates: &[Candidate]) -> Result<Vec<QueryAnswer>, Oid4vpError> {
        let answers: Vec<Option<QueryAnswer>> = self
            .credentials
            .iter()
            .map(|query| query.best_answer(candidates))
            .collect();
        let answer_of = |id: &str| {
            self.credentials
                .iter()
                .position(|q| q.id == id)
                .and_then(|i| answers[i].clone())
        };
        let Some(sets) = &self.credential_sets else {
            return self
                .credentials
                .iter()
                .zip(answers)
                .map(|(query, answer)| {
                    answer.ok_or_else(|| {
                        Oid4vpError::NoMatch(format!("no document answers query {}", query.id))
                    })
                })
                .collect();
        };
        let mut out: Vec<QueryAnswer> = Vec::new();
        for (index, set) in sets.iter().enumerate() {
            let chosen = set
                .options
                .iter()
                .find(|option| option.iter().all(|id| answer_of(id).is_some()));
            match chosen {
                Some(option) => {
                    for id in option {
                        if let Some(existing) = out.iter_mut().find(|a| &a.query_id == id) {
                            existing.optional &= !set.required;
                        } else if let Some(mut answer) = answer_of(id) {
                            answer.optional = !set.required;
                            out.push(answer);
                        }
                    }
                }
                None if set.required => {
                    return Err(Oid4vpError::NoMatch(format!(
                        "no option of credential set {} can be satisfied",
                        index + 1
                    )));
                }
                None => {}
            }
        }
        Ok(out)
    }
}

impl CredentialQuery {
    /// The candidate answering this query with the fewest claims shown (a purpose
    /// credential at a tie), or `None`.
    fn best_answer(&self, candidates: &[Candidate]) -> Option<QueryAnswer> {
        candidates
            .iter()
            .enumerate()
            .filter_map(|(index, candidate)| self.answer(index, candidate))
            .min_by_key(|answer| {
                (
                    answer.shown.len(),
                    !candidates[answer.candidate].purpose,
                    answer.candidate,
                )
            })
    }

    fn matches_type(&self, candidate: &Candidate) -> bool {
        if self.format != FORMAT_DC_SD_JWT {
            return false;
        }
        match &self.meta.vct_values {
            // B.3.5 makes vct_values REQUIRED; a query without it constrains no type.
            None => true,
            Some(vcts) => vcts
                .iter()
                .any(|v| *v == candidate.vct || candidate.extends.contains(v)),
        }
    }

    fn answer(&self, index: usize, candidate: &Candidate) -> Option<QueryAnswer> {
        if !self.matches_type(candidate) {
            return None;
        }
        if self.require_cryptographic_holder_binding && !candidate.key_bound {
            return None;
        }
        let disclose = match (&self.claims, &self.claim_sets) {
            (None, _) => Vec::new(),
            (Some(claims), None) => resolve_all(claims.iter(), &candidate.claims)?,
            (Some(claims), Some(sets)) => sets.iter().find_map(|set| {
                let chosen = set
                    .iter()
                    .filter_map(|id| claims.iter().find(|c| c.id.as_deref() == Some(id)));
                resolve_all(chosen, &candidate.claims)
            })?,
        };
        let shown = candidate.shown(&disclose);
        if candidate.purpose
            && shown
                .iter()
                .any(|leaf| !disclose.iter().any(|d| is_at_or_below(leaf, d)))
        {
            // A purpose credential shows all it holds: only when all of it was asked for.
            return None;
        }
        Some(QueryAnswer {
            query_id: self.id.clone(),
            candidate: index,
            disclose,
            shown,
            optional: false,
            key_binding: candidate.key_bound,
        })
    }
}

/// Resolves every claims query against `claims`; `None` if one selects nothing (after
/// value matching, OpenID4VP 1.0 section 6.4.1: a claim whose value does not match is
/// treated as absent).
pub(crate) fn resolve_all<'q>(
    queries: impl Iterator<Item = &'q ClaimsQuery>,
    claims: &Map<String, Value>,
) -> Option<Vec<ClaimPath>> {
    let mut out = Vec::new();
    for query in queries {
        let selected = select_claims(claims, &query.path)?;
        let kept: Vec<ClaimPath> = selected
            .into_iter()
            .filter(|(_, value)| match &query.values {
                None => true,
                Some(values) => values.iter().any(|v| v == *value),
            })
            .map(|(path, _)| path)
            .collect();
        if kept.is_empty() {
            return None;
        }
        for path in kept {
            if !out.contains(&path) {
                out.push(path);
            }
        }
    }
    Some(out)
}

impl Candidate {
    /// The leaves a presentation disclosing `disclose` shows: the Disclosures sent are
    /// those at, above (to reach it) or below (everything under it) each path, as
    /// [`crate::sd_jwt::SdJwt::select_paths`] chooses them; a leaf is shown when every
    /// Disclosure at or above it is sent (so the non-disclosable parts of a disclosed array
    /// element or object come along, as RFC 9901 makes them).
    pub fn shown(&self, disclose: &[ClaimPath]) -> Vec<ClaimPath> {
        let sent: Vec<&ClaimPath> = self
            .sd_paths
            .iter()
            .filter(|sd| {
                disclose
                    .iter()
                    .any(|d| is_at_or_below(d, sd) || is_at_or_below(sd, d))
            })
            .collect();
        self.leaves
            .iter()
            .filter(|leaf| {
                self.sd_paths
                    .iter()
                    .filter(|sd| is_at_or_below(leaf, sd))
                    .all(|sd| sent.contains(&sd))
            })
            .cloned()
            .collect()
    }
}

/// Whether `path` is `base` or below it.
pub(crate) fn is_at_or_below(path: &ClaimPath, base: &ClaimPath) -> bool {
    path.0.len() >= base.0.len() && path.0[..base.0.len()] == base.0[..]
}

/// Every leaf claim (not an object or array) of `claims`, in document order.
pub(crate) fn leaf_paths(claims: &Map<String, Value>) -> Vec<ClaimPath> {
    crate::wallet::leaves(claims)
        .into_iter()
        .map(|(path, _)| path)
        .collect()
}
