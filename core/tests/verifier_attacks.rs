//! The attack matrix: each way a presentation can be wrong is refused with its own
//! failure code, and the honest presentation passes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use giayto_core::jose::jws::{self, header_with_typ};
use giayto_core::jose::{Algorithm, Jwks, Signer, SoftwareSigner, b64};
use giayto_core::sd_jwt::{Disclosure, HashAlg, SdJwt, create_kb_jwt};
use giayto_core::sd_jwt_vc::{IssueRequest, issue_document};
use giayto_core::status_list::{Status, StatusCache, StatusList, StatusReference};
use giayto_core::trust_list::{TrustList, TrustedIssuer};
use giayto_core::verifier::{
    FailureCode, HolderBinding, IssuerTrust, Policy, ReplayCache, StatusView, verify_presentation,
};
use serde_json::{Map, Value, json};

const NOW: i64 = 1_795_000_000;
const POLICE: &str = "https://police.giayto.example";
const VERIFIER: &str = "https://verifier.giayto.example";
const NONCE: &str = "challenge-nonce-1";
const LICENCE: &str = "https://giayto.gov.vn/vct/driving_licence";
const STATUS_URI: &str = "https://police.giayto.example/status/1";

struct World {
    police: SoftwareSigner,
    holder: SoftwareSigner,
    trust: IssuerTrust,
    statuses: StatusCache,
}

fn licence_claims() -> Map<String, Value> {
    serde_json::from_value(
        giayto_core::catalogue::examples::example_claims("driving_licence").unwrap(),
    )
    .unwrap()
}

