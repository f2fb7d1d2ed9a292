//! QR images: render giayto QR text as PNG, SVG or terminal art at the smallest QR version
//! for the chosen error-correction level, and read QR text back from a photo or screenshot.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use image::{ImageFormat, ImageReader, Limits, Luma};
use qrcode::bits::Bits;
use qrcode::optimize::{Parser, Segment};
use qrcode::render::{svg, unicode};
use qrcode::types::{Mode, QrError as EncodeError};
use qrcode::{QrCode, Version};

use super::QrError;

/// Pixels per QR module in rendered PNGs.
const PNG_MODULE_PX: u32 = 8;
/// The largest image decoded, in pixels (width x height).
pub const MAX_IMAGE_PIXELS: u64 = 40_000_000;
/// The largest width or height decoded.
const MAX_IMAGE_SIDE: u32 = 16_384;
/// The most memory the image decoder may allocate.
const MAX_IMAGE_ALLOC: u64 = 192 * 1024 * 1024;

/// QR error-correction level: the share of the code that can be damaged and still read
/// (L about 7 %, M 15 %, Q 25 %, H 30 %). Higher levels need larger codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EcLevel {
    /// About 7 % recoverable.
    L,
    /// About 15 % recoverable; the default for presentations.
    M,
    /// About 25 % recoverable.
    Q,
    /// About 30 % recoverable.
    H,
}

impl EcLevel {
    fn to_qrcode(self) -> qrcode::EcLevel {
        match self {
            EcLevel::L => qrcode::EcLevel::L,
            EcLevel::M => qrcode::EcLevel::M,
            EcLevel::Q => qrcode::EcLevel::Q,
            EcLevel::H => qrcode::EcLevel::H,
        }
    }

    fn name(self) -> &'static str {
        match self {
            EcLevel::L => "L",
            EcLevel::M => "M",
            EcLevel::Q => "Q",
            EcLevel::H => "H",
        }
    }
}

/// Segments for `text` at `version`: the crate's optimal segmentation, which keeps giayto
/// texts (base45 behind an upper-case prefix) in alphanumeric and numeric modes.
fn segments(text: &str, version: Version) -> Vec<Segment> {
    Parser::new(text.as_bytes()).optimize(version).collect()
}

/// The bits of `text` at `version`, or `None` when it does not fit.
fn encode_at(
    text: &str,
    version: Version,
    level: qrcode::EcLevel,
) -> Result<Option<Bits>, QrError> {
    let mut bits = Bits::new(version);
    let pushed = bits
        .push_segments(text.as_bytes(), segments(text, version).into_iter())
        .and_then(|()| bits.push_terminator(level));
    match pushed {
        Ok(()) => Ok(Some(bits)),
        Err(EncodeError::DataTooLong) => Ok(None),
        Err(e) => Err(QrError::QrBuild(e.to_string())),
    }
}

/// Builds the QR code of the smallest version (1 to 40) that holds `text` at `ec`; capacity
/// grows with the version, so a binary search finds it.
fn build(text: &str, ec: EcLevel) -> Result<QrCode, QrError> {
    let level = ec.to_qrcode();
    let Some(mut best) = encode_at(text, Version::Normal(40), level)? else {
        return Err(QrError::DataTooLongForQr(ec.name()));
    };
    let (mut low, mut high) = (1i16, 40i16); // invariant: `high` fits, everything below `low` does not
    while low < high {
        let mid = low + (high - low) / 2;
        match encode_at(text, Version::Normal(mid), level)? {
            Some(bits) => {
                best = bits;
                high = mid;
            }
            None => low = mid + 1,
        }
    }
    QrCode::with_bits(best, level).map_err(|e| QrError::QrBuild(e.to_string()))
}

/// The smallest QR version (1 to 40) that holds `text` at error-correction level `ec`.
pub fn qr_version(text: &str, ec: EcLevel) -> Result<u8, QrError> {
    match build(text, ec)?.version() {
        Version::Normal(n) => {
            u8::try_from(n).map_err(|_| QrError::QrBuild("version out of range".into()))
        }
        Version::Micro(_) => Err(QrError::QrBuild("unexpected Micro QR version".into())),
    }
}

/// Whether every QR segment of `text` uses alphanumeric or numeric mode (never byte mode),
/// as every giayto QR text does.
pub fn is_alphanumeric_encoded(text: &str) -> bool {
    segments(text, Version::Normal(40))
        .iter()
        .all(|s| matches!(s.mode, Mode::Alphanumeric | Mode::Numeric))
}

