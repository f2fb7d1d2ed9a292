//! The server on a real TCP listener (plain HTTP and rustls TLS): partial headers, a
//! stalled body, a silent socket and an idle kept-alive connection are all disconnected
//! after the configured timeouts; past the connection cap a new client is served once a
//! connection closes, and one address gets only its share of the cap; a bulk client that
//! stops reading its answers is cut off. Bounds in these tests are generous (60 s against
//! timeouts of 1 s): they test behaviour, not speed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use common::TestApp;
use giayto_server::config::Config;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// Generous bound on anything that should happen after a 1 s timeout.
const PATIENCE: Duration = Duration::from_secs(60);

/// A served test app; the server stops when this is dropped.
struct Served {
    app: TestApp,
    addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

async fn serve(adjust: impl FnOnce(&mut Config)) -> Served {
    let app = common::sqlite_with(adjust).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(giayto_server::server::serve(
        listener,
        app.services.clone(),
        async move {
            let _ = stopped.await;
        },
    ));
    Served {
        app,
        addr,
        _stop: stop,
    }
}

fn short(c: &mut Config) {
    c.header_read_timeout_secs = 1;
    c.body_read_timeout_secs = 1;
    c.write_timeout_secs = 1;
}

/// Reads until the server closes the connection; returns what it sent. Panics when the
/// connection is still open after [`PATIENCE`].
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = tokio::time::timeout(PATIENCE, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the server left the connection open");
    got
}

async fn healthz_on(stream: &mut TcpStream) -> String {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    String::from_utf8_lossy(&read_until_closed(stream).await).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_headers_are_cut_off() {
    let s = serve(short).await;
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    c.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: ")
        .await
        .unwrap();
    let got = read_until_closed(&mut c).await;
    assert!(!String::from_utf8_lossy(&got).contains("200 OK"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_socket_is_cut_off() {
    let s = serve(short).await;
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    assert!(read_until_closed(&mut c).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_kept_alive_connection_is_cut_off() {
    let s = serve(short).await;
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    c.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    let got = String::from_utf8_lossy(&read_until_closed(&mut c).await).into_owned();
    assert!(got.starts_with("HTTP/1.1 200 OK"), "{got}");
    assert!(got.ends_with("ok"), "{got}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_is_answered_408_and_cut_off() {
    let s = serve(short).await;
    let key = s.app.key("police");
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    c.write_all(
        format!(
            "POST /api/v1/documents HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {key}\r\n\
             Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{{\"document_id\""
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let got = String::from_utf8_lossy(&read_until_closed(&mut c).await).into_owned();
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
    assert!(got.contains("application/problem+json"), "{got}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_cap_a_new_client_is_served_once_a_connection_closes() {
    let s = serve(|c| {
        c.max_connections = 4;
        c.header_read_timeout_secs = 600;
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut c = TcpStream::connect(s.addr).await.unwrap();
        // A started request holds its connection (the head never completes).
        c.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
        held.push(c);
    }
    // The cap is reached: a fifth client's request is not answered...
    let mut fifth = TcpStream::connect(s.addr).await.unwrap();
    fifth
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_millis(500), fifth.read(&mut buf)).await;
    assert!(early.is_err(), "served past the cap: {early:?}");
    // ...until one of the four closes.
    drop(held.pop());
    let got = String::from_utf8_lossy(&read_until_closed(&mut fifth).await).into_owned();
    assert!(got.starts_with("HTTP/1.1 200 OK"), "{got}");
}

/// A TCP connection to `addr` from the loopback address `from` (127.0.0.0/8 is all loopback
/// on Linux): another peer, as the per-peer share sees it.
async fn connect_from(from: [u8; 4], addr: SocketAddr) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((from, 0))).unwrap();
    socket.connect(addr).await.unwrap()
}

/// The tester's finding: partial-header sockets from one address held the whole cap, so
/// `/healthz` waited for their header timeout. Now that address gets only its share: the
/// sockets over it are closed at once, and another client is served while the rest are
/// still held (their header timeout, 600 s, is far past this test's patience).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_cannot_hold_the_whole_connection_cap() {
    let s = serve(|c| {
        c.max_connections = 8;
        c.max_connections_per_ip = 3;
        c.header_read_timeout_secs = 600;
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut c = connect_from([127, 0, 0, 1], s.addr).await;
        c.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
        held.push(c);
    }
    // Thirty more from the same address: each is closed at once, none answered.
    for _ in 0..30 {
        let mut c = connect_from([127, 0, 0, 1], s.addr).await;
        let _ = c
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            .await;
        let got = read_until_closed(&mut c).await;
        assert!(got.is_empty(), "{}", String::from_utf8_lossy(&got));
    }
    // Another address is served while the first one's three are still open.
    let mut other = connect_from([127, 0, 0, 2], s.addr).await;
    let got = healthz_on(&mut other).await;
    assert!(got.starts_with("HTTP/1.1 200 OK"), "{got}");
    // Once one of its connections closes, the first address is served again.
    drop(held.pop());
    let served = tokio::time::timeout(PATIENCE, async {
        loop {
            let mut c = connect_from([127, 0, 0, 1], s.addr).await;
            if healthz_on(&mut c).await.starts_with("HTTP/1.1 200 OK") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(
        served.is_ok(),
        "a freed place in the share was not given back"
    );
}

/// `max_connections_per_ip = 0` (behind a proxy): one address may use the whole cap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_share_one_address_may_use_the_whole_cap() {
    let s = serve(|c| {
        c.max_connections = 8;
        c.max_connections_per_ip = 0;
        c.header_read_timeout_secs = 600;
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..7 {
        let mut c = connect_from([127, 0, 0, 1], s.addr).await;
        c.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
        held.push(c);
    }
    let mut eighth = connect_from([127, 0, 0, 1], s.addr).await;
    let got = healthz_on(&mut eighth).await;
    assert!(got.starts_with("HTTP/1.1 200 OK"), "{got}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_client_that_stops_reading_is_cut_off() {
    let s = serve(|c| {
        c.write_timeout_secs = 1;
        c.body_read_timeout_secs = 600;
    })
    .await;
    let key = s.app.key("police");
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut c = socket.connect(s.addr).await.unwrap();
    c.write_all(
        format!(
            "POST /api/v1/bulk/documents HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {key}\r\n\
             Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    // Lines that fail to parse: each is answered (a problem line) without database work.
    let lines = "{ broken\n".repeat(4096);
    let chunk = format!("{:x}\r\n{lines}\r\n", lines.len());
    // Write, never read: the answers back up until the server lets the client go (a reset
    // or a closed connection fails a write). Bounded in count and in time.
    let cut = tokio::time::timeout(PATIENCE, async {
        for _ in 0..20_000 {
            if c.write_all(chunk.as_bytes()).await.is_err() {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(
        cut,
        Ok(true),
        "the server kept a client that does not read its answers"
    );
}

/// A self-signed certificate and key for 127.0.0.1, written as PEM files into `dir`.
fn self_signed(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    use openssl::asn1::Asn1Time;
    use openssl::bn::BigNum;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::hash::MessageDigest;
    use openssl::nid::Nid;
    use openssl::pkey::PKey;
    use openssl::x509::extension::SubjectAlternativeName;
    use openssl::x509::{X509, X509NameBuilder};
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    let key = PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "127.0.0.1").unwrap();
    let name = name.build();
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(&BigNum::from_u32(1).unwrap().to_asn1_integer().unwrap())
        .unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(&name).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::days_from_now(1).unwrap())
        .unwrap();
    let san = SubjectAlternativeName::new()
        .ip("127.0.0.1")
        .build(&b.x509v3_context(None, None))
        .unwrap();
    b.append_extension(san).unwrap();
    b.sign(&key, MessageDigest::sha256()).unwrap();
    let cert = dir.join("cert.pem");
    let key_file = dir.join("key.pem");
    std::fs::write(&cert, b.build().to_pem().unwrap()).unwrap();
    std::fs::write(&key_file, key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    (cert, key_file)
}

async fn serve_tls(adjust: impl FnOnce(&mut Config)) -> (Served, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path());
    let s = serve(move |c| {
        c.tls_cert_file = Some(cert);
        c.tls_key_file = Some(key);
        adjust(c);
    })
    .await;
    (s, dir)
}

/// A blocking OpenSSL client connection to `addr` (no certificate check; HTTP/1.1 must be
/// what the server picks by ALPN though the client offers h2 first).
fn tls_connect(addr: SocketAddr) -> openssl::ssl::SslStream<std::net::TcpStream> {
    use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode};
    let mut connector = SslConnector::builder(SslMethod::tls_client()).unwrap();
    connector.set_verify(SslVerifyMode::NONE);
    connector.set_alpn_protos(b"\x02h2\x08http/1.1").unwrap();
    let tcp = std::net::TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(PATIENCE)).unwrap();
    let tls = connector
        .build()
        .configure()
        .unwrap()
        .verify_hostname(false)
        .connect("127.0.0.1", tcp)
        .unwrap();
    assert_eq!(
        tls.ssl().selected_alpn_protocol(),
        Some(&b"http/1.1"[..]),
        "HTTP/1.1 only"
    );
    tls
}

/// Reads until the server closes; what it read, or `None` when still open after
/// [`PATIENCE`].
fn tls_read_until_closed(tls: &mut openssl::ssl::SslStream<std::net::TcpStream>) -> Option<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tls.read(&mut buf) {
            Ok(0) => return Some(String::from_utf8_lossy(&got).into_owned()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return None;
            }
            Err(_) => return Some(String::from_utf8_lossy(&got).into_owned()),
        }
    }
}

/// Over TLS (a blocking client on its own thread): sends `head`, then reads until the
/// server closes; returns what it read, or `None` when still open after [`PATIENCE`].
async fn tls_exchange(addr: SocketAddr, head: &'static [u8]) -> Option<String> {
    tokio::task::spawn_blocking(move || {
        let mut tls = tls_connect(addr);
        tls.write_all(head).unwrap();
        tls_read_until_closed(&mut tls)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tls_shutdown_drops_a_stalled_bulk_request_after_the_grace() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key_file) = self_signed(dir.path());
    let app = common::sqlite_with(|c| {
        c.tls_cert_file = Some(cert);
        c.tls_key_file = Some(key_file);
        c.shutdown_grace_secs = 1;
        // Only the grace may end the stalled request.
        c.body_read_timeout_secs = 600;
        c.write_timeout_secs = 600;
    })
    .await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(giayto_server::server::serve(
        listener,
        app.services.clone(),
        async move {
            let _ = stopped.await;
        },
    ));
    let key = app.key("police");
    let (in_flight_tx, in_flight) = oneshot::channel::<()>();
    let client = tokio::task::spawn_blocking(move || {
        let mut tls = tls_connect(addr);
        let line = common::id_card_request("tls-slow").to_string() + "\n";
        tls.write_all(
            format!(
                "POST /api/v1/bulk/documents HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {key}\r\n\
                 Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n\
                 {:x}\r\n{line}\r\n",
                line.len()
            )
            .as_bytes(),
        )
        .unwrap();
        let mut head = [0u8; 15];
        tls.read_exact(&mut head).unwrap();
        assert_eq!(&head, b"HTTP/1.1 200 OK");
        in_flight_tx.send(()).unwrap();
        tls_read_until_closed(&mut tls)
    });
    in_flight.await.unwrap();
    stop.send(()).unwrap();
    let ended = tokio::time::timeout(PATIENCE, server).await;
    assert!(
        matches!(ended, Ok(Ok(Ok(())))),
        "the TLS server was still serving long after the grace: {ended:?}"
    );
    let rest = client
        .await
        .unwrap()
        .expect("the stalled request was dropped");
    assert!(!rest.contains("\"status\":201"), "{rest}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tls_partial_headers_and_silence_are_cut_off_too() {
    let (s, _dir) = serve_tls(short).await;
    // A full request is served over TLS.
    let ok = tls_exchange(
        s.addr,
        b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    )
    .await
    .expect("closed after the answer");
    assert!(ok.starts_with("HTTP/1.1 200 OK"), "{ok}");
    // Partial headers: closed without an answer.
    let partial = tls_exchange(s.addr, b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: ")
        .await
        .expect("partial headers over TLS must be cut off");
    assert!(!partial.contains("200 OK"), "{partial}");
    // A stalled body: 408, then closed.
    let stalled = tls_exchange(
        s.addr,
        b"POST /token HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\n\
          Content-Length: 100\r\n\r\ngrant_type=",
    )
    .await
    .expect("a stalled body over TLS must be cut off");
    assert!(stalled.starts_with("HTTP/1.1 408"), "{stalled}");
    // A TCP connection that never starts its handshake.
    let mut silent = TcpStream::connect(s.addr).await.unwrap();
    assert!(read_until_closed(&mut silent).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_is_served_over_plain_http() {
    let s = serve(short).await;
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    let got = healthz_on(&mut c).await;
    assert!(got.starts_with("HTTP/1.1 200 OK"), "{got}");
}
