//! Trust list cases beyond the basics: tampering, forged headers, grace boundaries, each
//! authorisation failure, malformed lists and a pinned payload format.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use giayto_core::jose::jws;
use giayto_core::jose::{Algorithm, JoseError, Jwk, Jwks, Signer, SoftwareSigner, b64};
use giayto_core::trust_list::{
    IssuerName, TrustList, TrustListError, TrustListFreshness, TrustedIssuer,
};
use serde_json::{Value, json};

const T0: i64 = 1_750_000_000;
const EXP: i64 = T0 + 30 * 86_400;
const POLICE: &str = "https://cccd.bocongan.gov.vn";
const JUSTICE: &str = "https://lltp.moj.gov.vn";
const VCT_ID: &str = "https://giayto.gov.vn/vct/cccd";
const VCT_LICENCE: &str = "https://giayto.gov.vn/vct/gplx";
const VCT_RECORD: &str = "https://giayto.gov.vn/vct/lltp";

struct Fixture {
    anchor: SoftwareSigner,
    police_keys: [SoftwareSigner; 2],
    justice_key: SoftwareSigner,
    list: TrustList,
}

fn fixture() -> Fixture {
    let anchor = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let police_keys = [
        SoftwareSigner::generate(Algorithm::Es256).unwrap(),
        SoftwareSigner::generate(Algorithm::EdDsa).unwrap(),
    ];
    let justice_key = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let public = |s: &SoftwareSigner| s.public_jwk().unwrap().with_kid(s.key_id().unwrap());
    let list = TrustList {
        iss: "https://trust.giayto.gov.vn".into(),
        iat: T0,
        exp: EXP,
        issuers: vec![
            TrustedIssuer {
                id: POLICE.into(),
                name: IssuerName {
                    vi: "Bộ Công an".into(),
                    en: "Ministry of Public Security".into(),
                },
                jwks: Jwks {
                    keys: police_keys.iter().map(public).collect(),
                },
                vcts: vec![VCT_ID.into(), VCT_LICENCE.into()],
                status_list_aggregation_endpoint: None,
            },
            TrustedIssuer {
                id: JUSTICE.into(),
                name: IssuerName {
                    vi: "Bộ Tư pháp".into(),
                    en: "Ministry of Justice".into(),
                },
                jwks: Jwks {
                    keys: vec![public(&justice_key)],
                },
                vcts: vec![VCT_RECORD.into()],
                status_list_aggregation_endpoint: None,
            },
        ],
        verifier_anchors: Vec::new(),
        verifiers: Vec::new(),
    };
    Fixture {
        anchor,
        police_keys,
        justice_key,
        list,
    }
}

fn anchor_key(f: &Fixture) -> Jwk {
    f.anchor.public_jwk().unwrap()
}

#[test]
fn good_list_verifies_and_authorises() {
    let f = fixture();
    let token = f.list.sign(&f.anchor).unwrap();
    let header = jws::CompactJws::parse(&token).unwrap();
    assert_eq!(header.header().typ.as_deref(), Some("trustlist+jwt"));

    let verified = TrustList::verify(&token, &anchor_key(&f), T0 + 1, 0).unwrap();
    assert_eq!(
        verified.freshness(T0 + 1, 0),
        Ok(TrustListFreshness::Current)
    );
    assert_eq!(verified.list(), &f.list);
    assert_eq!(verified.token(), token);
    assert_eq!(verified.issuer(POLICE).unwrap().name.vi, "Bộ Công an");
    assert_eq!(
        verified.issuer(JUSTICE).unwrap().name.en,
        "Ministry of Justice"
    );
    assert!(verified.issuer("https://evil.example").is_none());

    for signer in &f.police_keys {
        let kid = signer.key_id().unwrap();
        for vct in [VCT_ID, VCT_LICENCE] {
            let key = verified.authorise(POLICE, &kid, vct).unwrap();
            assert_eq!(key.kid(), Some(kid.as_str()));
            // The key returned is the one that verifies the issuer's signatures.
            let signature = signer.sign(b"credential").unwrap();
            key.verify(signer.algorithm(), b"credential", &signature)
                .unwrap();
        }
    }
    let justice_kid = f.justice_key.key_id().unwrap();
    let justice = verified
        .authorise(JUSTICE, &justice_kid, VCT_RECORD)
        .unwrap();
    assert_eq!(
        justice,
        &f.justice_key
            .public_jwk()
            .unwrap()
            .with_kid(f.justice_key.key_id().unwrap())
    );
}

