//! Lossless compact form of a compact SD-JWT presentation for a QR code (format versions 1
//! and 2; [`pack`] writes version 2, [`unpack`] reads both).
//!
//! ```text
//! qr_text  = ("GT" v ":" / "GTP" v ":") base45(body)  GT: ends in a KB-JWT; GTP: paper, none
//! body     = field(raw) deflate_raw(stream)           DEFLATE with the preset dictionary of v
//! stream   = json(issuer_header) json(issuer_payload) varint(len(issuer_signature))
//!            varint(n) n*json(disclosure)
//!            [json(kb_header) json(kb_payload) varint(len(kb_signature))]   GT: only
//! json(x)  = varint(len(t)) t    t = x with random strings replaced by tokens:
//!   0x01 len     a lifted base64url run: `len` bytes of raw                    v1 and v2
//!   0x02 p       the y coordinate of the P-256 point whose x is the lifted     v2 only
//!                run just before it in this part (32 bytes), p = 0 even, 1 odd;
//!                nothing in raw (SEC 1 v2 section 2.3.4 point decompression)
//!   0x03         the KB-JWT `sd_hash`: base64url SHA-256 of the presentation   v2 only,
//!                up to and including its last `~` (RFC 9901 section 4.3.1)    KB payload
//! raw      = issuer_signature [kb_signature] and every lifted run's bytes, in stream order
//! field(x) = varint(len(x)) x    varint: LEB128, minimal, at most 3 bytes
//! ```
//! Each part is the bytes behind its base64url text: JSON for headers, payloads and
//! disclosures, raw bytes for signatures. Random base64url strings inside the JSON (`_sd`
//! digests, salts, key coordinates, nonces, `sd_hash`) are lifted out as raw bytes; like the
//! signatures they do not compress. Version 2 also drops what the verifier can rebuild
//! exactly: the `y` of a P-256 `cnf` key (from `x` and one parity bit) and the `sd_hash`
//! (from the presentation itself), each only when rebuilding gives the very same bytes.
//! Only canonical base64url is accepted, so re-encoding rebuilds the exact signed strings;
//! anything else is refused, never silently changed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use ring::digest::{SHA256, digest};

use super::dictionary::{DICTIONARY_V1, DICTIONARY_V2};
use super::point;
use super::text::{self, Kind, MAX_QR_TEXT_LEN};
use super::{Part, QrError};

/// The largest presentation packed or rebuilt, in bytes (the verifier's input limit).
pub const MAX_PRESENTATION_LEN: usize = crate::limits::MAX_PRESENTATION_BYTES;

/// The largest decompressed stream accepted.
const MAX_STREAM_LEN: usize = 64 * 1024;

/// Varints have at most 3 bytes (values below 2^21), more than any bounded length.
const MAX_VARINT_BYTES: usize = 3;

/// Marks a lifted base64url run inside a JSON part; JSON never contains this byte raw.
const LIFT: u8 = 0x01;
/// Marks (format 2) a P-256 `y` rebuilt from the `x` lifted just before it.
const EC_Y: u8 = 0x02;
/// Marks (format 2) a KB-JWT `sd_hash` rebuilt from the presentation.
const SD_HASH: u8 = 0x03;
/// Length of a P-256 coordinate and of a SHA-256 digest, in bytes.
const LEN_32: usize = 32;

/// A version of the compact QR format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `GT1:`/`GTP1:`: lifted base64url runs, dictionary v1. Read, no longer written by
    /// [`pack`].
    V1,
    /// `GT2:`/`GTP2:`: v1 plus rebuilt P-256 `y` and `sd_hash`, dictionary v2 (tuned on
    /// purpose credentials).
    V2,
}

impl Format {
    /// The format [`pack`] writes.
    pub const CURRENT: Format = Format::V2;

    /// The version number in the prefix.
    pub const fn version(self) -> u32 {
        match self {
            Format::V1 => 1,
            Format::V2 => 2,
        }
    }

    /// The format of a prefix's version number, if known.
    pub const fn from_version(version: u32) -> Option<Format> {
        match version {
            1 => Some(Format::V1),
            2 => Some(Format::V2),
            _ => None,
        }
    }

