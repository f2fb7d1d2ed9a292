//! Load benchmark of the issuance server on loopback (not part of the test run):
//! `cargo run --release -p giayto-server --example load [issuances] [bulk_documents]`.
//!
//! Starts the server in this process on a free port, on a fresh SQLite file and (when
//! `GIAYTO_TEST_POSTGRES_URL` is set) on a fresh PostgreSQL database, and measures bulk
//! publishing (documents/s), full OpenID4VCI issuances (token + nonce + credential; per
//! second, p50, p99) with 32 clients in parallel, next to a raw josekit ES256 signing loop.
//!
//! Scale-out: with `GIAYTO_LOAD_PROCESSES=2,4` (and `GIAYTO_TEST_POSTGRES_URL`) it then
//! starts that many `giayto-server` processes (the release binary next to this example:
//! build it with `--bin giayto-server`) on one fresh PostgreSQL database with one master
//! key, spreads the 32 clients over them and reports the combined rate, with each
//! process's resident memory idle (after start) and its peak (`VmHWM`) after the run.
//!
//! Bulk only: with `GIAYTO_LOAD_ONLY=bulk` it measures bulk publishing alone, [`BULK_RUNS`]
//! times per database (each a fresh set of document ids), and prints each rate and their
//! median; the scale-out part then reports one process's RSS after a bulk run, so running it
//! with 50,000 and then 200,000 documents shows whether memory stays flat with the stream's
//! length.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use giayto_core::jose::{Algorithm, Signer, SoftwareSigner};
use giayto_core::oid4vci::{
    CredentialRequest, CredentialResponse, NonceResponse, ProofClaims, Proofs, TokenResponse,
    build_proof_jwt,
};
use giayto_server::config::Config;
use giayto_server::{AppState, app, server};
use serde_json::{Value, json};

/// The allocator of the `giayto-server` binary (see its `main.rs`), so the in-process
/// server is measured as it runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PUBLIC_URL: &str = "http://127.0.0.1:8080";
const CLIENTS: usize = 32;
/// Bulk runs per database in the bulk-only mode.
const BULK_RUNS: usize = 5;

/// `GIAYTO_LOAD_ONLY=bulk`: bulk publishing only.
fn bulk_only() -> bool {
    std::env::var("GIAYTO_LOAD_ONLY").is_ok_and(|v| v == "bulk")
}

/// Runs bulk publishing of `n` documents [`BULK_RUNS`] times against `base` (served by the
/// processes `server_pids`, or by this one when empty); prints each rate with the CPU per
/// document, then the median rate.
async fn bulk_runs(
    label: &str,
    client: &reqwest::Client,
    base: &str,
    key: &str,
    server_pids: &[u32],
    n: usize,
) {
    let mut rates = Vec::new();
    for run in 0..BULK_RUNS {
        let cpu_before = CpuSplit::now(server_pids);
        let t = Instant::now();
        let _ = bulk(client, base, key, &format!("bulk{run}"), n).await;
        let secs = t.elapsed().as_secs_f64();
        let cpu = CpuSplit::now(server_pids).since(&cpu_before);
        let per = |cpu_secs: f64| cpu_secs * 1e6 / n as f64;
        println!(
            "{label}: bulk publish run {run}: {n} documents = {:.0} documents/s; CPU per document: \
             this process {:.0} us, server processes {:.0} us, PostgreSQL {:.0} us; load average {}",
            n as f64 / secs,
            per(cpu.this),
            per(cpu.servers),
            per(cpu.postgres),
            load_average(),
        );
        rates.push(n as f64 / secs);
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "{label}: bulk publish median of {BULK_RUNS}: {:.0} documents/s",
        rates[BULK_RUNS / 2]
    );
}