#[test]
fn tampered_list_is_refused() {
    let f = fixture();
    let token = f.list.sign(&f.anchor).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload: Value = serde_json::from_slice(&b64::decode(parts[1]).unwrap()).unwrap();
    payload["issuers"][1]["vcts"] = json!([VCT_RECORD, VCT_ID]);
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64::encode(serde_json::to_vec(&payload).unwrap()),
        parts[2]
    );
    assert_eq!(
        TrustList::verify(&tampered, &anchor_key(&f), T0, 0),
        Err(TrustListError::Jose(JoseError::BadSignature))
    );
}

#[test]
fn list_signed_by_another_key_is_refused_even_if_it_names_itself() {
    let f = fixture();
    let forger = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let token = f.list.sign(&forger).unwrap();
    assert_eq!(
        TrustList::verify(&token, &anchor_key(&f), T0, 0),
        Err(TrustListError::Jose(JoseError::BadSignature))
    );
    // A header carrying the forger's own key (or the anchor's kid) changes nothing: only the
    // pinned key is used.
    let mut header = jws::header_with_typ("trustlist+jwt");
    header.insert(
        "jwk".into(),
        serde_json::to_value(forger.public_jwk().unwrap()).unwrap(),
    );
    let with_jwk =
        jws::sign_compact(header, &serde_json::to_vec(&f.list).unwrap(), &forger).unwrap();
    assert_eq!(
        TrustList::verify(&with_jwk, &anchor_key(&f), T0, 0),
        Err(TrustListError::Jose(JoseError::BadSignature))
    );
    let mut header = jws::header_with_typ("trustlist+jwt");
    header.insert("kid".into(), json!(f.anchor.key_id().unwrap()));
    let with_kid =
        jws::sign_compact(header, &serde_json::to_vec(&f.list).unwrap(), &forger).unwrap();
    assert_eq!(
        TrustList::verify(&with_kid, &anchor_key(&f), T0, 0),
        Err(TrustListError::Jose(JoseError::BadSignature))
    );
    // An EdDSA-signed list against the ES256 anchor is a key/algorithm mismatch.
    let ed = SoftwareSigner::generate(Algorithm::EdDsa).unwrap();
    assert!(matches!(
        TrustList::verify(&f.list.sign(&ed).unwrap(), &anchor_key(&f), T0, 0),
        Err(TrustListError::Jose(JoseError::KeyAlgorithmMismatch(_)))
    ));
}

#[test]
fn expiry_is_a_distinct_state_with_a_grace_period() {
    let f = fixture();
    let token = f.list.sign(&f.anchor).unwrap();
    let anchor = anchor_key(&f);
    let grace = 7 * 86_400;
    let current = TrustList::verify(&token, &anchor, EXP - 1, grace).unwrap();
    assert_eq!(
        current.freshness(EXP - 1, grace),
        Ok(TrustListFreshness::Current)
    );
    // RFC 7519: expired from `exp` on.
    let within = TrustList::verify(&token, &anchor, EXP, grace).unwrap();
    assert_eq!(
        within.freshness(EXP, grace),
        Ok(TrustListFreshness::ExpiredWithinGrace { expired_at: EXP })
    );
    // Still usable for authorisation; the caller shows the state.
    let kid = f.justice_key.key_id().unwrap();
    assert!(within.authorise(JUSTICE, &kid, VCT_RECORD).is_ok());
    let last = EXP + 7 * 86_400 - 1;
    assert_eq!(
        TrustList::verify(&token, &anchor, last, grace)
            .unwrap()
            .freshness(last, grace),
        Ok(TrustListFreshness::ExpiredWithinGrace { expired_at: EXP })
    );
    assert_eq!(
        current.freshness(EXP + 7 * 86_400, grace),
        Err(TrustListError::Expired { expired_at: EXP })
    );
    assert_eq!(
        TrustList::verify(&token, &anchor, EXP + 7 * 86_400, grace),
        Err(TrustListError::Expired { expired_at: EXP })
    );
    // Without grace, expiry is immediate.
    assert_eq!(
        TrustList::verify(&token, &anchor, EXP, 0),
        Err(TrustListError::Expired { expired_at: EXP })
    );
}

#[test]
fn unknown_issuer_is_refused() {
    let f = fixture();
    let verified =
        TrustList::verify(&f.list.sign(&f.anchor).unwrap(), &anchor_key(&f), T0, 0).unwrap();
    assert_eq!(
        verified.authorise("https://cccd.bocongan.gov.vn.evil.example", "k", VCT_ID),
        Err(TrustListError::UnknownIssuer {
            iss: "https://cccd.bocongan.gov.vn.evil.example".into()
        })
    );
}

