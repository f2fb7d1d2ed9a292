//! A cache of verified Status Lists keyed by URI, answering lookups with their freshness, for
//! verifiers that check statuses offline.
//!
//! Freshness rule, from the draft's "Validation Rules" (step 4.c and 4.d) and "Status List
//! Update Interval and Caching":
//! - a list whose `exp` has passed (`now >= exp`) "MUST NOT be relied upon any longer": the
//!   lookup answers [`StatusLookup::Expired`] and gives no status;
//! - otherwise the list should be fetched again once `fetched_at + ttl < now` (the draft's
//!   "time status was resolved + ttl < current time"): until then [`StatusLookup::Fresh`],
//!   after it [`StatusLookup::Stale`] (the status is still the issuer's word, valid until `exp`,
//!   and the caller decides whether stale is good enough, e.g. when offline);
//! - the `ttl` used is the token's, clamped into the policy's `[min_ttl, max_ttl]` (the draft's
//!   "Expiration and Caching" asks clients to bound it); a token without `ttl` stays fresh
//!   until its `exp` ("If no ttl is given, then Relying Party SHOULD check for updates latest
//!   after the time of exp"), at most `max_ttl`; a token with neither uses `default_ttl`.
//!
//! Persistence: the cache serializes (serde) the decoded lists, re-compressed as `bits` +
//! `lst`, with their `uri`, `iat`, `exp`, `ttl`, `fetched_at` and HTTP validators (`etag`,
//! `last_modified`, for conditional requests on the next sync), not the token strings. Every
//! entry was verified when inserted, so the stored form is trusted app storage (keep it in the
//! encrypted vault or the app's private files); loading it decodes each list again under the
//! same size bounds, but does not re-check signatures (an expired token could not be
//! re-verified anyway, yet must still be reported as [`StatusLookup::Expired`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Status, StatusList, StatusReference, VerifiedStatusList};

/// How long cached lists stay fresh, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachePolicy {
    /// Freshness of a list whose token has neither `ttl` nor `exp`.
    pub default_ttl: u64,
    /// Lower bound on a token's `ttl` (protects the Status Provider from refetch storms).
    pub min_ttl: u64,
    /// Upper bound on how long a list stays fresh.
    pub max_ttl: u64,
}

impl Default for CachePolicy {
    /// 12 hours by default (the draft's example `ttl`), between 1 minute and 1 day.
    fn default() -> CachePolicy {
        CachePolicy {
            default_ttl: 12 * 3600,
            min_ttl: 60,
            max_ttl: 24 * 3600,
        }
    }
}

/// One cached, verified list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedStatusList {
    /// The token's `sub`.
    pub uri: String,
    /// The token's `iat`.
    pub iat: i64,
    /// The token's `exp`, if any.
    pub exp: Option<i64>,
    /// The token's `ttl`, if any.
    pub ttl: Option<u64>,
    /// When the token was fetched, seconds since the epoch.
    pub fetched_at: i64,
    /// The decoded list.
    pub list: StatusList,
    /// The RFC 7638 thumbprint of the key that signed it (absent in caches saved before
    /// it was recorded: such a list vouches for no issuer until it is fetched again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    /// The token's `aggregation_uri`: where its issuer lists all its status lists (draft
    /// section "Status List Parameter"), for a sync to follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregation_uri: Option<String>,
    /// The `ETag` the Status Provider served it with (RFC 9110 section 8.8.3), sent back as
    /// `If-None-Match` on the next sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// The `Last-Modified` it was served with (RFC 9110 section 8.8.2), sent back as
    /// `If-Modified-Since`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

/// HTTP validators of a fetched Status List Token (RFC 9110 section 8.8).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// `ETag`.
    pub etag: Option<String>,
    /// `Last-Modified`.
    pub last_modified: Option<String>,
}

/// The answer of a cache lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusLookup {
    /// The list is within its `ttl`: the status can be relied upon.
    Fresh(Status),
    /// The `ttl` has passed but not `exp`: a fresh copy should be fetched; the status is the
    /// last one the issuer signed.
    Stale(Status),
    /// The list's `exp` has passed: it must not be relied upon; no status.
    Expired {
        /// The list's `exp`.
        expired_at: i64,
    },
    /// The index is beyond the list: no statement can be made, the Referenced Token must be
    /// rejected.
    IndexOutOfRange {
        /// The number of entries in the list.
        len: u64,
    },
    /// No list is cached for the URI.
    Missing,
}

/// Verified Status Lists by URI, with their freshness.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCache {
    policy: CachePolicy,
    lists: BTreeMap<String, CachedStatusList>,
}

impl StatusCache {
    /// An empty cache with the default policy.
    pub fn new() -> StatusCache {
        StatusCache::default()
    }

