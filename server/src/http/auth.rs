//! The bearer API key of an agency, as an axum extractor: no key, a malformed, unknown or
//! revoked key all give 401 problem+json (without saying which).

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::AppState;
use super::error::ApiError;
use crate::domain::agencies::{self, Agency};

/// The authenticated agency.
#[derive(Debug, Clone)]
pub struct AuthAgency(pub Agency);

impl FromRequestParts<AppState> for AuthAgency {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let secret = bearer_secret(&parts.headers)?;
        match agencies::authenticate(&state.services, secret).await? {
            Some(agency) => Ok(AuthAgency(agency)),
            None => Err(ApiError::unauthorized("unknown or revoked API key")),
        }
    }
}

/// The API key of an `Authorization: Bearer <API key>` header (RFC 6750 section 2.1),
/// trimmed; 401 problem when there is none.
pub fn bearer_secret(headers: &HeaderMap) -> Result<&str, ApiError> {
    let value = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::unauthorized("an agency API key is required"))?;
    value
        .strip_prefix("Bearer ")
        .map(str::trim)
        .ok_or_else(|| ApiError::unauthorized("use Authorization: Bearer <API key>"))
}
