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

use std::process::Stdio;
use std::time::Duration;

use giayto_core::wallet::Selection;
use giayto_verifier::store::Limits;
use serde_json::Value;
use support::*;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// A bound on the run, so a hang fails the test (behaviour, not speed).
const RUN_BOUND: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs npm packages: run scripts/test-desk.sh"]
async fn an_independent_npm_wallet_library_answers_the_giayto_verifier() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/desk");
    assert!(
        std::path::Path::new(&format!("{dir}/node_modules/@openid4vc/openid4vp")).exists(),
        "run `npm ci` in verifier-service/tests/desk (scripts/test-desk.sh does)"
    );
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

    let mut wallet = tokio::process::Command::new("node")
        .arg(format!("{dir}/interop.mjs"))
        .arg(created["openid4vp_uri"].as_str().unwrap())
        .arg(ca.path())
        .env("GIAYTO_TEST_NOW", world.now().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("node");
    let mut stdin = wallet.stdin.take().unwrap();
    let mut lines = BufReader::new(wallet.stdout.take().unwrap()).lines();
    let run = async {
        let mut next = async |prefix: &str| loop {
            let line = lines
                .next_line()
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("interop.mjs ended before {prefix}"));
            if let Some(rest) = line.strip_prefix(prefix) {
                return rest.trim().to_owned();
            }
            eprintln!("interop.mjs: {line}");
        };
        let request: Value = serde_json::from_str(&next("REQUEST").await).unwrap();
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
        stdin
            .write_all(format!("{presentation}\n").as_bytes())
            .await
            .unwrap();
        stdin.flush().await.unwrap();
        drop(stdin);
        let submitted = next("SUBMITTED").await;
        assert!(submitted.starts_with("200 "), "{submitted}");
        assert!(wallet.wait().await.unwrap().success());
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
