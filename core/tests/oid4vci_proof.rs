//! The `jwt` key proof: built by the wallet, verified by the issuer with the same code,
//! and the spec's own example proof verified.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use giayto_core::jose::jws::{self, CompactJws};
use giayto_core::jose::{Algorithm, Jwk, Signer, SoftwareSigner, b64};
use giayto_core::oid4vci::{
    IssuerErrorCode, PROOF_JWT_TYP, ProofClaims, ProofError, build_proof_jwt, verify_proof_jwt,
};

const AUD: &str = "https://issuer.example.vn";
const NOW: u64 = 1_760_000_000;
const MAX_AGE: u64 = 300;

fn claims(iat: u64, nonce: Option<&str>) -> ProofClaims {
    ProofClaims {
        iss: None,
        aud: AUD.into(),
        iat,
        nonce: nonce.map(str::to_owned),
    }
}

fn nonce_is(expected: &'static str) -> impl Fn(&str) -> bool {
    move |n| n == expected
}

#[test]
fn built_proof_verifies_and_yields_the_holder_key() {
    for alg in [Algorithm::Es256, Algorithm::EdDsa] {
        let signer = SoftwareSigner::generate(alg).unwrap();
        let proof = build_proof_jwt(&signer, &claims(NOW, Some("n-1"))).unwrap();
        let key = verify_proof_jwt(&proof, AUD, nonce_is("n-1"), NOW, MAX_AGE).unwrap();
        assert_eq!(key, signer.public_jwk().unwrap().to_public());
        assert!(!key.is_private());

        let header = CompactJws::parse(&proof).unwrap().header().clone();
        assert_eq!(header.typ.as_deref(), Some(PROOF_JWT_TYP));
        assert_eq!(header.alg, alg);
        assert_eq!(header.kid, None, "kid must not sit next to jwk");
        assert!(header.jwk.is_some());
    }
}

/// RFC 8037 Appendix A.1 key: Ed25519 is deterministic, so the whole proof is pinned.
fn rfc8037_signer() -> SoftwareSigner {
    let jwk: Jwk = serde_json::from_str(
        r#"{"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
    )
    .unwrap();
    SoftwareSigner::from_jwk(&jwk).unwrap()
}

#[test]
fn proof_bytes_are_pinned() {
    let proof = build_proof_jwt(
        &rfc8037_signer(),
        &claims(NOW, Some("wKI4LT17ac15ES9bw8ac4")),
    )
    .unwrap();
    let mut parts = proof.split('.');
    let header = b64::decode(parts.next().unwrap()).unwrap();
    let payload = b64::decode(parts.next().unwrap()).unwrap();
    assert_eq!(
        String::from_utf8(header).unwrap(),
        r#"{"alg":"EdDSA","typ":"openid4vci-proof+jwt","jwk":{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}}"#
    );
    assert_eq!(
        String::from_utf8(payload).unwrap(),
        r#"{"aud":"https://issuer.example.vn","iat":1760000000,"nonce":"wKI4LT17ac15ES9bw8ac4"}"#
    );
    // Deterministic signature: the same input gives the same token.
    assert_eq!(
        proof,
        build_proof_jwt(
            &rfc8037_signer(),
            &claims(NOW, Some("wKI4LT17ac15ES9bw8ac4"))
        )
        .unwrap()
    );
}

/// OpenID4VCI Appendix F.1 example proof, joined from its display lines.
const SPEC_PROOF: &str = concat!(
    "eyJ0eXAiOiJvcGVuaWQ0dmNpLXByb29mK2p3dCIsImFsZyI6IkVTMjU2Iiwiand",
    "rIjp7Imt0eSI6IkVDIiwiY3J2IjoiUC0yNTYiLCJ4IjoiblVXQW9BdjNYWml0aDh",
    "FN2kxOU9kYXhPTFlGT3dNLVoyRXVNMDJUaXJUNCIsInkiOiJIc2tIVThCalVpMVU",
    "5WHFpN1N3bWo4Z3dBS18weGtjRGpFV183MVNvc0VZIn19.eyJhdWQiOiJodHRwcz",
    "ovL2NyZWRlbnRpYWwtaXNzdWVyLmV4YW1wbGUuY29tIiwiaWF0IjoxNzAxOTYwND",
    "Q0LCJub25jZSI6IkxhclJHU2JtVVBZdFJZTzZCUTR5bjgifQ.-a3EDsxClUB4O3L",
    "eDD5DVGEnNMT01FCQW4P6-2-BNBqc_Zxf0Qw4CWayLEpqkAomlkLb9zioZoipdP-",
    "jvh1WlA"
);

#[test]
fn spec_example_proof() {
    let key = verify_proof_jwt(
        SPEC_PROOF,
        "https://credential-issuer.example.com",
        nonce_is("LarRGSbmUPYtRYO6BQ4yn8"),
        1_701_960_444,
        MAX_AGE,
    )
    .unwrap();
    assert_eq!(
        key.x.as_deref(),
        Some("nUWAoAv3XZith8E7i19OdaxOLYFOwM-Z2EuM02TirT4")
    );
}

