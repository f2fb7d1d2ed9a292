//! Issue 12: the verifier device's sans-IO status sync against an in-memory Status Provider:
//! a fresh device learns every list from the aggregations (trust list link and a list's
//! `aggregation_uri`), checks status offline for a list no presentation ever named, sends
//! back validators so an unchanged list costs a 304, downloads only what changed, goes on
//! past a broken list and reports it, refuses a rollback, bounds the cache, and carries it
//! all through export and import; and the verdict says how old the status information is.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use giayto_core::jose::{Algorithm, Jwks, Signer, SoftwareSigner};
use giayto_core::oid4vci::{HttpRequest, HttpResponse};
use giayto_core::sd_jwt_vc::{IssueRequest, issue_document};
use giayto_core::status_list::{
    Status, StatusList, StatusReference, sign_token, sign_token_with_aggregation,
};
use giayto_core::trust_list::{IssuerName, TrustList, TrustedIssuer};
use giayto_core::verifier::{
    DeviceError, FailureCode, MAX_STATUS_CACHE_DECODED_BYTES, Policy, StatusStrictness, StatusView,
    SyncReport, VerifierDevice, verify_presentation,
};
use giayto_core::wallet::{Binding, Selection, present_credential};
use serde_json::{Map, Value, json};

const NOW: i64 = 1_795_000_000;
const POLICE: &str = "https://police.giayto.example";
const JUSTICE: &str = "https://justice.giayto.example";
const LICENCE: &str = "https://giayto.gov.vn/vct/driving_licence";
const POLICE_AGGREGATION: &str = "https://police.giayto.example/status-lists";
const JUSTICE_AGGREGATION: &str = "https://justice.giayto.example/status-lists";

fn list_uri(n: u32) -> String {
    format!("{POLICE}/status-lists/{n}")
}

/// An in-memory Status Provider: aggregations, lists with versions as ETags, conditional
/// requests, and a count of what it sent.
struct Provider {
    police: SoftwareSigner,
    aggregations: BTreeMap<String, Value>,
    /// uri -> (version, token)
    lists: BTreeMap<String, (u32, String)>,
    /// uri -> full bodies sent
    sent: BTreeMap<String, usize>,
    up: bool,
}

impl Provider {
    fn serve(&mut self, request: &HttpRequest) -> Result<HttpResponse, String> {
        if !self.up {
            return Err("connection refused".into());
        }
        if let Some(body) = self.aggregations.get(&request.url) {
            return Ok(HttpResponse::json(200, body.to_string()));
        }
        let Some((version, token)) = self.lists.get(&request.url) else {
            return Ok(HttpResponse {
                status: 404,
                headers: vec![],
                body: b"not found".to_vec(),
            });
        };
        let etag = format!("W/\"{version}\"");
        let headers = vec![
            ("ETag".to_owned(), etag.clone()),
            ("Content-Type".into(), "application/statuslist+jwt".into()),
        ];
        if request.header("if-none-match") == Some(etag.as_str()) {
            return Ok(HttpResponse {
                status: 304,
                headers,
                body: vec![],
            });
        }
        *self.sent.entry(request.url.clone()).or_default() += 1;
        Ok(HttpResponse {
            status: 200,
            headers,
            body: token.clone().into_bytes(),
        })
    }

    /// Publishes list `n` with `revoked` entries revoked, as version `version`.
    fn publish(&mut self, n: u32, revoked: &[u64], version: u32, iat: i64) {
        let mut list = StatusList::new(2, 1024).unwrap();
        for idx in revoked {
            list.set_status(*idx, Status::Invalid).unwrap();
        }
        let token = sign_token_with_aggregation(
            &list_uri(n),
            &list,
            iat,
            Some(iat + 8 * 86_400),
            Some(300),
            Some(POLICE_AGGREGATION),
            &self.police,
        )
        .unwrap();
        self.lists.insert(list_uri(n), (version, token));
    }
}

struct World {
    anchor: SoftwareSigner,
    holder: SoftwareSigner,
    trust_list: String,
    provider: Provider,
}

