//! The QR text envelope: a short versioned prefix (`GT2:`, `GTP2:`, `GTC1:`, and the
//! format-1 `GT1:`, `GTP1:`) in front of base45 data (RFC 9285), all in the QR
//! alphanumeric character set `0-9A-Z $%*+-./:`.

use super::QrError;

/// The largest number of characters any QR code holds (version 40-L, numeric mode).
pub const MAX_QR_TEXT_LEN: usize = 7089;

/// What a giayto QR text carries, as announced by its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An SD-JWT presentation with a key-binding JWT (`GT1:`).
    Presentation,
    /// A printable paper form: an SD-JWT presentation without key binding (`GTP1:`).
    Paper,
    /// A verifier's challenge for two-way presentation (`GTC1:`).
    Challenge,
}

impl Kind {
    /// The prefix of this kind in format `version`, colon included (`GT2:`).
    pub fn prefix(self, version: u32) -> String {
        format!("{}{version}:", self.family())
    }

    /// The format versions this build reads: 1 and 2 for presentations and paper, 1 for
    /// challenges.
    pub const fn supports(self, version: u32) -> bool {
        match self {
            Kind::Presentation | Kind::Paper => matches!(version, 1 | 2),
            Kind::Challenge => version == 1,
        }
    }

    fn family(self) -> &'static str {
        match self {
            Kind::Presentation => "GT",
            Kind::Paper => "GTP",
            Kind::Challenge => "GTC",
        }
    }

    /// `presentation`, `paper` or `challenge`, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Presentation => "presentation",
            Kind::Paper => "paper",
            Kind::Challenge => "challenge",
        }
    }
}

/// Reads the prefix: the kind, its format version and the text after it. A version of a
/// known kind that this build does not read is `UnsupportedVersion`, anything else
/// `UnknownPrefix`.
pub fn split_prefix(qr_text: &str) -> Result<(Kind, u32, &str), QrError> {
    if qr_text.len() > MAX_QR_TEXT_LEN {
        return Err(QrError::QrTextTooLong {
            len: qr_text.len(),
            max: MAX_QR_TEXT_LEN,
        });
    }
    // Prefixes are at most 16 characters; ':' is also a base45 character, so look only there.
    let head_end = qr_text
        .char_indices()
        .nth(16)
        .map_or(qr_text.len(), |(i, _)| i);
    let colon = qr_text[..head_end]
        .find(':')
        .ok_or(QrError::UnknownPrefix)?;
    let (head, rest) = (&qr_text[..colon], &qr_text[colon + 1..]);
    // Longest family first: "GTP1" must not be read as family "GT", version "P1".
    for kind in [Kind::Paper, Kind::Challenge, Kind::Presentation] {
        let Some(digits) = head.strip_prefix(kind.family()) else {
            continue;
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let version = digits.parse::<u32>().unwrap_or(u32::MAX);
        if !kind.supports(version) {
            return Err(QrError::UnsupportedVersion {
                kind: kind.name(),
                version,
            });
        }
        return Ok((kind, version, rest));
    }
    Err(QrError::UnknownPrefix)
}

/// Encodes bytes as base45 behind the prefix of `kind` in format `version`.
pub fn encode(kind: Kind, version: u32, data: &[u8]) -> String {
    let mut text = kind.prefix(version);
    text.push_str(&base45::encode(data));
    text
}

/// Decodes base45 strictly: the length must not be 3k+1, every triple must be at most 65535
/// and a final pair at most 255, so exactly one text decodes to given bytes.
pub fn decode_base45(data: &str) -> Result<Vec<u8>, QrError> {
    if data.len() % 3 == 1 {
        return Err(QrError::InvalidBase45(
            "its length leaves a single dangling character",
        ));
    }
    let bytes = base45::decode(data).map_err(|_| {
        QrError::InvalidBase45("a character outside the base45 alphabet or a group above 65535")
    })?;
    // The base45 crate truncates a final pair above 255 instead of refusing it; re-encoding
    // catches that (and any other non-canonical form).
    if base45::encode(&bytes) != data {
        return Err(QrError::InvalidBase45(
            "the final pair encodes a value above 255",
        ));
    }
    Ok(bytes)
}
