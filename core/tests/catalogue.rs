//! The document catalogue: schemas enforced at issuance, age predicates, disclosable paths,
//! presets and labels of every document type.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use giayto_core::catalogue::{self, CivilDate, IssuerRole, SchemaError, Sd};
use serde_json::{Value, json};

fn date(text: &str) -> CivilDate {
    CivilDate::parse(text).unwrap()
}

/// A valid set of claims for every document type.
fn sample(id: &str) -> Value {
    catalogue::examples::example_claims(id).unwrap_or_else(|| panic!("no sample for {id}"))
}

/// A change made to a valid sample.
type Edit = Box<dyn FnOnce(&mut serde_json::Map<String, Value>)>;

fn licence() -> &'static catalogue::DocumentType {
    catalogue::by_id("driving_licence").unwrap()
}

fn refusal(id: &str, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> SchemaError {
    let mut claims = sample(id);
    edit(claims.as_object_mut().unwrap());
    catalogue::by_id(id).unwrap().validate(&claims).unwrap_err()
}

#[test]
fn the_catalogue_has_the_six_types_with_their_vct_and_issuer_role() {
    let expected = [
        ("can_cuoc", IssuerRole::Police),
        ("driving_licence", IssuerRole::Police),
        ("vehicle_registration", IssuerRole::Police),
        ("health_insurance_card", IssuerRole::SocialInsurance),
        ("health_book", IssuerRole::Health),
        ("judicial_record", IssuerRole::Justice),
    ];
    let all = catalogue::all();
    assert_eq!(all.len(), expected.len());
    for (doc, (id, role)) in all.iter().zip(expected) {
        assert_eq!(doc.id, id);
        assert_eq!(doc.vct, format!("{}{}", catalogue::VCT_BASE, id));
        assert_eq!(doc.issuer_role, role);
        assert!(std::ptr::eq(catalogue::by_vct(doc.vct).unwrap(), doc));
        assert!(std::ptr::eq(catalogue::by_id(doc.id).unwrap(), doc));
    }
    assert!(catalogue::by_vct("https://giayto.gov.vn/vct/unknown").is_none());
    assert!(catalogue::by_vct("can_cuoc").is_none());
    assert!(catalogue::by_id("https://giayto.gov.vn/vct/can_cuoc").is_none());
}

#[test]
fn issuer_roles_serialize_in_snake_case() {
    for role in IssuerRole::ALL {
        assert_eq!(serde_json::to_value(role).unwrap(), json!(role.as_str()));
        assert_eq!(IssuerRole::from_name(role.as_str()), Some(role));
        let back: IssuerRole = serde_json::from_value(json!(role.as_str())).unwrap();
        assert_eq!(back, role);
        assert!(!role.label().vi.is_empty() && !role.label().en.is_empty());
    }
    assert_eq!(
        serde_json::to_string(&IssuerRole::SocialInsurance).unwrap(),
        "\"social_insurance\""
    );
    assert!(serde_json::from_value::<IssuerRole>(json!("Police")).is_err());
}

#[test]
fn every_sample_is_accepted() {
    for doc in catalogue::all() {
        doc.validate(&sample(doc.id))
            .unwrap_or_else(|e| panic!("{}: {e}", doc.id));
    }
}

#[test]
fn a_licence_without_a_number_is_refused_naming_the_field() {
    let err = refusal("driving_licence", |c| {
        c.remove("licence_number");
    });
    assert_eq!(
        err,
        SchemaError::Missing {
            path: "licence_number".into()
        }
    );
    assert_eq!(err.to_string(), "licence_number: required claim is missing");
}

#[test]
fn a_nested_missing_claim_is_named_with_its_index() {
    let err = refusal("driving_licence", |c| {
        c["driving_privileges"][1]
            .as_object_mut()
            .unwrap()
            .remove("class");
    });
    assert_eq!(
        err.to_string(),
        "driving_privileges[1].class: required claim is missing"
    );
}

#[test]
fn impossible_and_malformed_dates_are_refused() {
    for bad in [
        "2023-02-29",
        "1990-13-01",
        "15/07/2006",
        "2006-7-15",
        "2006-07-15T00:00:00Z",
    ] {
        let err = refusal("can_cuoc", |c| {
            c.insert("birth_date".into(), json!(bad));
        });
        assert_eq!(
            err.to_string(),
            "birth_date: not a calendar date in the form YYYY-MM-DD",
            "{bad}"
        );
    }
    let err = refusal("can_cuoc", |c| {
        c.insert("birth_date".into(), json!(20060715));
    });
    assert_eq!(
        err.to_string(),
        "birth_date: expected a date string YYYY-MM-DD"
    );
    let err = refusal("driving_licence", |c| {
        c["driving_privileges"][0]["issue_date"] = json!("2010-02-30");
    });
    assert_eq!(
        err.to_string(),
        "driving_privileges[0].issue_date: not a calendar date in the form YYYY-MM-DD"
    );
}

#[test]
fn values_outside_an_enum_are_refused_with_the_allowed_values() {
    let err = refusal("driving_licence", |c| {
        c["driving_privileges"][0]["class"] = json!("A2");
    });
    assert!(
        matches!(err, SchemaError::NotAllowed { ref path, .. } if path == "driving_privileges[0].class")
    );
    assert!(err.to_string().starts_with(
        "driving_privileges[0].class: value not allowed, expected one of A1, A, B1, B,"
    ));
    let err = refusal("health_book", |c| {
        c.insert("blood_group".into(), json!("AB"));
    });
    assert_eq!(
        err.to_string(),
        "blood_group: value not allowed, expected one of A+, A-, B+, B-, AB+, AB-, O+, O-"
    );
    let err = refusal("can_cuoc", |c| {
        c.insert("sex".into(), json!("Nữ"));
    });
    assert!(matches!(err, SchemaError::NotAllowed { .. }));
}

#[test]
fn every_2024_licence_class_is_accepted() {
    for class in [
        "A1", "A", "B1", "B", "C1", "C", "D1", "D2", "D", "BE", "C1E", "CE", "D1E", "D2E", "DE",
    ] {
        let mut claims = sample("driving_licence");
        claims["driving_privileges"][0]["class"] = json!(class);
        licence()
            .validate(&claims)
            .unwrap_or_else(|e| panic!("{class}: {e}"));
    }
}

#[test]
fn unknown_claims_are_refused_at_any_depth() {
    let err = refusal("can_cuoc", |c| {
        c.insert("eye_colour".into(), json!("brown"));
    });
    assert_eq!(
        err,
        SchemaError::Unknown {
            path: "eye_colour".into()
        }
    );
    let err = refusal("driving_licence", |c| {
        c["driving_privileges"][0]["restrictions"] = json!("glasses");
    });
    assert_eq!(
        err.to_string(),
        "driving_privileges[0].restrictions: unknown claim for this document type"
    );
    let err = refusal("judicial_record", |c| {
        c["criminal_record"]["note"] = json!("x");
    });
    assert_eq!(
        err.to_string(),
        "criminal_record.note: unknown claim for this document type"
    );
}

#[test]
fn reserved_envelope_names_are_refused_at_any_depth() {
    for name in [
        "iss", "vct", "cnf", "status", "_sd", "...", "iat", "exp", "nbf", "sub", "_sd_alg",
    ] {
        let err = refusal("can_cuoc", |c| {
            c.insert(name.into(), json!("x"));
        });
        assert_eq!(err, SchemaError::Reserved { path: name.into() }, "{name}");
    }
    let err = refusal("driving_licence", |c| {
        c["driving_privileges"][0]["_sd"] = json!([]);
    });
    assert_eq!(
        err,
        SchemaError::Reserved {
            path: "driving_privileges[0]._sd".into()
        }
    );
}

#[test]
fn computed_claims_cannot_be_supplied() {
    let err = refusal("can_cuoc", |c| {
        c.insert("age_equal_or_over".into(), json!({ "18": true }));
    });
    assert_eq!(
        err.to_string(),
        "age_equal_or_over: computed at issuance, must not be supplied"
    );
}

#[test]
fn the_claims_must_be_an_object() {
    for not_object in [json!([]), json!("x"), json!(null), json!(1)] {
        assert_eq!(
            licence().validate(&not_object),
            Err(SchemaError::NotAnObject)
        );
    }
}

#[test]
fn formats_and_bounds_are_enforced() {
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "can_cuoc",
            Box::new(|c| {
                c.insert("personal_id".into(), json!("00109001234"));
            }),
            "personal_id: wrong format, expected 999999999999 (9 = digit, A = capital letter)",
        ),
        (
            "can_cuoc",
            Box::new(|c| {
                c.insert("personal_id".into(), json!(1090012345));
            }),
            "personal_id: expected a code string",
        ),
        (
            "can_cuoc",
            Box::new(|c| {
                c.insert("nationality".into(), json!("VNM"));
            }),
            "nationality: wrong format, expected AA (9 = digit, A = capital letter)",
        ),
        (
            "can_cuoc",
            Box::new(|c| {
                c.insert("full_name".into(), json!("   "));
            }),
            "full_name: must be non-blank text without control characters",
        ),
        (
            "can_cuoc",
            Box::new(|c| {
                c.insert("full_name".into(), json!("Nguyễn\u{0}An"));
            }),
            "full_name: must be non-blank text without control characters",
        ),
        (
            "can_cuoc",
            Box::new(|c| {
                c.insert("full_name".into(), json!("ễ".repeat(101)));
            }),
            "full_name: too long, at most 100 characters",
        ),
        (
            "can_cuoc",
            Box::new(|c| {
                c.insert("full_name".into(), json!(null));
            }),
            "full_name: expected a text string",
        ),
        (
            "vehicle_registration",
            Box::new(|c| {
                c.insert("plate_number".into(), json!("51k-123.45"));
            }),
            "plate_number: wrong format, expected capital letters, digits, '-', '.' or '/', starting with a letter or digit",
        ),
        (
            "vehicle_registration",
            Box::new(|c| {
                c.insert("seats".into(), json!(0));
            }),
            "seats: out of range, expected 1 to 100",
        ),
        (
            "vehicle_registration",
            Box::new(|c| {
                c.insert("seats".into(), json!(5.0));
            }),
            "seats: expected an integer",
        ),
        (
            "health_insurance_card",
            Box::new(|c| {
                c.insert("benefit_level".into(), json!(6));
            }),
            "benefit_level: out of range, expected 1 to 5",
        ),
        (
            "health_insurance_card",
            Box::new(|c| {
                c.insert("card_number".into(), json!("DN401012345678"));
            }),
            "card_number: wrong format, expected 9999999999 or AA9999999999999 (9 = digit, A = capital letter)",
        ),
        (
            "driving_licence",
            Box::new(|c| {
                c.insert("driving_privileges".into(), json!([]));
            }),
            "driving_privileges: too few elements, at least 1",
        ),
        (
            "driving_licence",
            Box::new(|c| {
                c.insert("driving_privileges".into(), json!({"class": "B"}));
            }),
            "driving_privileges: expected an array",
        ),
        (
            "health_book",
            Box::new(|c| {
                c.insert("allergies".into(), json!(vec!["Penicillin"; 51]));
            }),
            "allergies: too long, at most 50 elements",
        ),
        (
            "health_book",
            Box::new(|c| {
                c.insert("allergies".into(), json!(["Penicillin", 3]));
            }),
            "allergies[1]: expected a text string",
        ),
        (
            "health_book",
            Box::new(|c| {
                c["vaccinations"][1]["dose"] = json!(0);
            }),
            "vaccinations[1].dose: out of range, expected 1 to 20",
        ),
        (
            "judicial_record",
            Box::new(|c| {
                c.insert("form".into(), json!(1));
            }),
            "form: expected a string",
        ),
    ];
    for (id, edit, message) in cases {
        assert_eq!(refusal(id, edit).to_string(), message);
    }
}

