//! The grammar of every identifier the API takes in a path or a body. An identifier must
//! survive a URL path unchanged: clients, proxies and servers drop or rewrite `.` and `..`
//! segments (RFC 3986 section 5.2.4), slashes, percent-encodings, control characters,
//! surrounding spaces and (some of them) trailing dots, so none of these can be part of one.
//! The grammar, in ABNF (RFC 5234), is written down in docs/ISSUER_API.md:
//!
//! ```text
//! document-id = alnum [ *126( alnum / "." / "_" / ":" / "-" ) alnum ]   ; 1-128 chars
//! agency-id   = lower [ *62( lower / "-" ) lower ]                       ; 1-64 chars
//! citizen-id  = 12DIGIT
//! alnum = ALPHA / DIGIT ; lower = %x61-7A / DIGIT
//! ```

use super::{DomainError, DomainResult};

/// Whether `id` is `first [ middle* last ]` of at most `max` bytes, the first and last
/// bytes passing `edge` and the others `edge` or `inner`.
fn shaped(id: &str, max: usize, edge: fn(u8) -> bool, inner: fn(u8) -> bool) -> bool {
    let b = id.as_bytes();
    match (b.first(), b.last()) {
        (Some(&first), Some(&last)) => {
            b.len() <= max && edge(first) && edge(last) && b.iter().all(|&c| edge(c) || inner(c))
        }
        _ => false,
    }
}

/// Checks an agency's own document id (`document_id`).
pub fn document_id(id: &str) -> DomainResult<()> {
    if shaped(
        id,
        128,
        |c| c.is_ascii_alphanumeric(),
        |c| matches!(c, b'.' | b'_' | b':' | b'-'),
    ) {
        return Ok(());
    }
    Err(DomainError::Invalid {
        field: "document_id".into(),
        reason: "1-128 characters of A-Z a-z 0-9 . _ : -, starting and ending with a letter \
                 or digit"
            .into(),
    })
}

/// Checks an agency id (part of the agency's `iss` URL).
pub fn agency_id(id: &str) -> DomainResult<()> {
    if shaped(
        id,
        64,
        |c| c.is_ascii_lowercase() || c.is_ascii_digit(),
        |c| c == b'-',
    ) {
        return Ok(());
    }
    Err(DomainError::Invalid {
        field: "id".into(),
        reason: "1-64 characters of a-z 0-9 -, starting and ending with a letter or digit".into(),
    })
}

/// Checks a citizen's personal identification number (12 digits).
pub fn citizen_id(id: &str) -> DomainResult<()> {
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(());
    }
    Err(DomainError::Invalid {
        field: "citizen_id".into(),
        reason: "a personal identification number is 12 digits".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_client_would_normalise_away_is_refused() {
        for bad in [
            "", ".", "..", "...", "a/b", "%2E%2E", "a%20b", " a", "a ", "a\tb", "a\u{0}b",
            "a\u{7f}", ".a", "a.", "-a", "a-", "đ", "a?b", "a#b", "a\\b", "a;b",
        ] {
            assert!(document_id(bad).is_err(), "{bad:?}");
        }
        assert!(document_id(&"a".repeat(129)).is_err());
        for good in ["a", "7", "CC-2024.001", "x:y_z", &"a".repeat(128)] {
            assert!(document_id(good).is_ok(), "{good:?}");
        }
        for bad in ["", "-", "a-", "-a", "A", "a.b", "a b", &"a".repeat(65)] {
            assert!(agency_id(bad).is_err(), "{bad:?}");
        }
        assert!(agency_id("social-insurance").is_ok());
        assert!(citizen_id("001099012345").is_ok());
        assert!(citizen_id("00109901234").is_err());
        assert!(citizen_id("00109901234a").is_err());
    }
}