    fn dictionary(self) -> &'static [u8] {
        match self {
            Format::V1 => DICTIONARY_V1,
            Format::V2 => DICTIONARY_V2,
        }
    }
}
/// Shortest base64url string lifted (a 128-bit salt or nonce is 22 characters).
const MIN_LIFT_CHARS: usize = 16;
/// Longest lifted run, in decoded bytes (its length is one byte).
const MAX_LIFT_BYTES: usize = 255;

/// A compact JWS split in its three base64url segments.
struct Jwt<'a> {
    header: &'a str,
    payload: &'a str,
    signature: &'a str,
}

impl<'a> Jwt<'a> {
    fn split(jwt: &'a str, what: &'static str) -> Result<Self, QrError> {
        let mut it = jwt.split('.');
        match (it.next(), it.next(), it.next(), it.next()) {
            (Some(header), Some(payload), Some(signature), None) => Ok(Jwt {
                header,
                payload,
                signature,
            }),
            _ => Err(QrError::MalformedPresentation(what)),
        }
    }
}

/// The two outputs of packing before compression.
struct Packer {
    format: Format,
    stream: Vec<u8>,
    raw: Vec<u8>,
}

impl Packer {
    /// A JSON part: decoded, random base64url strings lifted into `raw` (or, in format 2,
    /// dropped when rebuildable: a P-256 `y` after its `x`, the `sd_hash` equal to
    /// `sd_hash`), framed into `stream`.
    fn json(&mut self, text: &str, which: Part, sd_hash: Option<&[u8]>) -> Result<(), QrError> {
        let bytes = b64(text, which)?;
        if bytes.iter().any(|b| matches!(*b, LIFT | EC_Y | SD_HASH)) {
            return Err(QrError::MalformedPresentation(
                "a JSON part contains a control byte U+0001 to U+0003",
            ));
        }
        let v2 = self.format == Format::V2;
        let mut out = Vec::with_capacity(bytes.len());
        let mut rest = bytes.as_slice();
        // The last run lifted into `raw` in this part, for a following P-256 `y`.
        let mut previous: Option<Vec<u8>> = None;
        while let Some(quote) = rest.iter().position(|&b| b == b'"') {
            let (before, after) = rest.split_at(quote + 1);
            out.extend_from_slice(before);
            let run = after.iter().take_while(|&&b| is_b64url(b)).count();
            let lifted = match after.get(run) {
                Some(b'"') => liftable(&after[..run]),
                _ => None,
            };
            let Some(decoded) = lifted else {
                out.extend_from_slice(&after[..run]);
                rest = &after[run..];
                continue;
            };
            let y_parity = previous
                .as_deref()
                .filter(|_| v2)
                .and_then(|x| point::y_parity_if_rebuilt(x, &decoded));
            if v2 && sd_hash == Some(decoded.as_slice()) {
                out.push(SD_HASH);
                previous = None;
            } else if let Some(parity) = y_parity {
                out.extend_from_slice(&[EC_Y, parity]);
                previous = None;
            } else {
                out.extend_from_slice(&[LIFT, u8::try_from(decoded.len()).unwrap_or(0)]);
                self.raw.extend_from_slice(&decoded);
                previous = Some(decoded);
            }
            out.push(b'"');
            rest = &after[run + 1..];
        }
        out.extend_from_slice(rest);
        put_field(&mut self.stream, &out);
        Ok(())
    }

    /// A signature: its length in `stream`, its bytes in `raw`.
    fn signature(&mut self, text: &str, which: Part) -> Result<(), QrError> {
        let bytes = b64(text, which)?;
        put_varint(&mut self.stream, bytes.len());
        self.raw.extend_from_slice(&bytes);
        Ok(())
    }
}