fn claims() -> Value {
    json!({
        "personal_id": "001099012345", "family_name": "Nguyễn", "given_name": "Văn An",
        "full_name": "Nguyễn Văn An", "birth_date": "1990-05-01", "sex": "male", "nationality": "VN",
        "place_of_origin": "Hà Nội", "place_of_residence": "12 Tràng Tiền, Hoàn Kiếm, Hà Nội",
        "issue_date": "2021-01-01", "expiry_date": "2030-05-01",
        "issuing_authority": "Cục Cảnh sát quản lý hành chính về trật tự xã hội",
    })
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn bulk(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    prefix: &str,
    n: usize,
) -> Vec<(String, String)> {
    let mut offers = Vec::with_capacity(n);
    // Eight requests in parallel, each a stream of n/8 lines.
    let per = n.div_ceil(8);
    let mut tasks = Vec::new();
    for part in 0..8 {
        let body: String = (part * per..((part + 1) * per).min(n))
            .map(|i| {
                json!({ "document_id": format!("{prefix}-{i}"), "citizen_id": "001099012345",
                        "vct": "https://giayto.gov.vn/vct/can_cuoc", "claims": claims() })
                .to_string()
                    + "\n"
            })
            .collect();
        let (client, url, key) = (
            client.clone(),
            format!("{base}/api/v1/bulk/documents"),
            key.to_owned(),
        );
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(key)
                .header("content-type", "application/x-ndjson")
                .body(body)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }));
    }
    for t in tasks {
        for line in t.await.unwrap().lines() {
            let l: Value = serde_json::from_str(line).unwrap();
            assert_eq!(l["status"], 201, "{l}");
            let o = &l["offer"];
            offers.push((
                o["credential_offer"]["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["pre-authorized_code"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                o["tx_code"].as_str().unwrap().to_owned(),
            ));
        }
    }
    offers
}

/// The three endpoints one issuance calls on one server, parsed once per client (a wallet
/// reads them from the issuer's metadata once, not per request).
#[derive(Clone)]
struct Endpoints {
    token: reqwest::Url,
    nonce: reqwest::Url,
    credential: reqwest::Url,
}

impl Endpoints {
    fn of(base: &str) -> Self {
        let url = |path: &str| reqwest::Url::parse(&format!("{base}{path}")).unwrap();
        Self {
            token: url("/token"),
            nonce: url("/nonce"),
            credential: url("/credential"),
        }
    }
}

/// One full OpenID4VCI issuance, as a wallet makes it: the token request, a fresh
/// `c_nonce`, a key proof signed over it, the credential request; each answer is parsed
/// into the protocol's own types (core's `oid4vci` messages).
async fn issuance(
    client: &reqwest::Client,
    endpoints: &Endpoints,
    code: &str,
    tx_code: &str,
    holder: &dyn Signer,
) {
    let token: TokenResponse = client
        .post(endpoints.token.clone())
        .form(&[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:pre-authorized_code",
            ),
            ("pre-authorized_code", code),
            ("tx_code", tx_code),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let nonce: NonceResponse = client
        .post(endpoints.nonce.clone())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let proof = build_proof_jwt(
        holder,
        &ProofClaims {
            iss: None,
            aud: PUBLIC_URL.into(),
            iat: now(),
            nonce: Some(nonce.c_nonce),
        },
    )
    .unwrap();
    let request = CredentialRequest {
        credential_identifier: None,
        credential_configuration_id: Some("can_cuoc".into()),
        proofs: Some(Proofs {
            jwt: Some(vec![proof]),
            other: serde_json::Map::new(),
        }),
        credential_response_encryption: None,
    };
    let res: CredentialResponse = client
        .post(endpoints.credential.clone())
        .bearer_auth(token.access_token.expose())
        .json(&request)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let issued = res.credentials.unwrap_or_default();
    assert!(
        issued.len() == 1 && issued[0].credential.is_string(),
        "{issued:?}"
    );
}

/// Opens the server's services on `config` with the demo agencies; the police's API key.
async fn open_seeded(config: Config) -> (giayto_server::domain::Services, String) {
    let services = server::open(config).await.unwrap();
    let key = giayto_server::demo::seed(&services)
        .await
        .unwrap()
        .into_iter()
        .find(|(a, _)| a.id == "police")
        .unwrap()
        .1
        .secret;
    (services, key)
}

async fn run(label: &str, database_url: String, issuances: usize, bulk_docs: usize) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        database_url,
        master_key_file: dir.path().join("master.key"),
        public_url: PUBLIC_URL.into(),
        database_max_connections: 16,
        ..Config::default()
    };
    let (services, key) = open_seeded(config).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let batchers = services.batchers.clone();
    let router = app(AppState { services });
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .build()
        .unwrap();

    if bulk_only() {
        bulk_runs(label, &client, &base, &key, &[], bulk_docs).await;
        return;
    }
    let t = Instant::now();
    let _ = bulk(&client, &base, &key, "bulk", bulk_docs).await;
    let bulk_secs = t.elapsed().as_secs_f64();
    println!(
        "{label}: bulk publish      {bulk_docs} documents in {bulk_secs:.2} s = {:.0} documents/s",
        bulk_docs as f64 / bulk_secs
    );

    let offers = bulk(&client, &base, &key, "flow", issuances).await;
    issue_all(label, &client, &[base], &[], offers).await;
    for (what, stats) in [
        ("redemption", batchers.redemptions.stats()),
        ("credential write", batchers.credentials.stats()),
    ] {
        println!(
            "{label}: {what} batches {} for {} requests (mean {:.1}); by size 1, 2-3, 4-7, 8-15, 16-31, 32-63, 64+: {:?}",
            stats.batches(),
            stats.requests(),
            stats.requests() as f64 / stats.batches().max(1) as f64,
            stats.buckets(),
        );
    }
}