#[test]
fn refusals_never_echo_values() {
    let secret = "Nguyễn Bí Mật";
    let err = refusal("can_cuoc", |c| {
        c.insert("full_name".into(), json!(format!("{secret}\n")));
    });
    assert!(!err.to_string().contains(secret));
    // A hostile key is cut and control characters are neutralised.
    let key = format!("a\u{1b}[2J{}", "k".repeat(500));
    let err = refusal("can_cuoc", |c| {
        c.insert(key.clone(), json!(1));
    });
    let message = err.to_string();
    assert!(message.len() < 200, "{message}");
    assert!(!message.contains('\u{1b}'));
}

#[test]
fn dates_must_be_in_order() {
    let err = refusal("can_cuoc", |c| {
        c.insert("expiry_date".into(), json!("2024-06-30"));
    });
    assert_eq!(
        err.to_string(),
        "expiry_date: must not be before issue_date"
    );
    let err = refusal("can_cuoc", |c| {
        c.insert("issue_date".into(), json!("2006-07-14"));
    });
    assert_eq!(err.to_string(), "issue_date: must not be before birth_date");
    // The same day is fine.
    let mut claims = sample("can_cuoc");
    claims["expiry_date"] = json!("2024-07-01");
    catalogue::by_id("can_cuoc")
        .unwrap()
        .validate(&claims)
        .unwrap();
    let err = refusal("driving_licence", |c| {
        c["driving_privileges"][1]["expiry_date"] = json!("2015-09-09");
    });
    assert_eq!(
        err.to_string(),
        "driving_privileges[1].expiry_date: must not be before issue_date"
    );
    let err = refusal("health_insurance_card", |c| {
        c.insert("valid_until".into(), json!("2024-12-31"));
    });
    assert_eq!(
        err.to_string(),
        "valid_until: must not be before valid_from"
    );
}

