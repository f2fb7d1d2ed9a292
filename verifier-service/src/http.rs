//! The HTTP routes: the desk page and its API (a desk is a browser session, named by the
//! `giayto_desk` cookie, HttpOnly and SameSite=Strict), and the OpenID4VP endpoints the
//! wallet calls (request object by `request_uri`, response by `direct_post.jwt`). Bodies
//! are bounded; errors are JSON `{"error", "error_description"}` (OpenID4VP 1.0 section
//! 8.5 codes for the wallet's endpoints).

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Form, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use headers::HeaderMapExt;
use serde::Deserialize;
use serde_json::json;
use tower_http::timeout::TimeoutLayer;

use crate::desk;
use crate::response::MAX_RESPONSE_BYTES;
use crate::service::{NewRequest, ServiceError, Verifier};
use crate::store::StoreError;

/// The desk session cookie.
pub const DESK_COOKIE: &str = "giayto_desk";
/// The largest body of a desk API call, bytes (a DCQL query, a QR text).
pub const MAX_DESK_BODY_BYTES: usize = 64 * 1024;
/// How long one request may take before the service answers 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The service's routes.
pub fn router(service: Arc<Verifier>) -> Router {
    let wallet = Router::new()
        .route("/oid4vp/requests/{id}", get(request_object))
        .route("/oid4vp/response", post(response))
        // Form-encoding grows base64url text by little; leave room for the field name.
        .layer(DefaultBodyLimit::max(MAX_RESPONSE_BYTES + 1024));
    let desk_api = Router::new()
        .route("/", get(page))
        .route("/desk.js", get(|| async { desk::asset("desk.js") }))
        .route("/desk.css", get(|| async { desk::asset("desk.css") }))
        .route("/api/catalogue", get(|| async { Json(desk::catalogue()) }))
        .route(
            "/api/value-names",
            get(|| async { Json(desk::value_names()) }),
        )
        .route("/api/requests", post(create_request))
        .route("/api/requests/{id}", get(read_request))
        .route("/api/requests/{id}/qr.png", get(request_qr))
        .route("/api/scan", post(scan))
        .route("/healthz", get(health))
        .layer(DefaultBodyLimit::max(MAX_DESK_BODY_BYTES));
    wallet
        .merge(desk_api)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .with_state(service)
}

fn error(status: StatusCode, code: &str, description: impl Into<String>) -> Response {
    (
        status,
        Json(json!({ "error": code, "error_description": description.into() })),
    )
        .into_response()
}

impl IntoResponse for ServiceError {
    fn into_response(self) -> Response {
        let description = self.to_string();
        match &self {
            ServiceError::Query(_) => {
                error(StatusCode::BAD_REQUEST, "invalid_request", description)
            }
            ServiceError::Store(StoreError::Full) => error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                description,
            ),
            ServiceError::Store(StoreError::NotFound) => {
                error(StatusCode::NOT_FOUND, "invalid_request", description)
            }
            ServiceError::Store(StoreError::Expired | StoreError::AlreadyAnswered) => {
                error(StatusCode::GONE, "invalid_request", description)
            }
            ServiceError::Response(_) | ServiceError::StateMismatch => {
                error(StatusCode::BAD_REQUEST, "invalid_request", description)
            }
            ServiceError::Internal(_) => {
                tracing::error!(%description, "internal error");
                error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "internal error",
                )
            }
        }
    }
}

/// The desk session named by the cookie, if any.
fn desk_of(headers: &HeaderMap) -> Option<String> {
    let cookie = headers.typed_get::<headers::Cookie>()?;
    let value = cookie.get(DESK_COOKIE)?;
    (value.len() <= 64 && !value.is_empty()).then(|| value.to_owned())
}

/// The desk session of a desk API call; without one the call is refused with 401.
struct Desk(String);

