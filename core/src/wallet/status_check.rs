//! The wallet reads the status lists of the credentials it holds (issue 14: "the wallet
//! reads status lists too, so the citizen knows before showing it"), so a document revoked
//! or suspended is marked even when the account's inbox does not say so: one received by
//! its own offer, or a purpose credential with its own index.
//!
//! Sans-IO: [`StatusCheck::new`] plans the run from the vault, [`StatusCheck::next_request`]
//! hands out one GET at a time, [`StatusCheck::on_response`] takes each answer, and
//! [`StatusCheck::apply`] keeps the marks and the validators in the account.
//!
//! - Each credential's `status.status_list` (`uri`, `idx`) is read (Token Status List
//!   section "Referenced Token"); each list is fetched once, as a conditional request
//!   (`If-None-Match` with the `ETag` it was last served with, RFC 9110 section 13.1.2) when
//!   every index now needed was read then: a quiet sync costs a `304` per list.
//! - A list that changed is verified (Token Status List "Validation Rules",
//!   [`crate::status_list::verify_token`]) with the keys of the JWT VC Issuer Metadata of
//!   the credentials' `iss` (SD-JWT VC section "JWT VC Issuer Metadata", `issuer` identical
//!   to `iss`, keys by value in `jwks`), fetched at most once per run and only when a list
//!   changed. Only issuers on the origin of the account's Credential Issuer are asked: the
//!   wallet trusts the issuer it activated with, as it trusts the documents it receives
//!   from it (docs/ARCHITECTURE.md "Citizen account").
//! - Bounds: a list token at most [`MAX_STATUS_LIST_TOKEN_BYTES`], a metadata document at
//!   most [`MAX_RESPONSE_BYTES`], at most [`MAX_CHECKED_LISTS`] lists a run; anything that
//!   fails (HTTP status, too large, bad signature, index beyond the list) is reported in
//!   [`StatusCheckReport::failures`] and leaves the credentials' marks as they were.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::Deserialize;

use super::{Parsed, Wallet, WalletError};
use crate::jose::Jwks;
use crate::limits::MAX_STATUS_LIST_TOKEN_BYTES;
use crate::oid4vci::urls::jwt_vc_issuer_metadata_url;
use crate::oid4vci::{
    HttpRequest, HttpResponse, MAX_RESPONSE_BYTES, Method, parse_identifier, parse_secure_url,
};
use crate::status_list::{STATUS_LIST_JWT_TYP, Status, verify_token};
use crate::vault::{CheckedStatusList, StoredAccount};

/// The most status lists one run reads (a wallet's documents use a handful).
pub const MAX_CHECKED_LISTS: usize = 256;

/// The mark of a credential whose list entry is `0x01` INVALID (Token Status List "Status
/// Types Values").
pub const REVOKED: &str = "revoked";
/// The mark of a credential whose list entry is `0x02` SUSPENDED.
pub const SUSPENDED: &str = "suspended";
/// The state reported for a credential no longer marked.
pub const VALID: &str = "valid";

/// The mark key of a held credential: the document's wallet id, or `<id>#<preset>` for one
/// of its purpose credentials.
pub fn mark_key(document_id: &str, preset: Option<&str>) -> String {
    match preset {
        None => document_id.to_owned(),
        Some(preset) => format!("{document_id}#{preset}"),
    }
}

/// One list to read: who must have signed it, and the credentials that refer to it.
#[derive(Debug, Clone)]
struct ListToCheck {
    uri: String,
    iss: String,
    /// (mark key, idx).
    refs: Vec<(String, u64)>,
    /// The `ETag` to send as `If-None-Match`.
    etag: Option<String>,
}

#[derive(Debug)]
enum InFlight {
    List(ListToCheck),
    /// The issuer's metadata, asked to verify `token` of `list`.
    Metadata {
        list: ListToCheck,
        token: String,
        etag: Option<String>,
    },
}

