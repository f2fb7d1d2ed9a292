//! A set of database connections for the issuance hot path, handed out and taken back with
//! no ping (issue 17).
//!
//! Why not sqlx's pool: sqlx 0.8.6 pings every connection when it goes back to its pool
//! (`sqlx-core/src/pool/connection.rs`, `return_to_pool`: `self.raw.ping().await`, "test
//! the connection on-release to ensure it is still viable, and flush anything
//! time-sensitive like transaction rollbacks"), whatever `test_before_acquire` says. On
//! PostgreSQL that is a `Sync` and a wait for `ReadyForQuery`, a full round trip; on SQLite a
//! command to the connection's worker thread and back. A profile of the server under load
//! showed the ping at 7.7 % and the return to the pool at 8.0 % of its CPU.
//!
//! What sqlx pings for is a connection whose work was cut short (a request cancelled
//! mid-query leaves it in an unknown state). Here the caller says when the work on a
//! connection finished ([`Checkout::release_after`]); only then does it go back. A
//! [`Checkout`] dropped before that closes its connection instead, and the set opens a
//! new one on demand. A rollback a dropped [`sqlx::Transaction`] queued is sent before
//! the connection's next statement (sqlx's drivers flush it then), so it needs no ping.
//!
//! A connection that breaks (an I/O or protocol error: the database restarted, the
//! network cut) is taken as a sign that its siblings broke too: every set sharing its
//! [`Breakage`] drops its idle connections, and those out close when they end, instead of
//! each failing a request of its own once the database is back.
//!
//! The set holds at most `max` connections (a fair `tokio` semaphore: waiters are served
//! in order), opens them lazily, and bounds each acquire, connecting included, by the
//! pool's `acquire_timeout` (`sqlx::Error::PoolTimedOut` past it, as sqlx's pool answers,
//! so a database that is down fails requests fast with 503).
//!
//! Built on `tokio::sync::Semaphore` rather than a pool crate: deadpool (the well-kept
//! candidate) hands an object back on drop whatever state it is in, and its recycle hook
//! runs at checkout, so the "back only when done" rule would be a wrapper over it anyway,
//! for a new dependency.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::AnyConnection;
use sqlx::any::AnyConnectOptions;
use sqlx::{ConnectOptions as _, Executor as _};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Ping-free connections to one database (see the module documentation).
#[derive(Debug, Clone)]
pub struct ConnSet {
    inner: Arc<Inner>,
}

/// A count of broken connections shared by the [`ConnSet`]s of one database: a connection
/// opened or taken before the last breakage is not used again.
#[derive(Debug, Clone, Default)]
pub struct Breakage(Arc<AtomicU64>);

impl Breakage {
    fn now(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
}

#[derive(Debug)]
struct Inner {
    options: AnyConnectOptions,
    /// Statements run once on each new connection (its session settings).
    setup: &'static str,
    /// Idle connections, each with the breakage count when it was opened.
    idle: Mutex<Vec<(AnyConnection, u64)>>,
    breakage: Breakage,
    permits: Arc<Semaphore>,
    acquire_timeout: Duration,
    opened: AtomicU64,
}

impl ConnSet {
    /// A set of at most `max` (at least one) connections to `options`, none opened yet;
    /// each new connection runs `setup` first (empty: nothing). An acquire waits at most
    /// `acquire_timeout`, connecting included. Sets given one `breakage` drop their
    /// connections together when one breaks.
    pub fn new(
        options: AnyConnectOptions,
        max: u32,
        acquire_timeout: Duration,
        setup: &'static str,
        breakage: &Breakage,
    ) -> Self {
        let max = usize::try_from(max.max(1)).unwrap_or(1);
        Self {
            inner: Arc::new(Inner {
                options,
                setup,
                idle: Mutex::new(Vec::with_capacity(max)),
                breakage: breakage.clone(),
                permits: Arc::new(Semaphore::new(max)),
                acquire_timeout,
                opened: AtomicU64::new(0),
            }),
        }
    }

    /// A connection: an idle one, or a new one when none is idle and fewer than `max` are
    /// out. Errors: `PoolTimedOut` past the acquire timeout, `PoolClosed` after
    /// [`ConnSet::close`], or the error of connecting.
    pub async fn acquire(&self) -> Result<Checkout, sqlx::Error> {
        let inner = &self.inner;
        let checkout = async {
            let permit = Arc::clone(&inner.permits)
                .acquire_owned()
                .await
                .map_err(|_| sqlx::Error::PoolClosed)?;
            let now = inner.breakage.now();
            let idle = inner
                .idle
                .lock()
                .map(|mut idle| {
                    // Those opened before a breakage go (dropped: closed).
                    idle.retain(|(_, at)| *at == now);
                    idle.pop()
                })
                .unwrap_or(None);
            let (conn, at) = match idle {
                Some(idle) => idle,
                None => {
                    let mut conn = inner.options.connect().await?;
                    if !inner.setup.is_empty() {
                        conn.execute(inner.setup).await?;
                    }
                    inner.opened.fetch_add(1, Ordering::Relaxed);
                    (conn, now)
                }
            };
            Ok(Checkout {
                conn: Some(conn),
                at,
                set: Arc::clone(inner),
                done: false,
                _permit: permit,
            })
        };
        tokio::time::timeout(inner.acquire_timeout, checkout)
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
    }

    /// Connections opened since the set was made (a new one replaces each closed after
    /// a cancelled or broken use): for tests.
    pub fn opened(&self) -> u64 {
        self.inner.opened.load(Ordering::Relaxed)
    }

