//! Lossless compact form of a compact SD-JWT presentation for a QR code (format version 1).
//!
//! ```text
//! qr_text  = ("GT1:" / "GTP1:") base45(body)     GT1: ends in a KB-JWT; GTP1: paper form, none
//! body     = field(raw) deflate_raw(stream)        DEFLATE with the preset dictionary v1
//! stream   = json(issuer_header) json(issuer_payload) varint(len(issuer_signature))
//!            varint(n) n*json(disclosure)
//!            [json(kb_header) json(kb_payload) varint(len(kb_signature))]   GT1: only
//! json(x)  = varint(len(t)) t    t = x with base64url runs lifted out: `0x01 len(bytes)`
//! raw      = issuer_signature [kb_signature] and every lifted run's bytes, in stream order
//! field(x) = varint(len(x)) x    varint: LEB128, minimal, at most 3 bytes
//! ```
//! Each part is the bytes behind its base64url text: JSON for headers, payloads and
//! disclosures, raw bytes for signatures. Random base64url strings inside the JSON (`_sd`
//! digests, salts, key coordinates, nonces, `sd_hash`) are lifted out as raw bytes; like the
//! signatures they do not compress. Only canonical base64url is accepted, so re-encoding
//! rebuilds the exact signed strings; anything else is refused, never silently changed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::dictionary::DICTIONARY_V1;
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
#[derive(Default)]
struct Packer {
    stream: Vec<u8>,
    raw: Vec<u8>,
}

impl Packer {
    /// A JSON part: decoded, random base64url strings lifted into `raw`, framed into `stream`.
    fn json(&mut self, text: &str, which: Part) -> Result<(), QrError> {
        let bytes = b64(text, which)?;
        if bytes.contains(&LIFT) {
            return Err(QrError::MalformedPresentation(
                "a JSON part contains the control byte U+0001",
            ));
        }
        let mut out = Vec::with_capacity(bytes.len());
        let mut rest = bytes.as_slice();
        while let Some(quote) = rest.iter().position(|&b| b == b'"') {
            let (before, after) = rest.split_at(quote + 1);
            out.extend_from_slice(before);
            let run = after.iter().take_while(|&&b| is_b64url(b)).count();
            if after.get(run) == Some(&b'"') && self.lift(&after[..run]) {
                out.extend_from_slice(&[LIFT, u8::try_from(decoded_len(run)).unwrap_or(0)]);
                out.push(b'"');
                rest = &after[run + 1..];
            } else {
                out.extend_from_slice(&after[..run]);
                rest = &after[run..];
            }
        }
        out.extend_from_slice(rest);
        put_field(&mut self.stream, &out);
        Ok(())
    }

    /// Lifts `run` (the content of a JSON string) into `raw` when it looks like random
    /// base64url (both letter cases present) and decodes canonically; false leaves it as text.
    fn lift(&mut self, run: &[u8]) -> bool {
        let looks_random =
            run.iter().any(u8::is_ascii_uppercase) && run.iter().any(u8::is_ascii_lowercase);
        if run.len() < MIN_LIFT_CHARS || decoded_len(run.len()) > MAX_LIFT_BYTES || !looks_random {
            return false;
        }
        match URL_SAFE_NO_PAD.decode(run) {
            Ok(bytes) => {
                self.raw.extend_from_slice(&bytes);
                true
            }
            Err(_) => false,
        }
    }

    /// A signature: its length in `stream`, its bytes in `raw`.
    fn signature(&mut self, text: &str, which: Part) -> Result<(), QrError> {
        let bytes = b64(text, which)?;
        put_varint(&mut self.stream, bytes.len());
        self.raw.extend_from_slice(&bytes);
        Ok(())
    }
}

/// Packs a compact SD-JWT presentation (`<JWT>~<D1>~...~<Dn>~[<KB-JWT>]`) into QR text:
/// `GT1:...` when it ends in a key-binding JWT, `GTP1:...` (paper form) when it ends in `~`.
///
/// Refuses non-canonical base64url (padding, unused bits set), empty disclosures, JWTs without
/// exactly three parts, JSON parts with a raw U+0001, presentations over
/// [`MAX_PRESENTATION_LEN`] and results that no QR code holds.
pub fn pack(presentation: &str) -> Result<String, QrError> {
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

    let mut packer = Packer::default();
    packer.json(issuer.header, Part::IssuerHeader)?;
    packer.json(issuer.payload, Part::IssuerPayload)?;
    packer.signature(issuer.signature, Part::IssuerSignature)?;
    put_varint(&mut packer.stream, parts.len());
    for (n, disclosure) in parts.iter().enumerate() {
        if disclosure.is_empty() {
            return Err(QrError::MalformedPresentation(
                "empty disclosure between two '~'",
            ));
        }
        packer.json(disclosure, Part::Disclosure(n))?;
    }
    if let Some(kb) = &kb {
        packer.json(kb.header, Part::KbHeader)?;
        packer.json(kb.payload, Part::KbPayload)?;
        packer.signature(kb.signature, Part::KbSignature)?;
    }

    let mut body = Vec::with_capacity(presentation.len());
    put_field(&mut body, &packer.raw);
    deflate(&packer.stream, &mut body)?;
    let kind = if kb.is_some() {
        Kind::Presentation
    } else {
        Kind::Paper
    };
    let qr_text = text::encode(kind, &body);
    if qr_text.len() > MAX_QR_TEXT_LEN {
        return Err(QrError::TooLargeForQr {
            len: qr_text.len(),
            max: MAX_QR_TEXT_LEN,
        });
    }
    Ok(qr_text)
}

