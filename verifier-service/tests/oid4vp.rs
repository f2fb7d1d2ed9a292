//! Issue 15, the verifier service in process: a desk makes a request, a wallet written
//! from the spec answers, the desk reads the verdict; and each refusal: a replayed
//! response, a response for another request (by `state`, by `kid`), an expired request, a
//! tampered JWE, a revoked credential, a key-binding proof for another nonce, a response
//! that does not answer the query; desks read only their own results; the store is bounded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::StatusCode;
use giayto_core::wallet::Selection;
use giayto_verifier::store::{Limits, MAX_PER_DESK};
use serde_json::{Value, json};
use support::*;

fn insurance_check() -> Selection {
    Selection::Preset("insurance_check".into())
}

async fn answered(world: &World, desk: &str, id: &str) -> Value {
    let view = world.desk_view(desk, id).await;
    assert_eq!(view.status, StatusCode::OK, "{}", view.text());
    let view = view.json();
    assert_eq!(view["state"], "answered", "{view}");
    view["result"].clone()
}

fn error_codes(result: &Value) -> Vec<String> {
    result["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["verdict"]["errors"].as_array().unwrap().clone())
        .map(|e| e["code"].as_str().unwrap().to_owned())
        .collect()
}

/// The desk asks for the insurance check: the created request's JSON.
async fn ask(world: &World) -> Value {
    world
        .desk_request(DESK, "health_insurance_card", "insurance_check")
        .await
}

/// A request the desk made and the wallet fetched and verified.
async fn fetched(world: &World) -> (Value, WalletRequest) {
    let created = ask(world).await;
    let (request, _) =
        wallet_answer(world, &created, &world.credential(3), insurance_check()).await;
    (created, request)
}

/// The card's insurance-check presentation key-bound to `aud` and `nonce`.
fn card_for(world: &World, aud: &str, nonce: &str) -> String {
    present(world, &world.credential(3), insurance_check(), aud, nonce)
}

/// The state of the request `created` as its desk sees it.
async fn state_of(world: &World, created: &Value) -> Value {
    world
        .desk_view(DESK, created["id"].as_str().unwrap())
        .await
        .json()["state"]
        .clone()
}

#[tokio::test]
async fn a_desk_asks_for_a_preset_and_reads_the_verdict_of_a_wallet_written_from_the_spec() {
    let world = world();
    let created = ask(&world).await;
    assert!(
        created["openid4vp_uri"]
            .as_str()
            .unwrap()
            .starts_with("openid4vp://?client_id=x509_hash%3A")
    );
    assert!(
        created["haip_uri"]
            .as_str()
            .unwrap()
            .starts_with("haip-vp://?client_id=x509_hash%3A")
    );
    let id = created["id"].as_str().unwrap();
    assert_eq!(world.desk_view(DESK, id).await.json()["state"], "pending");

    let (request, jwe) =
        wallet_answer(&world, &created, &world.credential(3), insurance_check()).await;
    // The request object as the contract and OpenID4VP 1.0 say.
    assert_eq!(request.claims["response_type"], "vp_token");
    assert_eq!(request.claims["response_mode"], "direct_post.jwt");
    assert_eq!(request.claims["aud"], "https://self-issued.me/v2");
    assert_eq!(
        request.header["x5c"].as_array().unwrap().len(),
        1,
        "leaf only, no anchor"
    );
    let jwk = request.enc_jwk();
    assert_eq!(
        (
            jwk["use"].as_str(),
            jwk["alg"].as_str(),
            jwk["crv"].as_str()
        ),
        (Some("enc"), Some("ECDH-ES"), Some("P-256"))
    );
    assert!(
        jwk.get("d").is_none(),
        "the private key never leaves the service"
    );
    assert_eq!(
        request.claims["client_metadata"]["encrypted_response_enc_values_supported"],
        json!(["A128GCM", "A256GCM"])
    );
    let query = &request.claims["dcql_query"]["credentials"][0];
    assert_eq!(query["format"], "dc+sd-jwt");
    assert_eq!(
        query["meta"]["vct_values"],
        json!([HIC, format!("{HIC}/insurance_check")])
    );
    assert_eq!(
        world.desk_view(DESK, id).await.json()["fetched"],
        true,
        "the desk sees the wallet fetched the request"
    );

    let answer = world
        .post_form(&request.response_path(), &[("response", &jwe)])
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.json(), json!({}));

    let result = answered(&world, DESK, id).await;
    assert_eq!(result["valid"], true, "{result}");
    let verdict = &result["credentials"][0]["verdict"];
    assert_eq!(verdict["document_type"]["name"]["vi"], "Thẻ bảo hiểm y tế");
    assert_eq!(verdict["issuer"]["name"]["en"], "Vietnam Social Security");
    assert_eq!(verdict["holder_binding"]["state"], "verified");
    assert_eq!(verdict["holder_binding"]["aud"], request.client_id());
    assert_eq!(verdict["status"], "valid");
    let paths: Vec<&str> = verdict["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert_eq!(&paths[..2], ["card_number", "full_name"], "catalogue order");
    assert!(verdict["claims"][0]["label"]["vi"].is_string());
}

#[tokio::test]
async fn a_replayed_response_is_refused_and_the_first_verdict_stands() {
    let world = world();
    let created = ask(&world).await;
    let (request, jwe) =
        wallet_answer(&world, &created, &world.credential(3), insurance_check()).await;
    let first = world
        .post_form(&request.response_path(), &[("response", &jwe)])
        .await;
    assert_eq!(first.status, StatusCode::OK);
    let again = world
        .post_form(&request.response_path(), &[("response", &jwe)])
        .await;
    assert_eq!(again.status, StatusCode::GONE, "{}", again.text());
    assert!(again.text().contains("already answered"));
    let result = answered(&world, DESK, created["id"].as_str().unwrap()).await;
    assert_eq!(result["valid"], true);
    // The request object is not served again either: the request is used up.
    let (_, path) = parse_invocation(created["openid4vp_uri"].as_str().unwrap());
    assert_eq!(world.get(&path, None).await.status, StatusCode::GONE);
}

#[tokio::test]
async fn a_response_carrying_another_requests_state_is_refused_and_leaves_the_request_open() {
    let world = world();
    let a = ask(&world).await;
    let b = ask(&world).await;
    let (request_a, _) = wallet_answer(&world, &a, &world.credential(3), insurance_check()).await;
    let (request_b, _) = wallet_answer(&world, &b, &world.credential(3), insurance_check()).await;
    // Presentation for A, encrypted to A's key, but carrying B's state.
    let presentation = card_for(&world, request_a.client_id(), request_a.nonce());
    let jwe = encrypted_response(
        &request_a,
        "health_insurance_card",
        &[presentation],
        request_b.state(),
        None,
        "A128GCM",
    );
    let answer = world
        .post_form(&request_a.response_path(), &[("response", &jwe)])
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text());
    assert!(answer.text().contains("state"));
    for created in [&a, &b] {
        let view = world
            .desk_view(DESK, created["id"].as_str().unwrap())
            .await
            .json();
        assert_eq!(view["state"], "pending");
    }
}

