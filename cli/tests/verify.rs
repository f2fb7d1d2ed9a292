//! `giayto verify`: every catalogue type and preset through a PNG QR code, the RFC 9901
//! examples with `--profile sd-jwt`, the JSON shape, exit codes, and the error of each
//! broken input (corrupted QR text, truncated image, wrong challenge nonce).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Keys, error_codes, run, run_json, shared_dir};
use giayto_core::catalogue;
use serde_json::Value;

fn present(keys: &Keys, credential: &str, select: &[&str], extra: &[&str]) -> Value {
    let holder = keys.path("holder.jwk");
    let mut args = vec![
        "present",
        "--credential",
        credential,
        "--holder-key",
        &holder,
    ];
    args.extend_from_slice(select);
    args.extend_from_slice(extra);
    run_json(&args, 0)
}

#[test]
fn every_type_and_preset_verifies_from_a_png_qr_code() {
    for holder_alg in ["ES256"] {
        let keys = Keys::new(holder_alg);
        let issuer = keys.issuer_public();
        for document in catalogue::all() {
            let credential = keys.issue(document.id);
            for preset in document.presets() {
                let png = keys.path(&format!("{}-{}.png", document.id, preset.name));
                present(
                    &keys,
                    &credential,
                    &["--preset", preset.name],
                    &["--qr-png", &png],
                );
                let verdict = run_json(&["verify", &png, "--issuer-jwk", &issuer], 0);
                assert_eq!(
                    verdict["valid"], true,
                    "{} {}: {verdict}",
                    document.id, preset.name
                );
                assert_eq!(verdict["document_type"]["vct"], document.vct);
                assert_eq!(verdict["issuer"]["id"], common::ISS);
                assert_eq!(verdict["holder_binding"]["state"], "verified");
                assert_eq!(verdict["status"], "not_applicable");
                // Exactly the preset's disclosable claims came through.
                let wanted = document.preset_paths(preset.name).unwrap();
                let all = document.disclosable_paths();
                let shown: Vec<&str> = verdict["claims_json"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .map(String::as_str)
                    .collect();
                for top in &shown {
                    if all.iter().any(|p| p == top) {
                        assert!(
                            wanted.iter().any(|p| p == top),
                            "{top} leaked by {}",
                            preset.name
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn json_shape_and_human_output() {
    let keys = Keys::new("ES256");
    let credential = keys.issue("can_cuoc");
    let issuer = keys.issuer_public();
    let out = present(&keys, &credential, &["--preset", "age_over_18"], &[]);
    let presentation = out["presentation"].as_str().unwrap();
    let verdict = run_json(&["verify", presentation, "--issuer-jwk", &issuer], 0);
    for field in [
        "valid",
        "document_type",
        "issuer",
        "claims",
        "holder_binding",
        "status",
        "errors",
    ] {
        assert!(verdict.get(field).is_some(), "missing {field}: {verdict}");
    }
    assert_eq!(verdict["claims_json"]["age_equal_or_over"]["18"], true);
    assert!(verdict["claims_json"].get("birth_date").is_none());
    let age = verdict["claims"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["path"] == "age_equal_or_over.18")
        .unwrap();
    assert!(age["label"]["vi"].as_str().unwrap().contains("18"));
    // Text for people, Vietnamese and English; the QR text form and stdin work too.
    let text = run(&[
        "verify",
        out["qr_text"].as_str().unwrap(),
        "--issuer-jwk",
        &issuer,
    ]);
    assert_eq!(text.status.code(), Some(0));
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("HỢP LỆ / VALID"), "{text}");
    assert!(text.contains("Căn cước"), "{text}");
    let mut child = common::giayto()
        .args(["--json", "verify", "-", "--issuer-jwk", &issuer])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(presentation.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn invalid_presentations_exit_1_with_their_reason() {
    let keys = Keys::new("ES256");
    let credential = keys.issue("driving_licence");
    let issuer = keys.issuer_public();
    // A wrong challenge: the verifier expected another nonce.
    let out = present(
        &keys,
        &credential,
        &["--preset", "traffic_stop"],
        &["--nonce", "challenge-A", "--aud", "https://police.example"],
    );
    let p = out["presentation"].as_str().unwrap();
    let verdict = run_json(
        &[
            "verify",
            p,
            "--issuer-jwk",
            &issuer,
            "--nonce",
            "challenge-B",
        ],
        1,
    );
    assert_eq!(verdict["valid"], false);
    assert!(
        error_codes(&verdict).contains(&"nonce_mismatch".to_owned()),
        "{verdict}"
    );
    let verdict = run_json(
        &[
            "verify",
            p,
            "--issuer-jwk",
            &issuer,
            "--nonce",
            "challenge-A",
            "--aud",
            "https://bank.example",
        ],
        1,
    );
    assert!(
        error_codes(&verdict).contains(&"audience_mismatch".to_owned()),
        "{verdict}"
    );
    run_json(
        &[
            "verify",
            p,
            "--issuer-jwk",
            &issuer,
            "--nonce",
            "challenge-A",
            "--aud",
            "https://police.example",
        ],
        0,
    );
    // Too old for the one-way window.
    let now = giayto_cli::unix_now() + 3600;
    let verdict = run_json(
        &[
            "verify",
            p,
            "--issuer-jwk",
            &issuer,
            "--now",
            &now.to_string(),
        ],
        1,
    );
    assert!(
        error_codes(&verdict).contains(&"key_binding_stale".to_owned()),
        "{verdict}"
    );
    // Another issuer's key.
    let other = Keys::new("ES256");
    let verdict = run_json(&["verify", p, "--issuer-jwk", &other.issuer_public()], 1);
    assert!(!error_codes(&verdict).is_empty());
    // Without key binding while it is required.
    let sd_only = p[..=p.rfind('~').unwrap()].to_owned();
    let verdict = run_json(&["verify", &sd_only, "--issuer-jwk", &issuer], 1);
    assert!(
        error_codes(&verdict).contains(&"key_binding_missing".to_owned()),
        "{verdict}"
    );
    // A paper form is accepted without key binding, and says it is not bound.
    let wallet_paper = giayto_core::qr::pack(&sd_only).unwrap();
    let verdict = run_json(&["verify", &wallet_paper, "--issuer-jwk", &issuer], 0);
    assert_eq!(verdict["holder_binding"]["state"], "not_bound");
    run_json(
        &[
            "verify",
            &wallet_paper,
            "--issuer-jwk",
            &issuer,
            "--require-kb",
        ],
        1,
    );

    // Corrupted QR text: a signature byte changed decodes but does not verify; an
    // impossible character is unreadable. Both exit 1 with the reason.
    let qr_text = out["qr_text"].as_str().unwrap();
    let bad_char = format!("{}a{}", &qr_text[..40], &qr_text[41..]);
    let verdict = run_json(&["verify", &bad_char, "--issuer-jwk", &issuer], 1);
    assert_eq!(error_codes(&verdict), ["qr_unreadable"]);
    assert!(
        verdict["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("base45")
    );
    let truncated = &qr_text[..qr_text.len() - 30];
    let verdict = run_json(&["verify", truncated, "--issuer-jwk", &issuer], 1);
    assert_eq!(error_codes(&verdict), ["qr_unreadable"], "{verdict}");

    // A truncated image: the input cannot be read, exit 2 with the reason.
    let png = keys.path("p.png");
    present(
        &keys,
        &credential,
        &["--preset", "full"],
        &["--qr-png", &png],
    );
    let bytes = std::fs::read(&png).unwrap();
    std::fs::write(keys.path("cut.png"), &bytes[..bytes.len() / 3]).unwrap();
    let out = run(&["verify", &keys.path("cut.png"), "--issuer-jwk", &issuer]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("image"),
        "{out:?}"
    );
    // Usage and I/O errors.
    assert_eq!(run(&["verify", p]).status.code(), Some(2), "no trust given");
    assert_eq!(
        run(&["verify", &keys.path("missing.png"), "--issuer-jwk", &issuer])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn rfc_9901_examples_verify_with_profile_sd_jwt() {
    let vectors = shared_dir().join("vectors/sd-jwt");
    let dir = tempfile::tempdir().unwrap();
    let issuer_key = dir.path().join("issuer.jwk");
    std::fs::write(
        &issuer_key,
        r#"{"kty":"EC","crv":"P-256","x":"b28d4MwZMjw8-00CG4xfnn9SLMVMM19SlqZpVb_uNtQ","y":"Xv5zWwuoaTgdS6hV43yI6gBwTnjukmFQQnJ_kCxzqk8"}"#,
    )
    .unwrap();
    let mut checked = 0;
    for entry in std::fs::read_dir(&vectors).unwrap() {
        let case = entry.unwrap().path();
        let Some(file) = ["sd_jwt_presentation.txt", "sd_jwt_presentation.json"]
            .iter()
            .map(|f| case.join(f))
            .find(|f| f.exists())
        else {
            continue;
        };
        let mut text = std::fs::read_to_string(&file).unwrap();
        // The JSON serialization examples are stored as a JSON string holding the JSON.
        if let Ok(Value::String(inner)) = serde_json::from_str::<Value>(&text) {
            text = inner;
        }
        let file = dir.path().join(case.file_name().unwrap());
        std::fs::write(&file, &text).unwrap();
        let has_kb = case.join("kb_jwt_serialized.txt").exists();
        // Verify a few seconds after the KB-JWT was made (the examples were not all
        // generated at the settings' `iat`).
        let now = if has_kb {
            let kb: Value =
                serde_json::from_slice(&std::fs::read(case.join("kb_jwt_payload.json")).unwrap())
                    .unwrap();
            kb["iat"].as_i64().unwrap() + 10
        } else {
            1_683_000_010
        }
        .to_string();
        let mut args = vec![
            "verify",
            file.to_str().unwrap(),
            "--profile",
            "sd-jwt",
            "--issuer-jwk",
            issuer_key.to_str().unwrap(),
            "--now",
            &now,
        ];
        if has_kb {
            args.extend([
                "--nonce",
                "1234567890",
                "--aud",
                "https://verifier.example.org",
            ]);
        } else {
            args.push("--no-require-kb");
        }
        if case.ends_with("w3c-vc_for_slide_deck") {
            // Its cnf.jwk is an abbreviated RSA placeholder ("0vx7agoe....") that no
            // verifier can use as a holder key; giayto refuses it instead of ignoring it.
            let verdict = run_json(&args, 1);
            assert_eq!(error_codes(&verdict), ["invalid_envelope"], "{verdict}");
            checked += 1;
            continue;
        }
        let json_form = case
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("json_serialization");
        // The reference implementation behind the JSON serialization vectors hashed the
        // JSON text for sd_hash, where RFC 9901 section 8.1 requires the compact form (see
        // core/tests/sd_jwt_vectors.rs): exactly that check fails, everything else passes.
        let verdict = run_json(&args, if json_form { 1 } else { 0 });
        if json_form {
            assert_eq!(
                error_codes(&verdict),
                ["key_binding_hash_mismatch"],
                "{verdict}"
            );
        }
        let expected: Value =
            serde_json::from_slice(&std::fs::read(case.join("verified_contents.json")).unwrap())
                .unwrap();
        let mut expected = expected.as_object().unwrap().clone();
        for envelope in ["iss", "iat", "nbf", "exp", "cnf", "vct", "status"] {
            expected.remove(envelope);
        }
        assert_eq!(
            verdict["claims_json"],
            Value::Object(expected),
            "{}",
            case.display()
        );
        if !json_form {
            let state = if has_kb { "verified" } else { "not_bound" };
            assert_eq!(verdict["holder_binding"]["state"], state);
        }
        // The same text tampered (one disclosure dropped from the KB-bound ones) fails.
        if has_kb && !json_form {
            let mut parts: Vec<&str> = text.trim().split('~').collect();
            if parts.len() > 2 {
                parts.remove(1);
                let tampered = parts.join("~");
                let mut args = args.clone();
                args[1] = &tampered;
                run_json(&args, 1);
            }
        }
        checked += 1;
    }
    assert!(checked >= 12, "only {checked} RFC examples found");
}