/// What a run found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StatusCheckReport {
    /// Requests made.
    pub requests: usize,
    /// Lists that answered `304 Not Modified`.
    pub not_modified: usize,
    /// Lists or metadata that could not be read or trusted, with the reason.
    pub failures: Vec<(String, String)>,
    /// Credentials whose `iss` is not on the account's issuer origin: not checked.
    pub not_checked: Vec<String>,
}

/// One run over the held credentials' status lists.
#[derive(Debug)]
pub struct StatusCheck {
    queue: VecDeque<ListToCheck>,
    in_flight: Option<InFlight>,
    keys: BTreeMap<String, Jwks>,
    /// Mark key -> status read this run.
    statuses: BTreeMap<String, Status>,
    /// Lists read this run (200), with what to keep.
    read: BTreeMap<String, CheckedStatusList>,
    /// Every mark key still held, to forget the marks of credentials gone.
    held: BTreeSet<String>,
    /// Every list URI the held credentials refer to, to forget the validators of others.
    referenced: BTreeSet<String>,
    report: StatusCheckReport,
}

#[derive(Deserialize)]
struct IssuerMetadata {
    issuer: String,
    #[serde(default)]
    jwks: Option<Jwks>,
}

fn origin(url: &str) -> Option<url::Origin> {
    parse_secure_url(url).ok().map(|u| u.origin())
}

impl StatusCheck {
    /// Plans a run over `wallet`'s credentials (documents and purpose credentials) for
    /// `account`: one entry per list URI, conditional when the account's validators cover
    /// every index needed.
    pub fn new(wallet: &Wallet, account: &StoredAccount) -> StatusCheck {
        let trusted = origin(&account.credential_issuer);
        let mut lists: BTreeMap<String, ListToCheck> = BTreeMap::new();
        let mut held = BTreeSet::new();
        let mut report = StatusCheckReport::default();
        for stored in wallet.vault.list() {
            let purposes = stored
                .purposes
                .iter()
                .map(|p| (Some(p.preset.as_str()), p.credential.as_str()));
            for (preset, credential) in
                std::iter::once((None, stored.credential.as_str())).chain(purposes)
            {
                let key = mark_key(&stored.id, preset);
                held.insert(key.clone());
                let Ok(parsed) = Parsed::read(credential) else {
                    continue;
                };
                let Some(status) = parsed.envelope.status else {
                    continue;
                };
                let iss = parsed.envelope.iss;
                if trusted.is_none()
                    || parse_identifier(&iss).ok().map(|u| u.origin()) != trusted
                    || parse_secure_url(&status.uri).is_err()
                {
                    report.not_checked.push(key);
                    continue;
                }
                let list = lists
                    .entry(status.uri.clone())
                    .or_insert_with(|| ListToCheck {
                        uri: status.uri.clone(),
                        iss: iss.clone(),
                        refs: Vec::new(),
                        etag: None,
                    });
                if list.iss != iss {
                    // One list, one signer: a second issuer naming it is not checked.
                    report.not_checked.push(key);
                    continue;
                }
                list.refs.push((key, status.idx));
            }
        }
        let referenced = lists.keys().cloned().collect();
        let mut queue = VecDeque::new();
        for (uri, mut list) in lists {
            if queue.len() == MAX_CHECKED_LISTS {
                report
                    .failures
                    .push((uri, format!("more than {MAX_CHECKED_LISTS} status lists")));
                continue;
            }
            list.etag = account.status_lists.get(&uri).and_then(|seen| {
                list.refs
                    .iter()
                    .all(|(_, idx)| seen.indices.contains(idx))
                    .then(|| seen.etag.clone())
            });
            queue.push_back(list);
        }
        StatusCheck {
            queue,
            in_flight: None,
            keys: BTreeMap::new(),
            statuses: BTreeMap::new(),
            read: BTreeMap::new(),
            held,
            referenced,
            report,
        }
    }