/// Renders `text` as a greyscale PNG (8 pixels per module, 4-module quiet zone).
pub fn render_png(text: &str, ec: EcLevel) -> Result<Vec<u8>, QrError> {
    let code = build(text, ec)?;
    let img = code
        .render::<Luma<u8>>()
        .module_dimensions(PNG_MODULE_PX, PNG_MODULE_PX)
        .quiet_zone(true)
        .build();
    let mut png = Vec::new();
    img.write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .map_err(|e| QrError::ImageEncode(e.to_string()))?;
    Ok(png)
}

/// Renders `text` as a standalone SVG document (8 units per module, quiet zone included),
/// black on white, scalable for print.
pub fn render_svg(text: &str, ec: EcLevel) -> Result<String, QrError> {
    let code = build(text, ec)?;
    Ok(code
        .render::<svg::Color<'_>>()
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .quiet_zone(true)
        .build())
}

/// Renders `text` for a terminal with Unicode half blocks, two modules rows per text line.
///
/// Light modules are drawn as blocks, so the code reads correctly in the usual light-on-dark
/// terminal; the quiet zone is included.
pub fn render_terminal(text: &str, ec: EcLevel) -> Result<String, QrError> {
    let code = build(text, ec)?;
    Ok(code
        .render::<unicode::Dense1x2>()
        .dark_color(unicode::Dense1x2::Light)
        .light_color(unicode::Dense1x2::Dark)
        .quiet_zone(true)
        .build())
}

/// Reads the text of the first QR code that decodes in a PNG or JPEG photo or screenshot.
///
/// Images over [`MAX_IMAGE_PIXELS`] are refused before their pixels are decoded.
pub fn decode_image(bytes: &[u8]) -> Result<String, QrError> {
    let reader = || -> Result<ImageReader<Cursor<&[u8]>>, QrError> {
        let reader = ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| QrError::NotAnImage(e.to_string()))?;
        match reader.format() {
            Some(ImageFormat::Png | ImageFormat::Jpeg) => Ok(reader),
            _ => Err(QrError::NotAnImage(
                "the data is neither PNG nor JPEG".into(),
            )),
        }
    };
    let too_large = QrError::ImageTooLarge {
        max_pixels: MAX_IMAGE_PIXELS,
        max_bytes: MAX_IMAGE_ALLOC,
    };
    let (width, height) = reader()?
        .into_dimensions()
        .map_err(|e| QrError::NotAnImage(e.to_string()))?;
    if u64::from(width) * u64::from(height) > MAX_IMAGE_PIXELS || width.max(height) > MAX_IMAGE_SIDE
    {
        return Err(too_large);
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(MAX_IMAGE_ALLOC);
    let mut reader = reader()?;
    reader.limits(limits);

    // A decoder fault on hostile pixels must not take the verifier down.
    catch_unwind(AssertUnwindSafe(move || {
        let luma = reader
            .decode()
            .map_err(|e| match e {
                image::ImageError::Limits(_) => too_large,
                e => QrError::NotAnImage(e.to_string()),
            })?
            .into_luma8();
        let first = read_grids(luma.clone());
        if first.is_ok() {
            return first;
        }
        // A small, soft image (a code seen from afar, about 2 pixels per module, slightly
        // blurred or turned) often hides its finder patterns from rqrr's local thresholding.
        // Enlarged with a sharp filter and cut at one global (Otsu) threshold, it reads; a
        // few such views are tried in turn. Only small images are enlarged, so memory and
        // time stay bounded (at most 4 x 512 pixels a side).
        if luma.width().max(luma.height()) <= MAX_UPSCALED_SIDE {
            for (scale, filter, sigma) in SMALL_IMAGE_VIEWS {
                let mut larger = image::imageops::resize(
                    &luma,
                    luma.width() * scale,
                    luma.height() * scale,
                    filter,
                );
                if sigma > 0.0 {
                    larger = image::imageops::blur(&larger, sigma);
                }
                if let Ok(content) = read_grids(binarize(&larger)) {
                    return Ok(content);
                }
            }
        }
        first
    }))
    .unwrap_or_else(|_| {
        Err(QrError::QrDecodeFailed(
            "the decoder failed on this image".into(),
        ))
    })
}

/// The largest side of an image [`decode_image`] enlarges when rqrr finds nothing in it.
const MAX_UPSCALED_SIDE: u32 = 512;

