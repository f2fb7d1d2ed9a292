//! The citizen account (issue 14) against the router, on SQLite and PostgreSQL: activation
//! by the ID-card issuer with a DPoP proof, the inbox of three agencies' documents with its
//! ETag, receiving by `credential_identifier`, reissue and revocation in the inbox, a new
//! phone at the counter revoking the old phone's credentials, a lost phone; and the
//! authorisation matrix of every account route.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{PUBLIC_URL, Reply, TestApp, now, offer_secrets};
use giayto_core::catalogue::examples::example_claims;
use giayto_core::jose::{Algorithm, Signer as _, SoftwareSigner};
use giayto_core::oid4vci::{ProofClaims, build_dpop_proof, build_proof_jwt};
use serde_json::{Value, json};

on_both_databases!(
    activation_inbox_and_receiving,
    authorisation_matrix_of_account_routes,
    a_new_phone_at_the_counter_revokes_the_old_one,
    the_wallet_activates_and_syncs_with_cores_client,
    a_transfer_from_the_old_phone_moves_the_account,
    guardians_hold_their_wards_documents_until_the_guardianship_ends,
);

const CITIZEN: &str = "001099012345";
const OTHER_CITIZEN: &str = "079188001122";

fn key() -> SoftwareSigner {
    SoftwareSigner::generate(Algorithm::Es256).unwrap()
}

fn dpop(key: &SoftwareSigner, method: &str, path: &str, token: Option<&str>) -> String {
    build_dpop_proof(
        key,
        method,
        &format!("{PUBLIC_URL}{path}"),
        now() as i64,
        token,
    )
    .unwrap()
}

