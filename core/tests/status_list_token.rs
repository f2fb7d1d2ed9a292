//! `statuslist+jwt` tokens: the draft's example payload, signing, and each verification failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use giayto_core::jose::jws::{self, CompactJws};
use giayto_core::jose::{
    Algorithm, JoseError, Jwks, NumericDateError, Signer, SoftwareSigner, b64,
};
use giayto_core::status_list::{
    Status, StatusList, StatusListError, StatusListToken, build_claims, sign_token, verify_token,
};
use serde_json::{Value, json};

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/status-list/");
const URI: &str = "https://example.com/statuslists/1";
const IAT: i64 = 1_686_920_170;
const EXP: i64 = 2_291_720_170;

fn vector(name: &str) -> String {
    std::fs::read_to_string(format!("{VECTORS}{name}")).unwrap()
}

/// The 1-bit list of the draft's examples: bytes `b9 a3`.
fn draft_list() -> StatusList {
    StatusList::from_bytes(1, vec![0xb9, 0xa3]).unwrap()
}

fn signer(alg: Algorithm) -> SoftwareSigner {
    SoftwareSigner::generate(alg).unwrap()
}

fn keys(signer: &dyn Signer) -> Jwks {
    Jwks {
        keys: vec![signer.public_jwk().unwrap()],
    }
}

fn sign_raw(
    header: serde_json::Map<String, Value>,
    payload: &Value,
    signer: &dyn Signer,
) -> String {
    jws::sign_compact(header, &serde_json::to_vec(payload).unwrap(), signer).unwrap()
}

fn typ_header() -> serde_json::Map<String, Value> {
    jws::header_with_typ("statuslist+jwt")
}

fn good_payload() -> Value {
    Value::Object(build_claims(URI, &draft_list(), IAT, Some(EXP), Some(43_200)).unwrap())
}

#[test]
fn claims_equal_the_drafts_example_token_payload() {
    // status_list_jwt.md: header, ".", payload.
    let text = vector("status_list_jwt.md");
    let (_, payload) = text.split_once("\n.\n").unwrap();
    let expected: Value = serde_json::from_str(payload).unwrap();
    assert_eq!(good_payload(), expected);
}

#[test]
fn drafts_raw_example_token_parses_to_its_statuses() {
    let raw: String = vector("status_list_jwt_raw.md")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let jws = CompactJws::parse(&raw).unwrap();
    assert_eq!(jws.header().typ.as_deref(), Some("statuslist+jwt"));
    assert_eq!(jws.header().kid.as_deref(), Some("12"));
    let claims: StatusListToken = jws.payload_json().unwrap();
    assert_eq!(claims.sub, URI);
    assert_eq!(
        (claims.iat, claims.exp, claims.ttl),
        (IAT, Some(EXP), Some(43_200))
    );
    assert_eq!(claims.iss.as_deref(), Some("https://example.com"));
    let list = StatusList::decode(claims.status_list.bits.into(), &claims.status_list.lst).unwrap();
    let expected = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1];
    for (idx, value) in expected.into_iter().enumerate() {
        assert_eq!(list.get(idx as u64), Some(value), "status[{idx}]");
    }
    // The draft publishes no key for it: a key of ours with kid "12" does not verify it.
    let other = signer(Algorithm::Es256)
        .public_jwk()
        .unwrap()
        .with_kid("12");
    assert_eq!(
        verify_token(&raw, URI, &Jwks { keys: vec![other] }, IAT),
        Err(StatusListError::BadSignature)
    );
}

#[test]
fn signed_token_verifies_with_each_algorithm() {
    for alg in [Algorithm::Es256, Algorithm::EdDsa] {
        let signer = signer(alg);
        let token = sign_token(URI, &draft_list(), IAT, Some(EXP), Some(43_200), &signer).unwrap();
        let jws = CompactJws::parse(&token).unwrap();
        assert_eq!(jws.header().typ.as_deref(), Some("statuslist+jwt"));
        let verified = verify_token(&token, URI, &keys(&signer), IAT + 10).unwrap();
        assert_eq!(verified.uri, URI);
        assert_eq!(
            (verified.iat, verified.exp, verified.ttl),
            (IAT, Some(EXP), Some(43_200))
        );
        assert_eq!(verified.list, draft_list());
        assert_eq!(verified.status(0), Some(Status::Invalid));
        assert_eq!(verified.status(1), Some(Status::Valid));
        assert_eq!(verified.status(16), None);
    }
}

