//! The officer's side: a [`Verifier`] that pins the national trust anchor, keeps the
//! trust list and status lists cached for offline use, and turns a scanned QR into a
//! [`VerificationResult`] the app shows as it is.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use giayto_core::limits::{MAX_STATUS_LIST_TOKEN_BYTES, MAX_TRUST_LIST_TOKEN_BYTES};
use giayto_core::status_list::{STATUS_LIST_JWT_TYP, StatusCache};
use giayto_core::verifier::{SeenProof, SyncReport, VerifierDevice};

use crate::http::{self, HttpClient};
use crate::progress::{ProgressListener, ProgressStage, Reporter};
use crate::result::VerificationResult;
use crate::{GiaytoError, unix_now};

/// The largest exported status cache `import_status_cache` reads: room for the device's
/// whole decoded-cache bound, re-compressed and base64url-encoded.
const MAX_STATUS_CACHE_JSON_BYTES: usize =
    giayto_core::verifier::MAX_STATUS_CACHE_DECODED_BYTES / 2 * 3;

/// The largest exported replay cache `import_replay_cache` reads: its capacity of entries,
/// each `{"kb_jwt_sha256":"<43 characters>","until":<Unix seconds>}` and a comma, with room.
const MAX_REPLAY_CACHE_JSON_BYTES: usize = giayto_core::verifier::REPLAY_CACHE_CAPACITY * 96;

/// A status list or aggregation a sync could not use, and why.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncFailure {
    /// Its URI.
    pub uri: String,
    /// Whether it was a Status List Aggregation (else a status list).
    pub aggregation: bool,
    /// Why, for people.
    pub reason: String,
}

/// What one `Verifier.sync` did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncResult {
    /// Trusted issuers on the trust list loaded.
    pub issuers: u32,
    /// Status List Aggregations read.
    pub aggregations: u32,
    /// Distinct status lists requested.
    pub lists: u32,
    /// Lists downloaded, verified and stored (new or changed).
    pub downloaded: u32,
    /// Lists the server confirmed unchanged (`304 Not Modified`: no body sent).
    pub not_modified: u32,
    /// HTTP requests made, the trust list's included.
    pub requests: u32,
    /// Response body bytes received, the trust list's included.
    pub bytes_received: u64,
    /// Every list or aggregation that failed; the others were stored.
    pub failures: Vec<SyncFailure>,
    /// The trust list token now in use, to store for the next start.
    pub trust_list_token: String,
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl SyncResult {
    fn new(issuers: usize, token: &str, report: SyncReport) -> SyncResult {
        SyncResult {
            issuers: count(issuers),
            aggregations: count(report.aggregations),
            lists: count(report.lists),
            downloaded: count(report.downloaded),
            not_modified: count(report.not_modified),
            requests: count(report.requests).saturating_add(1),
            bytes_received: report.bytes_received.saturating_add(token.len() as u64),
            failures: report
                .failures
                .into_iter()
                .map(|f| SyncFailure {
                    uri: f.uri,
                    aggregation: f.aggregation,
                    reason: f.reason,
                })
                .collect(),
            trust_list_token: token.to_owned(),
        }
    }
}

/// Verifies giayto presentations offline, like the roadside officer's app.
///
/// Load the trust list once (from bytes, or through `refresh_trust_list` when online) and
/// the status lists (`load_status_list`, `refresh_status_lists`); then every
/// `verify_qr_text` / `verify_image` works without a network. A presentation is accepted
/// only if it is signed by an issuer the trust list allows for that document type, not
/// revoked or suspended, not expired, bound to the holder's phone by a fresh key-binding
/// proof (unless it is a paper form), and not replayed.
#[derive(uniffi::Object)]
pub struct Verifier {
    device: Mutex<VerifierDevice>,
}

