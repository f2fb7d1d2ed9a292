//! The trust list: signed by the pinned anchor, expiry with grace, and authorisation of
//! each issuer key for each document type.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use giayto_core::jose::{Algorithm, JoseError, Jwks, Signer, SoftwareSigner};
use giayto_core::trust_list::{
    IssuerName, RegisteredRequest, RegisteredVerifier, TrustList, TrustListError,
    TrustListFreshness, TrustedIssuer,
};

const NOW: i64 = 1_800_000_000;
const LICENCE: &str = "https://giayto.gov.vn/vct/driving_licence";

fn list(police: &SoftwareSigner) -> TrustList {
    TrustList {
        iss: "https://trust.giayto.gov.vn".into(),
        iat: NOW - 10,
        exp: NOW + 100,
        issuers: vec![TrustedIssuer {
            id: "https://police.example".into(),
            name: IssuerName {
                vi: "Bộ Công an".into(),
                en: "Ministry of Public Security".into(),
            },
            jwks: Jwks {
                keys: vec![police.public_jwk().unwrap().with_thumbprint_kid().unwrap()],
            },
            vcts: vec![LICENCE.into()],
            status_list_aggregation_endpoint: None,
        }],
        verifier_anchors: Vec::new(),
        verifiers: Vec::new(),
    }
}

#[test]
fn verify_and_authorise() {
    let anchor = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let police = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let token = list(&police).sign(&anchor).unwrap();
    let verified = TrustList::verify(&token, &anchor.public_jwk().unwrap(), NOW, 50).unwrap();
    assert_eq!(verified.freshness(NOW, 50), Ok(TrustListFreshness::Current));
    let kid = police.public_jwk().unwrap().thumbprint().unwrap();
    let key = verified
        .authorise("https://police.example", &kid, LICENCE)
        .unwrap();
    assert_eq!(key.x, police.public_jwk().unwrap().x);
    assert!(matches!(
        verified.authorise("https://other.example", &kid, LICENCE),
        Err(TrustListError::UnknownIssuer { .. })
    ));
    assert!(matches!(
        verified.authorise("https://police.example", "nope", LICENCE),
        Err(TrustListError::UnknownKey { .. })
    ));
    assert!(matches!(
        verified.authorise(
            "https://police.example",
            &kid,
            "https://giayto.gov.vn/vct/judicial_record"
        ),
        Err(TrustListError::NotAuthorisedForType { .. })
    ));
}

#[test]
fn expiry_and_grace() {
    let anchor = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let police = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let token = list(&police).sign(&anchor).unwrap();
    let anchor_key = anchor.public_jwk().unwrap();
    let late = TrustList::verify(&token, &anchor_key, NOW + 120, 50).unwrap();
    assert_eq!(
        late.freshness(NOW + 120, 50),
        Ok(TrustListFreshness::ExpiredWithinGrace {
            expired_at: NOW + 100
        })
    );
    assert_eq!(
        TrustList::verify(&token, &anchor_key, NOW + 151, 50).unwrap_err(),
        TrustListError::Expired {
            expired_at: NOW + 100
        }
    );
}

#[test]
fn only_the_pinned_anchor_signs() {
    let anchor = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let rogue = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let police = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let token = list(&police).sign(&rogue).unwrap();
    assert_eq!(
        TrustList::verify(&token, &anchor.public_jwk().unwrap(), NOW, 0).unwrap_err(),
        TrustListError::Jose(JoseError::BadSignature)
    );
    // Tampered payload.
    let good = list(&police).sign(&anchor).unwrap();
    let parts: Vec<&str> = good.split('.').collect();
    let mut other = list(&police);
    other.issuers[0]
        .vcts
        .push("https://giayto.gov.vn/vct/judicial_record".into());
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        giayto_core::jose::b64::encode(serde_json::to_vec(&other).unwrap()),
        parts[2]
    );
    assert_eq!(
        TrustList::verify(&forged, &anchor.public_jwk().unwrap(), NOW, 0).unwrap_err(),
        TrustListError::Jose(JoseError::BadSignature)
    );
    // A JWT of another type signed by the anchor is not a trust list.
    let other_typ = giayto_core::jose::jws::sign_compact(
        giayto_core::jose::jws::header_with_typ("JWT"),
        &serde_json::to_vec(&list(&police)).unwrap(),
        &anchor,
    )
    .unwrap();
    assert!(matches!(
        TrustList::verify(&other_typ, &anchor.public_jwk().unwrap(), NOW, 0),
        Err(TrustListError::WrongType(_))
    ));
}

/// A list signed before registered verifiers existed (no `verifier_anchors`, no
/// `verifiers`) still verifies, and names no verifier.
#[test]
fn a_list_without_verifiers_still_verifies() {
    let anchor = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let police = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let token = list(&police).sign(&anchor).unwrap();
    let payload = token.split('.').nth(1).unwrap();
    let json = String::from_utf8(giayto_core::jose::b64::decode(payload).unwrap()).unwrap();
    assert!(!json.contains("verifier"), "{json}");
    let verified = TrustList::verify(&token, &anchor.public_jwk().unwrap(), NOW, 50).unwrap();
    assert!(verified.list().verifiers.is_empty());
    assert!(verified.verifier_anchors_der().is_empty());
    assert!(verified.verifier("x509_hash:abc").is_none());
}

#[test]
fn registered_verifiers_round_trip_and_bad_anchors_are_refused() {
    let anchor = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let police = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let mut with_verifiers = list(&police);
    with_verifiers.verifier_anchors = vec![giayto_core::jose::b64::encode_standard(b"\x30\x03DER")];
    with_verifiers.verifiers = vec![RegisteredVerifier {
        client_id: "x509_hash:abc".into(),
        name: IssuerName {
            vi: "Bệnh viện Bạch Mai".into(),
            en: "Bach Mai Hospital".into(),
        },
        may_request: vec![RegisteredRequest {
            vct: LICENCE.into(),
            claims: vec![vec!["family_name".into()]],
        }],
    }];
    let token = with_verifiers.sign(&anchor).unwrap();
    let verified = TrustList::verify(&token, &anchor.public_jwk().unwrap(), NOW, 50).unwrap();
    assert_eq!(
        verified.verifier_anchors_der(),
        vec![b"\x30\x03DER".to_vec()]
    );
    let hospital = verified.verifier("x509_hash:abc").unwrap();
    assert_eq!(hospital.name.en, "Bach Mai Hospital");
    assert_eq!(
        hospital.may_request[0].claims,
        vec![vec![serde_json::json!("family_name")]]
    );

    let mut twice = with_verifiers.clone();
    twice.verifiers.push(twice.verifiers[0].clone());
    assert!(matches!(
        twice.sign(&anchor),
        Err(TrustListError::Malformed(_))
    ));
    let mut not_base64 = with_verifiers;
    not_base64.verifier_anchors = vec!["not base64!".into()];
    assert!(matches!(
        not_base64.sign(&anchor),
        Err(TrustListError::Malformed(_))
    ));
}
