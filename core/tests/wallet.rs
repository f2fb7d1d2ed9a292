//! The wallet façade over a real vault: store (id, display snapshot), documents with
//! labels, present in each binding mode, delete, and the typed errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use giayto_core::catalogue::{self, examples::example_claims};
use giayto_core::jose::jws::CompactJws;
use giayto_core::jose::{Algorithm, Signer, SoftwareSigner};
use giayto_core::qr::{self, Challenge, KeyBindingTarget};
use giayto_core::sd_jwt::Presentation;
use giayto_core::sd_jwt_vc::{IssueRequest, issue_document};
use giayto_core::vault::{Vault, VaultKey};
use giayto_core::wallet::{Binding, Selection, Wallet, WalletError, present_credential};
use serde_json::Value;

const NOW: i64 = 1_760_000_000;

fn issue(id: &str, holder: Option<&SoftwareSigner>) -> String {
    let issuer = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let Value::Object(claims) = example_claims(id).unwrap() else {
        panic!()
    };
    issue_document(
        &IssueRequest {
            issuer: "https://csgt.bocongan.gov.vn".into(),
            vct: catalogue::by_id(id).unwrap().vct.into(),
            claims,
            holder_jwk: holder.map(|h| h.public_jwk().unwrap()),
            status: None,
            issued_at: NOW - 100,
            not_before: None,
            expires_at: Some(NOW + 86_400),
        },
        &issuer,
    )
    .unwrap()
}

fn kb(presentation: &str) -> Value {
    let p = Presentation::parse(presentation).unwrap();
    CompactJws::parse(p.key_binding_jwt().unwrap())
        .unwrap()
        .payload_json()
        .unwrap()
}

#[test]
fn store_list_present_delete() {
    let dir = tempfile::tempdir().unwrap();
    let key = VaultKey::generate().unwrap();
    let mut wallet = Wallet::new(Vault::create(dir.path().join("v"), &key).unwrap());
    let holder = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let credential = issue("driving_licence", Some(&holder));
    let stored = wallet.store(&credential, "holder-1", NOW).unwrap();
    assert_eq!(stored.id.len(), 16);
    assert_eq!(stored.vct, "https://giayto.gov.vn/vct/driving_licence");
    assert_eq!(stored.format, "dc+sd-jwt");
    assert_eq!(stored.display["name"]["vi"], "Giấy phép lái xe");
    // Storing the same credential again replaces it.
    assert_eq!(
        wallet.store(&credential, "holder-1", NOW).unwrap().id,
        stored.id
    );
    assert_eq!(wallet.documents().unwrap().len(), 1);

    // The snapshot survives reopening the vault.
    drop(wallet);
    let mut wallet = Wallet::new(Vault::open(dir.path().join("v"), &key).unwrap());
    let doc = wallet.document(&stored.id).unwrap();
    assert_eq!(doc.name.as_ref().unwrap().en, "Driving licence");
    assert_eq!(doc.expires_at, Some(NOW + 86_400));
    let class = doc
        .claims
        .iter()
        .find(|c| c.path == "driving_privileges[0].class")
        .unwrap();
    assert_eq!(class.label.as_ref().unwrap().vi, "Hạng");
    assert!(
        doc.claims.iter().all(|c| !c.path.starts_with("cnf")),
        "envelope hidden"
    );

    let one_way = wallet
        .present(
            &stored.id,
            &Selection::Preset("traffic_stop".into()),
            &Binding::OneWay,
            &holder,
            NOW,
        )
        .unwrap();
    assert_eq!(qr::unpack(&one_way.qr_text).unwrap(), one_way.presentation);
    assert_eq!(kb(&one_way.presentation)["aud"], qr::OFFLINE_AUDIENCE);
    assert_eq!(kb(&one_way.presentation)["iat"], NOW);

    let challenge =
        Challenge::new("https://bank.example.vn", Duration::from_secs(60), NOW).unwrap();
    let two_way = wallet
        .present(
            &stored.id,
            &Selection::Claims(vec!["full_name".into()]),
            &Binding::Challenge(challenge.clone()),
            &holder,
            NOW,
        )
        .unwrap();
    let claims = kb(&two_way.presentation);
    assert_eq!(claims["aud"], "https://bank.example.vn");
    assert_eq!(claims["nonce"], challenge.nonce.as_str());
    let disclosed = Presentation::parse(&two_way.presentation)
        .unwrap()
        .process()
        .unwrap();
    assert_eq!(disclosed.disclosed.len(), 1, "only full_name");

    let target = KeyBindingTarget {
        aud: "a".into(),
        nonce: "n".into(),
    };
    let explicit = wallet
        .present(
            &stored.id,
            &Selection::Preset("full".into()),
            &Binding::Target(target),
            &holder,
            NOW,
        )
        .unwrap();
    assert_eq!(kb(&explicit.presentation)["nonce"], "n");

    let paper = wallet
        .present(
            &stored.id,
            &Selection::Preset("full".into()),
            &Binding::Paper,
            &holder,
            NOW,
        )
        .unwrap();
    assert!(paper.qr_text.starts_with("GTP2:"));
    assert!(paper.presentation.ends_with('~'));

    assert!(matches!(
        wallet.present(
            &stored.id,
            &Selection::Preset("age_over_21".into()),
            &Binding::OneWay,
            &holder,
            NOW
        ),
        Err(WalletError::UnknownPreset { .. })
    ));
    assert!(matches!(
        wallet.present(
            &stored.id,
            &Selection::Claims(vec![]),
            &Binding::OneWay,
            &holder,
            NOW
        ),
        Err(WalletError::EmptySelection)
    ));
    assert!(matches!(
        wallet.present(
            "nope",
            &Selection::Preset("full".into()),
            &Binding::OneWay,
            &holder,
            NOW
        ),
        Err(WalletError::NotFound(_))
    ));
    wallet.delete(&stored.id).unwrap();
    assert!(matches!(
        wallet.delete(&stored.id),
        Err(WalletError::NotFound(_))
    ));
    assert!(wallet.documents().unwrap().is_empty());
}

