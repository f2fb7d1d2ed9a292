//! Database access: `sqlx::Any` pools over SQLite (embedded, default) or PostgreSQL, the
//! embedded migrations of each, and write transactions.
//!
//! On SQLite (WAL) reads go to a pool of connections while every write goes through one
//! writer connection: writers queue in the pool's fair, async acquire instead of spinning
//! in SQLite's busy handler (which sleeps up to 100 ms a try and made the tail latency).
//! On PostgreSQL both are the same pool.
//!
//! The issuance hot path does not use sqlx's pools: sqlx 0.8.6 pings each connection it
//! takes back (`sqlx-core/src/pool/connection.rs`, `return_to_pool`), a hidden round trip
//! per checkout. It uses [`ConnSet`]s, which take a connection back with no ping once the
//! caller says its work finished ([`Db::fetch_optional_hot`], [`Db::fetch_all_relaxed`],
//! [`Db::batch_writer`]); [`Db::pool_releases`] counts what still goes through a pool.
//!
//! Queries are written once, with `$n` placeholders, in the SQL both engines accept.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::AnyConnection;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyPool, Transaction};

pub use crate::db_conns::{Breakage, Checkout, ConnSet};

/// A statement with its bound arguments.
pub type AnyQuery<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Which engine a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// The pool and its engine.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    writer: AnyPool,
    /// PostgreSQL only: ping-free connections whose session has `synchronous_commit =
    /// off`, for [`Db::fetch_all_relaxed`] (an autocommit statement, one round trip).
    relaxed_writer: Option<ConnSet>,
    /// PostgreSQL only: the ping-free connection of the credential writes' batcher
    /// ([`Db::batch_writer`]).
    batch_writer: Option<ConnSet>,
    /// Ping-free connections for the per-request reads of the hot path
    /// ([`Db::fetch_optional_hot`]); `None` for an in-memory SQLite (one connection).
    hot_reads: Option<ConnSet>,
    /// Connections given back to a sqlx pool (each pinged by sqlx on its way back).
    releases: Arc<AtomicU64>,
    kind: DbKind,
    /// Transactions begun with [`Db::begin`] (each is at most one durable commit).
    begun: Arc<AtomicU64>,
    /// Of those, begun with [`Db::begin_relaxed`].
    relaxed: Arc<AtomicU64>,
}

/// A database failure, with the URL's password never shown.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL names an engine this server does not speak.
    #[error("database URL must start with sqlite: or postgres:")]
    UnsupportedUrl,
    /// Connecting or querying failed.
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    /// Running the migrations failed.
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The SQLite file is not private.
    #[error(transparent)]
    File(#[from] crate::data_files::DataFileError),
}

impl Db {
    /// Connects to `url` and runs the migrations of its engine. On PostgreSQL,
    /// `acquire_timeout` bounds every wait for a pooled connection, connecting included, so
    /// a database that is down or silent fails requests fast (`sqlx::Error::PoolTimedOut`)
    /// instead of holding them. SQLite is embedded (nothing to lose contact with): its
    /// writer queue keeps a 30 s bound.
    pub async fn connect(
        url: &str,
        max_connections: u32,
        acquire_timeout: Duration,
    ) -> Result<Self, DbError> {
        sqlx::any::install_default_drivers();
        let kind = if url.starts_with("sqlite:") {
            DbKind::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            DbKind::Postgres
        } else {
            return Err(DbError::UnsupportedUrl);
        };
        let options = AnyConnectOptions::from_str(url)?;
        let db = match kind {
            DbKind::Postgres => {
                // No ping before each checkout (sqlx's default costs a round trip per
                // checkout): a broken connection fails its statement, and the request
                // gets the database error as it would if the connection broke mid-query.
                // The pool keeps three quarters of `max_connections` (at least one) for
                // everything but the hot path (publishing, bulk, revocation, the Issuer
                // API). The hot path's connections are ping-free ([`ConnSet`]): a quarter
                // (at least one) for the per-request reads, and one for each batcher (one
                // batch at a time): at most `max_connections + 2` in all.
                let reads = (max_connections / 4).max(1);
                let releases = Arc::new(AtomicU64::new(0));
                let pool = counted(
                    AnyPoolOptions::new()
                        .max_connections(max_connections.saturating_sub(reads).max(1))
                        .acquire_timeout(acquire_timeout)
                        .test_before_acquire(false),
                    &releases,
                )
                .connect_with(options.clone())
                .await?;
                let breakage = Breakage::default();
                let set = |max, setup| {
                    ConnSet::new(options.clone(), max, acquire_timeout, setup, &breakage)
                };
                Self {
                    writer: pool.clone(),
                    relaxed_writer: Some(set(1, "SET synchronous_commit = off")),
                    batch_writer: Some(set(1, "")),
                    hot_reads: Some(set(reads, "")),
                    releases,
                    pool,
                    kind,
                    begun: Arc::default(),
                    relaxed: Arc::default(),
                }
            }
            DbKind::Sqlite => {
                crate::data_files::prepare_sqlite(url)?;
                // The writer first: it creates the file and switches it to WAL.
                // Its page cache is 32 MiB (SQLite's default is 2 MiB): the index pages a
                // bulk publish inserts into stay cached instead of being read again from
                // the file for each batch. Its WAL is checkpointed every 10,000 pages
                // (SQLite's default is 1,000, about one bulk batch): an index page that
                // several batches dirty is copied to the file once, with one fsync, not
                // once per batch.
                let releases = Arc::new(AtomicU64::new(0));
                let writer = sqlite_pool(
                    1,
                    "PRAGMA cache_size = -32768; PRAGMA wal_autocheckpoint = 10000;",
                    &releases,
                )
                .connect_with(options.clone())
                .await?;
                // An in-memory database exists once per connection: share the writer.
                let (pool, hot_reads) = if url.contains(":memory:") || url.contains("mode=memory") {
                    (writer.clone(), None)
                } else {
                    let reads = ConnSet::new(
                        options.clone(),
                        max_connections.max(1),
                        Duration::from_secs(30),
                        SQLITE_PRAGMAS,
                        &Breakage::default(),
                    );
                    let pool = sqlite_pool(max_connections.max(1), "", &releases)
                        .connect_with(options)
                        .await?;
                    (pool, Some(reads))
                };
                Self {
                    pool,
                    writer,
                    relaxed_writer: None,
                    batch_writer: None,
                    hot_reads,
                    releases,
                    kind,
                    begun: Arc::default(),
                    relaxed: Arc::default(),
                }
            }
        };
        match kind {
            DbKind::Sqlite => SQLITE_MIGRATIONS.run(&db.writer).await?,
            DbKind::Postgres => POSTGRES_MIGRATIONS.run(&db.writer).await?,
        }
        Ok(db)
    }

