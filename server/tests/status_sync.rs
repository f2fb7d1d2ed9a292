//! Router tests of issue 12's offline status sync on SQLite and PostgreSQL: the Status List
//! Aggregation per agency and server-wide, its links (OAuth metadata, issuer metadata, each
//! status list token's `aggregation_uri`, the trust list), and conditional requests (`ETag`,
//! `Last-Modified`, 304) on status lists, aggregations and the trust list.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{PUBLIC_URL, Reply, TestApp, receive};
use giayto_core::jose::jws::CompactJws;
use giayto_core::jose::{Algorithm, SoftwareSigner};
use giayto_server::domain::status_lists;
use serde_json::{Value, json};

on_both_databases!(
    aggregation_lists_every_list_and_is_linked_everywhere,
    status_list_answers_conditional_requests,
    validators_are_the_same_on_every_process,
    aggregation_and_trust_list_answer_conditional_requests,
);

/// Publishes and receives an ID card; returns (status list URI, index).
async fn issue_id_card(app: &TestApp, document_id: &str) -> (String, u64) {
    let body = app.publish_id_card(document_id).await.json();
    let offer = &body["offer"];
    let holder = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let creds = receive(
        app,
        offer["offer_uri_by_reference"].as_str().unwrap(),
        offer["tx_code"].as_str().unwrap(),
        &holder,
    )
    .await;
    let payload: Value = CompactJws::parse(creds[0].split('~').next().unwrap())
        .unwrap()
        .payload_json()
        .unwrap();
    let reference = &payload["status"]["status_list"];
    (
        reference["uri"].as_str().unwrap().to_owned(),
        reference["idx"].as_u64().unwrap(),
    )
}

