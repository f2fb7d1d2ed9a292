//! `giayto verifier sync`: fill a verifier cache folder (see [`crate::verifier_cache`]) from
//! the pinned anchor and the trust list URL alone: the trust list, then every trusted
//! issuer's Status List Aggregation and every status list in it, with conditional requests
//! so a daily sync moves only what changed (core's sans-IO [`StatusSync`] over `ureq`);
//! `giayto verifier challenge`: a two-way challenge (`GTC1:`) for a wallet to answer.

use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, Subcommand};
use giayto_core::limits::MAX_TRUST_LIST_TOKEN_BYTES;
use giayto_core::qr::Challenge;
use giayto_core::qr::image::{render_png, render_svg, render_terminal};
use giayto_core::verifier::{StatusSync, SyncReport, VerifierDevice};
use serde_json::json;

use crate::error::{CliError, EXIT_INVALID, EXIT_OK};
use crate::verifier_cache::{CacheFolder, DESK_VERIFIER_ID};
use crate::{files, net, unix_now};

/// `giayto verifier` subcommands.
#[derive(Debug, Subcommand)]
pub enum VerifierCommand {
    /// Download the trust list and every trusted issuer's status lists into a cache folder,
    /// for `giayto verify --cache DIR` offline. Exit 1 when some list could not be synced
    /// (the others were).
    Sync(SyncArgs),
    /// Show a two-way challenge (`GTC1:` QR) for a wallet to answer with `giayto wallet
    /// present ID --preset P --challenge CHALLENGE`; prints the nonce and audience to verify
    /// the answer with (`giayto verify ANSWER --nonce N --aud ID`).
    Challenge(ChallengeArgs),
}

/// `giayto verifier challenge` options.
#[derive(Debug, Args)]
pub struct ChallengeArgs {
    /// This verifier's id: the audience the answer's key-binding JWT must name.
    #[arg(long, default_value = DESK_VERIFIER_ID)]
    pub verifier_id: String,
    /// How long the challenge may be answered, seconds.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(10..=3600))]
    pub ttl: u64,
    /// Where to draw the challenge's QR code (default: print its text).
    #[command(flatten)]
    pub qr: crate::QrOutArgs,
}

/// `giayto verifier sync` options.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The verifier cache folder (created if absent).
    #[arg(long, value_name = "DIR", env = "GIAYTO_VERIFIER_CACHE")]
    pub cache: PathBuf,
    /// The trust anchor's public JWK or JWKS to pin (needed at the first sync; later the
    /// folder's pinned anchor is used, and a different one is refused).
    #[arg(long, value_name = "JWK")]
    pub anchor: Option<PathBuf>,
    /// The trust list's http(s) URL (needed at the first sync; remembered).
    #[arg(long, value_name = "URL")]
    pub trust_list: Option<String>,
}

/// Runs `giayto verifier ...`.
pub fn run(command: VerifierCommand, json: bool) -> Result<u8, CliError> {
    match command {
        VerifierCommand::Sync(args) => sync(args, json),
        VerifierCommand::Challenge(args) => challenge(args, json),
    }
}

fn challenge(args: ChallengeArgs, json: bool) -> Result<u8, CliError> {
    let now = unix_now();
    let challenge = Challenge::new(
        args.verifier_id,
        std::time::Duration::from_secs(args.ttl),
        now,
    )?;
    let text = challenge.to_qr_text()?;
    let level = crate::output::QR_EC_LEVEL;
    let mut file = None;
    if let Some(path) = &args.qr.qr_png {
        files::write_public(path, &render_png(&text, level)?)?;
        file = Some(path);
    } else if let Some(path) = &args.qr.qr_svg {
        files::write_public(path, render_svg(&text, level)?.as_bytes())?;
        file = Some(path);
    }
    if json {
        let body = json!({
            "qr_text": text,
            "verifier_id": challenge.verifier_id,
            "nonce": challenge.nonce,
            "expires_at": challenge.expires_at,
            "file": file.map(|p| p.display().to_string()),
        });
        print!("{}", files::pretty_json(&body)?);
        return Ok(EXIT_OK);
    }
    if args.qr.qr_terminal {
        print!("{}", render_terminal(&text, level)?);
    } else if let Some(path) = file {
        println!("Đã ghi mã QR vào / QR code written to {}", path.display());
    } else {
        println!("{text}");
    }
    println!(
        "Thách thức / Challenge: {}, hết hạn / valid until {}",
        challenge.verifier_id,
        crate::dates::date_time(challenge.expires_at)
    );
    println!(
        "Kiểm tra câu trả lời / Verify the answer with: giayto verify ANSWER --nonce {} --aud {}",
        challenge.nonce, challenge.verifier_id
    );
    Ok(EXIT_OK)
}

