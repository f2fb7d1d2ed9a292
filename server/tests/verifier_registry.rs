//! Registered OpenID4VP verifiers on the trust list: the admin commands add registrars and
//! verifiers, the published list carries them, a wallet reads them back, and bad inputs are
//! refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::{Command, Stdio};

use common::TestApp;
use giayto_core::jose::b64;
use giayto_core::oid4vp::x509_hash;
use giayto_core::trust_list::{IssuerName, RegisteredVerifier, TrustList};
use giayto_server::domain::{DomainError, trust, verifiers};
use serde_json::json;

fn registrar_and_leaf() -> (rcgen::Certificate, rcgen::Certificate) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["desk.example".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    (ca, leaf)
}

async fn published(app: &TestApp) -> TrustList {
    let token = trust::publish(&app.services).await.unwrap();
    let anchor = trust::ensure_anchor(&app.services).await.unwrap();
    TrustList::verify(&token, &anchor, common::now() as i64, 0)
        .unwrap()
        .list()
        .clone()
}

async fn registers_and_publishes(app: TestApp) {
    // A list from before any registration names none (old wallets read it unchanged).
    let before = published(&app).await;
    assert!(before.verifier_anchors.is_empty() && before.verifiers.is_empty());

    let (ca, leaf) = registrar_and_leaf();
    let id = verifiers::add_anchor(&app.services, ca.der(), "test registrar")
        .await
        .unwrap();
    assert_eq!(id, x509_hash(ca.der()));
    let client_id = format!("x509_hash:{}", x509_hash(leaf.der()));
    let hospital = RegisteredVerifier {
        client_id: client_id.clone(),
        name: IssuerName {
            vi: "Bệnh viện Bạch Mai".into(),
            en: "Bach Mai Hospital".into(),
        },
        may_request: vec![
            verifiers::parse_may_request("health_insurance_card=card_number,full_name").unwrap(),
        ],
    };
    verifiers::register(&app.services, &hospital).await.unwrap();
    let list = published(&app).await;
    assert_eq!(list.verifier_anchors, [b64::encode_standard(ca.der())]);
    assert_eq!(list.verifiers, std::slice::from_ref(&hospital));
    assert_eq!(
        json!(list.verifiers[0].may_request[0].claims),
        json!([["card_number"], ["full_name"]])
    );

    // Re-registering replaces; removing removes.
    let mut renamed = hospital.clone();
    renamed.name.en = "Bach Mai General Hospital".into();
    verifiers::register(&app.services, &renamed).await.unwrap();
    assert_eq!(published(&app).await.verifiers, [renamed]);
    verifiers::unregister(&app.services, &client_id)
        .await
        .unwrap();
    assert!(published(&app).await.verifiers.is_empty());
    assert!(matches!(
        verifiers::unregister(&app.services, &client_id).await,
        Err(DomainError::NotFound(_))
    ));
    verifiers::remove_anchor(&app.services, &id).await.unwrap();
    assert!(published(&app).await.verifier_anchors.is_empty());
}

async fn refuses_bad_registrations(app: TestApp) {
    assert!(matches!(
        verifiers::add_anchor(&app.services, b"not a certificate", "x").await,
        Err(DomainError::Invalid { .. })
    ));
    let mut bad = RegisteredVerifier {
        client_id: "x509_san_dns:desk.example".into(),
        name: IssuerName {
            vi: "A".into(),
            en: "A".into(),
        },
        may_request: Vec::new(),
    };
    assert!(matches!(
        verifiers::register(&app.services, &bad).await,
        Err(DomainError::Invalid { .. })
    ));
    bad.client_id = "x509_hash:short".into();
    assert!(matches!(
        verifiers::register(&app.services, &bad).await,
        Err(DomainError::Invalid { .. })
    ));
    assert!(verifiers::parse_may_request("no_such_document=x").is_err());
    assert!(verifiers::parse_may_request("driving_licence=a//b").is_err());
    assert_eq!(
        json!(
            verifiers::parse_may_request("driving_licence=driving_privileges/*/class")
                .unwrap()
                .claims
        ),
        json!([["driving_privileges", null, "class"]])
    );
}

/// Changes made within one second (a registrar, then its verifier) each publish a list, and
/// the list served is always the last one published, never an older one of the same second.
async fn the_last_change_is_the_list_served(app: TestApp) {
    let (ca, _) = registrar_and_leaf();
    verifiers::add_anchor(&app.services, ca.der(), "test registrar")
        .await
        .unwrap();
    for round in 0..8 {
        let token = trust::publish(&app.services).await.unwrap();
        assert_eq!(
            trust::current(&app.services).await.unwrap().as_deref(),
            Some(token.as_str()),
            "round {round}: an older list is served"
        );
    }
}

on_both_databases!(
    registers_and_publishes,
    refuses_bad_registrations,
    the_last_change_is_the_list_served
);

/// The admin commands, as an operator types them.
#[test]
fn admin_commands_register_from_pem_files() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, leaf) = registrar_and_leaf();
    std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(dir.path().join("verifier.pem"), leaf.pem()).unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_giayto-server"))
            .args(args)
            .current_dir(dir.path())
            .env(
                "GIAYTO_DATABASE_URL",
                format!("sqlite://{}?mode=rwc", dir.path().join("g.db").display()),
            )
            .env("GIAYTO_MASTER_KEY_FILE", dir.path().join("master.key"))
            .env("GIAYTO_PUBLIC_URL", common::PUBLIC_URL)
            .env("GIAYTO_DEMO", "false")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    run(&["verifier", "anchor-add", "--cert", "ca.pem"]);
    run(&[
        "verifier",
        "add",
        "--cert",
        "verifier.pem",
        "--name-vi",
        "Bệnh viện Bạch Mai",
        "--name-en",
        "Bach Mai Hospital",
        "--may-request",
        "health_insurance_card=card_number,full_name",
    ]);
    let listed = run(&["verifier", "list"]);
    assert!(
        listed.contains(&format!("registrar\t{}", x509_hash(ca.der()))),
        "{listed}"
    );
    assert!(
        listed.contains(&format!(
            "verifier\tx509_hash:{}\tBệnh viện Bạch Mai\tBach Mai Hospital\thttps://giayto.gov.vn/vct/health_insurance_card=card_number,full_name",
            x509_hash(leaf.der())
        )),
        "{listed}"
    );
}
