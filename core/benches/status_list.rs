//! Status list speed: lookup in a 1-million-entry list, decoding a 10-million-entry list with
//! 0.1% of its entries revoked (random positions), and that list's compressed size.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use giayto_core::status_list::{Status, StatusList};

/// Deterministic xorshift64 positions, so every run measures the same list.
fn positions(count: usize, len: u64, mut state: u64) -> Vec<u64> {
    (0..count)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % len
        })
        .collect()
}

fn list_with_revocations(len: u64, revoked_per_mille: u64) -> StatusList {
    let mut list = StatusList::new(2, len).unwrap();
    let count = (len * revoked_per_mille / 1000) as usize;
    for idx in positions(count, len, 0x9e37_79b9_7f4a_7c15) {
        list.set_status(idx, Status::Invalid).unwrap();
    }
    list
}

fn lookup(c: &mut Criterion) {
    let list = list_with_revocations(1_000_000, 1);
    let probes = positions(1024, list.len(), 42);
    let mut i = 0;
    c.bench_function("status_list/lookup_1M_entries", |b| {
        b.iter(|| {
            i = (i + 1) % probes.len();
            black_box(list.status(black_box(probes[i])))
        })
    });
}

fn decode(c: &mut Criterion) {
    let list = list_with_revocations(10_000_000, 1);
    let compressed = list.compress().unwrap();
    let lst = list.encode_lst().unwrap();
    println!(
        "status_list: 10,000,000 entries at 2 bits, 0.1% revoked: {} bytes uncompressed, \
         {} bytes compressed (zlib level 9), {} characters of base64url `lst`",
        list.as_bytes().len(),
        compressed.len(),
        lst.len()
    );
    let mut group = c.benchmark_group("status_list");
    group.sample_size(20);
    group.bench_function("decode_10M_entries_0.1pct_revoked", |b| {
        b.iter(|| StatusList::decode(2, black_box(&lst)).unwrap())
    });
    group.sample_size(10);
    group.bench_function("encode_10M_entries_0.1pct_revoked", |b| {
        b.iter(|| black_box(&list).encode_lst().unwrap())
    });
    group.finish();
}

criterion_group!(benches, lookup, decode);
criterion_main!(benches);