    /// The next GET to perform, or `None` when the run is over (then [`StatusCheck::apply`]).
    /// Each must be answered by [`StatusCheck::on_response`] before the next is asked for.
    pub fn next_request(&mut self) -> Option<HttpRequest> {
        if let Some(InFlight::Metadata { list, .. }) = &self.in_flight {
            let url = jwt_vc_issuer_metadata_url(&list.iss).ok()?;
            self.report.requests += 1;
            return Some(get(url, "application/json"));
        }
        let list = self.queue.pop_front()?;
        let mut request = get(
            list.uri.clone(),
            &format!("application/{STATUS_LIST_JWT_TYP}"),
        );
        if let Some(etag) = &list.etag {
            request.headers.push(("If-None-Match".into(), etag.clone()));
        }
        self.report.requests += 1;
        self.in_flight = Some(InFlight::List(list));
        Some(request)
    }

    /// The most body bytes worth reading for the request in flight.
    pub fn max_body_bytes(&self) -> usize {
        match self.in_flight {
            Some(InFlight::Metadata { .. }) => MAX_RESPONSE_BYTES,
            _ => MAX_STATUS_LIST_TOKEN_BYTES,
        }
    }

    /// Takes the answer to the last request, at `now` (Unix seconds, for the token's `exp`).
    pub fn on_response(&mut self, response: &HttpResponse, now: i64) {
        match self.in_flight.take() {
            None => {}
            Some(InFlight::List(list)) => {
                if response.status == 304 && list.etag.is_some() {
                    self.report.not_modified += 1;
                    return;
                }
                let token = match list_token(response) {
                    Ok(token) => token,
                    Err(reason) => return self.fail(&list.uri, reason),
                };
                let etag = response.header("etag").map(str::to_owned);
                if self.keys.contains_key(&list.iss) {
                    self.verify(&list, &token, etag, now);
                } else if jwt_vc_issuer_metadata_url(&list.iss).is_ok() {
                    self.in_flight = Some(InFlight::Metadata { list, token, etag });
                } else {
                    self.fail(&list.uri, "the issuer has no metadata URL".into());
                }
            }
            Some(InFlight::Metadata { list, token, etag }) => {
                match issuer_keys(response, &list.iss) {
                    Ok(keys) => {
                        self.keys.insert(list.iss.clone(), keys);
                        self.verify(&list, &token, etag, now);
                    }
                    Err(reason) => {
                        // The other lists of this issuer would fail alike.
                        let iss = list.iss.clone();
                        self.fail(&list.uri, reason.clone());
                        let (failed, kept): (Vec<_>, Vec<_>) =
                            self.queue.drain(..).partition(|l| l.iss == iss);
                        self.queue = kept.into();
                        for other in failed {
                            self.fail(&other.uri, reason.clone());
                        }
                    }
                }
            }
        }
    }

    /// The last request could not be performed: reported, the run goes on.
    pub fn on_network_error(&mut self, reason: impl Into<String>) {
        if let Some(InFlight::List(list) | InFlight::Metadata { list, .. }) = self.in_flight.take()
        {
            self.fail(&list.uri, reason.into());
        }
    }

    fn fail(&mut self, uri: &str, reason: String) {
        self.report.failures.push((uri.to_owned(), reason));
    }

    fn verify(&mut self, list: &ListToCheck, token: &str, etag: Option<String>, now: i64) {
        let Some(keys) = self.keys.get(&list.iss) else {
            return self.fail(&list.uri, "no issuer keys".into());
        };
        let verified = match verify_token(token, &list.uri, keys, now) {
            Ok(verified) => verified,
            Err(e) => return self.fail(&list.uri, e.to_string()),
        };
        let mut statuses = Vec::with_capacity(list.refs.len());
        for (key, idx) in &list.refs {
            match verified.status(*idx) {
                Some(status) => statuses.push((key.clone(), status)),
                // The draft: an index beyond the list rejects the Referenced Token.
                None => statuses.push((key.clone(), Status::Invalid)),
            }
        }
        self.statuses.extend(statuses);
        if let Some(etag) = etag {
            self.read.insert(
                list.uri.clone(),
                CheckedStatusList {
                    etag,
                    indices: list.refs.iter().map(|(_, idx)| *idx).collect(),
                },
            );
        }
    }

