//! A bounded-time mutation fuzzer for parsing and verifying presentations, run with the
//! test suite: valid presentations and QR texts are mutated (bytes replaced, cut,
//! repeated, spliced) and fed to the parser, the SD-JWT processor, the verifier and the
//! QR unpacker; mutated trust-list and status-list tokens are fed to the verifier device.
//! Nothing may panic, and nothing mutated may verify or load. The case count can be raised
//! with `PROPTEST_CASES` for a longer run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use giayto_core::catalogue;
use giayto_core::jose::{Algorithm, Jwks, Signer, SoftwareSigner};
use giayto_core::qr;
use giayto_core::sd_jwt::{Presentation, SdJwt};
use giayto_core::sd_jwt_vc::{IssueRequest, issue_document};
use giayto_core::status_list::{StatusCache, StatusList, sign_token};
use giayto_core::trust_list::{IssuerName, TrustList, TrustedIssuer};
use giayto_core::verifier::{
    IssuerTrust, Policy, StatusStrictness, VerifierDevice, verify_presentation,
};
use proptest::prelude::*;

const NOW: i64 = 1_795_000_000;

const STATUS_URI: &str = "https://police.example/status-lists/1";

struct Seed {
    presentation: String,
    trust: IssuerTrust,
    policy: Policy,
    /// The pinned anchor of `trust_list`.
    anchors: Jwks,
    /// A trust list listing the issuer, signed by the anchor.
    trust_list: String,
    /// A status list at [`STATUS_URI`], signed by the issuer.
    status_list: String,
}

