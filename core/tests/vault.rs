//! Wallet vault behaviour through the public API: round trips, wrong keys, damaged files,
//! interrupted writes, a second writer, permissions and the checked-in format fixture.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};

use giayto_core::vault::{MAX_VAULT_FILE_LEN, StoredCredential, Vault, VaultError, VaultKey};
use proptest::prelude::*;

fn key(byte: u8) -> VaultKey {
    VaultKey::from_bytes([byte; 32])
}

fn credential(id: &str) -> StoredCredential {
    StoredCredential {
        id: id.to_owned(),
        vct: "urn:giayto:vn:gplx".to_owned(),
        format: "dc+sd-jwt".to_owned(),
        credential: format!("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ7aWR9In0.c2ln~WyJzIiwiYSIsMV0~{id}~"),
        holder_key_id: format!("holder-{id}"),
        issuer: "https://csgt.example".to_owned(),
        received_at: 1_767_225_600,
        display: serde_json::json!({"vi": {"name": "Giấy phép lái xe"}, "en": {"name": "Driving licence"}}),
        purposes: Vec::new(),
        refill: None,
        account: None,
    }
}

fn vault_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("wallet.vault")
}

/// Every temporary file the vault would write for `path` starts with this name.
fn temp_name(path: &Path, suffix: &str) -> PathBuf {
    let name = path.file_name().unwrap().to_str().unwrap();
    path.with_file_name(format!(".{name}.tmp.{suffix}"))
}

fn ids(vault: &Vault) -> Vec<&str> {
    vault.list().iter().map(|c| c.id.as_str()).collect()
}

fn dir_entries(dir: &tempfile::TempDir) -> usize {
    fs::read_dir(dir.path()).unwrap().count()
}

#[test]
fn round_trip_insert_replace_remove() {
    let dir = tempfile::tempdir().unwrap();
    let path = vault_path(&dir);
    let k = key(7);
    let mut vault = Vault::create(&path, &k).unwrap();
    assert!(vault.is_empty());
    vault.insert(credential("a")).unwrap();
    vault.insert(credential("b")).unwrap();

    let reopened = Vault::open(&path, &k).unwrap();
    assert_eq!(reopened.len(), 2);
    assert_eq!(reopened.list(), vault.list());
    assert_eq!(reopened.get("b"), Some(&credential("b")));
    assert_eq!(reopened.get("c"), None);

    // Same id replaces in place.
    let mut newer = credential("a");
    newer.received_at += 60;
    vault.insert(newer.clone()).unwrap();
    let reopened = Vault::open(&path, &k).unwrap();
    assert_eq!(ids(&reopened), ["a", "b"]);
    assert_eq!(reopened.get("a"), Some(&newer));

    assert!(vault.remove("a").unwrap());
    assert!(!vault.remove("a").unwrap());
    let reopened = Vault::open(&path, &k).unwrap();
    assert_eq!(ids(&reopened), ["b"]);
    // Nothing but the vault file is left in the folder.
    assert_eq!(dir_entries(&dir), 1);
}

#[test]
fn every_write_uses_a_fresh_nonce() {
    let dir = tempfile::tempdir().unwrap();
    let path = vault_path(&dir);
    let mut vault = Vault::create(&path, &key(1)).unwrap();
    vault.insert(credential("a")).unwrap();
    let first = fs::read(&path).unwrap();
    vault.insert(credential("a")).unwrap();
    let second = fs::read(&path).unwrap();
    assert_eq!(first.len(), second.len());
    assert_eq!(&first[..9], b"GIAYTOV1\x01");
    assert_ne!(first[9..21], second[9..21], "nonce reused");
    assert_ne!(first[21..], second[21..]);
}

#[test]
fn absent_file_is_not_found_never_an_empty_wallet() {
    let dir = tempfile::tempdir().unwrap();
    let path = vault_path(&dir);
    assert!(matches!(
        Vault::open(&path, &key(1)),
        Err(VaultError::NotFound)
    ));
    assert!(!path.exists());

    let mut created = Vault::open_or_create(&path, &key(1)).unwrap();
    created.insert(credential("a")).unwrap();
    let again = Vault::open_or_create(&path, &key(1)).unwrap();
    assert_eq!(ids(&again), ["a"]);
}

#[test]
fn create_never_overwrites_an_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = vault_path(&dir);
    let mut vault = Vault::create(&path, &key(1)).unwrap();
    vault.insert(credential("a")).unwrap();
    assert!(matches!(
        Vault::create(&path, &key(1)),
        Err(VaultError::AlreadyExists)
    ));
    assert_eq!(ids(&Vault::open(&path, &key(1)).unwrap()), ["a"]);
}

#[test]
fn wrong_key_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = vault_path(&dir);
    let mut vault = Vault::create(&path, &key(1)).unwrap();
    vault.insert(credential("a")).unwrap();
    assert!(matches!(
        Vault::open(&path, &key(2)),
        Err(VaultError::WrongKeyOrCorrupted)
    ));
    // open_or_create must not replace it with an empty vault either.
    assert!(matches!(
        Vault::open_or_create(&path, &key(2)),
        Err(VaultError::WrongKeyOrCorrupted)
    ));
    assert_eq!(ids(&Vault::open(&path, &key(1)).unwrap()), ["a"]);
}