impl Verifier {
    fn device(&self) -> MutexGuard<'_, VerifierDevice> {
        // A panic cannot happen while the lock is held (no code path panics), but a
        // poisoned lock still holds consistent data: every update is a single assignment.
        self.device
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[uniffi::export]
impl Verifier {
    /// A verifier that pins the national trust anchor `trust_anchor` (a public JWK, or a
    /// JWKS while the anchor rotates, as JSON: the app ships it), and is called
    /// `verifier_id` in the challenges it shows (for example `csgt:hanoi:officer-1234`).
    #[uniffi::constructor]
    pub fn new(trust_anchor: String, verifier_id: String) -> Result<Arc<Self>, GiaytoError> {
        let anchors = VerifierDevice::parse_anchors(&trust_anchor)?;
        Ok(Arc::new(Verifier {
            device: Mutex::new(VerifierDevice::new(anchors, verifier_id)?),
        }))
    }

    /// Loads a signed trust list (`trustlist+jwt`), verified against the pinned anchor.
    /// Returns how many issuers it lists. Keep the token to load it again after a restart.
    pub fn load_trust_list(&self, token: String) -> Result<u32, GiaytoError> {
        let issuers = self.device().load_trust_list(&token, unix_now())?;
        Ok(u32::try_from(issuers).unwrap_or(u32::MAX))
    }

    /// Downloads the trust list from `url` through the app's HTTP client and loads it.
    /// Returns the token, for the app to cache. Async: waits for the network; a cancelled
    /// call keeps the trust list loaded before.
    pub async fn refresh_trust_list(
        &self,
        url: String,
        http: Arc<dyn HttpClient>,
    ) -> Result<String, GiaytoError> {
        let body = http::get_body(
            http.as_ref(),
            &url,
            "application/trustlist+jwt",
            MAX_TRUST_LIST_TOKEN_BYTES,
        )
        .await?;
        let token = String::from_utf8(body)
            .map_err(|_| GiaytoError::invalid("trust list response is not UTF-8"))?;
        self.load_trust_list(token.trim().to_owned())?;
        Ok(token.trim().to_owned())
    }

    /// Loads a Status List Token (`statuslist+jwt`) published at `uri`, signed by an issuer
    /// on the trust list.
    pub fn load_status_list(&self, uri: String, token: String) -> Result<(), GiaytoError> {
        Ok(self.device().load_status_list(&uri, &token, unix_now())?)
    }

    /// Downloads the status list at `uri` through the app's HTTP client and loads it.
    /// Async: waits for the network; a cancelled call keeps the list cached before.
    pub async fn fetch_status_list(
        &self,
        uri: String,
        http: Arc<dyn HttpClient>,
    ) -> Result<(), GiaytoError> {
        let body = http::get_body(
            http.as_ref(),
            &uri,
            &format!("application/{STATUS_LIST_JWT_TYP}"),
            MAX_STATUS_LIST_TOKEN_BYTES,
        )
        .await?;
        let token = String::from_utf8(body)
            .map_err(|_| GiaytoError::invalid("status list response is not UTF-8"))?;
        Ok(self.device().load_status_list(&uri, &token, unix_now())?)
    }

