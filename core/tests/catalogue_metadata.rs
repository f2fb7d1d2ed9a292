//! SD-JWT VC Type Metadata of the catalogue's document types: the driving licence pinned
//! byte for byte, and every type checked against the draft's Type Metadata format.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use giayto_core::catalogue;
use serde_json::Value;

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
