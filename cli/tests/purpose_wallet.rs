//! Purpose credentials end to end with the real issuance server (in process, SQLite) and
//! the `giayto` binary: `wallet receive` takes the licence and a batch of each purpose
//! credential, `wallet show` says how many are left, each `present --preset` uses a new one
//! and says how many remain (and when to refill), the fallback is said out loud, `wallet
//! refill` uses the refresh token kept from the issuance, suspension and revocation cover
//! every credential the phone holds, and a reissue's offer brings a new batch.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use common::{run, run_json};
use giayto_core::jose::jws::CompactJws;
use giayto_core::jose::{Jwks, b64};
use giayto_core::oid4vci::{HttpRequest, Method};
use giayto_core::sd_jwt::Presentation;
use giayto_core::vault::{Vault, VaultKey};
use giayto_server::config::Config;
use serde_json::{Value, json};

struct Server {
    url: String,
    police_key: String,
    runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (url, services, listener, police_key) = runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
                .await
                .unwrap();
            let bind = listener.local_addr().unwrap();
            let url = format!("http://{bind}");
            let config = Config {
                bind,
                public_url: url.clone(),
                database_url: format!("sqlite://{}?mode=rwc", dir.path().join("db").display()),
                master_key_file: dir.path().join("master.key"),
                demo: true,
                ..Config::default()
            };
            let services = giayto_server::server::open(config).await.unwrap();
            let keys = giayto_server::demo::seed(&services).await.unwrap();
            let police = keys
                .into_iter()
                .find(|(agency, _)| agency.id == "police")
                .unwrap()
                .1
                .secret;
            (url, services, listener, police)
        });
        runtime.spawn(giayto_server::server::serve_http(
            listener,
            services,
            std::future::pending(),
        ));
        Server {
            url,
            police_key,
            runtime,
            _dir: dir,
        }
    }

    fn call(&self, method: Method, path: &str, body: Option<&Value>) -> (u16, Vec<u8>) {
        let mut headers = vec![(
            "authorization".to_owned(),
            format!("Bearer {}", self.police_key),
        )];
        if body.is_some() {
            headers.push(("content-type".to_owned(), "application/json".to_owned()));
        }
        let request = HttpRequest {
            method,
            url: format!("{}{path}", self.url),
            headers,
            body: body.map(|b| serde_json::to_vec(b).unwrap()),
        };
        let agent = giayto_cli::net::agent();
        let response = self
            .runtime
            .block_on(async {
                tokio::task::spawn_blocking(move || giayto_cli::net::perform(&agent, &request))
                    .await
            })
            .unwrap()
            .unwrap();
        (response.status, response.body)
    }

    fn api(&self, path: &str, body: &Value) -> Value {
        let (status, body) = self.call(Method::Post, path, Some(body));
        assert!((200..300).contains(&status), "{path}: {status}");
        serde_json::from_slice(&body).unwrap()
    }

    /// The status (0 valid, 1 revoked, 2 suspended) of a credential, from its list.
    fn status_of(&self, credential: &str) -> u8 {
        let payload: Value = CompactJws::parse(credential.split('~').next().unwrap())
            .unwrap()
            .payload_json()
            .unwrap();
        let uri = payload["status"]["status_list"]["uri"].as_str().unwrap();
        let idx = payload["status"]["status_list"]["idx"].as_u64().unwrap();
        let (_, token) = self.call(Method::Get, uri.strip_prefix(&self.url).unwrap(), None);
        let (_, jwks) = self.call(Method::Get, "/.well-known/jwks.json", None);
        let jwks: Jwks = serde_json::from_slice(&jwks).unwrap();
        giayto_core::status_list::verify_token(
            std::str::from_utf8(&token).unwrap(),
            uri,
            &jwks,
            giayto_cli::unix_now(),
        )
        .unwrap()
        .status(idx)
        .unwrap()
        .value()
    }
}

