//! `/openapi.json` against the server's real answers: for each operation of the issuer API,
//! every status it is made to answer here (each by a real request) must be listed in the
//! OpenAPI document for that operation, and every status the document lists for the
//! handler (not the framework's, which `rejections.rs` checks) is one produced here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Reply, TestApp, id_card_claims, id_card_request};
use serde_json::{Value, json};

on_both_databases!(openapi_lists_every_status_each_operation_answers);

/// The answers the framework gives around every handler, listed on every operation and
/// checked in `rejections.rs`.
const FRAMEWORK: [u16; 6] = [400, 405, 408, 413, 415, 503];

/// Real answers, collected per operation (method and OpenAPI path template).
#[derive(Default)]
struct Seen(BTreeMap<(&'static str, &'static str), BTreeSet<u16>>);

impl Seen {
    fn record(&mut self, op: (&'static str, &'static str), reply: &Reply, expected: StatusCode) {
        assert_eq!(
            reply.status,
            expected,
            "{} {}: {}",
            op.0,
            op.1,
            String::from_utf8_lossy(&reply.body)
        );
        self.0.entry(op).or_default().insert(expected.as_u16());
    }
}

const PUBLISH: (&str, &str) = ("post", "/api/v1/documents");
const GET: (&str, &str) = ("get", "/api/v1/documents/{document_id}");
const REVOKE: (&str, &str) = ("post", "/api/v1/documents/{document_id}/revoke");
const SUSPEND: (&str, &str) = ("post", "/api/v1/documents/{document_id}/suspend");
const REINSTATE: (&str, &str) = ("post", "/api/v1/documents/{document_id}/reinstate");
const REISSUE: (&str, &str) = ("post", "/api/v1/documents/{document_id}/reissue");
const BULK: (&str, &str) = ("post", "/api/v1/bulk/documents");
const ACTIVATE: (&str, &str) = ("post", "/api/v1/accounts");
const DEACTIVATE: (&str, &str) = ("post", "/api/v1/accounts/{citizen_id}/deactivate");
const GUARDIANSHIP: (&str, &str) = ("post", "/api/v1/guardianships");
const END_GUARDIANSHIP: (&str, &str) = ("post", "/api/v1/guardianships/{guardianship_id}/end");

/// A document id that is not one: 422 (`ids::document_id`).
const BAD_ID: &str = "-bad-";