fn world(with_link: bool) -> World {
    let anchor = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let police = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let holder = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let justice = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let issuer = |id: &str, key: &SoftwareSigner, link: Option<&str>| TrustedIssuer {
        id: id.into(),
        name: IssuerName {
            vi: id.into(),
            en: id.into(),
        },
        jwks: Jwks {
            keys: vec![key.public_jwk().unwrap().with_thumbprint_kid().unwrap()],
        },
        vcts: vec![LICENCE.into()],
        status_list_aggregation_endpoint: link.map(str::to_owned),
    };
    let trust_list = TrustList {
        iss: "https://trust.giayto.gov.vn".into(),
        iat: NOW - 3600,
        exp: NOW + 30 * 86_400,
        issuers: vec![
            issuer(POLICE, &police, with_link.then_some(POLICE_AGGREGATION)),
            issuer(JUSTICE, &justice, Some(JUSTICE_AGGREGATION)),
        ],
        verifier_anchors: Vec::new(),
        verifiers: Vec::new(),
    }
    .sign(&anchor)
    .unwrap();
    let mut provider = Provider {
        police,
        aggregations: BTreeMap::new(),
        lists: BTreeMap::new(),
        sent: BTreeMap::new(),
        up: true,
    };
    provider.aggregations.insert(
        POLICE_AGGREGATION.into(),
        json!({ "status_lists": [list_uri(1), list_uri(2), list_uri(3)] }),
    );
    provider
        .aggregations
        .insert(JUSTICE_AGGREGATION.into(), json!({ "status_lists": [] }));
    for n in 1..=3 {
        provider.publish(n, &[7], 1, NOW - 600);
    }
    World {
        anchor,
        holder,
        trust_list,
        provider,
    }
}

impl World {
    fn anchors(&self) -> Jwks {
        Jwks {
            keys: vec![
                self.anchor
                    .public_jwk()
                    .unwrap()
                    .with_thumbprint_kid()
                    .unwrap(),
            ],
        }
    }

    fn fresh_device(&self) -> VerifierDevice {
        let mut device = VerifierDevice::new(self.anchors(), "csgt:hanoi:officer-1").unwrap();
        device.load_trust_list(&self.trust_list, NOW).unwrap();
        device
    }

    /// Runs a whole sync at `now` against the provider.
    fn sync(&mut self, device: &mut VerifierDevice, now: i64) -> SyncReport {
        let mut sync = device.start_status_sync(now).unwrap();
        while let Some(request) = sync.next_request(device) {
            match self.provider.serve(&request.http) {
                Ok(response) => sync.on_response(device, &response),
                Err(reason) => sync.on_network_error(reason),
            }
        }
        sync.finish()
    }

    /// The QR text of a licence with status list `n`, index `idx`, shown at `now`.
    fn show(&self, n: u32, idx: u64, now: i64) -> String {
        let claims: Map<String, Value> = serde_json::from_value(
            giayto_core::catalogue::examples::example_claims("driving_licence").unwrap(),
        )
        .unwrap();
        let credential = issue_document(
            &IssueRequest {
                issuer: POLICE.into(),
                vct: LICENCE.into(),
                claims,
                holder_jwk: Some(self.holder.public_jwk().unwrap()),
                status: Some(StatusReference {
                    idx,
                    uri: list_uri(n),
                }),
                issued_at: NOW - 86_400,
                not_before: None,
                expires_at: Some(NOW + 365 * 86_400),
            },
            &self.provider.police,
        )
        .unwrap();
        present_credential(
            &credential,
            &Selection::Preset("traffic_stop".into()),
            &Binding::OneWay,
            &self.holder,
            now - 5,
        )
        .unwrap()
        .qr_text
    }
}

