//! giayto's QR PNGs read by an independent decoder, Debian's `zbarimg` (package
//! `zbar-tools`, installed by `scripts/test.sh`), and what it reads verifies. In CI a missing
//! `zbarimg` fails the test; elsewhere it is reported and skipped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;

use common::{Keys, run_expect, run_json};

fn zbarimg(png: &str) -> Option<String> {
    let output = match Command::new("zbarimg").args(["--raw", "-q", png]).output() {
        Ok(output) => output,
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("zbarimg not available ({e}); install zbar-tools to run this test");
            return None;
        }
        Err(e) => panic!("zbarimg is required in CI (apt-get install zbar-tools): {e}"),
    };
    assert!(output.status.success(), "zbarimg could not read {png}");
    Some(String::from_utf8(output.stdout).unwrap().trim().to_owned())
}

#[test]
fn zbarimg_reads_what_giayto_writes_and_it_verifies() {
    let keys = Keys::new("ES256");
    for (document, preset) in [
        ("driving_licence", "traffic_stop"),
        ("can_cuoc", "age_over_18"),
        ("health_book", "emergency"),
    ] {
        let credential = keys.issue(document);
        let png = keys.path(&format!("{document}-{preset}.png"));
        run_expect(
            &[
                "present",
                "--credential",
                &credential,
                "--holder-key",
                &keys.path("holder.jwk"),
                "--preset",
                preset,
                "--qr-png",
                &png,
            ],
            0,
        );
        let Some(text) = zbarimg(&png) else { return };
        assert!(text.starts_with("GT2:"), "{document}/{preset}: {text:.20}");
        let verdict = run_json(
            &[
                "verify",
                &text,
                "--issuer-jwk",
                &keys.issuer_public(),
                "--offline",
            ],
            0,
        );
        assert_eq!(verdict["valid"], true, "{document}/{preset}: {verdict}");
        assert_eq!(verdict["document_type"]["id"], document);
    }
}
