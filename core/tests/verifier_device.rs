//! The verifier device: pinned anchors, trust and status lists loaded from tokens, scans of
//! QR text and images, replays, challenges, paper forms, the status lists it asks for, and
//! the typed refusals of tokens it must not trust.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use giayto_core::jose::{Algorithm, Jwk, Jwks, Signer, SoftwareSigner};
use giayto_core::qr::{self, Challenge};
use giayto_core::sd_jwt_vc::{IssueRequest, issue_document};
use giayto_core::status_list::{Status, StatusList, StatusReference, sign_token};
use giayto_core::trust_list::{IssuerName, TrustList, TrustedIssuer};
use giayto_core::verifier::{DeviceError, FailureCode, HolderBinding, StatusView, VerifierDevice};
use giayto_core::wallet::{Binding, Selection, present_credential};
use serde_json::{Map, Value};

const NOW: i64 = 1_795_000_000;
const POLICE: &str = "https://police.giayto.example";
const LICENCE: &str = "https://giayto.gov.vn/vct/driving_licence";
const STATUS_URI: &str = "https://police.giayto.example/status-lists/1";

struct World {
    anchor: SoftwareSigner,
    police: SoftwareSigner,
    holder: SoftwareSigner,
    trust_list: String,
    /// Index 5 is revoked.
    status_list: String,
}

fn world() -> World {
    let anchor = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let police = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let holder = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let police_key = police.public_jwk().unwrap().with_thumbprint_kid().unwrap();
    let trust_list = TrustList {
        iss: "https://trust.giayto.gov.vn".into(),
        iat: NOW - 3600,
        exp: NOW + 86_400,
        issuers: vec![TrustedIssuer {
            id: POLICE.into(),
            name: IssuerName {
                vi: "Bộ Công an".into(),
                en: "Ministry of Public Security".into(),
            },
            jwks: Jwks {
                keys: vec![police_key],
            },
            vcts: vec![LICENCE.into()],
            status_list_aggregation_endpoint: None,
        }],
        verifier_anchors: Vec::new(),
        verifiers: Vec::new(),
    }
    .sign(&anchor)
    .unwrap();
    let mut list = StatusList::new(1, 1024).unwrap();
    list.set_status(5, Status::Invalid).unwrap();
    let status_list = sign_token(
        STATUS_URI,
        &list,
        NOW - 60,
        Some(NOW + 86_400),
        Some(3600),
        &police,
    )
    .unwrap();
    World {
        anchor,
        police,
        holder,
        trust_list,
        status_list,
    }
}

impl World {
    fn anchors(&self) -> Jwks {
        Jwks {
            keys: vec![
                self.anchor
                    .public_jwk()
                    .unwrap()
                    .with_thumbprint_kid()
                    .unwrap(),
            ],
        }
    }

    fn device(&self) -> VerifierDevice {
        let mut device = VerifierDevice::new(self.anchors(), "csgt:hanoi:officer-1").unwrap();
        assert_eq!(device.load_trust_list(&self.trust_list, NOW).unwrap(), 1);
        device
            .load_status_list(STATUS_URI, &self.status_list, NOW)
            .unwrap();
        device
    }

    fn credential(&self, idx: u64) -> String {
        let claims: Map<String, Value> = serde_json::from_value(
            giayto_core::catalogue::examples::example_claims("driving_licence").unwrap(),
        )
        .unwrap();
        issue_document(
            &IssueRequest {
                issuer: POLICE.into(),
                vct: LICENCE.into(),
                claims,
                holder_jwk: Some(self.holder.public_jwk().unwrap()),
                status: Some(StatusReference {
                    idx,
                    uri: STATUS_URI.into(),
                }),
                issued_at: NOW - 86_400,
                not_before: None,
                expires_at: Some(NOW + 365 * 86_400),
            },
            &self.police,
        )
        .unwrap()
    }