/// Publishes a driving licence with `claims` as `document_id` and receives it into a new
/// wallet; returns the folder that holds it, the wallet folder and the document's id.
fn wallet_with_licence(
    server: &Server,
    document_id: &str,
    claims: &serde_json::Map<String, Value>,
) -> (tempfile::TempDir, std::path::PathBuf, String) {
    let published = server.api(
        "/api/v1/documents",
        &json!({
            "document_id": document_id,
            "citizen_id": "001090012345",
            "vct": "https://giayto.gov.vn/vct/driving_licence",
            "claims": claims,
        }),
    );
    let dir = tempfile::tempdir().unwrap();
    let wallet = dir.path().join("w");
    let w = wallet.to_str().unwrap();
    run_json(&["wallet", "--dir", w, "init"], 0);
    let offer = published["offer"]["offer_uri_by_reference"]
        .as_str()
        .unwrap();
    let tx_code = published["offer"]["tx_code"].as_str().unwrap();
    let received = run_json(
        &["wallet", "--dir", w, "receive", offer, "--tx-code", tx_code],
        0,
    );
    let id = received[0]["id"].as_str().unwrap().to_owned();
    (dir, wallet, id)
}

/// The purpose credentials the wallet in `dir` holds for its `n`th document.
fn held(dir: &Path, n: usize) -> Vec<(String, String, Option<i64>)> {
    let encoded = std::fs::read_to_string(dir.join("vault.key")).unwrap();
    let key: [u8; 32] = b64::decode(encoded.trim()).unwrap().try_into().unwrap();
    let vault = Vault::open(dir.join("vault.giayto"), &VaultKey::from_bytes(key)).unwrap();
    vault.list()[n]
        .purposes
        .iter()
        .map(|p| (p.preset.clone(), p.credential.clone(), p.shown_at))
        .collect()
}

