//! Router tests of the issuer API, public documents and operations endpoints, on a fresh
//! SQLite file and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Reply, TestApp, id_card_claims, id_card_request};
use giayto_core::jose::Jwks;
use giayto_core::jose::jws::CompactJws;
use giayto_server::domain::documents;
use serde_json::{Value, json};

on_both_databases!(
    health_ready_metrics_and_openapi,
    jwks_trust_list_and_type_metadata,
    publish_is_idempotent_and_checks_claims,
    authorisation_matrix,
    offer_by_reference_and_qr,
    bulk_publish_answers_every_line,
    state_changes_and_reissue,
);

fn problem(reply: &Reply) -> Value {
    assert_eq!(
        reply.content_type(),
        "application/problem+json",
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    reply.json()
}

async fn health_ready_metrics_and_openapi(app: TestApp) {
    assert_eq!(app.get("/healthz").await.status, StatusCode::OK);
    assert_eq!(app.get("/readyz").await.status, StatusCode::OK);
    app.publish_id_card("m-1").await;
    let metrics = common::call(giayto_server::admin_app(), Request::get("/metrics")).await;
    assert_eq!(metrics.status, StatusCode::OK);
    let text = String::from_utf8(metrics.body).unwrap();
    assert!(text.contains("giayto_http_requests_total"), "{text}");
    let openapi = app.get("/openapi.json").await.json();
    assert!(openapi["paths"]["/api/v1/documents"]["post"].is_object());
    assert!(openapi["paths"]["/api/v1/bulk/documents"]["post"].is_object());
    assert!(openapi["components"]["securitySchemes"]["api_key"].is_object());
    let missing = app.get("/no/such/thing").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(problem(&missing)["status"], 404);
}

async fn jwks_trust_list_and_type_metadata(app: TestApp) {
    let jwks: Jwks = serde_json::from_slice(&app.get("/.well-known/jwks.json").await.body).unwrap();
    assert_eq!(jwks.keys.len(), 3, "one key per demo agency");
    for k in &jwks.keys {
        assert!(!k.is_private());
        assert_eq!(k.kid().unwrap(), k.thumbprint().unwrap());
    }
    let anchor: Jwks = serde_json::from_slice(&app.get("/trust-anchor.json").await.body).unwrap();
    let list = app.get("/trust-list").await;
    assert_eq!(list.content_type(), "application/trustlist+jwt");
    let jws = CompactJws::parse(std::str::from_utf8(&list.body).unwrap()).unwrap();
    jws.verify(&anchor.keys[0]).unwrap();
    assert!(
        jws.verify(&jwks.keys[0]).is_err(),
        "signed by the anchor, not an agency"
    );
    let payload: Value = jws.payload_json().unwrap();
    let police = payload["issuers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == format!("{}/agencies/police", common::PUBLIC_URL))
        .unwrap();
    // Each type the police issue, with its purpose types.
    let police_vcts: Vec<String> = ["can_cuoc", "driving_licence", "vehicle_registration"]
        .iter()
        .flat_map(|id| {
            giayto_core::catalogue::issued_vcts(giayto_core::catalogue::by_id(id).unwrap().vct)
        })
        .collect();
    assert_eq!(police["vcts"], json!(police_vcts));
    assert!(payload["exp"].as_i64().unwrap() > payload["iat"].as_i64().unwrap());
    let meta = app.get("/vct/can_cuoc").await;
    assert_eq!(meta.status, StatusCode::OK);
    assert_eq!(meta.json()["vct"], "https://giayto.gov.vn/vct/can_cuoc");
    assert_eq!(app.get("/vct/nope").await.status, StatusCode::NOT_FOUND);
    let issuer = app
        .get("/.well-known/jwt-vc-issuer/agencies/justice")
        .await
        .json();
    assert_eq!(
        issuer["issuer"],
        format!("{}/agencies/justice", common::PUBLIC_URL)
    );
    assert_eq!(issuer["jwks"]["keys"].as_array().unwrap().len(), 1);
}

async fn publish_is_idempotent_and_checks_claims(app: TestApp) {
    let first = app.publish_id_card("cc-1").await;
    assert_eq!(
        first.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&first.body)
    );
    let body = first.json();
    assert_eq!(body["document"]["state"], "valid");
    let offer = &body["offer"];
    assert_eq!(offer["tx_code"].as_str().unwrap().len(), 6);
    assert!(
        offer["offer_uri_by_reference"]
            .as_str()
            .unwrap()
            .starts_with("openid-credential-offer://?credential_offer_uri=")
    );
    assert_eq!(
        offer["credential_offer"]["credential_configuration_ids"],
        json!([
            "can_cuoc",
            "can_cuoc.identity",
            "can_cuoc.age_over_18",
            "can_cuoc.residence"
        ])
    );
    // Same id, same content: the same result.
    let again = app.publish_id_card("cc-1").await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json(), body);
    // Same id, other content: conflict.
    let mut changed = id_card_request("cc-1");
    changed["claims"]["place_of_residence"] = json!("Đà Nẵng");
    let conflict = app
        .send_json(
            "POST",
            "/api/v1/documents",
            Some(&app.key("police")),
            &changed,
        )
        .await;
    assert_eq!(conflict.status, StatusCode::CONFLICT);
    // A bad field is named.
    let mut bad = id_card_request("cc-2");
    bad["claims"]["birth_date"] = json!("01/05/1990");
    let r = app
        .send_json("POST", "/api/v1/documents", Some(&app.key("police")), &bad)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem(&r)["field"], "claims.birth_date");
    let mut bad = id_card_request("cc-3");
    bad["claims"].as_object_mut().unwrap().remove("family_name");
    let r = app
        .send_json("POST", "/api/v1/documents", Some(&app.key("police")), &bad)
        .await;
    assert_eq!(problem(&r)["field"], "claims.family_name");
    let mut bad = id_card_request("cc-4");
    bad["citizen_id"] = json!("12ab");
    let r = app
        .send_json("POST", "/api/v1/documents", Some(&app.key("police")), &bad)
        .await;
    assert_eq!(problem(&r)["field"], "citizen_id");
    // Several bad claims are all reported at once (issue 16: one per request before), in
    // claim order, each with its field; `field` names the first.
    let mut bad = id_card_request("cc-5");
    bad["claims"]["birth_date"] = json!("01/05/1990");
    bad["claims"]["sex"] = json!("f");
    bad["claims"].as_object_mut().unwrap().remove("family_name");
    bad["claims"]["age_equal_or_over"] = json!({"18": true});
    let r = app
        .send_json("POST", "/api/v1/documents", Some(&app.key("police")), &bad)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let p = problem(&r);
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "claims.age_equal_or_over",
            "claims.family_name",
            "claims.birth_date",
            "claims.sex"
        ],
        "{p}"
    );
    assert_eq!(p["field"], "claims.age_equal_or_over");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .starts_with("4 invalid claims: "),
        "{p}"
    );
    // Malformed JSON and unknown members are 400.
    let r = app
        .call(
            Request::post("/api/v1/documents")
                .header("authorization", format!("Bearer {}", app.key("police")))
                .header("content-type", "application/json")
                .body(Body::from("{not json"))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let mut extra = id_card_request("cc-5");
    extra["surprise"] = json!(1);
    let r = app
        .send_json(
            "POST",
            "/api/v1/documents",
            Some(&app.key("police")),
            &extra,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Oversized bodies are refused before parsing.
    let huge = json!({ "document_id": "x", "pad": "a".repeat(2 << 20) });
    let r = app
        .send_json("POST", "/api/v1/documents", Some(&app.key("police")), &huge)
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
}

async fn authorisation_matrix(app: TestApp) {
    let police = app.key("police");
    let justice = app.key("justice");
    // No key, a wrong key: 401 with a Bearer challenge.
    let r = app
        .send_json("POST", "/api/v1/documents", None, &id_card_request("a-1"))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers.get("www-authenticate").unwrap(), "Bearer");
    problem(&r);
    let r = app
        .send_json(
            "POST",
            "/api/v1/documents",
            Some("gyk_wrongwrongwrong"),
            &id_card_request("a-1"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app
        .send_json(
            "POST",
            "/api/v1/documents",
            Some(&police[..police.len() - 1]),
            &id_card_request("a-1"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // A revoked key.
    let extra = giayto_server::domain::agencies::create_api_key(&app.services, "police", "temp")
        .await
        .unwrap();
    let r = app
        .send_json(
            "POST",
            "/api/v1/documents",
            Some(&extra.secret),
            &id_card_request("a-2"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    giayto_server::domain::agencies::revoke_api_key(&app.services, &extra.id)
        .await
        .unwrap();
    let r = app
        .send_json(
            "POST",
            "/api/v1/documents",
            Some(&extra.secret),
            &id_card_request("a-3"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get_with("/api/v1/documents/a-2", &extra.secret)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // Another agency's document type: 403.
    let r = app
        .send_json(
            "POST",
            "/api/v1/documents",
            Some(&justice),
            &id_card_request("a-4"),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    problem(&r);
    // Another agency's document: 404 for read and every change.
    assert_eq!(
        app.get_with("/api/v1/documents/a-2", &police).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get_with("/api/v1/documents/a-2", &justice).await.status,
        StatusCode::NOT_FOUND
    );
    for action in ["revoke", "suspend", "reinstate"] {
        let r = app
            .send_json(
                "POST",
                &format!("/api/v1/documents/a-2/{action}"),
                Some(&justice),
                &json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{action}");
    }
    let r = app
        .send_json(
            "POST",
            "/api/v1/documents/a-2/reissue",
            Some(&justice),
            &json!({ "claims": id_card_claims() }),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // The document is untouched.
    let doc = app.get_with("/api/v1/documents/a-2", &police).await.json();
    assert_eq!(doc["document"]["state"], "valid");
    // No secret in any error body.
    assert!(!String::from_utf8_lossy(&r.body).contains(&police));
}

async fn offer_by_reference_and_qr(app: TestApp) {
    let body = app.publish_id_card("o-1").await.json();
    let offer = &body["offer"];
    let url = offer["credential_offer_uri"].as_str().unwrap();
    let path = url.strip_prefix(common::PUBLIC_URL).unwrap();
    let served = app.get(path).await;
    assert_eq!(served.headers.get("cache-control").unwrap(), "no-store");
    assert_eq!(served.json(), offer["credential_offer"]);
    let offer_parsed = giayto_core::oid4vci::CredentialOffer::from_json(&served.body).unwrap();
    offer_parsed.validate().unwrap();
    let by_value =
        giayto_core::oid4vci::parse_offer_uri(offer["offer_uri_by_value"].as_str().unwrap())
            .unwrap();
    assert!(matches!(by_value, giayto_core::oid4vci::OfferSource::ByValue(o) if o == offer_parsed));
    let by_ref =
        giayto_core::oid4vci::parse_offer_uri(offer["offer_uri_by_reference"].as_str().unwrap())
            .unwrap();
    assert!(matches!(by_ref, giayto_core::oid4vci::OfferSource::ByReference(u) if u == url));
    let qr = app
        .get(
            offer["qr_png_url"]
                .as_str()
                .unwrap()
                .strip_prefix(common::PUBLIC_URL)
                .unwrap(),
        )
        .await;
    assert_eq!(qr.content_type(), "image/png");
    assert!(qr.body.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert_eq!(
        app.get("/offers/00000000000000000000000000000000")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/offers/not-hex").await.status,
        StatusCode::NOT_FOUND
    );
}

async fn bulk_publish_answers_every_line(app: TestApp) {
    let mut lines = Vec::new();
    for i in 0..300 {
        lines.push(id_card_request(&format!("b-{i}")).to_string());
    }
    lines.push("{ broken".into());
    let mut bad = id_card_request("b-bad");
    bad["claims"]["sex"] = json!("x");
    lines.push(bad.to_string());
    lines.push(String::new());
    lines.push(id_card_request("b-0").to_string()); // replay of line 1
    let mut other = id_card_request("b-hc");
    other["vct"] = json!("https://giayto.gov.vn/vct/health_insurance_card");
    lines.push(other.to_string());
    lines.push(format!("{{\"document_id\":\"{}\"}}", "z".repeat(70 * 1024)));
    lines.push(id_card_request("b-last").to_string());
    // Repeats inside one chunk (one multi-row INSERT): same content, then other content.
    lines.push(id_card_request("b-last").to_string());
    let mut changed = id_card_request("b-last");
    changed["claims"]["place_of_residence"] = json!("5 Lê Duẩn, Đà Nẵng");
    lines.push(changed.to_string());
    let body = lines.join("\n");
    let reply = app
        .call(
            Request::post("/api/v1/bulk/documents")
                .header("authorization", format!("Bearer {}", app.key("police")))
                .header("content-type", "application/x-ndjson")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.content_type(), "application/x-ndjson");
    let results: Vec<Value> = reply
        .body
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    assert_eq!(results.len(), 308, "every non-blank line answered");
    let status_of = |line: u64| {
        results.iter().find(|r| r["line"] == line).unwrap()["status"]
            .as_u64()
            .unwrap()
    };
    for i in 1..=300 {
        assert_eq!(status_of(i), 201);
    }
    assert_eq!(status_of(301), 400);
    assert_eq!(status_of(302), 422);
    assert_eq!(
        results.iter().find(|r| r["line"] == 302).unwrap()["error"]["field"],
        "claims.sex"
    );
    assert_eq!(status_of(304), 200);
    assert_eq!(status_of(305), 403);
    assert_eq!(status_of(306), 413);
    assert_eq!(status_of(307), 201);
    assert_eq!(status_of(308), 200);
    assert_eq!(status_of(309), 409);
    let lines_in_order: Vec<u64> = results
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    let mut sorted = lines_in_order.clone();
    sorted.sort_unstable();
    assert_eq!(lines_in_order, sorted);
    assert!(results[0]["offer"]["tx_code"].is_string());
    // The replay answers the offer made by line 1: its secret, stored wrapped by the
    // batch's insert, unwraps to the same code and tx_code.
    let line_of = |line: u64| results.iter().find(|r| r["line"] == line).unwrap();
    assert_eq!(line_of(304)["offer"], line_of(1)["offer"]);
    // The batch's insert stores the claims as the compact JSON of the request, byte for
    // byte (what issuance and the citizen's account read back).
    let stored: String = sqlx::query_scalar(
        "SELECT claims FROM documents WHERE external_id = $1 AND agency_id = 'police'",
    )
    .bind("b-7")
    .fetch_one(app.services.db.pool())
    .await
    .unwrap();
    assert_eq!(stored, id_card_request("b-7")["claims"].to_string());
    // Each offer's code is stored as its keyed hash after the code's time prefix, so a
    // batch's offers append to the code_hash index.
    let code = line_of(7)["offer"]["credential_offer"]["grants"]
        ["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["pre-authorized_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let stored: String = sqlx::query_scalar(
        "SELECT o.code_hash FROM offers o JOIN documents d ON d.id = o.document_id \
         WHERE d.external_id = $1 AND d.agency_id = 'police'",
    )
    .bind("b-6")
    .fetch_one(app.services.db.pool())
    .await
    .unwrap();
    assert_eq!(stored, documents::code_hash(&app.services.master, &code));
    assert!(
        stored.starts_with(&code[..13]) && code.as_bytes()[12] == b'.',
        "{code}"
    );
    assert_eq!(
        app.get_with("/api/v1/documents/b-299", &app.key("police"))
            .await
            .status,
        StatusCode::OK
    );
    let r = app
        .call(
            Request::post("/api/v1/bulk/documents")
                .header("content-type", "application/x-ndjson")
                .body(Body::from(""))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

async fn state_changes_and_reissue(app: TestApp) {
    let police = app.key("police");
    app.publish_id_card("s-1").await;
    let post = |action: &'static str| {
        let app = &app;
        let police = police.clone();
        async move {
            app.send_json(
                "POST",
                &format!("/api/v1/documents/s-1/{action}"),
                Some(&police),
                &json!({}),
            )
            .await
        }
    };
    let r = post("suspend").await;
    assert_eq!(r.json()["document"]["state"], "suspended");
    assert_eq!(post("suspend").await.status, StatusCode::OK, "idempotent");
    let r = post("reinstate").await;
    assert_eq!(r.json()["document"]["state"], "valid");
    assert_eq!(post("reinstate").await.json()["document"]["state"], "valid");
    let mut claims = id_card_claims();
    claims["place_of_residence"] = json!("5 Lê Duẩn, Đà Nẵng");
    let r = app
        .send_json(
            "POST",
            "/api/v1/documents/s-1/reissue",
            Some(&police),
            &json!({ "claims": claims }),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let re = r.json();
    assert_eq!(re["document"]["version"], 2);
    assert!(re["offer"]["tx_code"].is_string());
    let mut bad = claims.clone();
    bad["sex"] = json!("?");
    let r = app
        .send_json(
            "POST",
            "/api/v1/documents/s-1/reissue",
            Some(&police),
            &json!({ "claims": bad }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = post("revoke").await;
    assert_eq!(r.json()["document"]["state"], "revoked");
    assert!(
        r.json()["offer"].is_null(),
        "revocation withdraws the open offer"
    );
    assert_eq!(post("reinstate").await.status, StatusCode::CONFLICT);
    assert_eq!(post("suspend").await.status, StatusCode::CONFLICT);
    let r = app
        .send_json(
            "POST",
            "/api/v1/documents/s-1/reissue",
            Some(&police),
            &json!({ "claims": claims }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}
