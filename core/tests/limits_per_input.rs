//! One size limit per input kind, whatever path it came by, and the same `typ` and date
//! rules for every token: a national Status List (1 bit, 2^23 entries, random so zlib cannot
//! shrink it) loads through the core, the verifier device (the bindings' path) and the
//! trust-aware loader alike, and one byte over the limit is refused as too large on each.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use giayto_core::jose::jws::{self, header_with_typ};
use giayto_core::jose::{Algorithm, JoseError, Jwks, Signer, SoftwareSigner};
use giayto_core::limits::{MAX_STATUS_LIST_TOKEN_BYTES, MAX_TRUST_LIST_TOKEN_BYTES};
use giayto_core::oid4vci::{ProofClaims, ProofError, verify_proof_jwt};
use giayto_core::status_list::{StatusList, StatusListError, sign_token, verify_token};
use giayto_core::trust_list::{IssuerName, TrustList, TrustListError, TrustedIssuer};
use giayto_core::verifier::{
    DeviceError, IssuerTrust, StatusListSourceError, VerifierDevice, verify_status_list_for,
};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::json;

const NOW: i64 = 1_795_000_000;
const URI: &str = "https://issuer.example/status/national";

fn trust_list(issuer: &SoftwareSigner) -> TrustList {
    TrustList {
        iss: "https://trust.example".into(),
        iat: NOW - 60,
        exp: NOW + 86_400,
        issuers: vec![TrustedIssuer {
            id: "https://issuer.example".into(),
            name: IssuerName {
                vi: "Cơ quan".into(),
                en: "Agency".into(),
            },
            jwks: Jwks {
                keys: vec![issuer.public_jwk().unwrap().with_thumbprint_kid().unwrap()],
            },
            vcts: vec![],
            status_list_aggregation_endpoint: None,
        }],
        verifier_anchors: Vec::new(),
        verifiers: Vec::new(),
    }
}

fn is_too_large(error: &StatusListError) -> bool {
    matches!(error, StatusListError::Jose(JoseError::TooLarge { .. }))
}

#[test]
fn a_national_status_list_loads_on_every_path_and_one_byte_more_is_too_large() {
    let issuer = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let anchor = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let mut bits = vec![0u8; (1 << 23) / 8];
    SystemRandom::new().fill(&mut bits).unwrap();
    let list = StatusList::from_bytes(1, bits).unwrap();
    let token = sign_token(URI, &list, NOW - 5, Some(NOW + 86_400), None, &issuer).unwrap();
    // The figure written down in `limits::MAX_STATUS_LIST_TOKEN_BYTES` (about 1.86 MB).
    eprintln!(
        "random 1-bit 2^23-entry status list token: {} bytes",
        token.len()
    );
    assert!(
        token.len() > 1_800_000 && token.len() < 1_900_000,
        "{}",
        token.len()
    );
    assert!(token.len() < MAX_STATUS_LIST_TOKEN_BYTES / 2);

    let keys = Jwks {
        keys: vec![issuer.public_jwk().unwrap()],
    };
    let verified = verify_token(&token, URI, &keys, NOW).unwrap();
    assert_eq!(verified.list.len(), 1 << 23);
    let signed_list = trust_list(&issuer).sign(&anchor).unwrap();
    let trust = IssuerTrust::TrustList(
        TrustList::verify(&signed_list, &anchor.public_jwk().unwrap(), NOW, 0).unwrap(),
    );
    verify_status_list_for(&trust, URI, &token, NOW).unwrap();
    // The device (what the bindings call with bytes from the app) read the `kid` with the
    // generic 1 MiB JWS limit and refused this list.
    let mut device = VerifierDevice::new(
        Jwks {
            keys: vec![anchor.public_jwk().unwrap()],
        },
        "officer-1",
    )
    .unwrap();
    device.load_trust_list(&signed_list, NOW).unwrap();
    device.load_status_list(URI, &token, NOW).unwrap();

    // Over the limit: "too large" on each path, never a confusing later check.
    let over = format!(
        "{token}{}",
        "A".repeat(MAX_STATUS_LIST_TOKEN_BYTES - token.len() + 1)
    );
    assert!(is_too_large(
        &verify_token(&over, URI, &keys, NOW).unwrap_err()
    ));
    match verify_status_list_for(&trust, URI, &over, NOW) {
        Err(StatusListSourceError::StatusList(e)) => assert!(is_too_large(&e), "{e}"),
        other => panic!("{other:?}"),
    }
    match device.load_status_list(URI, &over, NOW) {
        Err(DeviceError::StatusList(e)) => assert!(is_too_large(&e), "{e}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn trust_lists_have_one_limit_one_typ_rule_and_numeric_dates() {
    let anchor = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let issuer = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let list = trust_list(&issuer);
    let mut payload = serde_json::to_value(&list).unwrap();
    // NumericDates may be fractional (RFC 7519 section 2).
    payload["iat"] = json!(NOW as f64 - 59.5);
    for typ in [
        "trustlist+jwt",
        "TrustList+JWT",
        "application/trustlist+jwt",
    ] {
        let token = jws::sign_compact(
            header_with_typ(typ),
            payload.to_string().as_bytes(),
            &anchor,
        )
        .unwrap();
        let verified = TrustList::verify(&token, &anchor.public_jwk().unwrap(), NOW, 0)
            .unwrap_or_else(|e| panic!("{typ}: {e}"));
        assert_eq!(verified.list().iat, NOW - 60);
    }
    payload["exp"] = json!("tomorrow");
    let token = jws::sign_compact(
        header_with_typ("trustlist+jwt"),
        payload.to_string().as_bytes(),
        &anchor,
    )
    .unwrap();
    let error = TrustList::verify(&token, &anchor.public_jwk().unwrap(), NOW, 0).unwrap_err();
    assert!(error.to_string().contains("NumericDate"), "{error}");
    let huge = "a".repeat(MAX_TRUST_LIST_TOKEN_BYTES + 1);
    assert!(matches!(
        TrustList::verify(&huge, &anchor.public_jwk().unwrap(), NOW, 0),
        Err(TrustListError::Jose(JoseError::TooLarge { .. }))
    ));
}

#[test]
fn key_proofs_follow_the_same_typ_rule() {
    let holder = SoftwareSigner::generate(Algorithm::EdDsa).unwrap();
    let claims = ProofClaims {
        iss: None,
        aud: "https://issuer.example".into(),
        iat: 1_000,
        nonce: Some("n".into()),
    };
    let jwk = holder.public_jwk().unwrap().to_public();
    for typ in ["application/openid4vci-proof+jwt", "OpenID4VCI-Proof+JWT"] {
        let mut header = header_with_typ(typ);
        header.insert("jwk".into(), serde_json::to_value(&jwk).unwrap());
        let proof =
            jws::sign_compact(header, &serde_json::to_vec(&claims).unwrap(), &holder).unwrap();
        verify_proof_jwt(&proof, "https://issuer.example", |n| n == "n", 1_000, 60)
            .unwrap_or_else(|e| panic!("{typ}: {e}"));
    }
    let mut header = header_with_typ("jwt");
    header.insert("jwk".into(), serde_json::to_value(&jwk).unwrap());
    let proof = jws::sign_compact(header, &serde_json::to_vec(&claims).unwrap(), &holder).unwrap();
    assert_eq!(
        verify_proof_jwt(&proof, "https://issuer.example", |n| n == "n", 1_000, 60),
        Err(ProofError::WrongType)
    );
}
