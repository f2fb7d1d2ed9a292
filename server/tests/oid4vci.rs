//! The whole OpenID4VCI pre-authorized code flow driven by core's sans-IO client against the
//! router, each error path, and the status list after revocation; on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{PUBLIC_URL, TestApp, now, receive};
use giayto_core::jose::jws::{self, CompactJws};
use giayto_core::jose::{Algorithm, Jwk, Jwks, Signer, SoftwareSigner};
use giayto_core::oid4vci::{OfferSource, ProofClaims, build_proof_jwt, parse_offer_uri};
use giayto_core::sd_jwt::SdJwt;
use giayto_core::status_list::StatusCache;
use giayto_core::trust_list::{TrustList, VerifiedTrustList};
use giayto_core::verifier::{FailureCode, IssuerTrust, Policy, Verdict, verify_presentation};
use giayto_server::db::DbKind;
use giayto_server::domain::c_nonce;
use serde_json::{Value, json};

on_both_databases!(
    full_flow_with_core_client_then_revocation_shows,
    token_endpoint_errors,
    credential_endpoint_errors,
    revoked_before_pickup_is_denied,
    core_verifier_accepts_trust_list_and_sees_revocation,
    nonce_endpoint_stores_nothing_and_nonces_stay_single_use,
    metadata_says_what_the_endpoints_accept,
);

struct Published {
    code: String,
    tx_code: String,
    by_reference: String,
}

async fn publish(app: &TestApp, id: &str) -> Published {
    let body = app.publish_id_card(id).await.json();
    let offer = &body["offer"];
    Published {
        code: offer["credential_offer"]["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["pre-authorized_code"]
            .as_str()
            .unwrap()
            .to_owned(),
        tx_code: offer["tx_code"].as_str().unwrap().to_owned(),
        by_reference: offer["offer_uri_by_reference"].as_str().unwrap().to_owned(),
    }
}

fn issuer_payload(credential: &str) -> (CompactJws, Value) {
    let jwt = credential.split('~').next().unwrap();
    let jws = CompactJws::parse(jwt).unwrap();
    let payload: Value = jws.payload_json().unwrap();
    (jws, payload)
}

async fn status_at(app: &TestApp, uri: &str, idx: u64) -> u8 {
    let reply = app.get(uri.strip_prefix(PUBLIC_URL).unwrap()).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.content_type(), "application/statuslist+jwt");
    let jwks: Jwks = serde_json::from_slice(&app.get("/.well-known/jwks.json").await.body).unwrap();
    let token = std::str::from_utf8(&reply.body).unwrap();
    let verified = giayto_core::status_list::verify_token(token, uri, &jwks, now() as i64).unwrap();
    let payload: Value = CompactJws::parse(token).unwrap().payload_json().unwrap();
    assert!(payload["ttl"].as_i64().unwrap() > 0);
    assert!(payload["exp"].as_i64().unwrap() > payload["iat"].as_i64().unwrap());
    verified.status(idx).unwrap().value()
}

