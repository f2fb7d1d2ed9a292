//! Prints how large the RFC 9901 examples and synthetic giayto presentations are as QR codes
//! (`cargo test -p giayto-core --test qr_sizes -- --nocapture`) and checks the size aims.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod qr_support;

use giayto_core::qr::{SizeReport, size_report};
use qr_support::*;

fn report(name: &str, presentation: &str) -> SizeReport {
    let r = size_report(presentation).unwrap();
    let v = |v: Option<u8>| v.map_or("-".to_owned(), |v| v.to_string());
    println!(
        "{name:<34} compact {:>5}  qr text {:>5}  version L {:>2}  M {:>2}  Q {:>2}",
        r.compact_len,
        r.qr_text_len,
        v(r.version_l),
        v(r.version_m),
        v(r.version_q)
    );
    r
}

#[test]
fn rfc_examples() {
    for example in [
        "simple",
        "simple_structured",
        "complex_ekyc",
        "arf-pid",
        "address_only_flat",
    ] {
        for file in ["sd_jwt_presentation", "sd_jwt_issuance"] {
            let r = report(&format!("{example}/{file}"), &rfc_vector(example, file));
            assert!(
                r.qr_text_len < r.compact_len,
                "packing must shrink {example}/{file}"
            );
        }
    }
}

#[test]
fn giayto_presets_shrink_by_a_third() {
    let traffic = report("licence traffic stop + KB", &licence_traffic_stop(true));
    let full = report("licence full + KB", &licence_full(true));
    report("licence traffic stop paper", &licence_traffic_stop(false));
    for digests in [2, 4, 8, 16] {
        report(
            &format!("age_over_18 + KB, {digests} digests"),
            &age_over_18(digests),
        );
    }
    for r in [traffic, full] {
        assert!(r.qr_text_len * 100 <= r.compact_len * 68, "{r:?}");
    }
}
