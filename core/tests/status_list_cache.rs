//! The status cache: freshness by `ttl` and `exp`, policy bounds, rollback refusal, persistence.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use giayto_core::jose::{Algorithm, Jwks, Signer, SoftwareSigner};
use giayto_core::status_list::{
    CachePolicy, Status, StatusCache, StatusList, StatusLookup, StatusReference,
    VerifiedStatusList, sign_token, verify_token,
};

const URI: &str = "https://status.giayto.example/lists/7";
const T0: i64 = 1_750_000_000;

fn list() -> StatusList {
    let mut list = StatusList::new(2, 64).unwrap();
    list.set_status(3, Status::Invalid).unwrap();
    list.set_status(4, Status::Suspended).unwrap();
    list
}

fn verified(iat: i64, exp: Option<i64>, ttl: Option<u64>) -> VerifiedStatusList {
    VerifiedStatusList {
        uri: URI.into(),
        iat,
        exp,
        ttl,
        aggregation_uri: None,
        list: list(),
        signer: "issuer-key-thumbprint".into(),
    }
}

fn at(idx: u64) -> StatusReference {
    StatusReference {
        idx,
        uri: URI.into(),
    }
}

#[test]
fn verified_token_goes_fresh_then_stale_then_expired() {
    let signer = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let keys = Jwks {
        keys: vec![signer.public_jwk().unwrap()],
    };
    let token = sign_token(URI, &list(), T0, Some(T0 + 7200), Some(3600), &signer).unwrap();
    let mut cache = StatusCache::new();
    assert_eq!(cache.lookup(&at(3), T0), StatusLookup::Missing);
    assert!(cache.insert(verify_token(&token, URI, &keys, T0 + 5).unwrap(), T0 + 5));

    assert_eq!(
        cache.lookup(&at(0), T0 + 5),
        StatusLookup::Fresh(Status::Valid)
    );
    assert_eq!(
        cache.lookup(&at(3), T0 + 3605),
        StatusLookup::Fresh(Status::Invalid)
    );
    assert_eq!(
        cache.lookup(&at(4), T0 + 3606),
        StatusLookup::Stale(Status::Suspended)
    );
    assert_eq!(cache.refresh_at(URI), Some(T0 + 3605));
    assert_eq!(
        cache.lookup(&at(3), T0 + 7200),
        StatusLookup::Expired {
            expired_at: T0 + 7200
        }
    );
    assert_eq!(
        cache.lookup(&at(64), T0 + 10),
        StatusLookup::IndexOutOfRange { len: 64 }
    );
    let other = StatusReference {
        idx: 3,
        uri: "https://status.giayto.example/lists/8".into(),
    };
    assert_eq!(cache.lookup(&other, T0 + 10), StatusLookup::Missing);
}

#[test]
fn ttl_is_clamped_by_the_policy() {
    let policy = CachePolicy {
        default_ttl: 500,
        min_ttl: 100,
        max_ttl: 1000,
    };
    let mut cache = StatusCache::with_policy(policy);
    cache.insert(verified(T0, None, Some(1)), T0);
    assert_eq!(cache.refresh_at(URI), Some(T0 + 100));
    cache.insert(verified(T0, None, Some(1_000_000)), T0);
    assert_eq!(cache.refresh_at(URI), Some(T0 + 1000));
    assert_eq!(
        cache.lookup(&at(3), T0 + 1000),
        StatusLookup::Fresh(Status::Invalid)
    );
    assert_eq!(
        cache.lookup(&at(3), T0 + 1001),
        StatusLookup::Stale(Status::Invalid)
    );
}

#[test]
fn without_ttl_a_list_is_fresh_until_exp_or_the_default() {
    let policy = CachePolicy {
        default_ttl: 500,
        min_ttl: 100,
        max_ttl: 10_000,
    };
    let mut cache = StatusCache::with_policy(policy);
    cache.insert(verified(T0, Some(T0 + 2000), None), T0 + 10);
    assert_eq!(cache.refresh_at(URI), Some(T0 + 2000));
    assert_eq!(
        cache.lookup(&at(3), T0 + 1999),
        StatusLookup::Fresh(Status::Invalid)
    );
    assert_eq!(
        cache.lookup(&at(3), T0 + 2000),
        StatusLookup::Expired {
            expired_at: T0 + 2000
        }
    );

    cache.insert(verified(T0 + 1, None, None), T0 + 10);
    assert_eq!(cache.refresh_at(URI), Some(T0 + 510));
    assert_eq!(
        cache.lookup(&at(0), T0 + 511),
        StatusLookup::Stale(Status::Valid)
    );
}

#[test]
fn an_older_list_never_replaces_a_newer_one() {
    let mut cache = StatusCache::new();
    let mut newer = verified(T0 + 100, None, Some(3600));
    newer.list.set_status(5, Status::Invalid).unwrap();
    assert!(cache.insert(newer, T0 + 100));
    assert!(!cache.insert(verified(T0, None, Some(3600)), T0 + 200));
    assert_eq!(
        cache.lookup(&at(5), T0 + 200),
        StatusLookup::Fresh(Status::Invalid)
    );
    assert_eq!(cache.get(URI).unwrap().fetched_at, T0 + 100);
    // The same token fetched again refreshes the fetch time.
    let mut same = verified(T0 + 100, None, Some(3600));
    same.list.set_status(5, Status::Invalid).unwrap();
    assert!(cache.insert(same, T0 + 5000));
    assert_eq!(
        cache.lookup(&at(5), T0 + 5000),
        StatusLookup::Fresh(Status::Invalid)
    );
}

#[test]
fn cache_persists_as_json_and_loads_back() {
    let mut cache = StatusCache::new();
    cache.insert(verified(T0, Some(T0 + 7200), Some(3600)), T0);
    let json = serde_json::to_string(&cache).unwrap();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let entry = &value["lists"][URI];
    assert_eq!(entry["list"]["bits"], 2);
    assert_eq!(
        entry["list"]["lst"],
        serde_json::json!(list().encode_lst().unwrap())
    );
    assert_eq!(entry["fetched_at"], T0);

    let loaded: StatusCache = serde_json::from_str(&json).unwrap();
    assert_eq!(loaded, cache);
    assert_eq!(
        loaded.lookup(&at(4), T0 + 1),
        StatusLookup::Fresh(Status::Suspended)
    );

    let mut corrupt = value.clone();
    corrupt["lists"][URI]["list"]["bits"] = serde_json::json!(3);
    assert!(serde_json::from_value::<StatusCache>(corrupt).is_err());
}

#[test]
fn expired_lists_are_pruned() {
    let mut cache = StatusCache::new();
    cache.insert(verified(T0, Some(T0 + 10), None), T0);
    let mut other = verified(T0, None, Some(60));
    other.uri = "https://status.giayto.example/lists/8".into();
    cache.insert(other, T0);
    assert_eq!(cache.len(), 2);
    assert_eq!(cache.prune_expired(T0 + 9), 0);
    assert_eq!(cache.prune_expired(T0 + 10), 1);
    assert_eq!(
        cache.uris().collect::<Vec<_>>(),
        ["https://status.giayto.example/lists/8"]
    );
}
