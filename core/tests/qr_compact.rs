//! The compact QR form: exact round trips, refusal of non-canonical input, clear errors on
//! damaged QR text, and no panic on any input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod qr_support;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use giayto_core::qr::compact::MAX_PRESENTATION_LEN;
use giayto_core::qr::{Format, Part, QrError, pack, pack_format, unpack};
use proptest::prelude::*;
use qr_support::*;

const EXAMPLES: [&str; 5] = [
    "simple",
    "simple_structured",
    "complex_ekyc",
    "arf-pid",
    "address_only_flat",
];

fn all_presentations() -> Vec<String> {
    let mut all = Vec::new();
    for example in EXAMPLES {
        all.push(rfc_vector(example, "sd_jwt_presentation"));
        all.push(rfc_vector(example, "sd_jwt_issuance"));
    }
    all.extend([
        licence_traffic_stop(true),
        licence_traffic_stop(false),
        licence_full(true),
        age_over_18(4),
    ]);
    all
}

#[test]
fn every_example_round_trips_exactly() {
    for presentation in all_presentations() {
        let packed = pack(&presentation).unwrap();
        assert_eq!(unpack(&packed).unwrap(), presentation);
        let prefix = if presentation.ends_with('~') {
            "GTP2:"
        } else {
            "GT2:"
        };
        assert!(packed.starts_with(prefix), "{}", &packed[..6]);
        assert!(
            packed
                .bytes()
                .all(|b| b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:".contains(&b))
        );
    }
}

fn expected(name: &str) -> String {
    let path = format!("{}/tests/vectors/qr/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .trim_end_matches('\n')
        .to_owned()
}

/// Format version 1 pinned: the packed text of the RFC 9901 `simple` example with and
/// without KB-JWT. `unpack` of these texts is the format contract (format-1 QR codes stay
/// readable); `pack_format` equality also pins the format-1 encoder.
#[test]
fn format_v1_vectors() {
    for (example, file, vector) in [
        (
            "simple",
            "sd_jwt_presentation",
            "simple_presentation.qr.txt",
        ),
        ("simple", "sd_jwt_issuance", "simple_issuance_paper.qr.txt"),
    ] {
        let presentation = rfc_vector(example, file);
        let qr_text = expected(vector);
        assert_eq!(unpack(&qr_text).unwrap(), presentation, "{vector}");
        assert_eq!(
            pack_format(&presentation, Format::V1).unwrap(),
            qr_text,
            "{vector}"
        );
    }
}

/// Format version 2 pinned: the RFC 9901 `simple` example with and without KB-JWT, and a
/// giayto purpose credential (driving licence, traffic stop) presented one-way, whose P-256
/// `cnf` `y` and `sd_hash` are rebuilt rather than carried. `pack` equality pins the encoder
/// and the dictionary.
#[test]
fn format_v2_vectors() {
    let purpose = expected("purpose_traffic_stop.presentation.txt");
    for (presentation, vector) in [
        (
            rfc_vector("simple", "sd_jwt_presentation"),
            "simple_presentation.v2.qr.txt",
        ),
        (
            rfc_vector("simple", "sd_jwt_issuance"),
            "simple_issuance_paper.v2.qr.txt",
        ),
        (purpose.clone(), "purpose_traffic_stop.v2.qr.txt"),
    ] {
        let qr_text = expected(vector);
        assert_eq!(unpack(&qr_text).unwrap(), presentation, "{vector}");
        assert_eq!(pack(&presentation).unwrap(), qr_text, "{vector}");
    }
    // The purpose credential's key and sd_hash are rebuilt, not carried: 64 bytes less than
    // format 1 before compression, about 96 QR characters.
    let v1 = pack_format(&purpose, Format::V1).unwrap();
    let v2 = pack(&purpose).unwrap();
    assert!(v2.len() + 90 <= v1.len(), "v1 {} v2 {}", v1.len(), v2.len());
}

#[test]
fn non_canonical_base64url_is_refused() {
    let presentation = rfc_vector("simple", "sd_jwt_presentation");
    let (jwt, rest) = presentation.split_once('~').unwrap();
    let (signing_input, signature) = jwt.rsplit_once('.').unwrap();
    // A 64-byte signature leaves 4 unused bits in its last character: 'g' (100000) is
    // canonical, 'h' (100001) decodes to the same bytes with a bit set.
    assert!(signature.ends_with('g'));
    let tweaked = format!(
        "{signing_input}.{}h~{rest}",
        &signature[..signature.len() - 1]
    );
    assert_eq!(
        pack(&tweaked),
        Err(QrError::NonCanonicalBase64(Part::IssuerSignature))
    );

    let padded = format!("{signing_input}.{signature}==~{rest}");
    assert_eq!(
        pack(&padded),
        Err(QrError::NonCanonicalBase64(Part::IssuerSignature))
    );

    let disclosures: Vec<&str> = rest.split('~').collect();
    let with_padding = format!("{jwt}~{}=~{}", disclosures[0], disclosures[1..].join("~"));
    assert_eq!(
        pack(&with_padding),
        Err(QrError::NonCanonicalBase64(Part::Disclosure(0)))
    );

    let standard_alphabet = presentation.replacen('-', "+", 1);
    assert!(matches!(
        pack(&standard_alphabet),
        Err(QrError::NonCanonicalBase64(_))
    ));
}

#[test]
fn malformed_presentations_are_refused() {
    let p = rfc_vector("simple", "sd_jwt_presentation");
    let (jwt, rest) = p.split_once('~').unwrap();
    for bad in [
        jwt.to_owned(),                                 // no '~'
        format!("{}~{rest}", jwt.replacen('.', "", 1)), // two-part JWT
        format!("{jwt}.x~{rest}"),                      // four-part JWT
        format!("{jwt}~~{rest}"),                       // empty disclosure
        format!("{p}.x"),                               // four-part KB-JWT
    ] {
        assert!(
            matches!(pack(&bad), Err(QrError::MalformedPresentation(_))),
            "{bad:.60}"
        );
    }
    let control = URL_SAFE_NO_PAD.encode(b"[\"salt\",\"x\",\"\x01\"]");
    assert!(matches!(
        pack(&format!("{jwt}~{control}~")),
        Err(QrError::MalformedPresentation(_))
    ));
    assert_eq!(
        pack(&"a".repeat(MAX_PRESENTATION_LEN + 1)),
        Err(QrError::PresentationTooLarge {
            len: MAX_PRESENTATION_LEN + 1,
            max: MAX_PRESENTATION_LEN
        })
    );
}

#[test]
fn damaged_qr_text_gives_its_own_error() {
    let packed = pack(&rfc_vector("simple", "sd_jwt_presentation")).unwrap();
    let body = &packed["GT2:".len()..];

    assert_eq!(unpack(&format!("XX1:{body}")), Err(QrError::UnknownPrefix));
    assert_eq!(unpack(body), Err(QrError::UnknownPrefix));
    assert_eq!(
        unpack(&format!("GT3:{body}")),
        Err(QrError::UnsupportedVersion {
            kind: "presentation",
            version: 3
        })
    );
    assert_eq!(
        unpack(&format!("GTP7:{body}")),
        Err(QrError::UnsupportedVersion {
            kind: "paper",
            version: 7
        })
    );
    assert!(matches!(
        unpack(&format!("GT2:{}", body.to_lowercase())),
        Err(QrError::InvalidBase45(_))
    ));
    // Base45 text of length 3k+1 leaves a dangling character.
    let dangling = "A".repeat([1, 3, 2][body.len() % 3]);
    assert!(matches!(
        unpack(&format!("GT2:{body}{dangling}")),
        Err(QrError::InvalidBase45(_))
    ));
    // "::" is 2024, above the 255 a final pair may encode.
    assert!(matches!(unpack("GT2:::"), Err(QrError::InvalidBase45(_))));
    // A presentation with KB-JWT presented as paper: the KB-JWT is left over.
    assert!(matches!(
        unpack(&format!("GTP2:{body}")),
        Err(QrError::TrailingData(_))
    ));
    // A format-2 body read as format 1: another dictionary, never the same presentation.
    assert_ne!(
        unpack(&format!("GT1:{body}")).ok(),
        Some(rfc_vector("simple", "sd_jwt_presentation"))
    );
    assert!(matches!(unpack("GT2:"), Err(QrError::Truncated(_))));
    assert!(matches!(unpack("GT1:"), Err(QrError::Truncated(_))));

    // Truncation at every length: always an error, never a panic or a wrong presentation.
    for cut in (4..packed.len()).step_by(7) {
        assert!(unpack(&packed[..cut]).is_err(), "cut at {cut}");
    }
    let text_too_long = format!("GT2:{}", "0".repeat(8000));
    assert!(matches!(
        unpack(&text_too_long),
        Err(QrError::QrTextTooLong { .. })
    ));
}

#[test]
fn errors_say_what_is_wrong_without_echoing_data() {
    let packed = pack(&rfc_vector("simple", "sd_jwt_presentation")).unwrap();
    let cut = 4 + (packed.len() - 4) / 2 / 3 * 3;
    let message = unpack(&packed[..cut]).unwrap_err().to_string();
    assert!(
        message.contains("truncated") || message.contains("corrupt"),
        "{message}"
    );
    assert!(!message.contains(&packed[4..20]), "{message}");
    assert_eq!(
        QrError::UnknownPrefix.to_string(),
        "not a giayto QR code: unknown prefix"
    );
}

fn arb_part(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<u8>(), 0..max).prop_map(|b| URL_SAFE_NO_PAD.encode(b))
}

fn arb_json_part() -> impl Strategy<Value = String> {
    // JSON-like text with embedded random base64url strings of every length, to exercise lifting.
    prop::collection::vec(
        prop_oneof![
            "[a-z_]{1,12}".prop_map(|s| format!("\"{s}\":")),
            prop::collection::vec(any::<u8>(), 1..60)
                .prop_map(|b| format!("\"{}\",", URL_SAFE_NO_PAD.encode(b))),
            "[A-Za-z0-9_-]{10,50}".prop_map(|s| format!("\"{s}\"")),
            "[ -~]{0,20}",
        ],
        0..12,
    )
    .prop_map(|pieces| URL_SAFE_NO_PAD.encode(pieces.concat()))
}

/// Whether character `at` of a packed QR text encodes a byte of its deflate stream (the body
/// is `field(raw) deflate_raw(stream)`; base45 writes two bytes as three characters).
fn in_deflate_stream(packed: &str, at: usize) -> bool {
    let start = packed.find(':').unwrap() + 1;
    if at < start {
        return false;
    }
    let body = base45::decode(&packed[start..]).unwrap();
    let (mut raw_len, mut shift, mut varint_len) = (0usize, 0, 0);
    for byte in &body {
        raw_len |= usize::from(byte & 0x7f) << shift;
        shift += 7;
        varint_len += 1;
        if byte & 0x80 == 0 {
            break;
        }
    }
    let last_byte_of_group = ((at - start) / 3) * 2 + 1;
    last_byte_of_group >= varint_len + raw_len
}

#[test]
fn one_character_changes_that_rebuild_the_original_are_all_in_the_deflate_stream() {
    let original = rfc_vector("complex_ekyc", "sd_jwt_presentation");
    let packed = pack(&original).unwrap();
    let mut same = 0;
    for at in 4..packed.len() {
        for replacement in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+./:-".chars() {
            let mut mutated = packed.clone();
            mutated.replace_range(at..=at, &replacement.to_string());
            if mutated != packed && unpack(&mutated).is_ok_and(|rebuilt| rebuilt == original) {
                same += 1;
                assert!(
                    in_deflate_stream(&packed, at),
                    "change at {at} rebuilt the original"
                );
            }
        }
    }
    // Deflate is not canonical, so a few exist; each one is the same presentation, with the
    // same signatures and key-binding proof (the replay cache's key).
    assert!(
        same < 64,
        "{same} one-character changes rebuild the original"
    );
}

