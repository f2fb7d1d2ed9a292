//! QR codec speed: pack and unpack of a licence-size presentation, PNG rendering and decoding.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/qr_support/mod.rs"]
mod qr_support;

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use giayto_core::qr::image::{EcLevel, decode_image, render_png};
use giayto_core::qr::{pack, unpack};

fn codec(c: &mut Criterion) {
    let presentation = qr_support::licence_full(true);
    let packed = pack(&presentation).unwrap();
    c.bench_function("qr pack licence full", |b| {
        b.iter(|| pack(black_box(&presentation)).unwrap())
    });
    c.bench_function("qr unpack licence full", |b| {
        b.iter(|| unpack(black_box(&packed)).unwrap())
    });
    let traffic = pack(&qr_support::licence_traffic_stop(true)).unwrap();
    c.bench_function("qr render png traffic stop M", |b| {
        b.iter(|| render_png(black_box(&traffic), EcLevel::M).unwrap())
    });
    let png = render_png(&traffic, EcLevel::M).unwrap();
    c.bench_function("qr decode png traffic stop M", |b| {
        b.iter(|| decode_image(black_box(&png)).unwrap())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = codec
}
criterion_main!(benches);