    /// Whether a fresh one-way presentation of a valid licence passes on `device`.
    fn one_way_passes(&self, device: &mut VerifierDevice) -> bool {
        device
            .verify_qr_text(&self.show(1, &Binding::OneWay), NOW)
            .unwrap()
            .verdict
            .valid
    }

    /// The QR text of a traffic-stop presentation of the credential at `idx`.
    fn show(&self, idx: u64, binding: &Binding) -> String {
        present_credential(
            &self.credential(idx),
            &Selection::Preset("traffic_stop".into()),
            binding,
            &self.holder,
            NOW - 5,
        )
        .unwrap()
        .qr_text
    }
}

#[test]
fn a_one_way_scan_passes_once_and_a_replay_is_refused() {
    let world = world();
    let mut device = world.device();
    let text = world.show(1, &Binding::OneWay);
    let scan = device.verify_qr_text(&text, NOW).unwrap();
    assert!(scan.verdict.valid, "{:?}", scan.verdict.errors);
    assert!(scan.key_bound);
    assert!(matches!(
        scan.verdict.holder_binding,
        HolderBinding::Verified { .. }
    ));
    assert_eq!(scan.verdict.status, StatusView::Valid);
    let again = device.verify_qr_text(&text, NOW).unwrap();
    assert!(!again.verdict.valid);
    assert!(again.verdict.has_error(FailureCode::Replayed));
}

#[test]
fn a_replay_is_refused_after_a_restart_through_the_saved_state() {
    let world = world();
    let mut device = world.device();
    let text = world.show(1, &Binding::OneWay);
    assert!(device.verify_qr_text(&text, NOW).unwrap().verdict.valid);
    let saved = serde_json::to_string(&device.export_state()).unwrap();

    // The app restarts: a new device with the saved state refuses the same QR.
    let mut restarted = world.device();
    restarted
        .import_state(serde_json::from_str(&saved).unwrap(), NOW + 1)
        .unwrap();
    let again = restarted.verify_qr_text(&text, NOW + 1).unwrap();
    assert!(!again.verdict.valid);
    assert!(
        again.verdict.has_error(FailureCode::Replayed),
        "{:?}",
        again.verdict.errors
    );
    // Another presentation of the same credential (a new proof) is accepted.
    let fresh = world.show(1, &Binding::OneWay);
    assert!(
        restarted
            .verify_qr_text(&fresh, NOW + 1)
            .unwrap()
            .verdict
            .valid
    );

    // A state saved before the replay entries were kept still reads, with none.
    let mut old: Value = serde_json::from_str(&saved).unwrap();
    old.as_object_mut().unwrap().remove("seen_proofs");
    let mut fresh_start = world.device();
    fresh_start
        .import_state(serde_json::from_value(old).unwrap(), NOW + 1)
        .unwrap();
    assert!(
        fresh_start
            .verify_qr_text(&text, NOW + 1)
            .unwrap()
            .verdict
            .valid
    );
}

#[test]
fn saved_replay_entries_past_the_capacity_or_malformed_are_refused() {
    let world = world();
    let mut state = world.device().export_state();
    state.seen_proofs = vec![
        giayto_core::verifier::SeenProof {
            kb_jwt_sha256: "A".repeat(43),
            until: NOW + 60,
        };
        giayto_core::verifier::REPLAY_CACHE_CAPACITY + 1
    ];
    let mut device = world.device();
    assert!(matches!(
        device.import_state(state.clone(), NOW),
        Err(DeviceError::ReplayState(_))
    ));
    state.seen_proofs.truncate(1);
    state.seen_proofs[0].kb_jwt_sha256 = "not base64!".into();
    assert!(matches!(
        device.import_state(state, NOW),
        Err(DeviceError::ReplayState(_))
    ));
}

#[test]
fn an_image_scan_reads_the_qr_and_a_revoked_document_is_refused() {
    let world = world();
    let mut device = world.device();
    let png =
        qr::image::render_png(&world.show(5, &Binding::OneWay), qr::image::EcLevel::M).unwrap();
    let scan = device.verify_image(&png, NOW).unwrap();
    assert!(!scan.verdict.valid);
    assert_eq!(scan.verdict.status, StatusView::Revoked);
    assert!(scan.verdict.has_error(FailureCode::Revoked));
}

