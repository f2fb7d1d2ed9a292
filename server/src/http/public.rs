//! Public, unauthenticated endpoints verifiers and wallets read: JWKS, per-agency JWT VC
//! issuer metadata, status list tokens and their aggregations (with validators and 304 on
//! conditional requests), the trust list and SD-JWT VC type metadata.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use giayto_core::jose::Jwks;
use serde_json::{Value, json};

use super::AppState;
use super::conditional::Validators;
use super::error::ApiError;
use crate::domain::{DomainError, agencies, ids, keys, now, status_lists, trust};

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
    let body = json!({
        "issuer": state.services.agency_issuer(&agency_id),
        "jwks": Jwks { keys },
        "status_list_aggregation_endpoint": status_lists::aggregation_uri(&state.services, &agency_id),
    });
    Ok(cache_for(Json(body).into_response(), 300))
}

/// `/status-lists/{id}`: the current `statuslist+jwt`, with `ETag` and `Last-Modified`;
/// `304 Not Modified` when the request's `If-None-Match` (or `If-Modified-Since`) still
/// matches, without building or signing the token.
pub async fn status_list(
    State(state): State<AppState>,
    Path(list_id): Path<String>,
    request: HeaderMap,
) -> Result<Response, ApiError> {
    if list_id.len() != 32 || !list_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(DomainError::NotFound("status list").into());
    }
    let list = status_lists::state(&state.services, &list_id, now()).await?;
    let validators = Validators::new(&list.etag(), Some(list.iat));
    // The token's own ttl rules caching; HTTP caches may keep it no longer than that.
    let cache_control = format!(
        "public, max-age={}",
        state.services.config.status_list_ttl_secs.min(60)
    );
    let response = if validators.not_modified(&request) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let token = status_lists::token(&state.services, &list).await?;
        (
            [(header::CONTENT_TYPE, "application/statuslist+jwt")],
            token,
        )
            .into_response()
    };
    Ok(validators.finish(response, &cache_control))
}

/// `/status-lists`: the Status List Aggregation of every agency (linked from the OAuth
/// metadata as `status_list_aggregation_endpoint`).
pub async fn status_list_aggregation(
    State(state): State<AppState>,
    request: HeaderMap,
) -> Result<Response, ApiError> {
    let uris = status_lists::aggregation(&state.services, None).await?;
    Ok(aggregation_response(&request, uris))
}

/// `/agencies/{id}/status-lists`: the Status List Aggregation of one agency (linked from
/// its status list tokens as `aggregation_uri`, its issuer metadata and the trust list).
pub async fn agency_status_list_aggregation(
    State(state): State<AppState>,
    Path(agency_id): Path<String>,
    request: HeaderMap,
) -> Result<Response, ApiError> {
    agencies::get_agency(&state.services, &agency_id)
        .await?
        .ok_or(DomainError::NotFound("agency"))?;
    let uris = status_lists::aggregation(&state.services, Some(&agency_id)).await?;
    Ok(aggregation_response(&request, uris))
}

/// `{"status_lists": [...]}` as `application/json` (draft section "Status List Aggregation
/// Data Structure"), with a validator: lists are only ever added, so their number is one.
fn aggregation_response(request: &HeaderMap, uris: Vec<String>) -> Response {
    let validators = Validators::new(&format!("W/\"n{}\"", uris.len()), None);
    validators.respond(request, "public, max-age=60", || {
        Json(json!({ "status_lists": uris })).into_response()
    })
}

/// `/trust-list`: the newest signed trust list, with a strong `ETag` (a digest of the
/// token: every process serves the same stored token) and 304 on a matching `If-None-Match`.
pub async fn trust_list(
    State(state): State<AppState>,
    request: HeaderMap,
) -> Result<Response, ApiError> {
    let token = trust::current_refreshed(&state.services).await?;
    let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    let etag = format!("\"{}\"", hex::encode(&digest.as_ref()[..16]));
    Ok(
        Validators::new(&etag, None).respond(&request, "public, max-age=300", || {
            (
                [(header::CONTENT_TYPE, trust::TRUST_LIST_MEDIA_TYPE)],
                token,
            )
                .into_response()
        }),
    )
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