#[tokio::test]
async fn a_response_encrypted_to_one_request_but_naming_anothers_kid_is_refused() {
    let world = world();
    let a = ask(&world).await;
    let b = ask(&world).await;
    let (request_a, _) = wallet_answer(&world, &a, &world.credential(3), insurance_check()).await;
    let (request_b, _) = wallet_answer(&world, &b, &world.credential(3), insurance_check()).await;
    let presentation = card_for(&world, request_b.client_id(), request_b.nonce());
    let kid_b = request_b.enc_jwk()["kid"].as_str().unwrap().to_owned();
    let jwe = encrypted_response(
        &request_a,
        "health_insurance_card",
        &[presentation],
        request_b.state(),
        Some(&kid_b),
        "A128GCM",
    );
    let answer = world
        .post_form(&request_b.response_path(), &[("response", &jwe)])
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text());
    assert!(
        answer.text().contains("does not decrypt"),
        "{}",
        answer.text()
    );
    assert_eq!(state_of(&world, &b).await, "pending");
}

#[tokio::test]
async fn an_expired_request_serves_no_request_object_and_takes_no_response() {
    let world = world();
    let created = ask(&world).await;
    let (request, jwe) =
        wallet_answer(&world, &created, &world.credential(3), insurance_check()).await;
    world.advance(301);
    let (_, path) = parse_invocation(created["openid4vp_uri"].as_str().unwrap());
    let fetch = world.get(&path, None).await;
    assert_eq!(fetch.status, StatusCode::GONE, "{}", fetch.text());
    let answer = world
        .post_form(&request.response_path(), &[("response", &jwe)])
        .await;
    assert_eq!(answer.status, StatusCode::GONE, "{}", answer.text());
    assert!(answer.text().contains("expired"));
}

