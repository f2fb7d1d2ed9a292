//! Listening: a router served over plain HTTP/1.1 or rustls TLS with the same bounds on
//! both (axum-server's accept loop and graceful shutdown, hyper's header-read timeout):
//!
//! - at most `max_connections` connections open at once: past it the listener stops
//!   accepting until one closes, so new clients wait in the kernel's listen backlog. None
//!   can hold a slot for ever (each bound below ends an idle or stalled one), so `/healthz`
//!   is served again at the latest when the longest bound passes;
//! - at most `max_connections_per_ip` of them from one peer (an IPv4 address, or an IPv6
//!   /64, what one client usually holds): one more is closed as soon as it is accepted, so
//!   one client cannot take the whole cap from the others (0: no share);
//! - a new connection must complete its TLS handshake and its first request head, and a
//!   kept-alive one its next request head, within `header_read_timeout_secs`;
//! - a response write that makes no progress for `write_timeout_secs` (a client that
//!   stopped reading) drops the connection (`tokio-io-timeout`);
//! - an accept error (EMFILE and the like) is logged and retried after 50 ms, never fatal;
//! - on shutdown, accepting stops, requests in flight get `shutdown_grace_secs`, then what
//!   is left is dropped.
//!
//! HTTP/2 is not offered (plain or by ALPN): hyper gives HTTP/2 no bound on an idle
//! connection, which would let one hold a slot for ever. A proxy in front may offer it.
//!
//! Body timeouts and the per-request bound are layers of the router (`crate::http::app`).

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use axum_server::{AddrListener, Address, Handle, Server};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_io_timeout::TimeoutStream;

use crate::config::Config;

/// The connection bounds of a listener, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// TLS handshake, first request head, and each next head on a kept-alive connection.
    pub header_read: Duration,
    /// Longest a response write may make no progress.
    pub write: Duration,
    /// Connections open at once.
    pub max_connections: usize,
    /// Connections open at once from one peer ([`PeerKey`]); 0: no share.
    pub max_connections_per_ip: usize,
    /// Time requests in flight get after the shutdown signal.
    pub grace: Duration,
}

impl Limits {
    /// The bounds `config` sets.
    pub fn from_config(config: &Config) -> Self {
        Self {
            header_read: Duration::from_secs(config.header_read_timeout_secs),
            write: Duration::from_secs(config.write_timeout_secs),
            max_connections: config.max_connections,
            max_connections_per_ip: config.max_connections_per_ip,
            grace: Duration::from_secs(config.shutdown_grace_secs),
        }
    }
}

/// The peer address of a connection accepted by a [`SlotListener`].
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

impl Address for Peer {
    type Stream = SlotStream;
    type Listener = SlotListener;
}

/// The peer a connection counts against in the per-peer share: its IPv4 address, or the
/// /64 prefix of its IPv6 address (one client commonly holds a whole /64). An IPv4-mapped
/// IPv6 address counts as the IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PeerKey(IpAddr);

impl PeerKey {
    /// The key of `ip`.
    pub fn of(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V6(v6) => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                Self(IpAddr::V6(bits.into()))
            }
            v4 => Self(v4),
        }
    }
}

/// Open connections per peer, for the per-peer share. Holds an entry only for a peer with
/// a connection open, so at most `max_connections` entries.
#[derive(Debug)]
struct PeerCounts {
    share: usize,
    open: Mutex<HashMap<PeerKey, usize>>,
}

impl PeerCounts {
    /// Counts one more connection of `peer`, or `None` when its share is full.
    fn admit(self: &Arc<Self>, peer: IpAddr) -> Option<PeerTicket> {
        if self.share == 0 {
            return Some(PeerTicket(None));
        }
        let key = PeerKey::of(peer);
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let n = open.entry(key).or_insert(0);
        if *n >= self.share {
            return None;
        }
        *n += 1;
        Some(PeerTicket(Some((Arc::clone(self), key))))
    }
}

/// One connection counted against its peer's share, until dropped.
#[derive(Debug)]
struct PeerTicket(Option<(Arc<PeerCounts>, PeerKey)>);

impl Drop for PeerTicket {
    fn drop(&mut self) {
        if let Some((counts, key)) = self.0.take() {
            let mut open = counts.open.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(n) = open.get_mut(&key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    open.remove(&key);
                }
            }
        }
    }
}

/// A TCP listener that accepts a connection only when one of its slots is free, and keeps
/// only as many of one peer's connections as its share.
#[derive(Debug)]
pub struct SlotListener {
    inner: TcpListener,
    slots: Arc<Semaphore>,
    peers: Arc<PeerCounts>,
    write_timeout: Duration,
}

impl SlotListener {
    /// Wraps a bound listener.
    pub fn new(inner: TcpListener, limits: &Limits) -> Self {
        Self {
            inner,
            slots: Arc::new(Semaphore::new(limits.max_connections)),
            peers: Arc::new(PeerCounts {
                share: limits.max_connections_per_ip,
                open: Mutex::new(HashMap::new()),
            }),
            write_timeout: limits.write,
        }
    }
}

