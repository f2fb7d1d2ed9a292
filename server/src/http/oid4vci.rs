//! OpenID4VCI 1.0 issuer endpoints (pre-authorized code flow): issuer and authorization
//! server metadata, token, nonce, credential, and the credential offer by reference with
//! its QR image. Errors use the OAuth JSON shape the specification requires, not
//! problem+json.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use giayto_core::oid4vci::{
    CredentialRequest, CredentialResponse, NonceResponse, REFRESH_TOKEN_GRANT, TokenRequest,
};
use serde_json::{Value, json};
use sqlx::Row;

use super::AppState;
use super::account;
use super::error::{ApiError, oauth_error};
use crate::domain::accounts;
use crate::domain::issuance::{
    self, BATCH_SIZE, CREDENTIAL_SIGNING_ALGS, GrantError, PROOF_SIGNING_ALGS, Redeemed, alg_names,
};
use crate::domain::{DomainError, now};
use crate::offer::{self, PRE_AUTHORIZED_GRANT};

fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

impl IntoResponse for GrantError {
    fn into_response(self) -> Response {
        match self {
            GrantError::Token { code, description } => {
                oauth_error(StatusCode::BAD_REQUEST, code, description)
            }
            // The tries left, in the description and as an extension member (RFC 6749
            // section 5.2 lists the members an error has; clients ignore others).
            GrantError::WrongTxCode { tries_left } => no_store(
                (
                    StatusCode::BAD_REQUEST,
                    Json(json!({
                        "error": "invalid_grant",
                        "error_description": if tries_left > 0 {
                            format!("wrong tx_code: {tries_left} tries left before this offer is burnt")
                        } else {
                            "wrong tx_code: no try left, this offer is burnt; the agency must make a new one".to_owned()
                        },
                        "tx_code_tries_left": tries_left,
                    })),
                )
                    .into_response(),
            ),
            GrantError::InvalidToken => {
                let mut res = oauth_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_token",
                    "unknown, used or expired access token",
                );
                res.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_token\""),
                );
                res
            }
            GrantError::Credential { code, description } => {
                oauth_error(StatusCode::BAD_REQUEST, code.as_str(), &description)
            }
            GrantError::Internal(e) => ApiError::from(e).into_response(),
        }
    }
}

/// One credential configuration (OpenID4VCI 1.0 section 12.2.4, Appendix A.3.2).
fn configuration(vct: &str, display: [(&str, String, String); 2]) -> Value {
    let display: Vec<Value> = display
        .iter()
        .map(|(locale, name, description)| {
            json!({ "name": name, "locale": locale, "description": description })
        })
        .collect();
    json!({
        "format": "dc+sd-jwt",
        "vct": vct,
        "cryptographic_binding_methods_supported": ["jwk"],
        "credential_signing_alg_values_supported": alg_names(CREDENTIAL_SIGNING_ALGS),
        "proof_types_supported": { "jwt": { "proof_signing_alg_values_supported": alg_names(PROOF_SIGNING_ALGS) } },
        "credential_metadata": { "display": display },
    })
}

/// `/.well-known/openid-credential-issuer`: one credential configuration per document type
/// (the full credential, id = the type's id) and one per purpose type (id
/// `<type>.<preset>`, its own `vct`), each named for a wallet in Vietnamese and English.
pub async fn issuer_metadata(State(state): State<AppState>) -> Json<Value> {
    let base = &state.services.config.public_url;
    let mut configurations = serde_json::Map::new();
    for t in giayto_core::catalogue::all() {
        configurations.insert(
            t.id.to_owned(),
            configuration(
                t.vct,
                [
                    ("vi", t.name.vi.to_owned(), t.description.vi.to_owned()),
                    ("en", t.name.en.to_owned(), t.description.en.to_owned()),
                ],
            ),
        );
        for purpose in t.purposes() {
            configurations.insert(
                offer::purpose_configuration_id(&purpose),
                configuration(
                    &purpose.vct(),
                    [
                        (
                            "vi",
                            purpose.name("vi"),
                            "Chỉ chứa các thông tin cho mục đích này; mỗi bản chỉ xuất trình một lần".to_owned(),
                        ),
                        (
                            "en",
                            purpose.name("en"),
                            "Holds only the claims for this purpose; show each copy once".to_owned(),
                        ),
                    ],
                ),
            );
        }
    }
    Json(json!({
        "credential_issuer": base,
        "credential_endpoint": format!("{base}/credential"),
        "nonce_endpoint": format!("{base}/nonce"),
        "batch_credential_issuance": { "batch_size": BATCH_SIZE },
        "display": [
            { "name": "Hệ thống giấy tờ điện tử giayto", "locale": "vi" },
            { "name": "giayto electronic documents", "locale": "en" },
        ],
        "credential_configurations_supported": configurations,
    }))
}

