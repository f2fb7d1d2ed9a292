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
    one_batch_gives_each_request_its_own_answer,
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

/// One group-commit batch (the batcher held while the requests queue) mixing a nonce used
/// before, a suspended document, a document over its window bound and good requests: each
/// gets the answer it would get alone, and the refused ones leave no `single_uses` row (their
/// token still works). A second request with a good request's token waits for the next
/// batch and is refused as a used token: one success per token, as one after another.
async fn one_batch_gives_each_request_its_own_answer(app: TestApp) {
    let mut tokens = Vec::new();
    for id in [
        "mix-used",
        "mix-good-1",
        "mix-reused-nonce",
        "mix-suspended",
        "mix-over",
        "mix-good-2",
    ] {
        tokens.push(
            granted(&app, id).await["access_token"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    // A nonce spent by an earlier issuance.
    let spent = app.nonce().await;
    assert_eq!(
        app.request_credential_with(&tokens[0], &spent).await.0,
        StatusCode::OK
    );
    let reply = app
        .send_json(
            "POST",
            "/api/v1/documents/mix-suspended/suspend",
            Some(&app.key("police")),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    sqlx::query(
        "UPDATE documents SET credentials_window_start = $1, credentials_in_window = $2 WHERE id = $3",
    )
    .bind(common::now() as i64)
    .bind(MAX_CREDENTIALS_PER_WINDOW)
    .bind(document_row_id(&app, "mix-over").await)
    .execute(app.services.db.writer())
    .await
    .unwrap();

    let mut nonces = Vec::new();
    for _ in 0..5 {
        nonces.push(app.nonce().await);
    }
    // (token, nonce) per request: good, spent nonce, suspended, over bound, good, and a
    // second use of the first good request's token.
    let requests = [
        (&tokens[1], &nonces[0]),
        (&tokens[2], &spent),
        (&tokens[3], &nonces[1]),
        (&tokens[4], &nonces[2]),
        (&tokens[5], &nonces[3]),
        (&tokens[1], &nonces[4]),
    ];
    let single_uses = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM single_uses")
            .fetch_one(app.services.db.pool())
            .await
            .unwrap()
    };
    let uses_before = single_uses().await;
    let batcher = &app.services.batchers.credentials;
    let batches = batcher.stats().batches();
    let mut queued = batcher.queued();
    let held = batcher.hold().await;
    let (replies, ()) = tokio::join!(
        join_all(
            requests
                .iter()
                .map(|(t, n)| app.request_credential_with(t, n))
        ),
        async move {
            queued.wait_for(|&n| n == requests.len()).await.unwrap();
            drop(held);
        }
    );
    let answer = |i: usize| {
        (
            replies[i].0,
            replies[i].1["error"].as_str().map(str::to_owned),
        )
    };
    // Of the two requests with one token, the one that reached the batcher first wins.
    let used = (StatusCode::UNAUTHORIZED, Some("invalid_token".to_owned()));
    let loser = if answer(0) == used { 0 } else { 5 };
    assert_eq!(answer(5 - loser), (StatusCode::OK, None), "{replies:?}");
    assert_eq!(answer(loser), used, "{replies:?}");
    assert_eq!(
        answer(1),
        (StatusCode::BAD_REQUEST, Some("invalid_nonce".into()))
    );
    assert_eq!(
        answer(2),
        (
            StatusCode::BAD_REQUEST,
            Some("credential_request_denied".into())
        )
    );
    let description = |i: usize| {
        replies[i].1["error_description"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(
        description(2).contains("revoked, suspended or re-issued"),
        "{replies:?}"
    );
    assert_eq!(
        answer(3),
        (
            StatusCode::BAD_REQUEST,
            Some("credential_request_denied".into())
        )
    );
    assert!(
        description(3).contains(&format!("at most {MAX_CREDENTIALS_PER_WINDOW} credentials")),
        "{replies:?}"
    );
    assert_eq!(answer(4), (StatusCode::OK, None));
    // The five distinct requests in one batch, the token's second use in the next.
    assert_eq!(batcher.stats().batches() - batches, 2);
    // Only the good requests' nonces and token uses were kept.
    assert_eq!(single_uses().await - uses_before, 4);
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM single_uses WHERE id IN ($1, $2, $3)")
        .bind(&nonces[1])
        .bind(&nonces[2])
        .bind(if loser == 0 { &nonces[0] } else { &nonces[4] })
        .fetch_one(app.services.db.pool())
        .await
        .unwrap();
    assert_eq!(kept, 0);
    // The request refused for its spent nonce did not use its token.
    assert_eq!(app.request_credential(&tokens[2]).await.0, StatusCode::OK);
}

/// The internal row id of the agency's document `external_id`.
async fn document_row_id(app: &TestApp, external_id: &str) -> String {
    sqlx::query_scalar("SELECT id FROM documents WHERE external_id = $1")
        .bind(external_id)
        .fetch_one(app.services.db.pool())
        .await
        .unwrap()
}