async fn full_flow_with_core_client_then_revocation_shows(app: TestApp) {
    let p = publish(&app, "flow-1").await;
    let holder = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let creds = receive(&app, &p.by_reference, &p.tx_code, &holder).await;
    assert_eq!(creds.len(), 1);
    let (jws, payload) = issuer_payload(&creds[0]);
    assert_eq!(jws.header().typ.as_deref(), Some("dc+sd-jwt"));
    assert_eq!(payload["iss"], format!("{PUBLIC_URL}/agencies/police"));
    assert_eq!(payload["vct"], "https://giayto.gov.vn/vct/can_cuoc");
    let holder_jwk = holder.public_jwk().unwrap();
    assert_eq!(
        payload["cnf"]["jwk"]["x"],
        serde_json::to_value(&holder_jwk).unwrap()["x"]
    );
    let issuer_meta = app
        .get("/.well-known/jwt-vc-issuer/agencies/police")
        .await
        .json();
    let jwks: Jwks = serde_json::from_value(issuer_meta["jwks"].clone()).unwrap();
    jws.verify(jwks.find(jws.header().kid.as_deref().unwrap()).unwrap())
        .unwrap();
    let uri = payload["status"]["status_list"]["uri"]
        .as_str()
        .unwrap()
        .to_owned();
    let idx = payload["status"]["status_list"]["idx"].as_u64().unwrap();
    assert_eq!(status_at(&app, &uri, idx).await, 0);
    // The document view lists the credential and its slot.
    let doc = app
        .get_with("/api/v1/documents/flow-1", &app.key("police"))
        .await
        .json();
    assert_eq!(doc["document"]["credentials"][0]["idx"], idx);
    assert!(
        doc["offer"].is_null(),
        "the redeemed offer is no longer served"
    );
    // Suspend, then revoke: the next token shows each.
    let key = app.key("police");
    app.send_json(
        "POST",
        "/api/v1/documents/flow-1/suspend",
        Some(&key),
        &json!({}),
    )
    .await;
    assert_eq!(status_at(&app, &uri, idx).await, 2);
    app.send_json(
        "POST",
        "/api/v1/documents/flow-1/reinstate",
        Some(&key),
        &json!({}),
    )
    .await;
    assert_eq!(status_at(&app, &uri, idx).await, 0);
    app.send_json(
        "POST",
        "/api/v1/documents/flow-1/revoke",
        Some(&key),
        &json!({}),
    )
    .await;
    assert_eq!(status_at(&app, &uri, idx).await, 1);
    // Re-issue after a data change revokes the old credential (checked in another document).
    let p2 = publish(&app, "flow-2").await;
    let creds = receive(&app, &p2.by_reference, &p2.tx_code, &holder).await;
    let (_, payload) = issuer_payload(&creds[0]);
    let (uri2, idx2) = (
        payload["status"]["status_list"]["uri"]
            .as_str()
            .unwrap()
            .to_owned(),
        payload["status"]["status_list"]["idx"].as_u64().unwrap(),
    );
    assert_ne!((uri2.clone(), idx2), (uri.clone(), idx), "distinct slots");
    let mut claims = common::id_card_claims();
    claims["place_of_residence"] = json!("5 Lê Duẩn, Đà Nẵng");
    let re = app
        .send_json(
            "POST",
            "/api/v1/documents/flow-2/reissue",
            Some(&key),
            &json!({ "claims": claims }),
        )
        .await
        .json();
    assert_eq!(status_at(&app, &uri2, idx2).await, 1);
    let creds = receive(
        &app,
        re["offer"]["offer_uri_by_reference"].as_str().unwrap(),
        re["offer"]["tx_code"].as_str().unwrap(),
        &holder,
    )
    .await;
    let (_, payload) = issuer_payload(&creds[0]);
    assert_eq!(
        status_at(
            &app,
            payload["status"]["status_list"]["uri"].as_str().unwrap(),
            payload["status"]["status_list"]["idx"].as_u64().unwrap()
        )
        .await,
        0
    );
}

async fn token(app: &TestApp, form: &str) -> (StatusCode, Value) {
    let r = app
        .call(
            Request::post("/token")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(form.to_owned()))
                .unwrap(),
        )
        .await;
    assert_eq!(r.headers.get("cache-control").unwrap(), "no-store");
    (r.status, r.json())
}

fn form(code: &str, tx_code: Option<&str>) -> String {
    let mut f = url::form_urlencoded::Serializer::new(String::new());
    f.append_pair(
        "grant_type",
        "urn:ietf:params:oauth:grant-type:pre-authorized_code",
    );
    f.append_pair("pre-authorized_code", code);
    if let Some(t) = tx_code {
        f.append_pair("tx_code", t);
    }
    f.finish()
}

fn wrong(tx_code: &str) -> String {
    let mut w: Vec<u8> = tx_code.bytes().collect();
    w[0] = if w[0] == b'9' { b'0' } else { w[0] + 1 };
    String::from_utf8(w).unwrap()
}