/// Rebuilds the exact compact SD-JWT presentation from QR text made by [`pack`]
/// (`GT1:` or `GTP1:`).
///
/// Every length is bounded, decompression stops at 64 KiB and the rebuilt presentation is
/// refused as soon as it would exceed [`MAX_PRESENTATION_LEN`].
pub fn unpack(qr_text: &str) -> Result<String, QrError> {
    let (kind, data) = text::split_prefix(qr_text)?;
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
    let stream = inflate(body.rest())?;

    let mut unpacker = Unpacker {
        stream: Reader::new(&stream),
        raw: Reader::new(raw),
        out: String::new(),
    };
    unpacker.json("issuer JWT header")?;
    unpacker.out.push('.');
    unpacker.json("issuer JWT payload")?;
    unpacker.out.push('.');
    unpacker.signature("issuer JWT signature")?;
    unpacker.out.push('~');
    let count = unpacker.stream.varint("disclosure count")?;
    for _ in 0..count {
        if unpacker.json("disclosure")? == 0 {
            return Err(QrError::Corrupt("an empty disclosure"));
        }
        unpacker.out.push('~');
    }
    if has_kb {
        unpacker.json("key-binding JWT header")?;
        unpacker.out.push('.');
        unpacker.json("key-binding JWT payload")?;
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

    /// A JSON part: lifted runs restored, then base64url into `out`. Returns its byte length.
    fn json(&mut self, what: &'static str) -> Result<usize, QrError> {
        let text = self.stream.field(what)?;
        let mut part = Vec::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.iter().position(|&b| b == LIFT) {
            part.extend_from_slice(&rest[..at]);
            let (&len, after) = rest[at + 1..]
                .split_first()
                .ok_or(QrError::Truncated("a lifted base64url run"))?;
            if len == 0 {
                return Err(QrError::Corrupt("an empty lifted base64url run"));
            }
            let bytes = self.raw.take(usize::from(len), "lifted base64url data")?;
            self.reserve(part.len() + b64_len(bytes.len()))?;
            part.extend_from_slice(URL_SAFE_NO_PAD.encode(bytes).as_bytes());
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

/// Raw DEFLATE at the best level with the format-1 preset dictionary, appended to `out`.
fn deflate(input: &[u8], out: &mut Vec<u8>) -> Result<(), QrError> {
    let mut compressor = Compress::new(Compression::best(), false);
    compressor
        .set_dictionary(DICTIONARY_V1)
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

/// Inflates raw DEFLATE with the format-1 dictionary into at most [`MAX_STREAM_LEN`] bytes;
/// the compressed data must end exactly at the end of the input.
fn inflate(input: &[u8]) -> Result<Vec<u8>, QrError> {
    let mut decompressor = Decompress::new(false);
    decompressor
        .set_dictionary(DICTIONARY_V1)
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

    #[test]
    fn b64_len_matches_encoder() {
        for n in 0..100 {
            assert_eq!(b64_len(n), URL_SAFE_NO_PAD.encode(vec![0u8; n]).len());
        }
    }

    #[test]
    fn inflate_refuses_bombs_without_growing() {
        let mut body = Vec::new();
        deflate(&vec![b'a'; MAX_STREAM_LEN + 1], &mut body).unwrap();
        assert!(body.len() < 1000);
        assert_eq!(
            inflate(&body),
            Err(QrError::DecompressedTooLarge {
                max: MAX_STREAM_LEN
            })
        );
        let mut ok = Vec::new();
        deflate(&vec![b'a'; MAX_STREAM_LEN], &mut ok).unwrap();
        assert_eq!(inflate(&ok).unwrap().len(), MAX_STREAM_LEN);
    }

    #[test]
    fn inflate_reports_truncation_and_trailing_bytes() {
        let mut body = Vec::new();
        deflate(
            b"{\"_sd\":[\"abc\"]} and some more text to compress",
            &mut body,
        )
        .unwrap();
        assert_eq!(
            inflate(&body[..body.len() - 2]),
            Err(QrError::Truncated("compressed data"))
        );
        let mut longer = body.clone();
        longer.push(0);
        assert_eq!(inflate(&longer), Err(QrError::TrailingData(1)));
    }
}