impl<S: Send + Sync> FromRequestParts<S> for Desk {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Desk, Response> {
        desk_of(&parts.headers).map(Desk).ok_or_else(|| {
            error(
                StatusCode::UNAUTHORIZED,
                "invalid_request",
                "no desk session: open the desk page first (it sets the giayto_desk cookie)",
            )
        })
    }
}

async fn page(State(service): State<Arc<Verifier>>, headers: HeaderMap) -> Response {
    let mut response = desk::page().into_response();
    if desk_of(&headers).is_none() {
        let Ok(id) = service.random_id() else {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "internal error",
            );
        };
        let secure = if service_is_https(&service) {
            "; Secure"
        } else {
            ""
        };
        let cookie = format!("{DESK_COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict{secure}");
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().insert(header::SET_COOKIE, value);
        }
    }
    response
}

fn service_is_https(service: &Verifier) -> bool {
    service.request_uri("").starts_with("https://")
}

async fn health(State(service): State<Arc<Verifier>>) -> Response {
    let device = service.device();
    Json(json!({
        "trust_list_loaded": device.trust_list().is_some(),
        "status_lists": device.status_cache().len(),
        "requests_held": service.held_requests(),
    }))
    .into_response()
}

async fn create_request(
    State(service): State<Arc<Verifier>>,
    Desk(desk): Desk,
    Json(new): Json<NewRequest>,
) -> Response {
    match service.create_request(&desk, new) {
        Ok(created) => (StatusCode::CREATED, Json(created)).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn read_request(
    State(service): State<Arc<Verifier>>,
    Desk(desk): Desk,
    Path(id): Path<String>,
) -> Response {
    match service.view(&id, &desk) {
        Ok(view) => Json(view).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn request_qr(
    State(service): State<Arc<Verifier>>,
    Desk(desk): Desk,
    Path(id): Path<String>,
) -> Response {
    let uri = match service.invocation_uri(&id, &desk) {
        Ok(uri) => uri,
        Err(e) => return e.into_response(),
    };
    match giayto_core::qr::render_png(&uri, giayto_core::qr::EcLevel::M) {
        Ok(png) => ([(header::CONTENT_TYPE, "image/png")], png).into_response(),
        Err(e) => ServiceError::Internal(e.to_string()).into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct ScanBody {
    qr: String,
}

async fn scan(
    State(service): State<Arc<Verifier>>,
    _: Desk,
    Json(body): Json<ScanBody>,
) -> Response {
    Json(service.verify_qr_text(&body.qr)).into_response()
}

async fn request_object(State(service): State<Arc<Verifier>>, Path(id): Path<String>) -> Response {
    match service.request_object(&id) {
        Ok(jwt) => (
            [(header::CONTENT_TYPE, "application/oauth-authz-req+jwt")],
            jwt,
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// The `direct_post.jwt` body: `response` (the JWE), or an error response's `error` and
/// `state` (section 8.5: sent unencrypted when the wallet cannot encrypt).
#[derive(Debug, Deserialize)]
struct ResponseForm {
    response: Option<String>,
    error: Option<String>,
    state: Option<String>,
}

async fn response(
    State(service): State<Arc<Verifier>>,
    Form(form): Form<ResponseForm>,
) -> Response {
    let outcome = match (form.response, form.error, form.state) {
        (Some(jwe), _, _) => {
            let service = service.clone();
            // Decryption and verification are CPU work: off the async workers.
            tokio::task::spawn_blocking(move || service.take_response(&jwe).map(|t| t.redirect_uri))
                .await
                .unwrap_or_else(|e| Err(ServiceError::Internal(e.to_string())))
        }
        (None, Some(error_code), Some(state)) => service.take_error(&state, &error_code),
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "the body has neither response nor error with state",
            );
        }
    };
    match outcome {
        // Section 8.2: a JSON body, with `redirect_uri` in the same-device flow only.
        Ok(Some(redirect_uri)) => Json(json!({ "redirect_uri": redirect_uri })).into_response(),
        Ok(None) => Json(json!({})).into_response(),
        Err(e) => e.into_response(),
    }
}