#[test]
fn key_is_found_by_kid_or_by_trying_each() {
    let signer = signer(Algorithm::Es256);
    let decoy = self::signer(Algorithm::Es256);
    let both = Jwks {
        keys: vec![decoy.public_jwk().unwrap(), signer.public_jwk().unwrap()],
    };
    let with_kid = sign_token(URI, &draft_list(), IAT, None, None, &signer).unwrap();
    assert!(CompactJws::parse(&with_kid).unwrap().header().kid.is_some());
    assert!(verify_token(&with_kid, URI, &both, IAT).is_ok());

    let no_kid_signer = SoftwareSigner::generate(Algorithm::Es256)
        .unwrap()
        .with_key_id(None);
    let no_kid = sign_token(URI, &draft_list(), IAT, None, None, &no_kid_signer).unwrap();
    assert!(CompactJws::parse(&no_kid).unwrap().header().kid.is_none());
    let mut with_signer = both.clone();
    with_signer.keys.push(no_kid_signer.public_jwk().unwrap());
    assert!(verify_token(&no_kid, URI, &with_signer, IAT).is_ok());
    assert_eq!(
        verify_token(&no_kid, URI, &both, IAT),
        Err(StatusListError::BadSignature)
    );
    assert_eq!(
        verify_token(&no_kid, URI, &Jwks::default(), IAT),
        Err(StatusListError::BadSignature)
    );
}

#[test]
fn token_of_another_key_or_unknown_kid_is_refused() {
    let signer = signer(Algorithm::Es256);
    let token = sign_token(URI, &draft_list(), IAT, None, None, &signer).unwrap();
    let other = self::signer(Algorithm::Es256);
    let kid = signer.key_id().unwrap();
    let impostor = Jwks {
        keys: vec![other.public_jwk().unwrap().with_kid(kid.clone())],
    };
    assert_eq!(
        verify_token(&token, URI, &impostor, IAT),
        Err(StatusListError::BadSignature)
    );
    assert_eq!(
        verify_token(&token, URI, &keys(&other), IAT),
        Err(StatusListError::UnknownKey { kid })
    );
}

#[test]
fn a_key_given_without_its_kid_verifies_the_list_as_it_verifies_the_credential() {
    // `giayto verify --issuer-jwk` with a JWK that carries no `kid`: the issuer-signed JWT
    // falls back to every key, and so must its status list (the tester's finding: the
    // credential verified and its own list was ignored as "signed with unknown key").
    let signer = signer(Algorithm::Es256);
    let token = sign_token(URI, &draft_list(), IAT, None, None, &signer).unwrap();
    let mut bare = signer.public_jwk().unwrap();
    bare.kid = None;
    let verified = verify_token(&token, URI, &Jwks { keys: vec![bare] }, IAT).unwrap();
    assert_eq!(verified.uri, URI);
}

#[test]
fn tampered_payload_is_refused() {
    let signer = signer(Algorithm::Es256);
    let token = sign_token(URI, &draft_list(), IAT, None, None, &signer).unwrap();
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut payload: Value = serde_json::from_slice(&b64::decode(&parts[1]).unwrap()).unwrap();
    payload["status_list"]["lst"] = json!(StatusList::new(1, 16).unwrap().encode_lst().unwrap());
    parts[1] = b64::encode(serde_json::to_vec(&payload).unwrap());
    assert_eq!(
        verify_token(&parts.join("."), URI, &keys(&signer), IAT),
        Err(StatusListError::BadSignature)
    );
}

#[test]
fn typ_must_be_statuslist_jwt() {
    let signer = signer(Algorithm::Es256);
    let keys = keys(&signer);
    for typ in ["JWT", "dc+sd-jwt", "statuslist+cwt"] {
        let token = sign_raw(jws::header_with_typ(typ), &good_payload(), &signer);
        assert_eq!(
            verify_token(&token, URI, &keys, IAT),
            Err(StatusListError::WrongType {
                found: Some(typ.into())
            })
        );
    }
    let untyped = sign_raw(serde_json::Map::new(), &good_payload(), &signer);
    assert_eq!(
        verify_token(&untyped, URI, &keys, IAT),
        Err(StatusListError::WrongType { found: None })
    );
    let media_type = sign_raw(
        jws::header_with_typ("application/statuslist+jwt"),
        &good_payload(),
        &signer,
    );
    assert!(verify_token(&media_type, URI, &keys, IAT).is_ok());
}

#[test]
fn sub_must_equal_the_referenced_uri() {
    let signer = signer(Algorithm::Es256);
    let token = sign_token(URI, &draft_list(), IAT, None, None, &signer).unwrap();
    assert_eq!(
        verify_token(
            &token,
            "https://example.com/statuslists/2",
            &keys(&signer),
            IAT
        ),
        Err(StatusListError::SubjectMismatch {
            expected: "https://example.com/statuslists/2".into(),
            found: URI.into()
        })
    );
}

