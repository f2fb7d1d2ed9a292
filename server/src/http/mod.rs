//! The HTTP surface: `app(state)` builds the whole router (issuer API, OpenID4VCI, public
//! documents, operations) with body limits, tracing and metrics.

pub mod auth;
pub mod error;
pub mod issuer_api;
pub mod oid4vci;
pub mod ops;
pub mod public;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::domain::Services;

/// Shared state of every handler.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The domain services.
    pub services: Services,
}

/// Builds the router.
pub fn app(state: AppState) -> Router {
    // The recorder is process-wide; installing it here makes every router report.
    let _ = ops::prometheus();
    let limit = state.services.config.max_body_bytes;
    let bulk_limit = state.services.config.max_bulk_body_bytes;
    let bulk = Router::new()
        .route("/api/v1/bulk/documents", post(issuer_api::bulk))
        .layer(RequestBodyLimitLayer::new(bulk_limit));
    let rest = Router::new()
        .route("/api/v1/documents", post(issuer_api::publish))
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
            "/api/v1/documents/{document_id}/reissue",
            post(issuer_api::reissue),
        )
        .route(
            "/.well-known/openid-credential-issuer",
            get(oid4vci::issuer_metadata),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(oid4vci::authorization_server_metadata),
        )
        .route("/token", post(oid4vci::token))
        .route("/nonce", post(oid4vci::nonce))
        .route("/credential", post(oid4vci::credential))
        .route("/offers/{offer_id}", get(oid4vci::offer_by_reference))
        .route("/offers/{offer_id}/qr.png", get(oid4vci::offer_qr))
        .route("/.well-known/jwks.json", get(public::jwks))
        .route(
            "/.well-known/jwt-vc-issuer/agencies/{agency_id}",
            get(public::agency_issuer_metadata),
        )
        .route("/status-lists/{list_id}", get(public::status_list))
        .route("/trust-list", get(public::trust_list))
        .route("/trust-anchor.json", get(public::trust_anchor))
        .route("/vct/{id}", get(public::type_metadata))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics_text))
        .route("/openapi.json", get(ops::openapi))
        .layer(RequestBodyLimitLayer::new(limit));
    Router::new()
        .merge(bulk)
        .merge(rest)
        .fallback(error::not_found)
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn(ops::track))
        // Spans name the route template, never the raw URI: offer ids in paths are bearer
        // values and must not reach the logs.
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::extract::Request| {
                let route = req
                    .extensions()
                    .get::<axum::extract::MatchedPath>()
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_default();
                tracing::info_span!("http", method = %req.method(), route = %route)
            }),
        )
        .with_state(state)
}
