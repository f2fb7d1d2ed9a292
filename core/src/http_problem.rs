//! What a server says in an error body, made safe for a message: the `detail` of RFC 9457
//! problem details (`application/problem+json`, section 3.1.4), else an OAuth
//! `error_description` (RFC 6749 section 5.2). (A problem's `title` is left out: it
//! summarises the problem type, as the status does.) The text is the server's, so it is bounded and cleaned before anyone
//! reads it: control and bidirectional-formatting characters dropped, token-like words
//! (long runs of base64url, JWT or hex characters, as access tokens, DPoP nonces and
//! keys are written) replaced by `[…]`, and cut to [`MAX_EXPLANATION_CHARS`] characters
//! with `…`.

use serde::Deserialize;

/// Most characters of an explanation kept (a longer one ends in `…`).
pub const MAX_EXPLANATION_CHARS: usize = 300;
/// Shortest word taken for a token (and hidden) when it holds a digit and no other
/// characters than a token's.
pub const MIN_TOKEN_CHARS: usize = 20;

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    detail: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

/// The explanation an error body gives, cleaned as the module says; `None` when the body
/// is not a JSON object (or is beyond [`crate::limits::parse_json`]'s bounds) or has no
/// non-blank `detail` or `error_description`.
pub fn explanation(body: &[u8]) -> Option<String> {
    let body: ErrorBody = crate::limits::parse_json(body).ok()?;
    let text = body
        .detail
        .filter(|d| !d.trim().is_empty())
        .or(body.error_description.filter(|d| !d.trim().is_empty()))?;
    let cleaned = clean(&text);
    (!cleaned.is_empty()).then_some(cleaned)
}

/// `HTTP status {status}`, followed by `: ` and the body's [`explanation`] when it has one
/// (for the failure lines of status list and trust list reads).
pub fn status_message(status: u16, body: &[u8]) -> String {
    match explanation(body) {
        Some(detail) => format!("HTTP status {status}: {detail}"),
        None => format!("HTTP status {status}"),
    }
}

/// `text` cleaned as the module says: safe to print or log.
pub fn clean(text: &str) -> String {
    let printable: String = text
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .collect();
    let words: Vec<&str> = printable
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(|w| if looks_like_token(w) { "[…]" } else { w })
        .collect();
    let joined = words.join(" ");
    match joined.char_indices().nth(MAX_EXPLANATION_CHARS) {
        Some((cut, _)) => format!("{}…", &joined[..cut]),
        None => joined,
    }
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn looks_like_token(word: &str) -> bool {
    let word =
        word.trim_matches(|c: char| matches!(c, '.' | ',' | ';' | ':' | '"' | '\'' | '(' | ')'));
    word.chars().count() >= MIN_TOKEN_CHARS
        && word.chars().any(|c| c.is_ascii_digit())
        && word.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '+' | '/' | '=')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_detail_then_oauth_description() {
        let problem = br#"{"type":"https://giayto.gov.vn/problems/conflict","title":"Conflict","status":409,"detail":"the citizen has no valid ID card from this agency: publish it first"}"#;
        assert_eq!(
            explanation(problem).as_deref(),
            Some("the citizen has no valid ID card from this agency: publish it first")
        );
        let oauth = br#"{"error_description":"the offer was already redeemed"}"#;
        assert_eq!(
            explanation(oauth).as_deref(),
            Some("the offer was already redeemed")
        );
        assert_eq!(explanation(br#"{"title":"Not Found","status":404}"#), None);
        assert_eq!(explanation(br#"{"detail":"  "}"#), None);
        assert_eq!(explanation(b"oops"), None);
        assert_eq!(
            status_message(404, br#"{"detail":"status list not found"}"#),
            "HTTP status 404: status list not found"
        );
        assert_eq!(status_message(502, b"<html>"), "HTTP status 502");
        assert_eq!(explanation(b"[1]"), None);
    }

    #[test]
    fn the_servers_text_is_bounded_printable_and_hides_tokens() {
        let long = format!(r#"{{"detail":"{}"}}"#, "é".repeat(1000));
        let shown = explanation(long.as_bytes()).unwrap();
        assert_eq!(shown.chars().count(), MAX_EXPLANATION_CHARS + 1);
        assert!(shown.ends_with('…'));
        let sneaky = "{\"detail\":\"line\\none\\u001b[31m red \\u202e gnp.exe\"}";
        assert_eq!(
            explanation(sneaky.as_bytes()).as_deref(),
            Some("line one[31m red gnp.exe")
        );
        let token = r#"{"detail":"token eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln is expired"}"#;
        assert_eq!(
            explanation(token.as_bytes()).as_deref(),
            Some("token […] is expired")
        );
    }
}
