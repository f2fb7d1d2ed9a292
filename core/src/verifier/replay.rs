//! The replay cache: a bounded memory of key-binding proofs seen inside their freshness
//! window, so a one-way QR shown once cannot be shown again to the same verifier, even
//! after a restart: its live entries are saved with the device state ([`SeenProof`]).

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// One remembered proof as saved between runs: the SHA-256 of the KB-JWT (base64url, no
/// padding: 43 characters) and the end of its freshness window (Unix seconds). Nothing else
/// of the presentation is kept.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SeenProof {
    /// SHA-256 of the KB-JWT, base64url without padding.
    pub kb_jwt_sha256: String,
    /// Remembered until this time, Unix seconds.
    pub until: i64,
}

/// Why saved replay entries were refused on import.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayStateError {
    /// More entries than the cache can hold (a cache never exports more).
    #[error("replay cache: {found} entries saved, more than its capacity of {capacity}")]
    TooManyEntries {
        /// Entries in the saved state.
        found: usize,
        /// The cache's capacity.
        capacity: usize,
    },
    /// An entry's digest is not 32 bytes of base64url.
    #[error("replay cache: an entry's kb_jwt_sha256 is not a base64url SHA-256 digest")]
    BadDigest,
}

/// Remembers proofs (by the SHA-256 of the KB-JWT) until their window closes.
#[derive(Debug)]
pub struct ReplayCache {
    seen: Mutex<HashMap<[u8; 32], i64>>,
    capacity: usize,
}

