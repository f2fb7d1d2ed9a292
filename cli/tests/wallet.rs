//! `giayto wallet`: init, receive by OpenID4VCI from a local test issuer, list, show,
//! present (one-way, two-way, paper) and delete; the vault and keys stay private.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::issuer::{TX_CODE, TestIssuer};
use common::{giayto, run, run_expect, run_json};
use giayto_core::jose::jws::CompactJws;
use giayto_core::qr::{self, Challenge};
use giayto_core::sd_jwt::Presentation;

fn licence_claims() -> serde_json::Map<String, serde_json::Value> {
    common::sample_claims("driving_licence")
}

fn kb_claims(presentation: &str) -> serde_json::Value {
    let p = Presentation::parse(presentation).unwrap();
    CompactJws::parse(p.key_binding_jwt().unwrap())
        .unwrap()
        .payload_json()
        .unwrap()
}

#[test]
fn init_receive_list_show_present_delete() {
    let dir = tempfile::tempdir().unwrap();
    let wallet = dir.path().join("w");
    let w = wallet.to_str().unwrap();
    let init = run_json(&["wallet", "--dir", w, "init"], 0);
    assert!(init["holder_jwk"].get("d").is_none());
    #[cfg(unix)]
    for file in ["vault.key", "holder.jwk"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(wallet.join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
    // A second init never replaces the keys.
    assert_eq!(run(&["wallet", "--dir", w, "init"]).status.code(), Some(2));
    assert_eq!(
        run_json(&["wallet", "--dir", w, "list"], 0),
        serde_json::json!([])
    );

    let issuer = TestIssuer::start(licence_claims());
    let offer = issuer.offer_uri();
    // Without the transaction code: a usage error that does not leak anything.
    let out = run(&["wallet", "--dir", w, "receive", &offer]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tx-code"));
    // A wrong code: the issuer's refusal, and the code is not echoed.
    let out = run(&[
        "wallet",
        "--dir",
        w,
        "receive",
        &offer,
        "--tx-code",
        "111111",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("invalid_grant"), "{stderr}");
    assert!(
        !stderr.contains("111111") && !stderr.contains("pre-auth-code"),
        "{stderr}"
    );

    let received = run_json(
        &[
            "wallet",
            "--dir",
            w,
            "receive",
            &offer,
            "--tx-code",
            TX_CODE,
        ],
        0,
    );
    let id = received[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        received[0]["vct"],
        "https://giayto.gov.vn/vct/driving_licence"
    );
    assert_eq!(received[0]["name"]["vi"], "Giấy phép lái xe");
    let list = run_json(&["wallet", "--dir", w, "list"], 0);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["issuer"], issuer.url);

    let shown = run_json(&["wallet", "--dir", w, "show", &id], 0);
    let claims = shown["claims"].as_array().unwrap();
    let class = claims
        .iter()
        .find(|c| c["path"] == "driving_privileges[1].class")
        .unwrap();
    assert_eq!(class["value"], "B");
    assert_eq!(class["label"]["en"], "Class");
    let text = giayto()
        .args(["wallet", "--dir", w, "show", &id])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains("Trần Văn Bình"));

    // One-way.
    let one_way = run_json(
        &[
            "wallet",
            "--dir",
            w,
            "present",
            &id,
            "--preset",
            "traffic_stop",
        ],
        0,
    );
    let kb = kb_claims(one_way["presentation"].as_str().unwrap());
    assert_eq!(kb["aud"], qr::OFFLINE_AUDIENCE);
    assert!(one_way["qr_text"].as_str().unwrap().starts_with("GT2:"));

    // Two-way: answer a challenge QR, given as an image.
    let now = giayto_cli::unix_now();
    let challenge =
        Challenge::new("https://hotel.example.vn", Duration::from_secs(120), now).unwrap();
    let png = dir.path().join("challenge.png");
    std::fs::write(
        &png,
        qr::image::render_png(&challenge.to_qr_text().unwrap(), qr::image::EcLevel::M).unwrap(),
    )
    .unwrap();
    let two_way = run_json(
        &[
            "wallet",
            "--dir",
            w,
            "present",
            &id,
            "--claims",
            "full_name",
            "--challenge",
            png.to_str().unwrap(),
        ],
        0,
    );
    let kb = kb_claims(two_way["presentation"].as_str().unwrap());
    assert_eq!(kb["aud"], "https://hotel.example.vn");
    assert_eq!(kb["nonce"], challenge.nonce.as_str());

    // A wrong challenge: expired, or a presentation instead of a challenge.
    let expired = Challenge::new(
        "https://hotel.example.vn",
        Duration::from_secs(1),
        now - 100,
    )
    .unwrap()
    .to_qr_text()
    .unwrap();
    let out = run(&[
        "wallet",
        "--dir",
        w,
        "present",
        &id,
        "--claims",
        "full_name",
        "--challenge",
        &expired,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("challenge expired"));
    let not_a_challenge = one_way["qr_text"].as_str().unwrap();
    let out = run(&[
        "wallet",
        "--dir",
        w,
        "present",
        &id,
        "--claims",
        "full_name",
        "--challenge",
        not_a_challenge,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a presentation"));

    // Paper form: no key binding, GTP2 prefix.
    let paper = run_json(
        &[
            "wallet", "--dir", w, "present", &id, "--preset", "full", "--paper",
        ],
        0,
    );
    assert!(paper["qr_text"].as_str().unwrap().starts_with("GTP2:"));
    assert!(
        Presentation::parse(paper["presentation"].as_str().unwrap())
            .unwrap()
            .key_binding_jwt()
            .is_none()
    );

    // The vault is encrypted: no claim value in the file.
    let raw = std::fs::read(wallet.join("vault.giayto")).unwrap();
    assert!(
        !raw.windows(5).any(|w| w == b"Trn V") && !String::from_utf8_lossy(&raw).contains("Bình")
    );
    // With the key from the environment instead of the file.
    let key = std::fs::read_to_string(wallet.join("vault.key")).unwrap();
    std::fs::remove_file(wallet.join("vault.key")).unwrap();
    assert_eq!(run(&["wallet", "--dir", w, "list"]).status.code(), Some(2));
    let out = giayto()
        .args(["--json", "wallet", "--dir", w, "list"])
        .env("GIAYTO_VAULT_KEY", key.trim())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out = giayto()
        .args(["wallet", "--dir", w, "list"])
        .env("GIAYTO_VAULT_KEY", "AAAA")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    std::fs::write(wallet.join("vault.key"), key).unwrap();
    #[cfg(unix)]
    {
        // Written back private: a key file open to others is refused.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            wallet.join("vault.key"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
    }

    run_json(&["wallet", "--dir", w, "delete", &id], 0);
    assert_eq!(
        run_json(&["wallet", "--dir", w, "list"], 0),
        serde_json::json!([])
    );
    let out = run(&["wallet", "--dir", w, "delete", &id]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no document"));
    let seen = issuer.seen.lock().unwrap().clone();
    assert!(seen.contains(&"POST /credential".to_owned()), "{seen:?}");
}

/// Runs `giayto args...` with a generous bound, so a command that would wait for ever fails
/// the test instead of hanging it (the bound is a safety net, not a speed check).
#[cfg(unix)]
fn run_bounded(args: &[&str]) -> std::process::Output {
    let mut command = assert_cmd::Command::from_std(giayto());
    // A command still running then is killed, and its exit code is None.
    command.args(args).timeout(Duration::from_secs(120));
    command.output().unwrap()
}

#[cfg(unix)]
#[test]
fn key_files_open_to_others_and_a_fifo_vault_are_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let wallet = dir.path().join("w");
    let w = wallet.to_str().unwrap();
    run_json(&["wallet", "--dir", w, "init"], 0);
    let chmod = |file: &str, mode: u32| {
        std::fs::set_permissions(wallet.join(file), std::fs::Permissions::from_mode(mode)).unwrap();
    };
    // vault.key readable by others: refused, and the message says how to fix it.
    chmod("vault.key", 0o644);
    let out = run(&["wallet", "--dir", w, "list"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("vault.key") && stderr.contains("chmod 600"),
        "{stderr}"
    );
    chmod("vault.key", 0o600);
    run_json(&["wallet", "--dir", w, "list"], 0);
    // The holder key too (it is read before any network step).
    chmod("holder.jwk", 0o640);
    let out = run(&[
        "wallet",
        "--dir",
        w,
        "receive",
        "openid-credential-offer://?credential_offer_uri=http%3A%2F%2F127.0.0.1%3A9%2Fo",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("holder.jwk") && stderr.contains("chmod 600"),
        "{stderr}"
    );
    chmod("holder.jwk", 0o600);
    // A FIFO named as the vault: refused at once (a plain open would wait for a writer).
    std::fs::remove_file(wallet.join("vault.giayto")).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(wallet.join("vault.giayto"))
        .status()
        .unwrap();
    assert!(made.success());
    let out = run_bounded(&["wallet", "--dir", w, "list"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not a regular file"), "{stderr}");
    // A device named as an input is refused, not read until memory runs out.
    let out = run_bounded(&["qr", "decode", "/dev/zero"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not a regular file"), "{stderr}");
}

/// Serves every request with `status` and the problem+json `body`, as giayto-server answers
/// a used or unknown offer.
fn problem_server(status: u16, body: &'static str) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                    break;
                }
            }
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: application/problem+json\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

#[test]
fn a_used_activation_offer_says_what_the_server_said() {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join("w");
    let w = w.to_str().unwrap();
    run_expect(&["wallet", "--dir", w, "init"], 0);
    let server = problem_server(
        404,
        r#"{"type":"https://giayto.gov.vn/problems/not-found","title":"Not Found","status":404,"detail":"offer not found"}"#,
    );
    let offer_url = format!("{server}/oid4vci/offers/0123456789abcdef0123456789abcdef");
    let offer = format!(
        "openid-credential-offer://?{}",
        serde_urlencoded::to_string([("credential_offer_uri", &offer_url)]).unwrap()
    );
    let out = run(&[
        "wallet",
        "--dir",
        w,
        "activate",
        &offer,
        "--tx-code",
        "493536",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim_end(),
        "giayto: OpenID4VCI: unexpected HTTP status 404 from the credential offer endpoint: \
         offer not found",
    );
    assert!(!stderr.contains("493536"), "{stderr}");
}
