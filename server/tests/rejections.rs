//! Router tests of the transport half of issue 10: every framework rejection is
//! problem+json (an OAuth error on `/token`, `/nonce` and `/credential`) and listed in the
//! OpenAPI document, wrong media types are refused, metric
//! labels come from fixed sets, `/metrics` is not public, and a bulk stream re-checks its
//! API key per batch and ends when it lasts too long.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode};
use common::{Reply, TestApp, id_card_request};
use giayto_server::domain::agencies;
use http_body_util::BodyExt as _;
use serde_json::Value;
use tokio::sync::mpsc;
use tower::ServiceExt as _;

on_both_databases!(
    framework_rejections_are_problem_json,
    framework_rejections_on_oauth_endpoints_are_oauth_errors,
    bulk_stream_stops_after_its_key_is_revoked,
);

fn problem(reply: &Reply, status: StatusCode) -> Value {
    assert_eq!(
        reply.status,
        status,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(
        reply.content_type(),
        "application/problem+json",
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let p = reply.json();
    assert_eq!(p["status"], status.as_u16());
    p
}

async fn framework_rejections_are_problem_json(app: TestApp) {
    let police = app.key("police");
    // 404: unknown route.
    problem(&app.get("/no/such/thing").await, StatusCode::NOT_FOUND);
    // 405: wrong method, with its Allow header kept.
    let r = app.get("/api/v1/documents").await;
    problem(&r, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.headers["allow"], "POST");
    // 415: a JSON body sent as text/plain is refused, and nothing is published.
    let r = app
        .call(
            Request::post("/api/v1/documents")
                .header("authorization", format!("Bearer {police}"))
                .header("content-type", "text/plain")
                .body(Body::from(id_card_request("tp-1").to_string()))
                .unwrap(),
        )
        .await;
    problem(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        app.get_with("/api/v1/documents/tp-1", &police).await.status,
        StatusCode::NOT_FOUND
    );
    // 415: no content type at all; a bulk stream sent as JSON.
    let r = app
        .call(
            Request::post("/api/v1/documents")
                .header("authorization", format!("Bearer {police}"))
                .body(Body::from(id_card_request("tp-2").to_string()))
                .unwrap(),
        )
        .await;
    problem(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = app
        .send_json(
            "POST",
            "/api/v1/bulk/documents",
            Some(&police),
            &id_card_request("tp-3"),
        )
        .await;
    problem(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // A media type with parameters is the same media type.
    let r = app
        .call(
            Request::post("/api/v1/documents")
                .header("authorization", format!("Bearer {police}"))
                .header("content-type", "application/json; charset=utf-8")
                .body(Body::from(id_card_request("tp-4").to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    // 413: over the body limit, with and without a Content-Length.
    let huge = serde_json::json!({ "document_id": "x", "pad": "a".repeat(2 << 20) }).to_string();
    let r = app
        .send_json(
            "POST",
            "/api/v1/documents",
            Some(&police),
            &serde_json::from_str(&huge).unwrap(),
        )
        .await;
    problem(&r, StatusCode::PAYLOAD_TOO_LARGE);
    let chunks: Vec<Result<Bytes, std::io::Error>> = huge
        .as_bytes()
        .chunks(64 * 1024)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let r = app
        .call(
            Request::post("/api/v1/documents/tp-4/reissue")
                .header("authorization", format!("Bearer {police}"))
                .header("content-type", "application/json")
                .body(Body::from_stream(futures_util::stream::iter(chunks)))
                .unwrap(),
        )
        .await;
    problem(&r, StatusCode::PAYLOAD_TOO_LARGE);
    // 400: bad JSON; a path that is not UTF-8.
    let r = app
        .call(
            Request::post("/api/v1/documents")
                .header("authorization", format!("Bearer {police}"))
                .header("content-type", "application/json")
                .body(Body::from("{not json"))
                .unwrap(),
        )
        .await;
    problem(&r, StatusCode::BAD_REQUEST);
    let r = app.get_with("/api/v1/documents/%FF%FE", &police).await;
    problem(&r, StatusCode::BAD_REQUEST);
    // 422: a field is invalid.
    let mut bad = id_card_request("tp-5");
    bad["claims"]["sex"] = serde_json::json!("x");
    let r = app
        .send_json("POST", "/api/v1/documents", Some(&police), &bad)
        .await;
    problem(&r, StatusCode::UNPROCESSABLE_ENTITY);
    // The OAuth errors of the OpenID4VCI endpoints keep their own shape.
    let r = app
        .call(
            Request::post("/token")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from("grant_type=nope"))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.content_type(), "application/json");
    assert_eq!(r.json()["error"], "unsupported_grant_type");
    // The OpenAPI document lists the framework's answers.
    let openapi = app.get("/openapi.json").await.json();
    let publish = &openapi["paths"]["/api/v1/documents"]["post"]["responses"];
    for code in ["400", "405", "408", "413", "415", "503"] {
        assert!(
            publish[code]["content"]["application/problem+json"].is_object(),
            "POST /api/v1/documents lacks {code}: {publish}"
        );
    }
    let get = &openapi["paths"]["/api/v1/documents/{document_id}"]["get"]["responses"];
    assert!(get["408"].is_object() && get["503"].is_object());
    assert!(get["415"].is_null(), "no body, no 415");
    assert!(openapi["components"]["schemas"]["Problem"].is_object());
}

/// An OAuth error (RFC 6749 section 5.2, OpenID4VCI 1.0 section 8.3.1): `application/json`,
/// `no-store`, `error` as expected, an `error_description` of the characters allowed.
fn oauth(reply: &Reply, status: StatusCode, code: &str) {
    let body = String::from_utf8_lossy(&reply.body);
    assert_eq!(reply.status, status, "{body}");
    assert_eq!(reply.content_type(), "application/json", "{body}");
    assert_eq!(reply.headers["cache-control"], "no-store");
    let e = reply.json();
    assert_eq!(e["error"], code, "{body}");
    let description = e["error_description"].as_str().unwrap();
    assert!(!description.is_empty());
    assert!(
        description
            .chars()
            .all(|c| matches!(c, ' '..='~') && c != '"' && c != '\\'),
        "{description}"
    );
    assert!(
        e.get("type").is_none() && e.get("status").is_none(),
        "{body}"
    );
}

/// A request body that fails while it is read (the client's stream broke).
fn broken_body() -> Body {
    let items: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(Bytes::from_static(b"grant_type=")),
        Err(std::io::Error::other("connection reset")),
    ];
    Body::from_stream(futures_util::stream::iter(items))
}

/// The tester's finding: the framework's 415, 405, 413 and 400 on the OpenID4VCI endpoints
/// were problem+json, which wallets do not read there.
async fn framework_rejections_on_oauth_endpoints_are_oauth_errors(app: TestApp) {
    // 405, Allow kept.
    for path in ["/token", "/nonce", "/credential"] {
        let r = app.get(path).await;
        oauth(&r, StatusCode::METHOD_NOT_ALLOWED, "invalid_request");
        assert_eq!(r.headers["allow"], "POST", "{path}");
    }
    // 415: JSON to the form-encoded token endpoint; a credential request as text/plain.
    let r = app
        .send_json("POST", "/token", None, &serde_json::json!({}))
        .await;
    oauth(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "invalid_request");
    let r = app
        .call(
            Request::post("/credential")
                .header("authorization", "Bearer x")
                .header("content-type", "text/plain")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
    oauth(
        &r,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "invalid_credential_request",
    );
    // 413, with a Content-Length and streamed without one.
    let huge = format!("grant_type={}", "a".repeat(2 << 20));
    let r = app
        .call(
            Request::post("/token")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("content-length", huge.len())
                .body(Body::from(huge.clone()))
                .unwrap(),
        )
        .await;
    oauth(&r, StatusCode::PAYLOAD_TOO_LARGE, "invalid_request");
    let chunks: Vec<Result<Bytes, std::io::Error>> = huge
        .as_bytes()
        .chunks(64 * 1024)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let r = app
        .call(
            Request::post("/credential")
                .header("content-type", "application/json")
                .body(Body::from_stream(futures_util::stream::iter(chunks)))
                .unwrap(),
        )
        .await;
    oauth(
        &r,
        StatusCode::PAYLOAD_TOO_LARGE,
        "invalid_credential_request",
    );
    // 400: a body that cannot be read.
    let r = app
        .call(
            Request::post("/token")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(broken_body())
                .unwrap(),
        )
        .await;
    oauth(&r, StatusCode::BAD_REQUEST, "invalid_request");
    let r = app
        .call(
            Request::post("/nonce")
                .header("content-type", "application/json")
                .body(broken_body())
                .unwrap(),
        )
        .await;
    oauth(&r, StatusCode::BAD_REQUEST, "invalid_request");
    // The same rejections elsewhere stay problem+json: a body that cannot be read on the
    // issuer API, a wrong method on a public document, an unknown path next to /token.
    let r = app
        .call(
            Request::post("/api/v1/documents")
                .header("authorization", format!("Bearer {}", app.key("police")))
                .header("content-type", "application/json")
                .body(broken_body())
                .unwrap(),
        )
        .await;
    problem(&r, StatusCode::BAD_REQUEST);
    problem(
        &app.send_json("POST", "/trust-list", None, &serde_json::json!({}))
            .await,
        StatusCode::METHOD_NOT_ALLOWED,
    );
    problem(&app.get("/token/x").await, StatusCode::NOT_FOUND);
    // And the endpoints' own errors are unchanged.
    let r = app
        .call(
            Request::post("/token")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from("grant_type=nope"))
                .unwrap(),
        )
        .await;
    oauth(&r, StatusCode::BAD_REQUEST, "unsupported_grant_type");
}

/// Sends `req` with a body that never comes; the answer, which must come.
async fn stalled(app: &TestApp, req: axum::http::request::Builder) -> Reply {
    let (_tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(1);
    let body = Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }));
    tokio::time::timeout(Duration::from_secs(60), app.call(req.body(body).unwrap()))
        .await
        .expect("a stalled body must be answered, not waited for")
}

/// A stalled body is 408: problem+json on the issuer API, an OAuth error on `/token`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_is_408_in_its_endpoint_s_error_shape() {
    let app = common::sqlite_with(|c| c.body_read_timeout_secs = 1).await;
    let r = stalled(
        &app,
        Request::post("/api/v1/documents")
            .header("authorization", format!("Bearer {}", app.key("police")))
            .header("content-type", "application/json"),
    )
    .await;
    problem(&r, StatusCode::REQUEST_TIMEOUT);
    let r = stalled(
        &app,
        Request::post("/token").header("content-type", "application/x-www-form-urlencoded"),
    )
    .await;
    oauth(&r, StatusCode::REQUEST_TIMEOUT, "invalid_request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_not_public_and_labels_come_from_fixed_sets() {
    let app = common::sqlite().await;
    problem(&app.get("/metrics").await, StatusCode::NOT_FOUND);
    // Made-up methods of 3,000 bytes, on a known and an unknown route.
    for i in 0..50 {
        let method = format!("X{i:03}{}", "M".repeat(3000));
        for path in ["/healthz", "/made/up/path/abcdef0123456789"] {
            let r = app
                .call(
                    Request::builder()
                        .method(method.as_str())
                        .uri(path)
                        .body(Body::empty())
                        .unwrap(),
                )
                .await;
            assert!(r.status.is_client_error());
        }
    }
    let metrics = common::call(giayto_server::admin_app(), Request::get("/metrics")).await;
    assert_eq!(metrics.status, StatusCode::OK);
    let text = String::from_utf8(metrics.body).unwrap();
    assert!(
        text.contains(r#"method="other",route="/healthz",status="405""#),
        "{text}"
    );
    assert!(text.contains(r#"route="unmatched""#), "{text}");
    assert!(!text.contains("MMMM"), "a method became a label");
    assert!(!text.contains("/made/up"), "a path became a label");
    // Every label value is short: nothing of the requests' own data.
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        for value in line.split('"').skip(1).step_by(2) {
            assert!(value.len() <= 64, "label value {value:?} in {line}");
        }
    }
    // The admin router answers problem+json for anything else.
    let r = common::call(giayto_server::admin_app(), Request::get("/healthz")).await;
    problem(&r, StatusCode::NOT_FOUND);
}

/// A streaming request body fed line by line, and its streamed answer read as it comes.
struct BulkCall {
    input: Option<mpsc::Sender<Result<Bytes, std::io::Error>>>,
    output: Body,
    buffered: Vec<u8>,
}

impl BulkCall {
    async fn open(app: &TestApp, key: &str) -> Self {
        let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(8);
        let body = Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        }));
        let res = app
            .router
            .clone()
            .oneshot(
                Request::post("/api/v1/bulk/documents")
                    .header("authorization", format!("Bearer {key}"))
                    .header("content-type", "application/x-ndjson")
                    .body(body)
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        Self {
            input: Some(tx),
            output: res.into_body(),
            buffered: Vec::new(),
        }
    }

    async fn send(&self, ids: impl Iterator<Item = String>) {
        let mut text = String::new();
        for id in ids {
            text.push_str(&id_card_request(&id).to_string());
            text.push('\n');
        }
        self.input
            .as_ref()
            .unwrap()
            .send(Ok(Bytes::from(text)))
            .await
            .unwrap();
    }

    /// Reads answer lines until `n` are in, or the stream ends.
    async fn lines(&mut self, n: usize) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            while let Some(pos) = self.buffered.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buffered.drain(..=pos).collect();
                out.push(serde_json::from_slice(&line).unwrap());
                if out.len() == n {
                    return out;
                }
            }
            let frame = tokio::time::timeout(Duration::from_secs(120), self.output.frame())
                .await
                .expect("the bulk answer must come");
            match frame {
                Some(Ok(f)) => {
                    if let Ok(data) = f.into_data() {
                        self.buffered.extend_from_slice(&data);
                    }
                }
                Some(Err(e)) => panic!("answer stream failed: {e}"),
                None => return out,
            }
        }
    }
}

