//! Prints the QR size table of the README: for every catalogue document type and preset, the
//! presentation from the full SD credential (one-way) and from the preset's purpose
//! credential (one-way and two-way), ES256 issuer and holder, the demo server's issuer and
//! status URLs, measured as a compact SD-JWT+KB, as giayto QR text (alphanumeric), and as the
//! smallest QR version at level M, with the target of each purpose credential.
//!
//! `cargo run --release -p giayto-demo --example qr_sizes`

use giayto_demo::sizes::{demo_keys, markdown_table, measure};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (issuer, holder) = demo_keys()?;
    print!("{}", markdown_table(&measure(&issuer, &holder)?));
    Ok(())
}