    /// Re-downloads every cached status list and every list a presentation referred to
    /// while it was missing or stale, one after the other. Returns how many were loaded. A
    /// list that fails does not stop the others (Token Status List §9, Status List
    /// Aggregation: a Relying Party SHOULD continue with the other lists); the first
    /// failure is the error only when no list could be loaded. `sync` also learns the lists
    /// no presentation has named yet.
    ///
    /// `progress`, when given, hears each list start ([`ProgressStage::StatusList`] with its
    /// URI) and the end ([`ProgressStage::Done`]). Async: waits for the network. A
    /// cancelled call keeps every list loaded before it stopped (each is replaced whole when
    /// its download is verified).
    #[uniffi::method(default(progress = None))]
    pub async fn refresh_status_lists(
        &self,
        http: Arc<dyn HttpClient>,
        progress: Option<Arc<dyn ProgressListener>>,
    ) -> Result<u32, GiaytoError> {
        let uris = self.device().status_lists_to_refresh();
        let progress = Reporter::new(progress, count(uris.len()));
        let mut loaded = 0u32;
        let mut first_error = None;
        for (done, uri) in uris.into_iter().enumerate() {
            progress.report(ProgressStage::StatusList, count(done), Some(&uri));
            match self.fetch_status_list(uri, http.clone()).await {
                Ok(()) => loaded = loaded.saturating_add(1),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        progress.done();
        match first_error {
            Some(error) if loaded == 0 => Err(error),
            _ => Ok(loaded),
        }
    }

    /// Syncs everything needed to check statuses offline, knowing only the pinned anchor:
    /// downloads the trust list from `trust_list_url` and verifies it, then every trusted
    /// issuer's Status List Aggregation (draft-ietf-oauth-status-list section "Status List
    /// Aggregation") and every status list in it, as conditional requests: a list that did
    /// not change since the last sync costs a `304 Not Modified` and no body. Afterwards a
    /// document whose status list no presentation ever named is checked offline.
    ///
    /// A list or aggregation that fails is reported in `failures` and the others are still
    /// stored; only a trust list that cannot be fetched or verified is an error. Bounds: an
    /// aggregation of at most 4 MiB, 65,536 lists, status list tokens of at most 4 MiB each
    /// (the app's `HttpClient` may stop reading there) and 64 MiB of decoded lists in all.
    /// Keep `trust_list_token` and `export_status_cache()` (which carries the validators)
    /// for the next start.
    ///
    /// Async: waits for the network, one request at a time. `progress`, when given, hears
    /// the trust list ([`ProgressStage::TrustList`]), each aggregation
    /// ([`ProgressStage::StatusListAggregation`]) and list ([`ProgressStage::StatusList`])
    /// start, with its URI, and the end; `completed` counts requests made, and `total` grows
    /// as the aggregations name their lists. A cancelled call keeps the trust list and every
    /// list stored before it stopped.
    #[uniffi::method(default(progress = None))]
    pub async fn sync(
        &self,
        trust_list_url: String,
        http: Arc<dyn HttpClient>,
        progress: Option<Arc<dyn ProgressListener>>,
    ) -> Result<SyncResult, GiaytoError> {
        Reporter::new(progress.clone(), 1).report(
            ProgressStage::TrustList,
            0,
            Some(&trust_list_url),
        );
        let token = self
            .refresh_trust_list(trust_list_url, http.clone())
            .await?;
        let issuers = self
            .device()
            .trust_list()
            .map_or(0, |list| list.list().issuers.len());
        let mut sync = self.device().start_status_sync(unix_now())?;
        loop {
            // The lock is not held while the app performs a request.
            let Some(request) = sync.next_request(&self.device()) else {
                break;
            };
            // Made so far: the trust list, and the sync's requests before this one (its
            // count already includes this one).
            let made = sync.report().requests;
            let stage = if sync.in_flight_is_aggregation() {
                ProgressStage::StatusListAggregation
            } else {
                ProgressStage::StatusList
            };
            Reporter::new(
                progress.clone(),
                count(made + sync.remaining()).saturating_add(1),
            )
            .report(stage, count(made), Some(&request.http.url));
            let limit = request.max_body_bytes;
            match http.send(request.http.into()).await {
                Ok(response) if response.body.len() > limit => sync.on_network_error(format!(
                    "{} bytes: too large (limit {limit})",
                    response.body.len()
                )),
                Ok(response) => sync.on_response(&mut self.device(), &response.into()),
                Err(error) => sync.on_network_error(error.to_string()),
            }
        }
        let report = sync.finish();
        Reporter::new(progress, count(report.requests).saturating_add(1)).done();
        Ok(SyncResult::new(issuers, &token, report))
    }

    /// The trust list token in use, to store for the next start (`load_trust_list`).
    pub fn trust_list_token(&self) -> Option<String> {
        self.device()
            .trust_list()
            .map(|list| list.token().to_owned())
    }

    /// The cached status lists as JSON, to keep in the app's private storage and give back
    /// to `import_status_cache` after a restart. The lists were verified when loaded and are
    /// not re-verified on import: store them where only the app can write.
    pub fn export_status_cache(&self) -> Result<String, GiaytoError> {
        serde_json::to_string(self.device().status_cache())
            .map_err(|e| GiaytoError::invalid(format!("status cache: {e}")))
    }

    /// Restores status lists saved by `export_status_cache`, replacing the cached ones.
    pub fn import_status_cache(&self, json: String) -> Result<(), GiaytoError> {
        if json.len() > MAX_STATUS_CACHE_JSON_BYTES {
            return Err(GiaytoError::invalid(format!(
                "status cache larger than {MAX_STATUS_CACHE_JSON_BYTES} bytes"
            )));
        }
        let statuses: StatusCache = serde_json::from_str(&json)
            .map_err(|e| GiaytoError::invalid(format!("status cache: {e}")))?;
        self.device().restore_status_cache(statuses);
        Ok(())
    }

    /// The key-binding proofs this verifier accepted, as JSON (a list of `kb_jwt_sha256`,
    /// the proof's SHA-256 in base64url, and `until`, the end of its freshness window in
    /// Unix seconds; nothing else of the document), to keep in the app's private storage
    /// and give back to `import_replay_cache` after a restart: without it, a restarted app
    /// accepts a one-way QR it already accepted. Only proofs still inside their window are
    /// exported, at most 10,000.
    pub fn export_replay_cache(&self) -> Result<String, GiaytoError> {
        let device = self.device();
        serde_json::to_string(&device.replay_cache().live_proofs(unix_now()))
            .map_err(|e| GiaytoError::invalid(format!("replay cache: {e}")))
    }

    /// Adds the proofs saved by `export_replay_cache` to those this verifier remembers
    /// (those whose window has closed are dropped). Returns how many it remembers. An
    /// `InvalidInput` error, changing nothing, for JSON larger than 960,000 bytes, more than
    /// 10,000 entries or a malformed digest.
    pub fn import_replay_cache(&self, json: String) -> Result<u32, GiaytoError> {
        if json.len() > MAX_REPLAY_CACHE_JSON_BYTES {
            return Err(GiaytoError::invalid(format!(
                "replay cache larger than {MAX_REPLAY_CACHE_JSON_BYTES} bytes"
            )));
        }
        let proofs: Vec<SeenProof> = serde_json::from_str(&json)
            .map_err(|e| GiaytoError::invalid(format!("replay cache: {e}")))?;
        let remembered = self
            .device()
            .replay_cache()
            .merge_saved(&proofs, unix_now())
            .map_err(|e| GiaytoError::invalid(e.to_string()))?;
        Ok(count(remembered))
    }

    /// The status list URIs the verifier would need to check the presentations it saw.
    pub fn missing_status_lists(&self) -> Vec<String> {
        self.device()
            .missing_status_lists()
            .iter()
            .cloned()
            .collect()
    }

    /// Starts a two-way check: returns a challenge QR text (show it to the holder, whose
    /// wallet answers it) valid for `ttl_seconds`. Until a presentation answers it, only
    /// presentations answering this challenge are accepted.
    pub fn new_challenge(&self, ttl_seconds: u32) -> Result<String, GiaytoError> {
        Ok(self
            .device()
            .new_challenge(Duration::from_secs(u64::from(ttl_seconds)), unix_now())?)
    }

    /// Drops the pending challenge: back to one-way checks.
    pub fn cancel_challenge(&self) {
        self.device().cancel_challenge();
    }

    /// Verifies a scanned QR text: a phone's presentation (`GT1:`) or a printed paper form
    /// (`GTP1:`, not bound to a device, which the result says). A challenge QR or a
    /// non-giayto text is an `InvalidInput` error; a presentation that fails its checks is
    /// a result with `valid == false` and the reasons.
    pub fn verify_qr_text(&self, qr_text: String) -> Result<VerificationResult, GiaytoError> {
        let scan = self.device().verify_qr_text(&qr_text, unix_now())?;
        Ok(VerificationResult::from_verdict(
            &scan.verdict,
            scan.key_bound,
        ))
    }

    /// Reads the QR code in a photo (PNG or JPEG) and verifies it as `verify_qr_text` does.
    pub fn verify_image(&self, image_bytes: Vec<u8>) -> Result<VerificationResult, GiaytoError> {
        let scan = self.device().verify_image(&image_bytes, unix_now())?;
        Ok(VerificationResult::from_verdict(
            &scan.verdict,
            scan.key_bound,
        ))
    }

    /// Verifies an SD-JWT presentation received as a string (compact or JSON
    /// serialization), with a key-binding JWT required.
    pub fn verify_presentation(&self, presentation: String) -> VerificationResult {
        let verdict = self
            .device()
            .verify_presentation(presentation.trim(), true, unix_now());
        VerificationResult::from_verdict(&verdict, true)
    }
}
