//! The verifier's side of DCQL in core: a preset's query, the claims path pointer
//! processing of OpenID4VP 1.0 section 7, and whether verified presentations answer a query
//! (sections 6.4 and 8.6). These were the verifier service's own copy until it used core's.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use giayto_core::oid4vp::{
    AnsweredCredential, DcqlQuery, MAX_PRESET_CLAIM_SETS, PathElement, catalogue_pointer,
    select_claims,
};
use serde_json::{Map, Value, json};

const HIC: &str = "https://giayto.gov.vn/vct/health_insurance_card";
const LICENCE: &str = "https://giayto.gov.vn/vct/driving_licence";

fn query(value: Value) -> DcqlQuery {
    DcqlQuery::from_json(&value).unwrap()
}

fn answer(entries: &[(&str, &str, Value)]) -> BTreeMap<String, Vec<AnsweredCredential>> {
    let mut map: BTreeMap<String, Vec<AnsweredCredential>> = BTreeMap::new();
    for (id, vct, claims) in entries {
        map.entry((*id).to_owned())
            .or_default()
            .push(AnsweredCredential {
                vct: (*vct).to_owned(),
                claims: serde_json::from_value(claims.clone()).unwrap(),
            });
    }
    map
}

#[test]
fn credential_sets_accept_either_option_and_need_every_required_set() {
    let q = query(json!({
        "credentials": [
            { "id": "card", "format": "dc+sd-jwt", "meta": { "vct_values": [HIC] } },
            { "id": "licence", "format": "dc+sd-jwt", "meta": { "vct_values": [LICENCE] } }
        ],
        "credential_sets": [{ "options": [["card"], ["licence"]] }]
    }));
    assert!(q.check_answer(&answer(&[("card", HIC, json!({}))])).is_ok());
    assert!(
        q.check_answer(&answer(&[("licence", LICENCE, json!({}))]))
            .is_ok()
    );
    let none = q.check_answer(&BTreeMap::new()).unwrap_err();
    assert_eq!(
        none.to_string(),
        "the response does not answer the query: required credential set 0: no option is \
         fully answered"
    );
    // Without credential_sets every credential query must be answered.
    let mut both = q.clone();
    both.credential_sets = None;
    let one = both
        .check_answer(&answer(&[("card", HIC, json!({}))]))
        .unwrap_err();
    assert_eq!(
        one.to_string(),
        "the response does not answer the query: no presentation for licence"
    );
}

#[test]
fn an_optional_credential_set_may_be_left_out() {
    let q = query(json!({
        "credentials": [
            { "id": "card", "format": "dc+sd-jwt", "meta": { "vct_values": [HIC] } },
            { "id": "licence", "format": "dc+sd-jwt", "meta": { "vct_values": [LICENCE] } }
        ],
        "credential_sets": [
            { "options": [["card"]] },
            { "options": [["licence"]], "required": false }
        ]
    }));
    assert!(q.check_answer(&answer(&[("card", HIC, json!({}))])).is_ok());
}

#[test]
fn missing_claims_wrong_types_and_unasked_ids_do_not_answer() {
    let q = query(json!({ "credentials": [{
        "id": "card", "format": "dc+sd-jwt", "meta": { "vct_values": [HIC] },
        "claims": [{ "path": ["full_name"] }, { "path": ["address", "province"] }]
    }]}));
    let full = json!({ "full_name": "Lê Thị Hoa", "address": { "province": "Hà Nội" } });
    assert!(
        q.check_answer(&answer(&[("card", HIC, full.clone())]))
            .is_ok()
    );
    let missing = q
        .check_answer(&answer(&[(
            "card",
            HIC,
            json!({ "full_name": "Lê Thị Hoa" }),
        )]))
        .unwrap_err();
    assert!(
        missing.to_string().contains("[\"address\",\"province\"]"),
        "{missing}"
    );
    let wrong_type = q
        .check_answer(&answer(&[("card", LICENCE, full.clone())]))
        .unwrap_err();
    assert!(
        wrong_type.to_string().contains("not one the query accepts"),
        "{wrong_type}"
    );
    let unasked = q
        .check_answer(&answer(&[
            ("card", HIC, full.clone()),
            ("other", HIC, full.clone()),
        ]))
        .unwrap_err();
    assert!(
        unasked.to_string().contains("does not ask for"),
        "{unasked}"
    );
    let two = q
        .check_answer(&answer(&[("card", HIC, full.clone()), ("card", HIC, full)]))
        .unwrap_err();
    assert!(two.to_string().contains("2 presentations"), "{two}");
}

#[test]
fn value_filters_match_type_and_value_exactly() {
    let q = query(json!({ "credentials": [{
        "id": "licence", "format": "dc+sd-jwt", "meta": { "vct_values": [LICENCE] },
        "claims": [
            { "path": ["driving_privileges", null, "class"], "values": ["B2", "C"] },
            { "path": ["age_equal_or_over", "18"], "values": [true] }
        ]
    }]}));
    let holder = |classes: Value, adult: Value| {
        json!({
            "driving_privileges": classes,
            "age_equal_or_over": { "18": adult }
        })
    };
    let ok = holder(json!([{ "class": "A1" }, { "class": "B2" }]), json!(true));
    assert!(q.check_answer(&answer(&[("licence", LICENCE, ok)])).is_ok());
    for bad in [
        holder(json!([{ "class": "A1" }]), json!(true)),
        holder(json!([{ "class": "B2" }]), json!("true")),
        holder(json!([{ "class": "B2" }]), json!(false)),
    ] {
        assert!(
            q.check_answer(&answer(&[("licence", LICENCE, bad.clone())]))
                .is_err(),
            "{bad}"
        );
    }
}

