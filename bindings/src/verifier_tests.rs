//! The verifier through the bindings: a one-way QR accepted before a restart is refused after
//! it when the app saved `export_replay_cache` and gave it back to `import_replay_cache`;
//! times in the strings a person reads are dates in Vietnamese and English, numbers stay in
//! the typed fields.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use giayto_core::jose::{Algorithm, Jwks, Signer, SoftwareSigner};
use giayto_core::sd_jwt_vc::{IssueRequest, issue_document};
use giayto_core::trust_list::{IssuerName, TrustList, TrustedIssuer};
use giayto_core::wallet::{Binding, Selection, present_credential};
use serde_json::{Map, Value};

use crate::{Verifier, unix_now};

const POLICE: &str = "https://police.giayto.example";
const LICENCE: &str = "https://giayto.gov.vn/vct/driving_licence";

struct World {
    now: i64,
    anchor_json: String,
    trust_list: String,
    credential: String,
    holder: SoftwareSigner,
}

fn world() -> World {
    let now = unix_now();
    let anchor = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let police = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let holder = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let trust_list = TrustList {
        iss: "https://trust.giayto.example".into(),
        iat: now - 10,
        exp: now + 86_400,
        issuers: vec![TrustedIssuer {
            id: POLICE.into(),
            name: IssuerName {
                vi: "Cục Cảnh sát giao thông".into(),
                en: "Traffic Police Department".into(),
            },
            jwks: Jwks {
                keys: vec![police.public_jwk().unwrap()],
            },
            vcts: vec![LICENCE.into()],
            status_list_aggregation_endpoint: None,
        }],
        verifier_anchors: Vec::new(),
        verifiers: Vec::new(),
    }
    .sign(&anchor)
    .unwrap();
    let claims: Map<String, Value> = serde_json::from_value(
        giayto_core::catalogue::examples::example_claims("driving_licence").unwrap(),
    )
    .unwrap();
    let credential = issue_document(
        &IssueRequest {
            issuer: POLICE.into(),
            vct: LICENCE.into(),
            claims,
            holder_jwk: Some(holder.public_jwk().unwrap()),
            status: None,
            issued_at: now - 60,
            not_before: None,
            expires_at: Some(now + 86_400),
        },
        &police,
    )
    .unwrap();
    World {
        now,
        anchor_json: serde_json::to_string(&anchor.public_jwk().unwrap()).unwrap(),
        trust_list,
        credential,
        holder,
    }
}

impl World {
    fn verifier(&self) -> std::sync::Arc<Verifier> {
        let verifier = Verifier::new(self.anchor_json.clone(), "csgt:test".into()).unwrap();
        verifier.load_trust_list(self.trust_list.clone()).unwrap();
        verifier
    }

    fn show(&self) -> String {
        present_credential(
            &self.credential,
            &Selection::Preset("traffic_stop".into()),
            &Binding::OneWay,
            &self.holder,
            unix_now(),
        )
        .unwrap()
        .qr_text
    }
}

fn codes(result: &crate::VerificationResult) -> Vec<&str> {
    result.errors.iter().map(|e| e.code.as_str()).collect()
}

#[test]
fn a_saved_replay_cache_refuses_the_same_qr_after_a_restart() {
    let world = world();
    let qr = world.show();
    let before = world.verifier();
    let first = before.verify_qr_text(qr.clone()).unwrap();
    assert!(first.valid, "{:?}", first.errors);
    let saved = before.export_replay_cache().unwrap();

    // Without the saved cache a restarted app accepts the QR again: what the issue saw.
    let forgetful = world.verifier();
    assert!(forgetful.verify_qr_text(qr.clone()).unwrap().valid);

    let restarted = world.verifier();
    assert_eq!(restarted.import_replay_cache(saved).unwrap(), 1);
    let again = restarted.verify_qr_text(qr).unwrap();
    assert!(!again.valid);
    assert_eq!(codes(&again), ["replayed"]);
    assert!(
        restarted.verify_qr_text(world.show()).unwrap().valid,
        "a new proof passes"
    );
}

#[test]
fn a_replay_cache_too_large_or_malformed_is_refused() {
    let world = world();
    let verifier = world.verifier();
    let entry = format!(
        r#"{{"kb_jwt_sha256":"{}","until":{}}}"#,
        "A".repeat(43),
        i64::MAX
    );
    let too_many = format!("[{}]", vec![entry.as_str(); 10_001].join(","));
    assert!(verifier.import_replay_cache(too_many).is_err());
    assert!(verifier.import_replay_cache("x".repeat(2_000_000)).is_err());
    assert!(
        verifier
            .import_replay_cache(r#"[{"kb_jwt_sha256":"short","until":1}]"#.into())
            .is_err()
    );
    assert_eq!(
        verifier.export_replay_cache().unwrap(),
        "[]",
        "nothing changed"
    );
}

#[test]
fn times_in_messages_are_dates_and_numbers_stay_in_the_fields() {
    let world = world();
    // A trust list past its exp and the 7-day grace: the error names the date.
    let signer = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let exp = 1_700_000_000;
    let stale = TrustList {
        iss: "https://trust.giayto.example".into(),
        iat: exp - 86_400,
        exp,
        issuers: Vec::new(),
        verifier_anchors: Vec::new(),
        verifiers: Vec::new(),
    }
    .sign(&signer)
    .unwrap();
    let verifier = Verifier::new(
        serde_json::to_string(&signer.public_jwk().unwrap()).unwrap(),
        "csgt:test".into(),
    )
    .unwrap();
    let error = verifier.load_trust_list(stale).unwrap_err().to_string();
    assert!(
        error.contains("14/11/2023 22:13:20 / 14 Nov 2023 22:13:20 (UTC)"),
        "{error}"
    );
    assert!(!error.contains(&exp.to_string()), "{error}");

    // A valid scan: the expiry is a number in its field.
    let result = world.verifier().verify_qr_text(world.show()).unwrap();
    assert!(result.valid, "{:?}", result.errors);
    assert_eq!(result.expires_at, Some(world.now + 86_400));
}
