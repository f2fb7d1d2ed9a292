//! SD-JWT issuance, holder selection and processing: recursive disclosures, array
//! elements, decoys, parents included automatically, and the section 7 rules.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use giayto_core::jose::jws::{self, header_with_typ};
use giayto_core::jose::{Algorithm, Signer, SoftwareSigner, b64};
use giayto_core::sd_jwt::{
    Disclosure, HashAlg, IssueOptions, Presentation, SdJwt, SdJwtError, issue,
};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

fn licence() -> Map<String, Value> {
    object(json!({
        "iss": "https://police.example",
        "licence_number": "790123456789",
        "given_name": "An",
        "address": {"street": "1 Tràng Tiền", "city": "Hà Nội"},
        "driving_privileges": [
            {"class": "A1", "issue_date": "2015-01-01"},
            {"class": "B", "issue_date": "2020-06-01"}
        ]
    }))
}

const PATHS: [&str; 7] = [
    "licence_number",
    "given_name",
    "address",
    "address/street",
    "address/city",
    "driving_privileges/*",
    "driving_privileges/*/class",
];

fn issued() -> SdJwt {
    let signer = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    issue(
        header_with_typ("example+sd-jwt"),
        licence(),
        &PATHS,
        &signer,
        IssueOptions::default(),
    )
    .unwrap()
}

#[test]
fn all_disclosures_rebuild_the_claims() {
    let sd_jwt = issued();
    // 2 top-level + address + 2 inside address + 2 elements + 2 classes
    assert_eq!(sd_jwt.disclosures().len(), 9);
    let processed = sd_jwt.process().unwrap();
    assert_eq!(processed.claims, licence());
    assert_eq!(processed.hash_alg, HashAlg::Sha256);
    // Nothing disclosable is visible in the signed payload.
    let payload = b64::decode(sd_jwt.issuer_jwt().split('.').nth(1).unwrap()).unwrap();
    let payload = String::from_utf8(payload).unwrap();
    for secret in ["790123456789", "Tràng", "issue_date\":\"2015", "\"B\""] {
        assert!(!payload.contains(secret), "{secret} leaked into {payload}");
    }
    assert!(payload.contains("\"_sd_alg\":\"sha-256\""));
}

#[test]
fn selecting_a_nested_claim_brings_its_parents() {
    let sd_jwt = issued();
    let shown = sd_jwt.present(&["address/city"]).unwrap();
    let processed = Presentation::parse(&shown).unwrap().process().unwrap();
    assert_eq!(
        Value::Object(processed.claims),
        json!({"iss": "https://police.example", "address": {"city": "Hà Nội"},
               "driving_privileges": []})
    );
}

#[test]
fn selecting_an_array_shows_every_element_and_below() {
    let sd_jwt = issued();
    let shown = sd_jwt.present(&["driving_privileges"]).unwrap();
    let processed = Presentation::parse(&shown).unwrap().process().unwrap();
    assert_eq!(
        processed.claims["driving_privileges"],
        licence()["driving_privileges"]
    );
    assert!(!processed.claims.contains_key("given_name"));
    let shown = sd_jwt.present(&["driving_privileges/*/class"]).unwrap();
    let processed = Presentation::parse(&shown).unwrap().process().unwrap();
    assert_eq!(
        processed.claims["driving_privileges"],
        json!([{"class": "A1", "issue_date": "2015-01-01"}, {"class": "B", "issue_date": "2020-06-01"}])
    );
}

#[test]
fn reserved_names_refused_at_issuance() {
    let signer = SoftwareSigner::generate(Algorithm::EdDsa).unwrap();
    for bad in [
        json!({"_sd": 1}),
        json!({"a": {"...": 1}}),
        json!({"_sd_alg": "x"}),
    ] {
        assert!(matches!(
            issue(
                Map::new(),
                object(bad),
                &["a"],
                &signer,
                IssueOptions::default()
            ),
            Err(SdJwtError::ReservedClaimName(_))
        ));
    }
}

/// Signs a hand-made payload with hand-made disclosures, for the section 7 rules.
fn forge(payload: Value, disclosures: &[&Disclosure]) -> String {
    let signer = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let jwt = jws::sign_compact(Map::new(), payload.to_string().as_bytes(), &signer).unwrap();
    let mut out = jwt + "~";
    for d in disclosures {
        out.push_str(d.encoded());
        out.push('~');
    }
    out
}

fn process(presentation: &str) -> Result<Map<String, Value>, SdJwtError> {
    Presentation::parse(presentation)?
        .process()
        .map(|p| p.claims)
}

