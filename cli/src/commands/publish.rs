//! `giayto publish`: streams an NDJSON file of publish requests to a giayto server's bulk
//! endpoint (`POST /api/v1/bulk/documents`), in batches of lines so neither side holds the
//! whole file, with a progress bar, then the credential offers and `tx_code`s the agency
//! hands to citizens and a summary of the lines that failed. Publishing is
//! idempotent (the agency's own document id), so a batch may be sent again after a failure.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize;

use crate::error::{CliError, EXIT_OK};
use crate::{files, net};

/// The server's bulk publishing route.
pub const BULK_PATH: &str = "/api/v1/bulk/documents";
/// Lines sent per request.
const LINES_PER_BATCH: usize = 500;
/// The longest input line accepted (the server's own limit is similar).
const MAX_LINE_BYTES: u64 = 1024 * 1024;
/// The largest answer to one batch.
const MAX_BATCH_RESPONSE: u64 = 64 * 1024 * 1024;

/// `giayto publish` options.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The server's base URL (`https://issuer.example.gov.vn`).
    #[arg(long)]
    pub server: String,
    /// The agency's API key (never printed).
    #[arg(long, env = "GIAYTO_API_KEY", hide_env_values = true)]
    pub api_key: String,
    /// One publish request (JSON) per line.
    #[arg(value_name = "FILE.ndjson")]
    pub file: PathBuf,
}

/// One result line of the server.
#[derive(Debug, Deserialize)]
struct ResultLine {
    line: usize,
    status: u16,
    #[serde(default)]
    document_id: Option<String>,
    #[serde(default)]
    error: Option<Problem>,
    #[serde(default)]
    offer: Option<OfferLine>,
}

/// The credential offer of a published line: what the agency hands to the citizen.
#[derive(Debug, Deserialize, serde::Serialize)]
struct OfferLine {
    offer_uri_by_reference: String,
    tx_code: String,
    #[serde(default)]
    qr_png_url: Option<String>,
    #[serde(default)]
    expires_at: Option<i64>,
}

/// A published line with its offer, for the summary.
#[derive(Debug, serde::Serialize)]
struct Offered {
    line: usize,
    document_id: Option<String>,
    #[serde(flatten)]
    offer: OfferLine,
}

#[derive(Debug, Deserialize)]
struct Problem {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    detail: Option<String>,
    #[serde(default)]
    field: Option<String>,
}

/// A failed line, for the summary.
#[derive(Debug, serde::Serialize)]
struct Failed {
    line: usize,
    status: u16,
    document_id: Option<String>,
    reason: String,
}