impl ReplayCache {
    /// A cache holding at most `capacity` live proofs.
    pub fn new(capacity: usize) -> ReplayCache {
        ReplayCache {
            seen: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// Records `proof`, valid until `expires_at`; returns `false` if it was already seen
    /// and is still inside its window.
    pub fn check_and_remember(&self, proof: &str, expires_at: i64, now: i64) -> bool {
        let key: [u8; 32] = {
            let digest = ring::digest::digest(&ring::digest::SHA256, proof.as_bytes());
            let mut key = [0u8; 32];
            key.copy_from_slice(digest.as_ref());
            key
        };
        // A poisoned lock only means another thread panicked mid-insert; the map is
        // still a valid map, so keep using it.
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.get(&key).is_some_and(|&until| until >= now) {
            return false;
        }
        if seen.len() >= self.capacity {
            seen.retain(|_, &mut until| until >= now);
        }
        if seen.len() >= self.capacity {
            // Still full of live proofs: forget the one closest to expiry. It can then be
            // replayed only until it expires, which the freshness window bounds anyway.
            if let Some(oldest) = seen
                .iter()
                .min_by_key(|(_, until)| **until)
                .map(|(k, _)| *k)
            {
                seen.remove(&oldest);
            }
        }
        seen.insert(key, expires_at);
        true
    }

    /// A separate cache remembering the same proofs (later checks on one do not reach the
    /// other).
    pub fn snapshot(&self) -> ReplayCache {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        ReplayCache {
            seen: Mutex::new(seen.clone()),
            capacity: self.capacity,
        }
    }

    /// The most proofs it holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The proofs still inside their window at `now`, to save between runs (at most the
    /// capacity), ordered by `until` then digest so the same cache saves the same bytes.
    pub fn live_proofs(&self, now: i64) -> Vec<SeenProof> {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let mut live: Vec<SeenProof> = seen
            .iter()
            .filter(|&(_, &until)| until >= now)
            .map(|(key, &until)| SeenProof {
                kb_jwt_sha256: URL_SAFE_NO_PAD.encode(key),
                until,
            })
            .collect();
        live.sort_by(|a, b| (a.until, &a.kb_jwt_sha256).cmp(&(b.until, &b.kb_jwt_sha256)));
        live
    }

    /// Adds `proofs` saved by [`ReplayCache::live_proofs`] to what the cache remembers
    /// (a proof in both keeps the later window end), dropping those whose window closed
    /// before `now`; if that takes it past its capacity, the proofs closest to expiry are
    /// forgotten, as [`ReplayCache::check_and_remember`] does. Adding rather than replacing
    /// means an import never forgets a proof seen since the state was saved. Refused,
    /// leaving the cache as it was, when `proofs` holds more than the capacity or a
    /// malformed digest. Returns how many proofs are remembered.
    pub fn merge_saved(&self, proofs: &[SeenProof], now: i64) -> Result<usize, ReplayStateError> {
        if proofs.len() > self.capacity {
            return Err(ReplayStateError::TooManyEntries {
                found: proofs.len(),
                capacity: self.capacity,
            });
        }
        let mut saved = Vec::with_capacity(proofs.len());
        for proof in proofs {
            let bytes = URL_SAFE_NO_PAD
                .decode(proof.kb_jwt_sha256.as_bytes())
                .map_err(|_| ReplayStateError::BadDigest)?;
            let key: [u8; 32] = bytes.try_into().map_err(|_| ReplayStateError::BadDigest)?;
            saved.push((key, proof.until));
        }
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        for (key, until) in saved {
            let kept = seen.entry(key).or_insert(until);
            *kept = (*kept).max(until);
        }
        seen.retain(|_, &mut until| until >= now);
        if seen.len() > self.capacity {
            let mut by_end: Vec<([u8; 32], i64)> = seen.iter().map(|(k, u)| (*k, *u)).collect();
            by_end.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            by_end.truncate(self.capacity);
            *seen = by_end.into_iter().collect();
        }
        Ok(seen.len())
    }

    /// The number of proofs remembered.
    pub fn len(&self) -> usize {
        self.seen.lock().map(|s| s.len()).unwrap_or_default()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_within_window_and_forgets_after() {
        let cache = ReplayCache::new(2);
        assert!(cache.check_and_remember("a", 100, 0));
        assert!(!cache.check_and_remember("a", 100, 50));
        assert!(cache.check_and_remember("a", 200, 101));
        assert!(cache.check_and_remember("b", 200, 101));
        assert!(cache.check_and_remember("c", 200, 101));
        assert_eq!(cache.len(), 2, "bounded");
    }

    #[test]
    fn a_merged_cache_refuses_what_the_saved_one_saw() {
        let first = ReplayCache::new(10);
        assert!(first.check_and_remember("kb-jwt-1", 100, 0));
        assert!(first.check_and_remember("kb-jwt-2", 30, 0));
        let saved = first.live_proofs(10);
        assert_eq!(saved.len(), 2);
        assert_eq!(saved[0].until, 30, "ordered by window end");
        assert_eq!(
            saved[1].kb_jwt_sha256,
            URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, b"kb-jwt-1"))
        );
        let json = serde_json::to_string(&saved).unwrap();

        // A new process: nothing remembered until the saved entries are merged in.
        let second = ReplayCache::new(10);
        assert!(second.check_and_remember("kb-jwt-0", 100, 20));
        let saved: Vec<SeenProof> = serde_json::from_str(&json).unwrap();
        assert_eq!(second.merge_saved(&saved, 20).unwrap(), 3);
        assert!(
            !second.check_and_remember("kb-jwt-0", 100, 25),
            "a proof seen before the import is kept"
        );
        assert!(!second.check_and_remember("kb-jwt-1", 100, 25), "replayed");
        assert!(!second.check_and_remember("kb-jwt-2", 30, 25), "replayed");
        assert!(second.check_and_remember("kb-jwt-3", 100, 25), "never seen");
    }

    #[test]
    fn merge_drops_expired_entries_and_exports_only_live_ones() {
        let cache = ReplayCache::new(10);
        assert!(cache.check_and_remember("old", 50, 0));
        assert!(cache.check_and_remember("new", 500, 0));
        assert_eq!(
            cache.live_proofs(100).len(),
            1,
            "the closed window is not saved"
        );
        let saved = cache.live_proofs(0);
        let restored = ReplayCache::new(10);
        assert_eq!(restored.merge_saved(&saved, 100).unwrap(), 1);
        assert!(
            restored.check_and_remember("old", 150, 100),
            "its window closed"
        );
        assert!(!restored.check_and_remember("new", 500, 100));
    }

    #[test]
    fn merge_refuses_more_than_the_capacity_and_malformed_digests() {
        let big = ReplayCache::new(3);
        for i in 0..3 {
            assert!(big.check_and_remember(&format!("p{i}"), 100, 0));
        }
        let saved = big.live_proofs(0);
        let small = ReplayCache::new(2);
        assert!(small.check_and_remember("kept", 100, 0));
        assert_eq!(
            small.merge_saved(&saved, 0),
            Err(ReplayStateError::TooManyEntries {
                found: 3,
                capacity: 2
            })
        );
        assert_eq!(small.len(), 1, "left as it was");
        let bad = [SeenProof {
            kb_jwt_sha256: "c2hvcnQ".into(),
            until: 100,
        }];
        assert_eq!(small.merge_saved(&bad, 0), Err(ReplayStateError::BadDigest));
        assert!(!small.check_and_remember("kept", 100, 1), "left as it was");
    }

    #[test]
    fn merging_past_the_capacity_keeps_the_proofs_expiring_last() {
        let cache = ReplayCache::new(2);
        assert!(cache.check_and_remember("soon", 10, 0));
        let other = ReplayCache::new(2);
        assert!(other.check_and_remember("late", 300, 0));
        assert!(other.check_and_remember("later", 400, 0));
        assert_eq!(cache.merge_saved(&other.live_proofs(0), 0).unwrap(), 2);
        assert!(!cache.check_and_remember("late", 300, 1));
        assert!(!cache.check_and_remember("later", 400, 1));
        assert!(cache.check_and_remember("soon", 10, 1), "forgotten first");
    }
}