/// The bytes of `run` (the content of a JSON string) when it looks like random base64url
/// (both letter cases present, 16 characters or more) and decodes canonically; `None`
/// leaves it as text.
fn liftable(run: &[u8]) -> Option<Vec<u8>> {
    let looks_random =
        run.iter().any(u8::is_ascii_uppercase) && run.iter().any(u8::is_ascii_lowercase);
    if run.len() < MIN_LIFT_CHARS || decoded_len(run.len()) > MAX_LIFT_BYTES || !looks_random {
        return None;
    }
    URL_SAFE_NO_PAD.decode(run).ok()
}

/// Packs a compact SD-JWT presentation (`<JWT>~<D1>~...~<Dn>~[<KB-JWT>]`) into QR text of
/// the current format ([`Format::CURRENT`]): `GT2:...` when it ends in a key-binding JWT,
/// `GTP2:...` (paper form) when it ends in `~`.
///
/// Refuses non-canonical base64url (padding, unused bits set), empty disclosures, JWTs without
/// exactly three parts, JSON parts with a raw U+0001 to U+0003, presentations over
/// [`MAX_PRESENTATION_LEN`] and results that no QR code holds.
pub fn pack(presentation: &str) -> Result<String, QrError> {
    pack_format(presentation, Format::CURRENT)
}

/// Packs as [`pack`] does, in the given format (format 1 for readers that know no other).
pub fn pack_format(presentation: &str, format: Format) -> Result<String, QrError> {
    if presentation.len() > MAX_PRESENTATION_LEN {
        return Err(QrError::PresentationTooLarge {
            len: presentation.len(),
            max: MAX_PRESENTATION_LEN,
        });
    }
    let mut parts: Vec<&str> = presentation.split('~').collect();
    if parts.len() < 2 {
        return Err(QrError::MalformedPresentation(
            "no '~' separator: not an SD-JWT presentation",
        ));
    }
    let kb_text = parts.pop().unwrap_or_default();
    let issuer = Jwt::split(
        parts.remove(0),
        "the issuer-signed JWT must have three dot-separated parts",
    )?;
    let kb = match kb_text {
        "" => None,
        kb => Some(Jwt::split(
            kb,
            "the key-binding JWT must have three dot-separated parts",
        )?),
    };

    let mut packer = Packer {
        format,
        stream: Vec::new(),
        raw: Vec::new(),
    };
    packer.json(issuer.header, Part::IssuerHeader, None)?;
    packer.json(issuer.payload, Part::IssuerPayload, None)?;
    packer.signature(issuer.signature, Part::IssuerSignature)?;
    put_varint(&mut packer.stream, parts.len());
    for (n, disclosure) in parts.iter().enumerate() {
        if disclosure.is_empty() {
            return Err(QrError::MalformedPresentation(
                "empty disclosure between two '~'",
            ));
        }
        packer.json(disclosure, Part::Disclosure(n), None)?;
    }
    if let Some(kb) = &kb {
        let presented = &presentation[..presentation.len() - kb_text.len()];
        let sd_hash = digest(&SHA256, presented.as_bytes());
        packer.json(kb.header, Part::KbHeader, None)?;
        packer.json(kb.payload, Part::KbPayload, Some(sd_hash.as_ref()))?;
        packer.signature(kb.signature, Part::KbSignature)?;
    }

    let mut body = Vec::with_capacity(presentation.len());
    put_field(&mut body, &packer.raw);
    deflate(&packer.stream, format.dictionary(), &mut body)?;
    let kind = if kb.is_some() {
        Kind::Presentation
    } else {
        Kind::Paper
    };
    let qr_text = text::encode(kind, format.version(), &body);
    if qr_text.len() > MAX_QR_TEXT_LEN {
        return Err(QrError::TooLargeForQr {
            len: qr_text.len(),
            max: MAX_QR_TEXT_LEN,
        });
    }
    Ok(qr_text)
}

