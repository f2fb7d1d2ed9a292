//! Status List codec edge cases: refused `bits`, bounds, decompression bombs, corrupt streams.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use flate2::Compression;
use flate2::write::{DeflateEncoder, ZlibEncoder};
use giayto_core::status_list::{MAX_DECOMPRESSED_BYTES, Status, StatusList, StatusListError};
use proptest::prelude::*;

fn zlib(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn bits_other_than_1_2_4_8_are_refused() {
    let lst = StatusList::new(1, 8).unwrap().encode_lst().unwrap();
    for bits in [0u8, 3, 5, 6, 7, 9, 16, 255] {
        assert_eq!(
            StatusList::new(bits, 8),
            Err(StatusListError::InvalidBits(bits.into()))
        );
        assert_eq!(
            StatusList::decode(bits.into(), &lst),
            Err(StatusListError::InvalidBits(bits.into()))
        );
    }
    assert_eq!(
        StatusList::decode(1 << 40, &lst),
        Err(StatusListError::InvalidBits(1 << 40))
    );
}

#[test]
fn length_rounds_up_to_whole_bytes() {
    assert_eq!(StatusList::new(2, 10).unwrap().len(), 12);
    assert_eq!(StatusList::new(1, 16).unwrap().len(), 16);
    assert_eq!(StatusList::new(8, 3).unwrap().len(), 3);
    assert!(StatusList::new(2, 0).unwrap().is_empty());
}

#[test]
fn index_beyond_the_list_is_none_or_an_error() {
    let mut list = StatusList::new(2, 8).unwrap();
    assert_eq!(list.get(7), Some(0));
    assert_eq!(list.get(8), None);
    assert_eq!(list.get(u64::MAX), None);
    assert_eq!(
        list.set(8, 1),
        Err(StatusListError::IndexOutOfRange { idx: 8, len: 8 })
    );
    assert_eq!(list.status(u64::MAX), None);
}

#[test]
fn value_wider_than_bits_is_refused() {
    let mut list = StatusList::new(2, 4).unwrap();
    assert_eq!(
        list.set(0, 4),
        Err(StatusListError::ValueTooLarge { value: 4, bits: 2 })
    );
    let mut one = StatusList::new(1, 8).unwrap();
    assert_eq!(
        one.set_status(3, Status::Suspended),
        Err(StatusListError::ValueTooLarge { value: 2, bits: 1 })
    );
    assert_eq!(list.as_bytes(), [0]);
}

#[test]
fn set_overwrites_only_its_own_bits() {
    let mut list = StatusList::new(2, 4).unwrap();
    list.set(0, 3).unwrap();
    list.set(1, 2).unwrap();
    list.set(3, 1).unwrap();
    assert_eq!(list.as_bytes(), [0b01_00_10_11]);
    list.set(0, 0).unwrap();
    assert_eq!(list.as_bytes(), [0b01_00_10_00]);
    let mut eight = StatusList::new(8, 2).unwrap();
    eight.set(1, 0xff).unwrap();
    assert_eq!(eight.as_bytes(), [0x00, 0xff]);
}

#[test]
fn too_large_lists_are_refused_without_allocating() {
    assert!(matches!(
        StatusList::new(8, MAX_DECOMPRESSED_BYTES as u64 + 1),
        Err(StatusListError::TooLarge { .. })
    ));
    assert!(matches!(
        StatusList::new(8, u64::MAX),
        Err(StatusListError::TooLarge { .. })
    ));
    assert!(StatusList::new(8, MAX_DECOMPRESSED_BYTES as u64).is_ok());
}

#[test]
fn decompression_bomb_is_refused() {
    // 17 MiB of zeros compress to about 17 KiB.
    let bomb = zlib(&vec![0u8; MAX_DECOMPRESSED_BYTES + 1024 * 1024]);
    assert!(bomb.len() < 64 * 1024);
    assert_eq!(
        StatusList::decompress(1, &bomb),
        Err(StatusListError::DecompressedTooLarge)
    );
    assert_eq!(
        StatusList::decode(1, &URL_SAFE_NO_PAD.encode(&bomb)),
        Err(StatusListError::DecompressedTooLarge)
    );
    // Exactly at the limit is fine.
    let at_limit = zlib(&vec![0u8; MAX_DECOMPRESSED_BYTES]);
    assert_eq!(
        StatusList::decompress(8, &at_limit).unwrap().len(),
        MAX_DECOMPRESSED_BYTES as u64
    );
}

#[test]
fn corrupt_streams_are_refused() {
    let good = zlib(&[0xb9, 0xa3, 0x01, 0x02]);
    assert!(StatusList::decompress(1, &good).is_ok());

    let truncated = &good[..good.len() - 3];
    assert_eq!(
        StatusList::decompress(1, truncated),
        Err(StatusListError::Zlib)
    );

    let mut bad_checksum = good.clone();
    *bad_checksum.last_mut().unwrap() ^= 1;
    assert_eq!(
        StatusList::decompress(1, &bad_checksum),
        Err(StatusListError::Zlib)
    );

    let mut trailing = good.clone();
    trailing.push(0);
    assert_eq!(
        StatusList::decompress(1, &trailing),
        Err(StatusListError::Zlib)
    );

    // Raw DEFLATE without the ZLIB header is not the draft's format.
    let mut raw = DeflateEncoder::new(Vec::new(), Compression::best());
    raw.write_all(&[0xb9, 0xa3]).unwrap();
    assert_eq!(
        StatusList::decompress(1, &raw.finish().unwrap()),
        Err(StatusListError::Zlib)
    );

    assert_eq!(StatusList::decompress(1, &[]), Err(StatusListError::Zlib));
    assert_eq!(
        StatusList::decompress(1, &zlib(&[])),
        Err(StatusListError::Empty)
    );
}

#[test]
fn lst_must_be_base64url_without_padding() {
    let lst = StatusList::new(1, 16).unwrap().encode_lst().unwrap();
    assert!(StatusList::decode(1, &lst).is_ok());
    assert_eq!(
        StatusList::decode(1, &format!("{lst}=")),
        Err(StatusListError::Base64)
    );
    assert_eq!(
        StatusList::decode(1, "eNrbuRgAAhcBXQ+/"),
        Err(StatusListError::Base64)
    );
    assert_eq!(
        StatusList::decode(1, "eNrbu RgAAhcBXQ"),
        Err(StatusListError::Base64)
    );
    assert_eq!(
        StatusList::decode(1, &"A".repeat(23 * 1024 * 1024)),
        Err(StatusListError::CompressedTooLarge)
    );
}

#[test]
fn status_values_follow_the_draft() {
    assert_eq!(Status::from(0x00), Status::Valid);
    assert_eq!(Status::from(0x01), Status::Invalid);
    assert_eq!(Status::from(0x02), Status::Suspended);
    assert_eq!(Status::from(0x03), Status::Other(3));
    for value in 0..=u8::MAX {
        assert_eq!(Status::from(value).value(), value);
    }
}

proptest! {
    #[test]
    fn set_get_and_encode_decode_round_trip(
        bits in prop::sample::select(vec![1u8, 2, 4, 8]),
        entries in prop::collection::vec((0u64..4096, any::<u8>()), 0..64),
    ) {
        let mut list = StatusList::new(bits, 4096).unwrap();
        let mut expected = std::collections::BTreeMap::new();
        let mask = u8::MAX >> (8 - bits);
        for (idx, value) in entries {
            list.set(idx, value & mask).unwrap();
            expected.insert(idx, value & mask);
        }
        let decoded = StatusList::decode(bits.into(), &list.encode_lst().unwrap()).unwrap();
        prop_assert_eq!(&decoded, &list);
        for idx in 0..4096 {
            prop_assert_eq!(decoded.get(idx), Some(expected.get(&idx).copied().unwrap_or(0)));
        }
    }

    #[test]
    fn arbitrary_input_never_panics(bits in 0u64..10, data in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = StatusList::decompress(bits, &data);
        let _ = StatusList::decode(bits, &String::from_utf8_lossy(&data));
    }
}
