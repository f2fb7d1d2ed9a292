//! Operations endpoints: liveness, readiness (the database answers), Prometheus metrics
//! (served on the admin listener only), the OpenAPI document of the issuer API, and the
//! request-metrics middleware, whose labels come from fixed sets.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Instant;

use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use utoipa::OpenApi;

use super::AppState;
use super::error::ApiError;

/// Liveness: the process answers.
pub async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database answers.
pub async fn readyz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    state.services.db.ping().await.map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not-ready",
            "database unavailable",
        )
    })?;
    Ok("ready")
}

/// The process-wide Prometheus recorder (installed once, shared by every router).
pub fn prometheus() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok().map(|()| handle)
        })
        .as_ref()
}

/// `/metrics` in the Prometheus text format.
pub async fn metrics_text() -> Response {
    match prometheus() {
        Some(h) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            h.render(),
        )
            .into_response(),
        None => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no-metrics",
            "another metrics recorder is installed",
        )
        .into_response(),
    }
}

/// The `method` label of a request: one of the RFC 9110 section 9 methods (and PATCH), or
/// `other`. A method name is client data of any length: it must never become a label.
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// The `route` label of a request: the route template it matched (`/offers/{offer_id}`,
/// never the path itself, whose ids are client data and sometimes bearer values), or
/// `unmatched`.
pub fn route_label(req: &Request) -> &str {
    req.extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
}

/// The request counter and latency histogram of one method, route and status.
#[derive(Clone)]
struct Instruments {
    requests: Counter,
    seconds: Histogram,
}

/// The instruments of `method`, `route` and `status`, registered with the recorder on first
/// use and kept: a request then costs one map look-up, not a new label set (three owned
/// strings and a key hashed in the recorder's registry). The map is bounded as the labels
/// are: the router's templates, [`method_label`]'s set, statuses 100 to 999.
fn instruments(method: &'static str, route: &str, status: StatusCode) -> Instruments {
    type ByRoute = HashMap<String, Vec<(&'static str, StatusCode, Instruments)>>;
    static KEPT: OnceLock<Mutex<ByRoute>> = OnceLock::new();
    let mut kept = KEPT
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some((_, _, found)) = kept
        .get(route)
        .and_then(|all| all.iter().find(|(m, s, _)| *m == method && *s == status))
    {
        return found.clone();
    }
    let made = Instruments {
        requests: metrics::counter!(
            "giayto_http_requests_total",
            "method" => method,
            "route" => route.to_owned(),
            "status" => status.as_str().to_owned()
        ),
        seconds: metrics::histogram!(
            "giayto_http_request_seconds",
            "method" => method,
            "route" => route.to_owned()
        ),
    };
    kept.entry(route.to_owned())
        .or_default()
        .push((method, status, made.clone()));
    made
}

/// Counts requests and their latency. Every label comes from a fixed set: the method from
/// [`method_label`], the route from [`route_label`] (the router's templates), the status
/// code (a number from 100 to 999).
pub async fn track(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method = method_label(req.method());
    let res = next.run(req).await;
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    let instruments = instruments(method, route, res.status());
    instruments.requests.increment(1);
    instruments.seconds.record(start.elapsed().as_secs_f64());
    res
}

/// The OpenAPI description of the issuer API.
#[derive(OpenApi)]
#[openapi(
    info(title = "giayto issuer API", description = "Agencies publish, read, revoke, suspend, reinstate and re-issue citizens' documents. Authenticate with `Authorization: Bearer <API key>`. Errors are application/problem+json."),
    paths(
        super::issuer_api::publish,
        super::issuer_api::bulk,
        super::issuer_api::get_document,
        super::issuer_api::revoke,
        super::issuer_api::suspend,
        super::issuer_api::reinstate,
        super::issuer_api::reissue,
        super::account::activate,
        super::account::deactivate,
        super::account::record_guardianship,
        super::account::end_guardianship,
    ),
    modifiers(&ApiKeyScheme, &FrameworkResponses),
    tags((name = "issuer", description = "Issuer API of agencies"))
)]
pub struct ApiDoc;

struct ApiKeyScheme;

impl utoipa::Modify for ApiKeyScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Adds to every operation the answers the framework gives before or around its handler,
/// all `application/problem+json`: 400 (unreadable body or path), 405 (wrong method), 408
/// (body not received in time), 413 (body limit), 415 (wrong or missing `Content-Type`, on
/// operations with a request body), 503 (database unavailable or no answer in time).
struct FrameworkResponses;

impl utoipa::Modify for FrameworkResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let problem = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    super::error::PROBLEM_JSON,
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                let has_body = op.request_body.is_some();
                let mut add = |code: &str, description: &str| {
                    op.responses
                        .responses
                        .entry(code.to_owned())
                        .or_insert_with(|| problem(description).into());
                };
                add("400", "The body or a path parameter cannot be read");
                add("405", "This path does not take that method");
                add("408", "The request body was not received in time");
                add("413", "The request body is over the limit");
                if has_body {
                    add("415", "Wrong or missing Content-Type");
                }
                add("503", "The database is unavailable, or no answer in time");
            }
        }
        let components = openapi.components.get_or_insert_with(Default::default);
        components
            .schemas
            .entry("Problem".to_owned())
            .or_insert_with(|| {
                use utoipa::PartialSchema as _;
                super::error::Problem::schema()
            });
    }
}

/// `/openapi.json`.
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::extract::Path;
    use axum::middleware::from_fn;
    use axum::routing::get;
    use tower::ServiceExt as _;

    use super::*;

    /// Kept instruments are per method, route and status: two statuses of one route count
    /// apart, and a second request reuses the first one's counter and histogram.
    #[tokio::test]
    async fn requests_count_per_route_method_and_status() {
        let handle = prometheus().unwrap();
        let app = Router::new()
            .route(
                "/track-probe/{status}",
                get(|Path(status): Path<u16>| async move { StatusCode::from_u16(status).unwrap() }),
            )
            .layer(from_fn(track));
        for status in [200, 404, 200] {
            let req = axum::http::Request::get(format!("/track-probe/{status}"))
                .body(Body::empty())
                .unwrap();
            let res = app.clone().oneshot(req).await.unwrap();
            assert_eq!(res.status().as_u16(), status);
        }
        let req = axum::http::Request::post("/track-probe/200")
            .body(Body::empty())
            .unwrap();
        assert_eq!(
            app.clone().oneshot(req).await.unwrap().status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
        let text = handle.render();
        let series = |labels: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(labels)?.trim().parse::<f64>().ok())
        };
        let route = r#"route="/track-probe/{status}""#;
        assert_eq!(
            series(&format!(
                r#"giayto_http_requests_total{{method="GET",{route},status="200"}}"#
            )),
            Some(2.0),
            "{text}"
        );
        assert_eq!(
            series(&format!(
                r#"giayto_http_requests_total{{method="GET",{route},status="404"}}"#
            )),
            Some(1.0),
            "{text}"
        );
        assert_eq!(
            series(&format!(
                r#"giayto_http_requests_total{{method="POST",{route},status="405"}}"#
            )),
            Some(1.0),
            "{text}"
        );
        assert_eq!(
            series(&format!(
                r#"giayto_http_request_seconds_count{{method="GET",{route}}}"#
            )),
            Some(3.0),
            "{text}"
        );
    }
}
