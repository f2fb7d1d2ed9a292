//! Maps domain errors to `application/problem+json` (RFC 9457) responses. Server-side
//! failures are logged with their cause and answered with a bare 500: no detail leaves.

use axum::http::{HeaderValue, StatusCode, header};
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