async fn get_with_header(app: &TestApp, path: &str, name: &str, value: &str) -> Reply {
    app.call(
        Request::get(path)
            .header(name, value)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

fn header<'r>(reply: &'r Reply, name: &str) -> &'r str {
    reply
        .headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

fn path(uri: &str) -> &str {
    uri.strip_prefix(PUBLIC_URL).unwrap()
}

fn token_payload(reply: &Reply) -> Value {
    CompactJws::parse(std::str::from_utf8(&reply.body).unwrap())
        .unwrap()
        .payload_json()
        .unwrap()
}

async fn aggregation_lists_every_list_and_is_linked_everywhere(app: TestApp) {
    let police_aggregation = format!("{PUBLIC_URL}/agencies/police/status-lists");
    // Before any issuance there are no lists: an empty aggregation, not an error.
    let empty = app.get("/agencies/police/status-lists").await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.content_type(), "application/json");
    assert_eq!(empty.json(), json!({ "status_lists": [] }));

    let (uri, _) = issue_id_card(&app, "agg-1").await;
    let reply = app.get("/agencies/police/status-lists").await;
    assert_eq!(reply.json(), json!({ "status_lists": [uri] }));
    // Another agency's aggregation does not list the police's list.
    let justice = app.get("/agencies/justice/status-lists").await;
    assert_eq!(justice.json(), json!({ "status_lists": [] }));
    // The server-wide aggregation lists every list.
    assert_eq!(
        app.get("/status-lists").await.json(),
        json!({ "status_lists": [uri] })
    );
    assert_eq!(
        app.get("/agencies/nobody/status-lists").await.status,
        StatusCode::NOT_FOUND
    );

    // Linked from the OAuth metadata (draft section "Issuer Metadata")...
    let oauth = app
        .get("/.well-known/oauth-authorization-server")
        .await
        .json();
    assert_eq!(
        oauth["status_list_aggregation_endpoint"],
        format!("{PUBLIC_URL}/status-lists")
    );
    // ... from the agency's issuer metadata ...
    let issuer = app
        .get("/.well-known/jwt-vc-issuer/agencies/police")
        .await
        .json();
    assert_eq!(
        issuer["status_list_aggregation_endpoint"],
        police_aggregation
    );
    // ... from the status list token ("Status List Parameter") ...
    let list = app.get(path(&uri)).await;
    assert_eq!(
        token_payload(&list)["status_list"]["aggregation_uri"],
        police_aggregation
    );
    // ... and from the trust list, per issuer.
    let trust = app.get("/trust-list").await;
    let trust: Value = CompactJws::parse(std::str::from_utf8(&trust.body).unwrap())
        .unwrap()
        .payload_json()
        .unwrap();
    let police = trust["issuers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == format!("{PUBLIC_URL}/agencies/police"))
        .unwrap();
    assert_eq!(
        police["status_list_aggregation_endpoint"],
        police_aggregation
    );
}

async fn status_list_answers_conditional_requests(app: TestApp) {
    let (uri, _) = issue_id_card(&app, "cond-1").await;
    let first = app.get(path(&uri)).await;
    assert_eq!(first.status, StatusCode::OK);
    let etag = header(&first, "etag").to_owned();
    let last_modified = header(&first, "last-modified").to_owned();
    assert!(etag.starts_with("W/\""), "weak validator: {etag}");
    // Last-Modified is the token's iat.
    let iat = token_payload(&first)["iat"].as_i64().unwrap();
    let since_epoch = httpdate_secs(&first);
    assert_eq!(since_epoch, iat);

    // The same validator: 304, no body, the validators and caching repeated.
    let listed = format!("\"other\", {etag}");
    for (name, value) in [
        ("if-none-match", etag.as_str()),
        ("if-none-match", listed.as_str()),
        ("if-none-match", "*"),
        ("if-modified-since", last_modified.as_str()),
    ] {
        let again = get_with_header(&app, path(&uri), name, value).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{name}: {value}");
        assert!(again.body.is_empty());
        assert_eq!(header(&again, "etag"), etag);
        assert!(header(&again, "cache-control").contains("max-age"));
    }
    // Another validator, or a garbage one: the full token.
    for value in ["W/\"0-1\"", "garbage"] {
        let other = get_with_header(&app, path(&uri), "if-none-match", value).await;
        assert_eq!(other.status, StatusCode::OK, "{value}");
        assert_eq!(other.content_type(), "application/statuslist+jwt");
    }
    // If-None-Match decides over If-Modified-Since (RFC 9110 section 13.2.2).
    let both = app
        .call(
            Request::get(path(&uri))
                .header("if-none-match", "W/\"0-1\"")
                .header("if-modified-since", last_modified.as_str())
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(both.status, StatusCode::OK);

    // A revocation changes the list: the old validator no longer matches and the new
    // token says revoked.
    let police = app.key("police");
    let revoked = app
        .send_json(
            "POST",
            "/api/v1/documents/cond-1/revoke",
            Some(&police),
            &json!({}),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK);
    let changed = get_with_header(&app, path(&uri), "if-none-match", &etag).await;
    assert_eq!(changed.status, StatusCode::OK);
    let new_etag = header(&changed, "etag").to_owned();
    assert_ne!(new_etag, etag);
    let unchanged = get_with_header(&app, path(&uri), "if-none-match", &new_etag).await;
    assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);
    // An unknown list is still 404 whatever the validators.
    let missing = get_with_header(
        &app,
        "/status-lists/00000000000000000000000000000000",
        "if-none-match",
        "*",
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

/// Another process on the same database (a fresh per-process token cache) serves the same
/// validators and the same `iat`, so a verifier's conditional request is answered 304 by any
/// replica.
async fn validators_are_the_same_on_every_process(app: TestApp) {
    let (uri, _) = issue_id_card(&app, "replica-1").await;
    let first = app.get(path(&uri)).await;
    let services = giayto_server::server::open((*app.services.config).clone())
        .await
        .unwrap();
    let other = giayto_server::app(giayto_server::AppState {
        services: services.clone(),
    });
    let other_app = call_router(&other, path(&uri), Some(header(&first, "etag"))).await;
    assert_eq!(other_app.status, StatusCode::NOT_MODIFIED);
    let other_full = call_router(&other, path(&uri), None).await;
    assert_eq!(header(&other_full, "etag"), header(&first, "etag"));
    assert_eq!(
        token_payload(&other_full)["iat"],
        token_payload(&first)["iat"]
    );
    let list_id = uri.rsplit('/').next().unwrap();
    let now = token_payload(&first)["iat"].as_i64().unwrap() + 1;
    let state = status_lists::state(&services, list_id, now).await.unwrap();
    assert_eq!(state.etag(), header(&first, "etag"));
}

async fn aggregation_and_trust_list_answer_conditional_requests(app: TestApp) {
    issue_id_card(&app, "agg-cond-1").await;
    for route in [
        "/agencies/police/status-lists",
        "/status-lists",
        "/trust-list",
    ] {
        let first = app.get(route).await;
        assert_eq!(first.status, StatusCode::OK, "{route}");
        let etag = header(&first, "etag").to_owned();
        let again = get_with_header(&app, route, "if-none-match", &etag).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{route}");
        assert!(again.body.is_empty());
        let other = get_with_header(&app, route, "if-none-match", "\"x\"").await;
        assert_eq!(other.status, StatusCode::OK, "{route}");
        assert_eq!(other.body, first.body, "{route}");
    }
}

/// Seconds since the epoch of an HTTP-date (IMF-fixdate, RFC 9110 section 5.6.7), read
/// by the `headers` crate.
fn httpdate_secs(reply: &Reply) -> i64 {
    use headers::HeaderMapExt as _;
    let modified: std::time::SystemTime = reply
        .headers
        .typed_get::<headers::LastModified>()
        .unwrap()
        .into();
    modified
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// GETs `path` from another router, with an optional `If-None-Match`.
async fn call_router(router: &axum::Router, path: &str, if_none_match: Option<&str>) -> Reply {
    let mut req = Request::get(path);
    if let Some(v) = if_none_match {
        req = req.header("if-none-match", v);
    }
    common::call_with(router.clone(), req.body(Body::empty()).unwrap()).await
}