#[test]
fn a_criminal_record_lists_convictions_exactly_when_convicted() {
    let doc = catalogue::by_id("judicial_record").unwrap();
    let conviction = json!({
        "judgment_number": "45/2019/HS-ST",
        "judgment_date": "2019-04-02",
        "court": "Tòa án nhân dân quận Hải Châu",
        "offence": "Trộm cắp tài sản",
        "sentence": "12 tháng tù cho hưởng án treo"
    });
    let mut claims = sample("judicial_record");
    claims["criminal_record"] = json!({ "convicted": true, "convictions": [conviction] });
    doc.validate(&claims).unwrap();
    let mismatches = [
        json!({ "convicted": true }),
        json!({ "convicted": false, "convictions": [conviction] }),
    ];
    for record in mismatches {
        claims["criminal_record"] = record;
        assert_eq!(
            doc.validate(&claims).unwrap_err().to_string(),
            "criminal_record.convictions: must be present and non-empty exactly when convicted is true"
        );
    }
    claims["criminal_record"] = json!({ "convicted": true, "convictions": [] });
    assert_eq!(
        doc.validate(&claims).unwrap_err().to_string(),
        "criminal_record.convictions: too few elements, at least 1"
    );
    claims["criminal_record"] = json!("none");
    assert_eq!(
        doc.validate(&claims).unwrap_err().to_string(),
        "criminal_record: expected an object"
    );
}

