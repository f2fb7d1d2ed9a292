//! The citizen account over HTTP (issue 14): the issuer-API calls of the agency that issues
//! the ID card (activate, deactivate), the DPoP proof of a request (RFC 9449 section 4.3,
//! with [`giayto_core::oid4vci::dpop`]), the account's inbox with its `ETag`, and the
//! credential endpoint's account path (`Authorization: DPoP`, section 7.1).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use giayto_core::oid4vci::{
    CredentialRequest, DPOP_HEADER, DPOP_TOKEN_TYPE, DpopError, VerifiedDpop, verify_dpop_proof,
};
use serde_json::{Value, json};

use super::AppState;
use super::auth::AuthAgency;
use super::conditional::Validators;
use super::error::{ApiError, Problem, oauth_error};
use crate::domain::accounts::{
    self, AccountAuthError, AccountView, ActivationRequest, ActivationResponse,
};
use crate::domain::guardians::{self, GuardianshipRequest, GuardianshipView};
use crate::domain::issuance::{self, PROOF_SIGNING_ALGS};
use crate::domain::{Services, now};

pub use giayto_core::oid4vci::inbox::{INBOX_PATH, TRANSFER_PATH};

/// The algorithms of DPoP proofs this server accepts (`dpop_signing_alg_values_supported`,
/// RFC 9449 section 5.1): ES256, as for key proofs.
pub const DPOP_SIGNING_ALGS: &[giayto_core::jose::Algorithm] = PROOF_SIGNING_ALGS;

/// Why a request's DPoP proof was not taken.
#[derive(Debug)]
pub enum ProofFault {
    /// More than one `DPoP` header, or one that is not text.
    Header,
    /// The proof fails a check of RFC 9449 section 4.3.
    Proof(DpopError),
}

impl ProofFault {
    /// A safe description (never the proof).
    pub fn description(&self) -> String {
        match self {
            ProofFault::Header => "send exactly one DPoP header".into(),
            ProofFault::Proof(e) => e.to_string(),
        }
    }
}

/// The verified DPoP proof of a request of `method` to `path` (on this server's public
/// URL), or `None` without a `DPoP` header. `access_token`: the token presented with it,
/// whose `ath` the proof must carry.
pub fn request_proof(
    services: &Services,
    headers: &HeaderMap,
    method: &str,
    path: &str,
    access_token: Option<&str>,
) -> Result<Option<VerifiedDpop>, ProofFault> {
    let mut values = headers.get_all(DPOP_HEADER).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(ProofFault::Header);
    }
    let proof = value.to_str().map_err(|_| ProofFault::Header)?;
    let uri = format!("{}{path}", services.config.public_url);
    verify_dpop_proof(proof, DPOP_SIGNING_ALGS, method, &uri, access_token, now())
        .map(Some)
        .map_err(ProofFault::Proof)
}

/// A `401` of a DPoP-protected resource (RFC 9449 section 7.1) with its challenge.
fn unauthorized(error: &str, description: &str) -> Response {
    let mut res = oauth_error(StatusCode::UNAUTHORIZED, error, description);
    let challenge = format!(
        "{DPOP_TOKEN_TYPE} error=\"{error}\", algs=\"{}\"",
        issuance::alg_names(DPOP_SIGNING_ALGS).join(" ")
    );
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    res
}

/// The access token of an `Authorization: DPoP <token>` header, if that is the scheme.
pub fn dpop_access_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case(DPOP_TOKEN_TYPE)
        .then_some(token.trim())
}

/// Authenticates an account request of `method` to `path`: a DPoP-bound access token and
/// a fresh proof by the account key; the answer to send otherwise.
async fn account_of(
    services: &Services,
    headers: &HeaderMap,
    method: &str,
    path: &str,
) -> Result<accounts::Account, Response> {
    let Some(token) = dpop_access_token(headers) else {
        return Err(unauthorized(
            "invalid_token",
            "an account request needs Authorization: DPoP <access token>",
        ));
    };
    let proof = match request_proof(services, headers, method, path, Some(token)) {
        Ok(Some(proof)) => proof,
        Ok(None) => {
            return Err(unauthorized(
                "invalid_dpop_proof",
                "a DPoP proof is required",
            ));
        }
        Err(fault) => return Err(unauthorized("invalid_dpop_proof", &fault.description())),
    };
    match accounts::authenticate(services, token, &proof).await {
        Ok(account) => Ok(account),
        Err(AccountAuthError::InvalidToken) => Err(unauthorized(
            "invalid_token",
            "unknown or expired access token, closed account, or another key than the account's",
        )),
        Err(AccountAuthError::ReplayedProof) => Err(unauthorized(
            "invalid_dpop_proof",
            "the DPoP proof was used before",
        )),
        Err(AccountAuthError::Internal(e)) => Err(ApiError::from(e).into_response()),
    }
}