async fn token_endpoint_errors(app: TestApp) {
    let p = publish(&app, "tok-1").await;
    assert_eq!(
        token(&app, "grant_type=authorization_code&code=x").await.1["error"],
        "unsupported_grant_type"
    );
    assert_eq!(
        token(
            &app,
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code"
        )
        .await
        .1["error"],
        "invalid_request"
    );
    assert_eq!(
        token(&app, &form("no-such-code", Some("123456"))).await.1["error"],
        "invalid_grant"
    );
    assert_eq!(
        token(&app, &form(&p.code, None)).await.1["error"],
        "invalid_request"
    );
    let (status, body) = token(&app, &form(&p.code, Some(&wrong(&p.tx_code)))).await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );
    assert!(!body.to_string().contains(&p.tx_code) && !body.to_string().contains(&p.code));
    // The right code still works after one miss, once.
    let (status, body) = token(&app, &form(&p.code, Some(&p.tx_code))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(
        token(&app, &form(&p.code, Some(&p.tx_code))).await.1["error"],
        "invalid_grant",
        "used code"
    );
    // Five wrong tx_codes burn the code: the right one then fails too. Each miss says how
    // many tries are left (issue 16), in the description and as `tx_code_tries_left`.
    let p = publish(&app, "tok-2").await;
    for left in (0..5).rev() {
        let body = token(&app, &form(&p.code, Some(&wrong(&p.tx_code))))
            .await
            .1;
        assert_eq!(body["error"], "invalid_grant");
        assert_eq!(body["tx_code_tries_left"], left, "{body}");
        let description = body["error_description"].as_str().unwrap();
        if left > 0 {
            assert!(
                description.contains(&format!("{left} tries left")),
                "{body}"
            );
        } else {
            assert!(description.contains("burnt"), "{body}");
        }
    }
    assert_eq!(
        token(&app, &form(&p.code, Some(&p.tx_code))).await.1["error"],
        "invalid_grant"
    );
    let offer_path = {
        let OfferSource::ByReference(u) = parse_offer_uri(&p.by_reference).unwrap() else {
            panic!()
        };
        u.strip_prefix(PUBLIC_URL).unwrap().to_owned()
    };
    assert_eq!(
        app.get(&offer_path).await.status,
        StatusCode::NOT_FOUND,
        "burnt offers are not served"
    );
}