    /// The pool for reads (and, on PostgreSQL, single-statement writes too).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The pool for single-statement writes outside a transaction. Never use it while the
    /// same task holds a transaction from [`Db::begin`]: on SQLite both need the one writer.
    pub fn writer(&self) -> &AnyPool {
        &self.writer
    }

    /// The engine.
    pub fn kind(&self) -> DbKind {
        self.kind
    }

    /// Starts a read-write transaction on the writer. On SQLite it is `BEGIN IMMEDIATE`, so
    /// the write lock is taken before the first read and a read-then-write transaction never
    /// fails on a stale snapshot (and another process writing the file waits, not fails).
    pub async fn begin(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        self.begun.fetch_add(1, Ordering::Relaxed);
        match self.kind {
            DbKind::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await,
            DbKind::Postgres => self.writer.begin().await,
        }
    }

    /// Starts a read-write transaction like [`Db::begin`] whose commit does not wait for
    /// the write-ahead log to reach the disk: on PostgreSQL `SET LOCAL synchronous_commit
    /// = off` (sent with `BEGIN` in one round trip); on SQLite the same as [`Db::begin`]
    /// (WAL with `synchronous = NORMAL` never waits for the disk at commit).
    ///
    /// Only for a transaction that a crash may lose whole without harm: everything it
    /// wrote vanishes together, and since the log is written in order, any later durable
    /// commit (one that read what this one wrote) flushes this one first.
    pub async fn begin_relaxed(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        match self.kind {
            DbKind::Sqlite => {
                self.relaxed.fetch_add(1, Ordering::Relaxed);
                self.begin().await
            }
            DbKind::Postgres => {
                self.begun.fetch_add(1, Ordering::Relaxed);
                self.relaxed.fetch_add(1, Ordering::Relaxed);
                self.writer
                    .begin_with("BEGIN; SET LOCAL synchronous_commit = off")
                    .await
            }
        }
    }