/// `GET /account/inbox`: every document published for the account's citizen, with a
/// strong `ETag` (a digest of the body); `If-None-Match` with it gives `304`.
pub async fn inbox(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let account = match account_of(&state.services, &headers, "GET", INBOX_PATH).await {
        Ok(account) => account,
        Err(res) => return res,
    };
    let inbox = match accounts::inbox(&state.services, &account.citizen_id).await {
        Ok(inbox) => inbox,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let body = match serde_json::to_vec(&inbox) {
        Ok(body) => body,
        Err(e) => return ApiError::internal(&e).into_response(),
    };
    let etag = format!("\"{}\"", crate::secrets::sha256_hex(&body));
    Validators::new(&etag, None).respond(&headers, "private, no-cache", || {
        ([(header::CONTENT_TYPE, "application/json")], body).into_response()
    })
}

/// `POST /account/transfer`: the old phone (its account token and a DPoP proof) asks for
/// the activation offer the new phone will redeem ([`accounts::start_transfer`]).
pub async fn transfer(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let account = match account_of(&state.services, &headers, "POST", TRANSFER_PATH).await {
        Ok(account) => account,
        Err(res) => return res,
    };
    match accounts::start_transfer(&state.services, &account).await {
        Ok(offer) => {
            let mut res = (StatusCode::CREATED, Json(offer)).into_response();
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// The credential endpoint for an account token (`Authorization: DPoP`): authenticated,
/// then [`issuance::issue_for_account`].
pub async fn credential(services: &Services, headers: &HeaderMap, body: &Bytes) -> Response {
    let account = match account_of(services, headers, "POST", "/credential").await {
        Ok(account) => account,
        Err(res) => return res,
    };
    let Ok(req) = serde_json::from_slice::<CredentialRequest>(body) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_credential_request",
            "body must be a JSON credential request",
        );
    };
    match issuance::issue_for_account(services, &account, &req).await {
        Ok(creds) => {
            let list: Vec<Value> = creds
                .into_iter()
                .map(|c| json!({ "credential": c }))
                .collect();
            let mut res = Json(json!({ "credentials": list })).into_response();
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => e.into_response(),
    }
}

/// Activate a citizen's account: an offer of the citizen's ID card to hand over at the
/// counter (QR, and the `tx_code` by another channel). The wallet redeems it with a DPoP
/// proof of its account key.
#[utoipa::path(post, path = "/api/v1/accounts", tag = "issuer",
    request_body = ActivationRequest,
    responses(
        (status = 201, description = "The activation offer", body = ActivationResponse),
        (status = 401, description = "No, unknown or revoked API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The agency does not issue the ID card", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The citizen has no valid ID card from this agency", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`citizen_id` is not 12 digits", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = [])))]
pub async fn activate(
    State(state): State<AppState>,
    AuthAgency(agency): AuthAgency,
    body: Bytes,
) -> Result<(StatusCode, Json<ActivationResponse>), ApiError> {
    let req: ActivationRequest = super::issuer_api::parse_json(&body)?;
    let res = accounts::start_activation(&state.services, &agency, &req).await?;
    Ok((StatusCode::CREATED, Json(res)))
}

/// Deactivate a citizen's account (a lost phone): its tokens stop working and every
/// credential issued to it is revoked at once.
#[utoipa::path(post, path = "/api/v1/accounts/{citizen_id}/deactivate", tag = "issuer",
    params(("citizen_id" = String, Path, description = "The citizen's personal identification number")),
    responses(
        (status = 200, description = "Closed", body = AccountView),
        (status = 401, description = "No, unknown or revoked API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The agency does not issue the ID card", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The citizen has no active account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`citizen_id` is not 12 digits", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = [])))]
pub async fn deactivate(
    State(state): State<AppState>,
    AuthAgency(agency): AuthAgency,
    Path(citizen_id): Path<String>,
) -> Result<Json<AccountView>, ApiError> {
    Ok(Json(
        accounts::deactivate(&state.services, &agency, &citizen_id).await?,
    ))
}

/// Record a guardianship: until the child's 14th birthday (or an earlier end), the child's
/// documents are in the guardian's account inbox, issued to the guardian's keys with a
/// `representation` claim naming the guardian.
#[utoipa::path(post, path = "/api/v1/guardianships", tag = "issuer",
    request_body = GuardianshipRequest,
    responses(
        (status = 201, description = "Recorded", body = GuardianshipView),
        (status = 401, description = "No, unknown or revoked API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The agency does not issue the ID card", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A citizen id is not 12 digits, the birth date is not a date, or the guardianship would already have ended", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = [])))]
pub async fn record_guardianship(
    State(state): State<AppState>,
    AuthAgency(agency): AuthAgency,
    body: Bytes,
) -> Result<(StatusCode, Json<GuardianshipView>), ApiError> {
    let req: GuardianshipRequest = super::issuer_api::parse_json(&body)?;
    let view = guardians::record(&state.services, &agency, &req).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// End a guardianship now: the child's documents leave the guardian's inbox and every
/// credential issued to the guardian under it is revoked.
#[utoipa::path(post, path = "/api/v1/guardianships/{guardianship_id}/end", tag = "issuer",
    params(("guardianship_id" = String, Path, description = "The id `record` returned")),
    responses(
        (status = 200, description = "Ended", body = GuardianshipView),
        (status = 401, description = "No, unknown or revoked API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The agency does not issue the ID card", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such guardianship", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = [])))]
pub async fn end_guardianship(
    State(state): State<AppState>,
    AuthAgency(agency): AuthAgency,
    Path(id): Path<String>,
) -> Result<Json<GuardianshipView>, ApiError> {
    Ok(Json(guardians::end(&state.services, &agency, &id).await?))
}
