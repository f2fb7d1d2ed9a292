//! `giayto wallet respond`: answer a verifier's OpenID4VP request (its `openid4vp://` or
//! `haip-vp://` link, or a picture of its QR code) from the wallet, through core's sans-IO
//! [`PresentationSession`]: show who asks (registered names, or "not registered") and what
//! would be shared, ask for consent, post the encrypted answer, print the outcome.

use std::collections::HashMap;
use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::PathBuf;

use clap::Args;
use giayto_core::jose::SoftwareSigner;
use giayto_core::limits::MAX_TRUST_LIST_TOKEN_BYTES;
use giayto_core::oid4vp::{
    Consent, Oid4vpError, PresentationSession, RegistrationPolicy, RequestView, request,
};
use giayto_core::trust_list::TrustList;
use giayto_core::verifier::Policy;
use giayto_core::wallet::Wallet;
use serde_json::json;

use crate::error::{CliError, EXIT_INVALID, EXIT_OK};
use crate::{dates, files, net, scan, unix_now};

/// `giayto wallet respond` options.
#[derive(Debug, Args)]
pub struct RespondArgs {
    /// The verifier's request: an `openid4vp://` or `haip-vp://` URI, a file holding it,
    /// `-` for stdin, or a PNG/JPEG image of its QR code.
    pub request: String,
    /// The trust list (a JWT signed by the trust anchor), a file or an http(s) URL: it
    /// names the verifier registrars and the registered verifiers.
    #[arg(long, value_name = "FILE|URL")]
    pub trust_list: String,
    /// The trust anchor's public JWK (pinned), to verify the trust list.
    #[arg(long, value_name = "JWK")]
    pub anchor: PathBuf,
    /// Consent without asking (scripts).
    #[arg(long)]
    pub yes: bool,
    /// Refuse a verifier that asks beyond its registration (default: warn and ask).
    #[arg(long)]
    pub strict: bool,
    /// Also share what the request marks optional.
    #[arg(long)]
    pub include_optional: bool,
}

/// Runs `giayto wallet respond` with the wallet and every key that may sign for it.
pub fn run(
    wallet: &mut Wallet,
    keys: &HashMap<String, SoftwareSigner>,
    args: RespondArgs,
    json: bool,
) -> Result<u8, CliError> {
    let now = unix_now();
    let invocation = read_invocation(&args.request)?;
    let agent = net::agent_without_redirects();
    let trust_list = {
        let token =
            if args.trust_list.starts_with("https://") || args.trust_list.starts_with("http://") {
                String::from_utf8(net::get(
                    &net::agent(),
                    &args.trust_list,
                    MAX_TRUST_LIST_TOKEN_BYTES as u64,
                )?)
                .map_err(|_| CliError::Format("the trust list is not text".into()))?
            } else {
                String::from_utf8(files::read_bounded(
                    std::path::Path::new(&args.trust_list),
                    MAX_TRUST_LIST_TOKEN_BYTES as u64,
                )?)
                .map_err(|_| CliError::Format("the trust list is not text".into()))?
            };
        let anchor = files::read_public_jwk(&args.anchor)?;
        TrustList::verify(
            token.trim(),
            &anchor,
            now,
            Policy::default().trust_list_grace_seconds,
        )
        .map_err(|e| CliError::Format(format!("trust list: {e}")))?
    };
    let (mut session, get) = PresentationSession::start(&invocation).map_err(refused)?;
    let response = net::perform_bounded(&agent, &get, request::MAX_REQUEST_OBJECT_BYTES + 1)?;
    let policy = if args.strict {
        RegistrationPolicy::RefuseBeyond
    } else {
        RegistrationPolicy::Warn
    };
    let view = match session.on_request_object(&response, &trust_list, wallet, policy, now) {
        Ok(view) => view,
        Err(error @ Oid4vpError::BeyondRegistration(_)) => {
            // Tell the verifier, then the holder; the refusal stands even if the POST fails.
            if let Ok(decline) = session.decline() {
                let _ = net::perform(&agent, &decline);
            }
            return Err(refused(error));
        }
        Err(error) => return Err(refused(error)),
    };
    if !json {
        print!("{}", view_text(&view));
    }
    let consent = if args.yes {
        true
    } else if json || !std::io::stdin().is_terminal() {
        return Err(CliError::Usage(
            "consent is asked on a terminal; give --yes to answer without asking".into(),
        ));
    } else {
        ask("Chia sẻ những thông tin này? / Share this? [y/N] ")?
    };
    if !consent {
        let decline = session.decline().map_err(refused)?;
        let reply = net::perform(&agent, &decline)?;
        let _ = session.on_response(&reply);
        if json {
            print!(
                "{}",
                files::pretty_json(&json!({"request": view, "shared": false}))?
            );
        } else {
            println!("Đã từ chối / Declined");
        }
        return Ok(EXIT_INVALID);
    }
    let consent = if args.include_optional {
        Consent::All
    } else {
        Consent::Required
    };
    let post = session
        .respond(wallet, keys, consent, unix_now())
        .map_err(refused)?;
    let reply = net::perform(&agent, &post)?;
    let outcome = session.on_response(&reply).map_err(refused)?;
    if json {
        print!(
            "{}",
            files::pretty_json(&json!({
                "request": view,
                "shared": true,
                "redirect_uri": outcome.redirect_uri,
            }))?
        );
    } else {
        println!("Đã gửi / Sent");
        if let Some(uri) = &outcome.redirect_uri {
            println!("Tiếp tục tại / Continue at: {uri}");
        }
    }
    Ok(EXIT_OK)
}

