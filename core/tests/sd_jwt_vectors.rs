//! RFC 9901's own examples (../shared/vectors/sd-jwt): every presentation verifies, with
//! and without key binding, compact and JSON serialized, to its `verified_contents.json`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use giayto_core::jose::Jwk;
use giayto_core::sd_jwt::{
    HashAlg, KbExpectations, Presentation, SdJwt, SdJwtError, verify_kb_jwt,
};
use serde_json::Value;

fn vector_dir() -> PathBuf {
    common::shared_dir().join("vectors/sd-jwt")
}

fn settings_key(name: &str) -> Jwk {
    let text = std::fs::read_to_string(vector_dir().join("settings.yml")).unwrap();
    // settings.yml is flat enough to read the holder and issuer keys by line.
    let block: Vec<&str> = text
        .lines()
        .skip_while(|l| l.trim() != format!("{name}:"))
        .skip(1)
        .take(5)
        .collect();
    let field = |f: &str| {
        block
            .iter()
            .find_map(|l| l.trim().strip_prefix(&format!("{f}: ")))
            .unwrap()
            .to_owned()
    };
    serde_json::from_value(serde_json::json!({
        "kty": "EC", "crv": "P-256", "x": field("x"), "y": field("y")
    }))
    .unwrap()
}

fn read_presentation(dir: &Path) -> String {
    if let Ok(text) = std::fs::read_to_string(dir.join("sd_jwt_presentation.txt")) {
        return text.trim().to_owned();
    }
    // The JSON files hold the serialization as a JSON string.
    let text = std::fs::read_to_string(dir.join("sd_jwt_presentation.json")).unwrap();
    match serde_json::from_str::<Value>(&text).unwrap() {
        Value::String(inner) => inner,
        other => other.to_string(),
    }
}

#[test]
fn every_rfc_example_verifies_to_its_contents() {
    let issuer_key = settings_key("issuer_key");
    let holder_key = settings_key("holder_key");
    let mut cases = 0;
    let mut with_kb = 0;
    for entry in std::fs::read_dir(vector_dir()).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let presentation =
            Presentation::parse(&read_presentation(&dir)).unwrap_or_else(|e| panic!("{name}: {e}"));
        presentation
            .issuer_jwt()
            .verify(&issuer_key)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let processed = presentation
            .process()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("verified_contents.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(Value::Object(processed.claims.clone()), expected, "{name}");
        if let Some(kb) = presentation.key_binding_jwt() {
            let kb_payload: Value = serde_json::from_str(
                &std::fs::read_to_string(dir.join("kb_jwt_payload.json")).unwrap(),
            )
            .unwrap();
            let iat = kb_payload["iat"].as_i64().unwrap();
            let audiences = vec!["https://verifier.example.org".to_owned()];
            let result = verify_kb_jwt(
                kb,
                presentation.sd_jwt_part(),
                processed.hash_alg,
                &holder_key,
                &KbExpectations {
                    audiences: Some(&audiences),
                    nonce: Some("1234567890"),
                    now: iat,
                    max_age: 60,
                    clock_skew: 5,
                },
            );
            if name.starts_with("json_serialization") {
                // The reference implementation that generated these vectors (PyPI sd-jwt
                // 0.10.4) hashes the JSON issuance text for sd_hash, where RFC 9901
                // section 8.1 requires the compact form rebuilt from the JSON. giayto
                // follows the RFC, so these KB-JWTs are refused for exactly that reason
                // (signature, typ and claims having passed before the hash check), and the
                // vector's sd_hash is the reference implementation's value.
                assert_eq!(result, Err(SdJwtError::KeyBindingSdHashMismatch), "{name}");
                let issuance: Value = serde_json::from_str(
                    &std::fs::read_to_string(dir.join("sd_jwt_issuance.json")).unwrap(),
                )
                .unwrap();
                let mut reference = issuance.as_str().unwrap().to_owned() + "~";
                for d in presentation.disclosures() {
                    reference.push_str(d.encoded());
                    reference.push('~');
                }
                assert_eq!(
                    HashAlg::Sha256.digest_b64(reference.as_bytes()),
                    kb_payload["sd_hash"].as_str().unwrap()
                );
            } else {
                let claims = result.unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(claims.sd_hash, kb_payload["sd_hash"].as_str().unwrap());
            }
            with_kb += 1;
        } else {
            assert!(
                !dir.join("kb_jwt_serialized.txt").exists(),
                "{name} has a KB-JWT file but the presentation carries none"
            );
        }
        // The issued form (all disclosures) processes too, as a holder checks it.
        if let Ok(issued) = std::fs::read_to_string(dir.join("sd_jwt_issuance.txt")) {
            let sd_jwt = SdJwt::parse(issued.trim()).unwrap_or_else(|e| panic!("{name}: {e}"));
            sd_jwt.process().unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        cases += 1;
    }
    assert_eq!(cases, 15, "every vector case was checked");
    assert!(with_kb >= 6, "key-binding cases checked: {with_kb}");
}
