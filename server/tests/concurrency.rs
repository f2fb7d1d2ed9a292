//! Two and four server processes (the built binary) on one PostgreSQL database: thousands
//! of OpenID4VCI issuances with revocations in parallel, spread over the processes. Every
//! status-list slot must be unique and every revocation visible in the served status lists,
//! whichever process serves them (issue 17: scaling out keeps the correctness of one).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use giayto_core::jose::{Algorithm, Jwks, Signer, SoftwareSigner};
use giayto_core::oid4vci::{ProofClaims, build_proof_jwt};
use serde_json::{Value, json};
use tokio::process::{Child, Command};
use tokio::sync::Semaphore;

const DOCUMENTS: usize = 2000;
const PARALLEL: usize = 24;

/// Starts one server process; `connections` is its pool size (the processes of one test share
/// 16 PostgreSQL connections, so tests running side by side stay far below its default 100).
async fn spawn_server(
    database_url: &str,
    master_key: &std::path::Path,
    connections: usize,
) -> (Child, String) {
    let port = common::free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_giayto-server"))
        .arg("serve")
        .env("GIAYTO_BIND", format!("127.0.0.1:{port}"))
        .env("GIAYTO_PUBLIC_URL", common::PUBLIC_URL)
        .env("DATABASE_URL", database_url)
        .env("GIAYTO_MASTER_KEY_FILE", master_key)
        .env("GIAYTO_DEMO", "false")
        .env("GIAYTO_STATUS_LIST_SIZE", "1024")
        .env("GIAYTO_DATABASE_MAX_CONNECTIONS", connections.to_string())
        .env("GIAYTO_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    (child, format!("http://127.0.0.1:{port}"))
}

async fn wait_ready(client: &reqwest::Client, base: &str) {
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server at {base} did not become ready");
}

/// One full issuance on `base`; returns the (list uri, idx) of the credential, or None when
/// the document was revoked first (`credential_request_denied`).
async fn issue(
    client: &reqwest::Client,
    base: &str,
    code: &str,
    tx_code: &str,
    holder: &dyn Signer,
) -> Option<(String, u64)> {
    let token: Value = client
        .post(format!("{base}/token"))
        .form(&[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:pre-authorized_code",
            ),
            ("pre-authorized_code", code),
            ("tx_code", tx_code),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let Some(access) = token["access_token"].as_str() else {
        assert_eq!(token["error"], "invalid_grant", "{token}");
        return None; // revoked before the token step: the offer was withdrawn
    };
    let nonce: Value = client
        .post(format!("{base}/nonce"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let proof = build_proof_jwt(
        holder,
        &ProofClaims {
            iss: None,
            aud: common::PUBLIC_URL.into(),
            iat: common::now(),
            nonce: nonce["c_nonce"].as_str().map(str::to_owned),
        },
    )
    .unwrap();
    let res: Value = client
        .post(format!("{base}/credential"))
        .bearer_auth(access)
        .json(&json!({ "credential_configuration_id": "can_cuoc", "proofs": { "jwt": [proof] } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let Some(credential) = res["credentials"][0]["credential"].as_str() else {
        assert_eq!(res["error"], "credential_request_denied", "{res}");
        return None;
    };
    let jwt = credential.split('~').next().unwrap();
    let payload: Value = giayto_core::jose::jws::CompactJws::parse(jwt)
        .unwrap()
        .payload_json()
        .unwrap();
    let sl = &payload["status"]["status_list"];
    Some((
        sl["uri"].as_str().unwrap().to_owned(),
        sl["idx"].as_u64().unwrap(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_issue_and_revoke_in_parallel() {
    issue_and_revoke_in_parallel(2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_issue_and_revoke_in_parallel() {
    issue_and_revoke_in_parallel(4).await;
}

/// [`DOCUMENTS`] issuances, every third document revoked at the same time, on `processes`
/// server processes sharing one PostgreSQL database and master key: each issuance on one
/// process, its revocation on the next.
async fn issue_and_revoke_in_parallel(processes: usize) {
    let Some(admin) = common::postgres_url() else {
        return;
    };
    let database = common::fresh_postgres_database(&admin).await;
    let database_url = database.url.clone();
    let dir = tempfile::tempdir().unwrap();
    let master = dir.path().join("master.key");
    // Seed agencies through the library, with the same database and master key.
    let config = giayto_server::config::Config {
        database_url: database_url.clone(),
        master_key_file: master.clone(),
        public_url: common::PUBLIC_URL.into(),
        ..giayto_server::config::Config::default()
    };
    let services = giayto_server::server::open(config).await.unwrap();
    let police = giayto_server::demo::seed(&services)
        .await
        .unwrap()
        .into_iter()
        .find(|(a, _)| a.id == "police")
        .unwrap()
        .1
        .secret;
    let mut children = Vec::with_capacity(processes);
    let mut bases = Vec::with_capacity(processes);
    for _ in 0..processes {
        let (child, base) = spawn_server(&database_url, &master, 16 / processes).await;
        children.push(child);
        bases.push(base);
    }
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(PARALLEL)
        .build()
        .unwrap();
    for base in &bases {
        wait_ready(&client, base).await;
    }

    // Publish in bulk, a share through each process.
    let mut offers: Vec<(String, String, String)> = Vec::with_capacity(DOCUMENTS);
    for (share, base) in bases.iter().enumerate() {
        let body: String = (0..DOCUMENTS / processes)
            .map(|i| common::id_card_request(&format!("c-{share}-{i}")).to_string() + "\n")
            .collect();
        let text = client
            .post(format!("{base}/api/v1/bulk/documents"))
            .bearer_auth(&police)
            .header("content-type", "application/x-ndjson")
            .body(body)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for line in text.lines() {
            let l: Value = serde_json::from_str(line).unwrap();
            assert_eq!(l["status"], 201, "{l}");
            let o = &l["offer"];
            offers.push((
                l["document_id"].as_str().unwrap().to_owned(),
                o["credential_offer"]["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["pre-authorized_code"].as_str().unwrap().to_owned(),
                o["tx_code"].as_str().unwrap().to_owned(),
            ));
        }
    }
    assert_eq!(offers.len(), DOCUMENTS);

    // Issue every document while revoking every third one, the two steps on different
    // processes. Half of those revocations race the issuance (either may win); the other
    // half wait for it, so some revoked documents surely have a credential whose slot the
    // other process must flip (which order a race takes depends on the machine's load).
    let holder: Arc<dyn Signer> = Arc::new(SoftwareSigner::generate(Algorithm::Es256).unwrap());
    let gate = Arc::new(Semaphore::new(PARALLEL));
    let mut tasks = Vec::new();
    for (n, (doc, code, tx_code)) in offers.into_iter().enumerate() {
        let (client, holder, gate, police) =
            (client.clone(), holder.clone(), gate.clone(), police.clone());
        let issue_base = bases[n % processes].clone();
        let revoke_base = bases[(n + 1) % processes].clone();
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire().await.unwrap();
            let revoke = n % 3 == 0;
            let after_issuance = n % 6 == 0;
            let revoke_url = format!("{revoke_base}/api/v1/documents/{doc}/revoke");
            let revocation = async {
                let r = client
                    .post(&revoke_url)
                    .bearer_auth(&police)
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success());
            };
            let issuance = issue(&client, &issue_base, &code, &tx_code, holder.as_ref());
            let slot = if !revoke {
                issuance.await
            } else if after_issuance {
                let slot = issuance.await;
                assert!(
                    slot.is_some(),
                    "document {doc}: issued before its revocation"
                );
                revocation.await;
                slot
            } else {
                tokio::join!(issuance, revocation).0
            };
            (doc, revoke, slot)
        }));
    }
    let mut results = Vec::with_capacity(DOCUMENTS);
    for t in tasks {
        results.push(t.await.unwrap());
    }

    // Every slot unique.
    let slots: Vec<&(String, u64)> = results.iter().filter_map(|(_, _, s)| s.as_ref()).collect();
    let unique: HashSet<&(String, u64)> = slots.iter().copied().collect();
    assert_eq!(
        unique.len(),
        slots.len(),
        "two credentials share a status-list slot"
    );
    assert!(
        slots.len() >= DOCUMENTS * 2 / 3,
        "non-revoked documents are all issued: {}",
        slots.len()
    );
    let lists: HashSet<&String> = slots.iter().map(|(u, _)| u).collect();
    assert!(lists.len() >= 2, "1024-entry lists overflow into new lists");

    // Every revocation visible in the status lists, as served by any process.
    let jwks: Jwks = client
        .get(format!("{}/.well-known/jwks.json", bases[0]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut verified = HashMap::new();
    for (i, uri) in lists.into_iter().enumerate() {
        let base = &bases[i % processes];
        let path = uri.strip_prefix(common::PUBLIC_URL).unwrap();
        let token = client
            .get(format!("{base}{path}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        verified.insert(
            uri.clone(),
            giayto_core::status_list::verify_token(&token, uri, &jwks, common::now() as i64)
                .unwrap(),
        );
    }
    let mut revoked_issued = 0;
    for (doc, revoked, slot) in &results {
        if let Some((uri, idx)) = slot {
            let status = verified[uri].status(*idx).unwrap().value();
            assert_eq!(status, if *revoked { 1 } else { 0 }, "document {doc}");
            revoked_issued += usize::from(*revoked);
        }
    }
    // Revoked documents had credentials to revoke: at least those revoked after issuance.
    assert!(
        revoked_issued >= DOCUMENTS / 6,
        "revoked documents with a credential: {revoked_issued}"
    );
    // The database agrees: one row per slot, and no revoked document has a valid credential.
    let dupes: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM (SELECT list_id, idx FROM credentials GROUP BY list_id, idx HAVING COUNT(*) > 1) d")
        .fetch_one(services.db.pool())
        .await
        .unwrap();
    assert_eq!(dupes, 0);
    let lost: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM credentials c JOIN documents d ON d.id = c.document_id WHERE d.state = 'revoked' AND c.status <> 1")
        .fetch_one(services.db.pool())
        .await
        .unwrap();
    assert_eq!(lost, 0);
}