fn world_with_trust_list_expiring(exp: i64) -> World {
    let anchor = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let police = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let holder = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let list = TrustList {
        iss: "https://trust.giayto.gov.vn".into(),
        iat: exp - 86_400,
        exp,
        issuers: vec![TrustedIssuer {
            id: POLICE.into(),
            name: giayto_core::trust_list::IssuerName {
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
    };
    let token = list.sign(&anchor).unwrap();
    let verified = TrustList::verify(&token, &anchor.public_jwk().unwrap(), exp - 10, 0).unwrap();
    let mut statuses = StatusCache::new();
    let mut list = StatusList::new(2, 1024).unwrap();
    list.set_status(5, Status::Invalid).unwrap();
    list.set_status(6, Status::Suspended).unwrap();
    let token = giayto_core::status_list::sign_token(
        STATUS_URI,
        &list,
        NOW - 60,
        Some(NOW + 86_400),
        Some(3600),
        &police,
    )
    .unwrap();
    let verified_list = giayto_core::status_list::verify_token(
        &token,
        STATUS_URI,
        &Jwks {
            keys: vec![police.public_jwk().unwrap()],
        },
        NOW,
    )
    .unwrap();
    statuses.insert(verified_list, NOW - 60);
    World {
        police,
        holder,
        trust: IssuerTrust::TrustList(verified),
        statuses,
    }
}

fn world() -> World {
    world_with_trust_list_expiring(NOW + 86_400)
}

fn request(world: &World, idx: u64) -> IssueRequest {
    IssueRequest {
        issuer: POLICE.into(),
        vct: LICENCE.into(),
        claims: licence_claims(),
        holder_jwk: Some(world.holder.public_jwk().unwrap()),
        status: Some(StatusReference {
            idx,
            uri: STATUS_URI.into(),
        }),
        issued_at: NOW - 86_400,
        not_before: None,
        expires_at: Some(NOW + 365 * 86_400),
    }
}

fn issue(world: &World, request: &IssueRequest) -> SdJwt {
    SdJwt::parse(&issue_document(request, &world.police).unwrap()).unwrap()
}

fn present(world: &World, credential: &SdJwt) -> String {
    credential
        .present_with_key_binding(
            &["licence_number", "driving_privileges"],
            VERIFIER,
            NONCE,
            NOW - 5,
            &world.holder,
        )
        .unwrap()
}

fn policy() -> Policy {
    Policy {
        accepted_audiences: Some(vec![VERIFIER.into()]),
        expected_nonce: Some(NONCE.into()),
        replay_cache: Some(Arc::new(ReplayCache::new(100))),
        ..Policy::default()
    }
}

fn codes(world: &World, presentation: &str, policy: &Policy) -> Vec<FailureCode> {
    let verdict = verify_presentation(presentation, policy, &world.trust, &world.statuses, NOW);
    verdict.errors.iter().map(|f| f.code).collect()
}

fn assert_refused(world: &World, presentation: &str, expected: FailureCode) {
    let found = codes(world, presentation, &policy());
    assert!(
        found.contains(&expected),
        "expected {expected:?}, got {found:?}"
    );
}

/// Replaces the issuer-signed JWT's payload (keeping its signature).
fn with_payload(presentation: &str, edit: impl Fn(&mut Map<String, Value>)) -> String {
    let (jwt, rest) = presentation.split_once('~').unwrap();
    let parts: Vec<&str> = jwt.split('.').collect();
    let mut payload: Map<String, Value> =
        serde_json::from_slice(&b64::decode(parts[1]).unwrap()).unwrap();
    edit(&mut payload);
    let payload = b64::encode(serde_json::to_vec(&payload).unwrap());
    format!("{}.{}.{}~{}", parts[0], payload, parts[2], rest)
}

/// Signs a hand-made issuer JWT (as a rogue or buggy issuer holding a trusted key would).
fn signed(
    world: &World,
    header: Map<String, Value>,
    payload: &Value,
    disclosures: &[&Disclosure],
) -> String {
    let jwt = jws::sign_compact(header, payload.to_string().as_bytes(), &world.police).unwrap();
    let mut sd_jwt = jwt + "~";
    for d in disclosures {
        sd_jwt.push_str(d.encoded());
        sd_jwt.push('~');
    }
    let kb = create_kb_jwt(
        &sd_jwt,
        HashAlg::Sha256,
        VERIFIER,
        NONCE,
        NOW,
        &world.holder,
    )
    .unwrap();
    sd_jwt + &kb
}

fn base_payload(world: &World) -> Map<String, Value> {
    let Value::Object(map) = json!({
        "iss": POLICE, "iat": NOW - 10, "exp": NOW + 1000, "vct": LICENCE,
        "cnf": {"jwk": world.holder.public_jwk().unwrap()}
    }) else {
        unreachable!()
    };
    map
}

#[test]
fn honest_presentation_passes() {
    let world = world();
    let credential = issue(&world, &request(&world, 1));
    let verdict = verify_presentation(
        &present(&world, &credential),
        &policy(),
        &world.trust,
        &world.statuses,
        NOW,
    );
    assert!(verdict.valid, "{:?}", verdict.errors);
    assert_eq!(verdict.status, StatusView::Valid);
    assert!(matches!(
        verdict.holder_binding,
        HolderBinding::Verified { .. }
    ));
    assert_eq!(
        verdict.issuer.unwrap().name.unwrap().en,
        "Ministry of Public Security"
    );
    assert_eq!(
        verdict.document_type.unwrap().id.as_deref(),
        Some("driving_licence")
    );
    assert_eq!(verdict.claims_json["licence_number"], "010123456789");
    assert!(
        !verdict.claims_json.contains_key("given_name"),
        "not disclosed"
    );
    let class = verdict
        .claims
        .iter()
        .find(|c| c.path == "driving_privileges[1].class")
        .unwrap();
    assert_eq!(class.value, "B");
    assert!(class.label.is_some());
}

#[test]
fn tampering_is_caught() {
    let world = world();
    let credential = issue(&world, &request(&world, 1));
    let honest = present(&world, &credential);

    let payload_changed = with_payload(&honest, |p| {
        p.insert("exp".into(), json!(NOW + 999_999_999));
    });
    assert_refused(&world, &payload_changed, FailureCode::BadSignature);

    let (jwt, rest) = honest.split_once('~').unwrap();
    let mut chars: Vec<char> = jwt.chars().collect();
    let at = jwt.rfind('.').unwrap() + 5;
    chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
    let signature_changed = format!("{}~{}", chars.into_iter().collect::<String>(), rest);
    assert_refused(&world, &signature_changed, FailureCode::BadSignature);

    // A disclosure whose value was changed no longer matches any digest.
    let parts: Vec<&str> = honest.split('~').collect();
    let original = Disclosure::parse(parts[1], 0).unwrap();
    let forged = Disclosure::for_property(
        original.salt().into(),
        original.name().unwrap(),
        json!("000000000000"),
    )
    .unwrap();
    let disclosure_changed = honest.replacen(parts[1], forged.encoded(), 1);
    assert_refused(
        &world,
        &disclosure_changed,
        FailureCode::UnreferencedDisclosure,
    );

    // A disclosure the issuer never made.
    let extra = Disclosure::for_property("c2FsdHNhbHRzYWx0".into(), "given_name", json!("Kẻ Gian"))
        .unwrap();
    let sd_part = honest.rsplit_once('~').unwrap().0;
    let unreferenced = format!("{sd_part}~{}~", extra.encoded());
    assert_refused(&world, &unreferenced, FailureCode::UnreferencedDisclosure);
}

#[test]
fn rogue_issuer_structures_are_refused() {
    let world = world();
    let typ = || header_with_typ("dc+sd-jwt");
    let a = Disclosure::for_property("c2FsdA".into(), "licence_number", json!("1")).unwrap();
    let mut payload = base_payload(&world);
    payload.insert(
        "_sd".into(),
        json!([a.digest(HashAlg::Sha256), a.digest(HashAlg::Sha256)]),
    );
    assert_refused(
        &world,
        &signed(&world, typ(), &Value::Object(payload), &[&a]),
        FailureCode::DuplicateDigest,
    );

    for reserved in ["_sd", "..."] {
        let d = Disclosure::for_property("c2FsdA".into(), reserved, json!([])).unwrap();
        let mut payload = base_payload(&world);
        payload.insert("_sd".into(), json!([d.digest(HashAlg::Sha256)]));
        assert_refused(
            &world,
            &signed(&world, typ(), &Value::Object(payload), &[&d]),
            FailureCode::ReservedClaimName,
        );
    }

    // exp sent as a disclosure: SD-JWT VC forbids it.
    let exp = Disclosure::for_property("c2FsdA".into(), "exp", json!(NOW + 99)).unwrap();
    let mut payload = base_payload(&world);
    payload.remove("exp");
    payload.insert("_sd".into(), json!([exp.digest(HashAlg::Sha256)]));
    assert_refused(
        &world,
        &signed(&world, typ(), &Value::Object(payload), &[&exp]),
        FailureCode::ProtectedClaimDisclosed,
    );

    let mut crit = typ();
    crit.insert("crit".into(), json!(["urn:example:unknown"]));
    crit.insert("urn:example:unknown".into(), json!(true));
    assert_refused(
        &world,
        &signed(&world, crit, &Value::Object(base_payload(&world)), &[]),
        FailureCode::HeaderRefused,
    );

    assert_refused(
        &world,
        &signed(
            &world,
            header_with_typ("JWT"),
            &Value::Object(base_payload(&world)),
            &[],
        ),
        FailureCode::WrongType,
    );
}

fn unsigned_with_alg(world: &World, alg: &str, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let header = b64::encode(format!(r#"{{"alg":"{alg}","typ":"dc+sd-jwt"}}"#));
    let payload = b64::encode(Value::Object(base_payload(world)).to_string());
    let input = format!("{header}.{payload}");
    let signature = b64::encode(sign(input.as_bytes()));
    format!("{input}.{signature}~")
}

#[test]
fn algorithm_confusion_is_refused() {
    let world = world();
    let none = unsigned_with_alg(&world, "none", |_| vec![0; 64]);
    assert_refused(&world, &none, FailureCode::AlgorithmRefused);
    // HS256 keyed with the issuer's public key bytes, the classic confusion attack.
    let public = serde_json::to_vec(&world.police.public_jwk().unwrap()).unwrap();
    let hs256 = unsigned_with_alg(&world, "HS256", |input| {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &public);
        let mut tag = ring::hmac::sign(&key, input).as_ref().to_vec();
        tag.resize(64, 0);
        tag
    });
    assert_refused(&world, &hs256, FailureCode::AlgorithmRefused);
}

#[test]
fn validity_and_trust_are_enforced() {
    let world = world();
    let mut expired = request(&world, 1);
    expired.expires_at = Some(NOW - 3600);
    assert_refused(
        &world,
        &present(&world, &issue(&world, &expired)),
        FailureCode::Expired,
    );

    let mut early = request(&world, 1);
    early.not_before = Some(NOW + 3600);
    assert_refused(
        &world,
        &present(&world, &issue(&world, &early)),
        FailureCode::NotYetValid,
    );

    let mut stranger = request(&world, 1);
    stranger.issuer = "https://not-trusted.example".into();
    assert_refused(
        &world,
        &present(&world, &issue(&world, &stranger)),
        FailureCode::UntrustedIssuer,
    );

    let mut judicial = request(&world, 1);
    judicial.vct = "https://giayto.gov.vn/vct/judicial_record".into();
    judicial.claims = serde_json::from_value(
        giayto_core::catalogue::examples::example_claims("judicial_record").unwrap(),
    )
    .unwrap();
    match issue_document(&judicial, &world.police) {
        Ok(credential) => {
            let credential = SdJwt::parse(&credential).unwrap();
            let shown = credential
                .present_with_key_binding(&["full_name"], VERIFIER, NONCE, NOW, &world.holder)
                .unwrap();
            assert_refused(&world, &shown, FailureCode::NotAuthorisedForType);
        }
        Err(e) => panic!("judicial record claims should fit the catalogue: {e}"),
    }

    let revoked = issue(&world, &request(&world, 5));
    assert_refused(&world, &present(&world, &revoked), FailureCode::Revoked);
    let suspended = issue(&world, &request(&world, 6));
    assert_refused(&world, &present(&world, &suspended), FailureCode::Suspended);

    let mut unlisted = request(&world, 1);
    unlisted.status = Some(StatusReference {
        idx: 1,
        uri: "https://police.giayto.example/status/999".into(),
    });
    assert_refused(
        &world,
        &present(&world, &issue(&world, &unlisted)),
        FailureCode::StatusListMissing,
    );

    // A status list for the police's URI signed by someone else (here a key the verifier
    // checked it against, as a device that trusts another issuer would): it vouches for
    // nothing about a police document, even one it marks valid.
    let other = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let other_list = giayto_core::status_list::sign_token(
        STATUS_URI,
        &StatusList::new(2, 1024).unwrap(),
        NOW - 30,
        Some(NOW + 86_400),
        Some(3600),
        &other,
    )
    .unwrap();
    let mut foreign = world_with_trust_list_expiring(NOW + 86_400);
    foreign.statuses.insert(
        giayto_core::status_list::verify_token(
            &other_list,
            STATUS_URI,
            &Jwks {
                keys: vec![other.public_jwk().unwrap()],
            },
            NOW,
        )
        .unwrap(),
        NOW,
    );
    let revoked = issue(&foreign, &request(&foreign, 5));
    assert_eq!(
        codes(&foreign, &present(&foreign, &revoked), &policy()),
        [FailureCode::StatusListWrongSigner]
    );

    let old_list = world_with_trust_list_expiring(NOW - 30 * 86_400);
    let credential = issue(&old_list, &request(&old_list, 1));
    assert_refused(
        &old_list,
        &present(&old_list, &credential),
        FailureCode::TrustListExpired,
    );

    let huge = "a".repeat(giayto_core::limits::MAX_PRESENTATION_BYTES + 1);
    assert_refused(&world, &huge, FailureCode::TooLarge);
}

#[test]
fn key_binding_is_enforced() {
    let world = world();
    let credential = issue(&world, &request(&world, 1));
    let selectors = ["licence_number"];

    let stale = credential
        .present_with_key_binding(&selectors, VERIFIER, NONCE, NOW - 3600, &world.holder)
        .unwrap();
    assert_refused(&world, &stale, FailureCode::KeyBindingStale);

    let without = credential.present(&selectors).unwrap();
    assert_refused(&world, &without, FailureCode::KeyBindingMissing);

    // A KB-JWT made for another selection of disclosures.
    let other = credential
        .present_with_key_binding(&["driving_privileges"], VERIFIER, NONCE, NOW, &world.holder)
        .unwrap();
    let other_kb = other.rsplit_once('~').unwrap().1;
    assert_refused(
        &world,
        &(without.clone() + other_kb),
        FailureCode::KeyBindingHashMismatch,
    );

    let thief = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let stolen = credential
        .present_with_key_binding(&selectors, VERIFIER, NONCE, NOW, &thief)
        .unwrap();
    assert_refused(&world, &stolen, FailureCode::KeyBindingInvalid);

    let wrong_nonce = credential
        .present_with_key_binding(&selectors, VERIFIER, "other", NOW, &world.holder)
        .unwrap();
    assert_refused(&world, &wrong_nonce, FailureCode::NonceMismatch);

    let wrong_aud = credential
        .present_with_key_binding(
            &selectors,
            "https://elsewhere.example",
            NONCE,
            NOW,
            &world.holder,
        )
        .unwrap();
    assert_refused(&world, &wrong_aud, FailureCode::AudienceMismatch);

    let policy = policy();
    let once = credential
        .present_with_key_binding(&selectors, VERIFIER, NONCE, NOW, &world.holder)
        .unwrap();
    assert!(codes(&world, &once, &policy).is_empty());
    assert_eq!(codes(&world, &once, &policy), vec![FailureCode::Replayed]);
}

#[test]
fn paper_form_is_not_bound() {
    let world = world();
    let credential = issue(&world, &request(&world, 1));
    let paper = credential.present(&["licence_number"]).unwrap();
    let policy = Policy {
        require_key_binding: false,
        ..policy()
    };
    let verdict = verify_presentation(&paper, &policy, &world.trust, &world.statuses, NOW);
    assert!(verdict.valid, "{:?}", verdict.errors);
    assert_eq!(verdict.holder_binding, HolderBinding::NotBound);
}

#[test]
fn bare_keys_trust_any_type() {
    let world = world();
    let credential = issue(&world, &request(&world, 1));
    let trust = IssuerTrust::Keys(Jwks {
        keys: vec![world.police.public_jwk().unwrap()],
    });
    let verdict = verify_presentation(
        &present(&world, &credential),
        &policy(),
        &trust,
        &world.statuses,
        NOW,
    );
    assert!(verdict.valid, "{:?}", verdict.errors);
}