async fn bulk_stream_stops_after_its_key_is_revoked(app: TestApp) {
    let key = agencies::create_api_key(&app.services, "police", "bulk")
        .await
        .unwrap();
    let mut call = BulkCall::open(&app, &key.secret).await;
    // The first batch (256 lines) is published.
    call.send((0..256).map(|i| format!("rv-{i}"))).await;
    let first = call.lines(256).await;
    assert!(first.iter().all(|l| l["status"] == 201), "{first:?}");
    // `giayto-server api-key revoke`, then 300 more lines on the open stream.
    agencies::revoke_api_key(&app.services, &key.id)
        .await
        .unwrap();
    call.send((256..556).map(|i| format!("rv-{i}"))).await;
    call.input = None; // end of the body
    let rest = call.lines(usize::MAX).await;
    assert_eq!(rest.len(), 1, "one last line, then the end: {rest:?}");
    assert_eq!(rest[0]["status"], 401);
    assert_eq!(rest[0]["line"], 257, "the first line not published");
    assert_eq!(
        rest[0]["error"]["type"],
        "https://giayto.gov.vn/problems/unauthorized"
    );
    let police = app.key("police");
    for i in [256, 300, 555] {
        assert_eq!(
            app.get_with(&format!("/api/v1/documents/rv-{i}"), &police)
                .await
                .status,
            StatusCode::NOT_FOUND,
            "rv-{i} was published with a revoked key"
        );
    }
    assert_eq!(
        app.get_with("/api/v1/documents/rv-255", &police)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_stream_ends_when_it_lasts_too_long() {
    let app = common::sqlite_with(|c| {
        c.bulk_max_duration_secs = 2;
        c.body_read_timeout_secs = 600;
    })
    .await;
    let mut call = BulkCall::open(&app, &app.key("police")).await;
    call.send((0..3).map(|i| format!("long-{i}"))).await;
    // The client keeps the body open and sends nothing more.
    let lines = call.lines(usize::MAX).await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["status"], 408);
    assert_eq!(lines[0]["line"], 1);
    let detail = lines[0]["error"]["detail"].as_str().unwrap();
    assert!(detail.contains("lasted over 2 s"), "{detail}");
    drop(call);
}

/// A publish body nested 100,000 deep is refused by core's nesting bound before serde_json
/// recurses into it: the bound holds even where a workspace build unifies serde_json's
/// `unbounded_depth` (uniffi-bindgen's cargo_metadata turns it on), which lifts serde_json's
/// own recursion limit and let such a body overflow the stack.
#[tokio::test]
async fn a_deeply_nested_body_is_refused_before_parsing() {
    let app = common::sqlite().await;
    let police = app.key("police");
    let deep = format!(
        "{{\"document_id\":\"deep-1\",\"claims\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let r = app
        .call(
            Request::post("/api/v1/documents")
                .header("authorization", format!("Bearer {police}"))
                .header("content-type", "application/json")
                .body(Body::from(deep))
                .unwrap(),
        )
        .await;
    let p = problem(&r, StatusCode::BAD_REQUEST);
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("nested deeper than 32 levels"),
        "{p}"
    );
}
