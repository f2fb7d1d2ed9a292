//! Bounds on untrusted input: size limits and JSON nesting depth, checked before parsing,
//! so no presentation, token or scanned QR can make the core allocate without bound or
//! recurse deeply.
//!
//! One limit per kind of input, whatever path it came by (a file, a URL, a QR image, bytes
//! handed to the bindings): the core checks it when it parses the input, and every reader in
//! front of the core (the command's file and HTTP reads, the bindings' HTTP client) reads
//! at most the same number of bytes, so the same input is accepted or refused, with the same
//! reason ("too large"), on every path.

/// The largest presentation (SD-JWT with disclosures and KB-JWT) a verifier accepts, from
/// text, a file or (after unpacking) a QR code.
pub const MAX_PRESENTATION_BYTES: usize = 64 * 1024;

/// The largest compact JWS the JOSE layer parses unless the caller sets another limit.
pub const MAX_JWS_BYTES: usize = 1024 * 1024;

/// The largest Status List Token (`statuslist+jwt`) accepted: 4 MiB.
///
/// Sized for a national list. A 1-bit list of 2^23 (8,388,608) entries is 1 MiB; when its
/// bits look random (the worst case: zlib cannot shrink them) the signed token is about
/// 1.86 MB (measured: 1,865,078 bytes, ES256; a few hundred bytes more or less from one
/// random list to the next; see `core/tests/limits_per_input.rs`), because the
/// compressed list is base64url-encoded into `lst` and the payload holding it is
/// base64url-encoded again. 4 MiB leaves a margin of 2.25x over that, and also holds the
/// worst case of the same 2^23 entries at giayto's own 2 bits (about 3.73 MB). Decompression
/// stays bounded separately by [`crate::status_list::MAX_DECOMPRESSED_BYTES`].
pub const MAX_STATUS_LIST_TOKEN_BYTES: usize = 4 * 1024 * 1024;

/// The largest trust list token (`trustlist+jwt`) accepted: 1 MiB, room for thousands of
/// issuers with several keys each.
pub const MAX_TRUST_LIST_TOKEN_BYTES: usize = 1024 * 1024;

/// The deepest JSON nesting accepted anywhere in a token or disclosure.
pub const MAX_JSON_DEPTH: usize = 32;

/// Why input was refused before it was parsed.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum LimitError {
    /// JSON nested deeper than [`MAX_JSON_DEPTH`].
    #[error("JSON nested deeper than {MAX_JSON_DEPTH} levels")]
    TooDeep,
}

/// Refuses JSON text nested deeper than [`MAX_JSON_DEPTH`]. Runs in one pass without
/// allocating; brackets inside strings (and escaped quotes) are skipped, each string in one
/// `memchr` jump to its next `"` or `\`. It does not validate the JSON: the parser that
/// follows does.
pub fn check_json_depth(json: &[u8]) -> Result<(), LimitError> {
    let mut depth = 0usize;
    let mut at = 0usize;
    while let Some(&byte) = json.get(at) {
        at += 1;
        match byte {
            b'"' => {
                // Skip to the byte after the closing quote; a backslash skips the byte it
                // escapes. An unterminated string ends the scan (the parser refuses it).
                loop {
                    let Some(found) = json
                        .get(at..)
                        .and_then(|rest| memchr::memchr2(b'"', b'\\', rest))
                    else {
                        return Ok(());
                    };
                    at += found + 1;
                    if json[at - 1] == b'"' {
                        break;
                    }
                    at += 1;
                }
            }
            other => nest(&mut depth, other)?,
        }
    }
    Ok(())
}

/// Counts one byte outside strings: brackets open and close a level.
fn nest(depth: &mut usize, byte: u8) -> Result<(), LimitError> {
    match byte {
        b'{' | b'[' => {
            *depth += 1;
            if *depth > MAX_JSON_DEPTH {
                return Err(LimitError::TooDeep);
            }
        }
        b'}' | b']' => *depth = depth.saturating_sub(1),
        _ => {}
    }
    Ok(())
}

/// Parses JSON after the depth check.
///
/// JSON text is UTF-8 (RFC 8259 section 8.1): the whole text is checked once up front, so
/// the parser reads it as `&str` instead of validating every string it meets.
pub fn parse_json<T: serde::de::DeserializeOwned>(json: &[u8]) -> Result<T, String> {
    parse_json_borrowed(json)
}

/// [`parse_json`] into a value that may borrow from `json`.
pub(crate) fn parse_json_borrowed<'a, T: serde::Deserialize<'a>>(
    json: &'a [u8],
) -> Result<T, String> {
    check_json_depth(json).map_err(|e| e.to_string())?;
    let text = std::str::from_utf8(json).map_err(|e| format!("JSON text is not UTF-8: {e}"))?;
    serde_json::from_str(text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte-at-a-time string skipping the `memchr` one replaced, kept as the
    /// reference it must agree with.
    fn reference_depth(json: &[u8]) -> Result<(), LimitError> {
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        for &byte in json {
            if in_string {
                if escaped {
                    escaped = false;
                } else if byte == b'\\' {
                    escaped = true;
                } else if byte == b'"' {
                    in_string = false;
                }
                continue;
            }
            match byte {
                b'"' => in_string = true,
                other => nest(&mut depth, other)?,
            }
        }
        Ok(())
    }

    proptest::proptest! {
        #[test]
        fn same_verdict_as_the_byte_scan(
            json in proptest::collection::vec(
                proptest::sample::select(b"[]{}\"\\a ".to_vec()),
                0..200,
            )
        ) {
            proptest::prop_assert_eq!(check_json_depth(&json), reference_depth(&json));
        }
    }

    #[test]
    fn escapes_at_the_end() {
        for text in ["\"\\", "\"\\\"", "\"abc\\", "[\"\\\"[", "\""] {
            assert_eq!(
                check_json_depth(text.as_bytes()),
                reference_depth(text.as_bytes()),
                "{text}"
            );
        }
        let deep_after_escape = format!("\"\\\\\"{}", "[".repeat(MAX_JSON_DEPTH + 1));
        assert_eq!(
            check_json_depth(deep_after_escape.as_bytes()),
            Err(LimitError::TooDeep)
        );
    }

    #[test]
    fn depth() {
        let ok = "[".repeat(MAX_JSON_DEPTH) + &"]".repeat(MAX_JSON_DEPTH);
        assert!(check_json_depth(ok.as_bytes()).is_ok());
        let deep = "[".repeat(MAX_JSON_DEPTH + 1);
        assert_eq!(check_json_depth(deep.as_bytes()), Err(LimitError::TooDeep));
        let in_string = format!("\"{}\\\"{}\"", "[".repeat(100), "{".repeat(100));
        assert!(check_json_depth(in_string.as_bytes()).is_ok());
    }
}
