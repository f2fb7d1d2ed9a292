//! The QR size table of the README: every catalogue document type and preset presented
//! from the full SD credential and, for every preset but `full`, from its purpose
//! credential, one-way and two-way, with the demo server's issuer and status URLs.
//! Printed by `cargo run --release -p giayto-demo --example qr_sizes` ([`markdown_table`]) and
//! held to the targets of [`target_version`], and the README to that table, by
//! `demo/tests/qr_sizes.rs`.
//!
//! Sizes are deterministic: ES256 signatures and keys have fixed lengths, salts and nonces
//! are 128 bits, catalogue credentials carry no decoy digests, and every number (times,
//! status index, port) and the key-binding nonces are fixed here (at their realistic
//! width), so with Ed25519 keys (deterministic signatures) the QR codes are too.

use giayto_core::catalogue::{self, DocumentType, Purpose, examples::example_claims};
use giayto_core::jose::{Algorithm, Signer, SoftwareSigner};
use giayto_core::qr::{Challenge, KeyBindingTarget, OFFLINE_AUDIENCE, SizeReport, size_report};
use giayto_core::sd_jwt_vc::{IssueRequest, issue_document, issue_purpose};
use giayto_core::status_list::StatusReference;
use giayto_core::wallet::{Binding, Selection, present_credential};

use giayto_cli::CliError;

/// A fixed issuance time, so the table does not change with the date.
pub const NOW: i64 = 1_760_000_000;
/// The demo server listens on a free loopback port; five digits is the longest.
pub const DEMO_PORT: u16 = 54_321;
/// The verifier id of the demo officer's device (two-way challenges).
pub const DEMO_VERIFIER_ID: &str = "giayto-demo:officer";
/// A status-list index as the server draws it: random below 2^17, here six digits.
const STATUS_INDEX: u64 = 104_729;
/// A 128-bit nonce, base64url, as the wallet draws for a one-way presentation and the
/// verifier for a challenge.
const NONCE: &str = "q3Vb0-Jx8kT2mW5zLr7YcA";
/// A status-list id as the server makes it (`secrets::random_id`: 16 random bytes, hex).
const STATUS_LIST_ID: &str = "3f9c2a7e51d04b86a1e7c93d0f5b28e4";

/// Which credential a row presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    /// The full SD credential, showing the preset's disclosures.
    Full,
    /// The preset's purpose credential (no disclosures, no hidden digests).
    Purpose,
}

/// How a row is bound to the holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// KB-JWT for the offline audience with a fresh nonce.
    OneWay,
    /// KB-JWT answering the demo officer's challenge.
    TwoWay,
}

/// One measured presentation.
#[derive(Debug, Clone)]
pub struct Row {
    /// The document type.
    pub document: &'static DocumentType,
    /// The preset shown.
    pub preset: &'static str,
    /// Full or purpose credential.
    pub kind: CredentialKind,
    /// One-way or two-way.
    pub way: Way,
    /// The sizes.
    pub report: SizeReport,
    /// The packed QR text.
    pub qr_text: String,
}

/// The QR version (level M) a preset must not exceed when shown from its purpose credential
/// (issue 11): driving licence `traffic_stop` 18, `age_over_18` 15, every other preset 20;
/// `None` for `full`, which has no target.
pub fn target_version(document_id: &str, preset: &str) -> Option<u8> {
    match (document_id, preset) {
        (_, catalogue::FULL_PRESET) => None,
        ("driving_licence", "traffic_stop") => Some(18),
        (_, "age_over_18") => Some(15),
        _ => Some(20),
    }
}

/// The demo agency that issues `document` (see `giayto_server::demo::DEMO_AGENCIES`).
fn demo_agency(document: &DocumentType) -> Result<&'static str, CliError> {
    giayto_server::demo::DEMO_AGENCIES
        .iter()
        .find(|(_, _, _, types)| types.contains(&document.id))
        .map(|(id, ..)| *id)
        .ok_or_else(|| CliError::Format(format!("no demo agency issues {}", document.id)))
}

/// The `iss` the demo server gives an agency's credentials (`{public_url}/agencies/{id}`).
pub fn demo_issuer(agency: &str) -> String {
    format!("http://127.0.0.1:{DEMO_PORT}/agencies/{agency}")
}

