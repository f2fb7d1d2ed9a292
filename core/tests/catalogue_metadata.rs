//! SD-JWT VC Type Metadata of the catalogue's document types: the driving licence pinned
//! byte for byte (full, base and traffic-stop types), every type checked against the draft's
//! Type Metadata format, and every credential validated against its type after `extends`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use giayto_core::catalogue::{self, Purpose, examples::example_claims};
use giayto_core::jose::{Algorithm, Signer, SoftwareSigner};
use giayto_core::sd_jwt::{PathSegment, SdJwt};
use giayto_core::sd_jwt_vc::{
    CATALOGUE_ISSUE_OPTIONS, IssueRequest, issue_document, issue_purpose, issue_vc,
};
use serde_json::{Value, json};

const LICENCE_VECTOR: &str = include_str!("vectors/driving_licence.type-metadata.json");

#[test]
fn the_licence_type_metadata_matches_the_vector_byte_for_byte() {
    let doc = catalogue::by_id("driving_licence").unwrap();
    let rendered = serde_json::to_string_pretty(&doc.type_metadata()).unwrap() + "\n";
    assert_eq!(rendered, LICENCE_VECTOR);
}

#[test]
fn every_type_metadata_follows_the_draft_format() {
    for doc in catalogue::all() {
        let meta = doc.type_metadata();
        let obj = meta.as_object().unwrap();
        assert_eq!(obj["vct"], doc.vct);
        assert!(obj["name"].is_string() && obj["description"].is_string());
        // Type display: one object per locale, each with `locale` and `name`.
        let display = obj["display"].as_array().unwrap();
        let locales: Vec<&str> = display
            .iter()
            .map(|d| d["locale"].as_str().unwrap())
            .collect();
        assert_eq!(locales, ["vi", "en"]);
        assert_eq!(display[0]["name"], doc.name.vi);
        assert_eq!(display[1]["name"], doc.name.en);
        let claims = obj["claims"].as_array().unwrap();
        assert_eq!(claims.len(), catalogue::paths::nodes(doc.claims).len());
        for claim in claims {
            let path = claim["path"].as_array().unwrap();
            assert!(!path.is_empty());
            assert!(path.iter().all(|c| c.is_string() || c.is_null()));
            assert!(matches!(claim["sd"].as_str(), Some("always" | "never")));
            assert!(
                claim
                    .get("mandatory")
                    .is_none_or(|m| m == &Value::Bool(true))
            );
            let on_element = path.last().unwrap().is_null();
            match claim.get("display") {
                None => assert!(on_element, "{}: {path:?} has no display", doc.id),
                Some(display) => {
                    let display = display.as_array().unwrap();
                    assert_eq!(display.len(), 2);
                    assert_eq!(display[0]["locale"], "vi");
                    assert_eq!(display[1]["locale"], "en");
                    assert!(
                        display
                            .iter()
                            .all(|d| !d["label"].as_str().unwrap().is_empty())
                    );
                }
            }
        }
        // The `sd` entries agree with the paths handed to the SD-JWT issuer.
        let always: Vec<String> = claims
            .iter()
            .filter(|c| c["sd"] == "always")
            .map(|c| {
                c["path"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap_or("*"))
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .collect();
        assert_eq!(always, doc.disclosable_paths(), "{}", doc.id);
        // Mandatory claims are exactly the required ones, computed claims included.
        for claim in claims.iter().filter(|c| c["mandatory"] == true) {
            let path: Vec<&str> = claim["path"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap_or("*"))
                .collect();
            assert!(doc.claim_label(&path).is_some());
        }
    }
}

const LICENCE_BASE_VECTOR: &str = include_str!("vectors/driving_licence.base.type-metadata.json");
const TRAFFIC_STOP_VECTOR: &str =
    include_str!("vectors/driving_licence.traffic_stop.type-metadata.json");

#[test]
fn the_licence_base_and_traffic_stop_metadata_match_their_vectors() {
    let doc = catalogue::by_id("driving_licence").unwrap();
    let base = serde_json::to_string_pretty(&doc.base_type_metadata()).unwrap() + "\n";
    assert_eq!(base, LICENCE_BASE_VECTOR);
    let purpose = Purpose::of(doc, "traffic_stop").unwrap();
    let rendered = serde_json::to_string_pretty(&purpose.type_metadata()).unwrap() + "\n";
    assert_eq!(rendered, TRAFFIC_STOP_VECTOR);
}

/// Every type a catalogue document publishes, by `vct`: base, full and purposes.
fn registry() -> HashMap<String, Value> {
    let mut out = HashMap::new();
    for doc in catalogue::all() {
        out.insert(doc.base_vct(), doc.base_type_metadata());
        out.insert(doc.vct.to_owned(), doc.type_metadata());
        for purpose in doc.purposes() {
            out.insert(purpose.vct(), purpose.type_metadata());
        }
    }
    out
}

/// The effective claim metadata of `vct` after applying `extends` (draft-ietf-oauth-sd-jwt-vc,
/// "Extending Claim Metadata"): the extended type's entries, each overridden property by
/// property by the child's entry with the same `path`. Panics where the child breaks the
/// "Limitations for `sd` and `mandatory`" rule or the chain loops.
fn effective_claims(vct: &str, registry: &HashMap<String, Value>, depth: usize) -> Vec<Value> {
    assert!(depth < 8, "extends chain too long at {vct}");
    let meta = registry
        .get(vct)
        .unwrap_or_else(|| panic!("no metadata for {vct}"));
    assert_eq!(meta["vct"], vct);
    let mut claims = match meta.get("extends") {
        Some(parent) => effective_claims(parent.as_str().unwrap(), registry, depth + 1),
        None => Vec::new(),
    };
    for child in meta["claims"].as_array().unwrap() {
        let Some(parent) = claims.iter_mut().find(|c| c["path"] == child["path"]) else {
            claims.push(child.clone());
            continue;
        };
        let parent_sd = parent
            .get("sd")
            .and_then(Value::as_str)
            .unwrap_or("allowed");
        if let Some(sd) = child.get("sd").and_then(Value::as_str) {
            assert!(
                parent_sd == "allowed" || parent_sd == sd,
                "{vct}: {} changes sd {parent_sd} to {sd}",
                child["path"]
            );
        }
        if parent.get("mandatory") == Some(&Value::Bool(true)) {
            assert_ne!(child.get("mandatory"), Some(&Value::Bool(false)), "{vct}");
        }
        for (key, value) in child.as_object().unwrap() {
            parent[key] = value.clone();
        }
    }
    claims
}

/// Whether metadata `path` (strings and `null` for any element) selects `claim`.
fn selects(path: &[Value], claim: &[PathSegment]) -> bool {
    path.len() == claim.len()
        && path.iter().zip(claim).all(|(p, c)| match (p, c) {
            (Value::String(key), PathSegment::Key(name)) => key == name,
            (Value::Null, PathSegment::Index(_)) => true,
            _ => false,
        })
}

/// Every claim path of `value` under `prefix`, objects and array elements included.
fn all_paths(prefix: Vec<PathSegment>, value: &Value, out: &mut Vec<Vec<PathSegment>>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let mut path = prefix.clone();
                path.push(PathSegment::Key(key.clone()));
                out.push(path.clone());
                all_paths(path, child, out);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                let mut path = prefix.clone();
                path.push(PathSegment::Index(index));
                out.push(path.clone());
                all_paths(path, child, out);
            }
        }
        _ => {}
    }
}