#[test]
fn a_fresh_device_syncs_everything_and_checks_status_offline_for_a_list_it_never_met() {
    let mut w = world(true);
    let mut device = w.fresh_device();
    assert!(device.status_cache().is_empty());
    let report = w.sync(&mut device, NOW);
    assert_eq!(report.failures, vec![], "{report:?}");
    assert_eq!(report.aggregations, 2);
    assert_eq!(
        (report.lists, report.downloaded, report.not_modified),
        (3, 3, 0)
    );
    assert_eq!(report.requests, 5);
    assert_eq!(device.status_cache().len(), 3);

    // Offline from here on: no presentation ever named list 2, yet its status is known.
    w.provider.up = false;
    let scan = device.verify_qr_text(&w.show(2, 3, NOW), NOW).unwrap();
    assert!(scan.verdict.valid, "{:?}", scan.verdict.errors);
    assert_eq!(scan.verdict.status, StatusView::Valid);
    let freshness = scan.verdict.status_freshness.unwrap();
    assert_eq!(freshness.list_uri, list_uri(2));
    assert_eq!(freshness.checked_at, NOW);
    assert_eq!(freshness.issued_at, NOW - 600);
    assert_eq!(freshness.age_seconds, 0);
    let revoked = device.verify_qr_text(&w.show(3, 7, NOW), NOW).unwrap();
    assert_eq!(revoked.verdict.status, StatusView::Revoked);
    assert!(revoked.verdict.has_error(FailureCode::Revoked));
}

#[test]
fn the_next_sync_sends_validators_and_downloads_only_the_changed_list() {
    let mut w = world(true);
    let mut device = w.fresh_device();
    w.sync(&mut device, NOW);
    let first_sent = w.provider.sent.clone();
    assert_eq!(first_sent.values().sum::<usize>(), 3);

    // A revocation in list 2 only.
    w.provider.publish(2, &[7, 9], 2, NOW + 3600);
    let later = NOW + 86_400;
    let report = w.sync(&mut device, later);
    assert_eq!(report.failures, vec![]);
    assert_eq!(
        (report.downloaded, report.not_modified),
        (1, 2),
        "{report:?}"
    );
    assert_eq!(w.provider.sent[&list_uri(1)], 1, "list 1 not sent again");
    assert_eq!(w.provider.sent[&list_uri(2)], 2, "list 2 sent again");
    assert_eq!(w.provider.sent[&list_uri(3)], 1, "list 3 not sent again");
    // Only the changed list's body crossed the wire (plus the two aggregations).
    let list_2_bytes = w.provider.lists[&list_uri(2)].1.len() as u64;
    let aggregation_bytes: u64 = w
        .provider
        .aggregations
        .values()
        .map(|v| v.to_string().len() as u64)
        .sum();
    assert_eq!(report.bytes_received, list_2_bytes + aggregation_bytes);

    w.provider.up = false;
    let scan = device.verify_qr_text(&w.show(2, 9, later), later).unwrap();
    assert_eq!(scan.verdict.status, StatusView::Revoked);
    // The 304 confirmed the unchanged lists current at the second sync.
    let scan = device.verify_qr_text(&w.show(1, 9, later), later).unwrap();
    assert_eq!(scan.verdict.status_freshness.unwrap().checked_at, later);
}