#[tokio::test]
async fn a_tampered_jwe_is_refused_and_the_request_stays_open_for_the_real_answer() {
    let world = world();
    let created = ask(&world).await;
    let (request, jwe) =
        wallet_answer(&world, &created, &world.credential(3), insurance_check()).await;
    let mut parts: Vec<String> = jwe.split('.').map(str::to_owned).collect();
    // Flip one character of the ciphertext (keeping it base64url).
    let ciphertext = &mut parts[3];
    let first = if ciphertext.starts_with('A') {
        "B"
    } else {
        "A"
    };
    ciphertext.replace_range(0..1, first);
    let tampered = parts.join(".");
    let answer = world
        .post_form(&request.response_path(), &[("response", &tampered)])
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text());
    assert!(answer.text().contains("does not decrypt"));
    let id = created["id"].as_str().unwrap();
    assert_eq!(world.desk_view(DESK, id).await.json()["state"], "pending");
    let real = world
        .post_form(&request.response_path(), &[("response", &jwe)])
        .await;
    assert_eq!(real.status, StatusCode::OK);
    assert_eq!(answered(&world, DESK, id).await["valid"], true);
}

#[tokio::test]
async fn a_revoked_credential_gets_a_refusing_verdict() {
    let world = world();
    let created = ask(&world).await;
    let (request, jwe) = wallet_answer(
        &world,
        &created,
        &world.credential(REVOKED_IDX),
        insurance_check(),
    )
    .await;
    let answer = world
        .post_form(&request.response_path(), &[("response", &jwe)])
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let result = answered(&world, DESK, created["id"].as_str().unwrap()).await;
    assert_eq!(result["valid"], false);
    assert_eq!(result["credentials"][0]["verdict"]["status"], "revoked");
    assert!(
        error_codes(&result).contains(&"revoked".to_owned()),
        "{result}"
    );
}

#[tokio::test]
async fn a_key_binding_proof_made_for_another_nonce_or_verifier_is_refused() {
    let world = world();
    for (aud, nonce, code) in [
        (None, Some("another-nonce"), "nonce_mismatch"),
        (Some("x509_hash:someone-else"), None, "audience_mismatch"),
    ] {
        let (created, request) = fetched(&world).await;
        let presentation = card_for(
            &world,
            aud.unwrap_or(request.client_id()),
            nonce.unwrap_or(request.nonce()),
        );
        let jwe = encrypted_response(
            &request,
            "health_insurance_card",
            &[presentation],
            request.state(),
            None,
            "A256GCM",
        );
        let answer = world
            .post_form(&request.response_path(), &[("response", &jwe)])
            .await;
        assert_eq!(answer.status, StatusCode::OK);
        let result = answered(&world, DESK, created["id"].as_str().unwrap()).await;
        assert_eq!(result["valid"], false);
        assert!(
            error_codes(&result).contains(&code.to_owned()),
            "{code}: {result}"
        );
    }
}

#[tokio::test]
async fn a_presentation_missing_a_requested_claim_does_not_answer_the_query() {
    let world = world();
    let created = ask(&world).await;
    let (request, _) =
        wallet_answer(&world, &created, &world.credential(3), insurance_check()).await;
    let presentation = present(
        &world,
        &world.credential(3),
        Selection::Claims(vec!["full_name".into()]),
        request.client_id(),
        request.nonce(),
    );
    let jwe = encrypted_response(
        &request,
        "health_insurance_card",
        &[presentation],
        request.state(),
        None,
        "A128GCM",
    );
    assert_eq!(
        world
            .post_form(&request.response_path(), &[("response", &jwe)])
            .await
            .status,
        StatusCode::OK
    );
    let result = answered(&world, DESK, created["id"].as_str().unwrap()).await;
    assert_eq!(result["valid"], false, "{result}");
    assert_eq!(
        result["credentials"][0]["verdict"]["valid"], true,
        "the presentation itself verifies"
    );
    let errors = result["errors"].to_string();
    assert!(errors.contains("card_number"), "{errors}");
}