/// Claim metadata validation as a holder with every Disclosure does it (section "Claim
/// Metadata"): every `mandatory` claim present where its parent is; every selected claim disclosable when `sd`
/// is `always`, not disclosable when `never`. Returns the failures.
fn validate(credential: &str, registry: &HashMap<String, Value>) -> Vec<String> {
    let sd_jwt = SdJwt::parse(credential).unwrap();
    let processed = sd_jwt.process().unwrap();
    let payload: serde_json::Map<String, Value> = {
        let jwt = sd_jwt.issuer_jwt();
        let body = jwt.split('.').nth(1).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).unwrap()).unwrap()
    };
    let vct = payload["vct"].as_str().unwrap();
    let mut present = Vec::new();
    all_paths(
        Vec::new(),
        &Value::Object(processed.claims.clone()),
        &mut present,
    );
    let disclosed: Vec<&[PathSegment]> = processed
        .disclosed
        .iter()
        .map(|d| d.path.0.as_slice())
        .collect();
    let mut failures = Vec::new();
    for entry in effective_claims(vct, registry, 0) {
        let path = entry["path"].as_array().unwrap();
        let selected: Vec<&Vec<PathSegment>> =
            present.iter().filter(|p| selects(path, p)).collect();
        // A mandatory claim inside an object or array element is required where its parent
        // is present (a judicial record without convictions has no `convictions[*].court`).
        let parent_present =
            path.len() == 1 || present.iter().any(|p| selects(&path[..path.len() - 1], p));
        if entry.get("mandatory") == Some(&Value::Bool(true))
            && parent_present
            && selected.is_empty()
        {
            failures.push(format!("{vct}: mandatory {path:?} missing"));
        }
        for claim in selected {
            let is_sd = disclosed.contains(&claim.as_slice());
            match entry.get("sd").and_then(Value::as_str) {
                Some("always") if !is_sd => {
                    failures.push(format!("{vct}: {claim:?} must be disclosable"))
                }
                Some("never") if is_sd => {
                    failures.push(format!("{vct}: {claim:?} must not be disclosable"))
                }
                _ => {}
            }
        }
    }
    failures
}