#[test]
fn key_not_in_the_issuers_jwks_is_refused() {
    let f = fixture();
    let verified =
        TrustList::verify(&f.list.sign(&f.anchor).unwrap(), &anchor_key(&f), T0, 0).unwrap();
    // The justice ministry's key is trusted, but not as a police key.
    let justice_kid = f.justice_key.key_id().unwrap();
    assert_eq!(
        verified.authorise(POLICE, &justice_kid, VCT_ID),
        Err(TrustListError::UnknownKey {
            iss: POLICE.into(),
            kid: justice_kid
        })
    );
}

#[test]
fn issuer_not_authorised_for_the_type_is_refused() {
    let f = fixture();
    let verified =
        TrustList::verify(&f.list.sign(&f.anchor).unwrap(), &anchor_key(&f), T0, 0).unwrap();
    let kid = f.justice_key.key_id().unwrap();
    // The justice ministry signing an ID card with its genuine key.
    assert_eq!(
        verified.authorise(JUSTICE, &kid, VCT_ID),
        Err(TrustListError::NotAuthorisedForType {
            iss: JUSTICE.into(),
            vct: VCT_ID.into()
        })
    );
}

#[test]
fn wrong_typ_and_malformed_lists_are_refused() {
    let f = fixture();
    let payload = serde_json::to_vec(&f.list).unwrap();
    let jwt = jws::sign_compact(jws::header_with_typ("JWT"), &payload, &f.anchor).unwrap();
    assert_eq!(
        TrustList::verify(&jwt, &anchor_key(&f), T0, 0),
        Err(TrustListError::WrongType(Some("JWT".into())))
    );
    let sign = |payload: Value| {
        jws::sign_compact(
            jws::header_with_typ("trustlist+jwt"),
            &serde_json::to_vec(&payload).unwrap(),
            &f.anchor,
        )
        .unwrap()
    };
    let mut no_exp = serde_json::to_value(&f.list).unwrap();
    no_exp.as_object_mut().unwrap().remove("exp");
    assert!(matches!(
        TrustList::verify(&sign(no_exp), &anchor_key(&f), T0, 0),
        Err(TrustListError::Malformed(_))
    ));
    let mut duplicate = serde_json::to_value(&f.list).unwrap();
    let first = duplicate["issuers"][0].clone();
    duplicate["issuers"].as_array_mut().unwrap().push(first);
    assert!(matches!(
        TrustList::verify(&sign(duplicate), &anchor_key(&f), T0, 0),
        Err(TrustListError::Malformed(m)) if m.contains("twice")
    ));
}

#[test]
fn private_keys_never_enter_a_list() {
    let mut f = fixture();
    f.list.issuers[1].jwks.keys = vec![Jwk::generate(Algorithm::Es256).unwrap()];
    assert!(matches!(
        f.list.sign(&f.anchor),
        Err(TrustListError::Malformed(m)) if m.contains("private")
    ));
}

#[test]
fn payload_wire_format_is_pinned() {
    // The P-256 public key of RFC 7515 appendix A.3.
    let key: Jwk = serde_json::from_value(json!({
        "kty": "EC", "crv": "P-256", "kid": "k1",
        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
    }))
    .unwrap();
    let list = TrustList {
        iss: "https://trust.giayto.gov.vn".into(),
        iat: 1_750_000_000,
        exp: 1_752_592_000,
        issuers: vec![TrustedIssuer {
            id: "https://lltp.moj.gov.vn".into(),
            name: IssuerName {
                vi: "Bộ Tư pháp".into(),
                en: "Ministry of Justice".into(),
            },
            jwks: Jwks { keys: vec![key] },
            vcts: vec!["https://giayto.gov.vn/vct/lltp".into()],
            status_list_aggregation_endpoint: None,
        }],
        verifier_anchors: Vec::new(),
        verifiers: Vec::new(),
    };
    let expected = r#"{"iss":"https://trust.giayto.gov.vn","iat":1750000000,"exp":1752592000,"issuers":[{"id":"https://lltp.moj.gov.vn","name":{"vi":"Bộ Tư pháp","en":"Ministry of Justice"},"jwks":{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"k1"}]},"vcts":["https://giayto.gov.vn/vct/lltp"]}]}"#;
    assert_eq!(serde_json::to_string(&list).unwrap(), expected);
    assert_eq!(serde_json::from_str::<TrustList>(expected).unwrap(), list);
}