/// `/.well-known/oauth-authorization-server` (RFC 8414): this issuer is its own AS.
pub async fn authorization_server_metadata(State(state): State<AppState>) -> Json<Value> {
    let base = &state.services.config.public_url;
    Json(json!({
        "issuer": base,
        "token_endpoint": format!("{base}/token"),
        "grant_types_supported": [PRE_AUTHORIZED_GRANT, REFRESH_TOKEN_GRANT],
        "dpop_signing_alg_values_supported": alg_names(super::account::DPOP_SIGNING_ALGS),
        "token_endpoint_auth_methods_supported": ["none"],
        "pre-authorized_grant_anonymous_access_supported": true,
        "status_list_aggregation_endpoint": crate::domain::status_lists::server_aggregation_uri(&state.services),
    }))
}

/// Token endpoint: the pre-authorized code grant, and the refresh token grant that lets a
/// wallet refill its purpose credentials.
pub async fn token(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(req) = TokenRequest::from_form(&body) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "body must be application/x-www-form-urlencoded",
        );
    };
    // A DPoP proof (RFC 9449 section 5) activates or refreshes a citizen account.
    let dpop = match account::request_proof(&state.services, &headers, "POST", "/token", None) {
        Ok(dpop) => dpop,
        Err(fault) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_dpop_proof",
                &fault.description(),
            );
        }
    };
    if req.grant_type == REFRESH_TOKEN_GRANT
        && let Some(refresh_token) = req.refresh_token.as_ref()
        && refresh_token.expose().starts_with(accounts::REFRESH_PREFIX)
    {
        let Some(proof) = dpop.as_ref() else {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_dpop_proof",
                "an account refresh token needs a DPoP proof of the account key",
            );
        };
        return match accounts::refresh(&state.services, refresh_token.expose(), proof).await {
            Ok(grant) => account_token_response(&state, &grant).await,
            Err(e) => e.into_response(),
        };
    }
    if req.grant_type == REFRESH_TOKEN_GRANT {
        let Some(refresh_token) = req.refresh_token.as_ref() else {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "refresh_token is missing",
            );
        };
        return match issuance::refresh(&state.services, refresh_token.expose()).await {
            Ok(grant) => token_response(&grant),
            Err(e) => e.into_response(),
        };
    }
    if req.grant_type != PRE_AUTHORIZED_GRANT {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only the pre-authorized code and refresh token grants are supported",
        );
    }
    let Some(code) = req.pre_authorized_code.as_ref() else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "pre-authorized_code is missing",
        );
    };
    let tx_code = req.tx_code.as_ref().map(|t| t.expose());
    match issuance::redeem_code(&state.services, code.expose(), tx_code, dpop.as_ref()).await {
        Ok(Redeemed::Document(grant)) => token_response(&grant),
        Ok(Redeemed::Account(grant)) => account_token_response(&state, &grant).await,
        Err(e) => e.into_response(),
    }
}

/// The token response of an account (RFC 6749 section 5.1, RFC 9449 section 5): a
/// `DPoP` token, the refresh token at activation, and `authorization_details` naming every
/// document the account can receive now (OpenID4VCI 1.0 section 6.2).
async fn account_token_response(state: &AppState, grant: &accounts::AccountGrant) -> Response {
    let inbox = match accounts::inbox(&state.services, &grant.citizen_id).await {
        Ok(inbox) => inbox,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let mut body = json!({
        "access_token": grant.access_token,
        "token_type": giayto_core::oid4vci::DPOP_TOKEN_TYPE,
        "expires_in": grant.expires_in,
        "authorization_details": accounts::authorization_details(&state.services, &inbox),
    });
    if let Some(refresh_token) = &grant.refresh_token {
        body["refresh_token"] = json!(refresh_token);
    }
    no_store(Json(body).into_response())
}

/// The members of a token response of a document's pre-authorized code (RFC 6749 section
/// 5.1, OpenID4VCI 1.0 section 6.2), in this order, written straight from the grant.
#[derive(serde::Serialize)]
struct BearerTokenResponse<'a> {
    access_token: &'a str,
    token_type: &'static str,
    expires_in: i64,
    refresh_token: &'a str,
}