fn example_request(doc: &catalogue::DocumentType, holder: &SoftwareSigner) -> IssueRequest {
    let Some(Value::Object(claims)) = example_claims(doc.id) else {
        panic!("no example for {}", doc.id)
    };
    IssueRequest {
        issuer: "https://csgt.bocongan.gov.vn".into(),
        vct: doc.vct.into(),
        claims,
        holder_jwk: Some(holder.public_jwk().unwrap()),
        status: None,
        issued_at: 1_760_000_000,
        not_before: None,
        expires_at: Some(2_075_360_000),
    }
}

/// A verifier that enforces type metadata accepts both the full credential and every
/// purpose credential of every type: each type's metadata, after its `extends`, describes
/// its credentials truthfully.
#[test]
fn every_credential_validates_against_its_type_metadata() {
    let registry = registry();
    let issuer = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let holder = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    for doc in catalogue::all() {
        let request = example_request(doc, &holder);
        let full = issue_document(&request, &issuer).unwrap();
        assert_eq!(validate(&full, &registry), Vec::<String>::new());
        for purpose in doc.purposes() {
            let credential = issue_purpose(&request, purpose.preset().name, &issuer).unwrap();
            assert_eq!(validate(&credential, &registry), Vec::<String>::new());
            assert!(credential.ends_with('~') && credential.matches('~').count() == 1);
        }
    }
}

/// What the issue found: a credential of the document's own `vct` with claims in the clear
/// breaks that type's metadata (`sd: always`), so purpose credentials need their own types.
#[test]
fn claims_in_the_clear_under_the_full_type_are_refused_by_its_metadata() {
    let registry = registry();
    let issuer = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let holder = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let doc = catalogue::by_id("driving_licence").unwrap();
    let request = example_request(doc, &holder);
    let purpose = issue_purpose(&request, "traffic_stop", &issuer).unwrap();
    let sd_jwt = SdJwt::parse(&purpose).unwrap();
    let payload_b64 = sd_jwt.issuer_jwt().split('.').nth(1).unwrap();
    let mut payload: serde_json::Map<String, Value> =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload_b64).unwrap()).unwrap();
    payload.insert("vct".into(), Value::from(doc.vct));
    let claims: serde_json::Map<String, Value> = payload
        .into_iter()
        .filter(|(k, _)| !["iss", "iat", "exp", "vct", "cnf", "status"].contains(&k.as_str()))
        .collect();
    let relabelled = issue_vc(
        &IssueRequest {
            claims,
            ..request.clone()
        },
        &[] as &[&str],
        &issuer,
        CATALOGUE_ISSUE_OPTIONS,
    )
    .unwrap()
    .to_compact();
    let failures = validate(&relabelled, &registry);
    assert!(
        failures.iter().any(|f| f.contains("must be disclosable")),
        "{failures:?}"
    );
    assert!(
        failures.iter().any(|f| f.contains("mandatory")),
        "{failures:?}"
    );
}