fn sync(args: SyncArgs, json: bool) -> Result<u8, CliError> {
    let now = unix_now();
    let folder = CacheFolder::new(&args.cache);
    let pinned = folder.anchor()?;
    let anchors = match (&args.anchor, pinned) {
        (Some(path), Some(pinned)) => {
            let given = files::read_public_keys(path)?;
            if given != pinned {
                return Err(CliError::Usage(format!(
                    "{} pins another anchor; use a new cache folder to change it",
                    args.cache.display()
                )));
            }
            given
        }
        (Some(path), None) => files::read_public_keys(path)?,
        (None, Some(pinned)) => pinned,
        (None, None) => {
            return Err(CliError::Usage(
                "first sync of this folder: give --anchor JWK and --trust-list URL".into(),
            ));
        }
    };
    let url = match (args.trust_list, folder.trust_list_url()?) {
        (Some(url), _) | (None, Some(url)) => url,
        (None, None) => {
            return Err(CliError::Usage(
                "first sync of this folder: give --trust-list URL".into(),
            ));
        }
    };
    let mut device = VerifierDevice::new(anchors.clone(), DESK_VERIFIER_ID)
        .map_err(|e| CliError::Format(format!("anchor: {e}")))?;
    // The lists and their validators carry over; the trust list is replaced below (the
    // saved one may have expired, which must not stop a sync).
    if let Some(state) = folder.state()? {
        device.restore_status_cache(state.status_cache);
    }
    let agent = net::agent();
    let started = Instant::now();
    let token = String::from_utf8(net::get(&agent, &url, MAX_TRUST_LIST_TOKEN_BYTES as u64)?)
        .map_err(|_| CliError::Format(format!("{} is not text", net::redact_url(&url))))?;
    let issuers = device
        .load_trust_list(token.trim(), now)
        .map_err(|e| CliError::Format(format!("trust list {}: {e}", net::redact_url(&url))))?;
    let mut sync = device
        .start_status_sync(now)
        .map_err(|e| CliError::Format(e.to_string()))?;
    run_sync(&agent, &mut device, &mut sync);
    let report = sync.finish();
    let seconds = started.elapsed().as_secs_f64();
    folder.write_setup(&anchors, &url)?;
    folder.save(&device)?;
    let expires_at = device.trust_list().map(|t| t.expires_at()).unwrap_or(now);
    if json {
        let body = json!({
            "cache": args.cache.display().to_string(),
            "synced_at": now,
            "trust_list": { "issuers": issuers, "expires_at": expires_at },
            "report": report,
            "seconds": seconds,
        });
        println!("{}", files::pretty_json(&body)?);
    } else {
        print!(
            "{}",
            report_text(&folder, now, issuers, expires_at, &report, seconds)
        );
    }
    Ok(if report.failures.is_empty() {
        EXIT_OK
    } else {
        EXIT_INVALID
    })
}

/// Performs the sync's requests one after the other; a request that fails on the network
/// is reported by the sync, which goes on.
pub fn run_sync(agent: &ureq::Agent, device: &mut VerifierDevice, sync: &mut StatusSync) {
    while let Some(request) = sync.next_request(device) {
        match net::perform_bounded(agent, &request.http, request.max_body_bytes) {
            Ok(response) => sync.on_response(device, &response),
            Err(error) => sync.on_network_error(error.to_string()),
        }
    }
}

fn report_text(
    folder: &CacheFolder,
    now: i64,
    issuers: usize,
    trust_list_expires: i64,
    report: &SyncReport,
    seconds: f64,
) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Đã đồng bộ / Synced {} at {}",
        folder.dir().display(),
        crate::dates::date_time(now)
    );
    let _ = writeln!(
        s,
        "  Danh sách tin cậy / Trust list: {issuers} issuers, hiệu lực đến / valid until {}",
        crate::dates::date_time(trust_list_expires)
    );
    let _ = writeln!(
        s,
        "  Danh sách trạng thái / Status lists: {} from {} aggregations: {} downloaded, {} unchanged",
        report.lists, report.aggregations, report.downloaded, report.not_modified
    );
    let _ = writeln!(
        s,
        "  Đã nhận / Received: {} bytes in {} requests, {seconds:.1} s",
        report.bytes_received, report.requests
    );
    for failure in &report.failures {
        let _ = writeln!(
            s,
            "  Lỗi / Failed {}: {}: {}",
            if failure.aggregation {
                "aggregation"
            } else {
                "status list"
            },
            net::redact_url(&failure.uri),
            failure.reason
        );
    }
    s
}