    /// An empty cache with `policy`.
    pub fn with_policy(policy: CachePolicy) -> StatusCache {
        StatusCache {
            policy,
            lists: BTreeMap::new(),
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> CachePolicy {
        self.policy
    }

    /// Caches a verified list fetched at `fetched_at`, under its URI (the token's `sub`).
    /// A list issued before the one already cached (smaller `iat`) is ignored, so a replayed
    /// old token cannot roll back a revocation; returns whether the list was stored.
    pub fn insert(&mut self, verified: VerifiedStatusList, fetched_at: i64) -> bool {
        self.insert_with_validators(verified, fetched_at, Validators::default())
    }

    /// [`StatusCache::insert`], keeping the HTTP validators the token was served with.
    pub fn insert_with_validators(
        &mut self,
        verified: VerifiedStatusList,
        fetched_at: i64,
        validators: Validators,
    ) -> bool {
        if let Some(current) = self.lists.get(&verified.uri)
            && current.iat > verified.iat
        {
            return false;
        }
        let entry = CachedStatusList {
            uri: verified.uri.clone(),
            iat: verified.iat,
            exp: verified.exp,
            ttl: verified.ttl,
            fetched_at,
            list: verified.list,
            signer: Some(verified.signer),
            aggregation_uri: verified.aggregation_uri,
            etag: validators.etag,
            last_modified: validators.last_modified,
        };
        self.lists.insert(verified.uri, entry);
        true
    }

    /// Records that the Status Provider confirmed at `now` that the cached list for `uri` is
    /// still current (a `304 Not Modified` to a conditional request): the status was
    /// resolved again, so the draft's "time status was resolved + ttl" restarts from `now`.
    /// The token's own `exp` still bounds it. Returns whether a list was cached for `uri`.
    pub fn revalidated(&mut self, uri: &str, now: i64) -> bool {
        match self.lists.get_mut(uri) {
            Some(entry) => {
                entry.fetched_at = entry.fetched_at.max(now);
                true
            }
            None => false,
        }
    }

    /// The decoded size of every cached list, bytes (what the device holds in memory; the
    /// exported form is compressed).
    pub fn decoded_bytes(&self) -> usize {
        self.lists
            .values()
            .map(|entry| entry.list.as_bytes().len())
            .sum()
    }

    /// The cached list for `uri`.
    pub fn get(&self, uri: &str) -> Option<&CachedStatusList> {
        self.lists.get(uri)
    }

    /// Forgets the list for `uri`.
    pub fn remove(&mut self, uri: &str) -> Option<CachedStatusList> {
        self.lists.remove(uri)
    }

    /// Number of cached lists.
    pub fn len(&self) -> usize {
        self.lists.len()
    }

    /// Whether no list is cached.
    pub fn is_empty(&self) -> bool {
        self.lists.is_empty()
    }

    /// The URIs of the cached lists.
    pub fn uris(&self) -> impl Iterator<Item = &str> {
        self.lists.keys().map(String::as_str)
    }

    /// When the list for `uri` should be fetched again (see the module's freshness rule).
    pub fn refresh_at(&self, uri: &str) -> Option<i64> {
        self.lists.get(uri).map(|entry| self.refresh_time(entry))
    }

    fn refresh_time(&self, entry: &CachedStatusList) -> i64 {
        let policy = self.policy;
        let lifetime = match (entry.ttl, entry.exp) {
            (Some(ttl), _) => ttl.clamp(policy.min_ttl, policy.max_ttl.max(policy.min_ttl)),
            (None, Some(exp)) => u64::try_from(exp.saturating_sub(entry.fetched_at))
                .unwrap_or(0)
                .min(policy.max_ttl),
            (None, None) => policy.default_ttl.min(policy.max_ttl),
        };
        entry
            .fetched_at
            .saturating_add(i64::try_from(lifetime).unwrap_or(i64::MAX))
    }

    /// The status of the entry `reference` points to, with the list's freshness at `now`.
    pub fn lookup(&self, reference: &StatusReference, now: i64) -> StatusLookup {
        let Some(entry) = self.lists.get(&reference.uri) else {
            return StatusLookup::Missing;
        };
        if let Some(exp) = entry.exp
            && now >= exp
        {
            return StatusLookup::Expired { expired_at: exp };
        }
        let Some(status) = entry.list.status(reference.idx) else {
            return StatusLookup::IndexOutOfRange {
                len: entry.list.len(),
            };
        };
        if now > self.refresh_time(entry) {
            StatusLookup::Stale(status)
        } else {
            StatusLookup::Fresh(status)
        }
    }

    /// Drops every list whose `exp` has passed at `now`; returns how many were dropped.
    pub fn prune_expired(&mut self, now: i64) -> usize {
        let before = self.lists.len();
        self.lists
            .retain(|_, entry| entry.exp.is_none_or(|exp| now < exp));
        before - self.lists.len()
    }
}