/// The enlarged views of a small image tried in turn: scale, filter, blur sigma (pixels).
const SMALL_IMAGE_VIEWS: [(u32, image::imageops::FilterType, f32); 5] = [
    (3, image::imageops::FilterType::CatmullRom, 0.0),
    (3, image::imageops::FilterType::Lanczos3, 1.0),
    (4, image::imageops::FilterType::CatmullRom, 0.0),
    (2, image::imageops::FilterType::CatmullRom, 0.0),
    (4, image::imageops::FilterType::CatmullRom, 1.0),
];

/// `luma` in black and white at the threshold that best separates its two classes of grey
/// (N. Otsu, "A threshold selection method from gray-level histograms", 1979).
fn binarize(luma: &image::GrayImage) -> image::GrayImage {
    let mut histogram = [0u64; 256];
    for pixel in luma.pixels() {
        histogram[usize::from(pixel[0])] += 1;
    }
    let total: u64 = histogram.iter().sum();
    let sum_all: f64 = (0..256).map(|v| v as f64 * histogram[v] as f64).sum();
    let (mut weight_dark, mut sum_dark) = (0u64, 0f64);
    let (mut best, mut threshold) = (0f64, 128u8);
    for (value, &count) in histogram.iter().enumerate() {
        weight_dark += count;
        if weight_dark == 0 {
            continue;
        }
        let weight_light = total - weight_dark;
        if weight_light == 0 {
            break;
        }
        sum_dark += value as f64 * count as f64;
        let mean_dark = sum_dark / weight_dark as f64;
        let mean_light = (sum_all - sum_dark) / weight_light as f64;
        let between = weight_dark as f64 * weight_light as f64 * (mean_dark - mean_light).powi(2);
        if between > best {
            best = between;
            threshold = u8::try_from(value).unwrap_or(u8::MAX);
        }
    }
    image::GrayImage::from_fn(luma.width(), luma.height(), |x, y| {
        image::Luma([if luma.get_pixel(x, y)[0] <= threshold {
            0
        } else {
            255
        }])
    })
}

/// The content of the first QR code rqrr decodes in `luma`.
fn read_grids(luma: image::GrayImage) -> Result<String, QrError> {
    let mut prepared = rqrr::PreparedImage::prepare(luma);
    let grids = prepared.detect_grids();
    let mut first_error = None;
    for grid in &grids {
        match grid.decode() {
            Ok((_, content)) => return Ok(content),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        None => Err(QrError::NoQrFound),
        Some(e) => Err(QrError::QrDecodeFailed(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_grow_with_data_and_level() {
        assert_eq!(qr_version("GT1:", EcLevel::L).unwrap(), 1);
        let text = "A".repeat(1000);
        let l = qr_version(&text, EcLevel::L).unwrap();
        let h = qr_version(&text, EcLevel::H).unwrap();
        assert!(l < h, "{l} {h}");
        // 4296 alphanumeric characters is the capacity of 40-L.
        assert_eq!(qr_version(&"A".repeat(4296), EcLevel::L).unwrap(), 40);
        assert_eq!(
            qr_version(&"A".repeat(4297), EcLevel::L),
            Err(QrError::DataTooLongForQr("L"))
        );
    }

    #[test]
    fn the_chosen_version_is_the_smallest_that_fits() {
        for len in [10, 214, 1000, 2000] {
            let text = format!("GT1:{}", "A1".repeat(len / 2));
            for ec in [EcLevel::L, EcLevel::M, EcLevel::Q, EcLevel::H] {
                let Ok(v) = qr_version(&text, ec) else {
                    assert_eq!(
                        qr_version(&text, ec),
                        Err(QrError::DataTooLongForQr(ec.name()))
                    );
                    assert!(
                        QrCode::with_version(&text, Version::Normal(40), ec.to_qrcode()).is_err()
                    );
                    continue;
                };
                let level = ec.to_qrcode();
                assert!(QrCode::with_version(&text, Version::Normal(i16::from(v)), level).is_ok());
                if v > 1 {
                    let smaller =
                        QrCode::with_version(&text, Version::Normal(i16::from(v) - 1), level);
                    assert!(
                        smaller.is_err(),
                        "{len} chars at {ec:?} also fit in version {}",
                        v - 1
                    );
                }
            }
        }
    }

    #[test]
    fn lower_case_needs_byte_mode() {
        assert!(is_alphanumeric_encoded("GT1:AB CD$%*+-./:0123456789"));
        assert!(!is_alphanumeric_encoded("GT1:abc"));
    }
}