#[test]
fn age_over_18_discloses_that_threshold_alone() {
    let dir = tempfile::tempdir().unwrap();
    let key = VaultKey::generate().unwrap();
    let mut wallet = Wallet::new(Vault::create(dir.path().join("v"), &key).unwrap());
    let holder = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let stored = wallet
        .store(&issue("can_cuoc", Some(&holder)), "holder-1", NOW)
        .unwrap();
    let out = wallet
        .present(
            &stored.id,
            &Selection::Preset("age_over_18".into()),
            &Binding::OneWay,
            &holder,
            NOW,
        )
        .unwrap();
    let processed = Presentation::parse(&out.presentation)
        .unwrap()
        .process()
        .unwrap();
    let mut disclosed: Vec<String> = processed
        .disclosed
        .iter()
        .map(|claim| claim.path.pattern())
        .collect();
    disclosed.sort();
    // The container (its other thresholds stay digests) and the one threshold asked for.
    assert_eq!(disclosed, ["age_equal_or_over", "age_equal_or_over/18"]);
    assert_eq!(
        processed.claims["age_equal_or_over"],
        serde_json::json!({"18": true})
    );
}

#[test]
fn refuses_what_it_cannot_store_or_bind() {
    let dir = tempfile::tempdir().unwrap();
    let key = VaultKey::generate().unwrap();
    let mut wallet = Wallet::new(Vault::create(dir.path().join("v"), &key).unwrap());
    assert!(matches!(
        wallet.store("not an sd-jwt", "h", NOW),
        Err(WalletError::Credential(_))
    ));
    let holder = SoftwareSigner::generate(Algorithm::EdDsa).unwrap();
    let credential = issue("can_cuoc", Some(&holder));
    let with_kb = present_credential(
        &credential,
        &Selection::Preset("identity".into()),
        &Binding::OneWay,
        &holder,
        NOW,
    )
    .unwrap();
    assert!(
        matches!(
            wallet.store(&with_kb.presentation, "h", NOW),
            Err(WalletError::Credential(_))
        ),
        "an SD-JWT+KB is not an issued credential"
    );
    // No cnf: paper only.
    let unbound = issue("can_cuoc", None);
    assert!(matches!(
        present_credential(
            &unbound,
            &Selection::Preset("full".into()),
            &Binding::OneWay,
            &holder,
            NOW
        ),
        Err(WalletError::NotKeyBound)
    ));
    present_credential(
        &unbound,
        &Selection::Preset("full".into()),
        &Binding::Paper,
        &holder,
        NOW,
    )
    .unwrap();
    assert!(wallet.documents().unwrap().is_empty());
}

/// Issue 14's guardian copy: the `representation` claim and its members are labelled in
/// both languages, in the wallet's view and in a verifier's verdict alike.
#[test]
fn a_guardians_copy_labels_its_representation_claim() {
    use giayto_core::sd_jwt_vc::issue_document_to_representative;
    let dir = tempfile::tempdir().unwrap();
    let key = VaultKey::generate().unwrap();
    let mut wallet = Wallet::new(Vault::create(dir.path().join("v"), &key).unwrap());
    let guardian = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let issuer = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let Value::Object(claims) = example_claims("health_insurance_card").unwrap() else {
        panic!()
    };
    let credential = issue_document_to_representative(
        &IssueRequest {
            issuer: "https://bhxh.gov.vn".into(),
            vct: catalogue::by_id("health_insurance_card")
                .unwrap()
                .vct
                .into(),
            claims,
            holder_jwk: Some(guardian.public_jwk().unwrap()),
            status: None,
            issued_at: NOW - 100,
            not_before: None,
            expires_at: Some(NOW + 86_400),
        },
        serde_json::json!({
            "type": "guardian",
            "representative": { "personal_id": "001080000015", "full_name": "Trần Văn Bình" },
            "legal_basis": "Nghị định 59/2022/NĐ-CP, Điều 11 / Decree 59/2022, article 11",
            "valid_until": NOW + 3600,
        }),
        &issuer,
    )
    .unwrap();
    let stored = wallet.store(&credential, "holder-1", NOW).unwrap();
    let doc = wallet.document(&stored.id).unwrap();
    let label = |path: &str| {
        let claim = doc.claims.iter().find(|c| c.path == path).unwrap();
        let names = claim.label.as_ref().unwrap_or_else(|| panic!("{path}"));
        format!("{} / {}", names.vi, names.en)
    };
    assert_eq!(
        label("representation.valid_until"),
        "Đại diện đến / Representation valid until"
    );
    assert_eq!(
        label("representation.type"),
        "Hình thức đại diện / Type of representation"
    );
    assert_eq!(
        label("representation.representative.personal_id"),
        "Người đại diện – số định danh cá nhân / Representative's personal identification number"
    );
    // Not labelled like the child's own full name: whose name is whose is plain.
    assert_eq!(
        label("representation.representative.full_name"),
        "Người đại diện – họ, chữ đệm và tên / Representative's full name"
    );
    assert_ne!(
        label("representation.representative.full_name"),
        label("full_name")
    );
    assert_eq!(
        label("representation.legal_basis"),
        "Căn cứ pháp lý / Legal basis"
    );
    assert!(catalogue::representation::is_unix_time(
        "representation.valid_until"
    ));
}
