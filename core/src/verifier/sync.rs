//! Status sync: a verifier device fetches, ahead of time, every status list its trusted
//! issuers publish, so that offline it knows the status of a document it has never met
//! (draft-ietf-oauth-status-list section "Status List Aggregation").
//!
//! Sans-IO, like the rest of core: [`VerifierDevice::start_status_sync`] plans the run,
//! [`StatusSync::next_request`] hands out one GET at a time, the caller performs it with its
//! own HTTP stack and gives back the response ([`StatusSync::on_response`]) or the reason it
//! failed ([`StatusSync::on_network_error`]), then [`StatusSync::finish`] gives the
//! [`SyncReport`].
//!
//! What is fetched, in order:
//! 1. every trusted issuer's Status List Aggregation: the `status_list_aggregation_endpoint`
//!    the trust list gives for it ("Issuer Metadata") and the `aggregation_uri` of the lists
//!    already cached ("Status List Parameter"), each at most once;
//! 2. every list an aggregation names, every list already cached and every list a
//!    presentation referred to while it was missing, each at most once, as a conditional
//!    request (`If-None-Match` / `If-Modified-Since` with the validators it was last served
//!    with, RFC 9110 section 13.1): a `304 Not Modified` costs no body and marks the cached
//!    list confirmed current now; a new token is verified with its signer's keys from the
//!    trust list and replaces the cached one.
//!
//! A list or aggregation that fails (network, HTTP status, too large, not a valid token,
//! not signed by a trusted issuer, older than the cached one) is reported in
//! [`SyncReport::failures`] and the sync goes on with the others: "If a Relying Party
//! encounters an error while validating one of the Status List Tokens returned from the
//! Status List Aggregation endpoint, it SHOULD continue processing the other Status List
//! Tokens".
//!
//! Bounds (untrusted input from the network): an aggregation body is at most
//! [`MAX_AGGREGATION_BYTES`]; one run fetches at most [`MAX_SYNC_LISTS`] lists (the rest is
//! reported); a list token at most [`crate::limits::MAX_STATUS_LIST_TOKEN_BYTES`]; and the
//! cache as a whole at most [`super::MAX_STATUS_CACHE_DECODED_BYTES`] decoded.

use std::collections::{BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};

use super::VerifierDevice;
use super::device::DeviceError;
use crate::limits::MAX_STATUS_LIST_TOKEN_BYTES;
use crate::oid4vci::{HttpRequest, HttpResponse, Method};
use crate::status_list::{STATUS_LIST_JWT_TYP, Validators};

/// The largest Status List Aggregation body read: 4 MiB, some 50,000 list URIs.
pub const MAX_AGGREGATION_BYTES: usize = 4 * 1024 * 1024;
/// The most status lists one sync fetches: 65,536 (a national issuer of 100 million
/// credentials in lists of 2^17 needs 763).
pub const MAX_SYNC_LISTS: usize = 65_536;
/// The longest list or aggregation URI followed, bytes.
pub const MAX_SYNC_URI_BYTES: usize = 2048;

/// One GET to perform, with the most body bytes worth reading (a longer body fails anyway:
/// stop reading there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRequest {
    /// The request.
    pub http: HttpRequest,
    /// The body limit for this kind of document, bytes.
    pub max_body_bytes: usize,
}

/// A list or aggregation the sync could not use, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncFailure {
    /// The URI of the list or aggregation.
    pub uri: String,
    /// Whether it was an aggregation (else a status list).
    pub aggregation: bool,
    /// Why, for people.
    pub reason: String,
}

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    /// Aggregations read.
    pub aggregations: usize,
    /// Distinct status lists requested.
    pub lists: usize,
    /// Lists downloaded, verified and stored (new or changed).
    pub downloaded: usize,
    /// Lists the server confirmed unchanged (`304 Not Modified`).
    pub not_modified: usize,
    /// HTTP requests made.
    pub requests: usize,
    /// Response body bytes received.
    pub bytes_received: u64,
    /// Every list or aggregation that failed; the others were processed.
    pub failures: Vec<SyncFailure>,
}

/// The body of a Status List Aggregation (draft section "Status List Aggregation Data
/// Structure").
#[derive(Debug, Deserialize)]
struct Aggregation {
    status_lists: Vec<String>,
}

#[derive(Debug, Clone)]
enum Kind {
    Aggregation,
    List,
}

#[derive(Debug, Clone)]
struct Pending {
    uri: String,
    kind: Kind,
}

/// One sync run. See the module documentation.
#[derive(Debug)]
pub struct StatusSync {
    now: i64,
    aggregations: VecDeque<String>,
    lists: VecDeque<String>,
    requested_lists: BTreeSet<String>,
    in_flight: Option<Pending>,
    report: SyncReport,
}

