//! `giayto-demo`: the whole journey with its own embedded server, run as a user would,
//! in text and in JSON, and kept in a folder of the user's choice (twice in the same one).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::process::{Command, Stdio};

use serde_json::Value;

/// Runs `giayto-demo args...` with no terminal, expecting `code`; returns stdout.
fn run_expect(args: &[&str], code: i32) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_giayto-demo"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "giayto-demo {args:?}\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `giayto-demo --json args...` expecting `code`; returns the parsed report.
fn run_json(args: &[&str], code: i32) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&run_expect(&all, code)).unwrap()
}

#[test]
fn the_demo_plays_the_journey_and_every_check_holds() {
    let text = run_expect(&["--non-interactive"], 0);
    for line in [
        "[1/7]",
        "[7/7]",
        "✓ police: Giấy phép lái xe / Driving licence",
        "✓ justice: Phiếu lý lịch tư pháp / Judicial record certificate",
        "HỢP LỆ / VALID",
        "Lỗi / Error [replayed]",
        "Đủ 18 tuổi trở lên / Aged 18 or over: có / yes",
        "Trạng thái / Status: đã thu hồi / REVOKED",
        "Lỗi / Error [revoked]: the issuer has revoked this document",
        "Journey complete: 7/7 checks as expected",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    assert!(!text.contains('✗'), "a check failed:\n{text}");
    // Issue 16: the agency developer sees the publish request (the API key masked), the
    // offer, and where the API is described.
    assert!(text.contains("/api/v1/documents"), "{text}");
    assert!(text.contains("Authorization: Bearer gyk_…("), "{text}");
    assert!(
        !text.contains("Bearer gyk_")
            || !text
                .split("Bearer gyk_")
                .nth(1)
                .unwrap()
                .starts_with(|c: char| c.is_ascii_alphanumeric()),
        "an API key was printed:\n{text}"
    );
    assert!(text.contains("\"offer_uri_by_reference\""), "{text}");
    assert!(text.contains("docs/ISSUER_API.md"), "{text}");
    // The QR is drawn in the terminal (half blocks), and the age check shows nothing else.
    assert!(text.contains('▀') && text.contains('▄'));
    assert!(!text.contains("Aged 21 or over"), "{text}");
    assert!(!text.contains("Date of birth"), "{text}");
    // The phone shows purpose credentials, and every QR drawn (the traffic stop is the
    // largest) fits 100 terminal columns.
    assert!(
        text.contains("a purpose credential for traffic_stop")
            && text.contains("a purpose credential for age_over_18"),
        "{text}"
    );
    let widest = text
        .lines()
        .filter(|l| l.contains('▀') || l.contains('▄'))
        .map(|l| l.chars().count())
        .max()
        .unwrap();
    assert!(widest <= 100, "{widest} columns");
}

#[test]
fn the_demo_reports_json_and_can_run_twice_in_a_kept_folder() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("demo");
    let folder = folder.to_str().unwrap();
    for _ in 0..2 {
        // The second run finds the agencies of the first and gives them new API keys.
        let report = run_json(&["--non-interactive", "--dir", folder], 0);
        assert_eq!(report["ok"], true, "{report}");
        assert_eq!(report["documents"], 6);
        let checks = report["checks"].as_array().unwrap();
        assert_eq!(checks.len(), 7, "{report}");
        assert!(checks.iter().all(|c| c["ok"] == true), "{report}");
        assert!(
            report["server"]
                .as_str()
                .unwrap()
                .starts_with("http://127.0.0.1:")
        );
    }
    assert!(dir.path().join("demo/giayto.db").is_file());
    assert!(dir.path().join("demo/giayto-master.key").is_file());
    // Issue 16: a kept folder holds what is needed to carry on by hand: the wallet opens
    // (its vault key was thrown away before), and the agencies' API keys are kept.
    let keys = std::fs::read_to_string(dir.path().join("demo/api-keys.txt")).unwrap();
    assert!(keys.lines().any(|l| l.starts_with("police gyk_")), "{keys}");
    for wallet in ["demo/wallet", "demo/wallet-2"] {
        let folder = dir.path().join(wallet);
        for file in ["vault.giayto", "vault.key", "holder.jwk"] {
            assert!(folder.join(file).is_file(), "{wallet}/{file}");
        }
        let key = std::fs::read_to_string(folder.join("vault.key")).unwrap();
        let key = giayto_core::jose::b64::decode(key.trim()).unwrap();
        let key = giayto_core::vault::VaultKey::from_bytes(key.try_into().unwrap());
        let vault = giayto_core::vault::Vault::open(folder.join("vault.giayto"), &key).unwrap();
        // Six received, the revoked licence deleted.
        assert_eq!(
            giayto_core::wallet::Wallet::new(vault)
                .documents()
                .unwrap()
                .len(),
            5
        );
    }
    // The text run says how to carry on.
    let text = run_expect(&["--non-interactive", "--dir", folder], 0);
    assert!(text.contains("Carry on by hand"), "{text}");
    assert!(text.contains("api-keys.txt"), "{text}");
    assert!(text.contains("giayto wallet --dir "), "{text}");
}