    /// Refuses new acquires and closes the idle connections (those out close when their
    /// [`Checkout`] ends).
    pub async fn close(&self) {
        self.inner.permits.close();
        let idle = self
            .inner
            .idle
            .lock()
            .map(|mut idle| std::mem::take(&mut *idle))
            .unwrap_or_default();
        for (conn, _) in idle {
            let _ = sqlx::Connection::close(conn).await;
        }
    }
}

/// A connection out of a [`ConnSet`]; derefs to [`AnyConnection`] (an executor as
/// `&mut *checkout`). Goes back only through [`Checkout::release_after`]; dropped otherwise,
/// its connection is closed.
#[derive(Debug)]
pub struct Checkout {
    conn: Option<AnyConnection>,
    /// The breakage count when the connection was opened.
    at: u64,
    set: Arc<Inner>,
    done: bool,
    _permit: OwnedSemaphorePermit,
}

impl Checkout {
    /// Ends the work on this connection, whose last operation failed with `error` (`None`:
    /// it succeeded). The connection goes back to its set unless the error leaves it in an
    /// unknown state (anything but an error the database answered, or one decoding a row it
    /// sent): I/O, TLS, protocol errors and the like close it, and with it every
    /// connection of the sets sharing its [`Breakage`] (see the module documentation).
    pub fn release_after(mut self, error: Option<&sqlx::Error>) {
        self.done = error.is_none_or(|e| {
            matches!(
                e,
                sqlx::Error::Database(_)
                    | sqlx::Error::RowNotFound
                    | sqlx::Error::ColumnNotFound(_)
                    | sqlx::Error::ColumnIndexOutOfBounds { .. }
                    | sqlx::Error::ColumnDecode { .. }
                    | sqlx::Error::Decode(_)
                    | sqlx::Error::TypeNotFound { .. }
            )
        });
        if !self.done {
            self.set.breakage.0.fetch_add(1, Ordering::AcqRel);
        }
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take()
            && self.done
            && self.at == self.set.breakage.now()
            && !self.set.permits.is_closed()
            && let Ok(mut idle) = self.set.idle.lock()
        {
            idle.push((conn, self.at));
        }
        // Otherwise `conn` drops here: its socket (or SQLite worker) closes.
    }
}

impl Deref for Checkout {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        // Present from creation until drop.
        self.conn.as_ref().unwrap_or_else(|| unreachable!())
    }
}

impl DerefMut for Checkout {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        self.conn.as_mut().unwrap_or_else(|| unreachable!())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::str::FromStr as _;

    fn set_on(dir: &tempfile::TempDir, max: u32, breakage: &Breakage) -> ConnSet {
        set_with_timeout(dir, max, Duration::from_secs(30), breakage)
    }

    fn set_with_timeout(
        dir: &tempfile::TempDir,
        max: u32,
        timeout: Duration,
        breakage: &Breakage,
    ) -> ConnSet {
        sqlx::any::install_default_drivers();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let options = AnyConnectOptions::from_str(&url).unwrap();
        ConnSet::new(options, max, timeout, "", breakage)
    }

    async fn select_one(conn: &mut Checkout) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT 1").fetch_one(&mut **conn).await
    }

    #[tokio::test]
    async fn a_connection_goes_back_only_when_its_work_finished() {
        let dir = tempfile::tempdir().unwrap();
        let set = set_on(&dir, 2, &Breakage::default());
        let mut conn = set.acquire().await.unwrap();
        let one = select_one(&mut conn).await;
        conn.release_after(one.as_ref().err());
        // Reused: no new connection.
        let mut conn = set.acquire().await.unwrap();
        let failed = sqlx::query("SELECT * FROM missing")
            .execute(&mut *conn)
            .await;
        assert!(matches!(failed, Err(sqlx::Error::Database(_))));
        // An error the database answered leaves the connection sound: it goes back.
        conn.release_after(failed.as_ref().err());
        let conn = set.acquire().await.unwrap();
        assert_eq!(set.opened(), 1);
        // Dropped without saying the work finished (a cancelled request): closed, and the
        // next acquire opens a new one.
        drop(conn);
        let conn = set.acquire().await.unwrap();
        assert_eq!(set.opened(), 2);
        conn.release_after(None);
    }

    #[tokio::test]
    async fn a_broken_connection_drops_its_siblings_in_every_set_sharing_the_breakage() {
        let dir = tempfile::tempdir().unwrap();
        let breakage = Breakage::default();
        let (a, b) = (set_on(&dir, 2, &breakage), set_on(&dir, 2, &breakage));
        let held = a.acquire().await.unwrap();
        b.acquire().await.unwrap().release_after(None);
        let broken = a.acquire().await.unwrap();
        let io = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::UnexpectedEof));
        broken.release_after(Some(&io));
        // `held`, taken before the breakage, is closed when it ends, even if it went well.
        held.release_after(None);
        a.acquire().await.unwrap().release_after(None);
        b.acquire().await.unwrap().release_after(None);
        assert_eq!((a.opened(), b.opened()), (3, 2));
    }

    #[tokio::test]
    async fn an_acquire_waits_at_most_the_timeout_and_none_after_close() {
        let dir = tempfile::tempdir().unwrap();
        // The one connection stays out: the second acquire can only time out.
        let set = set_with_timeout(&dir, 1, Duration::from_millis(200), &Breakage::default());
        let held = set.acquire().await.unwrap();
        assert!(matches!(
            set.acquire().await,
            Err(sqlx::Error::PoolTimedOut)
        ));
        held.release_after(None);
        set.close().await;
        assert!(matches!(set.acquire().await, Err(sqlx::Error::PoolClosed)));
    }
}
