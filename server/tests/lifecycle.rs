//! A document's lifecycle against the state table of docs/ISSUER_API.md, the identifier
//! grammar, and the time bounds (no expired credential, offers no longer than their
//! document); router tests on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use axum::http::StatusCode;
use common::{TestApp, id_card_claims, id_card_request};
use serde_json::{Value, json};

on_both_databases!(
    every_state_change_follows_the_lifecycle_table,
    identifiers_a_client_would_normalise_are_refused,
    expired_documents_are_not_issued_and_time_values_are_bounded,
);

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn post(app: &TestApp, id: &str, op: &str, body: &Value) -> (StatusCode, Value) {
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/documents/{id}/{op}"),
            Some(&app.key("police")),
            body,
        )
        .await;
    (r.status, r.json())
}

fn new_claims() -> Value {
    let mut claims = id_card_claims();
    claims["place_of_residence"] = json!("5 Lê Duẩn, Đà Nẵng");
    claims
}

/// A document `id` with one credential issued, then brought to `state`.
async fn document_in(app: &TestApp, id: &str, state: &str) {
    let published = app.publish_id_card(id).await.json();
    let token = app.redeem(&published["offer"]).await.unwrap();
    assert_eq!(app.request_credential(&token).await.0, StatusCode::OK);
    match state {
        "valid" => {}
        "suspended" => assert_eq!(post(app, id, "suspend", &json!({})).await.0, StatusCode::OK),
        "revoked" => assert_eq!(post(app, id, "revoke", &json!({})).await.0, StatusCode::OK),
        other => panic!("{other}"),
    }
}

/// The lifecycle table of docs/ISSUER_API.md: from state, operation -> HTTP status, state
/// after, status of the credential issued before (0 valid, 1 revoked, 2 suspended), version
/// after, whether an offer is open after.
const TABLE: &[(&str, &str, u16, &str, i64, i64, bool)] = &[
    ("valid", "suspend", 200, "suspended", 2, 1, false),
    ("valid", "reinstate", 200, "valid", 0, 1, false),
    ("valid", "revoke", 200, "revoked", 1, 1, false),
    ("valid", "reissue", 200, "valid", 1, 2, true),
    ("suspended", "suspend", 200, "suspended", 2, 1, false),
    ("suspended", "reinstate", 200, "valid", 0, 1, false),
    ("suspended", "revoke", 200, "revoked", 1, 1, false),
    // A data change never ends a suspension (it used to make the document valid).
    ("suspended", "reissue", 200, "suspended", 1, 2, true),
    ("revoked", "suspend", 409, "revoked", 1, 1, false),
    ("revoked", "reinstate", 409, "revoked", 1, 1, false),
    ("revoked", "revoke", 200, "revoked", 1, 1, false),
    ("revoked", "reissue", 409, "revoked", 1, 1, false),
];

async fn every_state_change_follows_the_lifecycle_table(app: TestApp) {
    for (i, &(from, op, status, to, cred_status, version, offer)) in TABLE.iter().enumerate() {
        let id = format!("life-{i}");
        document_in(&app, &id, from).await;
        let body = if op == "reissue" {
            json!({ "claims": new_claims() })
        } else {
            json!({})
        };
        let (s, answer) = post(&app, &id, op, &body).await;
        assert_eq!(s.as_u16(), status, "{from} {op}: {answer}");
        let view = app
            .get_with(&format!("/api/v1/documents/{id}"), &app.key("police"))
            .await
            .json();
        let doc = &view["document"];
        assert_eq!(doc["state"], to, "{from} {op}");
        assert_eq!(doc["version"], version, "{from} {op}");
        assert_eq!(doc["credentials"][0]["status"], cred_status, "{from} {op}");
        assert_eq!(!view["offer"].is_null(), offer, "{from} {op}");
    }
    // Issuing (the credential endpoint) in each state, with an access token obtained while
    // the document was valid.
    for (i, (state, issued)) in [("valid", true), ("suspended", false), ("revoked", false)]
        .into_iter()
        .enumerate()
    {
        let id = format!("issue-{i}");
        let published = app.publish_id_card(&id).await.json();
        let token = app.redeem(&published["offer"]).await.unwrap();
        if state != "valid" {
            let op = if state == "suspended" {
                "suspend"
            } else {
                "revoke"
            };
            assert_eq!(post(&app, &id, op, &json!({})).await.0, StatusCode::OK);
        }
        let (s, body) = app.request_credential(&token).await;
        if issued {
            assert_eq!(s, StatusCode::OK, "{body}");
        } else {
            assert_eq!(
                (s, body["error"].as_str().unwrap()),
                (StatusCode::BAD_REQUEST, "credential_request_denied"),
                "{state}"
            );
        }
    }
    // A suspended document re-issued keeps its new offer; once reinstated the offer yields
    // a valid credential of the new version.
    document_in(&app, "susp-re", "suspended").await;
    let (_, re) = post(
        &app,
        "susp-re",
        "reissue",
        &json!({ "claims": new_claims() }),
    )
    .await;
    let token = app.redeem(&re["offer"]).await.unwrap();
    assert_eq!(
        app.request_credential(&token).await.1["error"],
        "credential_request_denied"
    );
    assert_eq!(
        post(&app, "susp-re", "reinstate", &json!({})).await.0,
        StatusCode::OK
    );
    let (s, body) = app.request_credential(&token).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let doc = app
        .get_with("/api/v1/documents/susp-re", &app.key("police"))
        .await
        .json();
    let mut statuses: Vec<(i64, i64)> = doc["document"]["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["version"].as_i64().unwrap(),
                c["status"].as_i64().unwrap(),
            )
        })
        .collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [(1, 1), (2, 0)]);
}