/// A literal `openid4vp://` or `haip-vp://` URI, else what [`scan::read_input`] reads (a
/// file, stdin or a QR image).
fn read_invocation(input: &str) -> Result<String, CliError> {
    let trimmed = input.trim();
    if trimmed.starts_with("openid4vp:") || trimmed.starts_with("haip-vp:") {
        return Ok(trimmed.to_owned());
    }
    scan::read_input(input)
}

fn refused(error: Oid4vpError) -> CliError {
    CliError::Format(format!("OpenID4VP: {error}"))
}

fn ask(prompt: &str) -> Result<bool, CliError> {
    print!("{prompt}");
    std::io::stdout()
        .flush()
        .map_err(|e| CliError::write(std::path::Path::new("-"), e))?;
    // One line of at most 64 bytes (a consent answer), whatever is typed.
    let mut line = String::new();
    std::io::Read::take(std::io::stdin().lock(), 64)
        .read_line(&mut line)
        .map_err(|e| CliError::read(std::path::Path::new("-"), e))?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "có" | "co"))
}

/// The consent screen as text: who asks, warnings, then each document with its claims.
pub fn view_text(view: &RequestView) -> String {
    let mut out = String::new();
    match &view.verifier_name {
        Some(name) => out.push_str(&format!(
            "Bên yêu cầu / Requested by: {} / {}\n",
            name.vi, name.en
        )),
        None => out.push_str("Bên yêu cầu / Requested by: chưa đăng ký / not registered\n"),
    }
    out.push_str(&format!("  {}\n", view.client_id));
    out.push_str(&format!("  Gửi tới / Sent to: {}\n", view.response_host));
    out.push_str(&format!(
        "  Hết hạn / Expires: {}\n",
        dates::date_time(view.expires_at)
    ));
    for warning in &view.warnings {
        out.push_str(&format!("⚠ {}\n⚠ {}\n", warning.vi, warning.en));
    }
    out.push_str("Sẽ chia sẻ / Will share:\n");
    for document in &view.documents {
        let name = document
            .name
            .as_ref()
            .map(|n| format!("{} / {}", n.vi, n.en))
            .unwrap_or_else(|| document.vct.clone());
        let optional = if document.optional {
            " (tùy chọn / optional)"
        } else {
            ""
        };
        out.push_str(&format!("  {name}{optional}\n"));
        for claim in &document.claims {
            let label = claim
                .label
                .as_ref()
                .map(|l| format!("{} / {}", l.vi, l.en))
                .unwrap_or_else(|| claim.path.clone());
            let value = crate::output::value_text(&claim.path, &claim.value);
            out.push_str(&format!("    {label}: {value}\n"));
        }
    }
    out
}
