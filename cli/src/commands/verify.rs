//! `giayto verify`: one presentation (text, QR text, `-` or a QR image) to a verdict, with
//! the issuer keys of a trust list or given directly, and status lists from a verifier
//! cache folder, files, or fetched online (and then kept in the cache folder).

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use giayto_core::limits::{MAX_STATUS_LIST_TOKEN_BYTES, MAX_TRUST_LIST_TOKEN_BYTES};
use giayto_core::qr::{self, QrPayload};
use giayto_core::status_list::{StatusCache, StatusLookup};
use giayto_core::trust_list::TrustList;
use giayto_core::verifier::{
    FailureCode, IssuerTrust, Policy, Profile, StatusStrictness, Verdict, VerifierDevice,
    unverified_envelope, verify_presentation, verify_status_list_for,
};

use crate::error::{CliError, EXIT_INVALID, EXIT_OK};
use crate::verifier_cache::CacheFolder;
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
    /// A verifier cache folder filled by `giayto verifier sync`: its pinned anchor, trust
    /// list and status lists are used (offline), and a status list fetched online is added
    /// to it.
    #[arg(
        long,
        value_name = "DIR",
        env = "GIAYTO_VERIFIER_CACHE",
        conflicts_with_all = ["issuer_jwk", "trust_list"]
    )]
    pub cache: Option<PathBuf>,
    /// A status list past its `ttl`: warn (default) or fail.
    #[arg(long, value_enum, default_value = "warn")]
    pub stale_status: StrictnessArg,
    /// A status list past its `exp`: fail (default) or warn (the expired list's value is
    /// still used).
    #[arg(long, value_enum, default_value = "fail")]
    pub expired_status: StrictnessArg,
    /// The trust anchor's public JWK (pinned), to verify the trust list.
    #[arg(long, value_name = "JWK", requires = "trust_list")]
    pub anchor: Option<PathBuf>,
    /// Trust this JWK or JWKS for any issuer and document type (testing against other
    /// issuers).
    #[arg(long, value_name = "FILE")]
    pub issuer_jwk: Option<PathBuf>,
    /// A Token Status List (`statuslist+jwt`), a file or an http(s) URL; repeatable. Without
    /// `--offline`, the list the document names is fetched when none is given.
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

/// How a status list past its `ttl` or `exp` is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StrictnessArg {
    /// Refuse the document.
    Fail,
    /// Accept it with a warning.
    Warn,
}

impl From<StrictnessArg> for StatusStrictness {
    fn from(arg: StrictnessArg) -> StatusStrictness {
        match arg {
            StrictnessArg::Fail => StatusStrictness::Fail,
            StrictnessArg::Warn => StatusStrictness::Warn,
        }
    }
}