#[test]
fn a_broken_list_does_not_stop_the_others_and_is_reported() {
    let mut w = world(true);
    w.provider.aggregations.insert(
        POLICE_AGGREGATION.into(),
        json!({ "status_lists": [
            list_uri(1), list_uri(2), list_uri(3), list_uri(4), list_uri(5),
            "ftp://police.giayto.example/x", list_uri(6),
        ] }),
    );
    // 4: garbage, 5: signed by a key not on the trust list, 6: missing (404).
    w.provider
        .lists
        .insert(list_uri(4), (1, "not a token".into()));
    let stranger = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let token = sign_token(
        &list_uri(5),
        &StatusList::new(2, 1024).unwrap(),
        NOW,
        Some(NOW + 86_400),
        None,
        &stranger,
    )
    .unwrap();
    w.provider.lists.insert(list_uri(5), (1, token));
    let mut device = w.fresh_device();
    let report = w.sync(&mut device, NOW);
    assert_eq!(report.downloaded, 3);
    let failed: Vec<&str> = report.failures.iter().map(|f| f.uri.as_str()).collect();
    assert_eq!(
        failed,
        [
            "ftp://police.giayto.example/x".to_owned(),
            list_uri(4),
            list_uri(5),
            list_uri(6)
        ]
    );
    assert!(report.failures[3].reason.contains("404"), "{report:?}");
    assert!(
        report.failures[2].reason.contains("trust list"),
        "{report:?}"
    );
    for n in 1..=3 {
        assert!(device.status_cache().get(&list_uri(n)).is_some());
    }

    // A whole aggregation unreachable: reported, the other issuer's still read.
    let mut w = world(true);
    w.provider.aggregations.remove(POLICE_AGGREGATION);
    let mut device = w.fresh_device();
    let report = w.sync(&mut device, NOW);
    assert_eq!(report.aggregations, 1);
    assert_eq!(report.failures.len(), 1);
    assert!(report.failures[0].aggregation);
    assert_eq!(report.failures[0].uri, POLICE_AGGREGATION);
}

#[test]
fn an_aggregation_named_only_by_a_list_is_followed() {
    // The trust list does not link the police's aggregation; a list the device loaded
    // names it as aggregation_uri, and the sync follows it.
    let mut w = world(false);
    let mut device = w.fresh_device();
    let report = w.sync(&mut device, NOW);
    assert_eq!((report.aggregations, report.lists), (1, 0));
    let token = w.provider.lists[&list_uri(1)].1.clone();
    device.load_status_list(&list_uri(1), &token, NOW).unwrap();
    let report = w.sync(&mut device, NOW + 60);
    assert_eq!(report.aggregations, 2);
    assert_eq!(device.status_cache().len(), 3);
}

#[test]
fn a_replayed_older_list_is_refused_and_reported() {
    let mut w = world(true);
    let mut device = w.fresh_device();
    w.provider.publish(2, &[7, 9], 2, NOW + 3600);
    w.sync(&mut device, NOW + 7200);
    // The provider (or someone in between) now serves the older token again.
    w.provider.publish(2, &[7], 3, NOW - 600);
    let report = w.sync(&mut device, NOW + 9000);
    assert_eq!(report.failures.len(), 1, "{report:?}");
    assert!(report.failures[0].reason.contains("older"));
    w.provider.up = false;
    let scan = device
        .verify_qr_text(&w.show(2, 9, NOW + 9000), NOW + 9000)
        .unwrap();
    assert_eq!(scan.verdict.status, StatusView::Revoked);
}

#[test]
fn export_and_import_carry_lists_validators_and_trust_list() {
    let mut w = world(true);
    let mut device = w.fresh_device();
    w.sync(&mut device, NOW);
    let saved = serde_json::to_string(&device.export_state()).unwrap();

    let anchors = w.anchors();
    let mut restored = VerifierDevice::new(anchors, "csgt:hanoi:officer-1").unwrap();
    restored
        .import_state(serde_json::from_str(&saved).unwrap(), NOW + 60)
        .unwrap();
    assert!(restored.trust_list().is_some());
    assert_eq!(restored.status_cache().len(), 3);
    // The validators came along: the next sync costs 304s only.
    let report = w.sync(&mut restored, NOW + 120);
    assert_eq!(
        (report.downloaded, report.not_modified),
        (0, 3),
        "{report:?}"
    );
    assert_eq!(w.provider.sent.values().sum::<usize>(), 3);
}

