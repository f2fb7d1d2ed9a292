//! Issue 16, what a newcomer met right after the README, against the real server and the
//! real `giayto` command: `giayto publish` prints the offers and `tx_code`s an agency must
//! hand out (and `--json` carries them); a wrong `tx_code` says how many tries are left;
//! `giayto qr decode` and `giayto wallet receive` read the server's own offer QR image.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::Path;
use std::process::{Command, Output};

use giayto_e2e::server::{Backend, Server, giayto_binary};

fn giayto(dir: &Path, args: &[&str]) -> Output {
    Command::new(giayto_binary().unwrap())
        .args(args)
        .current_dir(dir)
        .env_remove("GIAYTO_API_KEY")
        .env_remove("GIAYTO_VAULT_KEY")
        .env("GIAYTO_WALLET", dir.join("wallet"))
        .output()
        .unwrap()
}

/// The police's example documents of docs/examples/ as one NDJSON file.
fn police_examples(dir: &Path) -> String {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples");
    let mut ndjson = String::new();
    for t in ["can_cuoc", "driving_licence", "vehicle_registration"] {
        let text = std::fs::read_to_string(examples.join(format!("{t}.json"))).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        ndjson.push_str(&value.to_string());
        ndjson.push('\n');
    }
    let path = dir.join("police.ndjson");
    std::fs::write(&path, ndjson).unwrap();
    path.display().to_string()
}

#[test]
fn publish_prints_the_offers_and_a_wrong_tx_code_says_the_tries_left() {
    let mut server = Server::start(Backend::Sqlite).unwrap().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = police_examples(dir.path());
    let key = server.api_key("police").unwrap().to_owned();
    let base = server.base_url();

    let out = giayto(
        dir.path(),
        &[
            "--json",
            "publish",
            "--server",
            &base,
            "--api-key",
            &key,
            &file,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let offers = report["offers"].as_array().unwrap();
    assert_eq!(offers.len(), 3, "{report}");
    let licence = offers
        .iter()
        .find(|o| o["document_id"] == "driving-licence-0001")
        .unwrap();
    let uri = licence["offer_uri_by_reference"].as_str().unwrap();
    let tx_code = licence["tx_code"].as_str().unwrap();
    assert!(uri.starts_with("openid-credential-offer://"), "{licence}");
    assert_eq!(tx_code.len(), 6);

    // Text for people: each document with its tx_code and offer (a reissue gives new ones:
    // publishing the same ids again answers 200 with no new offer, so use other ids).
    let text_file = dir.path().join("again.ndjson");
    std::fs::write(
        &text_file,
        std::fs::read_to_string(&file)
            .unwrap()
            .replace("-0001\"", "-0002\""),
    )
    .unwrap();
    let out = giayto(
        dir.path(),
        &[
            "publish",
            "--server",
            &base,
            "--api-key",
            &key,
            text_file.to_str().unwrap(),
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("3 of 3 documents published"), "{text}");
    for id in [
        "can-cuoc-0002",
        "driving-licence-0002",
        "vehicle-registration-0002",
    ] {
        let line = text.lines().find(|l| l.contains(id)).unwrap_or_default();
        assert!(
            line.contains("tx_code ") && line.contains("openid-credential-offer://"),
            "{id}: {text}"
        );
    }
    assert!(!text.contains(&key), "the API key is never printed");

    // A wrong tx_code: the wallet says how many tries are left.
    assert_eq!(
        giayto(dir.path(), &["wallet", "init"]).status.code(),
        Some(0)
    );
    let wrong = if tx_code == "000000" {
        "111111"
    } else {
        "000000"
    };
    let out = giayto(dir.path(), &["wallet", "receive", uri, "--tx-code", wrong]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("4 tries left"), "{stderr}");
    let out = giayto(
        dir.path(),
        &["wallet", "receive", uri, "--tx-code", tx_code],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");

    // The server's own offer QR image (`qr_png_url`) is read by `qr decode` and received
    // by `wallet receive offer.png`: only an outside decoder could read it before.
    let card = offers
        .iter()
        .find(|o| o["document_id"] == "can-cuoc-0001")
        .unwrap();
    let png = ureq::get(card["qr_png_url"].as_str().unwrap())
        .call()
        .unwrap()
        .body_mut()
        .read_to_vec()
        .unwrap();
    std::fs::write(dir.path().join("offer.png"), png).unwrap();
    let out = giayto(dir.path(), &["qr", "decode", "offer.png"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        card["offer_uri_by_reference"].as_str().unwrap()
    );
    let card_tx_code = card["tx_code"].as_str().unwrap();
    let out = giayto(
        dir.path(),
        &["wallet", "receive", "offer.png", "--tx-code", card_tx_code],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = giayto(dir.path(), &["--json", "wallet", "list"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    server.stop().unwrap();
}
