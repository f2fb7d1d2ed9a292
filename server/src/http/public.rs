//! Public, unauthenticated endpoints verifiers and wallets read: JWKS, per-agency JWT VC
//! issuer metadata, status list tokens, the trust list and SD-JWT VC type metadata.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use giayto_core::jose::Jwks;
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiError;
use crate::domain::{DomainError, agencies, ids, keys, status_lists, trust};

fn cache_for(mut res: Response, secs: i64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&format!("public, max-age={secs}")) {
        res.headers_mut().insert(header::CACHE_CONTROL, v);
    }
    res
}

/// `/.well-known/jwks.json`: every agency's published keys (active and still-covering retired).
pub async fn jwks(State(state): State<AppState>) -> Result<Response, ApiError> {
    let keys = keys::all_agency_keys(&state.services).await?;
    Ok(cache_for(Json(Jwks { keys }).into_response(), 300))
}

/// `/.well-known/jwt-vc-issuer/agencies/{id}` (SD-JWT VC issuer metadata) of one agency.
pub async fn agency_issuer_metadata(
    State(state): State<AppState>,
    Path(agency_id): Path<String>,
) -> Result<Response, ApiError> {
    if ids::agency_id(&agency_id).is_err() {
        return Err(DomainError::NotFound("agency").into());
    }
    agencies::get_agency(&state.services, &agency_id)
        .await?
        .ok_or(DomainError::NotFound("agency"))?;
    let keys = keys::published_keys(&state.services, Some(&agency_id)).await?;
    let body = json!({ "issuer": state.services.agency_issuer(&agency_id), "jwks": Jwks { keys } });
    Ok(cache_for(Json(body).into_response(), 300))
}

/// `/status-lists/{id}`: the current `statuslist+jwt`.
pub async fn status_list(
    State(state): State<AppState>,
    Path(list_id): Path<String>,
) -> Result<Response, ApiError> {
    if list_id.len() != 32 || !list_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(DomainError::NotFound("status list").into());
    }
    let token = status_lists::token(&state.services, &list_id).await?;
    let res = (
        [(header::CONTENT_TYPE, "application/statuslist+jwt")],
        token,
    )
        .into_response();
    // The token's own ttl rules caching; HTTP caches may keep it no longer than that.
    Ok(cache_for(
        res,
        state.services.config.status_list_ttl_secs.min(60),
    ))
}

/// `/trust-list`: the newest signed trust list.
pub async fn trust_list(State(state): State<AppState>) -> Result<Response, ApiError> {
    let token = trust::current_refreshed(&state.services).await?;
    Ok(cache_for(
        (
            [(header::CONTENT_TYPE, trust::TRUST_LIST_MEDIA_TYPE)],
            token,
        )
            .into_response(),
        300,
    ))
}

/// `/trust-anchor.json`: the anchor's public keys, for operators to pin out of band.
pub async fn trust_anchor(State(state): State<AppState>) -> Result<Json<Jwks>, ApiError> {
    Ok(Json(Jwks {
        keys: keys::published_keys(&state.services, None).await?,
    }))
}

/// `/vct/{id}`: SD-JWT VC type metadata of a document type (its full credential).
pub async fn type_metadata(Path(id): Path<String>) -> Result<Response, ApiError> {
    let t = giayto_core::catalogue::by_id(&id).ok_or(DomainError::NotFound("document type"))?;
    let metadata: Value = t.type_metadata();
    Ok(cache_for(Json(metadata).into_response(), 3600))
}

/// `/vct/base/{id}`: the base type every type of a document extends.
pub async fn base_type_metadata(Path(id): Path<String>) -> Result<Response, ApiError> {
    let t = giayto_core::catalogue::by_id(&id).ok_or(DomainError::NotFound("document type"))?;
    Ok(cache_for(
        Json(t.base_type_metadata()).into_response(),
        3600,
    ))
}

/// `/vct/{id}/{preset}`: the type metadata of a purpose type.
pub async fn purpose_type_metadata(
    Path((id, preset)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let purpose = giayto_core::catalogue::by_id(&id)
        .and_then(|t| giayto_core::catalogue::Purpose::of(t, &preset))
        .ok_or(DomainError::NotFound("document type"))?;
    Ok(cache_for(
        Json(purpose.type_metadata()).into_response(),
        3600,
    ))
}
