//! `giayto verify`: one presentation (text, QR text, `-` or a QR image) to a verdict, with
//! the issuer keys of a trust list or given directly, and cached status lists.

use std::path::PathBuf;

use clap::Args;
use giayto_core::jose::Jwks;
use giayto_core::jose::jws::CompactJws;
use giayto_core::qr::{self, QrPayload};
use giayto_core::sd_jwt::Presentation;
use giayto_core::status_list::{StatusCache, verify_token};
use giayto_core::trust_list::TrustList;
use giayto_core::verifier::{
    FailureCode, IssuerTrust, Policy, Profile, Verdict, verify_presentation,
};
use serde_json::Value;

use crate::error::{CliError, EXIT_INVALID, EXIT_OK};
use crate::{ProfileArg, files, net, output, scan, unix_now};

/// `giayto verify` options.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A compact or JSON-serialized SD-JWT(+KB), giayto QR text, `-` for stdin, or the path
    /// of a file holding one of those or a PNG/JPEG image of the QR code.
    pub input: String,
    /// The profile checked.
    #[arg(long, value_enum, default_value = "sd-jwt-vc")]
    pub profile: ProfileArg,
    /// The trust list (a JWT signed by the trust anchor), a file or an http(s) URL.
    #[arg(
        long,
        value_name = "FILE|URL",
        requires = "anchor",
        conflicts_with = "issuer_jwk"
    )]
    pub trust_list: Option<String>,
    /// The trust anchor's public JWK (pinned), to verify the trust list.
    #[arg(long, value_name = "JWK", requires = "trust_list")]
    pub anchor: Option<PathBuf>,
    /// Trust this JWK or JWKS for any issuer and document type (testing against other
    /// issuers).
    #[arg(long, value_name = "FILE")]
    pub issuer_jwk: Option<PathBuf>,
    /// A Token Status List (`statuslist+jwt`), a file or an http(s) URL; repeatable.
    #[arg(long, value_name = "FILE|URL")]
    pub status_list: Vec<String>,
    /// Do not use the network at all: URLs are refused.
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

/// Runs `giayto verify`.
pub fn run(args: VerifyArgs, json: bool) -> Result<u8, CliError> {
    let now = args.now.unwrap_or_else(unix_now);
    let fetcher = Fetcher::new(args.offline);
    let defaults = Policy::default();
    let trust = match (&args.issuer_jwk, &args.trust_list, &args.anchor) {
        (Some(path), _, _) => IssuerTrust::Keys(files::read_public_keys(path)?),
        (None, Some(source), Some(anchor)) => {
            let token = fetcher.text(source)?;
            let anchor = files::read_public_jwk(anchor)?;
            let list = TrustList::verify(
                token.trim(),
                &anchor,
                now,
                defaults.trust_list_grace_seconds,
            )
            .map_err(|e| CliError::Format(format!("trust list {source}: {e}")))?;
            IssuerTrust::TrustList(list)
        }
        _ => {
            return Err(CliError::Usage(
                "say which issuers to trust: --trust-list FILE|URL --anchor JWK, or --issuer-jwk FILE"
                    .into(),
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
            Err(error) => {
                let verdict = Verdict::refused(FailureCode::QrUnreadable, error.to_string());
                return report(&verdict, json);
            }
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
        ..defaults
    };
    let statuses = status_cache(&presentation, &trust, &args.status_list, &fetcher, now)?;
    let verdict = verify_presentation(&presentation, &policy, &trust, &statuses, now);
    report(&verdict, json)
}

/// Prints a verdict and gives its exit code.
fn report(verdict: &Verdict, json: bool) -> Result<u8, CliError> {
    if json {
        print!("{}", files::pretty_json(&output::verdict_json(verdict)?)?);
    } else {
        print!("{}", output::verdict_text(verdict));
    }
    Ok(if verdict.valid { EXIT_OK } else { EXIT_INVALID })
}

/// Reads trust and status lists from files or, unless offline, URLs.
struct Fetcher {
    agent: Option<ureq::Agent>,
}

impl Fetcher {
    fn new(offline: bool) -> Fetcher {
        Fetcher {
            agent: (!offline).then(net::agent),
        }
    }

    fn is_url(source: &str) -> bool {
        source.starts_with("https://") || source.starts_with("http://")
    }

    fn text(&self, source: &str) -> Result<String, CliError> {
        if !Self::is_url(source) {
            return files::read_text(std::path::Path::new(source));
        }
        let agent = self.agent.as_ref().ok_or_else(|| {
            CliError::Usage(format!(
                "{} is a URL but --offline forbids the network; give a file",
                net::redact_url(source)
            ))
        })?;
        String::from_utf8(net::get(agent, source, files::MAX_TEXT_FILE)?)
            .map_err(|_| CliError::Format(format!("{} is not text", net::redact_url(source))))
    }
}

/// The keys of the presentation's issuer, which sign its status lists; `None` when the
/// presentation cannot be read (the verifier then reports why).
fn issuer_keys(presentation: &str, trust: &IssuerTrust) -> Option<Jwks> {
    let payload = Presentation::parse(presentation)
        .ok()?
        .issuer_payload()
        .ok()?;
    let iss = payload.get("iss")?.as_str()?;
    match trust {
        IssuerTrust::Keys(keys) => Some(keys.clone()),
        IssuerTrust::TrustList(list) => list.issuer(iss).map(|issuer| issuer.jwks.clone()),
    }
}

/// Verifies each status list with the presentation issuer's keys and caches it. A list
/// that does not verify is left out with a warning on stderr; the verdict then says the
/// status could not be checked.
fn status_cache(
    presentation: &str,
    trust: &IssuerTrust,
    sources: &[String],
    fetcher: &Fetcher,
    now: i64,
) -> Result<StatusCache, CliError> {
    let mut cache = StatusCache::new();
    if sources.is_empty() {
        return Ok(cache);
    }
    let Some(keys) = issuer_keys(presentation, trust) else {
        return Ok(cache);
    };
    for source in sources {
        let token = fetcher.text(source)?;
        let token = token.trim();
        // A URL names the list; a file's list is named by its own (signed) `sub`.
        let uri = if Fetcher::is_url(source) {
            source.clone()
        } else {
            CompactJws::parse(token)
                .ok()
                .and_then(|jws| jws.payload_json::<Value>().ok())
                .and_then(|claims| claims.get("sub")?.as_str().map(str::to_owned))
                .unwrap_or_default()
        };
        match verify_token(token, &uri, &keys, now) {
            Ok(verified) => {
                cache.insert(verified, now);
            }
            Err(error) => eprintln!(
                "giayto: status list {} ignored: {error}",
                net::redact_url(source)
            ),
        }
    }
    Ok(cache)
}