#[test]
fn proof_for_another_audience_is_refused() {
    let signer = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let mut other = claims(NOW, Some("n"));
    other.aud = "https://evil.example".into();
    let proof = build_proof_jwt(&signer, &other).unwrap();
    let err = verify_proof_jwt(&proof, AUD, nonce_is("n"), NOW, MAX_AGE).unwrap_err();
    assert_eq!(err, ProofError::WrongAudience);
    assert_eq!(err.error_code(), IssuerErrorCode::InvalidProof);
}

#[test]
fn stale_and_future_proofs_are_refused() {
    let signer = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let stale = build_proof_jwt(&signer, &claims(NOW - MAX_AGE - 1, Some("n"))).unwrap();
    assert_eq!(
        verify_proof_jwt(&stale, AUD, nonce_is("n"), NOW, MAX_AGE),
        Err(ProofError::Stale)
    );
    let edge = build_proof_jwt(&signer, &claims(NOW - MAX_AGE, Some("n"))).unwrap();
    assert!(verify_proof_jwt(&edge, AUD, nonce_is("n"), NOW, MAX_AGE).is_ok());
    let future = build_proof_jwt(&signer, &claims(NOW + 3600, Some("n"))).unwrap();
    assert_eq!(
        verify_proof_jwt(&future, AUD, nonce_is("n"), NOW, MAX_AGE),
        Err(ProofError::IssuedInFuture)
    );
}

#[test]
fn nonce_checks_map_to_the_spec_codes() {
    let signer = SoftwareSigner::generate(Algorithm::EdDsa).unwrap();
    let wrong = build_proof_jwt(&signer, &claims(NOW, Some("old"))).unwrap();
    let err = verify_proof_jwt(&wrong, AUD, nonce_is("new"), NOW, MAX_AGE).unwrap_err();
    assert_eq!(err, ProofError::InvalidNonce);
    assert_eq!(err.error_code(), IssuerErrorCode::InvalidNonce);
    let missing = build_proof_jwt(&signer, &claims(NOW, None)).unwrap();
    let err = verify_proof_jwt(&missing, AUD, |_| true, NOW, MAX_AGE).unwrap_err();
    assert_eq!(err, ProofError::MissingNonce);
    assert_eq!(err.error_code(), IssuerErrorCode::InvalidProof);
}

fn payload(claims: &ProofClaims) -> Vec<u8> {
    serde_json::to_vec(claims).unwrap()
}

#[test]
fn proof_signed_by_another_key_than_its_jwk_is_refused() {
    let signer = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let victim = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let mut header = jws::header_with_typ(PROOF_JWT_TYP);
    header.insert(
        "jwk".into(),
        serde_json::to_value(victim.public_jwk().unwrap()).unwrap(),
    );
    let proof = jws::sign_compact(header, &payload(&claims(NOW, Some("n"))), &signer).unwrap();
    assert_eq!(
        verify_proof_jwt(&proof, AUD, nonce_is("n"), NOW, MAX_AGE),
        Err(ProofError::BadSignature)
    );
}

#[test]
fn header_rules() {
    let signer = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let body = payload(&claims(NOW, Some("n")));
    let jwk = serde_json::to_value(signer.public_jwk().unwrap()).unwrap();

    let mut plain_jwt = jws::header_with_typ("JWT");
    plain_jwt.insert("jwk".into(), jwk.clone());
    let proof = jws::sign_compact(plain_jwt, &body, &signer).unwrap();
    assert_eq!(
        verify_proof_jwt(&proof, AUD, nonce_is("n"), NOW, MAX_AGE),
        Err(ProofError::WrongType)
    );

    let no_key = jws::sign_compact(
        jws::header_with_typ(PROOF_JWT_TYP),
        &body,
        &SoftwareSigner::generate(Algorithm::Es256)
            .unwrap()
            .with_key_id(None),
    )
    .unwrap();
    assert_eq!(
        verify_proof_jwt(&no_key, AUD, nonce_is("n"), NOW, MAX_AGE),
        Err(ProofError::MissingKey)
    );

    let mut both = jws::header_with_typ(PROOF_JWT_TYP);
    both.insert("jwk".into(), jwk);
    both.insert("kid".into(), "did:example:123#0".into());
    let proof = jws::sign_compact(both, &body, &signer).unwrap();
    assert_eq!(
        verify_proof_jwt(&proof, AUD, nonce_is("n"), NOW, MAX_AGE),
        Err(ProofError::AmbiguousKey)
    );

    let none = format!(
        "{}.{}.",
        b64::encode(br#"{"alg":"none","typ":"openid4vci-proof+jwt"}"#),
        b64::encode(&body)
    );
    assert!(matches!(
        verify_proof_jwt(&none, AUD, nonce_is("n"), NOW, MAX_AGE),
        Err(ProofError::Malformed(_))
    ));
    assert!(matches!(
        verify_proof_jwt(&"a".repeat(20_000), AUD, nonce_is("n"), NOW, MAX_AGE),
        Err(ProofError::Malformed(_))
    ));
}
