//! `giayto verify --cache DIR` remembers the one-way QR it accepted in the cache folder: a
//! second run refuses the same QR as replayed (issue 16), a new presentation still passes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Keys, error_codes, run_json};
use giayto_cli::verifier_cache::{CacheFolder, DESK_VERIFIER_ID};
use giayto_core::jose::{Algorithm, Jwk, Jwks, Signer, SoftwareSigner};
use giayto_core::trust_list::{IssuerName, TrustList, TrustedIssuer};
use giayto_core::verifier::VerifierDevice;

#[test]
fn a_one_way_qr_is_refused_by_the_second_run_on_the_same_cache_folder() {
    let keys = Keys::new("ES256");
    let credential = keys.issue("driving_licence");
    let issuer_jwk: Jwk =
        serde_json::from_slice(&std::fs::read(keys.path("issuer.jwk")).unwrap()).unwrap();
    let now = giayto_cli::unix_now();

    let anchor = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let anchors = Jwks {
        keys: vec![anchor.public_jwk().unwrap()],
    };
    let token = TrustList {
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
            vcts: vec!["https://giayto.gov.vn/vct/driving_licence".into()],
            status_list_aggregation_endpoint: None,
        }],
        verifier_anchors: Vec::new(),
        verifiers: Vec::new(),
    }
    .sign(&anchor)
    .unwrap();
    // The folder as `giayto verifier sync` leaves it.
    let dir = keys.dir.path().join("cache");
    let folder = CacheFolder::new(&dir);
    folder
        .write_setup(&anchors, "https://trust.giayto.gov.vn/trust-list")
        .unwrap();
    let mut device = VerifierDevice::new(anchors, DESK_VERIFIER_ID).unwrap();
    device.load_trust_list(&token, now).unwrap();
    folder.save(&device).unwrap();

    let present = || {
        run_json(
            &[
                "present",
                "--credential",
                &credential,
                "--holder-key",
                &keys.path("holder.jwk"),
                "--preset",
                "traffic_stop",
            ],
            0,
        )["qr_text"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let qr = present();
    let cache = dir.to_str().unwrap();
    let verify =
        |qr: &str, code: i32| run_json(&["verify", qr, "--cache", cache, "--offline"], code);

    let first = verify(&qr, 0);
    assert_eq!(first["valid"], true, "{first}");
    let second = verify(&qr, 1);
    assert_eq!(
        error_codes(&second),
        vec!["replayed".to_owned()],
        "{second}"
    );
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("state.json")).unwrap()).unwrap();
    assert_eq!(state["seen_proofs"].as_array().unwrap().len(), 1, "{state}");

    // The holder's wallet makes a new proof for the next showing: accepted.
    let again = verify(&present(), 0);
    assert_eq!(again["valid"], true, "{again}");
}