fn seed() -> &'static Seed {
    static SEED: OnceLock<Seed> = OnceLock::new();
    SEED.get_or_init(|| {
        let issuer = SoftwareSigner::generate(Algorithm::Es256).unwrap();
        let holder = SoftwareSigner::generate(Algorithm::Es256).unwrap();
        let licence = catalogue::by_id("driving_licence").unwrap();
        let request = IssueRequest {
            issuer: "https://police.example".into(),
            vct: licence.vct.into(),
            claims: serde_json::from_value(
                catalogue::examples::example_claims("driving_licence").unwrap(),
            )
            .unwrap(),
            holder_jwk: Some(holder.public_jwk().unwrap()),
            status: None,
            issued_at: NOW - 100,
            not_before: None,
            expires_at: Some(NOW + 100_000),
        };
        let credential = SdJwt::parse(&issue_document(&request, &issuer).unwrap()).unwrap();
        let presentation = credential
            .present_with_key_binding(
                &["licence_number", "driving_privileges"],
                "aud",
                "n",
                NOW,
                &holder,
            )
            .unwrap();
        let anchor = SoftwareSigner::generate(Algorithm::Es256).unwrap();
        let trust_list = TrustList {
            iss: "https://trust.example".into(),
            iat: NOW - 100,
            exp: NOW + 100_000,
            issuers: vec![TrustedIssuer {
                id: "https://police.example".into(),
                name: IssuerName {
                    vi: "Bộ Công an".into(),
                    en: "Ministry of Public Security".into(),
                },
                jwks: Jwks {
                    keys: vec![issuer.public_jwk().unwrap().with_thumbprint_kid().unwrap()],
                },
                vcts: vec![licence.vct.into()],
                status_list_aggregation_endpoint: None,
            }],
            verifier_anchors: Vec::new(),
            verifiers: Vec::new(),
        }
        .sign(&anchor)
        .unwrap();
        let status_list = sign_token(
            STATUS_URI,
            &StatusList::new(2, 1024).unwrap(),
            NOW - 100,
            Some(NOW + 100_000),
            Some(300),
            &issuer,
        )
        .unwrap();
        Seed {
            presentation,
            anchors: Jwks {
                keys: vec![anchor.public_jwk().unwrap()],
            },
            trust_list,
            status_list,
            trust: IssuerTrust::Keys(Jwks {
                keys: vec![issuer.public_jwk().unwrap()],
            }),
            policy: Policy {
                replay_cache: None,
                missing_status: StatusStrictness::Warn,
                ..Policy::default()
            },
        }
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace { at: usize, byte: u8 },
    Cut { at: usize },
    Repeat { from: usize, len: usize },
    Splice { at: usize, text: String },
    Delete { at: usize, len: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (
            any::<usize>(),
            prop::sample::select(b"~.-_AZaz09{}[]\":,\\ \x00\xff".to_vec())
        )
            .prop_map(|(at, byte)| Mutation::Replace { at, byte }),
        any::<usize>().prop_map(|at| Mutation::Cut { at }),
        (any::<usize>(), 1usize..400).prop_map(|(from, len)| Mutation::Repeat { from, len }),
        (any::<usize>(), "[~.{}\\[\\]\"a-zA-Z0-9_=-]{0,40}")
            .prop_map(|(at, text)| Mutation::Splice { at, text }),
        (any::<usize>(), 1usize..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
    ]
}

fn apply(input: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = input.to_vec();
    for m in mutations {
        if bytes.is_empty() {
            break;
        }
        let n = bytes.len();
        match m {
            Mutation::Replace { at, byte } => bytes[at % n] = *byte,
            Mutation::Cut { at } => bytes.truncate(at % n),
            Mutation::Repeat { from, len } => {
                let from = from % n;
                let end = (from + len).min(n);
                let chunk = bytes[from..end].to_vec();
                bytes.splice(from..from, chunk);
            }
            Mutation::Splice { at, text } => {
                let at = at % n;
                bytes.splice(at..at, text.bytes());
            }
            Mutation::Delete { at, len } => {
                let at = at % n;
                let end = (at + len).min(n);
                bytes.drain(at..end);
            }
        }
    }
    bytes
}

fn exercise(text: &str) -> bool {
    let seed = seed();
    if let Ok(presentation) = Presentation::parse(text) {
        let _ = presentation.process();
    }
    let verdict = verify_presentation(text, &seed.policy, &seed.trust, &StatusCache::new(), NOW);
    verdict.valid
}

#[test]
fn seed_is_valid() {
    assert!(exercise(&seed().presentation));
    let mut device = VerifierDevice::new(seed().anchors.clone(), "fuzz").unwrap();
    assert_eq!(device.load_trust_list(&seed().trust_list, NOW).unwrap(), 1);
    device
        .load_status_list(STATUS_URI, &seed().status_list, NOW)
        .unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1500),
        ..ProptestConfig::default()
    })]

    #[test]
    fn mutated_presentations_never_panic_nor_verify(mutations in prop::collection::vec(mutation(), 1..4)) {
        let seed = seed();
        let bytes = apply(seed.presentation.as_bytes(), &mutations);
        let text = String::from_utf8_lossy(&bytes);
        if text != seed.presentation {
            prop_assert!(!exercise(&text), "a mutated presentation verified: {mutations:?}");
        }
    }

    #[test]
    fn mutated_qr_texts_never_panic(mutations in prop::collection::vec(mutation(), 1..4)) {
        let packed = qr::pack(&seed().presentation).unwrap();
        let bytes = apply(packed.as_bytes(), &mutations);
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(unpacked) = qr::unpack(&text)
            && unpacked != seed().presentation
        {
            prop_assert!(!exercise(&unpacked));
        }
    }

    #[test]
    fn mutated_list_tokens_never_panic_nor_load(
        mutations in prop::collection::vec(mutation(), 1..4),
        trust_list in any::<bool>(),
    ) {
        let seed = seed();
        let mut device = VerifierDevice::new(seed.anchors.clone(), "fuzz").unwrap();
        if trust_list {
            let bytes = apply(seed.trust_list.as_bytes(), &mutations);
            let text = String::from_utf8_lossy(&bytes);
            // Trailing whitespace is trimmed, as a fetched token's newline is.
            if text.trim() != seed.trust_list {
                prop_assert!(device.load_trust_list(&text, NOW).is_err(), "{mutations:?}");
            }
        } else {
            device.load_trust_list(&seed.trust_list, NOW).unwrap();
            let bytes = apply(seed.status_list.as_bytes(), &mutations);
            let text = String::from_utf8_lossy(&bytes);
            if text.trim() != seed.status_list {
                prop_assert!(
                    device.load_status_list(STATUS_URI, &text, NOW).is_err(),
                    "{mutations:?}"
                );
            }
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
        let _ = exercise(&text);
        let _ = qr::unpack(&text);
        let mut device = VerifierDevice::new(seed().anchors.clone(), "fuzz").unwrap();
        let _ = device.load_trust_list(&text, NOW);
        let _ = device.verify_qr_text(&text, NOW);
    }
}
