//! The connection bounds of the service's listener (an [`axum::serve::Listener`] around
//! tokio's `TcpListener`): at most `max_connections` connections open at once (past it the
//! listener stops accepting, so new clients wait in the kernel's backlog until one closes),
//! and a connection on which no byte is read or written for `idle` is closed (a client that
//! opens a socket and sends nothing, or stops reading, cannot hold its slot for ever). An
//! accept error (EMFILE and the like) is logged and retried after 50 ms. The per-request
//! time bound and body limits are layers of the router (`crate::http`).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_io_timeout::TimeoutStream;

/// A listener with a connection cap and an idle bound.
#[derive(Debug)]
pub struct BoundedListener {
    inner: TcpListener,
    permits: Arc<Semaphore>,
    idle: Duration,
}

impl BoundedListener {
    /// Wraps `inner`: at most `max_connections` (at least 1) open, each closed after
    /// `idle` without progress.
    pub fn new(inner: TcpListener, max_connections: usize, idle: Duration) -> BoundedListener {
        BoundedListener {
            inner,
            permits: Arc::new(Semaphore::new(max_connections.max(1))),
            idle,
        }
    }
}

/// An accepted connection: the stream with its idle bound, and its slot under the cap
/// (given back when the connection is dropped).
#[derive(Debug)]
pub struct BoundedIo {
    stream: Pin<Box<TimeoutStream<TcpStream>>>,
    _permit: OwnedSemaphorePermit,
}

impl axum::serve::Listener for BoundedListener {
    type Io = BoundedIo;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (BoundedIo, SocketAddr) {
        loop {
            // The semaphore is never closed, so this always gets a slot in the end.
            let Ok(permit) = self.permits.clone().acquire_owned().await else {
                std::future::pending::<()>().await;
                continue;
            };
            match self.inner.accept().await {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let mut stream = TimeoutStream::new(stream);
                    stream.set_read_timeout(Some(self.idle));
                    stream.set_write_timeout(Some(self.idle));
                    return (
                        BoundedIo {
                            stream: Box::pin(stream),
                            _permit: permit,
                        },
                        peer,
                    );
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed; retrying");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

impl AsyncRead for BoundedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.stream.as_mut().poll_read(cx, buf)
    }
}

impl AsyncWrite for BoundedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.as_mut().poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream.as_mut().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream.as_mut().poll_shutdown(cx)
    }
}