    /// Ends the run: keeps the marks and the lists' validators in `wallet`'s account and
    /// returns the report with the credentials whose mark changed, each with its new state
    /// ([`REVOKED`], [`SUSPENDED`] or [`VALID`]; other Status Types are not marked).
    pub fn apply(
        mut self,
        wallet: &mut Wallet,
    ) -> Result<(StatusCheckReport, Vec<(String, String)>), WalletError> {
        if let Some(pending) = self.in_flight.take() {
            let (InFlight::List(list) | InFlight::Metadata { list, .. }) = pending;
            self.fail(&list.uri, "no answer was given for this request".into());
        }
        let Some(mut account) = wallet.account().cloned() else {
            return Ok((self.report, Vec::new()));
        };
        let mut changed = Vec::new();
        for (key, status) in &self.statuses {
            let mark = match status {
                Status::Invalid => Some(REVOKED),
                Status::Suspended => Some(SUSPENDED),
                Status::Valid | Status::Other(_) => None,
            };
            let before = account.status_marks.get(key).map(String::as_str);
            if before != mark {
                changed.push((key.clone(), mark.unwrap_or(VALID).to_owned()));
                match mark {
                    Some(mark) => account.status_marks.insert(key.clone(), mark.to_owned()),
                    None => account.status_marks.remove(key),
                };
            }
        }
        account
            .status_marks
            .retain(|key, _| self.held.contains(key));
        for (uri, read) in std::mem::take(&mut self.read) {
            account.status_lists.insert(uri, read);
        }
        account
            .status_lists
            .retain(|uri, _| self.referenced.contains(uri));
        wallet.set_account(account)?;
        Ok((self.report, changed))
    }
}

fn get(url: String, accept: &str) -> HttpRequest {
    HttpRequest {
        method: Method::Get,
        url,
        headers: vec![("Accept".into(), accept.to_owned())],
        body: None,
    }
}

/// The token of a list answer: `200`, at most [`MAX_STATUS_LIST_TOKEN_BYTES`], UTF-8.
fn list_token(response: &HttpResponse) -> Result<String, String> {
    if response.status != 200 {
        return Err(crate::http_problem::status_message(
            response.status,
            &response.body,
        ));
    }
    if response.body.len() > MAX_STATUS_LIST_TOKEN_BYTES {
        return Err(format!("larger than {MAX_STATUS_LIST_TOKEN_BYTES} bytes"));
    }
    String::from_utf8(response.body.clone())
        .map(|t| t.trim().to_owned())
        .map_err(|_| "not UTF-8".to_owned())
}

/// The keys of a JWT VC Issuer Metadata answer for `iss` (SD-JWT VC section "JWT VC Issuer
/// Metadata Response": `issuer` identical to `iss`; keys by value in `jwks`, as giayto's
/// issuer publishes them; `jwks_uri` is not followed).
fn issuer_keys(response: &HttpResponse, iss: &str) -> Result<Jwks, String> {
    if response.status != 200 {
        return Err(format!(
            "issuer metadata: {}",
            crate::http_problem::status_message(response.status, &response.body)
        ));
    }
    if response.body.len() > MAX_RESPONSE_BYTES {
        return Err(format!(
            "issuer metadata larger than {MAX_RESPONSE_BYTES} bytes"
        ));
    }
    let metadata: IssuerMetadata = serde_json::from_slice(&response.body)
        .map_err(|e| format!("issuer metadata is not valid JSON: {e}"))?;
    if metadata.issuer != iss {
        return Err("issuer metadata: issuer is not the credentials' iss".into());
    }
    metadata
        .jwks
        .filter(|jwks| !jwks.keys.is_empty())
        .ok_or_else(|| "issuer metadata has no jwks".to_owned())
}