async fn access_token(app: &TestApp, id: &str) -> String {
    let p = publish(app, id).await;
    token(app, &form(&p.code, Some(&p.tx_code))).await.1["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn nonce(app: &TestApp) -> String {
    let r = app
        .call(Request::post("/nonce").body(Body::empty()).unwrap())
        .await;
    assert_eq!(r.headers.get("cache-control").unwrap(), "no-store");
    r.json()["c_nonce"].as_str().unwrap().to_owned()
}

fn proof(signer: &dyn Signer, aud: &str, nonce: Option<&str>) -> String {
    build_proof_jwt(
        signer,
        &ProofClaims {
            iss: None,
            aud: aud.into(),
            iat: now(),
            nonce: nonce.map(str::to_owned),
        },
    )
    .unwrap()
}

async fn credential(app: &TestApp, token: Option<&str>, body: &Value) -> (StatusCode, Value) {
    let mut req = Request::post("/credential").header("content-type", "application/json");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let r = app
        .call(req.body(Body::from(body.to_string())).unwrap())
        .await;
    (r.status, r.json())
}

fn request(proofs: &[String]) -> Value {
    json!({ "credential_configuration_id": "can_cuoc", "proofs": { "jwt": proofs } })
}

async fn credential_endpoint_errors(app: TestApp) {
    let holder = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let other = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let token = access_token(&app, "cred-1").await;
    // No token, unknown token.
    let n = nonce(&app).await;
    let body = request(&[proof(&holder, PUBLIC_URL, Some(&n))]);
    let (s, e) = credential(&app, None, &body).await;
    assert_eq!(
        (s, e["error"].as_str().unwrap()),
        (StatusCode::UNAUTHORIZED, "invalid_token")
    );
    let (s, _) = credential(&app, Some("gya_unknown"), &body).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Proof for another audience.
    let (s, e) = credential(
        &app,
        Some(&token),
        &request(&[proof(&holder, "https://other.example", Some(&n))]),
    )
    .await;
    assert_eq!(
        (s, e["error"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "invalid_proof")
    );
    // Proof whose header key is not the signing key.
    let mut header = jws::header_with_typ("openid4vci-proof+jwt");
    header.insert(
        "jwk".into(),
        serde_json::to_value(holder.public_jwk().unwrap()).unwrap(),
    );
    let claims =
        serde_json::to_vec(&json!({ "aud": PUBLIC_URL, "iat": now(), "nonce": n })).unwrap();
    let forged = jws::sign_compact(header, &claims, &other).unwrap();
    assert_eq!(
        credential(&app, Some(&token), &request(&[forged])).await.1["error"],
        "invalid_proof"
    );
    // No proof, no nonce in the proof, wrong configuration, identifier, too many proofs.
    assert_eq!(
        credential(
            &app,
            Some(&token),
            &json!({ "credential_configuration_id": "can_cuoc" })
        )
        .await
        .1["error"],
        "invalid_proof"
    );
    assert_eq!(
        credential(
            &app,
            Some(&token),
            &request(&[proof(&holder, PUBLIC_URL, None)])
        )
        .await
        .1["error"],
        "invalid_proof"
    );
    let wrong_conf = json!({ "credential_configuration_id": "judicial_record", "proofs": { "jwt": [proof(&holder, PUBLIC_URL, Some(&n))] } });
    assert_eq!(
        credential(&app, Some(&token), &wrong_conf).await.1["error"],
        "unknown_credential_configuration"
    );
    let by_identifier = json!({ "credential_identifier": "x", "proofs": { "jwt": [proof(&holder, PUBLIC_URL, Some(&n))] } });
    assert_eq!(
        credential(&app, Some(&token), &by_identifier).await.1["error"],
        "unknown_credential_identifier"
    );
    let too_many: Vec<String> = (0..=giayto_server::domain::issuance::BATCH_SIZE)
        .map(|_| proof(&holder, PUBLIC_URL, Some(&n)))
        .collect();
    assert_eq!(
        credential(&app, Some(&token), &request(&too_many)).await.1["error"],
        "invalid_credential_request"
    );
    assert_eq!(
        credential(&app, Some(&token), &json!("not an object"))
            .await
            .1["error"],
        "invalid_credential_request"
    );
    // Unknown nonce.
    let (s, e) = credential(
        &app,
        Some(&token),
        &request(&[proof(&holder, PUBLIC_URL, Some("made-up"))]),
    )
    .await;
    assert_eq!(
        (s, e["error"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "invalid_nonce")
    );
    // None of the refusals used the token or the nonce: a good request now succeeds, with a
    // batch of two keys.
    let (s, ok) = credential(
        &app,
        Some(&token),
        &request(&[
            proof(&holder, PUBLIC_URL, Some(&n)),
            proof(&other, PUBLIC_URL, Some(&n)),
        ]),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{ok}");
    assert_eq!(ok["credentials"].as_array().unwrap().len(), 2);
    // The nonce is single use (stale), and so is the token.
    let token2 = access_token(&app, "cred-2").await;
    let (_, e) = credential(
        &app,
        Some(&token2),
        &request(&[proof(&holder, PUBLIC_URL, Some(&n))]),
    )
    .await;
    assert_eq!(e["error"], "invalid_nonce");
    let n2 = nonce(&app).await;
    let (s, _) = credential(
        &app,
        Some(&token),
        &request(&[proof(&holder, PUBLIC_URL, Some(&n2))]),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "used access token");
    // An expired nonce is stale too (made as the nonce endpoint makes them, with a past
    // expiry).
    let n3 = c_nonce::mint(&app.services.master, now() as i64 - 1).unwrap();
    let (_, e) = credential(
        &app,
        Some(&token2),
        &request(&[proof(&holder, PUBLIC_URL, Some(&n3))]),
    )
    .await;
    assert_eq!(e["error"], "invalid_nonce");
}

/// Rows in every table of the database (migration bookkeeping aside).
async fn total_rows(app: &TestApp) -> i64 {
    let sql = match app.services.db.kind() {
        DbKind::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'"
        }
        DbKind::Postgres => {
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%'"
        }
    };
    let tables: Vec<String> = sqlx::query_scalar(sql)
        .fetch_all(app.services.db.pool())
        .await
        .unwrap();
    assert!(tables.len() >= 10, "{tables:?}");
    let mut total = 0;
    for t in tables {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {t}"))
            .fetch_one(app.services.db.pool())
            .await
            .unwrap();
        total += n;
    }
    total
}

async fn nonce_endpoint_stores_nothing_and_nonces_stay_single_use(app: TestApp) {
    // 1,000 anonymous POST /nonce add no row anywhere (the old endpoint wrote one each).
    let before = total_rows(&app).await;
    let mut seen = std::collections::HashSet::new();
    for _ in 0..1000 {
        assert!(seen.insert(nonce(&app).await), "every c_nonce is fresh");
    }
    assert_eq!(total_rows(&app).await, before);
    let holder = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let n = seen.iter().next().unwrap().clone();
    // A forged nonce (a valid one with a later expiry written in) and an altered one are
    // refused with invalid_nonce, and do not use the access token.
    let token = access_token(&app, "nonce-1").await;
    let mut raw = URL_SAFE_NO_PAD.decode(&n).unwrap();
    raw[1..9].copy_from_slice(&(now() as i64 + 86_400).to_be_bytes());
    let forged = URL_SAFE_NO_PAD.encode(&raw);
    let mut altered = URL_SAFE_NO_PAD.decode(&n).unwrap();
    altered[20] ^= 1;
    let altered = URL_SAFE_NO_PAD.encode(&altered);
    let other_key = giayto_server::secrets::MasterKey::from_bytes(&[3; 32]).unwrap();
    let other_server = c_nonce::mint(&other_key, now() as i64 + 60).unwrap();
    for bad in [forged, altered, other_server] {
        let (s, e) = credential(
            &app,
            Some(&token),
            &request(&[proof(&holder, PUBLIC_URL, Some(&bad))]),
        )
        .await;
        assert_eq!(
            (s, e["error"].as_str().unwrap()),
            (StatusCode::BAD_REQUEST, "invalid_nonce"),
            "{bad}"
        );
    }
    // The genuine nonce issues once; it is then recorded until it expires, and refused.
    let (s, ok) = credential(
        &app,
        Some(&token),
        &request(&[proof(&holder, PUBLIC_URL, Some(&n))]),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{ok}");
    let token2 = access_token(&app, "nonce-2").await;
    let (s, e) = credential(
        &app,
        Some(&token2),
        &request(&[proof(&holder, PUBLIC_URL, Some(&n))]),
    )
    .await;
    assert_eq!(
        (s, e["error"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "invalid_nonce")
    );
    let used: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM single_uses WHERE id = $1")
        .bind(&n)
        .fetch_one(app.services.db.pool())
        .await
        .unwrap();
    assert_eq!(used, 1);
    // Cleaned up once expired (with the token's use).
    sqlx::query("UPDATE single_uses SET expires_at = 1")
        .execute(app.services.db.pool())
        .await
        .unwrap();
    giayto_server::domain::issuance::purge_expired(&app.services)
        .await
        .unwrap();
    let used: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM single_uses")
        .fetch_one(app.services.db.pool())
        .await
        .unwrap();
    assert_eq!(used, 0);
}

async fn revoked_before_pickup_is_denied(app: TestApp) {
    let access = access_token(&app, "den-1").await;
    app.send_json(
        "POST",
        "/api/v1/documents/den-1/suspend",
        Some(&app.key("police")),
        &json!({}),
    )
    .await;
    let holder = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let n = nonce(&app).await;
    let (s, e) = credential(
        &app,
        Some(&access),
        &request(&[proof(&holder, PUBLIC_URL, Some(&n))]),
    )
    .await;
    assert_eq!(
        (s, e["error"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "credential_request_denied")
    );
    // Revocation also withdraws an offer not yet redeemed.
    let p = publish(&app, "den-2").await;
    app.send_json(
        "POST",
        "/api/v1/documents/den-2/revoke",
        Some(&app.key("police")),
        &json!({}),
    )
    .await;
    assert_eq!(
        token(&app, &form(&p.code, Some(&p.tx_code))).await.1["error"],
        "invalid_grant"
    );
}

/// Fetches the status list `uri` from the server and verifies it with the keys the trust
/// list gives the credential's issuer, as an offline verifier's refresh does.
async fn fetch_status(
    app: &TestApp,
    trust: &VerifiedTrustList,
    iss: &str,
    uri: &str,
) -> StatusCache {
    let reply = app.get(uri.strip_prefix(PUBLIC_URL).unwrap()).await;
    assert_eq!(reply.status, StatusCode::OK);
    let token = std::str::from_utf8(&reply.body).unwrap();
    let issuer_keys = &trust.issuer(iss).unwrap().jwks;
    let t = now() as i64;
    let verified = giayto_core::status_list::verify_token(token, uri, issuer_keys, t).unwrap();
    assert_eq!(
        verified.uri, uri,
        "status list sub is the credential's status uri"
    );
    let mut cache = StatusCache::new();
    assert!(cache.insert(verified, t));
    cache
}

fn present_and_verify(
    credential: &str,
    holder: &dyn Signer,
    trust: &VerifiedTrustList,
    statuses: &StatusCache,
    nonce: &str,
) -> Verdict {
    const AUD: &str = "https://verifier.example/roadside";
    let t = now() as i64;
    let presentation = SdJwt::parse(credential)
        .unwrap()
        .present_with_key_binding(&["full_name", "birth_date"], AUD, nonce, t, holder)
        .unwrap();
    let policy = Policy {
        accepted_audiences: Some(vec![AUD.to_owned()]),
        expected_nonce: Some(nonce.to_owned()),
        ..Policy::default()
    };
    verify_presentation(
        &presentation,
        &policy,
        &IssuerTrust::TrustList(trust.clone()),
        statuses,
        t,
    )
}

async fn core_verifier_accepts_trust_list_and_sees_revocation(app: TestApp) {
    // The verifier pins the anchor key and checks the served trust list with core.
    let anchor: Jwks = serde_json::from_slice(&app.get("/trust-anchor.json").await.body).unwrap();
    assert_eq!(anchor.keys.len(), 1);
    let anchor_key: &Jwk = &anchor.keys[0];
    let list = app.get("/trust-list").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.content_type(), "application/trustlist+jwt");
    let token = std::str::from_utf8(&list.body).unwrap();
    let trust = TrustList::verify(token, anchor_key, now() as i64, 0).unwrap();
    assert_eq!(trust.list().iss, PUBLIC_URL);
    // Each issuer on the list is the `iss` of its JWT VC issuer metadata, with the same keys.
    assert_eq!(trust.list().issuers.len(), 3, "the demo agencies");
    for issuer in &trust.list().issuers {
        let path = issuer.id.strip_prefix(PUBLIC_URL).unwrap();
        let meta = app.get(&format!("/.well-known/jwt-vc-issuer{path}")).await;
        assert_eq!(meta.status, StatusCode::OK, "{path}");
        let meta = meta.json();
        assert_eq!(meta["issuer"], issuer.id);
        let jwks: Jwks = serde_json::from_value(meta["jwks"].clone()).unwrap();
        assert_eq!(jwks, issuer.jwks);
        for k in &issuer.jwks.keys {
            assert_eq!(k.kid().unwrap(), k.thumbprint().unwrap());
        }
    }
    let police_iss = format!("{PUBLIC_URL}/agencies/police");
    let police = trust.issuer(&police_iss).unwrap();
    assert_eq!(police.name.en, "Ministry of Public Security");
    assert!(
        police
            .vcts
            .iter()
            .any(|v| v == "https://giayto.gov.vn/vct/can_cuoc")
    );

    // Issue through OpenID4VCI; the credential names a key and issuer the list authorises.
    let p = publish(&app, "trust-1").await;
    let holder = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let creds = receive(&app, &p.by_reference, &p.tx_code, &holder).await;
    let (jws, payload) = issuer_payload(&creds[0]);
    assert_eq!(payload["iss"], police_iss);
    let kid = jws.header().kid.clone().unwrap();
    trust
        .authorise(&police_iss, &kid, "https://giayto.gov.vn/vct/can_cuoc")
        .unwrap();
    let uri = payload["status"]["status_list"]["uri"].as_str().unwrap();
    assert!(uri.starts_with(&format!("{PUBLIC_URL}/status-lists/")));

    let statuses = fetch_status(&app, &trust, &police_iss, uri).await;
    let verdict = present_and_verify(&creds[0], &holder, &trust, &statuses, "n-1");
    assert!(verdict.valid, "{:?}", verdict.errors);
    assert_eq!(verdict.claims_json["full_name"], "Nguyễn Văn An");
    assert!(verdict.claims_json.get("place_of_residence").is_none());

    // After revocation, the re-fetched status list makes the same document fail as revoked.
    let revoked = app
        .send_json(
            "POST",
            "/api/v1/documents/trust-1/revoke",
            Some(&app.key("police")),
            &json!({}),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK);
    let stale = present_and_verify(&creds[0], &holder, &trust, &statuses, "n-2");
    assert!(stale.valid, "the old cached list still says valid");
    let statuses = fetch_status(&app, &trust, &police_iss, uri).await;
    let verdict = present_and_verify(&creds[0], &holder, &trust, &statuses, "n-3");
    assert!(!verdict.valid);
    assert!(
        verdict.has_error(FailureCode::Revoked),
        "{:?}",
        verdict.errors
    );
}

async fn metadata_says_what_the_endpoints_accept(app: TestApp) {
    let meta = app
        .get("/.well-known/openid-credential-issuer")
        .await
        .json();
    let conf = &meta["credential_configurations_supported"]["can_cuoc"];
    let advertised: Vec<String> = serde_json::from_value(
        conf["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"].clone(),
    )
    .unwrap();
    assert_eq!(advertised, ["ES256"]);
    assert!(conf.get("scope").is_none(), "no flow takes a scope");
    // Each algorithm core can sign with is accepted exactly when the metadata lists it
    // (EdDSA proofs used to be accepted though only ES256 was advertised).
    for (i, alg) in [Algorithm::Es256, Algorithm::EdDsa].into_iter().enumerate() {
        let token = access_token(&app, &format!("alg-{i}")).await;
        let holder = SoftwareSigner::generate(alg).unwrap();
        let n = nonce(&app).await;
        let (s, body) = credential(
            &app,
            Some(&token),
            &request(&[proof(&holder, PUBLIC_URL, Some(&n))]),
        )
        .await;
        if advertised.iter().any(|a| a == alg.name()) {
            assert_eq!(s, StatusCode::OK, "{alg}: {body}");
        } else {
            assert_eq!(
                (s, body["error"].as_str().unwrap()),
                (StatusCode::BAD_REQUEST, "invalid_proof"),
                "{alg}"
            );
        }
    }
    // Credentials are signed with an advertised algorithm.
    let signing: Vec<String> =
        serde_json::from_value(conf["credential_signing_alg_values_supported"].clone()).unwrap();
    let p = publish(&app, "alg-sig").await;
    let holder = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let creds = receive(&app, &p.by_reference, &p.tx_code, &holder).await;
    let (jws, _) = issuer_payload(&creds[0]);
    assert!(signing.iter().any(|a| a == jws.header().alg.name()));
    // An agency key can only be made for an advertised algorithm.
    let e = giayto_server::domain::agencies::rotate_key(&app.services, "police", Algorithm::EdDsa)
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("credential_signing_alg_values_supported"),
        "{e}"
    );
    // The batch size, grant type and tx_code shape advertised are the ones enforced.
    let batch = meta["batch_credential_issuance"]["batch_size"]
        .as_u64()
        .unwrap() as usize;
    let token = access_token(&app, "alg-batch").await;
    let n = nonce(&app).await;
    let too_many: Vec<String> = (0..=batch)
        .map(|_| proof(&holder, PUBLIC_URL, Some(&n)))
        .collect();
    assert_eq!(
        credential(&app, Some(&token), &request(&too_many)).await.1["error"],
        "invalid_credential_request"
    );
    let full: Vec<String> = (0..batch)
        .map(|_| proof(&holder, PUBLIC_URL, Some(&n)))
        .collect();
    let (s, body) = credential(&app, Some(&token), &request(&full)).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["credentials"].as_array().unwrap().len(), batch);
    let as_meta = app
        .get("/.well-known/oauth-authorization-server")
        .await
        .json();
    assert_eq!(
        as_meta["grant_types_supported"],
        json!([
            "urn:ietf:params:oauth:grant-type:pre-authorized_code",
            "refresh_token"
        ])
    );
    let offer = app.publish_id_card("alg-tx").await.json();
    let tx_spec = &offer["offer"]["credential_offer"]["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
        ["tx_code"];
    let tx_code = offer["offer"]["tx_code"].as_str().unwrap();
    assert_eq!(tx_spec["input_mode"], "numeric");
    assert_eq!(tx_spec["length"].as_u64().unwrap() as usize, tx_code.len());
    assert!(tx_code.bytes().all(|b| b.is_ascii_digit()));
}