impl VerifierDevice {
    /// Plans a sync at `now` from the trust list in use (see the module documentation);
    /// [`DeviceError::NoTrustList`] without one.
    pub fn start_status_sync(&self, now: i64) -> Result<StatusSync, DeviceError> {
        let trust = self.trust_list().ok_or(DeviceError::NoTrustList)?;
        let mut aggregations = BTreeSet::new();
        for issuer in &trust.list().issuers {
            if let Some(uri) = &issuer.status_list_aggregation_endpoint {
                aggregations.insert(uri.clone());
            }
        }
        let cache = self.status_cache();
        for uri in cache.uris() {
            if let Some(aggregation) = cache.get(uri).and_then(|c| c.aggregation_uri.as_ref()) {
                aggregations.insert(aggregation.clone());
            }
        }
        let mut sync = StatusSync {
            now,
            aggregations: VecDeque::new(),
            lists: VecDeque::new(),
            requested_lists: BTreeSet::new(),
            in_flight: None,
            report: SyncReport::default(),
        };
        for uri in aggregations {
            if let Some(uri) = sync.followable(&uri, true) {
                sync.aggregations.push_back(uri);
            }
        }
        for uri in self.status_lists_to_refresh() {
            sync.queue_list(&uri);
        }
        Ok(sync)
    }
}

impl StatusSync {
    /// The next request to perform, or `None` when the sync is done (then call
    /// [`StatusSync::finish`]). Aggregations come first, so the lists they name are known
    /// before lists are fetched. Each request must be answered (response or network error)
    /// before the next is asked for; an unanswered one counts as failed.
    pub fn next_request(&mut self, device: &VerifierDevice) -> Option<SyncRequest> {
        if let Some(pending) = self.in_flight.take() {
            self.fail(&pending, "no answer was given for this request".into());
        }
        let (pending, request) = if let Some(uri) = self.aggregations.pop_front() {
            let request = SyncRequest {
                http: get(&uri, "application/json"),
                max_body_bytes: MAX_AGGREGATION_BYTES,
            };
            (
                Pending {
                    uri,
                    kind: Kind::Aggregation,
                },
                request,
            )
        } else {
            let uri = self.lists.pop_front()?;
            let mut http = get(&uri, &format!("application/{STATUS_LIST_JWT_TYP}"));
            if let Some(cached) = device.status_cache().get(&uri) {
                if let Some(etag) = &cached.etag {
                    http.headers.push(("If-None-Match".into(), etag.clone()));
                }
                if let Some(modified) = &cached.last_modified {
                    http.headers
                        .push(("If-Modified-Since".into(), modified.clone()));
                }
            }
            let request = SyncRequest {
                http,
                max_body_bytes: MAX_STATUS_LIST_TOKEN_BYTES,
            };
            (
                Pending {
                    uri,
                    kind: Kind::List,
                },
                request,
            )
        };
        self.report.requests += 1;
        self.in_flight = Some(pending);
        Some(request)
    }

    /// Takes the response to the last request: an aggregation's lists are queued, a list
    /// is verified and stored in `device` (or confirmed by a 304); a failure is reported and
    /// the sync goes on.
    pub fn on_response(&mut self, device: &mut VerifierDevice, response: &HttpResponse) {
        let Some(pending) = self.in_flight.take() else {
            return;
        };
        self.report.bytes_received = self
            .report
            .bytes_received
            .saturating_add(response.body.len() as u64);
        let outcome = match pending.kind {
            Kind::Aggregation => self.on_aggregation(response),
            Kind::List => self.on_list(device, &pending.uri, response),
        };
        if let Err(reason) = outcome {
            self.fail(&pending, reason);
        }
    }

    /// The last request could not be performed (no network, timeout, ...): reported, and
    /// the sync goes on.
    pub fn on_network_error(&mut self, reason: impl Into<String>) {
        if let Some(pending) = self.in_flight.take() {
            self.fail(&pending, reason.into());
        }
    }

    /// The report so far.
    pub fn report(&self) -> &SyncReport {
        &self.report
    }

    /// Requests still queued, aggregations and lists: an app's progress total is
    /// `report().requests + remaining()`, which grows as aggregations name their lists.
    pub fn remaining(&self) -> usize {
        self.aggregations.len() + self.lists.len()
    }

    /// Whether the request in flight (the last [`StatusSync::next_request`]) is for a
    /// Status List Aggregation rather than a status list.
    pub fn in_flight_is_aggregation(&self) -> bool {
        matches!(
            self.in_flight,
            Some(Pending {
                kind: Kind::Aggregation,
                ..
            })
        )
    }

