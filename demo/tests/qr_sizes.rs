//! The QR size targets of purpose credentials (issue 11), with the demo server's issuer and
//! status URLs, level M, alphanumeric: driving licence `traffic_stop` version 18 or lower,
//! `age_over_18` of every type 15 or lower, every other preset but `full` 20 or lower, one-way
//! and two-way. Sizes are deterministic (fixed-length keys, signatures, salts and nonces, no
//! decoys), so this fails as soon as a preset grows past its target. Each preset's QR is
//! also drawn at 4 px per module, rotated 8 degrees, downscaled by half and blurred, and must
//! still be read by rqrr and by zbarimg and verify; the terminal drawing of the traffic stop
//! must fit 100 columns. The README's table is the example's output, as it says.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use giayto_core::catalogue;
use giayto_core::jose::{Jwks, Signer, SoftwareSigner};
use giayto_core::qr::{EcLevel, decode_image, render_png, render_terminal};
use giayto_core::status_list::{StatusList, sign_token};
use giayto_core::trust_list::{IssuerName, TrustList, TrustedIssuer};
use giayto_core::verifier::VerifierDevice;
use giayto_demo::sizes::{
    CredentialKind, DEMO_VERIFIER_ID, NOW, Row, Way, demo_issuer, demo_keys, demo_status,
    markdown_table, measure, target_version,
};
use image::imageops::{self, FilterType};
use image::{GrayImage, ImageFormat, Luma};

fn rows() -> (Vec<Row>, SoftwareSigner) {
    let (issuer, holder) = demo_keys().unwrap();
    (measure(&issuer, &holder).unwrap(), issuer)
}

#[test]
fn every_purpose_credential_fits_its_target() {
    let (rows, _) = rows();
    let mut over = Vec::new();
    let mut checked = 0;
    for row in rows.iter().filter(|r| r.kind == CredentialKind::Purpose) {
        let target = target_version(row.document.id, row.preset).unwrap();
        let version = row.report.version_m.unwrap();
        println!(
            "{:<22} {:<16} {:?} version M {version:>2} (target {target}), {} characters",
            row.document.id, row.preset, row.way, row.report.qr_text_len
        );
        if version > target {
            over.push(format!(
                "{} {} {:?}: version {version} > {target}",
                row.document.id, row.preset, row.way
            ));
        }
        assert!(giayto_core::qr::image::is_alphanumeric_encoded(
            &row.qr_text
        ));
        checked += 1;
    }
    // Every preset but `full` of every type, one-way and two-way.
    let purposes: usize = catalogue::all().iter().map(|d| d.purposes().count()).sum();
    assert_eq!(checked, purposes * 2);
    assert!(over.is_empty(), "{over:#?}");
    assert_eq!(target_version("driving_licence", "traffic_stop"), Some(18));
    assert_eq!(target_version("health_book", "age_over_18"), Some(15));
    assert_eq!(target_version("can_cuoc", "full"), None);
}

/// How many characters a row's QR text may differ from the README's: the ECDSA signatures
/// and keys are random, and DEFLATE packs random bytes a few bits longer or shorter (3 at
/// most over 12 runs of every row); all else is the same on every run.
const QR_TEXT_SPREAD: i64 = 8;

#[test]
fn the_readme_table_is_the_examples_output_and_says_how_it_was_made() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let table = markdown_table(&rows().0);
    let mut lines = table.lines();
    let header = lines.next().unwrap();
    let (before, after) = readme
        .split_once(header)
        .expect("the README has no QR size table");
    assert!(
        before.contains("cargo run --release -p giayto-demo --example qr_sizes"),
        "the README does not say how its table was made"
    );
    let cells = |line: &str| -> Vec<String> {
        line.trim_matches('|')
            .split('|')
            .map(|c| c.trim().to_owned())
            .collect()
    };
    let regenerate = "regenerate it: `cargo run --release -p giayto-demo --example qr_sizes`";
    let after = after.trim_start_matches('\n');
    for (measured, kept) in lines.zip(after.lines()) {
        let (measured, kept) = (cells(measured), cells(kept));
        let number = |row: &[String], i: usize| row[i].parse::<i64>().unwrap_or(-1);
        let same = measured.len() == kept.len()
            && [0, 1, 2, 3, 4, 7].iter().all(|&i| measured[i] == kept[i])
            && (number(&measured, 5) - number(&kept, 5)).abs() <= QR_TEXT_SPREAD
            && (number(&measured, 6) - number(&kept, 6)).abs() <= 1;
        assert!(
            same,
            "README row {kept:?} is not the example's {measured:?}: {regenerate}"
        );
    }
    let rows_kept = after.lines().take_while(|l| l.starts_with('|')).count();
    assert_eq!(rows_kept, table.lines().count() - 1, "{regenerate}");
}