impl AddrListener<SlotStream, Peer> for SlotListener {
    async fn bind_to(_addr: Peer) -> io::Result<Self> {
        // Always built from a bound listener with its limits (`SlotListener::new`).
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "a SlotListener is made from a bound TcpListener",
        ))
    }

    async fn accept_stream(&self) -> io::Result<(SlotStream, Peer)> {
        let slot = Arc::clone(&self.slots)
            .acquire_owned()
            .await
            .map_err(io::Error::other)?;
        loop {
            let (tcp, peer) = self.inner.accept().await?;
            let Some(ticket) = self.peers.admit(peer.ip()) else {
                // Over its share: closed at once (dropped), and the slot serves the next.
                metrics::counter!("giayto_connections_refused_total", "reason" => "per_ip_share")
                    .increment(1);
                tracing::debug!("connection over its peer's share closed");
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let mut io = TimeoutStream::new(tcp);
            io.set_write_timeout(Some(self.write_timeout));
            return Ok((
                SlotStream {
                    io: Box::pin(io),
                    _slot: slot,
                    _peer: ticket,
                },
                Peer(peer),
            ));
        }
    }

    fn get_local_addr(&self) -> io::Result<Peer> {
        self.inner.local_addr().map(Peer)
    }
}

/// An accepted connection holding its slot (and its place in its peer's share) until
/// dropped, with a write timeout.
#[derive(Debug)]
pub struct SlotStream {
    io: Pin<Box<TimeoutStream<TcpStream>>>,
    _slot: OwnedSemaphorePermit,
    _peer: PeerTicket,
}

impl AsyncRead for SlotStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.io.as_mut().poll_read(cx, buf)
    }
}

impl AsyncWrite for SlotStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.io.as_mut().poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.as_mut().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.as_mut().poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.io.as_mut().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// The largest TLS certificate-chain or key file read, bytes.
const MAX_PEM_FILE_BYTES: u64 = 1 << 20;

/// Loads a PEM certificate chain and private key into a rustls server configuration that
/// offers HTTP/1.1 only (ALPN `http/1.1`, RFC 7301).
///
/// Errors (`InvalidData`, naming the setting and the file): a file that is missing, not a
/// regular file or over 1 MiB; no certificate or no private key in PEM; a key that is not
/// the certificate's.
pub fn tls_config(cert_file: &Path, key_file: &Path) -> io::Result<RustlsConfig> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    // One process-wide rustls provider: ring (no C toolchain needed for aws-lc).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let bad = |what: &str, e: &dyn std::fmt::Display| {
        io::Error::new(io::ErrorKind::InvalidData, format!("{what}: {e}"))
    };
    // Regular files of bounded size only (never a FIFO or a device).
    let read = |what: &str, path: &Path| {
        giayto_core::local_file::read_regular(path, MAX_PEM_FILE_BYTES)
            .map_err(|e| bad(what, &format!("{}: {e}", path.display())))
    };
    let cert_pem = read("tls_cert_file", cert_file)?;
    let key_pem = read("tls_key_file", key_file)?;
    let in_file = |path: &Path, e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let certs = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad("tls_cert_file", &in_file(cert_file, &e)))?;
    if certs.is_empty() {
        return Err(bad(
            "tls_cert_file",
            &in_file(cert_file, &"no PEM CERTIFICATE in the file"),
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| bad("tls_key_file", &in_file(key_file, &e)))?;
    // rustls checks that the key is the certificate's (`CertifiedKey::keys_match`).
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            let files = format!("{} and {}", cert_file.display(), key_file.display());
            bad(
                "tls_cert_file and tls_key_file",
                &in_file(Path::new(&files), &e),
            )
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(RustlsConfig::from_config(Arc::new(config)))
}

/// Serves `router` on `listener` (over TLS when `tls` is given) within `limits` until
/// `shutdown` completes; then stops accepting, gives requests in flight `limits.grace` and
/// drops what is left.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    tls: Option<RustlsConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let handle: Handle<Peer> = Handle::new();
    let signal = {
        let handle = handle.clone();
        tokio::spawn(async move {
            shutdown.await;
            handle.graceful_shutdown(Some(limits.grace));
            // A backstop: axum-server's graceful notice reaches only those waiting for it
            // at that instant; the hard shutdown after the grace reaches everyone.
            tokio::time::sleep(limits.grace).await;
            handle.shutdown();
        })
    };
    let mut server = Server::<Peer>::from_listener(SlotListener::new(listener, &limits))
        .handle(handle)
        .http1_only()
        .first_request_timeout(limits.header_read)
        .accept_error_handler(|peer: Option<&Peer>, e: &io::Error| match peer {
            // The listener failed (EMFILE...): axum-server waits 50 ms and goes on.
            None => tracing::warn!(error = %e, "accept failed; retrying"),
            Some(_) => tracing::debug!(error = %e, "connection setup failed"),
        });
    server
        .http_builder()
        .http1()
        .header_read_timeout(limits.header_read);
    let service = router.into_make_service();
    let served = match tls {
        Some(tls) => {
            server
                .acceptor(RustlsAcceptor::new(tls).handshake_timeout(limits.header_read))
                .serve(service)
                .await
        }
        None => server.serve(service).await,
    };
    signal.abort();
    served
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_is_an_ipv4_address_or_an_ipv6_slash_64() {
        let key = |s: &str| PeerKey::of(s.parse().unwrap());
        assert_eq!(key("192.0.2.1"), key("::ffff:192.0.2.1"));
        assert_ne!(key("192.0.2.1"), key("192.0.2.2"));
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
    }

    #[test]
    fn a_share_counts_open_connections_and_frees_on_drop() {
        let counts = Arc::new(PeerCounts {
            share: 2,
            open: Mutex::new(HashMap::new()),
        });
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let first = counts.admit(a).unwrap();
        let _second = counts.admit(a).unwrap();
        assert!(counts.admit(a).is_none(), "a third from one peer");
        let other = counts.admit(b);
        assert!(other.is_some(), "another peer has its own share");
        drop(first);
        assert!(counts.admit(a).is_some(), "a freed place is taken again");
        drop(other);
        assert!(!counts.open.lock().unwrap().contains_key(&PeerKey::of(b)));
    }
}
