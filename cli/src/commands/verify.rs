//! `giayto verify`: one presentation (text, QR text, `-` or a QR image) to a verdict, with
//! the issuer keys of a trust list or given directly, and cached status lists.

use std::path::PathBuf;

use clap::Args;
use giayto_core::qr::{self, QrError, QrPayload};
use giayto_core::verifier::{IssuerTrust, Policy, Profile, verify_presentation};
use serde_json::json;

use crate::error::{CliError, EXIT_INVALID, EXIT_OK};
use crate::{ProfileArg, files, output, scan, unix_now};

/// `giayto verify` options.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A compact or JSON-serialized SD-JWT(+KB), giayto QR text, `-` for stdin, or the path
    /// of a file holding one of those or a PNG/JPEG image of the QR code.
    pub input: String,
    /// The profile checked.
    #[arg(long, value_enum, default_value = "sd-jwt-vc")]
    pub profile: ProfileArg,
    /// Trust this JWK or JWKS for any issuer and document type (testing against other
    /// issuers).
    #[arg(long, value_name = "FILE")]
    pub issuer_jwk: Option<PathBuf>,
    /// Do not use the network at all.
    #[arg(long)]
    pub offline: bool,
    /// The nonce of the challenge this verifier showed (two-way mode).
    #[arg(long)]
    pub nonce: Option<String>,
    /// The audience the key-binding JWT must name (this verifier's id).
    #[arg(long)]
    pub aud: Option<String>,
    /// The verifier's clock, Unix seconds (default: now).
    #[arg(long, value_name = "UNIX_SECONDS", allow_negative_numbers = true)]
    pub now: Option<i64>,
    /// Require a key-binding JWT (the default, except for a paper-form QR).
    #[arg(long, overrides_with = "no_require_kb")]
    pub require_kb: bool,
    /// Accept a presentation without a key-binding JWT.
    #[arg(long, overrides_with = "require_kb")]
    pub no_require_kb: bool,
}

/// A scan that could not be turned into a presentation: the same JSON shape as a verdict.
fn unreadable(error: &QrError, json: bool) -> Result<u8, CliError> {
    if json {
        let body = json!({
            "valid": false,
            "document_type": null,
            "issuer": null,
            "claims": [],
            "holder_binding": null,
            "status": "not_checked",
            "errors": [{"code": "qr_unreadable", "message": error.to_string()}],
            "warnings": [],
        });
        print!("{}", files::pretty_json(&body)?);
    } else {
        println!("KHÔNG HỢP LỆ / INVALID");
        println!("Lỗi / Error [qr_unreadable]: {error}");
    }
    Ok(EXIT_INVALID)
}

/// Runs `giayto verify`.
pub fn run(args: VerifyArgs, json: bool) -> Result<u8, CliError> {
    let now = args.now.unwrap_or_else(unix_now);
    let trust = match &args.issuer_jwk {
        Some(path) => IssuerTrust::Keys(files::read_public_keys(path)?),
        None => {
            return Err(CliError::Usage(
                "say which issuers to trust: --issuer-jwk FILE".into(),
            ));
        }
    };
    let text = scan::read_input(&args.input)?;
    let (presentation, paper) = if qr::text::split_prefix(&text).is_ok() {
        match qr::classify(&text, now) {
            Ok(QrPayload::Presentation(p)) => (p, false),
            Ok(QrPayload::Paper(p)) => (p, true),
            Ok(QrPayload::Challenge(_)) => {
                return Err(CliError::Usage(
                    "this QR is a verifier's challenge, not a presentation".into(),
                ));
            }
            Err(error) => return unreadable(&error, json),
        }
    } else {
        (text, false)
    };
    let require_key_binding = if args.require_kb {
        true
    } else if args.no_require_kb {
        false
    } else {
        !paper
    };
    let policy = Policy {
        profile: match args.profile {
            ProfileArg::SdJwtVc => Profile::SdJwtVc,
            ProfileArg::SdJwt => Profile::SdJwt,
        },
        require_key_binding,
        accepted_audiences: args.aud.map(|aud| vec![aud]),
        expected_nonce: args.nonce,
        ..Policy::default()
    };
    let statuses = giayto_core::status_list::StatusCache::new();
    let verdict = verify_presentation(&presentation, &policy, &trust, &statuses, now);
    if json {
        print!("{}", files::pretty_json(&output::verdict_json(&verdict)?)?);
    } else {
        print!("{}", output::verdict_text(&verdict));
    }
    Ok(if verdict.valid { EXIT_OK } else { EXIT_INVALID })
}