#[test]
fn any_flipped_byte_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = vault_path(&dir);
    let mut vault = Vault::create(&path, &key(1)).unwrap();
    vault.insert(credential("a")).unwrap();
    let good = fs::read(&path).unwrap();
    for index in 0..good.len() {
        let mut bad = good.clone();
        bad[index] ^= 0x01;
        fs::write(&path, &bad).unwrap();
        let error = Vault::open(&path, &key(1)).unwrap_err();
        match index {
            0..=7 => assert!(matches!(error, VaultError::BadMagic), "{index}: {error}"),
            8 => assert!(
                matches!(error, VaultError::UnsupportedVersion(0)),
                "{error}"
            ),
            _ => assert!(
                matches!(error, VaultError::WrongKeyOrCorrupted),
                "{index}: {error}"
            ),
        }
    }
}

#[test]
fn truncated_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = vault_path(&dir);
    let mut vault = Vault::create(&path, &key(1)).unwrap();
    vault.insert(credential("a")).unwrap();
    let good = fs::read(&path).unwrap();
    for len in [0, 1, 8, 9, 20, 21, 36, good.len() / 2, good.len() - 1] {
        fs::write(&path, &good[..len]).unwrap();
        let error = Vault::open(&path, &key(1)).unwrap_err();
        if len <= 36 {
            assert!(matches!(error, VaultError::Truncated), "{len}: {error}");
        } else {
            assert!(
                matches!(error, VaultError::WrongKeyOrCorrupted),
                "{len}: {error}"
            );
        }
    }
}

#[test]
fn oversized_file_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let path = vault_path(&dir);
    let file = fs::File::create(&path).unwrap();
    file.set_len(MAX_VAULT_FILE_LEN + 1).unwrap(); // sparse: no 64 MiB written
    assert!(matches!(
        Vault::open(&path, &key(1)),
        Err(VaultError::TooLarge)
    ));
}

/// Builds a vault holding `a` at `path`, and returns the bytes of the next generation
/// (holding `a` and `b`) as the interrupted write would have produced them.
fn previous_and_next_generation(path: &Path, k: &VaultKey) -> Vec<u8> {
    let mut vault = Vault::create(path, k).unwrap();
    vault.insert(credential("a")).unwrap();
    let previous = fs::read(path).unwrap();
    vault.insert(credential("b")).unwrap();
    let next = fs::read(path).unwrap();
    fs::write(path, previous).unwrap();
    next
}

#[test]
fn truncated_temp_file_leaves_previous_vault_readable() {
    let dir = tempfile::tempdir().unwrap();
    let path = vault_path(&dir);
    let k = key(3);
    let next = previous_and_next_generation(&path, &k);
    // Crash while writing the temporary file: half of it reached the disk.
    let temp = temp_name(&path, "00112233aabbccdd");
    fs::write(&temp, &next[..next.len() / 2]).unwrap();

    let mut vault = Vault::open(&path, &k).unwrap();
    assert_eq!(ids(&vault), ["a"]);
    assert!(!temp.exists(), "stale temporary file not cleaned up");
    // The recovered vault is writable again.
    vault.insert(credential("c")).unwrap();
    assert_eq!(ids(&Vault::open(&path, &k).unwrap()), ["a", "c"]);
}

#[test]
fn crash_between_write_and_rename_leaves_previous_vault_readable() {
    let dir = tempfile::tempdir().unwrap();
    let path = vault_path(&dir);
    let k = key(4);
    let next = previous_and_next_generation(&path, &k);
    // Crash after the temporary file was written and fsynced, before the rename.
    let temp = temp_name(&path, "ffeeddccbbaa9988");
    fs::write(&temp, &next).unwrap();

    let vault = Vault::open(&path, &k).unwrap();
    assert_eq!(ids(&vault), ["a"]);
    assert!(!temp.exists());
    assert_eq!(dir_entries(&dir), 1);
}

#[test]
fn two_inserts_then_reopen_keeps_both() {
    let dir = tempfile::tempdir().unwrap();
    let path = vault_path(&dir);
    let k = key(5);
    let mut vault = Vault::create(&path, &k).unwrap();
    vault.insert(credential("a")).unwrap();
    vault.insert(credential("b")).unwrap();
    drop(vault);
    assert_eq!(ids(&Vault::open(&path, &k).unwrap()), ["a", "b"]);
}

#[test]
fn a_stale_second_handle_cannot_drop_documents() {
    let dir = tempfile::tempdir().unwrap();
    let path = vault_path(&dir);
    let k = key(6);
    Vault::create(&path, &k).unwrap();
    let mut first = Vault::open(&path, &k).unwrap();
    let mut second = Vault::open(&path, &k).unwrap();
    first.insert(credential("a")).unwrap();

    // `second` has not seen `a`; writing its view would lose it.
    assert!(matches!(
        second.insert(credential("b")),
        Err(VaultError::ModifiedElsewhere)
    ));
    assert!(
        second.is_empty(),
        "failed insert must be rolled back in memory"
    );
    assert!(matches!(second.remove("a"), Ok(false)));

    let mut second = Vault::open(&path, &k).unwrap();
    second.insert(credential("b")).unwrap();
    assert_eq!(ids(&Vault::open(&path, &k).unwrap()), ["a", "b"]);
    // `first` is now stale in turn, and its failed remove keeps `a` in memory.
    assert!(matches!(
        first.remove("a"),
        Err(VaultError::ModifiedElsewhere)
    ));
    assert_eq!(ids(&first), ["a"]);
}