proptest! {
    #[test]
    fn random_presentations_round_trip(
        header in arb_json_part(),
        payload in arb_json_part(),
        signature in arb_part(80),
        disclosures in prop::collection::vec(arb_json_part().prop_filter("non-empty", |d| !d.is_empty()), 0..6),
        kb in prop::option::of((arb_json_part(), arb_json_part(), arb_part(80))),
    ) {
        let mut presentation = format!("{header}.{payload}.{signature}~");
        for d in &disclosures {
            presentation.push_str(d);
            presentation.push('~');
        }
        if let Some((h, p, s)) = &kb {
            presentation.push_str(&format!("{h}.{p}.{s}"));
        }
        let packed = pack(&presentation).unwrap();
        prop_assert_eq!(unpack(&packed).unwrap(), presentation.clone());
        let packed_v1 = pack_format(&presentation, Format::V1).unwrap();
        prop_assert_eq!(unpack(&packed_v1).unwrap(), presentation);
    }

    #[test]
    fn unpack_never_panics_on_random_text(text in "(GT1:|GTP1:|GT2:|GTP2:|GTC1:|)[0-9A-Z $%*+./:-]{0,300}") {
        let _ = unpack(&text);
    }

    #[test]
    fn unpack_never_panics_on_any_string(text in ".{0,200}") {
        let _ = unpack(&text);
        let _ = pack(&text);
    }

    #[test]
    fn unpack_never_panics_on_random_bodies(body in prop::collection::vec(any::<u8>(), 0..400)) {
        for prefix in ["GT1:", "GTP1:", "GT2:", "GTP2:"] {
            let _ = unpack(&format!("{prefix}{}", base45::encode(&body)));
        }
    }

    #[test]
    fn mutated_qr_text_never_panics_nor_passes_unnoticed(index in 0usize..10_000, replacement in "[0-9A-Z $%*+./:-]") {
        let original = rfc_vector("complex_ekyc", "sd_jwt_presentation");
        let packed = pack(&original).unwrap();
        let at = 4 + index % (packed.len() - 4);
        let mut mutated = packed.clone();
        mutated.replace_range(at..=at, &replacement);
        // A change is refused, or rebuilds a different presentation (whose signatures then
        // fail), or rebuilds the very same presentation: a deflate stream is not canonical
        // (the unused bits of its last byte, code lengths of symbols a block never uses), so
        // a few one-character changes there decode to the same bytes (found at 14 of the
        // 65,000 one-character changes of this text). The same presentation carries the same
        // signatures and key-binding proof, so it verifies as the holder's own and the
        // verifier's replay cache, keyed by that proof, sees it as the same showing.
        if let Ok(rebuilt) = unpack(&mutated) {
            prop_assert!(
                mutated == packed || rebuilt != original || in_deflate_stream(&packed, at),
                "a change at {} outside the deflate stream rebuilt the original", at
            );
        }
    }
}
