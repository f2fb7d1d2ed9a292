//! Maps domain errors to `application/problem+json` (RFC 9457) responses. Server-side
//! failures are logged with their cause and answered with a bare 500: no detail leaves. A
//! database that cannot be reached is a 503. [`problem_responses`] turns the framework's own
//! error answers (unknown route, wrong method, body limits, timeouts, extractor rejections)
//! into problem+json too.

use axum::body::to_bytes;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::DomainError;

/// Media type of problem details.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem details body.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type (`about:blank` when the status says it all).
    #[serde(rename = "type")]
    pub type_: String,
    /// Short summary.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// Details for this occurrence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The invalid field, for 422.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// An error answered as problem+json.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    problem: Problem,
    www_authenticate: bool,
}

impl ApiError {
    /// A problem with a status, type suffix and detail.
    pub fn new(status: StatusCode, kind: &str, detail: impl Into<String>) -> Self {
        Self {
            status,
            problem: Problem {
                type_: format!("https://giayto.gov.vn/problems/{kind}"),
                title: status.canonical_reason().unwrap_or("error").to_owned(),
                status: status.as_u16(),
                detail: Some(detail.into()),
                field: None,
            },
            www_authenticate: false,
        }
    }

    /// 401 with a `WWW-Authenticate: Bearer` challenge.
    pub fn unauthorized(detail: &str) -> Self {
        let mut e = Self::new(StatusCode::UNAUTHORIZED, "unauthorized", detail);
        e.www_authenticate = true;
        e
    }

    /// 500 with no detail (the cause is logged, never sent).
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        let mut e = Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "");
        e.problem.detail = None;
        e
    }

    /// 503: the database cannot be reached (down, silent or its pool exhausted past the
    /// acquire timeout). The cause is logged by the caller, never sent.
    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the database is unavailable; try again later",
        )
    }

    /// The body, for tests and the bulk endpoint.
    pub fn problem(&self) -> &Problem {
        &self.problem
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::NotFound(what) => Self::new(
                StatusCode::NOT_FOUND,
                "not-found",
                format!("{what} not found"),
            ),
            DomainError::Forbidden(msg) => Self::new(StatusCode::FORBIDDEN, "forbidden", msg),
            DomainError::Invalid { field, reason } => {
                let mut p = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-field", reason);
                p.problem.field = Some(field);
                p
            }
            DomainError::Conflict(msg) => Self::new(StatusCode::CONFLICT, "conflict", msg),
            DomainError::Db(e) if database_unreachable(&e) => {
                tracing::warn!(error = %e, "database unavailable");
                Self::unavailable()
            }
            other @ (DomainError::Db(_) | DomainError::Secret(_) | DomainError::Internal(_)) => {
                Self::internal(&other)
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.problem).unwrap_or_default();
        let mut res = (self.status, body).into_response();
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if self.www_authenticate {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

/// Answers any unmatched route.
pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not-found", "no such endpoint")
}

/// Whether a database error means "cannot reach the database now" (503) rather than a fault
/// of this server (500): the pool timed out or is closed, or the connection broke.
fn database_unreachable(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
    )
}

/// Longest framework error text kept as a problem's `detail`, bytes.
const MAX_DETAIL_BYTES: usize = 512;

/// Middleware: every error answer (status 400 and up) that is neither problem+json nor the
/// OAuth JSON error shape of the OpenID4VCI endpoints becomes problem+json with the same
/// status (RFC 9457 section 3), keeping `Allow`, `Retry-After` and `WWW-Authenticate`.
/// These are the framework's own answers: 404 (unknown route), 405 (wrong method), 408
/// and 503 (timeouts), 413 (body limit), 400 (unreadable path or body); their plain-text
/// reason (at most 512 bytes) becomes `detail`.
pub async fn problem_responses(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let status = res.status();
    if status.as_u16() < 400 {
        return res;
    }
    let media = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if media == PROBLEM_JSON || media == "application/json" {
        return res;
    }
    let (parts, body) = res.into_parts();
    let text = if media == "text/plain" {
        to_bytes(body, MAX_DETAIL_BYTES)
            .await
            .ok()
            .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
            .filter(|t| !t.is_empty())
    } else {
        None
    };
    let kind = match status {
        StatusCode::BAD_REQUEST => "bad-request",
        StatusCode::NOT_FOUND => "not-found",
        StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
        StatusCode::REQUEST_TIMEOUT => "request-timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "too-large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        _ => "http-error",
    };
    let detail = text.unwrap_or_else(|| match status {
        StatusCode::METHOD_NOT_ALLOWED => "this endpoint does not take that method".to_owned(),
        StatusCode::REQUEST_TIMEOUT => "the request was not received in time".to_owned(),
        StatusCode::SERVICE_UNAVAILABLE => "the server could not answer in time".to_owned(),
        _ => status.canonical_reason().unwrap_or("error").to_owned(),
    });
    let mut out = ApiError::new(status, kind, detail).into_response();
    for name in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(v) = parts.headers.get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out
}