#[test]
fn prepared_claims_are_in_schema_order_with_age_predicates() {
    let doc = catalogue::by_id("can_cuoc").unwrap();
    let mut shuffled = serde_json::Map::new();
    let sample = sample("can_cuoc");
    for (k, v) in sample.as_object().unwrap().iter().rev() {
        shuffled.insert(k.clone(), v.clone());
    }
    let prepared = doc
        .prepare_claims(&Value::Object(shuffled), date("2024-07-15"))
        .unwrap();
    let keys: Vec<&str> = prepared.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "personal_id",
            "family_name",
            "given_name",
            "full_name",
            "birth_date",
            "sex",
            "nationality",
            "place_of_origin",
            "place_of_residence",
            "issue_date",
            "expiry_date",
            "issuing_authority",
            "age_equal_or_over"
        ]
    );
    assert_eq!(
        prepared["age_equal_or_over"],
        json!({ "14": true, "16": true, "18": true, "21": false, "60": false })
    );
    for (k, v) in sample.as_object().unwrap() {
        assert_eq!(&prepared[k], v);
    }
}

#[test]
fn age_predicates_turn_true_on_the_birthday() {
    let doc = catalogue::by_id("can_cuoc").unwrap();
    let claims = sample("can_cuoc"); // born 2006-07-15
    let on =
        |day: &str| doc.prepare_claims(&claims, date(day)).unwrap()["age_equal_or_over"].clone();
    assert_eq!(on("2024-07-14")["18"], json!(false));
    assert_eq!(on("2024-07-15")["18"], json!(true));
    assert_eq!(on("2022-07-14")["16"], json!(false));
    assert_eq!(on("2022-07-15")["16"], json!(true));
    assert_eq!(on("2027-07-14")["21"], json!(false));
    assert_eq!(on("2027-07-15")["21"], json!(true));
    assert_eq!(on("2066-07-15")["60"], json!(true));
    // Born 29 February: 18 on 28 February of a common year.
    let mut leap = sample("judicial_record");
    leap["birth_date"] = json!("2008-02-29");
    leap["issue_date"] = json!("2026-02-28");
    let doc = catalogue::by_id("judicial_record").unwrap();
    let before = doc.prepare_claims(&leap, date("2026-02-27")).unwrap();
    let on_day = doc.prepare_claims(&leap, date("2026-02-28")).unwrap();
    assert_eq!(before["age_equal_or_over"]["18"], json!(false));
    assert_eq!(on_day["age_equal_or_over"]["18"], json!(true));
}

