//! The one error type of the QR codec: every way a scanned QR, an image or a challenge can be wrong.

use thiserror::Error;

/// Which base64url part of a compact SD-JWT presentation an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The issuer-signed JWT's protected header.
    IssuerHeader,
    /// The issuer-signed JWT's payload.
    IssuerPayload,
    /// The issuer-signed JWT's signature.
    IssuerSignature,
    /// Disclosure number `n` (0-based, in presentation order).
    Disclosure(usize),
    /// The key-binding JWT's protected header.
    KbHeader,
    /// The key-binding JWT's payload.
    KbPayload,
    /// The key-binding JWT's signature.
    KbSignature,
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Part::IssuerHeader => f.write_str("issuer JWT header"),
            Part::IssuerPayload => f.write_str("issuer JWT payload"),
            Part::IssuerSignature => f.write_str("issuer JWT signature"),
            Part::Disclosure(n) => write!(f, "disclosure {n}"),
            Part::KbHeader => f.write_str("key-binding JWT header"),
            Part::KbPayload => f.write_str("key-binding JWT payload"),
            Part::KbSignature => f.write_str("key-binding JWT signature"),
        }
    }
}

/// Everything that can go wrong packing, unpacking, rendering or scanning a giayto QR.
///
/// Messages describe the defect only; they never echo the scanned data.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum QrError {
    /// The presentation is not `<JWT>~<disclosure>~...~[<KB-JWT>]`.
    #[error("malformed SD-JWT presentation: {0}")]
    MalformedPresentation(&'static str),
    /// A base64url part is not in canonical form; re-encoding it would change signed bytes.
    #[error(
        "{0} is not canonical base64url (padding, a character outside the alphabet, or non-zero unused bits)"
    )]
    NonCanonicalBase64(Part),
    /// The presentation (given or rebuilt) exceeds the verifier's input limit.
    #[error("presentation of {len} bytes exceeds the {max}-byte limit")]
    PresentationTooLarge {
        /// Length in bytes (for a rebuilt one: the length it would have).
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The packed text would not fit in any QR code.
    #[error("packed text of {len} characters does not fit in a QR code (at most {max})")]
    TooLargeForQr {
        /// Length of the packed text.
        len: usize,
        /// The largest QR capacity in characters.
        max: usize,
    },
    /// The scanned text is longer than any QR code can hold.
    #[error("QR text of {len} characters is longer than any QR code holds (at most {max})")]
    QrTextTooLong {
        /// Length of the scanned text.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The text does not start with a giayto prefix (`GT2:`, `GTP2:`, `GTC1:`, `GT1:`, `GTP1:`).
    #[error("not a giayto QR code: unknown prefix")]
    UnknownPrefix,
    /// A giayto prefix with a format version this build does not know.
    #[error(
        "giayto QR format {kind} version {version} is not supported by this version (supported: presentations 1 and 2, challenges 1)"
    )]
    UnsupportedVersion {
        /// `presentation`, `paper` or `challenge`.
        kind: &'static str,
        /// The version number read from the prefix.
        version: u32,
    },
    /// The text after the prefix is not valid base45 (RFC 9285).
    #[error("QR data is not valid base45: {0}")]
    InvalidBase45(&'static str),
    /// The binary data ended before a field was complete.
    #[error("QR data is truncated: {0} is incomplete")]
    Truncated(&'static str),
    /// A length field is larger than this format allows.
    #[error("QR data is corrupt: {0}")]
    Corrupt(&'static str),
    /// The compressed part does not inflate.
    #[error("QR data is corrupt: the compressed part does not decompress ({0})")]
    BadCompression(&'static str),
    /// The compressed part inflates to more than the limit.
    #[error("QR data decompresses to more than {max} bytes")]
    DecompressedTooLarge {
        /// The limit in bytes.
        max: usize,
    },
    /// Bytes remain after the last field.
    #[error("QR data has {0} unexpected trailing bytes")]
    TrailingData(usize),
    /// The prefix and the content disagree about key binding.
    #[error("QR data is inconsistent: {0}")]
    KindMismatch(&'static str),
    /// Compression failed while packing (an internal fault of the compressor).
    #[error("compression failed")]
    CompressionFailed,

    /// The text does not fit in a QR code of version 40 at the chosen error-correction level.
    #[error("data does not fit in a QR code at error-correction level {0}")]
    DataTooLongForQr(&'static str),
    /// The QR code could not be built.
    #[error("QR code could not be built: {0}")]
    QrBuild(String),
    /// An image could not be encoded.
    #[error("image could not be encoded: {0}")]
    ImageEncode(String),
    /// The bytes are not a PNG or JPEG image this decoder reads.
    #[error("not a readable PNG or JPEG image: {0}")]
    NotAnImage(String),
    /// The image is larger than allowed.
    #[error("image is too large (limit {max_pixels} pixels, {max_bytes} bytes decoded)")]
    ImageTooLarge {
        /// Pixel limit.
        max_pixels: u64,
        /// Decoded-memory limit.
        max_bytes: u64,
    },
    /// No QR code was found in the image.
    #[error("no QR code found in the image")]
    NoQrFound,
    /// QR codes were found but none decoded.
    #[error("a QR code was found but could not be read: {0}")]
    QrDecodeFailed(String),

    /// A challenge QR is malformed.
    #[error("invalid challenge: {0}")]
    InvalidChallenge(&'static str),
    /// A challenge QR has expired.
    #[error(
        "challenge expired at {} (now {})",
        crate::verifier::format_date(*expired_at),
        crate::verifier::format_date(*now)
    )]
    ChallengeExpired {
        /// Expiry, seconds since the Unix epoch.
        expired_at: i64,
        /// The time it was checked against.
        now: i64,
    },
    /// The system random number generator failed.
    #[error("random number generator unavailable")]
    RandomUnavailable,
}
