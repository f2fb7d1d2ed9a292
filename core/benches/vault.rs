//! Wallet vault speed: opening (read, decrypt, parse) a vault of 100 documents, and saving
//! one document into it (serialize, encrypt, temp file, fsync, rename, folder fsync).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use giayto_core::vault::{StoredCredential, Vault, VaultKey};

/// A document of realistic size: an SD-JWT VC of about 3 KB with 15 disclosures.
fn document(index: usize) -> StoredCredential {
    let jws = format!(
        "eyJhbGciOiJFUzI1NiIsInR5cCI6ImRjK3NkLWp3dCIsImtpZCI6ImtleS0xIn0.{}.{}",
        "x".repeat(1400),
        "s".repeat(86)
    );
    let disclosures: String = (0..15)
        .map(|d| format!("WyJzYWx0LXtkfS0xMjM0NTY3ODkwYWJjZGVmIiwiY2xhaW0te2R9IiwidmFsdWUtMTIzNDU2Nzg5MCJd{d}~"))
        .collect();
    StoredCredential {
        id: format!("doc-{index:03}"),
        vct: "urn:giayto:vn:cccd".to_owned(),
        format: "dc+sd-jwt".to_owned(),
        credential: format!("{jws}~{disclosures}"),
        holder_key_id: format!("holder-key-{index}"),
        issuer: "https://bocongan.example".to_owned(),
        received_at: 1_767_225_600 + index as i64,
        display: serde_json::json!({
            "vi": {"name": "Căn cước", "claims": {"given_name": "Tên", "family_name": "Họ", "birthdate": "Ngày sinh"}},
            "en": {"name": "Citizen identity card", "claims": {"given_name": "Given name", "family_name": "Family name", "birthdate": "Date of birth"}}
        }),
        purposes: Vec::new(),
        refill: None,
        account: None,
    }
}

fn vault_benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wallet.vault");
    let key = VaultKey::from_bytes([42; 32]);
    let mut vault = Vault::create(&path, &key).unwrap();
    for index in 0..100 {
        vault.insert(document(index)).unwrap();
    }
    let file_len = std::fs::metadata(&path).unwrap().len();
    eprintln!("vault of 100 documents: {file_len} bytes");

    c.bench_function("vault/open_100_documents", |b| {
        b.iter(|| Vault::open(&path, &key).unwrap())
    });

    let mut received_at = 0;
    c.bench_function("vault/save_one_into_100", |b| {
        b.iter(|| {
            let mut doc = document(100);
            received_at += 1;
            doc.received_at = received_at;
            vault.insert(doc).unwrap();
        })
    });
}

criterion_group!(benches, vault_benches);
criterion_main!(benches);
