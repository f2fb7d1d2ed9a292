//! Issue 12's figures: a simulated national issuer of 100 million credentials, 0.5 % of
//! them revoked or suspended, served on loopback by a Status Provider that answers
//! conditional requests (tiny_http), synced by core's `StatusSync` over ureq. For each list
//! size: the first full sync and a daily delta after 10,000 revocations (bytes, requests,
//! seconds: medians of several runs), the device's storage, and the time to look up one
//! status. Bounded: at most 2^20 entries per list and 100 million in all; every request has
//! a timeout.
//!
//! Run: `cargo bench -p giayto-core --bench status_sync` (optionally `-- 14 17` for only
//! some list sizes, as powers of two). Speed is measured here, never asserted in tests.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use giayto_core::jose::{Algorithm, Jwks, Signer, SoftwareSigner};
use giayto_core::status_list::{Status, StatusList, StatusReference, sign_token_with_aggregation};
use giayto_core::trust_list::{IssuerName, TrustList, TrustedIssuer};
use giayto_core::verifier::{DeviceState, SyncReport, VerifierDevice};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const CREDENTIALS: u64 = 100_000_000;
/// 0.5 %: 4 in 5 revoked, 1 in 5 suspended.
const NOT_VALID_PER_MILLE: u64 = 5;
const DAILY_REVOCATIONS: usize = 10_000;
const RUNS: usize = 5;
const LOOKUPS: usize = 1_000_000;
const ISSUER: &str = "https://police.giayto.example";

/// The provider's documents: list path -> (ETag, token), and the aggregation body.
struct Published {
    lists: BTreeMap<String, (String, String)>,
    aggregation: String,
}

struct Issuer {
    signer: SoftwareSigner,
    base: String,
    lists: Vec<StatusList>,
    versions: Vec<u32>,
    iat: i64,
}

impl Issuer {
    fn path(n: usize) -> String {
        format!("/status-lists/{n}")
    }

    fn uri(&self, n: usize) -> String {
        format!("{}{}", self.base, Issuer::path(n))
    }

    fn sign(&self, n: usize) -> (String, String) {
        let token = sign_token_with_aggregation(
            &self.uri(n),
            &self.lists[n],
            self.iat,
            Some(self.iat + 8 * 86_400),
            Some(300),
            Some(&format!("{}/aggregation", self.base)),
            &self.signer,
        )
        .unwrap();
        (format!("W/\"{}\"", self.versions[n]), token)
    }

    fn publish_all(&self) -> Published {
        let lists = (0..self.lists.len())
            .map(|n| (Issuer::path(n), self.sign(n)))
            .collect();
        let uris: Vec<String> = (0..self.lists.len()).map(|n| self.uri(n)).collect();
        Published {
            lists,
            aggregation: serde_json::json!({ "status_lists": uris }).to_string(),
        }
    }
}

/// Serves `published` on 127.0.0.1 until the process ends; returns the base URL.
fn serve(published: Arc<RwLock<Option<Published>>>) -> String {
    // tiny_http writes through a 1 KiB buffer, so a token is sent in two writes; with
    // Nagle's algorithm the second waits for the client's delayed ACK (40 ms on Linux) and
    // the figures would measure that. Accepted sockets inherit TCP_NODELAY from the
    // listener.
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_tcp_nodelay(true).unwrap();
    let address: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    socket.bind(&address.into()).unwrap();
    socket.listen(128).unwrap();
    let listener: std::net::TcpListener = socket.into();
    let server = Arc::new(tiny_http::Server::from_listener(listener, None).unwrap());
    let base = format!("http://{}", server.server_addr().to_ip().unwrap());
    for _ in 0..2 {
        let server = server.clone();
        let published = published.clone();
        std::thread::spawn(move || {
            for request in server.incoming_requests() {
                let guard = published.read().unwrap();
                let Some(published) = guard.as_ref() else {
                    let _ = request.respond(tiny_http::Response::empty(503));
                    continue;
                };
                let path = request.url().to_owned();
                let response = if path == "/aggregation" {
                    tiny_http::Response::from_string(published.aggregation.clone())
                        .with_header(header("Content-Type", "application/json"))
                        .boxed()
                } else {
                    match published.lists.get(&path) {
                        None => tiny_http::Response::empty(404).boxed(),
                        Some((etag, token)) => {
                            let matches = request.headers().iter().any(|h| {
                                h.field.equiv("If-None-Match") && h.value.as_str() == etag
                            });
                            if matches {
                                tiny_http::Response::empty(304)
                                    .with_header(header("ETag", etag))
                                    .boxed()
                            } else {
                                tiny_http::Response::from_string(token.clone())
                                    .with_header(header("ETag", etag))
                                    .with_header(header(
                                        "Content-Type",
                                        "application/statuslist+jwt",
                                    ))
                                    .boxed()
                            }
                        }
                    }
                };
                let _ = request.respond(response);
            }
        });
    }
    base
}