    /// Runs one write statement (`UPDATE ... RETURNING`) as its own transaction whose commit
    /// does not wait for the disk (see [`Db::begin_relaxed`] for when that is allowed), and
    /// gives its rows: a single autocommit statement, one round trip. On SQLite on
    /// the writer (one hop to its worker thread, not three for `BEGIN`, the statement and
    /// `COMMIT`); on PostgreSQL on a ping-free connection set aside for this (one: the
    /// redemption batcher runs one statement at a time), whose session has
    /// `synchronous_commit = off`.
    /// Counted as one relaxed transaction.
    pub async fn fetch_all_relaxed<'q>(
        &self,
        query: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    ) -> Result<Vec<sqlx::any::AnyRow>, sqlx::Error> {
        self.begun.fetch_add(1, Ordering::Relaxed);
        self.relaxed.fetch_add(1, Ordering::Relaxed);
        match &self.relaxed_writer {
            Some(set) => {
                let mut conn = set.acquire().await?;
                let rows = query.fetch_all(&mut *conn).await;
                conn.release_after(rows.as_ref().err());
                rows
            }
            None => query.fetch_all(&self.writer).await,
        }
    }

    /// Runs a read of the hot path and gives its row, if any, on a ping-free connection
    /// ([`ConnSet`]): on PostgreSQL a quarter of `max_connections` (at least one), on a SQLite
    /// file `max_connections` read connections of its own; an in-memory SQLite reads on
    /// the pool (its one connection). Errors as [`sqlx::query::Query::fetch_optional`]
    /// gives them, and `PoolTimedOut` past the acquire timeout.
    pub async fn fetch_optional_hot(
        &self,
        query: AnyQuery<'_>,
    ) -> Result<Option<AnyRow>, sqlx::Error> {
        match &self.hot_reads {
            Some(set) => {
                let mut conn = set.acquire().await?;
                let row = query.fetch_optional(&mut *conn).await;
                conn.release_after(row.as_ref().err());
                row
            }
            None => query.fetch_optional(&self.pool).await,
        }
    }

    /// PostgreSQL only: the ping-free connection of the credential writes' batcher (one:
    /// it runs one batch at a time), which begins its transactions with
    /// [`Db::begin_on`]; `None` on SQLite, whose batches queue for the one writer with
    /// bulk publishing and revocation ([`Db::begin`]).
    pub fn batch_writer(&self) -> Option<&ConnSet> {
        self.batch_writer.as_ref()
    }

    /// Starts a read-write transaction like [`Db::begin`] on `conn` (a connection of
    /// [`Db::batch_writer`]), counted as one.
    pub async fn begin_on<'c>(
        &self,
        conn: &'c mut AnyConnection,
    ) -> Result<Transaction<'c, Any>, sqlx::Error> {
        self.begun.fetch_add(1, Ordering::Relaxed);
        match self.kind {
            DbKind::Sqlite => sqlx::Connection::begin_with(conn, "BEGIN IMMEDIATE").await,
            DbKind::Postgres => sqlx::Connection::begin(conn).await,
        }
    }

    /// How many connections went back to a sqlx pool since connecting (sqlx pings each on
    /// its way back: a round trip). For tests that pin that the hot path uses none.
    pub fn pool_releases(&self) -> u64 {
        self.releases.load(Ordering::Relaxed)
    }

    /// How many transactions [`Db::begin`], [`Db::begin_relaxed`] and
    /// [`Db::fetch_all_relaxed`] have started since connecting (a count for tests
    /// that pin what one request costs; SQLite's `BEGIN`/`COMMIT` do not reach sqlx's
    /// statement log).
    pub fn transactions_begun(&self) -> u64 {
        self.begun.load(Ordering::Relaxed)
    }

    /// How many of [`Db::transactions_begun`] commit without waiting for the disk
    /// ([`Db::begin_relaxed`], [`Db::fetch_all_relaxed`]).
    pub fn relaxed_transactions_begun(&self) -> u64 {
        self.relaxed.load(Ordering::Relaxed)
    }

    /// Checks the database answers (readiness).
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
    }

    /// Closes the pools and the connection sets.
    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
        for set in [&self.relaxed_writer, &self.batch_writer, &self.hot_reads]
            .into_iter()
            .flatten()
        {
            set.close().await;
        }
    }
}

/// `options` counting each connection given back into `releases` (sqlx runs
/// `after_release` on every release, right before its ping).
fn counted(options: AnyPoolOptions, releases: &Arc<AtomicU64>) -> AnyPoolOptions {
    let releases = Arc::clone(releases);
    options.after_release(move |_conn, _meta| {
        releases.fetch_add(1, Ordering::Relaxed);
        Box::pin(async { Ok(true) })
    })
}

/// The PRAGMAs every SQLite connection runs first.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
     PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;";

/// A SQLite pool whose connections run the common PRAGMAs, then `pragmas`; its releases
/// counted into `releases`.
fn sqlite_pool(
    max_connections: u32,
    pragmas: &'static str,
    releases: &Arc<AtomicU64>,
) -> AnyPoolOptions {
    let options = AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(30))
        // Embedded: nothing to lose contact with, so no ping before each checkout.
        .test_before_acquire(false);
    counted(options, releases).after_connect(move |conn, _meta| {
        Box::pin(async move {
            use sqlx::Executor as _;
            conn.execute(SQLITE_PRAGMAS).await?;
            if !pragmas.is_empty() {
                conn.execute(pragmas).await?;
            }
            Ok(())
        })
    })
}