/// Rebuilds the exact compact SD-JWT presentation from QR text made by [`pack`] or
/// [`pack_format`] (`GT1:`, `GTP1:`, `GT2:` or `GTP2:`).
///
/// Every length is bounded, decompression stops at 64 KiB and the rebuilt presentation is
/// refused as soon as it would exceed [`MAX_PRESENTATION_LEN`].
pub fn unpack(qr_text: &str) -> Result<String, QrError> {
    let (kind, version, data) = text::split_prefix(qr_text)?;
    let format = Format::from_version(version).ok_or(QrError::UnsupportedVersion {
        kind: kind.name(),
        version,
    })?;
    let has_kb = match kind {
        Kind::Presentation => true,
        Kind::Paper => false,
        Kind::Challenge => {
            return Err(QrError::KindMismatch(
                "this is a verifier challenge, not a presentation",
            ));
        }
    };
    let body = text::decode_base45(data)?;
    let mut body = Reader::new(&body);
    let raw = body.field("raw data")?;
    let stream = inflate(body.rest(), format.dictionary())?;

    let mut unpacker = Unpacker {
        format,
        stream: Reader::new(&stream),
        raw: Reader::new(raw),
        out: String::new(),
    };
    unpacker.json("issuer JWT header", None)?;
    unpacker.out.push('.');
    unpacker.json("issuer JWT payload", None)?;
    unpacker.out.push('.');
    unpacker.signature("issuer JWT signature")?;
    unpacker.out.push('~');
    let count = unpacker.stream.varint("disclosure count")?;
    for _ in 0..count {
        if unpacker.json("disclosure", None)? == 0 {
            return Err(QrError::Corrupt("an empty disclosure"));
        }
        unpacker.out.push('~');
    }
    if has_kb {
        let presented = unpacker.out.len();
        unpacker.json("key-binding JWT header", None)?;
        unpacker.out.push('.');
        unpacker.json("key-binding JWT payload", Some(presented))?;
        unpacker.out.push('.');
        unpacker.signature("key-binding JWT signature")?;
    }
    let trailing = unpacker.stream.remaining() + unpacker.raw.remaining();
    if trailing != 0 {
        return Err(QrError::TrailingData(trailing));
    }
    if unpacker.out.len() > MAX_PRESENTATION_LEN {
        return Err(QrError::PresentationTooLarge {
            len: unpacker.out.len(),
            max: MAX_PRESENTATION_LEN,
        });
    }
    Ok(unpacker.out)
}

/// Rebuilds the presentation text from the decompressed stream and the raw bytes.
struct Unpacker<'a> {
    format: Format,
    stream: Reader<'a>,
    raw: Reader<'a>,
    out: String,
}

