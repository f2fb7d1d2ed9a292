//! Prints the QR size table of the README: for every catalogue document type and preset, the
//! presentation from the full SD credential (one-way) and from the preset's purpose
//! credential (one-way and two-way), ES256 issuer and holder, the demo server's issuer and
//! status URLs, measured as a compact SD-JWT+KB, as giayto QR text (alphanumeric), and as the
//! smallest QR version at level M, with the target of each purpose credential.
//!
//! `cargo run --release -p giayto-demo --example qr_sizes`

use giayto_demo::sizes::{CredentialKind, Way, demo_keys, measure, target_version};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (issuer, holder) = demo_keys()?;
    println!(
        "| document | preset | credential | binding | compact SD-JWT+KB (bytes) | QR text (chars) | version M | target |"
    );
    println!("| --- | --- | --- | --- | ---: | ---: | ---: | ---: |");
    for row in measure(&issuer, &holder)? {
        let v = |v: Option<u8>| v.map_or("-".to_owned(), |v| v.to_string());
        let kind = match row.kind {
            CredentialKind::Full => "full SD",
            CredentialKind::Purpose => "purpose",
        };
        let way = match row.way {
            Way::OneWay => "one-way",
            Way::TwoWay => "two-way",
        };
        let target = match row.kind {
            CredentialKind::Purpose => v(target_version(row.document.id, row.preset)),
            CredentialKind::Full => "-".to_owned(),
        };
        println!(
            "| {} | {} | {kind} | {way} | {} | {} | {} | {target} |",
            row.document.id,
            row.preset,
            row.report.compact_len,
            row.report.qr_text_len,
            v(row.report.version_m),
        );
    }
    Ok(())
}