fn header(name: &str, value: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).unwrap()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

fn sync(device: &mut VerifierDevice, agent: &ureq::Agent, now: i64) -> (SyncReport, f64) {
    let started = Instant::now();
    let mut sync = device.start_status_sync(now).unwrap();
    while let Some(request) = sync.next_request(device) {
        let http = &request.http;
        let mut builder = agent.get(&http.url);
        for (name, value) in &http.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        match builder.call() {
            Ok(mut response) => {
                let status = response.status().as_u16();
                let headers = response
                    .headers()
                    .iter()
                    .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_owned())))
                    .collect();
                let body = response
                    .body_mut()
                    .with_config()
                    .limit(request.max_body_bytes as u64)
                    .read_to_vec()
                    .unwrap_or_default();
                sync.on_response(
                    device,
                    &giayto_core::oid4vci::HttpResponse {
                        status,
                        headers,
                        body,
                    },
                );
            }
            Err(e) => sync.on_network_error(e.to_string()),
        }
    }
    let report = sync.finish();
    (report, started.elapsed().as_secs_f64())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn mb(bytes: u64) -> String {
    format!("{:.2} MB", bytes as f64 / 1e6)
}

fn run(log2_size: u32) {
    let size: u64 = 1 << log2_size;
    let count = CREDENTIALS.div_ceil(size) as usize;
    let mut rng = StdRng::seed_from_u64(12);
    let now = 1_795_000_000;
    let started = Instant::now();
    let mut lists = Vec::with_capacity(count);
    let mut remaining = CREDENTIALS;
    for _ in 0..count {
        let used = remaining.min(size);
        remaining -= used;
        let mut list = StatusList::new(2, size).unwrap();
        for _ in 0..used * NOT_VALID_PER_MILLE / 1000 {
            let idx = rng.random_range(0..used);
            let status = if rng.random_range(0..5) == 0 {
                Status::Suspended
            } else {
                Status::Invalid
            };
            list.set_status(idx, status).unwrap();
        }
        lists.push(list);
    }
    let published = Arc::new(RwLock::new(None));
    let base = serve(published.clone());
    let mut issuer = Issuer {
        signer: SoftwareSigner::generate(Algorithm::Es256).unwrap(),
        base: base.clone(),
        versions: vec![1; count],
        lists,
        iat: now - 600,
    };
    *published.write().unwrap() = Some(issuer.publish_all());
    let anchor = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let trust_list = TrustList {
        iss: "https://trust.giayto.gov.vn".into(),
        iat: now - 3600,
        exp: now + 30 * 86_400,
        issuers: vec![TrustedIssuer {
            id: ISSUER.into(),
            name: IssuerName {
                vi: "Bộ Công an".into(),
                en: "Ministry of Public Security".into(),
            },
            jwks: Jwks {
                keys: vec![
                    issuer
                        .signer
                        .public_jwk()
                        .unwrap()
                        .with_thumbprint_kid()
                        .unwrap(),
                ],
            },
            vcts: vec!["https://giayto.gov.vn/vct/driving_licence".into()],
            status_list_aggregation_endpoint: Some(format!("{base}/aggregation")),
        }],
        verifier_anchors: Vec::new(),
        verifiers: Vec::new(),
    }
    .sign(&anchor)
    .unwrap();
    let anchors = Jwks {
        keys: vec![anchor.public_jwk().unwrap().with_thumbprint_kid().unwrap()],
    };
    let fresh = || {
        let mut device = VerifierDevice::new(anchors.clone(), "bench").unwrap();
        device.load_trust_list(&trust_list, now).unwrap();
        device
    };
    println!(
        "\n== lists of 2^{log2_size} = {size} entries: {count} lists (built and signed in {:.1} s)",
        started.elapsed().as_secs_f64()
    );
    let agent = agent();

    // First full sync, fresh device each run.
    let mut full = Vec::new();
    let mut synced = None;
    let mut full_report = None;
    for _ in 0..RUNS {
        let mut device = fresh();
        let (report, seconds) = sync(&mut device, &agent, now);
        assert!(report.failures.is_empty(), "{:?}", report.failures.first());
        full.push(seconds);
        full_report = Some(report);
        synced = Some(device);
    }
    let device = synced.unwrap();
    let full_report = full_report.unwrap();
    let state = serde_json::to_vec(&device.export_state()).unwrap();
    println!(
        "first sync:   {} received in {} requests ({} lists downloaded), median {:.2} s (runs: {})",
        mb(full_report.bytes_received),
        full_report.requests,
        full_report.downloaded,
        median(full.clone()),
        full.iter()
            .map(|s| format!("{s:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "device:       {} stored (export_state JSON: trust list, lists re-compressed, validators), {} decoded in memory",
        mb(state.len() as u64),
        mb(device.status_cache().decoded_bytes() as u64)
    );

    // A day of 10,000 revocations at random among valid credentials.
    let mut touched = std::collections::BTreeSet::new();
    let mut done = 0;
    while done < DAILY_REVOCATIONS {
        let n = rng.random_range(0..count);
        let idx = rng.random_range(0..issuer.lists[n].len());
        if issuer.lists[n].status(idx) == Some(Status::Valid) {
            issuer.lists[n].set_status(idx, Status::Invalid).unwrap();
            touched.insert(n);
            done += 1;
        }
    }
    issuer.iat = now + 86_400 - 600;
    {
        let mut guard = published.write().unwrap();
        let published = guard.as_mut().unwrap();
        for &n in &touched {
            issuer.versions[n] += 1;
            published.lists.insert(Issuer::path(n), issuer.sign(n));
        }
    }
    let day_later = now + 86_400;
    let mut delta = Vec::new();
    let mut delta_report = None;
    let mut after = None;
    for _ in 0..RUNS {
        let mut device = VerifierDevice::new(anchors.clone(), "bench").unwrap();
        let saved: DeviceState = serde_json::from_slice(&state).unwrap();
        device.import_state(saved, day_later).unwrap();
        let (report, seconds) = sync(&mut device, &agent, day_later);
        assert!(report.failures.is_empty(), "{:?}", report.failures.first());
        delta.push(seconds);
        delta_report = Some(report);
        after = Some(device);
    }
    let delta_report = delta_report.unwrap();
    println!(
        "daily delta:  {} lists changed by {DAILY_REVOCATIONS} revocations; {} received in {} requests ({} downloaded, {} not modified), median {:.2} s (runs: {})",
        touched.len(),
        mb(delta_report.bytes_received),
        delta_report.requests,
        delta_report.downloaded,
        delta_report.not_modified,
        median(delta.clone()),
        delta
            .iter()
            .map(|s| format!("{s:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    );

    // Looking up one status in the synced cache.
    let device = after.unwrap();
    let cache = device.status_cache();
    let references: Vec<StatusReference> = (0..LOOKUPS)
        .map(|_| {
            let n = rng.random_range(0..count);
            StatusReference {
                uri: issuer.uri(n),
                idx: rng.random_range(0..size),
            }
        })
        .collect();
    let mut per_lookup = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let mut seen = 0usize;
        for reference in &references {
            if matches!(
                std::hint::black_box(cache.lookup(reference, day_later)),
                giayto_core::status_list::StatusLookup::Fresh(_)
            ) {
                seen += 1;
            }
        }
        assert_eq!(seen, LOOKUPS);
        per_lookup.push(started.elapsed().as_secs_f64() * 1e9 / LOOKUPS as f64);
    }
    println!(
        "lookup:       median {:.0} ns per status ({LOOKUPS} random lookups per run)",
        median(per_lookup)
    );
}

fn main() {
    let sizes: Vec<u32> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .filter(|&n| (10..=20).contains(&n))
        .collect();
    let sizes = if sizes.is_empty() {
        vec![14, 17, 20]
    } else {
        sizes
    };
    println!(
        "status sync: {CREDENTIALS} credentials, {NOT_VALID_PER_MILLE} per mille revoked or suspended, 2 bits each, ES256, loopback; load average before: {}",
        load_average()
    );
    for size in sizes {
        run(size);
    }
    println!("\nload average after: {}", load_average());
}
