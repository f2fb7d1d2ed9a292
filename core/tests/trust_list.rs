//! The trust list: signed by the pinned anchor, expiry with grace, and authorisation of
//! each issuer key for each document type.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use giayto_core::jose::{Algorithm, JoseError, Jwks, Signer, SoftwareSigner};
use giayto_core::trust_list::{
    IssuerName, TrustList, TrustListError, TrustListFreshness, TrustedIssuer,
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