async fn publish(app: &TestApp, agency: &str, type_id: &str, citizen: &str, doc: &str) {
    let doc_type = giayto_core::catalogue::by_id(type_id).unwrap();
    let r = app
        .send_json(
            "POST",
            "/api/v1/documents",
            Some(&app.key(agency)),
            &json!({
                "document_id": doc,
                "citizen_id": citizen,
                "vct": doc_type.vct,
                "claims": example_claims(type_id).unwrap(),
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json());
}

async fn start_activation(app: &TestApp, agency: &str, citizen: &str) -> Reply {
    app.send_json(
        "POST",
        "/api/v1/accounts",
        Some(&app.key(agency)),
        &json!({ "citizen_id": citizen }),
    )
    .await
}

/// The token endpoint with a form and an optional DPoP proof.
async fn token(app: &TestApp, form: &[(&str, &str)], proof: Option<String>) -> Reply {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let mut req =
        Request::post("/token").header("content-type", "application/x-www-form-urlencoded");
    if let Some(proof) = proof {
        req = req.header("dpop", proof);
    }
    app.call(req.body(Body::from(body)).unwrap()).await
}

async fn redeem(
    app: &TestApp,
    offer: &Value,
    tx_code: Option<&str>,
    proof: Option<String>,
) -> Reply {
    let (code, right) = offer_secrets(offer);
    token(
        app,
        &[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:pre-authorized_code",
            ),
            ("pre-authorized_code", &code),
            ("tx_code", tx_code.unwrap_or(&right)),
        ],
        proof,
    )
    .await
}

/// Activates `citizen`'s account with `phone` as the account key; the token answer.
async fn activate(app: &TestApp, citizen: &str, phone: &SoftwareSigner) -> Value {
    let r = start_activation(app, "police", citizen).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json());
    let r = redeem(
        app,
        &r.json()["offer"],
        None,
        Some(dpop(phone, "POST", "/token", None)),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    r.json()
}

async fn refresh(app: &TestApp, refresh_token: &str, phone: &SoftwareSigner) -> Reply {
    token(
        app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
        Some(dpop(phone, "POST", "/token", None)),
    )
    .await
}

async fn inbox(app: &TestApp, access: &str, phone: &SoftwareSigner, etag: Option<&str>) -> Reply {
    let mut req = Request::get("/account/inbox")
        .header("authorization", format!("DPoP {access}"))
        .header("dpop", dpop(phone, "GET", "/account/inbox", Some(access)));
    if let Some(etag) = etag {
        req = req.header("if-none-match", etag);
    }
    app.call(req.body(Body::empty()).unwrap()).await
}

/// A credential request by `credential_identifier` under an account token, proved by
/// `holder`, the DPoP proof signed by `phone`.
async fn receive(
    app: &TestApp,
    access: &str,
    phone: &SoftwareSigner,
    identifier: &str,
    holder: &SoftwareSigner,
) -> Reply {
    let nonce = app
        .call(Request::post("/nonce").body(Body::empty()).unwrap())
        .await
        .json()["c_nonce"]
        .as_str()
        .unwrap()
        .to_owned();
    let proof = build_proof_jwt(
        holder,
        &ProofClaims {
            iss: None,
            aud: PUBLIC_URL.into(),
            iat: now(),
            nonce: Some(nonce),
        },
    )
    .unwrap();
    let body = json!({ "credential_identifier": identifier, "proofs": { "jwt": [proof] } });
    app.call(
        Request::post("/credential")
            .header("content-type", "application/json")
            .header("authorization", format!("DPoP {access}"))
            .header("dpop", dpop(phone, "POST", "/credential", Some(access)))
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

fn identifiers(token_answer: &Value) -> Vec<(String, String)> {
    token_answer["authorization_details"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| {
            assert_eq!(d["type"], "openid_credential");
            let configuration = d["credential_configuration_id"]
                .as_str()
                .unwrap()
                .to_owned();
            d["credential_identifiers"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |i| (configuration.clone(), i.as_str().unwrap().to_owned()))
        })
        .collect()
}

fn entry<'a>(inbox: &'a Value, document_id: &str) -> &'a Value {
    inbox["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["document_id"] == document_id)
        .unwrap_or_else(|| panic!("{document_id} not in {inbox}"))
}

/// The statuses of a document's credentials, as its agency reads them, sorted.
async fn statuses(app: &TestApp, agency: &str, doc: &str) -> Vec<i64> {
    let r = app
        .get_with(&format!("/api/v1/documents/{doc}"), &app.key(agency))
        .await;
    let mut statuses = r.json()["document"]["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_i64().unwrap())
        .collect::<Vec<_>>();
    statuses.sort_unstable();
    statuses
}

async fn activation_inbox_and_receiving(app: TestApp) {
    publish(&app, "police", "can_cuoc", CITIZEN, "CC-1").await;
    publish(&app, "justice", "judicial_record", CITIZEN, "LLTP-1").await;
    publish(
        &app,
        "social-insurance",
        "health_insurance_card",
        CITIZEN,
        "BHYT-1",
    )
    .await;
    publish(
        &app,
        "social-insurance",
        "health_insurance_card",
        OTHER_CITIZEN,
        "BHYT-2",
    )
    .await;
    let phone = key();
    let answer = activate(&app, CITIZEN, &phone).await;
    assert_eq!(answer["token_type"], "DPoP");
    assert!(
        answer["refresh_token"]
            .as_str()
            .unwrap()
            .starts_with("gyc_")
    );
    let mut configurations: Vec<String> =
        identifiers(&answer).into_iter().map(|(c, _)| c).collect();
    configurations.sort();
    assert_eq!(
        configurations,
        ["can_cuoc", "health_insurance_card", "judicial_record"],
        "the citizen's three documents, not the other citizen's"
    );
    let access = answer["access_token"].as_str().unwrap();
    let refresh_token = answer["refresh_token"].as_str().unwrap().to_owned();

    // The inbox: publisher and times, an ETag, and 304 when nothing changed.
    let r = inbox(&app, access, &phone, None).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let body = r.json();
    assert_eq!(body["documents"].as_array().unwrap().len(), 3);
    let record = entry(&body, "LLTP-1");
    assert_eq!(record["publisher"]["id"], "justice");
    assert_eq!(record["publisher"]["name_en"], "Ministry of Justice");
    assert_eq!(
        record["publisher"]["issuer"],
        format!("{PUBLIC_URL}/agencies/justice")
    );
    assert_eq!(record["state"], "valid");
    assert!(record["published_at"].as_i64().unwrap() > 1_700_000_000);
    let etag = r.headers.get("etag").unwrap().to_str().unwrap().to_owned();
    let again = inbox(&app, access, &phone, Some(&etag)).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());

    // Receive each by its identifier, bound to the proved key and recorded with the account.
    let holder = key();
    for (_, identifier) in identifiers(&answer) {
        let r = receive(&app, access, &phone, &identifier, &holder).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json());
        let credential = r.json()["credentials"][0]["credential"]
            .as_str()
            .unwrap()
            .to_owned();
        let jwk = giayto_core::wallet::holder_jwk_of(&credential).unwrap();
        assert_eq!(
            jwk.thumbprint().unwrap(),
            holder.public_jwk().unwrap().thumbprint().unwrap()
        );
    }
    assert_eq!(statuses(&app, "justice", "LLTP-1").await, [0]);

    // A reissue: a new identifier, the old one refused, the ETag changed.
    let old_identifier = entry(&body, "BHYT-1")["credential_identifier"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut claims = example_claims("health_insurance_card").unwrap();
    claims["benefit_level"] = json!(4);
    let r = app
        .send_json(
            "POST",
            "/api/v1/documents/BHYT-1/reissue",
            Some(&app.key("social-insurance")),
            &json!({ "claims": claims }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    let r = refresh(&app, &refresh_token, &phone).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    assert!(
        r.json().get("refresh_token").is_none(),
        "a DPoP-bound refresh token is kept"
    );
    let access = r.json()["access_token"].as_str().unwrap().to_owned();
    let changed = inbox(&app, &access, &phone, Some(&etag)).await;
    assert_eq!(changed.status, StatusCode::OK);
    let body = changed.json();
    let card = entry(&body, "BHYT-1");
    assert_eq!(card["version"], 2);
    let new_identifier = card["credential_identifier"].as_str().unwrap();
    assert_ne!(new_identifier, old_identifier);
    let r = receive(&app, &access, &phone, &old_identifier, &holder).await;
    assert_eq!(
        r.json()["error"],
        "credential_request_denied",
        "{}",
        r.json()
    );
    let r = receive(&app, &access, &phone, new_identifier, &holder).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());

    // A revocation: the inbox says so and names nothing to receive.
    let r = app
        .send_json(
            "POST",
            "/api/v1/documents/LLTP-1/revoke",
            Some(&app.key("justice")),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let body = inbox(&app, &access, &phone, None).await.json();
    let record = entry(&body, "LLTP-1");
    assert_eq!(record["state"], "revoked");
    assert!(record["credential_identifier"].is_null());
}

async fn authorisation_matrix_of_account_routes(app: TestApp) {
    publish(&app, "police", "can_cuoc", CITIZEN, "CC-1").await;
    publish(&app, "police", "can_cuoc", OTHER_CITIZEN, "CC-2").await;
    publish(
        &app,
        "social-insurance",
        "health_insurance_card",
        OTHER_CITIZEN,
        "BHYT-2",
    )
    .await;

    // Activation: only the ID-card issuer, a well-formed citizen with an ID card, a key.
    assert_eq!(
        start_activation(&app, "justice", CITIZEN).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        start_activation(&app, "police", "12345").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        start_activation(&app, "police", "001000000000")
            .await
            .status,
        StatusCode::CONFLICT,
        "no ID card published for that citizen"
    );
    let r = app
        .send_json(
            "POST",
            "/api/v1/accounts",
            None,
            &json!({ "citizen_id": CITIZEN }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/accounts/{CITIZEN}/deactivate"),
            Some(&app.key("justice")),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/accounts/{CITIZEN}/deactivate"),
            Some(&app.key("police")),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "no account yet");

    // The activation offer: not shown in the document's read, needs DPoP (the code is not
    // spent without it), wrong codes burn it at the limit like any offer, single use.
    let offer = start_activation(&app, "police", CITIZEN).await.json()["offer"].clone();
    let read = app
        .get_with("/api/v1/documents/CC-1", &app.key("police"))
        .await
        .json();
    assert_ne!(
        read["offer"]["tx_code"], offer["tx_code"],
        "the activation code stays with the counter"
    );
    let r = redeem(&app, &offer, None, None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"], "invalid_dpop_proof");
    let phone = key();
    let stale = build_dpop_proof(
        &phone,
        "POST",
        &format!("{PUBLIC_URL}/token"),
        now() as i64 - 3600,
        None,
    )
    .unwrap();
    let r = redeem(&app, &offer, None, Some(stale)).await;
    assert_eq!(
        r.json()["error"],
        "invalid_dpop_proof",
        "a proof an hour old"
    );
    let r = redeem(
        &app,
        &offer,
        None,
        Some(dpop(&phone, "POST", "/credential", None)),
    )
    .await;
    assert_eq!(
        r.json()["error"],
        "invalid_dpop_proof",
        "a proof for another endpoint"
    );
    let answer = redeem(
        &app,
        &offer,
        None,
        Some(dpop(&phone, "POST", "/token", None)),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json());
    let answer = answer.json();
    let r = redeem(
        &app,
        &offer,
        None,
        Some(dpop(&phone, "POST", "/token", None)),
    )
    .await;
    assert_eq!(
        r.json()["error"],
        "invalid_grant",
        "an activation code is single use"
    );
    let burnt = start_activation(&app, "police", OTHER_CITIZEN).await.json()["offer"].clone();
    let max_tries = app.services.config.tx_code_max_tries;
    for _ in 0..max_tries {
        let r = redeem(
            &app,
            &burnt,
            Some("000000"),
            Some(dpop(&key(), "POST", "/token", None)),
        )
        .await;
        assert_eq!(r.json()["error"], "invalid_grant");
    }
    let r = redeem(
        &app,
        &burnt,
        None,
        Some(dpop(&key(), "POST", "/token", None)),
    )
    .await;
    assert_eq!(
        r.json()["error"],
        "invalid_grant",
        "burnt after {max_tries} wrong codes"
    );

    let access = answer["access_token"].as_str().unwrap().to_owned();
    let refresh_token = answer["refresh_token"].as_str().unwrap().to_owned();
    let own = identifiers(&answer)[0].1.clone();
    let holder = key();

    // The account's token presented with another key's proof: refused on every route.
    let thief = key();
    let r = inbox(&app, &access, &thief, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["error"], "invalid_token");
    assert!(
        r.headers
            .get("www-authenticate")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("DPoP ")
    );
    let r = receive(&app, &access, &thief, &own, &holder).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = refresh(&app, &refresh_token, &thief).await;
    assert_eq!(r.json()["error"], "invalid_grant");
    // Without a proof, or as a Bearer token.
    let r = app
        .call(
            Request::get("/account/inbox")
                .header("authorization", format!("DPoP {access}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.json()["error"], "invalid_dpop_proof");
    let r = app
        .call(
            Request::get("/account/inbox")
                .header("authorization", format!("Bearer {access}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = token(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh_token),
        ],
        None,
    )
    .await;
    assert_eq!(r.json()["error"], "invalid_dpop_proof");
    // A proof replayed.
    let proof = dpop(&phone, "GET", "/account/inbox", Some(&access));
    for expected in [StatusCode::OK, StatusCode::UNAUTHORIZED] {
        let r = app
            .call(
                Request::get("/account/inbox")
                    .header("authorization", format!("DPoP {access}"))
                    .header("dpop", proof.clone())
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, expected);
    }
    // A proof for another access token (ath).
    let r = app
        .call(
            Request::get("/account/inbox")
                .header("authorization", format!("DPoP {access}"))
                .header(
                    "dpop",
                    dpop(&phone, "GET", "/account/inbox", Some("gyt_other")),
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.json()["error"], "invalid_dpop_proof");

    // Another citizen's document: unknown to this account, whatever identifier shape.
    let other_phone = key();
    let other = activate(&app, OTHER_CITIZEN, &other_phone).await;
    for (_, identifier) in identifiers(&other) {
        let r = receive(&app, &access, &phone, &identifier, &holder).await;
        assert_eq!(
            r.json()["error"],
            "unknown_credential_identifier",
            "{}",
            r.json()
        );
    }
    for bad in ["", "x", "../CC-2.1", &format!("{own}0")] {
        let r = receive(&app, &access, &phone, bad, &holder).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    // The configuration id instead of the identifier.
    let r = app
        .call(
            Request::post("/credential")
                .header("content-type", "application/json")
                .header("authorization", format!("DPoP {access}"))
                .header("dpop", dpop(&phone, "POST", "/credential", Some(&access)))
                .body(Body::from(
                    json!({"credential_configuration_id": "can_cuoc"}).to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(r.json()["error"], "invalid_credential_request");
    let r = receive(&app, &access, &phone, &own, &holder).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    assert_eq!(statuses(&app, "police", "CC-1").await, [0]);

    // A deactivated account (lost phone): tokens dead at once, its credentials revoked.
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/accounts/{CITIZEN}/deactivate"),
            Some(&app.key("police")),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    assert_eq!(r.json()["revoked_credentials"], 1);
    assert_eq!(statuses(&app, "police", "CC-1").await, [1]);
    assert_eq!(
        inbox(&app, &access, &phone, None).await.json()["error"],
        "invalid_token"
    );
    assert_eq!(
        receive(&app, &access, &phone, &own, &holder).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        refresh(&app, &refresh_token, &phone).await.json()["error"],
        "invalid_grant"
    );
    // The other citizen's account is untouched.
    let r = inbox(
        &app,
        other["access_token"].as_str().unwrap(),
        &other_phone,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
}

async fn a_new_phone_at_the_counter_revokes_the_old_one(app: TestApp) {
    publish(&app, "police", "can_cuoc", CITIZEN, "CC-1").await;
    publish(&app, "police", "driving_licence", CITIZEN, "GPLX-1").await;
    let old_phone = key();
    let answer = activate(&app, CITIZEN, &old_phone).await;
    let access = answer["access_token"].as_str().unwrap();
    let holder = key();
    for (_, identifier) in identifiers(&answer) {
        assert_eq!(
            receive(&app, access, &old_phone, &identifier, &holder)
                .await
                .status,
            StatusCode::OK
        );
    }
    // The ID card also received through its own offer (a third-party wallet): not the
    // account's, so not revoked with it.
    let offer = app
        .get_with("/api/v1/documents/CC-1", &app.key("police"))
        .await
        .json()["offer"]
        .clone();
    common::receive(
        &app,
        offer["offer_uri_by_reference"].as_str().unwrap(),
        offer["tx_code"].as_str().unwrap(),
        &key(),
    )
    .await;
    assert_eq!(statuses(&app, "police", "CC-1").await, [0, 0]);
    // A wallet that sends a DPoP proof with a document's own offer gets a Bearer token.
    publish(&app, "police", "vehicle_registration", CITIZEN, "DKX-1").await;
    let vehicle = app
        .get_with("/api/v1/documents/DKX-1", &app.key("police"))
        .await
        .json()["offer"]
        .clone();
    let r = redeem(
        &app,
        &vehicle,
        None,
        Some(dpop(&key(), "POST", "/token", None)),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    assert_eq!(r.json()["token_type"], "Bearer");

    let new_phone = key();
    let answer = activate(&app, CITIZEN, &new_phone).await;
    assert_eq!(
        statuses(&app, "police", "CC-1").await,
        [0, 1],
        "the old phone's ID card revoked, the other wallet's kept"
    );
    assert_eq!(
        statuses(&app, "police", "GPLX-1").await,
        [1],
        "the old phone's licence revoked"
    );
    assert_eq!(
        refresh(&app, answer_refresh(&answer), &old_phone)
            .await
            .json()["error"],
        "invalid_grant",
        "the new account's refresh token needs the new key"
    );
    assert_eq!(
        inbox(&app, access, &old_phone, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let access = answer["access_token"].as_str().unwrap();
    let holder = key();
    for (_, identifier) in identifiers(&answer) {
        let r = receive(&app, access, &new_phone, &identifier, &holder).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "reissued to the new phone: {}",
            r.json()
        );
    }
    assert_eq!(statuses(&app, "police", "CC-1").await, [0, 0, 1]);
}

fn answer_refresh(answer: &Value) -> &str {
    answer["refresh_token"].as_str().unwrap()
}

/// One sync by core's account client against the router (refresh, conditional inbox,
/// receive what the vault lacks, apply the inbox's states); its report.
async fn wallet_sync(
    app: &TestApp,
    wallet: &mut giayto_core::wallet::Wallet,
    phone: &SoftwareSigner,
    holder: &SoftwareSigner,
) -> (usize, bool) {
    use giayto_core::wallet::account::{AccountSync, SyncNext};
    let t = now() as i64;
    let (mut sync, mut request) = AccountSync::start(wallet, phone, t).unwrap();
    loop {
        let response = app.perform(&request).await;
        match sync
            .on_response(&response, wallet, phone, holder, "holder", t)
            .unwrap()
        {
            SyncNext::Send(next) => request = next,
            SyncNext::Done(report) => return (report.received.len(), report.unchanged),
        }
    }
}

async fn the_wallet_activates_and_syncs_with_cores_client(app: TestApp) {
    use giayto_core::oid4vci::{OfferSource, fetch_offer_request, on_offer, parse_offer_uri};
    use giayto_core::vault::{Vault, VaultKey};
    use giayto_core::wallet::account::Activation;
    publish(&app, "police", "can_cuoc", CITIZEN, "CC-1").await;
    publish(&app, "justice", "judicial_record", CITIZEN, "LLTP-1").await;
    let offer = start_activation(&app, "police", CITIZEN).await.json()["offer"].clone();
    let OfferSource::ByReference(url) =
        parse_offer_uri(offer["offer_uri_by_reference"].as_str().unwrap()).unwrap()
    else {
        panic!("by reference")
    };
    let offer_object = on_offer(&app.perform(&fetch_offer_request(&url).unwrap()).await).unwrap();
    let phone = key();
    let (activation, request) = Activation::new(offer_object).unwrap();
    let mut activation = activation;
    let request = activation
        .on_issuer_metadata(&app.perform(&request).await)
        .unwrap();
    let spec = activation
        .on_as_metadata(&app.perform(&request).await)
        .unwrap();
    assert_eq!(spec.unwrap().length, Some(6));
    let request = activation
        .token_request(
            offer["tx_code"].as_str(),
            &phone,
            now() as i64,
            &giayto_core::oid4vci::new_jti().unwrap(),
        )
        .unwrap();
    let (stored, _access) = activation
        .on_token(&app.perform(&request).await, "account")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::create(dir.path().join("v"), &VaultKey::from_bytes([7; 32])).unwrap();
    let mut wallet = giayto_core::wallet::Wallet::new(vault);
    wallet.set_account(stored).unwrap();
    let holder = key();

    assert_eq!(
        wallet_sync(&app, &mut wallet, &phone, &holder).await,
        (2, false)
    );
    assert_eq!(wallet.documents().unwrap().len(), 2);
    assert_eq!(
        wallet_sync(&app, &mut wallet, &phone, &holder).await,
        (0, true),
        "nothing changed: one 304"
    );
    // A third agency publishes, one reissues, one revokes: the next sync has it all.
    publish(
        &app,
        "social-insurance",
        "health_insurance_card",
        CITIZEN,
        "BHYT-1",
    )
    .await;
    let mut claims = example_claims("judicial_record").unwrap();
    claims["purpose"] = json!("Bổ sung hồ sơ");
    let r = app
        .send_json(
            "POST",
            "/api/v1/documents/LLTP-1/reissue",
            Some(&app.key("justice")),
            &json!({ "claims": claims }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    app.send_json(
        "POST",
        "/api/v1/documents/CC-1/suspend",
        Some(&app.key("police")),
        &json!({}),
    )
    .await;
    assert_eq!(
        wallet_sync(&app, &mut wallet, &phone, &holder).await,
        (2, false)
    );
    let held = wallet.vault().list();
    assert_eq!(held.len(), 3, "the reissued record replaced, not added");
    let state_of = |doc: &str| {
        held.iter()
            .find_map(|s| s.account.as_ref().filter(|a| a.document_id == doc))
            .map(|a| (a.version, a.state.clone()))
            .unwrap()
    };
    assert_eq!(state_of("LLTP-1"), (2, "valid".to_owned()));
    assert_eq!(state_of("CC-1"), (1, "suspended".to_owned()));
    assert_eq!(state_of("BHYT-1"), (1, "valid".to_owned()));
    let history = &wallet.account().unwrap().inbox;
    assert_eq!(history.len(), 3);
    assert!(history.iter().any(|e| e.publisher.id == "social-insurance"));
}

async fn transfer(app: &TestApp, access: &str, phone: &SoftwareSigner) -> Reply {
    app.call(
        Request::post("/account/transfer")
            .header("authorization", format!("DPoP {access}"))
            .header(
                "dpop",
                dpop(phone, "POST", "/account/transfer", Some(access)),
            )
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

async fn a_transfer_from_the_old_phone_moves_the_account(app: TestApp) {
    publish(&app, "police", "can_cuoc", CITIZEN, "CC-1").await;
    let old_phone = key();
    let answer = activate(&app, CITIZEN, &old_phone).await;
    let access = answer["access_token"].as_str().unwrap();
    let (_, identifier) = identifiers(&answer)[0].clone();
    let r = receive(&app, access, &old_phone, &identifier, &key()).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(statuses(&app, "police", "CC-1").await, [0]);

    // Only the account's own key may ask.
    let r = transfer(&app, access, &key()).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app
        .call(
            Request::post("/account/transfer")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = transfer(&app, access, &old_phone).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json());
    let offer = r.json()["offer"].clone();
    // Until the new phone redeems it, the old phone keeps working.
    assert_eq!(
        inbox(&app, access, &old_phone, None).await.status,
        StatusCode::OK
    );

    let new_phone = key();
    let r = redeem(
        &app,
        &offer,
        None,
        Some(dpop(&new_phone, "POST", "/token", None)),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    let answer = r.json();
    assert_eq!(
        statuses(&app, "police", "CC-1").await,
        [1],
        "the old phone's ID card revoked when the new phone took the account"
    );
    assert_eq!(
        inbox(&app, access, &old_phone, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let access = answer["access_token"].as_str().unwrap();
    let (_, identifier) = identifiers(&answer)[0].clone();
    let r = receive(&app, access, &new_phone, &identifier, &key()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    assert_eq!(statuses(&app, "police", "CC-1").await, [0, 1]);
}

const CHILD: &str = "079216000333";

/// Verifies `credential` presented at `t` (claims `paths`, bound to `holder`) as a verifier
/// would at `t`: the served trust list, the credential's status list.
async fn verify_at(
    app: &TestApp,
    credential: &str,
    holder: &SoftwareSigner,
    paths: &[&str],
    t: i64,
) -> giayto_core::verifier::Verdict {
    use giayto_core::jose::Jwks;
    use giayto_core::sd_jwt::SdJwt;
    use giayto_core::status_list::StatusCache;
    use giayto_core::trust_list::TrustList;
    use giayto_core::verifier::{IssuerTrust, Policy, verify_presentation};
    const AUD: &str = "https://hospital.example/desk";
    let anchor: Jwks = serde_json::from_slice(&app.get("/trust-anchor.json").await.body).unwrap();
    let token = String::from_utf8(app.get("/trust-list").await.body).unwrap();
    let trust = TrustList::verify(&token, &anchor.keys[0], t, 0).unwrap();
    let payload: Value =
        giayto_core::jose::jws::CompactJws::parse(credential.split('~').next().unwrap())
            .unwrap()
            .payload_json()
            .unwrap();
    let uri = payload["status"]["status_list"]["uri"].as_str().unwrap();
    let list =
        String::from_utf8(app.get(uri.strip_prefix(PUBLIC_URL).unwrap()).await.body).unwrap();
    let iss = payload["iss"].as_str().unwrap();
    let verified =
        giayto_core::status_list::verify_token(&list, uri, &trust.issuer(iss).unwrap().jwks, t)
            .unwrap();
    let mut statuses = StatusCache::new();
    statuses.insert(verified, t);
    let presentation = SdJwt::parse(credential)
        .unwrap()
        .present_with_key_binding(paths, AUD, "n-0123456789", t, holder)
        .unwrap();
    let policy = Policy {
        accepted_audiences: Some(vec![AUD.to_owned()]),
        expected_nonce: Some("n-0123456789".to_owned()),
        ..Policy::default()
    };
    verify_presentation(
        &presentation,
        &policy,
        &IssuerTrust::TrustList(trust),
        &statuses,
        t,
    )
}

async fn guardians_hold_their_wards_documents_until_the_guardianship_ends(app: TestApp) {
    publish(&app, "police", "can_cuoc", CITIZEN, "CC-1").await;
    publish(
        &app,
        "social-insurance",
        "health_insurance_card",
        CHILD,
        "BHYT-CHILD",
    )
    .await;
    publish(&app, "police", "can_cuoc", CHILD, "CC-CHILD").await;
    let t = now() as i64;
    let ends_at = t + 3600;

    // Only the police record guardianships, and only for a child not yet 14.
    let body = json!({"guardian_citizen_id": CITIZEN, "child_citizen_id": CHILD, "child_birth_date": "2016-05-01", "ends_at": ends_at});
    let r = app
        .send_json(
            "POST",
            "/api/v1/guardianships",
            Some(&app.key("justice")),
            &body,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let grown = json!({"guardian_citizen_id": CITIZEN, "child_citizen_id": CHILD, "child_birth_date": "2000-05-01"});
    let r = app
        .send_json(
            "POST",
            "/api/v1/guardianships",
            Some(&app.key("police")),
            &grown,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a 25-year-old has no guardian"
    );
    let r = app
        .send_json(
            "POST",
            "/api/v1/guardianships",
            Some(&app.key("police")),
            &body,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json());
    assert_eq!(
        r.json()["ends_at"],
        ends_at,
        "the earlier of the end date and the 14th birthday"
    );
    let guardianship = r.json()["id"].as_str().unwrap().to_owned();

    // The child's documents are in the guardian's inbox, on the child's behalf.
    let phone = key();
    let answer = activate(&app, CITIZEN, &phone).await;
    let access = answer["access_token"].as_str().unwrap().to_owned();
    let inbox_body = inbox(&app, &access, &phone, None).await.json();
    let card = entry(&inbox_body, "BHYT-CHILD");
    assert_eq!(card["on_behalf_of"], CHILD);
    assert!(entry(&inbox_body, "CC-1").get("on_behalf_of").is_none());
    let identifier = card["credential_identifier"].as_str().unwrap().to_owned();

    // Issued to the guardian's key, naming the guardian, ending with the guardianship.
    let holder = key();
    let r = receive(&app, &access, &phone, &identifier, &holder).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    let credential = r.json()["credentials"][0]["credential"]
        .as_str()
        .unwrap()
        .to_owned();
    // A hospital's verifier accepts it and sees who presented it.
    let verdict = verify_at(&app, &credential, &holder, &["full_name"], t).await;
    assert!(verdict.valid, "{:?}", verdict.errors);
    let representation = &verdict.claims_json["representation"];
    assert_eq!(representation["type"], "guardian");
    assert_eq!(representation["representative"]["personal_id"], CITIZEN);
    assert_eq!(
        representation["representative"]["full_name"],
        example_claims("can_cuoc").unwrap()["full_name"],
        "the name on the guardian's own ID card"
    );
    // The clock passes the end (the child turns 14, or the end date): refused as expired.
    let verdict = verify_at(&app, &credential, &holder, &["full_name"], ends_at + 600).await;
    assert!(!verdict.valid);
    assert!(
        verdict
            .errors
            .iter()
            .any(|f| f.code == giayto_core::verifier::FailureCode::Expired),
        "{:?}",
        verdict.errors
    );

    // Ended early by the police: the guardian's copy is revoked, the child's documents
    // leave the guardian's inbox, and its identifier is unknown to the guardian.
    let r = app
        .send_json(
            "POST",
            &format!("/api/v1/guardianships/{guardianship}/end"),
            Some(&app.key("police")),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    assert_eq!(r.json()["revoked_credentials"], 1);
    assert_eq!(statuses(&app, "social-insurance", "BHYT-CHILD").await, [1]);
    let inbox_body = inbox(&app, &access, &phone, None).await.json();
    assert!(
        inbox_body["documents"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["document_id"] != "BHYT-CHILD"),
        "{inbox_body}"
    );
    let r = receive(&app, &access, &phone, &identifier, &holder).await;
    assert_eq!(
        r.json()["error"],
        "unknown_credential_identifier",
        "a ward after the guardianship ended"
    );
    // The documents go to the child's own account.
    let child_phone = key();
    let child = activate(&app, CHILD, &child_phone).await;
    let mut configurations: Vec<String> = identifiers(&child).into_iter().map(|(c, _)| c).collect();
    configurations.sort();
    assert_eq!(configurations, ["can_cuoc", "health_insurance_card"]);
    let child_access = child["access_token"].as_str().unwrap();
    let child_holder = key();
    let (_, card_id) = identifiers(&child)
        .into_iter()
        .find(|(c, _)| c == "health_insurance_card")
        .unwrap();
    let r = receive(&app, child_access, &child_phone, &card_id, &child_holder).await;
    let own = r.json()["credentials"][0]["credential"]
        .as_str()
        .unwrap()
        .to_owned();
    let verdict = verify_at(&app, &own, &child_holder, &["full_name"], t).await;
    assert!(verdict.valid, "{:?}", verdict.errors);
    assert!(verdict.claims_json.get("representation").is_none());
}
