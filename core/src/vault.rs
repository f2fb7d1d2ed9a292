//! The wallet vault: credentials encrypted with AES-256-GCM under a platform key, written atomically.
