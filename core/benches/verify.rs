//! Verifying and issuing a driving licence, each next to its floor in raw ring ES256
//! operations, and next to the `sd-jwt-rs` crate verifying the same presentation.
//!
//! `cargo bench -p giayto-core --bench verify`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod fixture;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use fixture::{NONCE, VERIFIER, fixture, point, raw_inputs};
use giayto_core::jose::Signer;
use giayto_core::sd_jwt_vc::issue_document;
use giayto_core::verifier::verify_presentation;
use ring::signature;

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
