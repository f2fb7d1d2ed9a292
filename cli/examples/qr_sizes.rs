//! Prints the QR size table of the README: for every catalogue document type and preset, a
//! presentation with key binding (ES256 issuer and holder, one-way KB-JWT) measured as a
//! compact SD-JWT, as giayto QR text, and as the smallest QR version at levels L and M.
//!
//! `cargo run -p giayto-cli --example qr_sizes`

use giayto_core::catalogue::{self, examples::example_claims};
use giayto_core::jose::{Algorithm, Signer, SoftwareSigner};
use giayto_core::qr::size_report;
use giayto_core::sd_jwt_vc::{IssueRequest, issue_document};
use giayto_core::wallet::{Binding, Selection, present_credential};

/// A fixed issuance time, so the table does not change with the date.
const NOW: i64 = 1_760_000_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let issuer = SoftwareSigner::generate(Algorithm::Es256)?;
    let holder = SoftwareSigner::generate(Algorithm::Es256)?;
    println!(
        "| document | preset | compact SD-JWT+KB (bytes) | QR text (chars) | version L | version M |"
    );
    println!("| --- | --- | ---: | ---: | ---: | ---: |");
    for document in catalogue::all() {
        let Some(serde_json::Value::Object(claims)) = example_claims(document.id) else {
            return Err(format!("no example claims for {}", document.id).into());
        };
        let credential = issue_document(
            &IssueRequest {
                issuer: "https://csgt.bocongan.gov.vn".into(),
                vct: document.vct.into(),
                claims,
                holder_jwk: Some(holder.public_jwk()?),
                status: None,
                issued_at: NOW,
                not_before: None,
                expires_at: Some(NOW + 10 * 365 * 86_400),
            },
            &issuer,
        )?;
        for preset in document.presets() {
            let out = present_credential(
                &credential,
                &Selection::Preset(preset.name.into()),
                &Binding::OneWay,
                &holder,
                NOW,
            )?;
            let r = size_report(&out.presentation)?;
            let v = |v: Option<u8>| v.map_or("-".to_owned(), |v| v.to_string());
            println!(
                "| {} | {} | {} | {} | {} | {} |",
                document.id,
                preset.name,
                r.compact_len,
                r.qr_text_len,
                v(r.version_l),
                v(r.version_m)
            );
        }
    }
    Ok(())
}