#[test]
fn deeply_nested_display_is_refused_so_the_vault_stays_readable() {
    let dir = tempfile::tempdir().unwrap();
    let path = vault_path(&dir);
    let k = key(9);
    let mut vault = Vault::create(&path, &k).unwrap();
    vault.insert(credential("a")).unwrap();
    let mut deep = credential("deep");
    // Built in memory: serde_json could not even parse it back (recursion limit 128).
    deep.display = (0..200).fold(serde_json::json!({}), |inner, _| serde_json::json!([inner]));
    assert!(matches!(vault.insert(deep), Err(VaultError::TooDeep)));
    assert_eq!(ids(&vault), ["a"]);
    assert_eq!(ids(&Vault::open(&path, &k).unwrap()), ["a"]);
}

#[test]
fn a_racing_create_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = vault_path(&dir);
    let k = key(8);
    let mut early = Vault::create(&path, &k).unwrap();
    fs::remove_file(&path).unwrap();
    let mut late = Vault::create(&path, &k).unwrap();
    late.insert(credential("late")).unwrap();
    assert!(matches!(
        early.insert(credential("early")),
        Err(VaultError::ModifiedElsewhere)
    ));
    assert_eq!(ids(&Vault::open(&path, &k).unwrap()), ["late"]);
}

#[cfg(unix)]
#[test]
fn vault_file_is_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = vault_path(&dir);
    let mut vault = Vault::create(&path, &key(1)).unwrap();
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    vault.insert(credential("a")).unwrap();
    assert_eq!(mode(&path), 0o600);
}

#[test]
fn checked_in_v1_file_decrypts() {
    // Written by Python's `cryptography` AESGCM, key 00 01 .. 1f, nonce 01 02 .. 0c.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vault_v1_fixture.bin");
    let mut key_bytes = [0u8; 32];
    for (i, b) in key_bytes.iter_mut().enumerate() {
        *b = i as u8;
    }
    let dir = tempfile::tempdir().unwrap();
    let copy = vault_path(&dir);
    fs::copy(&path, &copy).unwrap();
    let vault = Vault::open(&copy, &VaultKey::from_bytes(key_bytes)).unwrap();
    assert_eq!(vault.len(), 1);
    let stored = vault.get("cccd-001").unwrap();
    assert_eq!(stored.vct, "urn:giayto:vn:cccd");
    assert_eq!(stored.format, "dc+sd-jwt");
    assert_eq!(stored.holder_key_id, "holder-1");
    assert_eq!(stored.issuer, "https://bocongan.example");
    assert_eq!(stored.received_at, 1_767_225_600);
    assert!(
        stored
            .credential
            .ends_with("~WyJzYWx0IiwiZ2l2ZW5fbmFtZSIsIkFuIl0~")
    );
    assert_eq!(stored.display["vi"]["name"], "Căn cước");
    assert!(matches!(
        Vault::open(&copy, &key(0)),
        Err(VaultError::WrongKeyOrCorrupted)
    ));
}

#[test]
fn errors_and_debug_reveal_no_contents() {
    let dir = tempfile::tempdir().unwrap();
    let path = vault_path(&dir);
    let k = key(0x5a);
    let mut vault = Vault::create(&path, &k).unwrap();
    vault.insert(credential("a")).unwrap();
    let printed = format!("{vault:?}");
    assert!(printed.contains("len: 1"), "{printed}");
    assert!(!printed.contains("eyJ"), "{printed}");
    assert_eq!(format!("{k:?}"), "VaultKey(<redacted>)");
    assert_eq!(
        format!("{:?}", vault.get("a").unwrap()),
        r#"StoredCredential { id: "a", vct: "urn:giayto:vn:gplx", .. }"#
    );
    let error = Vault::open(&path, &key(1)).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the vault cannot be decrypted: wrong key, or the file is corrupted"
    );
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let dir = tempfile::tempdir().unwrap();
        let path = vault_path(&dir);
        fs::write(&path, &bytes).unwrap();
        prop_assert!(Vault::open(&path, &key(1)).is_err());
    }

    #[test]
    fn random_bytes_behind_a_valid_header_never_panic(
        tail in proptest::collection::vec(any::<u8>(), 0..512)
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = vault_path(&dir);
        let mut bytes = b"GIAYTOV1\x01".to_vec();
        bytes.extend_from_slice(&tail);
        fs::write(&path, &bytes).unwrap();
        let error = Vault::open(&path, &key(1)).unwrap_err();
        prop_assert!(matches!(error, VaultError::Truncated | VaultError::WrongKeyOrCorrupted));
    }
}