#[test]
fn the_traffic_stop_fits_100_terminal_columns() {
    let (rows, _) = rows();
    let row = rows
        .iter()
        .find(|r| {
            r.document.id == "driving_licence"
                && r.preset == "traffic_stop"
                && r.kind == CredentialKind::Purpose
                && r.way == Way::OneWay
        })
        .unwrap();
    let drawn = render_terminal(&row.qr_text, EcLevel::M).unwrap();
    let widest = drawn.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(widest <= 100, "{widest} columns");
}

/// `img` rotated by `degrees` about its centre (bilinear, white outside), on a canvas
/// large enough to hold it.
fn rotate(img: &GrayImage, degrees: f64) -> GrayImage {
    let (w, h) = (f64::from(img.width()), f64::from(img.height()));
    let (sin, cos) = degrees.to_radians().sin_cos();
    let out_w = (w * cos.abs() + h * sin.abs()).ceil();
    let out_h = (w * sin.abs() + h * cos.abs()).ceil();
    let (cx, cy, ox, oy) = (w / 2.0, h / 2.0, out_w / 2.0, out_h / 2.0);
    let sample = |x: f64, y: f64| -> f64 {
        let at = |x: i64, y: i64| -> f64 {
            if x < 0 || y < 0 || x >= i64::from(img.width()) || y >= i64::from(img.height()) {
                255.0
            } else {
                f64::from(img.get_pixel(x as u32, y as u32)[0])
            }
        };
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let (x0, y0) = (x0 as i64, y0 as i64);
        at(x0, y0) * (1.0 - fx) * (1.0 - fy)
            + at(x0 + 1, y0) * fx * (1.0 - fy)
            + at(x0, y0 + 1) * (1.0 - fx) * fy
            + at(x0 + 1, y0 + 1) * fx * fy
    };
    GrayImage::from_fn(out_w as u32, out_h as u32, |x, y| {
        let (dx, dy) = (f64::from(x) + 0.5 - ox, f64::from(y) + 0.5 - oy);
        let sx = cos * dx + sin * dy + cx - 0.5;
        let sy = -sin * dx + cos * dy + cy - 0.5;
        Luma([sample(sx, sy).round().clamp(0.0, 255.0) as u8])
    })
}

/// "Slightly blurred": a Gaussian of this many pixels at the final scale (2 px per module).
const BLUR_SIGMA: f32 = 0.45;

/// Fixed Ed25519 keys (deterministic signatures), so the images scanned are the same on
/// every run: a reader's luck on one random code cannot make the test flaky.
const ISSUER_KEY: &str = r#"{"kty":"OKP","crv":"Ed25519","x":"1OiJGGqqpCzx5TCSrZMsnINZ2ntJwWSRCthBmTM0SyY","d":"e-7Ao4uJulN6gMs6a26JBtZxiShDI6npAlkusoeF2UY"}"#;
const HOLDER_KEY: &str = r#"{"kty":"OKP","crv":"Ed25519","x":"y3N1dqsHJFF5IHFRGBhj-bOp8E8yu_kOP1UrwWVOaqo","d":"ArSspn5zhT2ooENkrY7DhUsNZnwc8iXdniYRGsZoLaE"}"#;

fn fixed_signer(jwk: &str) -> SoftwareSigner {
    let jwk: giayto_core::jose::Jwk = serde_json::from_str(jwk).unwrap();
    SoftwareSigner::from_jwk(&jwk.with_thumbprint_kid().unwrap()).unwrap()
}

/// The PNG as a phone camera might see it: 4 px per module, rotated 8 degrees, downscaled
/// by half, slightly blurred.
fn degraded_png(qr_text: &str) -> Vec<u8> {
    let png = render_png(qr_text, EcLevel::M).unwrap();
    let drawn = image::load_from_memory(&png).unwrap().to_luma8();
    // render_png draws 8 px per module: nearest-neighbour halving gives exactly 4.
    let at_4px = imageops::resize(
        &drawn,
        drawn.width() / 2,
        drawn.height() / 2,
        FilterType::Nearest,
    );
    let rotated = rotate(&at_4px, 8.0);
    let small = imageops::resize(
        &rotated,
        rotated.width() / 2,
        rotated.height() / 2,
        FilterType::Triangle,
    );
    let blurred = imageops::blur(&small, BLUR_SIGMA);
    let mut out = Vec::new();
    blurred
        .write_to(&mut std::io::Cursor::new(&mut out), ImageFormat::Png)
        .unwrap();
    out
}