#[test]
fn a_birth_date_after_issuance_is_refused() {
    let doc = catalogue::by_id("health_book").unwrap();
    let err = doc
        .prepare_claims(&sample("health_book"), date("2006-07-14"))
        .unwrap_err();
    assert_eq!(err.to_string(), "birth_date: is after the issuance date");
}

#[test]
fn a_type_without_birth_date_gets_no_age_predicates() {
    let doc = catalogue::by_id("vehicle_registration").unwrap();
    assert!(!doc.has_age_predicates());
    let prepared = doc
        .prepare_claims(&sample(doc.id), date("2025-01-01"))
        .unwrap();
    assert!(!prepared.contains_key("age_equal_or_over"));
    assert_eq!(Value::Object(prepared), sample(doc.id));
}

#[test]
fn every_type_with_a_birth_date_has_age_predicates_and_only_those() {
    for doc in catalogue::all() {
        let has_birth_date = doc
            .claims
            .iter()
            .any(|c| c.name == "birth_date" && c.required);
        assert_eq!(doc.has_age_predicates(), has_birth_date, "{}", doc.id);
        assert_eq!(
            doc.preset("age_over_18").is_some(),
            has_birth_date,
            "{}",
            doc.id
        );
    }
}

#[test]
fn disclosable_paths_of_the_licence() {
    assert_eq!(
        licence().disclosable_paths(),
        [
            "licence_number",
            "family_name",
            "given_name",
            "full_name",
            "birth_date",
            "nationality",
            "place_of_residence",
            "driving_privileges",
            "driving_privileges/*",
            "issue_date",
            "issuing_authority",
            "age_equal_or_over",
            "age_equal_or_over/14",
            "age_equal_or_over/16",
            "age_equal_or_over/18",
            "age_equal_or_over/21",
            "age_equal_or_over/60",
        ]
    );
}

#[test]
fn lists_that_must_not_be_partly_shown_have_no_disclosable_elements() {
    let health = catalogue::by_id("health_book").unwrap().disclosable_paths();
    assert!(health.contains(&"allergies".to_owned()));
    assert!(!health.contains(&"allergies/*".to_owned()));
    assert!(health.contains(&"vaccinations/*".to_owned()));
    assert!(health.contains(&"check_ups/*".to_owned()));
    let judicial = catalogue::by_id("judicial_record")
        .unwrap()
        .disclosable_paths();
    assert!(judicial.contains(&"criminal_record".to_owned()));
    assert!(!judicial.iter().any(|p| p.starts_with("criminal_record/")));
}

