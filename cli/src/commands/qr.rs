//! `giayto qr encode | decode`: turn a presentation into a giayto QR code (text, PNG, SVG
//! or terminal), and read any giayto QR (text or image) back: what it holds, or with
//! `--text` its text as a barcode scanner types it.

use clap::{Args, Subcommand};
use giayto_core::oid4vp::Invocation;
use giayto_core::qr::{self, QrPayload};
use giayto_core::wallet::PresentationOutput;
use serde_json::json;

use crate::error::{CliError, EXIT_OK};
use crate::{QrOutArgs, files, output, scan, unix_now};

/// `giayto qr` subcommands.
#[derive(Debug, Subcommand)]
pub enum QrCommand {
    /// Pack a compact SD-JWT presentation into QR text, and optionally an image.
    Encode(EncodeArgs),
    /// Read a giayto QR (text, a file, `-`, or a PNG/JPEG image) back; a credential offer's
    /// QR (the server's `qr_png_url`) gives its `openid-credential-offer://` URI, a
    /// verifier's request QR (the desk's) its `openid4vp://` or `haip-vp://` URI.
    Decode(DecodeArgs),
}

/// `giayto qr encode` options.
#[derive(Debug, Args)]
pub struct EncodeArgs {
    /// The presentation: literal text, a file, or `-` for stdin.
    pub input: String,
    /// QR output.
    #[command(flatten)]
    pub qr: QrOutArgs,
}

/// `giayto qr decode` options.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// QR text, a file holding it, `-` for stdin, or a PNG/JPEG image.
    pub input: String,
    /// Print the QR's text exactly as a barcode scanner reads it (`GT2:…`, `GTP1:…`,
    /// `GTC1:…`, a credential offer URI or a verifier's `openid4vp://` request), on one line, instead of what it holds: for a
    /// desk's scan box or `giayto verify`. The text is checked to be a giayto QR first.
    #[arg(long)]
    pub text: bool,
}

/// Runs `giayto qr ...`.
pub fn run(command: QrCommand, json: bool) -> Result<u8, CliError> {
    match command {
        QrCommand::Encode(args) => {
            let presentation = scan::read_input(&args.input)?;
            let qr_text = qr::pack(&presentation)?;
            output::qr_text(
                &PresentationOutput {
                    presentation,
                    qr_text,
                },
                &args.qr,
                json,
            )?;
        }
        QrCommand::Decode(args) => {
            let text = scan::read_input(&args.input)?;
            let is_offer = text.starts_with(giayto_core::oid4vci::CREDENTIAL_OFFER_SCHEME);
            // A verifier's OpenID4VP request (the desk's `/api/requests/{id}/qr.png`).
            let request = Invocation::parse(&text).ok();
            if args.text {
                // Only a giayto QR's text (base45 and the prefix, or a URI) reaches the
                // terminal: never what an arbitrary image might hold (control characters).
                if !is_offer && request.is_none() {
                    qr::text::split_prefix(&text)?;
                }
                if text.chars().any(char::is_control) {
                    return Err(CliError::Format(
                        "the QR text holds control characters".into(),
                    ));
                }
                if json {
                    print!("{}", files::pretty_json(&json!({ "qr_text": text }))?);
                } else {
                    println!("{text}");
                }
                return Ok(EXIT_OK);
            }
            // The issuance server's offer QR (`qr_png_url`) carries an OpenID4VCI offer URI.
            if is_offer {
                if json {
                    let body = json!({"kind": "credential_offer", "offer_uri": text});
                    print!("{}", files::pretty_json(&body)?);
                } else {
                    println!("{text}");
                    eprintln!(
                        "Lời mời nhận giấy tờ (OpenID4VCI) / A credential offer (OpenID4VCI): \
                         receive it with `giayto wallet receive {} --tx-code CODE`",
                        args.input
                    );
                }
                return Ok(EXIT_OK);
            }
            if let Some(request) = request {
                if json {
                    let body = json!({
                        "kind": "presentation_request",
                        "request": text,
                        "client_id": request.client_id,
                        "request_uri": request.request_uri,
                    });
                    print!("{}", files::pretty_json(&body)?);
                } else {
                    println!("{text}");
                    eprintln!(
                        "Yêu cầu xuất trình giấy tờ (OpenID4VP) / A verifier's presentation \
                         request (OpenID4VP) from {}: answer it with `giayto wallet respond {}`",
                        request.client_id, args.input
                    );
                }
                return Ok(EXIT_OK);
            }
            let (kind, body) = match qr::classify(&text, unix_now())? {
                QrPayload::Presentation(p) => ("presentation", json!({"presentation": p})),
                QrPayload::Paper(p) => ("paper", json!({"presentation": p})),
                QrPayload::Challenge(c) => (
                    "challenge",
                    json!({"verifier_id": c.verifier_id, "nonce": c.nonce, "expires_at": c.expires_at}),
                ),
            };
            if json {
                let mut body = body;
                body["kind"] = json!(kind);
                body["qr_text"] = json!(text);
                print!("{}", files::pretty_json(&body)?);
            } else if let Some(p) = body.get("presentation").and_then(|p| p.as_str()) {
                println!("{p}");
            } else {
                println!(
                    "Thách thức / Challenge from {} (nonce {}, hết hạn / valid until {})",
                    body["verifier_id"].as_str().unwrap_or_default(),
                    body["nonce"].as_str().unwrap_or_default(),
                    body["expires_at"]
                        .as_i64()
                        .map(crate::dates::date_time)
                        .unwrap_or_default()
                );
            }
        }
    }
    Ok(EXIT_OK)
}
