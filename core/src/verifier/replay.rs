//! The replay cache: a bounded memory of key-binding proofs seen inside their freshness
//! window, so a one-way QR shown once cannot be shown again to the same verifier.

use std::collections::HashMap;
use std::sync::Mutex;

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
}
