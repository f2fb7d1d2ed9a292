//! QR images: render -> decode -> unpack gives back the exact presentation (PNG and JPEG);
//! damaged or foreign images give clear errors, never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod qr_support;

use std::io::Cursor;

use giayto_core::qr::image::is_alphanumeric_encoded;
use giayto_core::qr::{
    EcLevel, QrError, decode_image, pack, qr_version, render_png, render_svg, render_terminal,
    unpack,
};
use image::{DynamicImage, ImageFormat};
use qr_support::*;

fn presentations() -> Vec<String> {
    vec![
        rfc_vector("simple", "sd_jwt_presentation"),
        rfc_vector("address_only_flat", "sd_jwt_issuance"),
        licence_traffic_stop(true),
        age_over_18(2),
    ]
}

#[test]
fn png_round_trip_rebuilds_the_presentation() {
    for presentation in presentations() {
        let text = pack(&presentation).unwrap();
        assert!(is_alphanumeric_encoded(&text));
        let png = render_png(&text, EcLevel::M).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(unpack(&decode_image(&png).unwrap()).unwrap(), presentation);
    }
}

#[test]
fn jpeg_round_trip_rebuilds_the_presentation() {
    for presentation in presentations() {
        let text = pack(&presentation).unwrap();
        let png = render_png(&text, EcLevel::M).unwrap();
        let img = image::load_from_memory_with_format(&png, ImageFormat::Png).unwrap();
        let mut jpeg = Vec::new();
        DynamicImage::ImageRgb8(img.to_rgb8())
            .write_to(&mut Cursor::new(&mut jpeg), ImageFormat::Jpeg)
            .unwrap();
        assert_eq!(&jpeg[..2], b"\xff\xd8");
        assert_eq!(unpack(&decode_image(&jpeg).unwrap()).unwrap(), presentation);
    }
}

#[test]
fn every_level_decodes_and_higher_levels_need_larger_codes() {
    let text = pack(&age_over_18(2)).unwrap();
    let mut last = 0;
    for ec in [EcLevel::L, EcLevel::M, EcLevel::Q, EcLevel::H] {
        let version = qr_version(&text, ec).unwrap();
        assert!(version > last, "{ec:?}");
        last = version;
        assert_eq!(decode_image(&render_png(&text, ec).unwrap()).unwrap(), text);
    }
}

#[test]
fn svg_and_terminal_renderings_have_the_right_size() {
    let text = pack(&rfc_vector("address_only_flat", "sd_jwt_issuance")).unwrap();
    let version = usize::from(qr_version(&text, EcLevel::M).unwrap());
    let modules = 17 + 4 * version + 8; // with the 4-module quiet zone on each side
    let svg = render_svg(&text, EcLevel::M).unwrap();
    assert!(svg.starts_with("<?xml") && svg.contains("<svg") && svg.trim_end().ends_with("</svg>"));
    let units = modules * 8;
    assert!(
        svg.contains(&format!("viewBox=\"0 0 {units} {units}\"")),
        "{}",
        &svg[..200]
    );
    let terminal = render_terminal(&text, EcLevel::M).unwrap();
    let lines: Vec<&str> = terminal.lines().collect();
    assert_eq!(lines.len(), modules.div_ceil(2));
    assert!(lines.iter().all(|l| l.chars().count() == modules));
    assert!(
        terminal
            .chars()
            .all(|c| matches!(c, ' ' | '\u{2580}' | '\u{2584}' | '\u{2588}' | '\n'))
    );
}

#[test]
fn text_too_long_for_any_qr_is_refused() {
    let text = "A".repeat(4297);
    assert_eq!(
        render_png(&text, EcLevel::L),
        Err(QrError::DataTooLongForQr("L"))
    );
    assert_eq!(
        qr_version(&"A".repeat(1853), EcLevel::H),
        Err(QrError::DataTooLongForQr("H"))
    );
}

#[test]
fn damaged_or_foreign_images_give_clear_errors() {
    let png = render_png(&pack(&age_over_18(2)).unwrap(), EcLevel::M).unwrap();
    for cut in [8, 33, 100, png.len() / 2, png.len() - 13] {
        assert!(
            matches!(decode_image(&png[..cut]), Err(QrError::NotAnImage(_))),
            "cut at {cut}"
        );
    }
    assert!(matches!(
        decode_image(b"not an image at all"),
        Err(QrError::NotAnImage(_))
    ));
    assert!(matches!(decode_image(b""), Err(QrError::NotAnImage(_))));
    let gif = b"GIF89a\x0a\x00\x0a\x00\x00\x00\x00;";
    assert!(matches!(decode_image(gif), Err(QrError::NotAnImage(_))));

    let mut blank = Vec::new();
    DynamicImage::new_luma8(200, 200)
        .write_to(&mut Cursor::new(&mut blank), ImageFormat::Png)
        .unwrap();
    assert_eq!(decode_image(&blank), Err(QrError::NoQrFound));
}

#[test]
fn a_scratched_code_beyond_repair_is_reported_not_misread() {
    let text = pack(&age_over_18(2)).unwrap();
    let png = render_png(&text, EcLevel::L).unwrap();
    let mut img = image::load_from_memory(&png).unwrap().to_luma8();
    // Paint a white band across the data region (finder patterns intact), well beyond 7 %.
    let (w, h) = img.dimensions();
    for y in h / 2 - h / 8..h / 2 + h / 8 {
        for x in w / 3..w * 2 / 3 {
            img.put_pixel(x, y, image::Luma([255]));
        }
    }
    let mut damaged = Vec::new();
    img.write_to(&mut Cursor::new(&mut damaged), ImageFormat::Png)
        .unwrap();
    match decode_image(&damaged) {
        Err(QrError::QrDecodeFailed(_) | QrError::NoQrFound) => {}
        other => panic!("expected a decode failure, got {other:?}"),
    }
}

#[test]
fn oversized_images_are_refused_before_decoding() {
    // A PNG header announcing 10000 x 5000 pixels: refused on its dimensions alone.
    let mut png = Vec::new();
    let big = image::GrayImage::new(1, 1);
    big.write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .unwrap();
    // Patch IHDR width/height (bytes 16..24) and fix its CRC.
    png[16..20].copy_from_slice(&10_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&5_000u32.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    assert!(matches!(
        decode_image(&png),
        Err(QrError::ImageTooLarge { .. })
    ));
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