/// Runs `giayto verify`.
pub fn run(args: VerifyArgs, json: bool) -> Result<u8, CliError> {
    let now = args.now.unwrap_or_else(unix_now);
    let fetcher = Fetcher::new(args.offline);
    let defaults = Policy::default();
    let folder = args.cache.as_ref().map(CacheFolder::new);
    let mut device = folder.as_ref().map(|f| f.device(now)).transpose()?;
    let trust = match (&args.issuer_jwk, &args.trust_list, &args.anchor) {
        _ if device.is_some() => {
            let list = device
                .as_ref()
                .and_then(VerifierDevice::trust_list)
                .ok_or_else(|| {
                    CliError::Usage(
                        "the verifier cache holds no trust list: run `giayto verifier sync`".into(),
                    )
                })?;
            IssuerTrust::TrustList(list.clone())
        }
        (Some(path), _, _) => IssuerTrust::Keys(files::read_public_keys(path)?),
        (None, Some(source), Some(anchor)) => {
            let token = fetcher.text(source, MAX_TRUST_LIST_TOKEN_BYTES)?;
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
        stale_status: args.stale_status.into(),
        expired_status: args.expired_status.into(),
        // With a cache folder, the device's replay cache, saved in the folder: a one-way QR
        // shown to one `giayto verify` run is refused by the next.
        replay_cache: match &device {
            Some(device) => Some(device.replay_cache().clone()),
            None => defaults.replay_cache.clone(),
        },
        ..defaults
    };
    let memory = policy.replay_cache.clone();
    let seen_before = memory.as_ref().map(|m| m.live_proofs(i64::MIN));
    // The first check remembers its proof in a copy: when the list the document names is
    // fetched below, the presentation is checked again and must not meet its own proof.
    let mut policy = Policy {
        replay_cache: memory.as_ref().map(|m| Arc::new(m.snapshot())),
        ..policy
    };
    let cached = device
        .as_ref()
        .map(|d| d.status_cache().clone())
        .unwrap_or_default();
    let statuses = status_cache(
        cached,
        &presentation,
        policy.profile,
        &trust,
        &args.status_list,
        &fetcher,
        now,
    )?;
    if let (Some(folder), Some(device)) = (&folder, &mut device)
        && &statuses != device.status_cache()
    {
        // A list fetched online (or given with --status-list) joins the cache folder.
        device.restore_status_cache(statuses.clone());
        folder.save(device)?;
    }
    let mut verdict = verify_presentation(&presentation, &policy, &trust, &statuses, now);
    let first_check_memory = policy.replay_cache.take();
    // Online, the list the document names is fetched only once its issuer's signature has
    // verified (`verdict.issuer`), so an arbitrary QR cannot make the verifier fetch a URL
    // of its choosing; then the presentation is checked again with it.
    if verdict.issuer.is_some()
        && let Some(statuses) = fetch_named_list(
            &statuses,
            &presentation,
            &policy,
            &trust,
            &args.status_list,
            &fetcher,
            now,
        )
    {
        if let (Some(folder), Some(device)) = (&folder, &mut device) {
            device.restore_status_cache(statuses.clone());
            folder.save(device)?;
        }
        policy.replay_cache = memory.clone();
        verdict = verify_presentation(&presentation, &policy, &trust, &statuses, now);
    } else if let (Some(memory), Some(first)) = (&memory, &first_check_memory) {
        memory
            .merge_saved(&first.live_proofs(i64::MIN), now)
            .map_err(|e| CliError::Format(e.to_string()))?;
    }
    if let (Some(folder), Some(device), Some(before)) = (&folder, &device, &seen_before)
        && &device.replay_cache().live_proofs(i64::MIN) != before
    {
        folder.save(device)?;
    }
    explain_missing_status(&mut verdict, args.offline, args.cache.as_deref());
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

/// Tells how to supply a status list the verdict says is missing: with a cache folder, sync
/// it; offline, give it with `--status-list FILE`; online, the fetch failed and its reason
/// was printed on stderr.
fn explain_missing_status(verdict: &mut Verdict, offline: bool, cache: Option<&std::path::Path>) {
    let hint = match (cache, offline) {
        (Some(dir), _) => format!(
            "; the verifier cache does not hold it: run `giayto verifier sync --cache {}` while online",
            dir.display()
        ),
        (None, true) => "; offline, give it with --status-list FILE (the statuslist+jwt downloaded from that URI)".to_owned(),
        (None, false) => "; it could not be fetched (the reason is printed above); give it with --status-list FILE".to_owned(),
    };
    for failure in verdict.errors.iter_mut().chain(verdict.warnings.iter_mut()) {
        if failure.code == FailureCode::StatusListMissing {
            failure.message.push_str(&hint);
        }
    }
}

/// How many fetched documents one run keeps in memory.
const FETCH_CACHE_ENTRIES: usize = 8;

/// Reads trust and status lists from files or, unless offline, URLs (bounded in size by the
/// input kind's limit and in time by [`net::agent`]'s timeout), keeping what it fetched for
/// the rest of the run so a URL is fetched at most once.
struct Fetcher {
    agent: Option<ureq::Agent>,
    fetched: RefCell<Vec<(String, String)>>,
}

impl Fetcher {
    fn new(offline: bool) -> Fetcher {
        Fetcher {
            agent: (!offline).then(net::agent),
            fetched: RefCell::new(Vec::new()),
        }
    }

    fn is_url(source: &str) -> bool {
        source.starts_with("https://") || source.starts_with("http://")
    }

    /// The text of a file or URL of at most `limit` bytes (the input kind's limit from
    /// `giayto_core::limits`: the same for both paths).
    fn text(&self, source: &str, limit: usize) -> Result<String, CliError> {
        if !Self::is_url(source) {
            let path = std::path::Path::new(source);
            return String::from_utf8(files::read_bounded(path, limit as u64)?)
                .map_err(|_| CliError::Format(format!("{source} is not UTF-8 text")));
        }
        if let Some((_, text)) = self.fetched.borrow().iter().find(|(url, _)| url == source) {
            return Ok(text.clone());
        }
        let agent = self.agent.as_ref().ok_or_else(|| {
            CliError::Usage(format!(
                "{} is a URL but --offline forbids the network; give a file",
                net::redact_url(source)
            ))
        })?;
        let text = String::from_utf8(net::get(agent, source, limit as u64)?)
            .map_err(|_| CliError::Format(format!("{} is not text", net::redact_url(source))))?;
        let mut fetched = self.fetched.borrow_mut();
        if fetched.len() >= FETCH_CACHE_ENTRIES {
            fetched.remove(0);
        }
        fetched.push((source.to_owned(), text.clone()));
        Ok(text)
    }
}

/// Verifies each status list given (`--status-list`) with the keys of the trusted issuer
/// that signed it, and caches it (the list the document names is fetched later, by
/// [`fetch_named_list`], once the issuer's signature verified). A list that cannot be read
/// or does not verify is left out with its reason on stderr; the verdict then says the
/// status could not be checked.
fn status_cache(
    mut cache: StatusCache,
    presentation: &str,
    profile: Profile,
    trust: &IssuerTrust,
    sources: &[String],
    fetcher: &Fetcher,
    now: i64,
) -> Result<StatusCache, CliError> {
    // The list the document names, read before verification only to know which to load.
    let Some(reference) = unverified_envelope(presentation, profile).and_then(|e| e.status) else {
        return Ok(cache);
    };
    for source in sources {
        // A URL names the list it serves; a file is checked against the list the document
        // names (its signed `sub` must be that URI).
        let uri = if Fetcher::is_url(source) {
            source.as_str()
        } else {
            reference.uri.as_str()
        };
        load_status_list(&mut cache, fetcher, trust, source, uri, now);
    }
    Ok(cache)
}

/// Online, when `cache` lacks the list the presentation names, or holds it past its `ttl` or
/// `exp`, and it was not already tried as a `--status-list` source: fetches it and returns
/// the cache with it (`None` when nothing was fetched or it did not verify). Call only once
/// the issuer's signature verified.
fn fetch_named_list(
    cache: &StatusCache,
    presentation: &str,
    policy: &Policy,
    trust: &IssuerTrust,
    sources: &[String],
    fetcher: &Fetcher,
    now: i64,
) -> Option<StatusCache> {
    let reference = unverified_envelope(presentation, policy.profile).and_then(|e| e.status)?;
    let current = matches!(
        cache.lookup(&reference, now),
        StatusLookup::Fresh(_) | StatusLookup::IndexOutOfRange { .. }
    );
    let tried = sources.iter().any(|s| s == &reference.uri);
    if current || tried || fetcher.agent.is_none() || !Fetcher::is_url(&reference.uri) {
        return None;
    }
    let mut cache = cache.clone();
    load_status_list(
        &mut cache,
        fetcher,
        trust,
        &reference.uri,
        &reference.uri,
        now,
    )
    .then_some(cache)
}

/// Reads the status list at `source`, verifies it as the list published at `uri` and caches
/// it; on failure prints the reason (too large, not signed by a trusted issuer, for another
/// URI, ...) and leaves it out. Whether it was cached.
fn load_status_list(
    cache: &mut StatusCache,
    fetcher: &Fetcher,
    trust: &IssuerTrust,
    source: &str,
    uri: &str,
    now: i64,
) -> bool {
    let verified = fetcher
        .text(source, MAX_STATUS_LIST_TOKEN_BYTES)
        .map_err(|e| e.to_string())
        .and_then(|token| {
            verify_status_list_for(trust, uri, &token, now).map_err(|e| e.to_string())
        });
    match verified {
        Ok(verified) => {
            cache.insert(verified, now);
            true
        }
        Err(error) => {
            eprintln!(
                "giayto: status list {} ignored: {error}",
                net::redact_url(source)
            );
            false
        }
    }
}