#[test]
fn every_preset_path_exists_and_reaches_a_disclosable_claim() {
    for doc in catalogue::all() {
        let disclosable = doc.disclosable_paths();
        assert_eq!(doc.presets()[0].name, "full", "{}", doc.id);
        assert!(doc.preset("identity").is_some(), "{}", doc.id);
        let mut names: Vec<&str> = doc.presets().iter().map(|p| p.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(
            names.len(),
            doc.presets().len(),
            "{}: duplicate preset",
            doc.id
        );
        for preset in doc.presets() {
            assert!(!preset.label.vi.is_empty() && !preset.label.en.is_empty());
            assert!(!preset.claims.is_empty());
            for path in preset.claims {
                let segments: Vec<&str> = path.split('/').collect();
                assert!(
                    doc.claim_label(&segments).is_some(),
                    "{}/{}: {path} not in schema",
                    doc.id,
                    preset.name
                );
                assert!(
                    disclosable
                        .iter()
                        .any(|d| d == path || d.starts_with(&format!("{path}/"))),
                    "{}/{}: {path} reaches no disclosable claim",
                    doc.id,
                    preset.name
                );
            }
        }
    }
}

#[test]
fn the_full_preset_covers_every_disclosable_claim() {
    for doc in catalogue::all() {
        assert_eq!(
            doc.preset_paths("full").unwrap(),
            doc.disclosable_paths(),
            "{}",
            doc.id
        );
    }
}

#[test]
fn age_over_18_reveals_nothing_but_that() {
    for doc in catalogue::all().iter().filter(|d| d.has_age_predicates()) {
        assert_eq!(
            doc.preset_paths("age_over_18").unwrap(),
            // The container disclosure carries only the digests of the other thresholds.
            ["age_equal_or_over", "age_equal_or_over/18"],
            "{}",
            doc.id
        );
    }
}

#[test]
fn preset_selectors_are_the_deepest_preset_paths() {
    for doc in catalogue::all().iter().filter(|d| d.has_age_predicates()) {
        assert_eq!(
            doc.preset_selectors("age_over_18").unwrap(),
            ["age_equal_or_over/18"],
            "{}",
            doc.id
        );
    }
    assert_eq!(
        licence().preset_selectors("traffic_stop").unwrap(),
        [
            "licence_number",
            "family_name",
            "given_name",
            "full_name",
            "driving_privileges/*",
            "issuing_authority"
        ]
    );
    assert!(licence().preset_selectors("no_such_preset").is_none());
}

#[test]
fn traffic_stop_presets_show_no_address() {
    let licence_paths = licence().preset_paths("traffic_stop").unwrap();
    assert_eq!(
        licence_paths,
        [
            "licence_number",
            "family_name",
            "given_name",
            "full_name",
            "driving_privileges",
            "driving_privileges/*",
            "issuing_authority"
        ]
    );
    let registration = catalogue::by_id("vehicle_registration").unwrap();
    let registration_paths = registration.preset_paths("traffic_stop").unwrap();
    assert!(registration_paths.contains(&"plate_number".to_owned()));
    assert!(registration_paths.contains(&"owner_name".to_owned()));
    assert!(registration_paths.contains(&"chassis_number".to_owned()));
    assert!(!registration_paths.contains(&"owner_address".to_owned()));
    let emergency = catalogue::by_id("health_book")
        .unwrap()
        .preset_paths("emergency")
        .unwrap();
    assert_eq!(
        emergency,
        ["full_name", "birth_date", "blood_group", "allergies"]
    );
    assert!(
        catalogue::by_id("health_insurance_card")
            .unwrap()
            .preset("insurance_check")
            .is_some()
    );
    assert!(
        catalogue::by_id("judicial_record")
            .unwrap()
            .preset("employment")
            .is_some()
    );
    assert!(licence().preset_paths("no_such_preset").is_none());
}

#[test]
fn claim_labels_skip_array_steps() {
    let class = licence()
        .claim_label(&["driving_privileges", "0", "class"])
        .unwrap();
    assert_eq!((class.vi, class.en), ("Hạng", "Class"));
    assert_eq!(
        licence().claim_label(&["driving_privileges", "*", "class"]),
        Some(class)
    );
    let list = licence().claim_label(&["driving_privileges", "*"]).unwrap();
    assert_eq!(list.en, "Driving privileges");
    let age = licence().claim_label(&["age_equal_or_over", "18"]).unwrap();
    assert_eq!(age.vi, "Đủ 18 tuổi trở lên");
    assert_eq!(licence().claim_label(&["licence_number", "x"]), None);
    assert_eq!(licence().claim_label(&["driving_privileges", "x"]), None);
    assert_eq!(licence().claim_label(&["nothing"]), None);
    assert_eq!(licence().claim_label(&[]), None);
}

#[test]
fn every_claim_of_every_type_has_both_labels_and_a_usable_name() {
    const RESERVED: &[&str] = giayto_core::catalogue::schema::RESERVED_CLAIM_NAMES;
    for doc in catalogue::all() {
        assert!(!doc.name.vi.is_empty() && !doc.name.en.is_empty());
        assert!(!doc.description.vi.is_empty() && !doc.description.en.is_empty());
        let nodes = catalogue::paths::nodes(doc.claims);
        let mut seen = std::collections::HashSet::new();
        for node in &nodes {
            let path = node.path_string();
            assert!(seen.insert(path.clone()), "{}: duplicate {path}", doc.id);
            if path.ends_with('*') {
                assert!(node.label.is_none());
                continue;
            }
            let label = node.label.unwrap();
            assert!(
                !label.vi.trim().is_empty(),
                "{}: {path} has no vi label",
                doc.id
            );
            assert!(
                !label.en.trim().is_empty(),
                "{}: {path} has no en label",
                doc.id
            );
            let name = path.rsplit('/').next().unwrap();
            assert!(!RESERVED.contains(&name), "{}: {path} is reserved", doc.id);
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            );
            assert_eq!(
                doc.claim_label(&path.split('/').collect::<Vec<_>>()),
                Some(label)
            );
        }
        // Vietnamese labels are written with diacritics, not stripped ASCII.
        assert!(
            nodes
                .iter()
                .filter_map(|n| n.label)
                .any(|l| !l.vi.is_ascii()),
            "{}",
            doc.id
        );
    }
}