/// Runs `giayto publish`.
pub fn run(args: PublishArgs, json: bool) -> Result<u8, CliError> {
    let url = format!("{}{BULK_PATH}", args.server.trim_end_matches('/'));
    let file = files::open_regular(&args.file)?;
    let size = file.metadata().map(|m| m.len()).unwrap_or_default();
    let progress = if json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(size)
    };
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut reader = BufReader::new(file);
    let agent = net::agent();
    let authorization = format!("Bearer {}", args.api_key);
    let (mut total, mut published) = (0usize, 0usize);
    let mut failed = Vec::new();
    let mut offers = Vec::new();
    let mut first_line = 1usize;
    loop {
        let (batch, lines) = read_batch(&mut reader, &args.file)?;
        if lines == 0 {
            break;
        }
        let results = send_batch(&agent, &url, &authorization, &batch)?;
        for result in results {
            // The server numbers lines within the batch; report them within the file.
            let line = first_line + result.line.saturating_sub(1);
            total += 1;
            if result.status < 300 {
                published += 1;
                // A line published before (200) has no new offer.
                if let Some(offer) = result.offer {
                    offers.push(Offered {
                        line,
                        document_id: result.document_id,
                        offer,
                    });
                }
            } else {
                let reason = result
                    .error
                    .map(|p| {
                        let mut reason = p.title.unwrap_or_default();
                        if let Some(detail) = p.detail {
                            reason = format!("{reason}: {detail}");
                        }
                        if let Some(field) = p.field {
                            reason = format!("{reason} (field {field})");
                        }
                        reason
                    })
                    .unwrap_or_default();
                failed.push(Failed {
                    line,
                    status: result.status,
                    document_id: result.document_id,
                    reason,
                });
            }
        }
        first_line += lines;
        progress.inc(batch.len() as u64);
        progress.set_message(format!("{published} published, {} failed", failed.len()));
    }
    progress.finish_and_clear();
    if json {
        let body = serde_json::json!({
            "total": total,
            "published": published,
            "offers": offers,
            "failed": failed,
        });
        print!("{}", files::pretty_json(&body)?);
    } else {
        println!("{published} of {total} documents published");
        if !offers.is_empty() {
            println!(
                "Credential offers to hand to the citizens (the tx_code by another channel than \
                 the offer):"
            );
        }
        for o in &offers {
            println!(
                "line {}: {}  tx_code {}  {}{}",
                o.line,
                o.document_id.as_deref().unwrap_or("-"),
                o.offer.tx_code,
                o.offer.offer_uri_by_reference,
                o.offer
                    .qr_png_url
                    .as_deref()
                    .map(|u| format!("  QR: {u}"))
                    .unwrap_or_default()
            );
        }
        for f in &failed {
            println!(
                "line {}: {} {} {}",
                f.line,
                f.status,
                f.document_id.as_deref().unwrap_or("-"),
                f.reason
            );
        }
    }
    if failed.is_empty() {
        Ok(EXIT_OK)
    } else {
        Err(CliError::PublishFailed {
            failed: failed.len(),
            total,
        })
    }
}

/// Up to [`LINES_PER_BATCH`] lines (blank lines included, so numbering matches the file).
fn read_batch(
    reader: &mut impl BufRead,
    path: &std::path::Path,
) -> Result<(Vec<u8>, usize), CliError> {
    let mut batch = Vec::new();
    let mut lines = 0;
    while lines < LINES_PER_BATCH {
        let mut line = Vec::new();
        let read = reader
            .by_ref()
            .take(MAX_LINE_BYTES + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| CliError::read(path, e))?;
        if read == 0 {
            break;
        }
        if line.len() as u64 > MAX_LINE_BYTES {
            return Err(CliError::Format(format!(
                "{} line {}: longer than {MAX_LINE_BYTES} bytes",
                path.display(),
                lines + 1
            )));
        }
        if !line.ends_with(b"\n") {
            line.push(b'\n');
        }
        batch.extend_from_slice(&line);
        lines += 1;
    }
    Ok((batch, lines))
}

fn send_batch(
    agent: &ureq::Agent,
    url: &str,
    authorization: &str,
    batch: &[u8],
) -> Result<Vec<ResultLine>, CliError> {
    let mut response = agent
        .post(url)
        .header("Authorization", authorization)
        .header("Content-Type", "application/x-ndjson")
        .header("Accept", "application/x-ndjson")
        .send(batch)
        .map_err(|e| CliError::Network(format!("{}: {e}", net::redact_url(url))))?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_BATCH_RESPONSE)
        .read_to_vec()
        .map_err(|e| CliError::Network(format!("{}: {e}", net::redact_url(url))))?;
    if status != 200 {
        return Err(CliError::Network(format!(
            "{}: {}",
            net::redact_url(url),
            giayto_core::http_problem::status_message(status, &body)
        )));
    }
    let mut results = Vec::new();
    for (index, line) in body.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let result: ResultLine = serde_json::from_slice(line).map_err(|_| {
            CliError::Network(format!(
                "{}: result line {} is not a bulk result",
                net::redact_url(url),
                index + 1
            ))
        })?;
        results.push(result);
    }
    Ok(results)
}