async fn post(app: &TestApp, path: &str, key: &str) -> Reply {
    app.call(
        Request::post(path)
            .header("authorization", format!("Bearer {key}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

async fn publish(app: &TestApp, key: &str, body: &Value) -> Reply {
    app.send_json("POST", "/api/v1/documents", Some(key), body)
        .await
}

async fn reissue(app: &TestApp, id: &str, key: &str, body: Value) -> Reply {
    let path = format!("/api/v1/documents/{id}/reissue");
    app.send_json("POST", &path, Some(key), &body).await
}

async fn openapi_lists_every_status_each_operation_answers(app: TestApp) {
    use StatusCode as S;
    let police = app.key("police");
    let justice = app.key("justice");
    let wrong = "no-such-key";
    let mut seen = Seen::default();
    // Publish.
    seen.record(PUBLISH, &app.publish_id_card("oa-1").await, S::CREATED);
    seen.record(PUBLISH, &app.publish_id_card("oa-1").await, S::OK);
    let mut changed = id_card_request("oa-1");
    changed["claims"]["given_name"] = json!("Khác");
    seen.record(
        PUBLISH,
        &publish(&app, &police, &changed).await,
        S::CONFLICT,
    );
    seen.record(
        PUBLISH,
        &publish(&app, wrong, &id_card_request("oa-2")).await,
        S::UNAUTHORIZED,
    );
    seen.record(
        PUBLISH,
        &publish(&app, &justice, &id_card_request("oa-3")).await,
        S::FORBIDDEN,
    );
    let mut bad = id_card_request("oa-4");
    bad["claims"]["sex"] = json!("x");
    seen.record(
        PUBLISH,
        &publish(&app, &police, &bad).await,
        S::UNPROCESSABLE_ENTITY,
    );
    seen.record(
        PUBLISH,
        &publish(&app, &police, &json!([1])).await,
        S::BAD_REQUEST,
    );
    // Read.
    seen.record(
        GET,
        &app.get_with("/api/v1/documents/oa-1", &police).await,
        S::OK,
    );
    seen.record(
        GET,
        &app.get_with("/api/v1/documents/oa-1", wrong).await,
        S::UNAUTHORIZED,
    );
    seen.record(
        GET,
        &app.get_with("/api/v1/documents/none", &police).await,
        S::NOT_FOUND,
    );
    let r = app
        .get_with(&format!("/api/v1/documents/{BAD_ID}"), &police)
        .await;
    seen.record(GET, &r, S::UNPROCESSABLE_ENTITY);
    // Suspend, reinstate, revoke: each refused without a key, for a document that is not
    // there or an id that is not one.
    for (op, action) in [
        (SUSPEND, "suspend"),
        (REINSTATE, "reinstate"),
        (REVOKE, "revoke"),
    ] {
        let r = post(&app, &format!("/api/v1/documents/oa-1/{action}"), wrong).await;
        seen.record(op, &r, S::UNAUTHORIZED);
        let r = post(&app, &format!("/api/v1/documents/none/{action}"), &police).await;
        seen.record(op, &r, S::NOT_FOUND);
        let r = post(
            &app,
            &format!("/api/v1/documents/{BAD_ID}/{action}"),
            &police,
        )
        .await;
        seen.record(op, &r, S::UNPROCESSABLE_ENTITY);
    }
    let r = post(&app, "/api/v1/documents/oa-1/suspend", &police).await;
    seen.record(SUSPEND, &r, S::OK);
    let r = post(&app, "/api/v1/documents/oa-1/reinstate", &police).await;
    seen.record(REINSTATE, &r, S::OK);
    // Re-issue.
    let claims = json!({ "claims": id_card_claims() });
    seen.record(
        REISSUE,
        &reissue(&app, "oa-1", &police, claims.clone()).await,
        S::OK,
    );
    seen.record(
        REISSUE,
        &reissue(&app, "oa-1", wrong, claims.clone()).await,
        S::UNAUTHORIZED,
    );
    seen.record(
        REISSUE,
        &reissue(&app, "none", &police, claims.clone()).await,
        S::NOT_FOUND,
    );
    seen.record(
        REISSUE,
        &reissue(&app, BAD_ID, &police, claims.clone()).await,
        S::UNPROCESSABLE_ENTITY,
    );
    seen.record(
        REISSUE,
        &reissue(&app, "oa-1", &police, json!({})).await,
        S::BAD_REQUEST,
    );
    // The agency may no longer issue the type (its registration changed).
    sqlx::query("UPDATE agencies SET allowed_vcts = '[]' WHERE id = 'police'")
        .execute(app.services.db.pool())
        .await
        .unwrap();
    seen.record(
        REISSUE,
        &reissue(&app, "oa-1", &police, claims.clone()).await,
        S::FORBIDDEN,
    );
    sqlx::query("UPDATE agencies SET allowed_vcts = $1 WHERE id = 'police'")
        .bind(json!([id_card_request("x")["vct"]]).to_string())
        .execute(app.services.db.pool())
        .await
        .unwrap();
    // Revoked: revoking again is the same answer; suspend, reinstate, re-issue conflict.
    seen.record(
        REVOKE,
        &post(&app, "/api/v1/documents/oa-1/revoke", &police).await,
        S::OK,
    );
    seen.record(
        REVOKE,
        &post(&app, "/api/v1/documents/oa-1/revoke", &police).await,
        S::OK,
    );
    let r = post(&app, "/api/v1/documents/oa-1/suspend", &police).await;
    seen.record(SUSPEND, &r, S::CONFLICT);
    let r = post(&app, "/api/v1/documents/oa-1/reinstate", &police).await;
    seen.record(REINSTATE, &r, S::CONFLICT);
    seen.record(
        REISSUE,
        &reissue(&app, "oa-1", &police, claims.clone()).await,
        S::CONFLICT,
    );
    // Bulk: the stream's own statuses are per line inside a 200.
    let r = app
        .call(
            Request::post("/api/v1/bulk/documents")
                .header("authorization", format!("Bearer {wrong}"))
                .header("content-type", "application/x-ndjson")
                .body(Body::from(format!("{}\n", id_card_request("oa-5"))))
                .unwrap(),
        )
        .await;
    seen.record(BULK, &r, S::UNAUTHORIZED);
    let r = app
        .call(
            Request::post("/api/v1/bulk/documents")
                .header("authorization", format!("Bearer {police}"))
                .header("content-type", "application/x-ndjson")
                .body(Body::from(format!("{}\n", id_card_request("oa-5"))))
                .unwrap(),
        )
        .await;
    seen.record(BULK, &r, S::OK);

    // Citizen accounts and guardianships (issue 14).
    let citizen = id_card_request("x")["citizen_id"]
        .as_str()
        .unwrap()
        .to_owned();
    seen.record(PUBLISH, &app.publish_id_card("oa-6").await, S::CREATED);
    let activate = |key: String, body: Value| {
        let app = &app;
        async move {
            app.send_json("POST", "/api/v1/accounts", Some(&key), &body)
                .await
        }
    };
    let offer = activate(police.clone(), json!({ "citizen_id": citizen })).await;
    seen.record(ACTIVATE, &offer, S::CREATED);
    let r = activate(wrong.to_owned(), json!({ "citizen_id": citizen })).await;
    seen.record(ACTIVATE, &r, S::UNAUTHORIZED);
    let r = activate(justice.clone(), json!({ "citizen_id": citizen })).await;
    seen.record(ACTIVATE, &r, S::FORBIDDEN);
    let r = activate(police.clone(), json!({ "citizen_id": "001000000000" })).await;
    seen.record(ACTIVATE, &r, S::CONFLICT);
    let r = activate(police.clone(), json!({ "citizen_id": "1" })).await;
    seen.record(ACTIVATE, &r, S::UNPROCESSABLE_ENTITY);
    let r = activate(police.clone(), json!({ "citizen": citizen })).await;
    seen.record(ACTIVATE, &r, S::BAD_REQUEST);
    let deactivate = format!("/api/v1/accounts/{citizen}/deactivate");
    seen.record(
        DEACTIVATE,
        &post(&app, &deactivate, &police).await,
        S::NOT_FOUND,
    );
    let (code, tx_code) = common::offer_secrets(&offer.json()["offer"]);
    let phone =
        giayto_core::jose::SoftwareSigner::generate(giayto_core::jose::Algorithm::Es256).unwrap();
    let proof = giayto_core::oid4vci::build_dpop_proof(
        &phone,
        "POST",
        &format!("{}/token", common::PUBLIC_URL),
        common::now() as i64,
        None,
    )
    .unwrap();
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair(
            "grant_type",
            "urn:ietf:params:oauth:grant-type:pre-authorized_code",
        )
        .append_pair("pre-authorized_code", &code)
        .append_pair("tx_code", &tx_code)
        .finish();
    let r = app
        .call(
            Request::post("/token")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("dpop", proof)
                .body(Body::from(form))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, S::OK, "{}", r.json());
    seen.record(
        DEACTIVATE,
        &post(&app, &deactivate, wrong).await,
        S::UNAUTHORIZED,
    );
    seen.record(
        DEACTIVATE,
        &post(&app, &deactivate, &justice).await,
        S::FORBIDDEN,
    );
    let r = post(&app, "/api/v1/accounts/1/deactivate", &police).await;
    seen.record(DEACTIVATE, &r, S::UNPROCESSABLE_ENTITY);
    seen.record(DEACTIVATE, &post(&app, &deactivate, &police).await, S::OK);
    let guardianship = |key: String, body: Value| {
        let app = &app;
        async move {
            app.send_json("POST", "/api/v1/guardianships", Some(&key), &body)
                .await
        }
    };
    let body = json!({"guardian_citizen_id": citizen, "child_citizen_id": "079216000333", "child_birth_date": "2016-05-01"});
    let recorded = guardianship(police.clone(), body.clone()).await;
    seen.record(GUARDIANSHIP, &recorded, S::CREATED);
    seen.record(
        GUARDIANSHIP,
        &guardianship(wrong.to_owned(), body.clone()).await,
        S::UNAUTHORIZED,
    );
    seen.record(
        GUARDIANSHIP,
        &guardianship(justice.clone(), body.clone()).await,
        S::FORBIDDEN,
    );
    let mut grown = body.clone();
    grown["child_birth_date"] = json!("2000-01-01");
    seen.record(
        GUARDIANSHIP,
        &guardianship(police.clone(), grown).await,
        S::UNPROCESSABLE_ENTITY,
    );
    seen.record(
        GUARDIANSHIP,
        &guardianship(police.clone(), json!([])).await,
        S::BAD_REQUEST,
    );
    let id = recorded.json()["id"].as_str().unwrap().to_owned();
    let end = format!("/api/v1/guardianships/{id}/end");
    seen.record(
        END_GUARDIANSHIP,
        &post(&app, &end, wrong).await,
        S::UNAUTHORIZED,
    );
    seen.record(
        END_GUARDIANSHIP,
        &post(&app, &end, &justice).await,
        S::FORBIDDEN,
    );
    let r = post(&app, "/api/v1/guardianships/none/end", &police).await;
    seen.record(END_GUARDIANSHIP, &r, S::NOT_FOUND);
    seen.record(END_GUARDIANSHIP, &post(&app, &end, &police).await, S::OK);

    // Every real answer is in the document, and the document lists nothing else of the
    // handler's own.
    let openapi = app.get("/openapi.json").await.json();
    let paths = openapi["paths"].as_object().unwrap();
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(
        documented,
        seen.0.len(),
        "an operation is not in this table"
    );
    for ((method, path), statuses) in &seen.0 {
        let responses = openapi["paths"][path][method]["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{method} {path} is not in /openapi.json"));
        let listed: BTreeSet<u16> = responses.keys().map(|k| k.parse().unwrap()).collect();
        let missing: Vec<_> = statuses.difference(&listed).collect();
        assert!(
            missing.is_empty(),
            "{method} {path} answers {missing:?}, not listed"
        );
        let own: BTreeSet<u16> = listed
            .iter()
            .copied()
            .filter(|s| !FRAMEWORK.contains(s) || statuses.contains(s))
            .collect();
        assert_eq!(
            &own, statuses,
            "{method} {path} lists a status never answered"
        );
    }
}