#[test]
fn expired_token_is_refused_from_exp_on() {
    let signer = signer(Algorithm::Es256);
    let keys = keys(&signer);
    let token = sign_token(URI, &draft_list(), IAT, Some(IAT + 100), None, &signer).unwrap();
    assert!(verify_token(&token, URI, &keys, IAT + 99).is_ok());
    assert_eq!(
        verify_token(&token, URI, &keys, IAT + 100),
        Err(StatusListError::Expired { exp: IAT + 100 })
    );
    // No exp: the token never expires by itself (the cache bounds its freshness).
    let open = sign_token(URI, &draft_list(), IAT, None, None, &signer).unwrap();
    assert!(verify_token(&open, URI, &keys, i64::MAX).is_ok());
}

#[test]
fn each_claim_rule_has_its_error() {
    let signer = signer(Algorithm::Es256);
    let keys = keys(&signer);
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut payload = good_payload();
        f(&mut payload);
        sign_raw(typ_header(), &payload, &signer)
    };
    let cases: Vec<(String, StatusListError)> = vec![
        (
            edit(&|p| drop(p.as_object_mut().unwrap().remove("iat"))),
            StatusListError::MissingClaim("iat"),
        ),
        (
            edit(&|p| p["iat"] = json!("yesterday")),
            StatusListError::InvalidDate {
                claim: "iat",
                reason: NumericDateError::NotANumber,
            },
        ),
        (
            edit(&|p| drop(p.as_object_mut().unwrap().remove("sub"))),
            StatusListError::MissingClaim("sub"),
        ),
        (
            edit(&|p| p["sub"] = json!(1)),
            StatusListError::InvalidClaim("sub"),
        ),
        (
            // RFC 7519 section 2: a NumericDate may be fractional; 1.5 is floored to 1,
            // long past.
            edit(&|p| p["exp"] = json!(1.5)),
            StatusListError::Expired { exp: 1 },
        ),
        (
            edit(&|p| p["exp"] = json!(-1)),
            StatusListError::InvalidDate {
                claim: "exp",
                reason: NumericDateError::Negative,
            },
        ),
        (
            edit(&|p| p["ttl"] = json!(0)),
            StatusListError::InvalidClaim("ttl"),
        ),
        (
            edit(&|p| p["ttl"] = json!(-5)),
            StatusListError::InvalidClaim("ttl"),
        ),
        (
            edit(&|p| p["nbf"] = json!(IAT + 1)),
            StatusListError::NotYetValid { nbf: IAT + 1 },
        ),
        (
            edit(&|p| drop(p.as_object_mut().unwrap().remove("status_list"))),
            StatusListError::MissingClaim("status_list"),
        ),
        (
            edit(&|p| p["status_list"] = json!("eNrbuRgAAhcBXQ")),
            StatusListError::InvalidClaim("status_list"),
        ),
        (
            edit(&|p| drop(p["status_list"].as_object_mut().unwrap().remove("bits"))),
            StatusListError::MissingClaim("bits"),
        ),
        (
            edit(&|p| p["status_list"]["bits"] = json!(3)),
            StatusListError::InvalidBits(3),
        ),
        (
            edit(&|p| p["status_list"]["bits"] = json!("1")),
            StatusListError::InvalidClaim("bits"),
        ),
        (
            edit(&|p| drop(p["status_list"].as_object_mut().unwrap().remove("lst"))),
            StatusListError::MissingClaim("lst"),
        ),
        (
            edit(&|p| p["status_list"]["lst"] = json!("not base64!")),
            StatusListError::Base64,
        ),
        (
            edit(&|p| p["status_list"]["aggregation_uri"] = json!(7)),
            StatusListError::InvalidClaim("aggregation_uri"),
        ),
    ];
    for (token, expected) in cases {
        assert_eq!(verify_token(&token, URI, &keys, IAT), Err(expected));
    }
}

#[test]
fn unsigned_and_malformed_tokens_are_refused() {
    let payload = b64::encode(serde_json::to_vec(&good_payload()).unwrap());
    let none = format!(
        "{}.{payload}.",
        b64::encode(br#"{"alg":"none","typ":"statuslist+jwt"}"#)
    );
    assert_eq!(
        verify_token(&none, URI, &Jwks::default(), IAT),
        Err(StatusListError::Jose(JoseError::AlgorithmNone))
    );
    assert!(matches!(
        verify_token("a.b", URI, &Jwks::default(), IAT),
        Err(StatusListError::Jose(JoseError::Malformed(_)))
    ));
}

#[test]
fn build_claims_refuses_impossible_times() {
    assert_eq!(
        build_claims(URI, &draft_list(), IAT, None, Some(0)),
        Err(StatusListError::InvalidClaim("ttl"))
    );
    assert_eq!(
        build_claims(URI, &draft_list(), IAT, Some(IAT), None),
        Err(StatusListError::InvalidClaim("exp"))
    );
}
