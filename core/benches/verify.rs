//! Verifying and issuing a driving licence, each next to its floor in raw ring ES256
//! operations, and next to the `sd-jwt-rs` crate verifying the same presentation.
//!
//! `cargo bench -p giayto-core --bench verify`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{SystemTime, UNIX_EPOCH};

use criterion::{Criterion, criterion_group, criterion_main};
use giayto_core::catalogue;
use giayto_core::jose::{Algorithm, Jwk, Jwks, Signer, SoftwareSigner, b64};
use giayto_core::sd_jwt::SdJwt;
use giayto_core::sd_jwt_vc::{IssueRequest, issue_document};
use giayto_core::status_list::{StatusCache, StatusList, StatusReference};
use giayto_core::trust_list::{IssuerName, TrustList, TrustedIssuer};
use giayto_core::verifier::{IssuerTrust, Policy, verify_presentation};
use ring::signature;

const POLICE: &str = "https://police.giayto.example";
const VERIFIER: &str = "https://verifier.giayto.example";
const NONCE: &str = "bench-nonce";
const STATUS_URI: &str = "https://police.giayto.example/status/1";

struct Fixture {
    now: i64,
    police: SoftwareSigner,
    holder: SoftwareSigner,
    request: IssueRequest,
    presentation: String,
    trust: IssuerTrust,
    statuses: StatusCache,
    policy: Policy,
}

fn fixture() -> Fixture {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let anchor = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let police = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let holder = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let licence = catalogue::by_id("driving_licence").unwrap();
    let request = IssueRequest {
        issuer: POLICE.into(),
        vct: licence.vct.into(),
        claims: serde_json::from_value(
            catalogue::examples::example_claims("driving_licence").unwrap(),
        )
        .unwrap(),
        holder_jwk: Some(holder.public_jwk().unwrap()),
        status: Some(StatusReference {
            idx: 7,
            uri: STATUS_URI.into(),
        }),
        issued_at: now - 86_400,
        not_before: None,
        expires_at: Some(now + 365 * 86_400),
    };
    let credential = SdJwt::parse(&issue_document(&request, &police).unwrap()).unwrap();
    let all = licence.preset_paths("full").unwrap();
    let presentation = credential
        .present_with_key_binding(&all, VERIFIER, NONCE, now, &holder)
        .unwrap();
    let list = TrustList {
        iss: "https://trust.giayto.gov.vn".into(),
        iat: now - 60,
        exp: now + 86_400,
        issuers: vec![TrustedIssuer {
            id: POLICE.into(),
            name: IssuerName {
                vi: "Bộ Công an".into(),
                en: "Ministry of Public Security".into(),
            },
            jwks: Jwks {
                keys: vec![police.public_jwk().unwrap().with_thumbprint_kid().unwrap()],
            },
            vcts: vec![licence.vct.into()],
        }],
    };
    let token = list.sign(&anchor).unwrap();
    let trust = IssuerTrust::TrustList(
        TrustList::verify(&token, &anchor.public_jwk().unwrap(), now, 0).unwrap(),
    );
    let mut statuses = StatusCache::new();
    let status_token = giayto_core::status_list::sign_token(
        STATUS_URI,
        &StatusList::new(2, 1 << 17).unwrap(),
        now,
        Some(now + 86_400),
        Some(3600),
        &police,
    )
    .unwrap();
    let verified = giayto_core::status_list::verify_token(
        &status_token,
        STATUS_URI,
        &Jwks {
            keys: vec![police.public_jwk().unwrap()],
        },
        now,
    )
    .unwrap();
    statuses.insert(verified, now);
    let policy = Policy {
        accepted_audiences: Some(vec![VERIFIER.into()]),
        expected_nonce: Some(NONCE.into()),
        // Each iteration verifies the same proof: the replay cache would refuse it.
        replay_cache: None,
        ..Policy::default()
    };
    Fixture {
        now,
        police,
        holder,
        request,
        presentation,
        trust,
        statuses,
        policy,
    }
}

/// The two raw signature checks inside a presentation: issuer JWT and KB-JWT.
fn raw_inputs(presentation: &str) -> [(Vec<u8>, Vec<u8>); 2] {
    let issuer_jwt = presentation.split('~').next().unwrap();
    let kb_jwt = presentation.rsplit('~').next().unwrap();
    let split = |jwt: &str| {
        let (input, signature) = jwt.rsplit_once('.').unwrap();
        (input.as_bytes().to_vec(), b64::decode(signature).unwrap())
    };
    [split(issuer_jwt), split(kb_jwt)]
}

fn point(jwk: &Jwk) -> Vec<u8> {
    let mut out = vec![4u8];
    out.extend(b64::decode(jwk.x.as_ref().unwrap()).unwrap());
    out.extend(b64::decode(jwk.y.as_ref().unwrap()).unwrap());
    out
}

fn verify(c: &mut Criterion) {
    let f = fixture();
    let verdict = verify_presentation(&f.presentation, &f.policy, &f.trust, &f.statuses, f.now);
    assert!(verdict.valid, "{:?}", verdict.errors);
    let keys = [
        point(&f.police.public_jwk().unwrap()),
        point(&f.holder.public_jwk().unwrap()),
    ];
    let inputs = raw_inputs(&f.presentation);

    let mut group = c.benchmark_group("verify_licence_presentation");
    group.bench_function("giayto_verify_presentation", |b| {
        b.iter(|| {
            let verdict = verify_presentation(
                black_box(&f.presentation),
                &f.policy,
                &f.trust,
                &f.statuses,
                f.now,
            );
            assert!(verdict.valid);
            verdict
        })
    });
    group.bench_function("ring_two_es256_verifications", |b| {
        b.iter(|| {
            for ((input, signature), key) in inputs.iter().zip(&keys) {
                signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, key)
                    .verify(black_box(input), signature)
                    .unwrap();
            }
        })
    });
    let police_jwk = f.police.public_jwk().unwrap();
    let (x, y) = (police_jwk.x.clone().unwrap(), police_jwk.y.clone().unwrap());
    group.bench_function("sd_jwt_rs_verifier", |b| {
        b.iter(|| {
            let (x, y) = (x.clone(), y.clone());
            sd_jwt_rs::SDJWTVerifier::new(
                black_box(f.presentation.clone()),
                Box::new(move |_, _| {
                    jsonwebtoken::DecodingKey::from_ec_components(&x, &y).unwrap()
                }),
                Some(VERIFIER.into()),
                Some(NONCE.into()),
                sd_jwt_rs::SDJWTSerializationFormat::Compact,
            )
            .unwrap()
        })
    });
    group.finish();
}

fn issue(c: &mut Criterion) {
    let f = fixture();
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 =
        signature::EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .unwrap();
    let pair = signature::EcdsaKeyPair::from_pkcs8(
        &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        pkcs8.as_ref(),
        &rng,
    )
    .unwrap();
    let input = f
        .presentation
        .split('~')
        .next()
        .unwrap()
        .rsplit_once('.')
        .unwrap()
        .0
        .to_owned();
    let mut group = c.benchmark_group("issue_licence");
    group.bench_function("giayto_issue_document", |b| {
        b.iter(|| issue_document(black_box(&f.request), &f.police).unwrap())
    });
    group.bench_function("ring_one_es256_signature", |b| {
        b.iter(|| pair.sign(&rng, black_box(input.as_bytes())).unwrap())
    });
    group.finish();
}

criterion_group!(benches, verify, issue);
criterion_main!(benches);
