//! The stateless tokens of a document's offer (issue 17) keep what the stored ones gave:
//! single-use codes, access tokens (per configuration) and refresh tokens under races
//! (the security review's 30 parallel redemptions and 20 parallel requests with one
//! token), tokens void when the redemption that gave them is lost, and the per-document
//! credential bound as a fixed window on the document row; on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use axum::http::StatusCode;
use common::TestApp;
use futures_util::future::join_all;
use giayto_server::domain::issuance::{CREDENTIAL_WINDOW_SECS, MAX_CREDENTIALS_PER_WINDOW};
use serde_json::Value;

on_both_databases!(
    thirty_parallel_redemptions_of_one_code_give_one_grant,
    twenty_parallel_requests_with_one_token_issue_once,
    parallel_refreshes_with_one_refresh_token_give_one_grant,
    a_lost_redemption_voids_the_tokens_it_gave,
    the_credential_window_is_fixed_and_refusals_say_why,
);

fn redeem_form(offer: &Value) -> String {
    let (code, tx_code) = common::offer_secrets(offer);
    common::redeem_form(&code, &tx_code)
}

/// Publishes `id` and redeems its offer: the token response.
async fn granted(app: &TestApp, id: &str) -> Value {
    let offer = app.publish_id_card(id).await.json()["offer"].clone();
    let (status, grant) = app.token_form(&redeem_form(&offer)).await;
    assert_eq!(status, StatusCode::OK, "{grant}");
    grant
}

async fn thirty_parallel_redemptions_of_one_code_give_one_grant(app: TestApp) {
    let offer = app.publish_id_card("race-code").await.json()["offer"].clone();
    let form = redeem_form(&offer);
    let replies = join_all((0..30).map(|_| app.token_form(&form))).await;
    let granted: Vec<_> = replies
        .iter()
        .filter(|(s, _)| *s == StatusCode::OK)
        .collect();
    assert_eq!(granted.len(), 1, "{replies:?}");
    for (status, body) in replies.iter().filter(|(s, _)| *s != StatusCode::OK) {
        assert_eq!(
            (*status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_grant"))
        );
    }
}

async fn twenty_parallel_requests_with_one_token_issue_once(app: TestApp) {
    let grant = granted(&app, "race-token").await;
    let token = grant["access_token"].as_str().unwrap();
    let replies = join_all((0..20).map(|_| app.request_credential(token))).await;
    let issued = replies.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert_eq!(issued, 1, "{replies:?}");
    for (status, body) in replies.iter().filter(|(s, _)| *s != StatusCode::OK) {
        assert_eq!(
            (*status, body["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_token"))
        );
    }
    let credentials: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM credentials WHERE document_id = $1")
            .bind(document_row_id(&app, "race-token").await)
            .fetch_one(app.services.db.pool())
            .await
            .unwrap();
    assert_eq!(credentials, 1);
}

async fn parallel_refreshes_with_one_refresh_token_give_one_grant(app: TestApp) {
    let grant = granted(&app, "race-refresh").await;
    let refresh = grant["refresh_token"].as_str().unwrap();
    let form = common::refresh_form(refresh);
    let replies = join_all((0..10).map(|_| app.token_form(&form))).await;
    let rotated: Vec<&Value> = replies
        .iter()
        .filter(|(s, _)| *s == StatusCode::OK)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(rotated.len(), 1, "{replies:?}");
    // The winner's tokens work: a new refresh token once, a new access token for a batch.
    let next = rotated[0]["refresh_token"].as_str().unwrap();
    assert_ne!(next, refresh);
    let (status, body) = app
        .request_credential(rotated[0]["access_token"].as_str().unwrap())
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The first access token (not used yet) still works: a refresh ends the refresh token
    // used, not the access tokens given before it, which end with their expiry.
    let (status, body) = app
        .request_credential(grant["access_token"].as_str().unwrap())
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        app.token_form(&common::refresh_form(next)).await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.token_form(&common::refresh_form(next)).await.1["error"],
        "invalid_grant"
    );
}

/// The redemption commits without waiting for the disk: a crash may lose it, leaving the
/// offer open at its old generation. The tokens it gave must then be worthless (else a
/// second redemption of the code would give a second holder of the document).
async fn a_lost_redemption_voids_the_tokens_it_gave(app: TestApp) {
    let grant = granted(&app, "lost-redemption").await;
    // What a crash before the relaxed commit reached the disk leaves.
    sqlx::query("UPDATE offers SET state = 'open', token_generation = 0 WHERE document_id = $1")
        .bind(document_row_id(&app, "lost-redemption").await)
        .execute(app.services.db.writer())
        .await
        .unwrap();
    let (status, body) = app
        .request_credential(grant["access_token"].as_str().unwrap())
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_token")),
        "{body}"
    );
    let refresh = grant["refresh_token"].as_str().unwrap();
    assert_eq!(
        app.token_form(&common::refresh_form(refresh)).await.1["error"],
        "invalid_grant"
    );
}

async fn the_credential_window_is_fixed_and_refusals_say_why(app: TestApp) {
    let grant = granted(&app, "window-1").await;
    let token = grant["access_token"].as_str().unwrap();
    let document = document_row_id(&app, "window-1").await;
    let window = |start: i64, count: i64| {
        let db = app.services.db.clone();
        let document = document.clone();
        async move {
            sqlx::query(
                "UPDATE documents SET credentials_window_start = $1, credentials_in_window = $2 WHERE id = $3",
            )
            .bind(start)
            .bind(count)
            .bind(document)
            .execute(db.writer())
            .await
            .unwrap();
        }
    };
    let t = common::now() as i64;
    // The bound reached within the current window: refused as such, nothing recorded.
    window(t - 10, MAX_CREDENTIALS_PER_WINDOW).await;
    let (status, body) = app.request_credential(token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "credential_request_denied");
    let description = body["error_description"].as_str().unwrap();
    assert!(
        description.contains(&format!("at most {MAX_CREDENTIALS_PER_WINDOW} credentials")),
        "{body}"
    );
    // Once that window has ended a new one starts with this issuance (and the token's use
    // was rolled back with the refusal, so the same token still works).
    window(t - CREDENTIAL_WINDOW_SECS - 1, MAX_CREDENTIALS_PER_WINDOW).await;
    let (status, body) = app.request_credential(token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (start, count): (i64, i64) = sqlx::query_as(
        "SELECT credentials_window_start, credentials_in_window FROM documents WHERE id = $1",
    )
    .bind(&document)
    .fetch_one(app.services.db.pool())
    .await
    .unwrap();
    assert!(start >= t, "a new window from this issuance: {start} < {t}");
    assert_eq!(count, 1);
    // A suspended document is refused as such, not as over its bound.
    let grant = granted(&app, "window-2").await;
    let reply = app
        .send_json(
            "POST",
            "/api/v1/documents/window-2/suspend",
            Some(&app.key("police")),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let (status, body) = app
        .request_credential(grant["access_token"].as_str().unwrap())
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("revoked, suspended or re-issued"),
        "{body}"
    );
}

/// The internal row id of the agency's document `external_id`.
async fn document_row_id(app: &TestApp, external_id: &str) -> String {
    sqlx::query_scalar("SELECT id FROM documents WHERE external_id = $1")
        .bind(external_id)
        .fetch_one(app.services.db.pool())
        .await
        .unwrap()
}