#[test]
fn the_cache_is_bounded() {
    // Lists of 16 MiB decoded each (the per-list maximum): the fifth would take the cache
    // past 64 MiB and is refused; the four before it stay.
    let mut w = world(true);
    let per_list = 16 * 1024 * 1024;
    let uris: Vec<String> = (10..15).map(list_uri).collect();
    for uri in &uris {
        let list = StatusList::new(8, per_list).unwrap();
        let token = sign_token(
            uri,
            &list,
            NOW,
            Some(NOW + 86_400),
            None,
            &w.provider.police,
        )
        .unwrap();
        w.provider.lists.insert(uri.clone(), (1, token));
    }
    w.provider
        .aggregations
        .insert(POLICE_AGGREGATION.into(), json!({ "status_lists": uris }));
    let mut device = w.fresh_device();
    let report = w.sync(&mut device, NOW);
    assert_eq!(report.downloaded, 4);
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].uri, uris[4]);
    assert!(report.failures[0].reason.contains("status cache full"));
    assert!(device.status_cache().decoded_bytes() <= MAX_STATUS_CACHE_DECODED_BYTES);
    let token = w.provider.lists[&uris[4]].1.clone();
    assert!(matches!(
        device.load_status_list(&uris[4], &token, NOW),
        Err(DeviceError::StatusCacheFull)
    ));
}

#[test]
fn the_verdict_says_how_old_the_status_is_and_the_expiry_policy_is_configurable() {
    let mut w = world(true);
    let mut device = w.fresh_device();
    w.sync(&mut device, NOW);
    // Past the ttl (300 s) the status is stale: a warning by default, with the age.
    let later = NOW + 2 * 3600 + 5 * 60;
    let scan = device.verify_qr_text(&w.show(1, 3, later), later).unwrap();
    assert!(scan.verdict.valid);
    assert_eq!(scan.verdict.status, StatusView::ValidStale);
    let stale = &scan.verdict.warnings[0];
    assert_eq!(stale.code, FailureCode::StatusListStale);
    assert!(
        stale
            .message
            .contains("2 giờ 5 phút trước / 2 hours 5 minutes ago"),
        "{}",
        stale.message
    );
    assert_eq!(scan.verdict.status_freshness.unwrap().age_seconds, 7500);

    // Past exp (8 days after iat): refused by default, naming the expiry date...
    let expired = NOW - 600 + 8 * 86_400 + 1;
    let statuses = device.status_cache().clone();
    let trust = giayto_core::verifier::IssuerTrust::TrustList(device.trust_list().unwrap().clone());
    let presentation = unpack(&w.show(1, 3, expired), expired);
    let policy = Policy {
        accepted_audiences: None,
        replay_cache: None,
        ..Policy::default()
    };
    let verdict = verify_presentation(&presentation, &policy, &trust, &statuses, expired);
    assert!(!verdict.valid);
    assert!(
        verdict.has_error(FailureCode::StatusListExpired),
        "{verdict:?}"
    );
    let message = &verdict.errors[0].message;
    assert!(
        message.contains("expired at 26/11/2026 10:56:40 / 26 Nov 2026 10:56:40 (UTC)")
            && message.contains("last checked 7 ngày 23 giờ trước / 7 days 23 hours ago"),
        "{message}"
    );
    // ... and a warning under a policy that prefers availability, still reading the value.
    let lenient = Policy {
        expired_status: StatusStrictness::Warn,
        ..policy.clone()
    };
    let verdict = verify_presentation(&presentation, &lenient, &trust, &statuses, expired);
    assert!(verdict.valid, "{:?}", verdict.errors);
    assert_eq!(verdict.status, StatusView::ValidStale);
    assert_eq!(verdict.warnings[0].code, FailureCode::StatusListExpired);
    let revoked = unpack(&w.show(1, 7, expired), expired);
    let verdict = verify_presentation(&revoked, &lenient, &trust, &statuses, expired);
    assert!(verdict.has_error(FailureCode::Revoked));
}

/// The presentation inside QR text.
fn unpack(qr_text: &str, now: i64) -> String {
    match giayto_core::qr::classify(qr_text, now).unwrap() {
        giayto_core::qr::QrPayload::Presentation(presentation) => presentation,
        _ => panic!("a presentation"),
    }
}

#[test]
fn sync_needs_a_trust_list() {
    let w = world(true);
    let anchors = w.anchors();
    let device = VerifierDevice::new(anchors, "x").unwrap();
    assert!(matches!(
        device.start_status_sync(NOW),
        Err(DeviceError::NoTrustList)
    ));
}