#[test]
fn purpose_types_are_named_by_document_and_preset() {
    let doc = catalogue::by_id("driving_licence").unwrap();
    let names: Vec<String> = doc.purposes().map(|p| p.vct()).collect();
    assert_eq!(
        names,
        [
            "https://giayto.gov.vn/vct/driving_licence/identity",
            "https://giayto.gov.vn/vct/driving_licence/age_over_18",
            "https://giayto.gov.vn/vct/driving_licence/traffic_stop",
            "https://giayto.gov.vn/vct/driving_licence/vehicle_rental",
        ]
    );
    assert_eq!(
        doc.base_vct(),
        "https://giayto.gov.vn/vct/base/driving_licence"
    );
    assert!(Purpose::of(doc, "full").is_none());
    assert!(Purpose::by_vct("https://giayto.gov.vn/vct/driving_licence/full").is_none());
    assert!(Purpose::by_vct("https://giayto.gov.vn/vct/driving_licence").is_none());
    let found = Purpose::by_vct("https://giayto.gov.vn/vct/driving_licence/traffic_stop").unwrap();
    assert_eq!(found.preset().name, "traffic_stop");
    assert_eq!(
        found.name("vi"),
        "Giấy phép lái xe: Kiểm tra của cảnh sát giao thông"
    );
    assert_eq!(
        catalogue::base_by_vct("https://giayto.gov.vn/vct/base/driving_licence")
            .unwrap()
            .id,
        "driving_licence"
    );
    // No preset may be named like a base type segment, and every purpose vct is distinct.
    let all: Vec<String> = catalogue::all()
        .iter()
        .flat_map(|d| d.purposes().map(|p| p.vct()))
        .collect();
    let mut unique = all.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), all.len());
}

#[test]
fn a_purpose_credential_holds_exactly_its_preset() {
    let issuer = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let holder = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let doc = catalogue::by_id("driving_licence").unwrap();
    let request = example_request(doc, &holder);
    let age = issue_purpose(&request, "age_over_18", &issuer).unwrap();
    let processed = SdJwt::parse(&age).unwrap().process().unwrap();
    let mut claims = processed.claims.clone();
    for envelope in ["iss", "iat", "exp", "vct", "cnf"] {
        assert!(claims.remove(envelope).is_some(), "{envelope}");
    }
    assert_eq!(
        Value::Object(claims),
        json!({"age_equal_or_over": {"18": true}})
    );
    assert!(matches!(
        issue_purpose(&request, "full", &issuer),
        Err(giayto_core::sd_jwt_vc::IssueError::UnknownPurpose { .. })
    ));
}

/// Issue 16: writing a health insurance card or a judicial record by hand was trial and
/// error, as `/vct/{type}` gave labels but not value types or allowed values. The full type
/// now says, per claim, what a publish request carries (`giayto_input`, an extension member
/// consumers ignore when they do not understand it), and that the age predicates are
/// computed by the server (never sent) while every credential holds them (`mandatory`).
#[test]
fn the_full_type_says_what_a_publish_request_carries() {
    let input = |doc: &str, path: &[Value]| -> Value {
        let meta = catalogue::by_id(doc).unwrap().type_metadata();
        meta["claims"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["path"].as_array().unwrap() == path)
            .unwrap_or_else(|| panic!("{doc}: no claim {path:?}"))[catalogue::INPUT_MEMBER]
            .clone()
    };
    assert_eq!(
        input("judicial_record", &[json!("sex")]),
        json!({"type": "one_of", "values": ["male", "female"], "required": true})
    );
    assert_eq!(
        input(
            "judicial_record",
            &[json!("criminal_record"), json!("convicted")]
        ),
        json!({"type": "boolean", "required": true})
    );
    assert_eq!(
        input("health_insurance_card", &[json!("valid_from")]),
        json!({"type": "date", "required": true})
    );
    let age = input("health_insurance_card", &[json!("age_equal_or_over")]);
    assert_eq!(
        age,
        json!({"type": "object", "required": false, "computed": true})
    );
    // Every claim of every full type has one; base and purpose types have none.
    for doc in catalogue::all() {
        for claim in doc.type_metadata()["claims"].as_array().unwrap() {
            let input = &claim[catalogue::INPUT_MEMBER];
            assert!(input["type"].is_string(), "{}: {claim}", doc.id);
            assert!(input["required"].is_boolean(), "{}: {claim}", doc.id);
        }
        for claim in doc.base_type_metadata()["claims"].as_array().unwrap() {
            assert!(claim.get(catalogue::INPUT_MEMBER).is_none());
        }
    }
}
