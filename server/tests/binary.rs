//! The built `giayto-server` binary: a bad TLS file stops the start before anything is
//! created; SIGTERM with a stalled bulk request open exits after the shutdown grace (plain
//! HTTP), and running out of file descriptors (`ulimit -n`) neither kills the server nor
//! keeps `/healthz` away once the idle connections time out. Bounds are generous (60 s
//! against a grace or timeout of 2 s): behaviour, not speed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

const PATIENCE: Duration = Duration::from_secs(60);

/// A running server process, its address, the police demo API key and its stderr so far.
struct Process {
    child: Child,
    addr: String,
    police_key: String,
    stderr: Arc<Mutex<String>>,
    _dir: tempfile::TempDir,
}

/// The `giayto-server serve` command on a fresh SQLite file in `dir`, port `port`, with the
/// demo seeded, under `sh -c "<prefix> exec giayto-server serve"`, with `env` added.
fn command(dir: &Path, port: u16, prefix: &str, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("{prefix} exec \"$0\" serve"))
        .arg(env!("CARGO_BIN_EXE_giayto-server"))
        .env("GIAYTO_BIND", format!("127.0.0.1:{port}"))
        .env("GIAYTO_PUBLIC_URL", common::PUBLIC_URL)
        .env(
            "DATABASE_URL",
            format!("sqlite://{}?mode=rwc", dir.join("g.db").display()),
        )
        .env("GIAYTO_MASTER_KEY_FILE", dir.join("master.key"))
        .env("GIAYTO_DEMO", "true")
        .env("GIAYTO_STATUS_LIST_SIZE", "1024")
        .env("GIAYTO_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Starts the binary ([`command`]; `prefix` for `ulimit`) and waits until it serves.
async fn start(prefix: &str, env: &[(&str, &str)]) -> Process {
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let mut child = command(dir.path(), port, prefix, env).spawn().unwrap();
    let stderr = Arc::new(Mutex::new(String::new()));
    {
        let stderr = Arc::clone(&stderr);
        let mut pipe = BufReader::new(child.stderr.take().unwrap()).lines();
        tokio::spawn(async move {
            while let Ok(Some(line)) = pipe.next_line().await {
                let mut s = stderr.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
    }
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let police_key = tokio::time::timeout(PATIENCE, async {
        while let Some(line) = out.next_line().await.unwrap() {
            let mut words = line.split_whitespace();
            if words.next() == Some("police") {
                return words.next().unwrap().to_owned();
            }
        }
        panic!("no police API key printed");
    })
    .await
    .expect("the server printed its demo keys");
    tokio::spawn(async move { while let Ok(Some(_)) = out.next_line().await {} });
    let addr = format!("127.0.0.1:{port}");
    wait_ready(&addr).await;
    Process {
        child,
        addr,
        police_key,
        stderr,
        _dir: dir,
    }
}

/// One `GET /healthz` on a fresh connection; its status line, if answered within 5 s.
async fn healthz(addr: &str) -> Option<String> {
    let attempt = async {
        let mut c = TcpStream::connect(addr).await.ok()?;
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            .await
            .ok()?;
        let mut got = Vec::new();
        c.read_to_end(&mut got).await.ok()?;
        String::from_utf8_lossy(&got)
            .lines()
            .next()
            .map(str::to_owned)
    };
    tokio::time::timeout(Duration::from_secs(5), attempt)
        .await
        .ok()
        .flatten()
}

async fn wait_ready(addr: &str) {
    let ready = tokio::time::timeout(PATIENCE, async {
        loop {
            if healthz(addr).await.as_deref() == Some("HTTP/1.1 200 OK") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(ready.is_ok(), "the server did not start");
}

fn sigterm(child: &Child) {
    let pid = child.id().unwrap();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_a_stalled_bulk_request_exits_after_the_grace() {
    let mut p = start(
        "",
        &[
            ("GIAYTO_SHUTDOWN_GRACE_SECS", "2"),
            // Only the grace may end the stalled request.
            ("GIAYTO_BODY_READ_TIMEOUT_SECS", "600"),
            ("GIAYTO_WRITE_TIMEOUT_SECS", "600"),
        ],
    )
    .await;
    let mut bulk = TcpStream::connect(&p.addr).await.unwrap();
    let line = common::id_card_request("slow-1").to_string() + "\n";
    bulk.write_all(
        format!(
            "POST /api/v1/bulk/documents HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n\
             {:x}\r\n{line}\r\n",
            p.police_key,
            line.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    // The answer's head arrives: the request is in flight, its body still open.
    let mut head = [0u8; 15];
    tokio::time::timeout(PATIENCE, bulk.read_exact(&mut head))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&head, b"HTTP/1.1 200 OK");
    sigterm(&p.child);
    let exited = tokio::time::timeout(PATIENCE, p.child.wait()).await;
    let status = exited
        .expect("the process was still running long after the grace")
        .unwrap();
    assert!(status.success(), "{status:?}: {}", p.stderr.lock().unwrap());
    // The stalled request was dropped, not finished.
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(PATIENCE, bulk.read_to_end(&mut rest)).await;
    assert!(!String::from_utf8_lossy(&rest).contains("\"status\":201"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_file_descriptors_the_server_lives_and_serves_again() {
    let mut p = start(
        "ulimit -n 64 &&",
        &[
            ("GIAYTO_MAX_CONNECTIONS", "1000"),
            ("GIAYTO_HEADER_READ_TIMEOUT_SECS", "2"),
        ],
    )
    .await;
    // Far more idle sockets than the process may open files.
    let mut idle = Vec::new();
    for _ in 0..120 {
        idle.push(TcpStream::connect(&p.addr).await.unwrap());
    }
    // While every one of them is still open on the client's side, /healthz is served again
    // once the server has timed out the ones it accepted.
    let served = tokio::time::timeout(PATIENCE, async {
        loop {
            if healthz(&p.addr).await.as_deref() == Some("HTTP/1.1 200 OK") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    assert!(served.is_ok(), "/healthz starved by idle sockets");
    assert!(p.child.try_wait().unwrap().is_none(), "the server died");
    assert!(
        p.stderr.lock().unwrap().contains("accept failed"),
        "the descriptors never ran out, so this tested nothing: {}",
        p.stderr.lock().unwrap()
    );
    drop(idle);
    sigterm(&p.child);
    let exited = tokio::time::timeout(PATIENCE, p.child.wait()).await;
    assert!(exited.is_ok(), "still running after SIGTERM");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_on_the_admin_address_only() {
    let admin = format!("127.0.0.1:{}", common::free_port());
    let mut p = start("", &[("GIAYTO_ADMIN_BIND", admin.as_str())]).await;
    let get = |addr: String, path: &'static str| async move {
        let mut c = TcpStream::connect(&addr).await.unwrap();
        c.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
        let mut got = Vec::new();
        tokio::time::timeout(PATIENCE, c.read_to_end(&mut got))
            .await
            .unwrap()
            .unwrap();
        String::from_utf8_lossy(&got).into_owned()
    };
    let public = get(p.addr.clone(), "/metrics").await;
    assert!(public.starts_with("HTTP/1.1 404"), "{public}");
    assert!(public.contains("application/problem+json"), "{public}");
    let metrics = get(admin.clone(), "/metrics").await;
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    assert!(
        metrics
            .contains(r#"giayto_http_requests_total{method="GET",route="unmatched",status="404"}"#),
        "{metrics}"
    );
    let other = get(admin, "/healthz").await;
    assert!(
        other.starts_with("HTTP/1.1 404"),
        "the admin listener serves only /metrics"
    );
    sigterm(&p.child);
    let exited = tokio::time::timeout(PATIENCE, p.child.wait()).await;
    assert!(exited.is_ok(), "still running after SIGTERM");
}

/// The tester's finding: with TLS on, "serving HTTPS" was logged before the certificate was
/// read. Now a certificate or key that cannot be used stops the start before anything is
/// created or announced, and the error names the file and the address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_tls_file_stops_the_start_naming_the_file_and_address() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a PEM file\n").unwrap();
    let missing = dir.path().join("missing.pem");
    let (garbage, missing) = (garbage.display().to_string(), missing.display().to_string());
    for (cert, key, named) in [
        (missing.as_str(), garbage.as_str(), missing.as_str()),
        (garbage.as_str(), garbage.as_str(), garbage.as_str()),
    ] {
        let run = tempfile::tempdir().unwrap();
        let port = common::free_port();
        let env = [
            ("GIAYTO_TLS_CERT_FILE", cert),
            ("GIAYTO_TLS_KEY_FILE", key),
            ("GIAYTO_LOG", "info"),
        ];
        let child = command(run.path(), port, "", &env).spawn().unwrap();
        let out = tokio::time::timeout(PATIENCE, child.wait_with_output())
            .await
            .expect("a server with a bad TLS file must stop, not serve")
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(!out.status.success(), "{stderr}");
        assert!(stderr.contains("tls_cert_file"), "{stderr}");
        assert!(stderr.contains(named), "the file is not named: {stderr}");
        assert!(
            stderr.contains(&format!("127.0.0.1:{port}")),
            "the address is not named: {stderr}"
        );
        assert!(!stderr.contains("serving HTTPS"), "{stderr}");
        assert!(
            !stdout.contains("API keys"),
            "the demo was seeded: {stdout}"
        );
        assert!(
            !run.path().join("master.key").exists(),
            "a master key was created before the TLS files were checked"
        );
    }
}
