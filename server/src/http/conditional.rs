//! Conditional GET (RFC 9110 section 13) for the documents verifiers sync: each answer
//! carries its validators (`ETag`, `Last-Modified`), and a request whose validators still
//! match gets `304 Not Modified` with no body, so a daily sync moves only what changed.
//! Header parsing and comparison are the `headers` crate's.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use headers::{ETag, HeaderMapExt, IfModifiedSince, IfNoneMatch, LastModified};

/// The validators of one representation.
#[derive(Debug, Clone)]
pub struct Validators {
    etag: Option<ETag>,
    last_modified: Option<SystemTime>,
}

impl Validators {
    /// From an entity tag (`W/"..."` or `"..."`; one that does not parse is left out) and a
    /// modification time in Unix seconds (negative times are left out).
    pub fn new(etag: &str, last_modified_unix: Option<i64>) -> Validators {
        Validators {
            etag: etag.parse().ok(),
            last_modified: last_modified_unix
                .and_then(|t| u64::try_from(t).ok())
                .map(|t| UNIX_EPOCH + Duration::from_secs(t)),
        }
    }

    /// Whether `request` may be answered with 304 (RFC 9110 section 13.2.2, steps 3 and 4):
    /// `If-None-Match` decides when present (weak comparison, section 13.1.2); otherwise
    /// `If-Modified-Since` (section 13.1.3) does.
    pub fn not_modified(&self, request: &HeaderMap) -> bool {
        if let Some(if_none_match) = request.typed_get::<IfNoneMatch>() {
            return self
                .etag
                .as_ref()
                .is_some_and(|etag| !if_none_match.precondition_passes(etag));
        }
        match (request.typed_get::<IfModifiedSince>(), self.last_modified) {
            (Some(since), Some(modified)) => !since.is_modified(modified),
            _ => false,
        }
    }

    /// `304 Not Modified` when `request`'s validators match, else `full()`; either way
    /// with the validators and `cache_control` (which a 304 must repeat: RFC 9110 section
    /// 15.4.5).
    pub fn respond(
        &self,
        request: &HeaderMap,
        cache_control: &str,
        full: impl FnOnce() -> Response,
    ) -> Response {
        let response = if self.not_modified(request) {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            full()
        };
        self.finish(response, cache_control)
    }

    /// `response` with `ETag`, `Last-Modified` and `Cache-Control: cache_control`.
    pub fn finish(&self, mut response: Response, cache_control: &str) -> Response {
        let headers = response.headers_mut();
        if let Some(etag) = &self.etag {
            headers.typed_insert(etag.clone());
        }
        if let Some(modified) = self.last_modified {
            headers.typed_insert(LastModified::from(modified));
        }
        if let Ok(value) = HeaderValue::from_str(cache_control) {
            headers.insert(header::CACHE_CONTROL, value);
        }
        response
    }
}