async fn identifiers_a_client_would_normalise_are_refused(app: TestApp) {
    let police = app.key("police");
    for bad in [
        ".", "..", "a/b", "%2E%2E", "a%2Fb", " a", "a ", "a\u{1}b", "a\nb", ".hidden", "a.",
    ] {
        let r = app
            .send_json(
                "POST",
                "/api/v1/documents",
                Some(&police),
                &id_card_request(bad),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
        assert_eq!(r.json()["field"], "document_id", "{bad:?}");
    }
    let mut bad_citizen = id_card_request("ok-1");
    bad_citizen["citizen_id"] = json!(" 001099012345");
    let r = app
        .send_json("POST", "/api/v1/documents", Some(&police), &bad_citizen)
        .await;
    assert_eq!(r.json()["field"], "citizen_id");
    // Nothing was stored.
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM documents")
        .fetch_one(app.services.db.pool())
        .await
        .unwrap();
    assert_eq!(n, 0);
    // The same grammar on every path that takes a document id (percent-decoded by then).
    for path in [
        "/api/v1/documents/%2E%2E",
        "/api/v1/documents/%2E",
        "/api/v1/documents/a%2Fb",
        "/api/v1/documents/a%20",
    ] {
        let r = app.get_with(path, &police).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        for op in ["revoke", "suspend", "reinstate", "reissue"] {
            let body = if op == "reissue" {
                json!({ "claims": id_card_claims() })
            } else {
                json!({})
            };
            let r = app
                .send_json("POST", &format!("{path}/{op}"), Some(&police), &body)
                .await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}/{op}");
        }
    }
    // Agency ids: refused when added, not found when asked by path.
    let agency = giayto_server::domain::agencies::Agency {
        id: "-x-".into(),
        name_vi: "x".into(),
        name_en: "x".into(),
        allowed_vcts: vec![],
    };
    assert!(
        giayto_server::domain::agencies::add_agency(
            &app.services,
            &agency,
            giayto_core::jose::Algorithm::Es256
        )
        .await
        .is_err()
    );
    let r = app.get("/.well-known/jwt-vc-issuer/agencies/%2E%2E").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn expired_documents_are_not_issued_and_time_values_are_bounded(app: TestApp) {
    let police = app.key("police");
    // The offer lives no longer than the document (it used to live offer_ttl_secs, 24 h).
    let until = now() + 30;
    let mut req = id_card_request("exp-1");
    req["valid_until"] = json!(until);
    let published = app
        .send_json("POST", "/api/v1/documents", Some(&police), &req)
        .await
        .json();
    assert_eq!(published["offer"]["expires_at"], until);
    let token = app.redeem(&published["offer"]).await.unwrap();
    // The document's expiry passes (as if redeemed later): the credential endpoint refuses
    // instead of signing a credential whose exp is before its iat, and uses no status slot.
    sqlx::query("UPDATE documents SET valid_until = $1 WHERE external_id = 'exp-1'")
        .bind(now() - 1)
        .execute(app.services.db.pool())
        .await
        .unwrap();
    let slots = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM credentials")
            .fetch_one(app.services.db.pool())
            .await
            .unwrap()
    };
    let before = slots().await;
    let (s, body) = app.request_credential(&token).await;
    assert_eq!(
        (s, body["error"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "credential_request_denied")
    );
    assert_eq!(slots().await, before);
    // An issued credential's exp is its document's valid_until, after its iat.
    let published = app.publish_id_card("exp-2").await.json();
    let token = app.redeem(&published["offer"]).await.unwrap();
    let (s, body) = app.request_credential(&token).await;
    assert_eq!(s, StatusCode::OK);
    let jwt = body["credentials"][0]["credential"]
        .as_str()
        .unwrap()
        .split('~')
        .next()
        .unwrap()
        .to_owned();
    let payload: Value = giayto_core::jose::jws::CompactJws::parse(&jwt)
        .unwrap()
        .payload_json()
        .unwrap();
    assert!(payload["exp"].as_i64().unwrap() > payload["iat"].as_i64().unwrap());
    assert_eq!(payload["exp"], published["document"]["valid_until"]);
    // valid_until: in the future, and within the type's bound (20 years for an ID card).
    let year = 31_557_600;
    for (id, until, status) in [
        ("b-1", now() - 1, StatusCode::UNPROCESSABLE_ENTITY),
        ("b-2", now() + 21 * year, StatusCode::UNPROCESSABLE_ENTITY),
        ("b-3", i64::MAX, StatusCode::UNPROCESSABLE_ENTITY),
        ("b-4", now() + 19 * year, StatusCode::CREATED),
    ] {
        let mut req = id_card_request(id);
        req["valid_until"] = json!(until);
        let r = app
            .send_json("POST", "/api/v1/documents", Some(&police), &req)
            .await;
        assert_eq!(r.status, status, "{id}");
        if status != StatusCode::CREATED {
            assert_eq!(r.json()["field"], "valid_until");
        }
    }
    // A re-issue is bounded the same way, and its offer ends with the document too.
    let (s, _) = post(
        &app,
        "b-4",
        "reissue",
        &json!({ "claims": new_claims(), "valid_until": now() + 21 * year }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let until = now() + 60;
    let (s, re) = post(
        &app,
        "b-4",
        "reissue",
        &json!({ "claims": new_claims(), "valid_until": until }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{re}");
    assert_eq!(re["offer"]["expires_at"], until);
}