#[test]
fn the_age_claim_container_and_its_members_are_disclosable() {
    let nodes = catalogue::paths::nodes(licence().claims);
    let container = nodes
        .iter()
        .find(|n| n.path_string() == "age_equal_or_over")
        .unwrap();
    assert_eq!(container.sd, Sd::Always);
    assert!(
        nodes
            .iter()
            .filter(|n| n.path_string().starts_with("age_equal_or_over/"))
            .all(|n| n.sd == Sd::Always)
    );
}

fn arbitrary_json() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[0-9A-Za-z:/ .-]{0,14}".prop_map(Value::String),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,12}|class|_sd|\\.\\.\\.", inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest::proptest! {
    #[test]
    fn arbitrary_claims_never_panic(value in arbitrary_json()) {
        for doc in catalogue::all() {
            let _ = doc.validate(&value);
            let _ = doc.prepare_claims(&value, date("2025-06-01"));
        }
    }

    #[test]
    fn replacing_any_sample_claim_with_junk_never_panics(index in 0usize..16, junk in arbitrary_json()) {
        for doc in catalogue::all() {
            let mut claims = sample(doc.id);
            let obj = claims.as_object_mut().unwrap();
            let key = obj.keys().nth(index % obj.len()).unwrap().clone();
            obj.insert(key.clone(), junk.clone());
            if let Err(err) = doc.prepare_claims(&claims, date("2025-06-01")) {
                // A junk value for one claim is blamed on that claim, or on a rule across it.
                let blamed = err.to_string().starts_with(key.as_str())
                    || matches!(err, SchemaError::DateOrder { .. } | SchemaError::FlagMismatch { .. });
                proptest::prop_assert!(blamed, "{}: {err}", doc.id);
            }
        }
    }
}

#[test]
fn every_rule_names_claims_of_the_right_kind() {
    use giayto_core::catalogue::{ClaimKind, Rule};
    for doc in catalogue::all() {
        for rule in doc.rules {
            let (object, pairs) = match *rule {
                Rule::NotAfter {
                    object,
                    earlier,
                    later,
                } => (object, [(earlier, "date"), (later, "date")]),
                Rule::ListWhenFlag { object, flag, list } => {
                    (object, [(flag, "bool"), (list, "list")])
                }
            };
            for (name, want) in pairs {
                let path: Vec<&str> = object
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .chain([name])
                    .collect();
                let spec = doc
                    .claim_spec(&path)
                    .unwrap_or_else(|| panic!("{}: rule names missing {path:?}", doc.id));
                let ok = match want {
                    "date" => matches!(spec.kind, ClaimKind::Date),
                    "bool" => matches!(spec.kind, ClaimKind::Boolean),
                    _ => matches!(spec.kind, ClaimKind::List(_)),
                };
                assert!(ok, "{}: {path:?} is not a {want}", doc.id);
            }
        }
    }
}