/// The status reference the demo server writes (`{public_url}/status-lists/{list id}`).
pub fn demo_status() -> StatusReference {
    StatusReference {
        idx: STATUS_INDEX,
        uri: format!("http://127.0.0.1:{DEMO_PORT}/status-lists/{STATUS_LIST_ID}"),
    }
}

/// The issuance request for the example claims of `document`, bound to `holder`.
pub fn demo_request(
    document: &DocumentType,
    holder: &dyn Signer,
) -> Result<IssueRequest, CliError> {
    let Some(serde_json::Value::Object(claims)) = example_claims(document.id) else {
        return Err(CliError::Format(format!(
            "no example claims for {}",
            document.id
        )));
    };
    Ok(IssueRequest {
        issuer: demo_issuer(demo_agency(document)?),
        vct: document.vct.into(),
        claims,
        holder_jwk: Some(holder.public_jwk().map_err(format_error)?),
        status: Some(demo_status()),
        issued_at: NOW,
        not_before: None,
        expires_at: Some(NOW + 10 * 365 * 86_400),
    })
}

fn format_error(error: impl std::fmt::Display) -> CliError {
    CliError::Format(error.to_string())
}

/// Measures every preset of every document type: the full credential one-way, and each
/// purpose credential one-way and two-way. `issuer` signs, `holder` binds.
pub fn measure(issuer: &dyn Signer, holder: &dyn Signer) -> Result<Vec<Row>, CliError> {
    let one_way = KeyBindingTarget {
        aud: OFFLINE_AUDIENCE.to_owned(),
        nonce: NONCE.to_owned(),
    };
    let challenge = Challenge {
        verifier_id: DEMO_VERIFIER_ID.to_owned(),
        nonce: NONCE.to_owned(),
        expires_at: NOW + 120,
    };
    let mut rows = Vec::new();
    for document in catalogue::all() {
        let request = demo_request(document, holder)?;
        let full = issue_document(&request, issuer).map_err(format_error)?;
        for preset in document.presets() {
            let mut cases = vec![(CredentialKind::Full, Way::OneWay, full.clone())];
            if Purpose::of(document, preset.name).is_some() {
                let purpose = issue_purpose(&request, preset.name, issuer).map_err(format_error)?;
                cases.push((CredentialKind::Purpose, Way::OneWay, purpose.clone()));
                cases.push((CredentialKind::Purpose, Way::TwoWay, purpose));
            }
            for (kind, way, credential) in cases {
                let binding = match way {
                    Way::OneWay => Binding::Target(one_way.clone()),
                    Way::TwoWay => Binding::Challenge(challenge.clone()),
                };
                let out = present_credential(
                    &credential,
                    &Selection::Preset(preset.name.into()),
                    &binding,
                    holder,
                    NOW,
                )
                .map_err(format_error)?;
                rows.push(Row {
                    document,
                    preset: preset.name,
                    kind,
                    way,
                    report: size_report(&out.presentation).map_err(format_error)?,
                    qr_text: out.qr_text,
                });
            }
        }
    }
    Ok(rows)
}

/// Fresh ES256 issuer and holder keys, as the demo uses.
pub fn demo_keys() -> Result<(SoftwareSigner, SoftwareSigner), CliError> {
    Ok((
        SoftwareSigner::generate(Algorithm::Es256).map_err(format_error)?,
        SoftwareSigner::generate(Algorithm::Es256).map_err(format_error)?,
    ))
}

/// The README's table of `rows` (GitHub Markdown, a header and one line per row, each ending
/// in a newline): document, preset, credential, binding, compact SD-JWT+KB bytes, QR text
/// characters, QR version at level M, and the purpose credential's target version.
pub fn markdown_table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| document | preset | credential | binding | compact SD-JWT+KB (bytes) | QR text (chars) | version M | target |\n\
         | --- | --- | --- | --- | ---: | ---: | ---: | ---: |\n",
    );
    for row in rows {
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
        out.push_str(&format!(
            "| {} | {} | {kind} | {way} | {} | {} | {} | {target} |\n",
            row.document.id,
            row.preset,
            row.report.compact_len,
            row.report.qr_text_len,
            v(row.report.version_m),
        ));
    }
    out
}