#[test]
fn paper_forms_are_reported_unbound_and_challenges_are_answered_once() {
    let world = world();
    let mut device = world.device();
    let paper = device
        .verify_qr_text(&world.show(1, &Binding::Paper), NOW)
        .unwrap();
    assert!(paper.verdict.valid, "{:?}", paper.verdict.errors);
    assert!(!paper.key_bound);
    assert!(matches!(
        paper.verdict.holder_binding,
        HolderBinding::NotBound
    ));

    let challenge_text = device.new_challenge(Duration::from_secs(120), NOW).unwrap();
    // Scanning the challenge itself is a usage mistake, not a document.
    assert!(matches!(
        device.verify_qr_text(&challenge_text, NOW),
        Err(DeviceError::ChallengeScanned)
    ));
    // While the challenge is pending, a one-way presentation does not answer it.
    let one_way = device
        .verify_qr_text(&world.show(1, &Binding::OneWay), NOW)
        .unwrap();
    assert!(one_way.verdict.has_error(FailureCode::NonceMismatch));
    let challenge = Challenge::parse(&challenge_text, NOW).unwrap();
    let answer = world.show(1, &Binding::Challenge(challenge.clone()));
    assert!(device.verify_qr_text(&answer, NOW).unwrap().verdict.valid);
    // Answered, the challenge is spent: another answer to it is refused, one-way passes.
    let again = world.show(1, &Binding::Challenge(challenge));
    let second = device.verify_qr_text(&again, NOW).unwrap();
    assert!(!second.verdict.valid);
    assert!(second.verdict.has_error(FailureCode::AudienceMismatch));
    assert!(world.one_way_passes(&mut device));
}

#[test]
fn a_missing_status_list_is_asked_for_and_loading_it_clears_the_request() {
    let world = world();
    let mut device = VerifierDevice::new(world.anchors(), "v").unwrap();
    device.load_trust_list(&world.trust_list, NOW).unwrap();
    let scan = device
        .verify_qr_text(&world.show(1, &Binding::OneWay), NOW)
        .unwrap();
    assert!(!scan.verdict.valid);
    assert_eq!(scan.verdict.status, StatusView::ListMissing);
    assert_eq!(
        device.missing_status_lists().iter().collect::<Vec<_>>(),
        [STATUS_URI]
    );
    assert!(device.status_lists_to_refresh().contains(STATUS_URI));
    device
        .load_status_list(STATUS_URI, &world.status_list, NOW)
        .unwrap();
    assert!(device.missing_status_lists().is_empty());
    assert!(world.one_way_passes(&mut device));
}

