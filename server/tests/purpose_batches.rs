//! Purpose credentials over OpenID4VCI (issue 11), through the specification only: the
//! metadata has one configuration per preset with its own `vct` and type metadata, a batch
//! of `proofs.jwt` gets one credential per proof bound to its own key with its own status
//! index, and revoke, suspend, reinstate and reissue act on every credential of the document.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{PUBLIC_URL, TestApp, id_card_claims, now, redeem_form, refresh_form};
use giayto_core::catalogue;
use giayto_core::jose::jws::CompactJws;
use giayto_core::jose::{Algorithm, Jwks, Signer, SoftwareSigner};
use giayto_core::oid4vci::{ProofClaims, build_proof_jwt};
use giayto_core::sd_jwt::SdJwt;
use serde_json::{Value, json};

on_both_databases!(
    a_batch_gets_one_purpose_credential_per_proof_each_with_its_own_key_and_index,
    every_purpose_type_is_described_and_trusted,
    one_token_covers_each_configuration_once,
    revocation_and_reissue_act_on_the_whole_batch,
    refresh_tokens_rotate_and_end_with_the_document,
    a_document_gets_a_bounded_number_of_credentials,
);

async fn nonce(app: &TestApp) -> String {
    app.call(Request::post("/nonce").body(Body::empty()).unwrap())
        .await
        .json()["c_nonce"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A credential request for `configuration` with one proof per key, as any OpenID4VCI 1.0
/// wallet makes it (section 8.2: `proofs.jwt`, one fresh `c_nonce`).
async fn request_batch(
    app: &TestApp,
    token: &str,
    configuration: &str,
    keys: &[SoftwareSigner],
) -> (StatusCode, Value) {
    let n = nonce(app).await;
    let proofs: Vec<String> = keys
        .iter()
        .map(|key| {
            build_proof_jwt(
                key,
                &ProofClaims {
                    iss: None,
                    aud: PUBLIC_URL.into(),
                    iat: now(),
                    nonce: Some(n.clone()),
                },
            )
            .unwrap()
        })
        .collect();
    let body = json!({ "credential_configuration_id": configuration, "proofs": { "jwt": proofs } });
    let r = app
        .call(
            Request::post("/credential")
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {token}"))
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await;
    (r.status, r.json())
}

fn keys(n: usize) -> Vec<SoftwareSigner> {
    (0..n)
        .map(|_| SoftwareSigner::generate(Algorithm::Es256).unwrap())
        .collect()
}

fn payload(credential: &str) -> Value {
    CompactJws::parse(credential.split('~').next().unwrap())
        .unwrap()
        .payload_json()
        .unwrap()
}

async fn status_of(app: &TestApp, credential: &str) -> u8 {
    let p = payload(credential);
    let uri = p["status"]["status_list"]["uri"].as_str().unwrap();
    let idx = p["status"]["status_list"]["idx"].as_u64().unwrap();
    let reply = app.get(uri.strip_prefix(PUBLIC_URL).unwrap()).await;
    let jwks: Jwks = serde_json::from_slice(&app.get("/.well-known/jwks.json").await.body).unwrap();
    let token = std::str::from_utf8(&reply.body).unwrap();
    giayto_core::status_list::verify_token(token, uri, &jwks, now() as i64)
        .unwrap()
        .status(idx)
        .unwrap()
        .value()
}

/// Publishes an ID card and redeems its offer; the offer and the access token.
async fn offered(app: &TestApp, id: &str) -> (Value, String) {
    let published = app.publish_id_card(id).await.json();
    let token = app.redeem(&published["offer"]).await.unwrap();
    (published["offer"].clone(), token)
}

async fn a_batch_gets_one_purpose_credential_per_proof_each_with_its_own_key_and_index(
    app: TestApp,
) {
    let (offer, token) = offered(&app, "batch-1").await;
    // The offer covers the full credential and every purpose type of the document.
    let ids: Vec<&str> = offer["credential_offer"]["credential_configuration_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "can_cuoc",
            "can_cuoc.identity",
            "can_cuoc.age_over_18",
            "can_cuoc.residence"
        ]
    );
    let holders = keys(5);
    let (status, body) = request_batch(&app, &token, "can_cuoc.age_over_18", &holders).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let credentials: Vec<String> = body["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["credential"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(credentials.len(), holders.len());
    let mut indices = std::collections::HashSet::new();
    for (credential, holder) in credentials.iter().zip(&holders) {
        let p = payload(credential);
        assert_eq!(p["vct"], "https://giayto.gov.vn/vct/can_cuoc/age_over_18");
        // Bound to its own proof's key, in proof order.
        let mut cnf = p["cnf"]["jwk"].clone();
        let mut key = serde_json::to_value(holder.public_jwk().unwrap()).unwrap();
        cnf.as_object_mut().unwrap().remove("kid");
        key.as_object_mut().unwrap().remove("kid");
        assert_eq!(cnf, key);
        // Only the preset's claim, in the clear; no digest of anything hidden.
        assert_eq!(p["age_equal_or_over"], json!({"18": true}));
        assert!(p.get("_sd").is_none() && p.get("family_name").is_none());
        let sd_jwt = SdJwt::parse(credential).unwrap();
        assert_eq!(
            sd_jwt.to_compact().matches('~').count(),
            1,
            "no disclosures"
        );
        assert!(indices.insert(p["status"]["status_list"]["idx"].as_u64().unwrap()));
        assert_eq!(p["iss"], format!("{PUBLIC_URL}/agencies/police"));
    }
}

async fn every_purpose_type_is_described_and_trusted(app: TestApp) {
    let meta = app
        .get("/.well-known/openid-credential-issuer")
        .await
        .json();
    let configurations = meta["credential_configurations_supported"]
        .as_object()
        .unwrap();
    let trust_list = app.get("/trust-list").await;
    let trust_token = std::str::from_utf8(&trust_list.body).unwrap();
    let trusted: Value = CompactJws::parse(trust_token)
        .unwrap()
        .payload_json()
        .unwrap();
    let police = trusted["issuers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == format!("{PUBLIC_URL}/agencies/police"))
        .unwrap();
    for doc in catalogue::all() {
        let base = app.get(&format!("/vct/base/{}", doc.id)).await;
        assert_eq!(base.status, StatusCode::OK);
        assert_eq!(base.json()["vct"], doc.base_vct());
        let full = app.get(&format!("/vct/{}", doc.id)).await.json();
        assert_eq!(full["extends"], doc.base_vct());
        for purpose in doc.purposes() {
            let id = format!("{}.{}", doc.id, purpose.preset().name);
            let configuration = &configurations[&id];
            assert_eq!(configuration["vct"], purpose.vct(), "{id}");
            assert_eq!(configuration["format"], "dc+sd-jwt");
            let names: Vec<&str> = configuration["credential_metadata"]["display"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["name"].as_str().unwrap())
                .collect();
            assert_eq!(names, [purpose.name("vi"), purpose.name("en")]);
            let served = app
                .get(&format!("/vct/{}/{}", doc.id, purpose.preset().name))
                .await;
            assert_eq!(served.status, StatusCode::OK, "{id}");
            let served = served.json();
            assert_eq!(served["vct"], purpose.vct());
            assert_eq!(served["extends"], doc.base_vct());
            // The police may issue the purpose types of the types it issues.
            if doc.issuer_role == catalogue::IssuerRole::Police {
                assert!(
                    police["vcts"]
                        .as_array()
                        .unwrap()
                        .contains(&Value::from(purpose.vct())),
                    "{id}"
                );
            }
        }
    }
    assert_eq!(
        app.get("/vct/can_cuoc/full").await.status,
        StatusCode::NOT_FOUND
    );
    assert!(
        meta["batch_credential_issuance"]["batch_size"]
            .as_u64()
            .unwrap()
            >= 30
    );
}

async fn one_token_covers_each_configuration_once(app: TestApp) {
    let (_, token) = offered(&app, "batch-2").await;
    assert_eq!(
        request_batch(&app, &token, "can_cuoc", &keys(1)).await.0,
        StatusCode::OK
    );
    assert_eq!(
        request_batch(&app, &token, "can_cuoc.identity", &keys(3))
            .await
            .0,
        StatusCode::OK
    );
    let (status, again) = request_batch(&app, &token, "can_cuoc.identity", &keys(3)).await;
    assert_eq!(
        (status, again["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_token"))
    );
    // Another document type's purposes are not covered by this offer.
    let (_, other) = request_batch(&app, &token, "driving_licence.traffic_stop", &keys(1)).await;
    assert_eq!(other["error"], "unknown_credential_configuration");
    // Still usable for the configurations not yet asked for.
    assert_eq!(
        request_batch(&app, &token, "can_cuoc.residence", &keys(2))
            .await
            .0,
        StatusCode::OK
    );
}

async fn lifecycle(app: &TestApp, id: &str, op: &str, body: &Value) -> StatusCode {
    app.send_json(
        "POST",
        &format!("/api/v1/documents/{id}/{op}"),
        Some(&app.key("police")),
        body,
    )
    .await
    .status
}

fn credentials_of(body: &Value) -> Vec<String> {
    body["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["credential"].as_str().unwrap().to_owned())
        .collect()
}

async fn revocation_and_reissue_act_on_the_whole_batch(app: TestApp) {
    let (_, token) = offered(&app, "batch-3").await;
    let mut all = credentials_of(&request_batch(&app, &token, "can_cuoc", &keys(1)).await.1);
    for configuration in ["can_cuoc.identity", "can_cuoc.age_over_18"] {
        let (status, body) = request_batch(&app, &token, configuration, &keys(30)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        all.extend(credentials_of(&body));
    }
    assert_eq!(all.len(), 61);
    for credential in &all {
        assert_eq!(status_of(&app, credential).await, 0);
    }
    // Suspended: every one of the 61 reads suspended; reinstated: every one valid again.
    assert_eq!(
        lifecycle(&app, "batch-3", "suspend", &json!({})).await,
        StatusCode::OK
    );
    for credential in &all {
        assert_eq!(status_of(&app, credential).await, 2);
    }
    assert_eq!(
        lifecycle(&app, "batch-3", "reinstate", &json!({})).await,
        StatusCode::OK
    );
    for credential in &all {
        assert_eq!(status_of(&app, credential).await, 0);
    }
    // Reissued: the whole old batch is revoked, and the new offer gives a new batch.
    let mut moved = id_card_claims();
    moved["place_of_residence"] = json!("5 Lê Duẩn, Đà Nẵng");
    let reply = app
        .send_json(
            "POST",
            "/api/v1/documents/batch-3/reissue",
            Some(&app.key("police")),
            &json!({ "claims": moved }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    for credential in &all {
        assert_eq!(status_of(&app, credential).await, 1);
    }
    let token = app.redeem(&reply.json()["offer"]).await.unwrap();
    let (status, body) = request_batch(&app, &token, "can_cuoc.age_over_18", &keys(30)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let fresh = credentials_of(&body);
    for credential in &fresh {
        assert_eq!(status_of(&app, credential).await, 0);
    }
    // Revoked while the phone holds 30 unused purpose credentials: all 30 refused.
    assert_eq!(
        lifecycle(&app, "batch-3", "revoke", &json!({})).await,
        StatusCode::OK
    );
    for credential in &fresh {
        assert_eq!(status_of(&app, credential).await, 1);
    }
}

async fn refresh_tokens_rotate_and_end_with_the_document(app: TestApp) {
    let published = app.publish_id_card("refresh-1").await.json();
    let (code, tx_code) = common::offer_secrets(&published["offer"]);
    let (status, first) = app.token_form(&redeem_form(&code, &tx_code)).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let refresh = first["refresh_token"].as_str().unwrap().to_owned();
    assert!(refresh.starts_with("gyr_"));
    let meta = app
        .get("/.well-known/oauth-authorization-server")
        .await
        .json();
    assert!(
        meta["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("refresh_token"))
    );
    // A refresh gives a new access token that gets a new batch, and a new refresh token;
    // the one used is gone.
    let (status, second) = app.token_form(&refresh_form(&refresh)).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let access = second["access_token"].as_str().unwrap();
    assert_ne!(access, first["access_token"].as_str().unwrap());
    let (status, body) = request_batch(&app, access, "can_cuoc.age_over_18", &keys(4)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(credentials_of(&body).len(), 4);
    let (status, reused) = app.token_form(&refresh_form(&refresh)).await;
    assert_eq!(
        (status, reused["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    assert!(!reused.to_string().contains(&refresh));
    let rotated = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rotated, refresh);
    // Missing or unknown refresh tokens are refused plainly.
    assert_eq!(
        app.token_form("grant_type=refresh_token").await.1["error"],
        "invalid_request"
    );
    assert_eq!(
        app.token_form(&refresh_form("gyr_nope")).await.1["error"],
        "invalid_grant"
    );
    // Once the document is suspended (or revoked, or re-issued) no refresh works.
    assert_eq!(
        lifecycle(&app, "refresh-1", "suspend", &json!({})).await,
        StatusCode::OK
    );
    assert_eq!(
        app.token_form(&refresh_form(&rotated)).await.1["error"],
        "invalid_grant"
    );
    assert_eq!(
        lifecycle(&app, "refresh-1", "reinstate", &json!({})).await,
        StatusCode::OK
    );
    let (status, third) = app.token_form(&refresh_form(&rotated)).await;
    assert_eq!(status, StatusCode::OK, "{third}");
    let mut moved = id_card_claims();
    moved["place_of_residence"] = json!("5 Lê Duẩn, Đà Nẵng");
    let reply = app
        .send_json(
            "POST",
            "/api/v1/documents/refresh-1/reissue",
            Some(&app.key("police")),
            &json!({ "claims": moved }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        app.token_form(&refresh_form(third["refresh_token"].as_str().unwrap()))
            .await
            .1["error"],
        "invalid_grant"
    );
}

/// A wallet that refreshes in a loop cannot fill the status lists: past
/// `MAX_CREDENTIALS_PER_WINDOW` credentials in the window, the document gets no more.
async fn a_document_gets_a_bounded_number_of_credentials(app: TestApp) {
    use giayto_server::domain::issuance::MAX_CREDENTIALS_PER_WINDOW;
    let published = app.publish_id_card("bounded-1").await.json();
    let (code, tx_code) = common::offer_secrets(&published["offer"]);
    let (_, mut grant) = app.token_form(&redeem_form(&code, &tx_code)).await;
    let mut issued = 0i64;
    while issued < MAX_CREDENTIALS_PER_WINDOW {
        let access = grant["access_token"].as_str().unwrap().to_owned();
        for configuration in [
            "can_cuoc.identity",
            "can_cuoc.age_over_18",
            "can_cuoc.residence",
        ] {
            let n = (MAX_CREDENTIALS_PER_WINDOW - issued).min(30);
            if n == 0 {
                break;
            }
            let (status, body) =
                request_batch(&app, &access, configuration, &keys(n as usize)).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            issued += n;
        }
        let refresh = grant["refresh_token"].as_str().unwrap().to_owned();
        grant = app.token_form(&refresh_form(&refresh)).await.1;
    }
    let access = grant["access_token"].as_str().unwrap();
    let (status, refused) = request_batch(&app, access, "can_cuoc", &keys(1)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(refused["error"], "credential_request_denied");
    assert!(
        refused["error_description"]
            .as_str()
            .unwrap()
            .contains(&format!("at most {MAX_CREDENTIALS_PER_WINDOW} credentials")),
        "{refused}"
    );
}