/// Runs the issuances of `offers` with [`CLIENTS`] clients spread over `bases` (served by
/// the processes `server_pids`, or by this one when empty); prints the combined rate and
/// latencies, then where the CPU went per issuance and the load average.
async fn issue_all(
    label: &str,
    client: &reqwest::Client,
    bases: &[String],
    server_pids: &[u32],
    offers: Vec<(String, String)>,
) {
    let issuances = offers.len();
    let cpu_before = CpuSplit::now(server_pids);
    let holder: Arc<dyn Signer> = Arc::new(SoftwareSigner::generate(Algorithm::Es256).unwrap());
    let queue = Arc::new(std::sync::Mutex::new(offers));
    let t = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..CLIENTS {
        let (client, endpoints, holder, queue) = (
            client.clone(),
            Endpoints::of(&bases[i % bases.len()]),
            holder.clone(),
            queue.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let next = queue.lock().unwrap().pop();
                let Some((code, tx_code)) = next else { break };
                let start = Instant::now();
                issuance(&client, &endpoints, &code, &tx_code, holder.as_ref()).await;
                latencies.push(start.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let secs = t.elapsed().as_secs_f64();
    latencies.sort();
    println!(
        "{label}: OpenID4VCI issuance {issuances} in {secs:.2} s = {:.0} issuances/s, p50 {:.1} ms, p99 {:.1} ms (token+nonce+credential, {CLIENTS} clients)",
        issuances as f64 / secs,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
    );
    let cpu = CpuSplit::now(server_pids).since(&cpu_before);
    let per = |secs: f64| secs * 1000.0 / issuances as f64;
    let this = if server_pids.is_empty() {
        "load generator + server"
    } else {
        "load generator"
    };
    println!(
        "{label}: CPU per issuance: {this} {:.2} ms, server processes {:.2} ms, PostgreSQL {:.2} ms; \
         {:.2} of {} cores busy; load average {}",
        per(cpu.this),
        per(cpu.servers),
        per(cpu.postgres),
        (cpu.this + cpu.servers + cpu.postgres) / secs,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average(),
    );
}

/// CPU seconds (user + system) spent so far by this process, by the server processes and by
/// every PostgreSQL process of the machine (Linux `/proc`; 0 where unreadable).
struct CpuSplit {
    this: f64,
    servers: f64,
    postgres: f64,
}

impl CpuSplit {
    fn now(server_pids: &[u32]) -> Self {
        let postgres = std::fs::read_dir("/proc")
            .map(|dir| {
                dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
                    .filter_map(|pid| {
                        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
                        stat.contains("(postgres)").then(|| cpu_of_stat(&stat))
                    })
                    .sum()
            })
            .unwrap_or(0.0);
        Self {
            this: cpu_secs(std::process::id()),
            servers: server_pids.iter().map(|p| cpu_secs(*p)).sum(),
            postgres,
        }
    }

    fn since(&self, before: &Self) -> Self {
        Self {
            this: self.this - before.this,
            servers: self.servers - before.servers,
            postgres: self.postgres - before.postgres,
        }
    }
}

/// CPU seconds of process `pid` so far.
fn cpu_secs(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| cpu_of_stat(&s))
        .unwrap_or(0.0)
}

/// `utime + stime` of a `/proc/<pid>/stat` line, in seconds (fields 14 and 15, after the
/// command name in parentheses; clock ticks of 1/100 s, Linux's `USER_HZ` on every
/// architecture it runs this on).
fn cpu_of_stat(stat: &str) -> f64 {
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // After ')': field 3 (state) is index 0, so utime (14) is 11 and stime (15) is 12.
    (ticks(11) + ticks(12)) / 100.0
}

/// The 1, 5 and 15 minute load averages (`/proc/loadavg`).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// A process's resident set and its peak so far, MB (Linux `/proc`; 0 when unknown).
fn rss_mb(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// `processes` server processes on the fresh PostgreSQL database at `database_url`.
async fn scale_out(database_url: String, processes: usize, issuances: usize, bulk_docs: usize) {
    let dir = tempfile::tempdir().unwrap();
    let master_key = dir.path().join("master.key");
    // Migrations, agencies and keys once, in this process, with the master key the
    // processes share.
    let config = Config {
        database_url: database_url.clone(),
        master_key_file: master_key.clone(),
        public_url: PUBLIC_URL.into(),
        ..Config::default()
    };
    let (services, key) = open_seeded(config).await;
    services.db.close().await;
    let binary = std::env::current_exe()
        .unwrap()
        .parent()
        .and_then(|examples| examples.parent())
        .unwrap()
        .join("giayto-server");
    let mut children = Vec::new();
    let mut bases = Vec::new();
    for _ in 0..processes {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = tokio::process::Command::new(&binary)
            .arg("serve")
            .env("GIAYTO_BIND", format!("127.0.0.1:{port}"))
            .env("GIAYTO_PUBLIC_URL", PUBLIC_URL)
            .env("DATABASE_URL", &database_url)
            .env("GIAYTO_MASTER_KEY_FILE", &master_key)
            .env("GIAYTO_DEMO", "false")
            .env(
                "GIAYTO_DATABASE_MAX_CONNECTIONS",
                (16 / processes).max(4).to_string(),
            )
            .env("GIAYTO_LOG", "warn")
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        children.push(child);
        bases.push(format!("http://127.0.0.1:{port}"));
    }
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .build()
        .unwrap();
    for base in &bases {
        let ready = async {
            loop {
                if let Ok(r) = client.get(format!("{base}/readyz")).send().await
                    && r.status().is_success()
                {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(30), ready)
            .await
            .unwrap();
    }
    let pids: Vec<u32> = children.iter().filter_map(|c| c.id()).collect();
    let idle: Vec<String> = pids
        .iter()
        .map(|p| format!("{:.1}", rss_mb(*p).0))
        .collect();
    let label = format!("PostgreSQL x{processes} processes");
    if bulk_only() {
        bulk_runs(&label, &client, &bases[0], &key, &pids, bulk_docs).await;
        let rss: Vec<String> = pids
            .iter()
            .map(|p| {
                let (now, peak) = rss_mb(*p);
                format!("{now:.1} (peak {peak:.1})")
            })
            .collect();
        println!(
            "{label}: server RSS idle {} MB, after bulk {} MB",
            idle.join(" / "),
            rss.join(" / ")
        );
        return;
    }
    let t = Instant::now();
    let _ = bulk(&client, &bases[0], &key, "bulk", bulk_docs).await;
    let bulk_secs = t.elapsed().as_secs_f64();
    println!(
        "{label}: bulk publish      {bulk_docs} documents in {bulk_secs:.2} s = {:.0} documents/s (one process)",
        bulk_docs as f64 / bulk_secs
    );
    let offers = bulk(&client, &bases[0], &key, "flow", issuances).await;
    issue_all(&label, &client, &bases, &pids, offers).await;
    let peak: Vec<String> = pids
        .iter()
        .map(|p| format!("{:.1}", rss_mb(*p).1))
        .collect();
    println!(
        "{label}: server RSS idle {} MB, peak under load {} MB (each process)",
        idle.join(" / "),
        peak.join(" / ")
    );
    drop(children);
}

fn josekit_loop() {
    use josekit::jwk::KeyPair as _;
    use josekit::jws::JwsSigner as _;
    let pair = josekit::jws::ES256.generate_key_pair().unwrap();
    let signer = josekit::jws::ES256
        .signer_from_jwk(&pair.to_jwk_key_pair())
        .unwrap();
    let message = b"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9";
    let n = 20_000;
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(signer.sign(message).unwrap());
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "raw josekit ES256 signing: {n} signatures in {secs:.2} s = {:.0} signatures/s (one core)",
        n as f64 / secs
    );
}

/// Drops a benchmark database. PostgreSQL's autovacuum (a superuser session, which FORCE
/// may not end for this role) often works on a database just filled, so a refusal is tried
/// again for up to 30 s; one still refused is reported, not fatal: the measurements are
/// already printed.
async fn drop_database(conn: &mut sqlx::PgConnection, name: &str) {
    use sqlx::Executor as _;
    let mut last = None;
    for _ in 0..30 {
        match conn
            .execute(format!("DROP DATABASE {name} WITH (FORCE)").as_str())
            .await
        {
            Ok(_) => return,
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    if let Some(e) = last {
        println!("could not drop the benchmark database {name}: {e}");
    }
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let issuances = args.first().copied().unwrap_or(5_000);
    let bulk_docs = args.get(1).copied().unwrap_or(50_000);
    println!("load average before: {}", load_average());
    josekit_loop();
    if bulk_only() {
        println!("bulk only (GIAYTO_LOAD_ONLY=bulk): {BULK_RUNS} runs per database");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        run(
            "SQLite",
            format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("bench.db").display()
            ),
            issuances,
            bulk_docs,
        )
        .await;
        if let Ok(admin) = std::env::var("GIAYTO_TEST_POSTGRES_URL") {
            use sqlx::Connection as _;
            use sqlx::Executor as _;
            let name = format!(
                "giayto_bench_{}",
                giayto_server::secrets::random_id().unwrap()
            );
            let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
            conn.execute(format!("CREATE DATABASE {name}").as_str())
                .await
                .unwrap();
            let mut url = url::Url::parse(&admin).unwrap();
            url.set_path(&format!("/{name}"));
            run("PostgreSQL", url.to_string(), issuances, bulk_docs).await;
            // The benchmark's database is not kept (FORCE ends the pool's connections).
            drop_database(&mut conn, &name).await;
            let processes = std::env::var("GIAYTO_LOAD_PROCESSES").unwrap_or_default();
            for n in processes.split(',').filter_map(|n| n.trim().parse().ok()) {
                let name = format!("{name}_x{n}");
                conn.execute(format!("CREATE DATABASE {name}").as_str())
                    .await
                    .unwrap();
                url.set_path(&format!("/{name}"));
                scale_out(url.to_string(), n, issuances, bulk_docs).await;
                drop_database(&mut conn, &name).await;
            }
        } else {
            println!("PostgreSQL: skipped (set GIAYTO_TEST_POSTGRES_URL)");
        }
    });
}
