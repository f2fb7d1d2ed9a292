//! Maps domain errors to `application/problem+json` (RFC 9457) responses. Server-side
//! failures are logged with their cause and answered with a bare 500: no detail leaves. A
//! database that cannot be reached is a 503. [`problem_responses`] turns the framework's own
//! error answers (unknown route, wrong method, body limits, timeouts, extractor rejections)
//! into problem+json too, except on the OAuth endpoints (`/token`, `/nonce`,
//! `/credential`), where its client errors take the OAuth error shape ([`oauth_error`]).

use axum::body::to_bytes;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::domain::{DomainError, FieldFault};

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
    /// The invalid field, for 422 (the first, when there are several).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every invalid field, when a request has more than one (an extension member, RFC
    /// 9457 section 3.2): each `{field, detail}`. Boxed: most problems have none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Box<Vec<FieldFault>>>,
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
                errors: None,
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
            DomainError::InvalidClaims(faults) => {
                let detail = format!(
                    "{} invalid claims: {}",
                    faults.len(),
                    faults
                        .iter()
                        .map(|f| f.reason.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                );
                let mut p = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-field", detail);
                p.problem.field = faults.first().map(|f| f.field.clone());
                p.problem.errors = Some(Box::new(faults));
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

/// An OAuth JSON error response (RFC 6749 section 5.2; OpenID4VCI 1.0 sections 6.3 and
/// 8.3.1): `{"error": code, "error_description": description}`, `application/json`,
/// `Cache-Control: no-store`. The description is cut to the characters OpenID4VCI 1.0
/// section 8.3.1.2 allows (`%x20-21 / %x23-5B / %x5D-7E`: printable ASCII without `"` and
/// `\`), at most 200 of them.
pub fn oauth_error(status: StatusCode, code: &str, description: &str) -> Response {
    let description: String = description
        .chars()
        .filter(|c| matches!(c, ' '..='~') && *c != '"' && *c != '\\')
        .take(200)
        .collect();
    let mut res = (
        status,
        axum::Json(json!({ "error": code, "error_description": description })),
    )
        .into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// An endpoint whose errors are OAuth errors, not problem+json.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OAuthEndpoint {
    /// `/token`: RFC 6749 section 5.2 (OpenID4VCI 1.0 section 6.3).
    Token,
    /// `/nonce`: no error of its own in OpenID4VCI 1.0 section 7; RFC 6749's shape.
    Nonce,
    /// `/credential`: OpenID4VCI 1.0 section 8.3.1.
    Credential,
}

impl OAuthEndpoint {
    fn of(path: &str) -> Option<Self> {
        match path {
            "/token" => Some(Self::Token),
            "/nonce" => Some(Self::Nonce),
            "/credential" => Some(Self::Credential),
            _ => None,
        }
    }

    /// The `error` code of a framework rejection with `status`: `invalid_request` (RFC 6749
    /// section 5.2, RFC 6750 section 3.1), except that a credential request whose payload
    /// cannot be taken (wrong media type, too large, unreadable, too slow) is
    /// `invalid_credential_request`, which OpenID4VCI 1.0 section 8.3.1.2 requires
    /// instead of `invalid_request` for errors of the payload.
    fn code(self, status: StatusCode) -> &'static str {
        match (self, status) {
            (Self::Credential, s) if s != StatusCode::METHOD_NOT_ALLOWED => {
                "invalid_credential_request"
            }
            _ => "invalid_request",
        }
    }
}

/// Middleware: every error answer (status 400 and up) that is neither problem+json nor the
/// OAuth JSON error shape of the OpenID4VCI endpoints becomes problem+json with the same
/// status (RFC 9457 section 3), keeping `Allow`, `Retry-After` and `WWW-Authenticate`.
/// These are the framework's own answers: 404 (unknown route), 405 (wrong method), 408
/// and 503 (timeouts), 413 (body limit), 415 (media type), 400 (unreadable path or body);
/// their reason (at most 512 bytes) becomes `detail`.
///
/// On `/token`, `/nonce` and `/credential` a client error (4xx) that is not already
/// `application/json` becomes an OAuth error instead ([`oauth_error`], code from
/// `OAuthEndpoint::code`), keeping the same headers: wallets read those endpoints' errors
/// in that shape only. Their server errors (5xx) stay problem+json: neither RFC 6749
/// section 5.2 nor OpenID4VCI 1.0 section 8.3.1 defines a code for them.
pub async fn problem_responses(req: Request, next: Next) -> Response {
    let oauth = OAuthEndpoint::of(req.uri().path());
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
    let oauth = oauth.filter(|_| status.is_client_error());
    if media == "application/json" || (media == PROBLEM_JSON && oauth.is_none()) {
        return res;
    }
    let (parts, body) = res.into_parts();
    let text = match media.as_str() {
        "text/plain" => to_bytes(body, MAX_DETAIL_BYTES)
            .await
            .ok()
            .map(|b| String::from_utf8_lossy(&b).trim().to_owned()),
        // One of ours (a 415, 413, 408 or 400 of `super::body`): its `detail`.
        PROBLEM_JSON => to_bytes(body, 4 * MAX_DETAIL_BYTES)
            .await
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|p| p.get("detail")?.as_str().map(str::to_owned)),
        _ => None,
    }
    .filter(|t| !t.is_empty());
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
    let mut out = match oauth {
        Some(endpoint) => oauth_error(status, endpoint.code(status), &detail),
        None => ApiError::new(status, kind, detail).into_response(),
    };
    for name in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(v) = parts.headers.get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out
}