/// A successful token response (RFC 6749 section 5.1), never cached.
fn token_response(grant: &issuance::Grant) -> Response {
    no_store(
        Json(BearerTokenResponse {
            access_token: &grant.access_token,
            token_type: "Bearer",
            expires_in: grant.expires_in,
            refresh_token: &grant.refresh_token,
        })
        .into_response(),
    )
}

/// Nonce endpoint (OpenID4VCI 1.0 section 7): a fresh, unpredictable `c_nonce`, answered
/// `no-store`. Stateless: nothing is stored for the caller ([`crate::domain::c_nonce`]).
pub async fn nonce(State(state): State<AppState>) -> Response {
    match issuance::new_nonce(&state.services) {
        Ok(c_nonce) => no_store(Json(NonceResponse { c_nonce }).into_response()),
        Err(e) => e.into_response(),
    }
}

/// Credential endpoint.
pub async fn credential(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if account::dpop_access_token(&headers).is_some() {
        return account::credential(&state.services, &headers, &body).await;
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(token) = token else {
        let mut res = oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "a Bearer access token is required",
        );
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return res;
    };
    // Core's nesting bound first (serde_json's own may be lifted in a workspace build).
    let req: CredentialRequest = match giayto_core::limits::parse_json(&body) {
        Ok(r) => r,
        Err(_) => {
            return GrantError::Credential {
                code: giayto_core::oid4vci::IssuerErrorCode::InvalidCredentialRequest,
                description: "body must be a JSON credential request".into(),
            }
            .into_response();
        }
    };
    match issuance::issue_credentials(&state.services, token, &req).await {
        // `{"credentials": [{"credential": "<SD-JWT VC>"}, ...]}` (OpenID4VCI 1.0 section 8.3).
        Ok(creds) => no_store(Json(CredentialResponse::issued(creds)).into_response()),
        Err(e) => e.into_response(),
    }
}

async fn open_offer(
    state: &AppState,
    offer_id: &str,
) -> Result<(String, offer::OfferSecret), ApiError> {
    if offer_id.len() != 32 || !offer_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(DomainError::NotFound("offer").into());
    }
    let row = sqlx::query(
        "SELECT o.secret_wrapped, d.vct FROM offers o JOIN documents d ON d.id = o.document_id \
         WHERE o.id = $1 AND o.state = 'open' AND o.expires_at > $2",
    )
    .bind(offer_id)
    .bind(now())
    .fetch_optional(state.services.db.pool())
    .await
    .map_err(DomainError::from)?
    .ok_or(DomainError::NotFound("offer"))?;
    let wrapped: Option<Vec<u8>> = row.try_get("secret_wrapped").map_err(DomainError::from)?;
    let wrapped = wrapped.ok_or(DomainError::NotFound("offer"))?;
    let vct: String = row.try_get("vct").map_err(DomainError::from)?;
    Ok((
        vct,
        offer::unwrap_secret(&state.services, offer_id, &wrapped)?,
    ))
}

/// The credential offer by reference (`credential_offer_uri`), while it is open.
pub async fn offer_by_reference(
    State(state): State<AppState>,
    Path(offer_id): Path<String>,
) -> Result<Response, ApiError> {
    let (vct, secret) = open_offer(&state, &offer_id).await?;
    let object = offer::offer_object(&state.services, &vct, &secret)?;
    Ok(no_store(Json(object).into_response()))
}

/// A PNG QR code of the offer's by-reference URI.
pub async fn offer_qr(
    State(state): State<AppState>,
    Path(offer_id): Path<String>,
) -> Result<Response, ApiError> {
    let _ = open_offer(&state, &offer_id).await?;
    let uri = format!(
        "openid-credential-offer://?credential_offer_uri={}",
        url::form_urlencoded::byte_serialize(
            offer::offer_url(&state.services, &offer_id).as_bytes()
        )
        .collect::<String>()
    );
    let png = crate::qr::png(&uri).map_err(|e| ApiError::internal(&e))?;
    Ok(no_store(
        ([(header::CONTENT_TYPE, "image/png")], png).into_response(),
    ))
}