#[test]
fn section_7_rules_each_have_their_error() {
    let a = Disclosure::for_property("c2FsdA".into(), "a", json!(1)).unwrap();
    let sd_named = Disclosure::for_property("c2FsdA".into(), "_sd", json!([])).unwrap();
    let dots = Disclosure::for_property("c2FsdA".into(), "...", json!(1)).unwrap();
    let element = Disclosure::for_element("c2FsdA".into(), json!(1)).unwrap();
    let digest = |d: &Disclosure| d.digest(HashAlg::Sha256);

    assert_eq!(
        process(&forge(json!({"_sd": [digest(&a)]}), &[&a])).unwrap(),
        object(json!({"a": 1}))
    );
    assert_eq!(
        process(&forge(json!({"_sd": []}), &[&a])),
        Err(SdJwtError::UnreferencedDisclosure { index: 0 })
    );
    assert!(matches!(
        process(&forge(json!({"_sd": [digest(&a), digest(&a)]}), &[&a])),
        Err(SdJwtError::DuplicateDigest { .. })
    ));
    assert!(matches!(
        process(&forge(
            json!({"b": [{"...": digest(&element)}], "c": [{"...": digest(&element)}]}),
            &[&element]
        )),
        Err(SdJwtError::DuplicateDigest { .. })
    ));
    assert_eq!(
        process(&forge(json!({"_sd": [digest(&a)]}), &[&a, &a])),
        Err(SdJwtError::DuplicateDisclosure { index: 1 })
    );
    assert_eq!(
        process(&forge(json!({"_sd": [digest(&sd_named)]}), &[&sd_named])),
        Err(SdJwtError::ReservedClaimName("_sd".into()))
    );
    assert_eq!(
        process(&forge(json!({"_sd": [digest(&dots)]}), &[&dots])),
        Err(SdJwtError::ReservedClaimName("...".into()))
    );
    assert_eq!(
        process(&forge(json!({"a": 2, "_sd": [digest(&a)]}), &[&a])),
        Err(SdJwtError::ClaimNameConflict("a".into()))
    );
    assert_eq!(
        process(&forge(json!({"_sd": [digest(&element)]}), &[&element])),
        Err(SdJwtError::ObjectDisclosureExpected)
    );
    assert_eq!(
        process(&forge(json!({"x": [{"...": digest(&a)}]}), &[&a])),
        Err(SdJwtError::ArrayDisclosureExpected)
    );
    assert!(matches!(
        process(&forge(json!({"_sd": "nope"}), &[])),
        Err(SdJwtError::InvalidDigestContainer(_))
    ));
    assert!(matches!(
        process(&forge(json!({"_sd_alg": "md5"}), &[])),
        Err(SdJwtError::UnsupportedHashAlg(_))
    ));
    // Undisclosed digests and decoys are dropped, array elements too.
    assert_eq!(
        process(&forge(
            json!({"_sd": [digest(&element)], "x": [{"...": "unknown"}, 2]}),
            &[]
        ))
        .unwrap(),
        object(json!({"x": [2]}))
    );
}

#[test]
fn oversized_presentation_refused_before_parsing() {
    let huge = "a".repeat(giayto_core::limits::MAX_PRESENTATION_BYTES + 1);
    assert!(matches!(
        Presentation::parse(&huge),
        Err(SdJwtError::TooLarge { .. })
    ));
}

fn claim_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i32>().prop_map(Value::from),
        "[a-zA-Zà-ỹ0-9 ]{0,12}".prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        prop::collection::vec("[a-z]{1,5}", 0..3).prop_map(Value::from),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Random claims, all disclosable, any subset presented: the verifier sees exactly it.
    #[test]
    fn any_subset_verifies_to_exactly_that_subset(
        claims in prop::collection::btree_map("[a-z]{1,8}", claim_value(), 1..8),
        mask in any::<u16>(),
    ) {
        let names: Vec<String> = claims.keys().cloned().collect();
        let map: Map<String, Value> = claims.clone().into_iter().collect();
        let signer = SoftwareSigner::generate(Algorithm::Es256).unwrap();
        let sd_jwt = issue(Map::new(), map, &names, &signer, IssueOptions::default()).unwrap();
        let chosen: Vec<&String> = names
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, n)| n)
            .collect();
        let shown = sd_jwt.present(&chosen).unwrap();
        let presentation = Presentation::parse(&shown).unwrap();
        presentation.issuer_jwt().verify(&signer.public_jwk().unwrap()).unwrap();
        let processed = presentation.process().unwrap();
        let expected: Map<String, Value> = chosen
            .iter()
            .map(|n| ((*n).clone(), claims[*n].clone()))
            .collect();
        prop_assert_eq!(processed.claims, expected);
    }
}
