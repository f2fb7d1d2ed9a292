//! The `giayto` command without a verifier: keys, offline issuance, presentations and
//! their QR codes, and the exit codes and messages of bad input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Keys, run, run_expect, run_json};
use giayto_core::catalogue;
use giayto_core::qr;

#[test]
fn keygen_writes_a_private_jwk_0600_and_prints_only_the_public_key() {
    for alg in ["ES256", "EdDSA"] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("k.jwk");
        let public: serde_json::Value = serde_json::from_str(&run_expect(
            &["keygen", "--alg", alg, "--out", out.to_str().unwrap()],
            0,
        ))
        .unwrap();
        let private: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
        assert!(private.get("d").is_some());
        assert!(public.get("d").is_none(), "{public}");
        assert_eq!(public["x"], private["x"]);
        assert_eq!(public["kid"], private["kid"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&out).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Never overwrites a key.
        let again = run(&["keygen", "--out", out.to_str().unwrap()]);
        assert_eq!(again.status.code(), Some(2));
        assert_eq!(
            std::fs::read(&out).unwrap(),
            serde_json::to_vec_pretty(&private).unwrap()
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(run(&[]).status.code(), Some(2));
    assert_eq!(run(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(
        run(&["keygen", "--alg", "HS256", "--out", "x"])
            .status
            .code(),
        Some(2)
    );
    // --claims and --preset together.
    let keys = Keys::new("ES256");
    let credential = keys.issue("can_cuoc");
    let out = run(&[
        "present",
        "--credential",
        &credential,
        "--holder-key",
        &keys.path("holder.jwk"),
        "--claims",
        "given_name",
        "--preset",
        "full",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(run(&["--help"]).status.code(), Some(0));
}

#[test]
fn issue_refuses_claims_outside_the_schema_and_sd_for_catalogue_types() {
    let keys = Keys::new("ES256");
    let bad = keys.path("bad.json");
    std::fs::write(&bad, r#"{"given_name": "An"}"#).unwrap();
    let vct = "https://giayto.gov.vn/vct/can_cuoc";
    let out = run(&[
        "issue",
        "--key",
        &keys.path("issuer.jwk"),
        "--iss",
        common::ISS,
        "--vct",
        vct,
        &bad,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("issue:"),
        "{out:?}"
    );
    let claims = common::sample_claims_file(keys.dir.path(), "can_cuoc");
    let out = run(&[
        "issue",
        "--key",
        &keys.path("issuer.jwk"),
        "--iss",
        common::ISS,
        "--vct",
        vct,
        "--sd",
        "all",
        &claims,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("catalogue"));
    // A public key cannot sign.
    let out = run(&[
        "issue",
        "--key",
        &keys.path("holder.pub.jwk"),
        "--iss",
        common::ISS,
        "--vct",
        vct,
        &claims,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("private JWK"));
}

#[test]
fn issue_for_another_type_makes_the_named_claims_disclosable() {
    let keys = Keys::new("ES256");
    let claims = keys.path("c.json");
    std::fs::write(
        &claims,
        r#"{"name": "An", "club": "Hà Nội FC", "level": 3}"#,
    )
    .unwrap();
    let issue = |sd: &str| {
        let out = run_json(
            &[
                "issue",
                "--key",
                &keys.path("issuer.jwk"),
                "--iss",
                common::ISS,
                "--vct",
                "https://example.vn/member",
                "--sd",
                sd,
                &claims,
            ],
            0,
        );
        let credential = out["credential"].as_str().unwrap().to_owned();
        giayto_core::sd_jwt::SdJwt::parse(&credential)
            .unwrap()
            .disclosures()
            .len()
    };
    assert_eq!(issue("all"), 3);
    assert_eq!(issue("name,level"), 2);
}

#[test]
fn present_prints_a_key_bound_presentation_and_its_qr_code_reads_back() {
    let keys = Keys::new("ES256");
    let credential = keys.issue("driving_licence");
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("p.png");
    let out = run_json(
        &[
            "present",
            "--credential",
            &credential,
            "--holder-key",
            &keys.path("holder.jwk"),
            "--preset",
            "traffic_stop",
            "--nonce",
            "n-123",
            "--aud",
            "https://police.example",
            "--qr-png",
            png.to_str().unwrap(),
        ],
        0,
    );
    let presentation = out["presentation"].as_str().unwrap();
    let qr_text = out["qr_text"].as_str().unwrap();
    assert!(qr_text.starts_with("GT2:"));
    assert_eq!(qr::unpack(qr_text).unwrap(), presentation);
    let kb = giayto_core::sd_jwt::Presentation::parse(presentation).unwrap();
    let kb_jwt = giayto_core::jose::jws::CompactJws::parse(kb.key_binding_jwt().unwrap()).unwrap();
    let claims: serde_json::Value = kb_jwt.payload_json().unwrap();
    assert_eq!(claims["nonce"], "n-123");
    assert_eq!(claims["aud"], "https://police.example");
    // The disclosed claims are exactly the preset's.
    let processed = kb.process().unwrap();
    let licence = catalogue::by_id("driving_licence").unwrap();
    let wanted = licence.preset_paths("traffic_stop").unwrap();
    for claim in &processed.disclosed {
        assert!(
            wanted.contains(&claim.path.pattern()),
            "{} not in preset",
            claim.path
        );
    }
    // The PNG decodes to the same QR text, through `qr decode` too.
    let decoded = run_json(&["qr", "decode", png.to_str().unwrap()], 0);
    assert_eq!(decoded["kind"], "presentation");
    assert_eq!(decoded["presentation"], presentation);
    assert_eq!(decoded["qr_text"], qr_text);
    // `--text`: the QR's text as a barcode scanner types it, for a desk's scan box.
    assert_eq!(
        run_expect(&["qr", "decode", "--text", png.to_str().unwrap()], 0),
        format!("{qr_text}\n")
    );
    assert_eq!(
        run_json(&["qr", "decode", "--text", png.to_str().unwrap()], 0),
        serde_json::json!({ "qr_text": qr_text })
    );
    // A verifier desk's request QR (`/api/requests/{id}/qr.png`): its `openid4vp://` URI,
    // as a scanner types it, like an offer's.
    let request = "openid4vp://?client_id=x509_hash%3AabcDEF&request_uri=https%3A%2F%2Fdesk.example%2Foid4vp%2Frequests%2Fr1";
    let request_png = png.with_file_name("request.png");
    std::fs::write(
        &request_png,
        qr::render_png(request, qr::EcLevel::M).unwrap(),
    )
    .unwrap();
    assert_eq!(
        run_expect(
            &["qr", "decode", "--text", request_png.to_str().unwrap()],
            0
        ),
        format!("{request}\n")
    );
    let decoded = run_json(&["qr", "decode", request_png.to_str().unwrap()], 0);
    assert_eq!(decoded["kind"], "presentation_request");
    assert_eq!(decoded["client_id"], "x509_hash:abcDEF");
    assert_eq!(
        decoded["request_uri"],
        "https://desk.example/oid4vp/requests/r1"
    );
    // Not a giayto QR (what an arbitrary image holds): not typed out.
    let other = png.with_file_name("other.png");
    std::fs::write(
        &other,
        qr::render_png("hello\u{1b}[2J", qr::EcLevel::M).unwrap(),
    )
    .unwrap();
    let out = run(&["qr", "decode", "--text", other.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    // One-way default: the offline audience and a fresh nonce each time.
    let one_way = |_: u8| {
        let out = run_json(
            &[
                "present",
                "--credential",
                &credential,
                "--holder-key",
                &keys.path("holder.jwk"),
                "--claims",
                "given_name",
            ],
            0,
        );
        let p = giayto_core::sd_jwt::Presentation::parse(out["presentation"].as_str().unwrap())
            .unwrap();
        let kb = giayto_core::jose::jws::CompactJws::parse(p.key_binding_jwt().unwrap()).unwrap();
        kb.payload_json::<serde_json::Value>().unwrap()
    };
    let (a, b) = (one_way(0), one_way(1));
    assert_eq!(a["aud"], qr::OFFLINE_AUDIENCE);
    assert_ne!(a["nonce"], b["nonce"]);
    assert_eq!(
        a["nonce"].as_str().unwrap().len(),
        22,
        "128-bit base64url nonce"
    );
}

#[test]
fn present_refuses_an_unknown_preset_and_a_wrong_holder_file() {
    let keys = Keys::new("EdDSA");
    let credential = keys.issue("health_insurance_card");
    let out = run(&[
        "present",
        "--credential",
        &credential,
        "--holder-key",
        &keys.path("holder.jwk"),
        "--preset",
        "traffic_stop",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no preset \"traffic_stop\""));
    let out = run(&[
        "present",
        "--credential",
        &credential,
        "--holder-key",
        &keys.path("missing.jwk"),
        "--preset",
        "full",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}

#[test]
fn qr_encode_and_decode_round_trip_and_corrupted_text_is_reported() {
    let keys = Keys::new("ES256");
    let credential = keys.issue("judicial_record");
    let presentation = run_expect(
        &[
            "present",
            "--credential",
            &credential,
            "--holder-key",
            &keys.path("holder.jwk"),
            "--preset",
            "full",
        ],
        0,
    );
    let presentation = presentation.trim();
    let qr_text = run_expect(
        &[
            "qr",
            "encode",
            presentation,
            "--qr-svg",
            &keys.path("q.svg"),
        ],
        0,
    );
    let qr_text = qr_text.trim();
    assert!(
        std::fs::read_to_string(keys.path("q.svg"))
            .unwrap()
            .contains("<svg")
    );
    assert_eq!(
        run_expect(&["qr", "decode", qr_text], 0).trim(),
        presentation
    );
    // A character outside base45 (as a misread scan gives): a clear error, exit 2.
    let mut corrupted: Vec<char> = qr_text.chars().collect();
    let middle = corrupted.len() / 2;
    corrupted[middle] = 'a';
    let corrupted: String = corrupted.into_iter().collect();
    let out = run(&["qr", "decode", &corrupted]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("base45"), "{stderr}");
    // Truncated text.
    let out = run(&["qr", "decode", &qr_text[..qr_text.len() / 2]]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("QR"));
    // A truncated PNG.
    run_expect(
        &[
            "qr",
            "encode",
            presentation,
            "--qr-png",
            &keys.path("q.png"),
        ],
        0,
    );
    let png = std::fs::read(keys.path("q.png")).unwrap();
    std::fs::write(keys.path("cut.png"), &png[..png.len() / 2]).unwrap();
    let out = run(&["qr", "decode", &keys.path("cut.png")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("image"),
        "{out:?}"
    );
}

/// `giayto present` of `credential` with the keys' holder key and `preset`, plus `extra`
/// arguments, expecting success; its stdout.
fn present_preset(keys: &Keys, credential: &str, preset: &str, extra: &[&str]) -> String {
    let holder = keys.path("holder.jwk");
    let mut args = vec![
        "present",
        "--credential",
        credential,
        "--holder-key",
        &holder,
        "--preset",
        preset,
    ];
    args.extend_from_slice(extra);
    run_expect(&args, 0)
}

/// A copy of the built `giayto` alone in a temporary folder (nothing beside it).
fn lone_giayto(dir: &std::path::Path) -> std::path::PathBuf {
    let exe = dir.join("giayto");
    std::fs::copy(env!("CARGO_BIN_EXE_giayto"), &exe).unwrap();
    exe
}

/// Issue 16: the demo is its own program (`giayto-demo`) so that `giayto` does not depend on
/// the server; `giayto demo` without it says how to build it.
#[test]
fn demo_without_the_demo_program_says_how_to_build_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(lone_giayto(dir.path()))
        .args(["demo", "--non-interactive"])
        .env("PATH", dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cargo build -p giayto-demo"), "{stderr}");
}

/// `giayto demo ARGS` runs the `giayto-demo` beside it with the same arguments (and
/// `--json`), and ends with its exit code.
#[test]
fn demo_runs_the_demo_program_beside_it_with_the_same_arguments() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let exe = lone_giayto(dir.path());
    let fake = dir.path().join("giayto-demo");
    std::fs::write(&fake, "#!/bin/sh\necho \"demo got: $*\"\nexit 1\n").unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = std::process::Command::new(exe)
        .args(["--json", "demo", "--non-interactive", "--dir", "kept"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "demo got: --json --non-interactive --dir kept"
    );
}

/// Issue 16: `giayto ... | head -c 10` panicked ("failed printing to stdout: Broken pipe",
/// exit 101) in about a third of runs. Here the pipe's reading end is closed before the
/// command starts, so every print meets the closed pipe: each command ends with exit 0 and
/// says nothing.
#[test]
fn a_closed_pipe_is_a_normal_end() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k.jwk");
    let key = key.to_str().unwrap();
    let wallet = dir.path().join("w");
    let wallet = wallet.to_str().unwrap();
    for args in [
        vec!["keygen", "--out", key],
        vec!["verify", "--help"],
        vec!["--version"],
        vec!["--json", "wallet", "--dir", wallet, "init"],
        vec!["--json", "wallet", "--dir", wallet, "list"],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = common::giayto()
            .args(&args)
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "giayto {args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "giayto {args:?}: {stderr}");
    }
}

/// Issue 16: `--qr-png` wrote the image and also dumped the 1,779-character QR text; now
/// it says where the image went, and `--json` still carries the text.
#[test]
fn a_qr_written_to_a_file_is_not_also_dumped_as_text() {
    let keys = Keys::new("ES256");
    let credential = keys.issue("driving_licence");
    let png = keys.path("stop.png");
    let stdout = present_preset(&keys, &credential, "traffic_stop", &["--qr-png", &png]);
    assert!(!stdout.contains("GT2:"), "{stdout}");
    assert!(
        stdout.contains(&format!("QR code written to {png}")),
        "{stdout}"
    );
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(std::path::Path::new(&png).is_file());
}

/// Issue 16: `wallet init` printed an unlabelled JWK, and a second `wallet init` said
/// `File exists (os error 17)`.
#[test]
fn wallet_init_labels_the_key_and_a_second_init_says_the_wallet_exists() {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join("w");
    let w = w.to_str().unwrap();
    let first = run_expect(&["wallet", "--dir", w, "init"], 0);
    let label = first.lines().nth(1).unwrap();
    assert!(label.contains("public holder key (JWK)"), "{first}");
    let vault_before = std::fs::read(dir.path().join("w/vault.giayto")).unwrap();
    let again = run(&["wallet", "--dir", w, "init"]);
    assert_eq!(again.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.contains(&format!("a wallet already exists in {w}")) && !stderr.contains("os error"),
        "{stderr}"
    );
    // Nothing was touched.
    assert_eq!(
        std::fs::read(dir.path().join("w/vault.giayto")).unwrap(),
        vault_before
    );
}

/// `giayto qr encode P` prints the QR text it made (it printed its input back).
#[test]
fn qr_encode_prints_the_qr_text() {
    let keys = Keys::new("ES256");
    let credential = keys.issue("can_cuoc");
    let presentation = present_preset(&keys, &credential, "age_over_18", &[]);
    let text = run_expect(&["qr", "encode", presentation.trim()], 0);
    assert!(text.starts_with("GT2:"), "{text}");
    assert_eq!(
        run_expect(&["qr", "decode", text.trim()], 0).trim(),
        presentation.trim()
    );
}

/// Issue 16: `--preset hospital` failed without listing the presets that exist; `--help`
/// and `wallet show` did not list them either.
#[test]
fn presets_are_listed_where_one_is_chosen() {
    let keys = Keys::new("ES256");
    let credential = keys.issue("driving_licence");
    let out = run(&[
        "present",
        "--credential",
        &credential,
        "--holder-key",
        &keys.path("holder.jwk"),
        "--preset",
        "hospital",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "no preset \"hospital\"; its presets: full, identity, age_over_18, traffic_stop, vehicle_rental"
        ),
        "{stderr}"
    );
    let help = run_expect(&["wallet", "present", "--help"], 0);
    assert!(
        help.contains("driving_licence: full, identity, age_over_18, traffic_stop, vehicle_rental"),
        "{help}"
    );
    assert!(
        help.contains("judicial_record: full, identity, age_over_18, employment"),
        "{help}"
    );
}

/// Issue 16: the command had no way to make a `GTC1:` challenge, so two-way presentation
/// could not be tried with it alone. The challenge's nonce and audience bind the answer,
/// which verifies with them and not with another nonce.
#[test]
fn a_verifier_challenge_is_answered_and_verified_two_way() {
    let keys = Keys::new("ES256");
    let credential = keys.issue("can_cuoc");
    let challenge = run_json(
        &[
            "verifier",
            "challenge",
            "--verifier-id",
            "quay-3",
            "--ttl",
            "120",
        ],
        0,
    );
    let text = challenge["qr_text"].as_str().unwrap();
    assert!(text.starts_with("GTC1:"), "{challenge}");
    let nonce = challenge["nonce"].as_str().unwrap();
    assert_eq!(challenge["verifier_id"], "quay-3");
    let decoded = run_json(&["qr", "decode", text], 0);
    assert_eq!(decoded["kind"], "challenge");
    assert_eq!(decoded["nonce"], nonce);
    let answer = present_preset(
        &keys,
        &credential,
        "age_over_18",
        &["--nonce", nonce, "--aud", "quay-3"],
    );
    let issuer = keys.issuer_public();
    let answer = answer.trim();
    let verdict = run_json(
        &[
            "verify",
            answer,
            "--issuer-jwk",
            &issuer,
            "--nonce",
            nonce,
            "--aud",
            "quay-3",
        ],
        0,
    );
    assert_eq!(verdict["valid"], true, "{verdict}");
    run_json(
        &[
            "verify",
            answer,
            "--issuer-jwk",
            &issuer,
            "--nonce",
            "another",
            "--aud",
            "quay-3",
        ],
        1,
    );
    // For people: the text, when it ends, and the command that verifies the answer.
    let text = run_expect(&["verifier", "challenge"], 0);
    assert!(text.starts_with("GTC1:"), "{text}");
    assert!(
        text.contains("Verify the answer with: giayto verify ANSWER --nonce "),
        "{text}"
    );
    assert!(!text.contains("Unix"), "{text}");
}

/// Issue 16: `Có án tích / Has criminal convictions: false`: booleans and word enumerations
/// read in both languages; claims come in the catalogue's order; dates as dates.
#[test]
fn verdicts_show_booleans_and_enumerations_in_both_languages() {
    let keys = Keys::new("ES256");
    let credential = keys.issue("judicial_record");
    let presentation = present_preset(&keys, &credential, "full", &[]);
    let text = run_expect(
        &[
            "verify",
            presentation.trim(),
            "--issuer-jwk",
            &keys.issuer_public(),
        ],
        0,
    );
    let convicted = text
        .lines()
        .find(|l| l.contains("Has criminal convictions"))
        .unwrap_or_default();
    assert!(convicted.ends_with(": không / no"), "{text}");
    let sex = text
        .lines()
        .find(|l| l.contains("/ Sex:"))
        .unwrap_or_default();
    assert!(sex.ends_with(": nam / male"), "{text}");
    assert!(!text.contains("Unix time"), "{text}");
    // The ages, 14 to 60, in the catalogue's order.
    let ages: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("tuổi trở lên"))
        .collect();
    assert_eq!(ages.len(), 5, "{text}");
    assert!(ages[0].contains("14") && ages[4].contains("60"), "{text}");
}