    /// Ends the sync and gives its report; requests not performed are reported as failed.
    pub fn finish(mut self) -> SyncReport {
        if let Some(pending) = self.in_flight.take() {
            self.fail(&pending, "no answer was given for this request".into());
        }
        let left: Vec<Pending> = self
            .aggregations
            .drain(..)
            .map(|uri| Pending {
                uri,
                kind: Kind::Aggregation,
            })
            .chain(self.lists.drain(..).map(|uri| Pending {
                uri,
                kind: Kind::List,
            }))
            .collect();
        for pending in left {
            self.fail(&pending, "not fetched: the sync ended first".into());
        }
        self.report
    }

    fn on_aggregation(&mut self, response: &HttpResponse) -> Result<(), String> {
        check_status(response, MAX_AGGREGATION_BYTES)?;
        let aggregation: Aggregation = crate::limits::parse_json(&response.body)
            .map_err(|e| format!("not a Status List Aggregation: {e}"))?;
        self.report.aggregations += 1;
        for uri in aggregation.status_lists {
            self.queue_list(&uri);
        }
        Ok(())
    }

    fn on_list(
        &mut self,
        device: &mut VerifierDevice,
        uri: &str,
        response: &HttpResponse,
    ) -> Result<(), String> {
        if response.status == 304 {
            return if device.status_list_not_modified(uri, self.now) {
                self.report.not_modified += 1;
                Ok(())
            } else {
                Err("304 Not Modified for a list this device does not hold".into())
            };
        }
        check_status(response, MAX_STATUS_LIST_TOKEN_BYTES)?;
        let token = std::str::from_utf8(&response.body)
            .map_err(|_| "the status list token is not UTF-8 text".to_owned())?;
        let validators = Validators {
            etag: response.header("etag").map(str::to_owned),
            last_modified: response.header("last-modified").map(str::to_owned),
        };
        device
            .load_status_list_with_validators(uri, token.trim(), validators, self.now)
            .map_err(|e| e.to_string())?;
        self.report.downloaded += 1;
        Ok(())
    }

    /// Queues list `uri` once, within [`MAX_SYNC_LISTS`].
    fn queue_list(&mut self, uri: &str) {
        let Some(uri) = self.followable(uri, false) else {
            return;
        };
        if self.requested_lists.contains(&uri) {
            return;
        }
        if self.requested_lists.len() >= MAX_SYNC_LISTS {
            self.fail(
                &Pending {
                    uri,
                    kind: Kind::List,
                },
                format!("not fetched: one sync fetches at most {MAX_SYNC_LISTS} lists"),
            );
            return;
        }
        self.requested_lists.insert(uri.clone());
        self.report.lists += 1;
        self.lists.push_back(uri);
    }

    /// `uri` if it is an absolute http(s) URL of at most [`MAX_SYNC_URI_BYTES`]; otherwise
    /// the failure is reported.
    fn followable(&mut self, uri: &str, aggregation: bool) -> Option<String> {
        let reason = if uri.len() > MAX_SYNC_URI_BYTES {
            format!("URI longer than {MAX_SYNC_URI_BYTES} bytes")
        } else {
            match url::Url::parse(uri) {
                Ok(url) if matches!(url.scheme(), "https" | "http") => return Some(uri.to_owned()),
                Ok(_) => "not an http(s) URL".to_owned(),
                Err(e) => format!("not a URL: {e}"),
            }
        };
        let kind = if aggregation {
            Kind::Aggregation
        } else {
            Kind::List
        };
        self.fail(
            &Pending {
                uri: crate::jose::truncate(uri),
                kind,
            },
            reason,
        );
        None
    }

    fn fail(&mut self, pending: &Pending, reason: String) {
        self.report.failures.push(SyncFailure {
            uri: pending.uri.clone(),
            aggregation: matches!(pending.kind, Kind::Aggregation),
            reason,
        });
    }
}

fn get(url: &str, accept: &str) -> HttpRequest {
    HttpRequest {
        method: Method::Get,
        url: url.to_owned(),
        headers: vec![("Accept".into(), accept.into())],
        body: None,
    }
}

/// A 2xx answer of at most `limit` body bytes.
fn check_status(response: &HttpResponse, limit: usize) -> Result<(), String> {
    if !(200..300).contains(&response.status) {
        return Err(crate::http_problem::status_message(
            response.status,
            &response.body,
        ));
    }
    if response.body.len() > limit {
        return Err(format!(
            "{} bytes: too large (limit {limit})",
            response.body.len()
        ));
    }
    Ok(())
}