fn zbarimg(png: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("qr.png");
    std::fs::write(&path, png).unwrap();
    let out = Command::new("zbarimg")
        .args(["--quiet", "--raw"])
        .arg(&path)
        .output()
        .expect("zbarimg (zbar-tools, installed by scripts/test.sh)");
    assert!(out.status.success(), "zbarimg found no code");
    String::from_utf8(out.stdout).unwrap().trim_end().to_owned()
}

/// A verifier device that trusts the demo agencies' key for every type they issue, full and
/// purpose alike, with an all-valid status list at the demo status URL.
fn device(issuer: &SoftwareSigner) -> VerifierDevice {
    let anchor = SoftwareSigner::generate(giayto_core::jose::Algorithm::Es256).unwrap();
    let key = issuer.public_jwk().unwrap().with_thumbprint_kid().unwrap();
    let issuers = giayto_server::demo::DEMO_AGENCIES
        .iter()
        .map(|(id, vi, en, types)| TrustedIssuer {
            id: demo_issuer(id),
            name: IssuerName {
                vi: (*vi).into(),
                en: (*en).into(),
            },
            jwks: Jwks {
                keys: vec![key.clone()],
            },
            vcts: types
                .iter()
                .flat_map(|t| {
                    let doc = catalogue::by_id(t).unwrap();
                    std::iter::once(doc.vct.to_owned()).chain(doc.purposes().map(|p| p.vct()))
                })
                .collect(),
            status_list_aggregation_endpoint: None,
        })
        .collect();
    let trust_list = TrustList {
        iss: "https://trust.giayto.gov.vn".into(),
        iat: NOW - 3600,
        exp: NOW + 86_400,
        issuers,
        verifier_anchors: Vec::new(),
        verifiers: Vec::new(),
    }
    .sign(&anchor)
    .unwrap();
    let anchors = Jwks {
        keys: vec![anchor.public_jwk().unwrap().with_thumbprint_kid().unwrap()],
    };
    let mut device = VerifierDevice::new(anchors, DEMO_VERIFIER_ID).unwrap();
    device.load_trust_list(&trust_list, NOW).unwrap();
    let status = demo_status();
    let list = StatusList::new(2, 1 << 17).unwrap();
    let token = sign_token(
        &status.uri,
        &list,
        NOW - 60,
        Some(NOW + 86_400),
        None,
        issuer,
    )
    .unwrap();
    device.load_status_list(&status.uri, &token, NOW).unwrap();
    device
}

#[test]
fn every_preset_scans_when_rotated_downscaled_and_blurred_and_verifies() {
    let (issuer, holder) = (fixed_signer(ISSUER_KEY), fixed_signer(HOLDER_KEY));
    let rows = measure(&issuer, &holder).unwrap();
    let again = measure(&issuer, &holder).unwrap();
    // Purpose credentials have no salts: their codes are the same on every run.
    for (a, b) in rows.iter().zip(&again) {
        if a.kind == CredentialKind::Purpose {
            assert_eq!(a.qr_text, b.qr_text, "{} {}", a.document.id, a.preset);
        }
    }
    let mut device = device(&issuer);
    for row in rows
        .iter()
        .filter(|r| r.kind == CredentialKind::Purpose && r.way == Way::OneWay)
    {
        let png = degraded_png(&row.qr_text);
        let by_rqrr = decode_image(&png)
            .unwrap_or_else(|e| panic!("rqrr: {} {}: {e}", row.document.id, row.preset));
        assert_eq!(
            by_rqrr, row.qr_text,
            "rqrr {} {}",
            row.document.id, row.preset
        );
        assert_eq!(
            zbarimg(&png),
            row.qr_text,
            "zbarimg {} {}",
            row.document.id,
            row.preset
        );
        let scan = device.verify_qr_text(&by_rqrr, NOW).unwrap();
        assert!(
            scan.verdict.valid,
            "{} {}: {:?}",
            row.document.id, row.preset, scan.verdict.errors
        );
        // The verdict names the document and the purpose, and labels the claims shown.
        let named = scan.verdict.document_type.as_ref().unwrap();
        assert_eq!(named.id.as_deref(), Some(row.document.id));
        assert_eq!(named.purpose.as_ref().unwrap().preset, row.preset);
        assert!(!scan.verdict.claims.is_empty());
        assert!(scan.verdict.claims.iter().all(|c| c.label.is_some()));
    }
}
