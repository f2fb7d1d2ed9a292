//! The listener's bounds as behaviour: a connection that sends nothing is closed after the
//! idle bound, and past the connection cap a new client is served only once a slot frees.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use giayto_verifier::listener::BoundedListener;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Far longer than the idle bound: only a hang reaches it.
const GENEROUS: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_is_closed_and_its_slot_serves_the_next_client() {
    let world = support::world();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let listener = BoundedListener::new(listener, 1, Duration::from_secs(1));
    let app = world.app.clone();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    // The first client takes the only slot and sends nothing.
    let idle = TcpStream::connect(addr).await.unwrap();
    // The second waits in the backlog with its request written.
    let mut waiting = TcpStream::connect(addr).await.unwrap();
    waiting
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(GENEROUS, waiting.read_to_end(&mut answer))
        .await
        .expect("the waiting client was never served")
        .unwrap();
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    // It was served because the idle one had been closed (its end of stream is already here).
    let mut byte = [0u8; 1];
    assert_eq!(
        idle.try_read(&mut byte).unwrap(),
        0,
        "the idle connection was closed"
    );
}