impl Unpacker<'_> {
    /// Appends `len` more bytes of output as base64url, refusing to pass the size limit.
    fn reserve(&mut self, bytes: usize) -> Result<(), QrError> {
        let len = self.out.len() + b64_len(bytes);
        if len > MAX_PRESENTATION_LEN {
            return Err(QrError::PresentationTooLarge {
                len,
                max: MAX_PRESENTATION_LEN,
            });
        }
        Ok(())
    }

    /// A JSON part: lifted runs restored (and in format 2 the rebuilt P-256 `y` and, in the
    /// KB-JWT payload, whose presentation is `out[..presented]`, the `sd_hash`), then
    /// base64url into `out`. Returns its byte length.
    fn json(&mut self, what: &'static str, presented: Option<usize>) -> Result<usize, QrError> {
        let text = self.stream.field(what)?;
        let v2 = self.format == Format::V2;
        let mut part = Vec::with_capacity(text.len());
        let mut rest = text;
        let mut previous: Option<&[u8]> = None;
        let is_token = |b: &u8| *b == LIFT || (v2 && matches!(*b, EC_Y | SD_HASH));
        while let Some(at) = rest.iter().position(is_token) {
            part.extend_from_slice(&rest[..at]);
            let token = rest[at];
            let after = &rest[at + 1..];
            let (rebuilt, after): (Vec<u8>, &[u8]) = match token {
                LIFT => {
                    let (&len, after) = after
                        .split_first()
                        .ok_or(QrError::Truncated("a lifted base64url run"))?;
                    if len == 0 {
                        return Err(QrError::Corrupt("an empty lifted base64url run"));
                    }
                    let bytes = self.raw.take(usize::from(len), "lifted base64url data")?;
                    previous = Some(bytes);
                    (bytes.to_vec(), after)
                }
                EC_Y => {
                    let (&parity, after) = after
                        .split_first()
                        .ok_or(QrError::Truncated("a rebuilt P-256 coordinate"))?;
                    let x = previous
                        .take()
                        .filter(|x| x.len() == LEN_32)
                        .ok_or(QrError::Corrupt("a P-256 y without its x"))?;
                    let y = point::rebuild_y(x, parity).ok_or(QrError::Corrupt(
                        "a P-256 x that is not on the curve, or a bad parity",
                    ))?;
                    (y.to_vec(), after)
                }
                _ => {
                    let presented = presented.ok_or(QrError::Corrupt(
                        "an sd_hash outside the key-binding JWT payload",
                    ))?;
                    let presented = self.out.get(..presented).unwrap_or_default();
                    previous = None;
                    (
                        digest(&SHA256, presented.as_bytes()).as_ref().to_vec(),
                        after,
                    )
                }
            };
            self.reserve(part.len() + b64_len(rebuilt.len()))?;
            part.extend_from_slice(URL_SAFE_NO_PAD.encode(&rebuilt).as_bytes());
            rest = after;
        }
        part.extend_from_slice(rest);
        self.reserve(part.len())?;
        URL_SAFE_NO_PAD.encode_string(&part, &mut self.out);
        Ok(part.len())
    }

    /// A signature: its length from `stream`, its bytes from `raw`, base64url into `out`.
    fn signature(&mut self, what: &'static str) -> Result<(), QrError> {
        let len = self.stream.varint(what)?;
        let bytes = self.raw.take(len, what)?;
        self.reserve(len)?;
        URL_SAFE_NO_PAD.encode_string(bytes, &mut self.out);
        Ok(())
    }
}

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Bytes behind `chars` characters of unpadded base64url.
const fn decoded_len(chars: usize) -> usize {
    chars * 3 / 4
}

/// Length of unpadded base64url for `n` bytes.
const fn b64_len(n: usize) -> usize {
    n / 3 * 4 + [0, 2, 3][n % 3]
}

/// Strict base64url: no padding, URL alphabet only, unused trailing bits zero.
fn b64(part: &str, which: Part) -> Result<Vec<u8>, QrError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| QrError::NonCanonicalBase64(which))
}

