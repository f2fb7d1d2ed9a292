//! The licence verification as a plain loop, for instruction counts that machine load
//! cannot disturb (criterion medians on a shared 2-core machine can):
//!
//! ```sh
//! cargo bench -p giayto-core --bench verify_instructions --no-run
//! valgrind --tool=callgrind target/release/deps/verify_instructions-* giayto 200
//! valgrind --tool=callgrind target/release/deps/verify_instructions-* ring 200
//! valgrind --tool=callgrind target/release/deps/verify_instructions-* sd-jwt-rs 200
//! ```
//! and compare the totals (the fixture's set-up is the same in both runs; subtract a run
//! with 0 iterations to remove it).
//!
//! `issue` issues the fixture's licence (`issue_document`, ES256 with core's software
//! signer) instead: the instructions an issuer spends per credential.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod fixture;

use std::hint::black_box;

use fixture::{fixture, point, raw_inputs};
use giayto_core::jose::Signer;
use giayto_core::sd_jwt_vc::issue_document;
use giayto_core::verifier::verify_presentation;
use ring::signature;

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let mode = args.next().unwrap_or_else(|| "giayto".into());
    let iterations: u32 = args.next().and_then(|n| n.parse().ok()).unwrap_or(100);
    let f = fixture();
    let keys = [
        point(&f.police.public_jwk().unwrap()),
        point(&f.holder.public_jwk().unwrap()),
    ];
    let inputs = raw_inputs(&f.presentation);
    for _ in 0..iterations {
        match mode.as_str() {
            "ring" => {
                for ((input, sig), key) in inputs.iter().zip(&keys) {
                    signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, key)
                        .verify(black_box(input), sig)
                        .unwrap();
                }
            }
            "issue" => {
                black_box(issue_document(black_box(&f.request), &f.police).unwrap());
            }
            "sd-jwt-rs" => {
                let jwk = f.police.public_jwk().unwrap();
                let (x, y) = (jwk.x.clone().unwrap(), jwk.y.clone().unwrap());
                sd_jwt_rs::SDJWTVerifier::new(
                    black_box(f.presentation.clone()),
                    Box::new(move |_, _| {
                        jsonwebtoken::DecodingKey::from_ec_components(&x, &y).unwrap()
                    }),
                    Some(fixture::VERIFIER.into()),
                    Some(fixture::NONCE.into()),
                    sd_jwt_rs::SDJWTSerializationFormat::Compact,
                )
                .unwrap();
            }
            _ => {
                let verdict = verify_presentation(
                    black_box(&f.presentation),
                    &f.policy,
                    &f.trust,
                    &f.statuses,
                    f.now,
                );
                assert!(verdict.valid, "{:?}", verdict.errors);
            }
        }
    }
}