#[tokio::test]
async fn a_wallet_error_response_is_shown_as_declined() {
    let world = world();
    let created = ask(&world).await;
    let (request, _) =
        wallet_answer(&world, &created, &world.credential(3), insurance_check()).await;
    let answer = world
        .post_form(
            &request.response_path(),
            &[("error", "access_denied"), ("state", request.state())],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let result = answered(&world, DESK, created["id"].as_str().unwrap()).await;
    assert_eq!(result["valid"], false);
    assert_eq!(result["wallet_error"], "access_denied");
}

#[tokio::test]
async fn a_result_is_read_only_by_the_desk_that_made_the_request() {
    let world = world();
    let created = ask(&world).await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        world.desk_view(OTHER_DESK, id).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        world.get(&format!("/api/requests/{id}"), None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        world
            .get(&format!("/api/requests/{id}/qr.png"), Some(OTHER_DESK))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let qr = world
        .get(&format!("/api/requests/{id}/qr.png"), Some(DESK))
        .await;
    assert_eq!(qr.status, StatusCode::OK);
    assert_eq!(qr.content_type, "image/png");
    let text = giayto_core::qr::decode_image(&qr.body).unwrap();
    assert_eq!(text, created["openid4vp_uri"].as_str().unwrap());
    // No cookie, no request either.
    let anonymous = world
        .post_json(
            "/api/requests",
            None,
            json!({ "document": "health_insurance_card", "preset": "insurance_check" }),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_store_is_bounded_overall_and_per_desk_and_frees_what_expired() {
    let world = world_with(Limits {
        request_ttl: 60,
        result_ttl: 60,
        max_requests: 3,
    });
    for desk in ["a", "b", "c"] {
        world
            .desk_request(desk, "health_insurance_card", "insurance_check")
            .await;
    }
    let full = world
        .post_json(
            "/api/requests",
            Some("d"),
            json!({ "document": "health_insurance_card", "preset": "insurance_check" }),
        )
        .await;
    assert_eq!(
        full.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        full.text()
    );
    assert_eq!(world.service.held_requests(), 3);
    world.advance(61);
    world
        .desk_request("d", "health_insurance_card", "insurance_check")
        .await;
    assert_eq!(
        world.service.held_requests(),
        1,
        "the expired ones were dropped"
    );

    let world = support::world();
    let mut ids = Vec::new();
    for _ in 0..MAX_PER_DESK + 4 {
        ids.push(
            world
                .desk_request(DESK, "health_insurance_card", "insurance_check")
                .await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
        world.advance(1);
    }
    assert_eq!(world.service.held_requests(), MAX_PER_DESK);
    assert_eq!(
        world.desk_view(DESK, &ids[0]).await.status,
        StatusCode::NOT_FOUND,
        "the oldest went"
    );
    assert_eq!(
        world.desk_view(DESK, ids.last().unwrap()).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn queries_that_break_the_dcql_rules_or_name_no_preset_are_refused() {
    let world = world();
    for body in [
        json!({ "document": "health_insurance_card", "preset": "no_such_preset" }),
        json!({ "document": "no_such_document", "preset": "full" }),
        json!({ "dcql_query": { "credentials": [] } }),
        json!({ "dcql_query": { "credentials": [{ "id": "a b", "format": "dc+sd-jwt", "meta": { "vct_values": [HIC] } }] } }),
        json!({ "dcql_query": { "credentials": [{ "id": "a", "format": "mso_mdoc", "meta": { "vct_values": [HIC] } }] } }),
        json!({ "dcql_query": { "credentials": [{ "id": "a", "format": "dc+sd-jwt", "meta": { "vct_values": [HIC] }, "claim_sets": [["x"]] }] } }),
    ] {
        let answer = world
            .post_json("/api/requests", Some(DESK), body.clone())
            .await;
        assert_eq!(answer.status.as_u16() / 100, 4, "{body}: {}", answer.text());
    }
    assert_eq!(world.service.held_requests(), 0);
}

#[tokio::test]
async fn a_dcql_query_with_claim_set_alternatives_is_answered_by_the_second_option() {
    let world = world();
    let query = json!({ "credentials": [{
        "id": "card",
        "format": "dc+sd-jwt",
        "meta": { "vct_values": [HIC] },
        "claims": [
            { "id": "number", "path": ["card_number"] },
            { "id": "name", "path": ["full_name"] },
            { "id": "birth", "path": ["birth_date"] }
        ],
        "claim_sets": [["number", "birth"], ["name"]]
    }]});
    let created = world
        .post_json("/api/requests", Some(DESK), json!({ "dcql_query": query }))
        .await
        .json();
    let (request, jwe) = wallet_answer(
        &world,
        &created,
        &world.credential(3),
        Selection::Claims(vec!["full_name".into()]),
    )
    .await;
    assert_eq!(
        world
            .post_form(&request.response_path(), &[("response", &jwe)])
            .await
            .status,
        StatusCode::OK
    );
    let result = answered(&world, DESK, created["id"].as_str().unwrap()).await;
    assert_eq!(result["valid"], true, "{result}");
}

#[tokio::test]
async fn an_offline_giayto_qr_typed_by_a_scanner_is_verified_by_the_service() {
    let world = world();
    let qr = giayto_core::wallet::present_credential(
        &world.credential(3),
        &insurance_check(),
        &giayto_core::wallet::Binding::OneWay,
        &world.holder,
        world.now(),
    )
    .unwrap()
    .qr_text;
    // A barcode scanner types the text and presses Enter.
    let answer = world
        .post_json("/api/scan", Some(DESK), json!({ "qr": format!("{qr}\n") }))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let verdict = answer.json();
    assert_eq!(verdict["valid"], true, "{verdict}");
    assert_eq!(verdict["holder_binding"]["state"], "verified");
    let again = world
        .post_json("/api/scan", Some(DESK), json!({ "qr": qr }))
        .await
        .json();
    assert_eq!(again["valid"], false, "the same proof twice is a replay");
    let garbage = world
        .post_json("/api/scan", Some(DESK), json!({ "qr": "HC1:not giayto" }))
        .await
        .json();
    assert_eq!(garbage["errors"][0]["code"], "qr_unreadable");
    assert_eq!(
        world
            .post_json("/api/scan", None, json!({ "qr": qr }))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_response_with_more_presentations_than_the_bound_is_refused_unread() {
    let world = world();
    let created = ask(&world).await;
    let (request, _) =
        wallet_answer(&world, &created, &world.credential(3), insurance_check()).await;
    let one = card_for(&world, request.client_id(), request.nonce());
    let many = vec![one; giayto_verifier::response::MAX_PRESENTATIONS + 1];
    let jwe = encrypted_response(
        &request,
        "health_insurance_card",
        &many,
        request.state(),
        None,
        "A128GCM",
    );
    let answer = world
        .post_form(&request.response_path(), &[("response", &jwe)])
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text());
    assert!(answer.text().contains("presentations"), "{}", answer.text());
    assert_eq!(state_of(&world, &created).await, "pending");
}

#[tokio::test]
async fn a_compressed_jwe_is_refused_before_anything_is_inflated() {
    let world = world();
    let (created, request) = fetched(&world).await;
    // A DEFLATE bomb: a megabyte of zeros that compresses to a few kilobytes.
    let payload = json!({ "vp_token": { "health_insurance_card": ["0".repeat(1 << 20)] }, "state": request.state() });
    let jwk = josekit::jwk::Jwk::from_bytes(request.enc_jwk().to_string().as_bytes()).unwrap();
    let encrypter = josekit::jwe::ECDH_ES.encrypter_from_jwk(&jwk).unwrap();
    let mut header = josekit::jwe::JweHeader::new();
    header.set_content_encryption("A128GCM");
    header.set_key_id(request.enc_jwk()["kid"].as_str().unwrap());
    header.set_compression("DEF");
    let jwe = josekit::jwe::serialize_compact(payload.to_string().as_bytes(), &header, &encrypter)
        .unwrap();
    assert!(jwe.len() < 64 * 1024, "{} bytes", jwe.len());
    let answer = world
        .post_form(&request.response_path(), &[("response", &jwe)])
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text());
    assert!(answer.text().contains("compressed"), "{}", answer.text());
    assert_eq!(state_of(&world, &created).await, "pending");
}

#[tokio::test]
async fn a_same_device_request_sends_the_wallet_back_to_the_desk_page_showing_its_result() {
    let world = world();
    let created = world
        .post_json(
            "/api/requests",
            Some(DESK),
            json!({ "document": "health_insurance_card", "preset": "insurance_check", "same_device": true }),
        )
        .await
        .json();
    let id = created["id"].as_str().unwrap();
    let (request, jwe) =
        wallet_answer(&world, &created, &world.credential(3), insurance_check()).await;
    let answer = world
        .post_form(&request.response_path(), &[("response", &jwe)])
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(
        answer.json()["redirect_uri"],
        format!("https://verifier.benhvien.example/?request={id}")
    );
    assert_eq!(answered(&world, DESK, id).await["valid"], true);
    // The page it lands on reads the result only with the desk's own session.
    assert_eq!(
        world.desk_view(OTHER_DESK, id).await.status,
        StatusCode::NOT_FOUND
    );
}
