//! Request bodies: the media type each endpoint takes (415 otherwise), and the buffering of
//! non-streaming bodies under the body limit and the read timeouts, so that an oversized,
//! stalled or too slow body is answered as problem+json (413 or 408) before any handler
//! runs. The timers themselves are tower-http's `RequestBodyTimeoutLayer` (a pause between
//! two pieces) and `RequestBodyDeadlineLayer` (the whole body), applied in [`super::app`].

use std::error::Error as StdError;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

/// `application/json`: the issuer API and the OpenID4VCI credential request (OpenID4VCI 1.0
/// section 8.2).
pub const APPLICATION_JSON: &str = "application/json";
/// `application/x-www-form-urlencoded`: the token request (RFC 6749 section 4.1.3).
pub const APPLICATION_FORM: &str = "application/x-www-form-urlencoded";
/// `application/x-ndjson`: the bulk publishing stream.
pub const APPLICATION_NDJSON: &str = "application/x-ndjson";

/// Why reading a request body failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFault {
    /// Over the body limit (`http_body_util::LengthLimitError`): 413.
    TooLarge,
    /// A read timeout or deadline passed (`tower_http::timeout::TimeoutError`): 408.
    TimedOut,
    /// Anything else: the client went away or sent a malformed body.
    Other,
}

impl BodyFault {
    /// Classifies a body error by the errors in its source chain.
    pub fn of(e: &(dyn StdError + 'static)) -> Self {
        let mut cur: Option<&(dyn StdError + 'static)> = Some(e);
        while let Some(err) = cur {
            if err.is::<http_body_util::LengthLimitError>() {
                return Self::TooLarge;
            }
            if err.is::<tower_http::timeout::TimeoutError>() {
                return Self::TimedOut;
            }
            cur = err.source();
        }
        Self::Other
    }

    /// The problem answered for this fault.
    pub fn problem(self, limit: usize) -> ApiError {
        match self {
            Self::TooLarge => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                format!("the request body may hold at most {limit} bytes"),
            ),
            Self::TimedOut => ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "request-timeout",
                "the request body was not received in time",
            ),
            Self::Other => ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad-request",
                "the request body could not be read",
            ),
        }
    }
}

/// The media type of a request (`type/subtype`, lower case, parameters dropped), if any.
pub fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let mime: mime::Mime = value.parse().ok()?;
    Some(mime.essence_str().to_ascii_lowercase())
}

/// Whether the request's media type is `expected` (a lower-case `type/subtype`), compared
/// as [`media_type`] would, without building its lower-case copy.
fn has_media_type(headers: &HeaderMap, expected: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|m| m.essence_str().eq_ignore_ascii_case(expected))
}

async fn require(expected: &'static str, req: Request, next: Next) -> Response {
    if has_media_type(req.headers(), expected) {
        return next.run(req).await;
    }
    let found = media_type(req.headers());
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
        format!(
            "the body must be sent as Content-Type: {expected} (got {})",
            found.as_deref().unwrap_or("none")
        ),
    )
    .into_response()
}

/// Middleware: the request must be `application/json`, else 415.
pub async fn json_only(req: Request, next: Next) -> Response {
    require(APPLICATION_JSON, req, next).await
}

/// Middleware: the request must be `application/x-www-form-urlencoded`, else 415.
pub async fn form_only(req: Request, next: Next) -> Response {
    require(APPLICATION_FORM, req, next).await
}

/// Middleware: the request must be `application/x-ndjson`, else 415.
pub async fn ndjson_only(req: Request, next: Next) -> Response {
    require(APPLICATION_NDJSON, req, next).await
}

/// Middleware: reads the whole body (at most `limit` bytes, within the read timeouts of
/// the layers outside) before the handler runs; 413, 408 or 400 problem+json otherwise.
pub async fn buffered(State(limit): State<usize>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    match to_bytes(body, limit).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(e) => BodyFault::of(&e).problem(limit).into_response(),
    }
}