fn left(show: &Value) -> BTreeMap<String, u64> {
    show["purposes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["preset"].as_str().unwrap().to_owned(),
                p["unused"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn present(w: &str, id: &str, extra: &[&str]) -> (String, String) {
    let mut args = vec![
        "--json",
        "wallet",
        "--dir",
        w,
        "present",
        id,
        "--preset",
        "traffic_stop",
    ];
    args.extend_from_slice(extra);
    let out = run(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body: Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        body["presentation"].as_str().unwrap().to_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn batches_are_received_used_once_counted_revoked_together_and_refilled() {
    let server = Server::start();
    let claims = common::sample_claims("driving_licence");
    let (dir, wallet, id) = wallet_with_licence(&server, "gplx-purpose-1", &claims);
    let w = wallet.to_str().unwrap();

    // Ten of each of the licence's four purposes, each bound to its own key file.
    let show = run_json(&["wallet", "--dir", w, "show", &id], 0);
    let expected: BTreeMap<String, u64> =
        ["identity", "age_over_18", "traffic_stop", "vehicle_rental"]
            .iter()
            .map(|p| ((*p).to_owned(), 10))
            .collect();
    assert_eq!(left(&show), expected);
    assert_eq!(std::fs::read_dir(wallet.join("keys")).unwrap().count(), 40);
    let text = String::from_utf8(run(&["wallet", "--dir", w, "show", &id]).stdout).unwrap();
    assert!(
        text.contains("Purpose credentials left") && text.contains("traffic_stop"),
        "{text}"
    );

    // Each showing uses a new credential and says how many remain.
    let mut signatures = HashSet::new();
    for remaining in (0..10).rev() {
        let (presentation, stderr) = present(w, &id, &[]);
        assert!(
            stderr.contains(&format!("{remaining} còn lại / left")),
            "{stderr}"
        );
        let p = Presentation::parse(&presentation).unwrap();
        assert_eq!(
            p.issuer_payload().unwrap()["vct"],
            "https://giayto.gov.vn/vct/driving_licence/traffic_stop"
        );
        assert!(signatures.insert(presentation.split('~').next().unwrap().to_owned()));
    }
    assert_eq!(
        left(&run_json(&["wallet", "--dir", w, "show", &id], 0))["traffic_stop"],
        0
    );
    // Any verifier reads a purpose credential as the document it is, and is told the
    // purpose: `giayto verify` with the police's key.
    let (_, metadata) = server.call(
        Method::Get,
        "/.well-known/jwt-vc-issuer/agencies/police",
        None,
    );
    let metadata: Value = serde_json::from_slice(&metadata).unwrap();
    let police_jwk = dir.path().join("police.jwk");
    std::fs::write(&police_jwk, metadata["jwks"]["keys"][0].to_string()).unwrap();
    let (shown, _) = present(w, &id, &[]);
    let verdict = run(&[
        "verify",
        &shown,
        "--issuer-jwk",
        police_jwk.to_str().unwrap(),
        "--offline",
    ]);
    let verdict = String::from_utf8_lossy(&verdict.stdout);
    assert!(
        verdict.contains("Giấy phép lái xe / Driving licence")
            && verdict
                .contains("Mục đích / Purpose: Kiểm tra của cảnh sát giao thông / Traffic stop")
            && verdict.contains("Số giấy phép lái xe / Licence number"),
        "{verdict}"
    );
    // None left: the fallback is said out loud, both ways.
    let (reused, stderr) = present(w, &id, &[]);
    assert!(stderr.contains("shown before"), "{stderr}");
    assert!(signatures.contains(reused.split('~').next().unwrap()));
    let (full, stderr) = present(w, &id, &["--full-fallback"]);
    assert!(stderr.contains("full credential"), "{stderr}");
    assert_eq!(
        Presentation::parse(&full)
            .unwrap()
            .issuer_payload()
            .unwrap()["vct"],
        "https://giayto.gov.vn/vct/driving_licence"
    );

    // Revoked while the phone holds 30 unused purpose credentials: every one reads revoked.
    let before = held(&wallet, 0);
    assert_eq!(before.len(), 40);
    assert_eq!(
        before
            .iter()
            .filter(|(_, _, shown)| shown.is_none())
            .count(),
        30
    );
    for (_, credential, _) in &before {
        assert_eq!(server.status_of(credential), 0);
    }
    server.api("/api/v1/documents/gplx-purpose-1/suspend", &json!({}));
    for (_, credential, _) in &before {
        assert_eq!(server.status_of(credential), 2);
    }
    server.api("/api/v1/documents/gplx-purpose-1/reinstate", &json!({}));

    // A reissue revokes the whole old batch; receiving its offer refills the wallet.
    let mut moved = claims.clone();
    moved.insert("place_of_residence".into(), json!("5 Lê Duẩn, Đà Nẵng"));
    let reissued = server.api(
        "/api/v1/documents/gplx-purpose-1/reissue",
        &json!({ "claims": moved }),
    );
    for (_, credential, _) in &before {
        assert_eq!(server.status_of(credential), 1);
    }
    let offer = reissued["offer"]["offer_uri_by_reference"]
        .as_str()
        .unwrap();
    let tx_code = reissued["offer"]["tx_code"].as_str().unwrap();
    let again = run_json(
        &["wallet", "--dir", w, "receive", offer, "--tx-code", tx_code],
        0,
    );
    let new_id = again[0]["id"].as_str().unwrap().to_owned();
    assert_ne!(new_id, id);
    assert_eq!(
        left(&run_json(&["wallet", "--dir", w, "show", &new_id], 0)),
        expected
    );
    let (_, stderr) = present(w, &new_id, &[]);
    assert!(stderr.contains("9 còn lại / left"), "{stderr}");

    // Revoked while the phone holds the new batch (39 unused): every one reads revoked.
    let refilled = held(&wallet, 1);
    assert_eq!(
        refilled
            .iter()
            .filter(|(_, _, shown)| shown.is_none())
            .count(),
        39
    );
    for (_, credential, _) in &refilled {
        assert_eq!(server.status_of(credential), 0);
    }
    server.api("/api/v1/documents/gplx-purpose-1/revoke", &json!({}));
    for (_, credential, _) in &refilled {
        assert_eq!(server.status_of(credential), 1);
    }
}

#[test]
fn refill_brings_a_batch_of_the_low_presets_with_the_rotating_refresh_token() {
    let server = Server::start();
    let claims = common::sample_claims("driving_licence");
    let (_dir, wallet, id) = wallet_with_licence(&server, "gplx-refill-1", &claims);
    let w = wallet.to_str().unwrap();
    let key_files = || std::fs::read_dir(wallet.join("keys")).unwrap().count();
    let traffic_stops = || left(&run_json(&["wallet", "--dir", w, "show", &id], 0))["traffic_stop"];

    // Nothing is low: nothing is asked.
    assert_eq!(
        run_json(&["wallet", "--dir", w, "refill", &id], 0)["added"],
        0
    );
    for _ in 0..6 {
        present(w, &id, &[]);
    }
    assert_eq!(traffic_stops(), 4);
    // A batch of the low preset (the issuer has a Nonce Endpoint: a fresh c_nonce after
    // the refresh token grant); the six used credentials and their key files are dropped.
    let refilled = run_json(&["wallet", "--dir", w, "refill", &id], 0);
    assert_eq!(refilled["added"], 10);
    assert_eq!(traffic_stops(), 14);
    assert_eq!(held(&wallet, 0).len(), 40 - 6 + 10);
    assert_eq!(key_files(), 40 - 6 + 10);
    // The issuer took the first refresh token once and gave a new one, which the wallet
    // kept: a second refill works.
    for _ in 0..10 {
        present(w, &id, &[]);
    }
    assert_eq!(
        run_json(&["wallet", "--dir", w, "refill", &id], 0)["added"],
        10
    );
    assert_eq!(traffic_stops(), 14);

    // Revoked: the issuer refuses the refresh token, and the wallet says what that means
    // (it has read no status since: the possible reasons), not the token's wire error.
    server.api("/api/v1/documents/gplx-refill-1/revoke", &json!({}));
    for _ in 0..10 {
        present(w, &id, &[]);
    }
    let out = run(&["wallet", "--dir", w, "refill", &id]);
    assert_ne!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "The issuer no longer takes this document's refresh token: the document was \
             suspended, revoked or reissued (if reissued, receive the new offer), or the token \
             expired."
        ),
        "{stderr}"
    );
    assert!(
        !stderr.contains("unknown, used or expired refresh token"),
        "{stderr}"
    );

    // Deleting the document deletes its purpose keys; the wallet's holder key stays.
    run_json(&["wallet", "--dir", w, "delete", &id], 0);
    assert_eq!(key_files(), 0);
    assert!(wallet.join("holder.jwk").is_file());
}

/// Found by a newcomer: `wallet present … --qr-png /dev/null/x.png` failed to write the
/// image but had already spent a one-use purpose credential (eight failures emptied the
/// preset). An output that cannot be written is refused before anything is shown.
#[test]
fn a_qr_file_that_cannot_be_written_spends_no_purpose_credential() {
    let server = Server::start();
    let claims = common::sample_claims("driving_licence");
    let (_dir, wallet, id) = wallet_with_licence(&server, "gplx-unwritable-1", &claims);
    let w = wallet.to_str().unwrap();
    let traffic_stops = || left(&run_json(&["wallet", "--dir", w, "show", &id], 0))["traffic_stop"];
    let before = traffic_stops();
    for _ in 0..3 {
        let out = run(&[
            "wallet",
            "--dir",
            w,
            "present",
            &id,
            "--preset",
            "traffic_stop",
            "--qr-png",
            "/dev/null/x.png",
        ]);
        assert_ne!(out.status.code(), Some(0));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("/dev/null/x.png"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(traffic_stops(), before);
    present(w, &id, &[]);
    assert_eq!(traffic_stops(), before - 1);
}
