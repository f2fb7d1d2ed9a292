//! `giayto verify` with a trust list signed by a pinned anchor and Token Status Lists from
//! files: authorised issuer, revoked credential, missing list, type not authorised, and
//! `--offline` refusing URLs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Keys, error_codes, run, run_json};
use giayto_core::catalogue;
use giayto_core::jose::{Algorithm, Jwk, Jwks, Signer, SoftwareSigner};
use giayto_core::sd_jwt_vc::{IssueRequest, issue_document};
use giayto_core::status_list::{Status, StatusList, StatusReference, sign_token};
use giayto_core::trust_list::{IssuerName, TrustList, TrustedIssuer};

const STATUS_URI: &str = "https://csgt.bocongan.gov.vn/status-lists/1";

#[test]
fn trust_list_and_status_lists() {
    let keys = Keys::new("ES256");
    let issuer_jwk: Jwk =
        serde_json::from_slice(&std::fs::read(keys.path("issuer.jwk")).unwrap()).unwrap();
    let issuer = SoftwareSigner::from_jwk(&issuer_jwk).unwrap();
    let holder_jwk: Jwk =
        serde_json::from_slice(&std::fs::read(keys.path("holder.pub.jwk")).unwrap()).unwrap();
    let now = giayto_cli::unix_now();
    let licence = catalogue::by_id("driving_licence").unwrap();
    let credential = issue_document(
        &IssueRequest {
            issuer: common::ISS.into(),
            vct: licence.vct.into(),
            claims: common::sample_claims("driving_licence"),
            holder_jwk: Some(holder_jwk),
            status: Some(StatusReference {
                idx: 7,
                uri: STATUS_URI.into(),
            }),
            issued_at: now - 60,
            not_before: None,
            expires_at: Some(now + 86_400),
        },
        &issuer,
    )
    .unwrap();
    let credential_file = keys.path("licence.sdjwt");
    std::fs::write(&credential_file, &credential).unwrap();

    let anchor = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let anchor_file = keys.path("anchor.jwk");
    std::fs::write(
        &anchor_file,
        serde_json::to_vec(&anchor.public_jwk().unwrap()).unwrap(),
    )
    .unwrap();
    let trust_list = |vcts: Vec<String>| {
        let list = TrustList {
            iss: "https://trust.giayto.gov.vn".into(),
            iat: now - 10,
            exp: now + 86_400,
            issuers: vec![TrustedIssuer {
                id: common::ISS.into(),
                name: IssuerName {
                    vi: "Cục Cảnh sát giao thông".into(),
                    en: "Traffic Police Department".into(),
                },
                jwks: Jwks {
                    keys: vec![issuer_jwk.to_public()],
                },
                vcts,
                status_list_aggregation_endpoint: None,
            }],
            verifier_anchors: Vec::new(),
            verifiers: Vec::new(),
        };
        let path = keys.path(&format!("trust-{}.jwt", list.issuers[0].vcts.len()));
        std::fs::write(&path, list.sign(&anchor).unwrap()).unwrap();
        path
    };
    let trusted = trust_list(vec![licence.vct.into()]);
    let other_types = trust_list(vec![]);
    let status_file = |status: Status, name: &str| {
        let mut list = StatusList::new(2, 16).unwrap();
        list.set_status(7, status).unwrap();
        let path = keys.path(name);
        std::fs::write(
            &path,
            sign_token(STATUS_URI, &list, now - 5, None, Some(3600), &issuer).unwrap(),
        )
        .unwrap();
        path
    };
    let valid = status_file(Status::Valid, "valid.jwt");
    let revoked = status_file(Status::Invalid, "revoked.jwt");

    let presentation = run_json(
        &[
            "present",
            "--credential",
            &credential_file,
            "--holder-key",
            &keys.path("holder.jwk"),
            "--preset",
            "traffic_stop",
        ],
        0,
    );
    let p = presentation["qr_text"].as_str().unwrap();
    let base = [
        "verify",
        p,
        "--trust-list",
        &trusted,
        "--anchor",
        &anchor_file,
        "--offline",
    ];

    let mut args = base.to_vec();
    args.extend(["--status-list", &valid]);
    let verdict = run_json(&args, 0);
    assert_eq!(verdict["status"], "valid");
    assert_eq!(verdict["issuer"]["name"]["en"], "Traffic Police Department");

    let mut args = base.to_vec();
    args.extend(["--status-list", &revoked]);
    let verdict = run_json(&args, 1);
    assert_eq!(verdict["status"], "revoked");
    assert!(
        error_codes(&verdict).contains(&"revoked".to_owned()),
        "{verdict}"
    );
    let text = run(&args[..]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("REVOKED"));

    let verdict = run_json(&base, 1);
    assert!(
        error_codes(&verdict).contains(&"status_list_missing".to_owned()),
        "{verdict}"
    );

    // A status list signed by someone else is ignored, with a warning.
    let stranger = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let forged = keys.path("forged.jwt");
    let list = StatusList::new(2, 16).unwrap();
    std::fs::write(
        &forged,
        sign_token(STATUS_URI, &list, now - 5, None, Some(3600), &stranger).unwrap(),
    )
    .unwrap();
    let mut args = base.to_vec();
    args.extend(["--status-list", &forged]);
    let out = run(&args[..]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ignored"));

    let mut args = base.to_vec();
    args[3] = &other_types;
    args.extend(["--status-list", &valid]);
    let verdict = run_json(&args, 1);
    assert!(
        error_codes(&verdict).contains(&"not_authorised_for_type".to_owned()),
        "{verdict}"
    );

    // A trust list not signed by the pinned anchor: exit 2 with the reason.
    let wrong_anchor = keys.path("wrong-anchor.jwk");
    std::fs::write(
        &wrong_anchor,
        std::fs::read(keys.path("holder.pub.jwk")).unwrap(),
    )
    .unwrap();
    let out = run(&[
        "verify",
        p,
        "--trust-list",
        &trusted,
        "--anchor",
        &wrong_anchor,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("trust list"));

    // --offline refuses URLs; --trust-list needs --anchor.
    let out = run(&[
        "verify",
        p,
        "--trust-list",
        "https://trust.example/list",
        "--anchor",
        &anchor_file,
        "--offline",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--offline"));
    assert_eq!(
        run(&["verify", p, "--trust-list", &trusted]).status.code(),
        Some(2)
    );
}
