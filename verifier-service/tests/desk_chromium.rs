//! Issue 15, the desk page end to end in headless Debian Chromium (driven by npm's
//! playwright-core, tests/desk/desk.mjs): the clerk picks "health insurance card, insured
//! care", the page shows the request QR, a wallet written from the spec answers, the page
//! shows the verdict in Vietnamese and English with dates; then an offline giayto QR typed
//! as a USB barcode scanner types (keys, then Enter) is verified. Each step's screenshot
//! is saved and checked as a file (a PNG of the page's size, not empty).
//!
//! Needs `/usr/bin/chromium` and `npm ci` in tests/desk: `scripts/test-desk.sh` installs
//! both and runs this test (it is ignored by a plain `cargo test`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use giayto_core::wallet::{Binding, Selection, present_credential};
use giayto_verifier::store::Limits;
use serde_json::json;
use support::*;

/// A bound on the whole browser run, so a broken page fails the test instead of hanging it
/// (behaviour, not speed: a healthy run takes a small part of it).
const RUN_BOUND: Duration = Duration::from_secs(300);

/// The width and height in a PNG's IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let word = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (word(16), word(20))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Debian chromium and npm playwright-core: run scripts/test-desk.sh"]
async fn the_desk_page_in_chromium_shows_a_wallets_verdict_and_a_scanned_qrs() {
    assert!(
        std::path::Path::new("/usr/bin/chromium").exists(),
        "install Debian's chromium (scripts/test-desk.sh does)"
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

    let out = tempfile::tempdir().unwrap();
    let mut browser = NodeScript::spawn("desk.mjs", &[&base, out.path().to_str().unwrap()], &[]);
    let run = async {
        // The page made a request and shows its QR code; the wallet answers it.
        let uri = browser.next("INVOCATION").await;
        assert!(
            uri.starts_with("openid4vp://?client_id=x509_hash%3A"),
            "{uri}"
        );
        // The citizen takes four minutes to answer: the status list, confirmed when the
        // service started, is four minutes old by then.
        world.advance(240);
        let created = json!({ "openid4vp_uri": uri });
        let (request, jwe) = wallet_answer(
            &world,
            &created,
            &world.credential(3),
            Selection::Preset("insurance_check".into()),
        )
        .await;
        let answer = world
            .post_form(&request.response_path(), &[("response", &jwe)])
            .await;
        assert_eq!(answer.status.as_u16(), 200, "{}", answer.text());

        let verdict = browser.next("VERDICT").await;
        assert!(verdict.starts_with("HỢP LỆ VALID"), "{verdict}");
        assert!(
            verdict.contains("Thẻ bảo hiểm y tế Health insurance card"),
            "{verdict}"
        );
        // The expiry (`exp`, NOW + 365 days) shows as a date, dd/mm/yyyy.
        let expires = giayto_core::verifier::format_date(NOW + 365 * 86_400);
        assert!(expires.starts_with("18/11/2027"), "{expires}");
        assert!(verdict.contains("| 18/11/2027 |"), "{verdict}");
        // How old the status information was, in core's words (format_age), both languages.
        assert_eq!(
            giayto_core::verifier::format_age(240),
            "4 phút trước / 4 minutes ago"
        );
        assert!(
            verdict.ends_with("| 4 phút trước 4 minutes ago"),
            "{verdict}"
        );

        // An offline QR, typed by the scanner.
        let qr = present_credential(
            &world.credential(4),
            &Selection::Preset("insurance_check".into()),
            &Binding::OneWay,
            &world.holder,
            world.now(),
        )
        .unwrap()
        .qr_text;
        browser.send(&qr).await;
        let scanned = browser.next("SCANNED").await;
        assert!(scanned.starts_with("HỢP LỆ VALID"), "{scanned}");
        // Where a same-device wallet sends the user back: the request's result again.
        let resumed = browser.next("RESUMED").await;
        assert!(resumed.starts_with("HỢP LỆ VALID"), "{resumed}");
        browser.succeeds().await;
    };
    tokio::time::timeout(RUN_BOUND, run)
        .await
        .expect("the browser run did not finish");

    for name in ["desk-online.png", "desk-scan.png"] {
        let bytes = std::fs::read(out.path().join(name)).unwrap();
        let (width, height) = png_size(&bytes);
        assert_eq!(width, 1000, "{name}: the viewport's width");
        assert!(
            height >= 600,
            "{name}: {height} px high: the verdict is below the pickers"
        );
        assert!(
            bytes.len() > 20_000,
            "{name}: {} bytes, too small to show a page",
            bytes.len()
        );
        if let Ok(dir) = std::env::var("GIAYTO_DESK_SCREENSHOTS") {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::copy(out.path().join(name), std::path::Path::new(&dir).join(name)).unwrap();
        }
    }
}