#[test]
fn claim_sets_need_one_set_fully_disclosed() {
    let q = query(json!({ "credentials": [{
        "id": "card", "format": "dc+sd-jwt", "meta": { "vct_values": [HIC] },
        "claims": [
            { "id": "number", "path": ["card_number"] },
            { "id": "name", "path": ["full_name"] },
            { "id": "birth", "path": ["birth_date"] }
        ],
        "claim_sets": [["number", "birth"], ["name"]]
    }]}));
    let name_only = json!({ "full_name": "Lê Thị Hoa" });
    assert!(q.check_answer(&answer(&[("card", HIC, name_only)])).is_ok());
    let number_only = json!({ "card_number": "HS4010123456789" });
    let refused = q
        .check_answer(&answer(&[("card", HIC, number_only)]))
        .unwrap_err();
    assert_eq!(
        refused.to_string(),
        "the response does not answer the query: card: no claim set is fully disclosed (the \
         last set lacks [\"full_name\"])"
    );
}

#[test]
fn claims_path_pointers_select_as_section_7_says() {
    let claims: Map<String, Value> = serde_json::from_value(json!({
        "name": "Hoa",
        "degrees": [{ "type": "BSc" }, { "type": "MSc" }],
        "nationalities": ["VN", "FR"]
    }))
    .unwrap();
    let at = |path: Value| {
        let pointer: Vec<PathElement> = serde_json::from_value(path).unwrap();
        select_claims(&claims, &pointer).map(|s| s.into_iter().map(|(_, v)| v).collect::<Vec<_>>())
    };
    assert_eq!(at(json!(["name"])).unwrap(), [&json!("Hoa")]);
    assert_eq!(
        at(json!(["degrees", null, "type"])).unwrap(),
        [&json!("BSc"), &json!("MSc")]
    );
    assert_eq!(at(json!(["nationalities", 1])).unwrap(), [&json!("FR")]);
    assert!(at(json!(["nationalities", 2])).is_none(), "no such index");
    assert!(at(json!(["name", null])).is_none(), "null on a string");
    assert!(at(json!(["name", "first"])).is_none(), "a key on a string");
    assert!(at(json!([null])).is_none(), "null on the root");
    assert!(at(json!(["missing"])).is_none());
    assert!(
        serde_json::from_value::<Vec<PathElement>>(json!(["degrees", -1])).is_err(),
        "a negative index is not a path element"
    );
}

#[test]
fn a_preset_query_asks_for_as_many_optional_claims_as_the_credential_holds() {
    let q = DcqlQuery::for_preset("health_insurance_card", "insurance_check").unwrap();
    q.validate().unwrap();
    // What a verifier sends is read back the same by a wallet.
    assert_eq!(
        DcqlQuery::from_json(&serde_json::to_value(&q).unwrap()).unwrap(),
        q
    );
    let credential = &q.credentials[0];
    assert_eq!(
        credential.meta.vct_values.as_deref().unwrap(),
        [HIC.to_owned(), format!("{HIC}/insurance_check")]
    );
    let sets = credential.claim_sets.as_ref().unwrap();
    let claims = credential.claims.as_ref().unwrap();
    let id_of = |name: &str| {
        claims
            .iter()
            .find(|c| c.path == [PathElement::Key(name.to_owned())])
            .and_then(|c| c.id.clone())
            .unwrap()
    };
    // Four optional claims: every subset, 16 sets, all first, required alone last.
    assert_eq!(sets.len(), MAX_PRESET_CLAIM_SETS);
    assert_eq!(sets[0].len(), claims.len());
    let (region, code) = (
        id_of("insurance_region"),
        id_of("initial_care_facility_code"),
    );
    assert!(sets[0].contains(&region) && !sets[15].contains(&region));
    assert!(!sets[15].contains(&code), "the facility code is optional");
    assert!(sets[15].contains(&id_of("card_number")));
    // The first set without the region asks for every other claim.
    let first_without_region = sets.iter().find(|s| !s.contains(&region)).unwrap();
    assert_eq!(first_without_region.len(), claims.len() - 1);
    // A preset of required claims only needs no claim sets; `full` has no purpose type.
    let full = DcqlQuery::for_preset("driving_licence", "full").unwrap();
    assert_eq!(
        full.credentials[0].meta.vct_values.as_deref().unwrap(),
        [LICENCE]
    );
    assert_eq!(
        serde_json::to_value(catalogue_pointer("driving_privileges/*/class")).unwrap(),
        json!(["driving_privileges", null, "class"])
    );
    assert!(DcqlQuery::for_preset("driving_licence", "nope").is_none());
    assert!(DcqlQuery::for_preset("nope", "full").is_none());
}
