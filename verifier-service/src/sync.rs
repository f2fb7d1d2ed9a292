//! Keeping the trust list and status lists fresh in the background: every interval, the
//! trust list is fetched from the issuer's URL and verified against the pinned anchor, then
//! core's sans-IO status sync ([`giayto_core::verifier::StatusSync`]: aggregations,
//! conditional requests, the offline rules and bounds it already has) runs over ureq. The
//! sync works on a copy of the device's state and swaps the result in at the end, so
//! verification never waits for the network. With a state folder, what was synced is saved
//! after each run and loaded at start.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use giayto_core::jose::Jwks;
use giayto_core::limits::{MAX_STATUS_LIST_TOKEN_BYTES, MAX_TRUST_LIST_TOKEN_BYTES};
use giayto_core::oid4vci::{HttpRequest, HttpResponse, Method};
use giayto_core::status_list::Validators;
use giayto_core::verifier::{
    DeviceState, MAX_STATUS_CACHE_DECODED_BYTES, SyncReport, VerifierDevice,
};

use crate::service::Verifier;

/// How long one HTTP exchange may take in all.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// What one sync run did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SyncOutcome {
    /// Issuers on the trust list now in use.
    pub issuers: usize,
    /// The status sync's report.
    pub status: SyncReport,
}

/// An agent that returns 4xx/5xx responses instead of failing on them.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(HTTP_TIMEOUT))
        .user_agent(concat!("giayto-verifier/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// Performs a GET of a sans-IO core client, reading at most `limit` body bytes.
fn perform(
    agent: &ureq::Agent,
    request: &HttpRequest,
    limit: usize,
) -> Result<HttpResponse, String> {
    let url = redact(&request.url);
    if request.method != Method::Get {
        return Err(format!("{url}: only GET is used here"));
    }
    let mut builder = agent.get(request.url.as_str());
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let mut response = builder.call().map_err(|e| format!("{url}: {e}"))?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
        .collect();
    let body = response
        .body_mut()
        .with_config()
        .limit(u64::try_from(limit).unwrap_or(u64::MAX))
        .read_to_vec()
        .map_err(|e| format!("{url}: {e}"))?;
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

/// The URL without its query and fragment, for messages.
fn redact(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or_default()
}

/// How long an on-demand status list fetch may take in all (it runs while a verdict waits).
pub const ON_DEMAND_TIMEOUT: Duration = Duration::from_secs(10);
/// The most status lists fetched on demand for one verdict.
pub const MAX_ON_DEMAND_LISTS: usize = 4;

/// An agent for on-demand fetches: [`ON_DEMAND_TIMEOUT`] in all.
pub fn on_demand_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(ON_DEMAND_TIMEOUT))
        .user_agent(concat!("giayto-verifier/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// Fetches the status lists that verified presentations named and the cache lacked (the
/// device records only those, after the issuer's signature verified), at most
/// [`MAX_ON_DEMAND_LISTS`], and loads each (verified with its issuer's keys from the trust
/// list); returns how many loaded. Failures are logged: the verdict then says the list is
/// missing, as it did.
pub fn fetch_missing_status_lists(service: &Verifier, agent: &ureq::Agent, now: i64) -> usize {
    let wanted: Vec<String> = service
        .device()
        .missing_status_lists()
        .iter()
        .take(MAX_ON_DEMAND_LISTS)
        .cloned()
        .collect();
    let mut loaded = 0;
    for uri in wanted {
        let request = HttpRequest {
            method: Method::Get,
            url: uri.clone(),
            headers: vec![("Accept".into(), "application/statuslist+jwt".into())],
            body: None,
        };
        let outcome = perform(agent, &request, MAX_STATUS_LIST_TOKEN_BYTES).and_then(|response| {
            if response.status != 200 {
                return Err(format!(
                    "{}: {}",
                    redact(&uri),
                    giayto_core::http_problem::status_message(response.status, &response.body)
                ));
            }
            let token = std::str::from_utf8(&response.body)
                .map_err(|_| format!("{}: not text", redact(&uri)))?;
            let validators = Validators {
                etag: response.header("etag").map(str::to_owned),
                last_modified: response.header("last-modified").map(str::to_owned),
            };
            service
                .device()
                .load_status_list_with_validators(&uri, token.trim(), validators, now)
                .map_err(|e| format!("{}: {e}", redact(&uri)))
        });
        match outcome {
            Ok(()) => loaded += 1,
            Err(reason) => tracing::warn!(%reason, "on-demand status list fetch failed"),
        }
    }
    loaded
}

/// One blocking sync run against `trust_list_url` at `now`, on a copy of `service`'s
/// device, swapped in at the end. An unreachable or invalid trust list keeps the one in
/// use (error returned); failed status lists are in the report and the others are kept.
pub fn sync_once(
    service: &Verifier,
    anchors: &Jwks,
    agent: &ureq::Agent,
    trust_list_url: &str,
    now: i64,
) -> Result<SyncOutcome, String> {
    let state = service.device().export_state();
    let mut shadow = VerifierDevice::new(anchors.clone(), service.client_id())
        .map_err(|e| format!("anchor: {e}"))?;
    shadow
        .import_state(state, now)
        .map_err(|e| format!("cached state: {e}"))?;
    let request = HttpRequest {
        method: Method::Get,
        url: trust_list_url.to_owned(),
        headers: vec![("Accept".into(), "application/jwt".into())],
        body: None,
    };
    let response = perform(agent, &request, MAX_TRUST_LIST_TOKEN_BYTES)?;
    if response.status != 200 {
        return Err(format!(
            "{}: {}",
            redact(trust_list_url),
            giayto_core::http_problem::status_message(response.status, &response.body)
        ));
    }
    let token = std::str::from_utf8(&response.body)
        .map_err(|_| format!("{}: the trust list is not text", redact(trust_list_url)))?;
    let issuers = shadow
        .load_trust_list(token, now)
        .map_err(|e| format!("{}: {e}", redact(trust_list_url)))?;
    let mut sync = shadow.start_status_sync(now).map_err(|e| e.to_string())?;
    while let Some(request) = sync.next_request(&shadow) {
        match perform(agent, &request.http, request.max_body_bytes) {
            Ok(response) => sync.on_response(&mut shadow, &response),
            Err(reason) => sync.on_network_error(reason),
        }
    }
    let status = sync.finish();
    service
        .device()
        .import_state(shadow.export_state(), now)
        .map_err(|e| e.to_string())?;
    Ok(SyncOutcome { issuers, status })
}

/// The largest `state.json` read: the decoded status cache bound, plus room for base64 and
/// JSON.
pub const MAX_STATE_FILE_BYTES: u64 = (MAX_STATUS_CACHE_DECODED_BYTES as u64) * 3 / 2;
/// The state file's name in the state folder.
pub const STATE_FILE: &str = "state.json";

/// Loads the state saved in `dir` into `device` (the trust list verified again against the
/// pinned anchor at `now`); `Ok(false)` when there is none.
pub fn load_state(device: &mut VerifierDevice, dir: &Path, now: i64) -> Result<bool, String> {
    let path = dir.join(STATE_FILE);
    let file = match std::fs::File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let mut bytes = Vec::new();
    file.take(MAX_STATE_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() as u64 > MAX_STATE_FILE_BYTES {
        return Err(format!(
            "{}: larger than {MAX_STATE_FILE_BYTES} bytes",
            path.display()
        ));
    }
    let state: DeviceState =
        serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    device
        .import_state(state, now)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(true)
}

/// Saves `service`'s device state into `dir` atomically (a temporary file in the folder,
/// synced, renamed over the old one).
pub fn save_state(service: &Verifier, dir: &Path) -> Result<(), String> {
    let json = serde_json::to_vec(&service.device().export_state()).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut file =
        tempfile::NamedTempFile::new_in(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    file.write_all(&json)
        .and_then(|()| file.as_file().sync_all())
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    file.persist(dir.join(STATE_FILE))
        .map_err(|e| format!("{}: {}", dir.display(), e.error))?;
    Ok(())
}

/// Runs [`sync_once`] now and then every `interval`, forever, logging each outcome, and
/// saves the state into `state_dir` after each successful run.
pub async fn run(
    service: Arc<Verifier>,
    anchors: Jwks,
    trust_list_url: String,
    interval: Duration,
    state_dir: Option<PathBuf>,
) {
    let agent = agent();
    loop {
        let (service2, anchors2, agent2, url2) = (
            service.clone(),
            anchors.clone(),
            agent.clone(),
            trust_list_url.clone(),
        );
        let outcome = tokio::task::spawn_blocking(move || {
            let now = service2.now();
            sync_once(&service2, &anchors2, &agent2, &url2, now)
        })
        .await;
        match outcome {
            Ok(Ok(outcome)) => {
                tracing::info!(
                    issuers = outcome.issuers,
                    lists = outcome.status.lists,
                    downloaded = outcome.status.downloaded,
                    not_modified = outcome.status.not_modified,
                    failures = outcome.status.failures.len(),
                    "trust list and status lists synced"
                );
                if let Some(dir) = &state_dir
                    && let Err(reason) = save_state(&service, dir)
                {
                    tracing::warn!(%reason, "could not save the state");
                }
            }
            Ok(Err(reason)) => tracing::warn!(%reason, "sync failed; keeping the lists in use"),
            Err(e) => tracing::error!(error = %e, "sync task failed"),
        }
        tokio::time::sleep(interval).await;
    }
}
