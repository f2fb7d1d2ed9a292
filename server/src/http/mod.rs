//! The HTTP surface: `app(state)` builds the public router (issuer API, OpenID4VCI, public
//! documents, health) with media-type checks, body limits, read timeouts, a per-request
//! time bound, problem+json errors, tracing and metrics; `admin_app()` builds the admin
//! router (`/metrics`), served on its own listener.

pub mod account;
pub mod auth;
pub mod body;
pub mod conditional;
pub mod error;
pub mod issuer_api;
pub mod oid4vci;
pub mod ops;
pub mod public;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::{RequestBodyDeadlineLayer, RequestBodyTimeoutLayer, TimeoutLayer};
use tower_http::trace::TraceLayer;

use crate::domain::Services;

/// Shared state of every handler.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The domain services.
    pub services: Services,
}

/// Builds the public router.
///
/// Every route but the bulk stream: the whole body is read first (at most
/// `max_body_bytes`, no pause over `body_read_timeout_secs`, all of it within
/// `request_timeout_secs`: else 413 or 408) and the handler must answer within
/// `request_timeout_secs` (else 503). The bulk stream: at most `max_bulk_body_bytes`, no
/// pause over `body_read_timeout_secs`, at most `bulk_max_duration_secs` in all. Bodies
/// must carry their endpoint's media type (415). Every error is problem+json except the
/// OAuth errors of the OpenID4VCI endpoints, whose shape their specifications fix.
pub fn app(state: AppState) -> Router {
    // The recorder is process-wide; installing it here makes every router report.
    let _ = ops::prometheus();
    let config = &state.services.config;
    let limit = config.max_body_bytes;
    let body_pause = Duration::from_secs(config.body_read_timeout_secs);
    let request_time = Duration::from_secs(config.request_timeout_secs);
    // Media types are checked per method, after routing, so a wrong method stays a 405.
    let json = || from_fn(body::json_only);
    let bulk = Router::new()
        .route(
            "/api/v1/bulk/documents",
            post(issuer_api::bulk).route_layer(from_fn(body::ndjson_only)),
        )
        .layer(RequestBodyLimitLayer::new(config.max_bulk_body_bytes));
    let json = Router::new()
        .route(
            "/api/v1/documents",
            post(issuer_api::publish).route_layer(json()),
        )
        .route(
            "/api/v1/documents/{document_id}/reissue",
            post(issuer_api::reissue).route_layer(json()),
        )
        .route("/credential", post(oid4vci::credential).route_layer(json()))
        .route(
            "/api/v1/accounts",
            post(account::activate).route_layer(json()),
        )
        .route(
            "/api/v1/guardianships",
            post(account::record_guardianship).route_layer(json()),
        );
    let form = Router::new().route(
        "/token",
        post(oid4vci::token).route_layer(from_fn(body::form_only)),
    );
    let bodiless = Router::new()
        .route(
            "/api/v1/documents/{document_id}",
            get(issuer_api::get_document),
        )
        .route(
            "/api/v1/documents/{document_id}/revoke",
            post(issuer_api::revoke),
        )
        .route(
            "/api/v1/documents/{document_id}/suspend",
            post(issuer_api::suspend),
        )
        .route(
            "/api/v1/documents/{document_id}/reinstate",
            post(issuer_api::reinstate),
        )
        .route(
            "/.well-known/openid-credential-issuer",
            get(oid4vci::issuer_metadata),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(oid4vci::authorization_server_metadata),
        )
        .route(
            "/api/v1/accounts/{citizen_id}/deactivate",
            post(account::deactivate),
        )
        .route(
            "/api/v1/guardianships/{guardianship_id}/end",
            post(account::end_guardianship),
        )
        .route(account::INBOX_PATH, get(account::inbox))
        .route(account::TRANSFER_PATH, post(account::transfer))
        .route("/nonce", post(oid4vci::nonce))
        .route("/offers/{offer_id}", get(oid4vci::offer_by_reference))
        .route("/offers/{offer_id}/qr.png", get(oid4vci::offer_qr))
        .route("/.well-known/jwks.json", get(public::jwks))
        .route(
            "/.well-known/jwt-vc-issuer/agencies/{agency_id}",
            get(public::agency_issuer_metadata),
        )
        .route("/status-lists/{list_id}", get(public::status_list))
        .route("/status-lists", get(public::status_list_aggregation))
        .route(
            "/agencies/{agency_id}/status-lists",
            get(public::agency_status_list_aggregation),
        )
        .route("/trust-list", get(public::trust_list))
        .route("/trust-anchor.json", get(public::trust_anchor))
        .route("/vct/{id}", get(public::type_metadata))
        .route("/vct/base/{id}", get(public::base_type_metadata))
        .route("/vct/{id}/{preset}", get(public::purpose_type_metadata))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/openapi.json", get(ops::openapi));
    // Layers run outside in: the body is read whole before the handler's time starts.
    let buffered = Router::new()
        .merge(json)
        .merge(form)
        .merge(bodiless)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            request_time,
        ))
        .layer(from_fn_with_state(limit, body::buffered))
        .layer(RequestBodyLimitLayer::new(limit))
        .layer(RequestBodyDeadlineLayer::new(request_time));
    Router::new()
        .merge(bulk)
        .merge(buffered)
        .fallback(error::not_found)
        .layer(RequestBodyTimeoutLayer::new(body_pause))
        .layer(DefaultBodyLimit::disable())
        .layer(from_fn(error::problem_responses))
        .layer(from_fn(ops::track))
        // Spans name the route template and a method from a fixed set, never the raw URI
        // or method: offer ids in paths are bearer values and must not reach the logs, and
        // a method is client data of any length.
        .layer(
            // Borrowed fields: nothing is built for a span no subscriber listens to.
            TraceLayer::new_for_http().make_span_with(|req: &axum::extract::Request| {
                tracing::info_span!(
                    "http",
                    method = ops::method_label(req.method()),
                    route = ops::route_label(req)
                )
            }),
        )
        .with_state(state)
}

/// Builds the admin router: `/metrics` (Prometheus text format) and problem+json 404s for
/// anything else. Serve it only on `admin_bind`, never on the public listener.
pub fn admin_app() -> Router {
    let _ = ops::prometheus();
    Router::new()
        .route("/metrics", get(ops::metrics_text))
        .fallback(error::not_found)
        .layer(from_fn(error::problem_responses))
}