fn put_varint(out: &mut Vec<u8>, mut value: usize) {
    while value >= 0x80 {
        out.push((value & 0x7f) as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn put_field(out: &mut Vec<u8>, bytes: &[u8]) {
    put_varint(out, bytes.len());
    out.extend_from_slice(bytes);
}

/// A bounds-checked cursor over untrusted bytes.
struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8]) -> Self {
        Reader { data }
    }

    fn remaining(&self) -> usize {
        self.data.len()
    }

    fn rest(&self) -> &'a [u8] {
        self.data
    }

    fn varint(&mut self, what: &'static str) -> Result<usize, QrError> {
        let mut value = 0usize;
        for i in 0..MAX_VARINT_BYTES {
            let (&byte, rest) = self.data.split_first().ok_or(QrError::Truncated(what))?;
            self.data = rest;
            value |= usize::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                if byte == 0 && i > 0 {
                    return Err(QrError::Corrupt("a length is not minimally encoded"));
                }
                return Ok(value);
            }
        }
        Err(QrError::Corrupt("a length field is longer than 3 bytes"))
    }

    fn field(&mut self, what: &'static str) -> Result<&'a [u8], QrError> {
        let len = self.varint(what)?;
        self.take(len, what)
    }

    fn take(&mut self, len: usize, what: &'static str) -> Result<&'a [u8], QrError> {
        if len > self.data.len() {
            return Err(QrError::Truncated(what));
        }
        let (field, rest) = self.data.split_at(len);
        self.data = rest;
        Ok(field)
    }
}

/// Raw DEFLATE at the best level with a preset dictionary, appended to `out`.
fn deflate(input: &[u8], dictionary: &[u8], out: &mut Vec<u8>) -> Result<(), QrError> {
    let mut compressor = Compress::new(Compression::best(), false);
    compressor
        .set_dictionary(dictionary)
        .map_err(|_| QrError::CompressionFailed)?;
    out.reserve(input.len() / 2 + 64);
    loop {
        let before = compressor.total_in();
        let consumed = usize::try_from(before).map_err(|_| QrError::CompressionFailed)?;
        let rest = input.get(consumed..).ok_or(QrError::CompressionFailed)?;
        match compressor.compress_vec(rest, out, FlushCompress::Finish) {
            Ok(Status::StreamEnd) => return Ok(()),
            Ok(Status::Ok | Status::BufError) => out.reserve(out.capacity().max(256)),
            Err(_) => return Err(QrError::CompressionFailed),
        }
    }
}

/// Inflates raw DEFLATE with a preset dictionary into at most [`MAX_STREAM_LEN`] bytes;
/// the compressed data must end exactly at the end of the input.
fn inflate(input: &[u8], dictionary: &[u8]) -> Result<Vec<u8>, QrError> {
    let mut decompressor = Decompress::new(false);
    decompressor
        .set_dictionary(dictionary)
        .map_err(|_| QrError::BadCompression("the preset dictionary was refused"))?;
    let mut out = Vec::with_capacity(MAX_STREAM_LEN + 1);
    let status = decompressor
        .decompress_vec(input, &mut out, FlushDecompress::Finish)
        .map_err(|_| QrError::BadCompression("invalid DEFLATE data"))?;
    match status {
        Status::StreamEnd => {
            let consumed = usize::try_from(decompressor.total_in()).unwrap_or(usize::MAX);
            if consumed != input.len() {
                return Err(QrError::TrailingData(input.len().saturating_sub(consumed)));
            }
            if out.len() > MAX_STREAM_LEN {
                return Err(QrError::DecompressedTooLarge {
                    max: MAX_STREAM_LEN,
                });
            }
            Ok(out)
        }
        Status::Ok | Status::BufError if out.len() > MAX_STREAM_LEN => {
            Err(QrError::DecompressedTooLarge {
                max: MAX_STREAM_LEN,
            })
        }
        Status::Ok | Status::BufError => Err(QrError::Truncated("compressed data")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_round_trip_and_minimality() {
        for value in [
            0usize,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            65_536,
            (1 << 21) - 1,
        ] {
            let mut buf = Vec::new();
            put_varint(&mut buf, value);
            let mut reader = Reader::new(&buf);
            assert_eq!(reader.varint("v").unwrap(), value);
            assert_eq!(reader.remaining(), 0);
        }
        assert_eq!(
            Reader::new(&[0x80, 0x00]).varint("v"),
            Err(QrError::Corrupt("a length is not minimally encoded"))
        );
        assert_eq!(
            Reader::new(&[0x80, 0x80, 0x80, 0x01]).varint("v"),
            Err(QrError::Corrupt("a length field is longer than 3 bytes"))
        );
        assert_eq!(
            Reader::new(&[0x80]).varint("v"),
            Err(QrError::Truncated("v"))
        );
    }

    /// Packs a hand-made stream (issuer header, payload with `payload_tokens`, an empty
    /// signature, no disclosure) as format 2, so the decoder's token rules can be tested
    /// on input no encoder makes.
    fn v2_text(payload: &[u8], raw: &[u8], with_kb: bool) -> String {
        let mut stream = Vec::new();
        put_field(&mut stream, b"{}");
        put_field(&mut stream, payload);
        put_varint(&mut stream, 0);
        put_varint(&mut stream, 0);
        if with_kb {
            put_field(&mut stream, b"{}");
            put_field(&mut stream, payload);
            put_varint(&mut stream, 0);
        }
        let mut body = Vec::new();
        put_field(&mut body, raw);
        deflate(&stream, DICTIONARY_V2, &mut body).unwrap();
        let kind = if with_kb {
            Kind::Presentation
        } else {
            Kind::Paper
        };
        text::encode(kind, 2, &body)
    }

    #[test]
    fn format_2_tokens_out_of_place_are_corrupt() {
        // A y with no x before it in the same part.
        assert_eq!(
            unpack(&v2_text(b"{\"y\":\"\x02\x00\"}", b"", false)),
            Err(QrError::Corrupt("a P-256 y without its x"))
        );
        // A y after a 16-byte run.
        assert_eq!(
            unpack(&v2_text(
                b"{\"x\":\"\x01\x10\",\"y\":\"\x02\x00\"}",
                &[7; 16],
                false
            )),
            Err(QrError::Corrupt("a P-256 y without its x"))
        );
        // An x of the right length that is no P-256 point, or a parity other than 0 and 1.
        let off_curve = (0u8..=255)
            .map(|b| [b; 32])
            .find(|x| point::rebuild_y(x, 0).is_none())
            .unwrap();
        for (x, parity) in [(off_curve, 0u8), ([1; 32], 2)] {
            let text = v2_text(
                &[&b"{\"x\":\"\x01 \",\"y\":\"\x02"[..], &[parity], b"\"}"].concat(),
                &x,
                false,
            );
            assert_eq!(
                unpack(&text),
                Err(QrError::Corrupt(
                    "a P-256 x that is not on the curve, or a bad parity"
                ))
            );
        }
        // An sd_hash in the issuer payload: only the KB-JWT payload may rebuild one.
        assert_eq!(
            unpack(&v2_text(b"{\"sd_hash\":\"\x03\"}", b"", true)),
            Err(QrError::Corrupt(
                "an sd_hash outside the key-binding JWT payload"
            ))
        );
        // In format 1 the same bytes are plain text, as they always were.
        let mut stream = Vec::new();
        put_field(&mut stream, b"{}");
        put_field(&mut stream, b"\x02\x03");
        put_varint(&mut stream, 0);
        put_varint(&mut stream, 0);
        let mut body = Vec::new();
        put_field(&mut body, b"");
        deflate(&stream, DICTIONARY_V1, &mut body).unwrap();
        assert_eq!(
            unpack(&text::encode(Kind::Paper, 1, &body)).unwrap(),
            "e30.AgM.~"
        );
    }

    #[test]
    fn control_bytes_of_format_2_are_refused_when_packing() {
        for byte in [1u8, 2, 3] {
            let part = URL_SAFE_NO_PAD.encode([b'{', byte, b'}']);
            assert!(matches!(
                pack(&format!("{part}.{part}.AA~")),
                Err(QrError::MalformedPresentation(_))
            ));
        }
    }

    #[test]
    fn b64_len_matches_encoder() {
        for n in 0..100 {
            assert_eq!(b64_len(n), URL_SAFE_NO_PAD.encode(vec![0u8; n]).len());
        }
    }

    #[test]
    fn inflate_refuses_bombs_without_growing() {
        let mut body = Vec::new();
        deflate(&vec![b'a'; MAX_STREAM_LEN + 1], DICTIONARY_V2, &mut body).unwrap();
        assert!(body.len() < 1000);
        assert_eq!(
            inflate(&body, DICTIONARY_V2),
            Err(QrError::DecompressedTooLarge {
                max: MAX_STREAM_LEN
            })
        );
        let mut ok = Vec::new();
        deflate(&vec![b'a'; MAX_STREAM_LEN], DICTIONARY_V2, &mut ok).unwrap();
        assert_eq!(inflate(&ok, DICTIONARY_V2).unwrap().len(), MAX_STREAM_LEN);
    }

    #[test]
    fn inflate_reports_truncation_and_trailing_bytes() {
        let mut body = Vec::new();
        deflate(
            b"{\"_sd\":[\"abc\"]} and some more text to compress",
            DICTIONARY_V1,
            &mut body,
        )
        .unwrap();
        assert_eq!(
            inflate(&body[..body.len() - 2], DICTIONARY_V1),
            Err(QrError::Truncated("compressed data"))
        );
        let mut longer = body.clone();
        longer.push(0);
        assert_eq!(
            inflate(&longer, DICTIONARY_V1),
            Err(QrError::TrailingData(1))
        );
    }
}
