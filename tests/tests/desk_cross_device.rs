//! Issue 15, cross-device end to end with every real binary: `giayto-server` (SQLite) with
//! a verifier registrar and the hospital's verifier registered on its trust list
//! (`giayto-server verifier ...`), the hospital's `giayto-verifier` syncing from it, the desk
//! page in headless Debian Chromium (verifier-service/tests/desk/desk.mjs), and the citizen's
//! `giayto wallet respond` by CLI answering the QR's link: the wallet says who asks (the
//! registered names, within registration) and the desk shows the verdict.
//!
//! Needs Debian's chromium and the npm packages of verifier-service/tests/desk:
//! `scripts/test-desk.sh` installs both and runs this test (ignored by a plain `cargo test`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use giayto_e2e::agency;
use giayto_e2e::server::{Backend, Server, giayto_binary, verifier_binary};
use serde_json::Value;

const CITIZEN: &str = "001090000015";

/// Far longer than a healthy step takes: only a hang reaches it.
const GENEROUS: Duration = Duration::from_secs(120);

/// Kills a child process when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn giayto(args: &[&str]) -> Value {
    let out = Command::new(giayto_binary().unwrap())
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "giayto {}: {}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
#[ignore = "needs Debian chromium and npm packages: run scripts/test-desk.sh"]
fn a_desk_in_chromium_and_a_cli_wallet_complete_a_cross_device_presentation() {
    let Some(mut server) = Server::start(Backend::Sqlite).unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();

    // The hospital's certificate, from a registrar the trust list names.
    let certs = path("certs");
    let out = Command::new(verifier_binary().unwrap())
        .args(["certs", "--out", &certs])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let preset = giayto_core::catalogue::by_id("health_insurance_card")
        .and_then(|doc| doc.preset("insurance_check"))
        .unwrap();
    server
        .admin(&[
            "verifier",
            "anchor-add",
            "--cert",
            &format!("{certs}/ca.pem"),
        ])
        .unwrap();
    server
        .admin(&[
            "verifier",
            "add",
            "--cert",
            &format!("{certs}/verifier.pem"),
            "--name-vi",
            "Bệnh viện Bạch Mai",
            "--name-en",
            "Bach Mai Hospital",
            "--may-request",
            &format!("health_insurance_card={}", preset.claims.join(",")),
        ])
        .unwrap();

    // The running server keeps serving the trust list it holds until it publishes again at
    // start: restart it on the same database.
    server.restart().unwrap();

    // The pinned national anchor, as a JWK file.
    let anchors: Value = server
        .client
        .get(&server.url("/trust-anchor.json"), None)
        .unwrap()
        .json()
        .unwrap();
    std::fs::write(path("anchor.json"), anchors.to_string()).unwrap();
    std::fs::write(path("anchor.jwk"), anchors["keys"][0].to_string()).unwrap();

    // The hospital's verifier service.
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let trust_list_url = server.url("/trust-list");
    let _verifier = Running(
        Command::new(verifier_binary().unwrap())
            .args([
                "serve",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--public-url",
                &base,
            ])
            .args([
                "--trust-list-url",
                &trust_list_url,
                "--trust-anchor",
                &path("anchor.json"),
            ])
            .args(["--key", &format!("{certs}/verifier.key.pem")])
            .args(["--certificate-chain", &format!("{certs}/verifier.pem")])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let started = Instant::now();
    loop {
        let health = server.client.get(&format!("{base}/healthz"), None);
        if let Ok(reply) = health
            && reply.json().is_ok_and(|h| h["trust_list_loaded"] == true)
        {
            break;
        }
        assert!(
            started.elapsed() < GENEROUS,
            "the verifier service never synced"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // The citizen's wallet receives a health insurance card.
    let wallet = path("wallet");
    giayto(&["wallet", "--dir", &wallet, "init"]);
    let doc = agency::document("health_insurance_card", CITIZEN, "hic-cross-device").unwrap();
    let (_, offer) = agency::publish(&server, &doc).unwrap();
    giayto(&[
        "wallet",
        "--dir",
        &wallet,
        "receive",
        &offer.uri,
        "--tx-code",
        &offer.tx_code,
    ]);

    // The desk page asks; the wallet answers the link of its QR code.
    let shots = path("shots");
    std::fs::create_dir_all(&shots).unwrap();
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../verifier-service/tests/desk/desk.mjs");
    let mut browser = Running(
        Command::new("node")
            .arg(script)
            .args([&base, &shots])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(browser.0.stdout.take().unwrap()).lines();
    let mut next = |prefix: &str| loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("desk.mjs ended before {prefix}"))
            .unwrap();
        if let Some(rest) = line.strip_prefix(prefix) {
            return rest.trim().to_owned();
        }
        eprintln!("desk.mjs: {line}");
    };
    let invocation = next("INVOCATION");
    let answer = giayto(&[
        "wallet",
        "--dir",
        &wallet,
        "respond",
        &invocation,
        "--trust-list",
        &trust_list_url,
        "--anchor",
        &path("anchor.jwk"),
        "--yes",
        "--strict",
    ]);
    assert_eq!(answer["shared"], true, "{answer}");
    assert_eq!(answer["request"]["registration"], "within", "{answer}");
    assert_eq!(
        answer["request"]["verifier_name"]["vi"], "Bệnh viện Bạch Mai",
        "{answer}"
    );

    let verdict = next("VERDICT");
    assert!(verdict.starts_with("HỢP LỆ VALID"), "{verdict}");
    assert!(
        verdict.contains("Thẻ bảo hiểm y tế Health insurance card"),
        "{verdict}"
    );
    // No offline QR in this run.
    let mut stdin = browser.0.stdin.take().unwrap();
    stdin.write_all(b"\n").unwrap();
    drop(stdin);
    assert!(browser.0.wait().unwrap().success());
    let png = std::fs::read(Path::new(&shots).join("desk-online.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(png.len() > 20_000, "{} bytes", png.len());
}
