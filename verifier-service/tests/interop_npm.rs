//! Issue 15 interoperability: an independent OpenID4VP 1.0 wallet library from npm
//! (`@openid4vc/openid4vp`, tests/desk/interop.mjs) answers the giayto verifier over HTTP
//! with nothing but the spec: it resolves the `openid4vp://` invocation, fetches and
//! verifies the request object (JAR, `x509_hash`), builds and encrypts the `direct_post.jwt`
//! response and posts it; the desk reads a valid verdict. The SD-JWT VC presentation itself
//! is made by giayto-core for the client id and nonce the library resolved (the library has
//! no SD-JWT code).
//!
//! Needs `npm ci` in tests/desk: `scripts/test-desk.sh` installs it and runs this test (it
//! is ignored by a plain `cargo test`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use giayto_core::wallet::Selection;
use giayto_verifier::store::Limits;
use serde_json::Value;
use support::*;

/// A bound on the run, so a hang fails the test (behaviour, not speed).
const RUN_BOUND: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs npm packages: run scripts/test-desk.sh"]
async fn an_independent_npm_wallet_library_answers_the_giayto_verifier() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let world = world_at(
        Limits {
            request_ttl: 300,
            result_ttl: 600,
            max_requests: 64,
        },
        &base,
    );
    let app = world.app.clone();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let created = world
        .desk_request(DESK, "health_insurance_card", "insurance_check")
        .await;
    let ca = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca.path(), &world.certs.ca_pem).unwrap();

    let mut wallet = NodeScript::spawn(
        "interop.mjs",
        &[
            created["openid4vp_uri"].as_str().unwrap(),
            ca.path().to_str().unwrap(),
        ],
        &[("GIAYTO_TEST_NOW", world.now().to_string())],
    );
    let run = async {
        let request: Value = serde_json::from_str(&wallet.next("REQUEST").await).unwrap();
        assert_eq!(request["prefix"], "x509_hash");
        assert_eq!(request["client_id"], world.service.client_id());
        assert_eq!(
            request["version"], 100,
            "the library read it as OpenID4VP 1.0 final"
        );
        let presentation = present(
            &world,
            &world.credential(3),
            Selection::Preset("insurance_check".into()),
            request["client_id"].as_str().unwrap(),
            request["nonce"].as_str().unwrap(),
        );
        wallet.send(&presentation).await;
        let submitted = wallet.next("SUBMITTED").await;
        assert!(submitted.starts_with("200 "), "{submitted}");
        wallet.succeeds().await;
    };
    tokio::time::timeout(RUN_BOUND, run)
        .await
        .expect("the wallet run did not finish");

    let view = world
        .desk_view(DESK, created["id"].as_str().unwrap())
        .await
        .json();
    assert_eq!(view["state"], "answered", "{view}");
    assert_eq!(view["result"]["valid"], true, "{view}");
    assert_eq!(
        view["result"]["credentials"][0]["verdict"]["holder_binding"]["state"],
        "verified"
    );
}