#[test]
fn tokens_it_must_not_trust_are_refused_with_their_reason() {
    let world = world();
    // Anchors: a private key, an empty set, junk.
    let private = Jwks {
        keys: vec![Jwk::generate(Algorithm::Es256).unwrap()],
    };
    assert!(matches!(
        VerifierDevice::new(private, "v"),
        Err(DeviceError::Anchor(_))
    ));
    assert!(matches!(
        VerifierDevice::new(Jwks { keys: vec![] }, "v"),
        Err(DeviceError::Anchor(_))
    ));
    assert!(matches!(
        VerifierDevice::parse_anchors("not json"),
        Err(DeviceError::Anchor(_))
    ));
    let single = serde_json::to_string(&world.anchor.public_jwk().unwrap()).unwrap();
    assert_eq!(
        VerifierDevice::parse_anchors(&single).unwrap().keys.len(),
        1
    );

    // A status list before any trust list.
    let mut device = VerifierDevice::new(world.anchors(), "v").unwrap();
    assert!(matches!(
        device.load_status_list(STATUS_URI, &world.status_list, NOW),
        Err(DeviceError::NoTrustList)
    ));
    // A trust list signed by another key than the pinned anchors.
    let rogue = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let other = VerifierDevice::new(
        Jwks {
            keys: vec![
                world
                    .anchor
                    .public_jwk()
                    .unwrap()
                    .with_thumbprint_kid()
                    .unwrap(),
                rogue.public_jwk().unwrap().with_thumbprint_kid().unwrap(),
            ],
        },
        "v",
    );
    let mut two_anchors = other.unwrap();
    assert_eq!(
        two_anchors.load_trust_list(&world.trust_list, NOW).unwrap(),
        1
    );
    let mut pinned_rogue = VerifierDevice::new(
        Jwks {
            keys: vec![rogue.public_jwk().unwrap().with_thumbprint_kid().unwrap()],
        },
        "v",
    )
    .unwrap();
    assert!(
        pinned_rogue
            .load_trust_list(&world.trust_list, NOW)
            .is_err()
    );
    assert!(pinned_rogue.trust_list().is_none());
    // A status list signed by a key no trusted issuer holds.
    device.load_trust_list(&world.trust_list, NOW).unwrap();
    let forged = sign_token(
        STATUS_URI,
        &StatusList::new(1, 1024).unwrap(),
        NOW - 60,
        Some(NOW + 86_400),
        Some(3600),
        &rogue,
    )
    .unwrap();
    assert!(matches!(
        device.load_status_list(STATUS_URI, &forged, NOW),
        Err(DeviceError::UnknownStatusListSigner)
    ));
    // A status list loaded under another URI than its own `sub`.
    assert!(matches!(
        device.load_status_list("https://elsewhere.example/1", &world.status_list, NOW),
        Err(DeviceError::StatusList(_))
    ));
    // A scan that is not a giayto QR.
    assert!(matches!(
        device.verify_qr_text("HELLO", NOW),
        Err(DeviceError::Qr(_))
    ));
}

#[test]
fn an_online_presentation_is_checked_for_its_requests_audience_and_nonce_and_leaves_the_challenge_pending()
 {
    let world = world();
    let mut device = world.device();
    let challenge_text = device.new_challenge(Duration::from_secs(120), NOW).unwrap();
    let client_id = "x509_hash:UVl3bVZ4a2VyLWhhc2gtb2YtdGhlLWxlYWY";
    let present = |idx: u64, aud: &str, nonce: &str| {
        let target = giayto_core::qr::KeyBindingTarget {
            aud: aud.into(),
            nonce: nonce.into(),
        };
        present_credential(
            &world.credential(idx),
            &Selection::Preset("traffic_stop".into()),
            &Binding::Target(target),
            &world.holder,
            NOW - 5,
        )
        .unwrap()
        .presentation
    };
    let verdict =
        device.verify_presentation_for(&present(1, client_id, "n-1"), client_id, "n-1", NOW);
    assert!(verdict.valid, "{:?}", verdict.errors);
    assert!(
        matches!(verdict.holder_binding, HolderBinding::Verified { ref aud, .. } if aud == client_id)
    );
    let other_nonce =
        device.verify_presentation_for(&present(1, client_id, "n-2"), client_id, "n-1", NOW);
    assert!(other_nonce.has_error(FailureCode::NonceMismatch));
    let other_verifier = device.verify_presentation_for(
        &present(1, "x509_hash:another", "n-3"),
        client_id,
        "n-3",
        NOW,
    );
    assert!(other_verifier.has_error(FailureCode::AudienceMismatch));
    let revoked =
        device.verify_presentation_for(&present(5, client_id, "n-4"), client_id, "n-4", NOW);
    assert_eq!(revoked.status, StatusView::Revoked);
    // The offline challenge shown meanwhile is still pending and answered as before.
    let challenge = Challenge::parse(&challenge_text, NOW).unwrap();
    let answer = world.show(1, &Binding::Challenge(challenge));
    assert!(device.verify_qr_text(&answer, NOW).unwrap().verdict.valid);
}
