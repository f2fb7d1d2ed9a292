//! What one OpenID4VCI issuance (token, nonce, credential) costs the database, on SQLite and
//! PostgreSQL: the exact statements sqlx runs (from its statement log, captured by a
//! tracing layer) and the transactions begun, so a new round trip or commit on the
//! issuance path fails here instead of growing back silently (issue 17). Counts, not
//! timings: they do not depend on the machine's load.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::future::Future;
use std::sync::{Mutex, OnceLock};

use axum::http::StatusCode;
use common::TestApp;
use futures_util::future::join_all;
use giayto_server::db::DbKind;
use giayto_server::domain::group_commit::{BatchKind, GroupCommit};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::registry::Registry;

/// The statements sqlx logged while recording is on (`None`: off).
static LOG: Mutex<Option<Vec<String>>> = Mutex::new(None);

/// Records each `sqlx::query` event's SQL (or its summary when that is the whole SQL).
struct StatementLog;

#[derive(Default)]
struct SqlOf {
    summary: String,
    statement: String,
}

impl Visit for SqlOf {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "summary" => self.summary = value.to_owned(),
            "db.statement" => self.statement = value.to_owned(),
            _ => {}
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for StatementLog {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() != "sqlx::query" {
            return;
        }
        let mut sql = SqlOf::default();
        event.record(&mut sql);
        let text = if sql.statement.trim().is_empty() {
            sql.summary
        } else {
            sql.statement
        };
        // A new pooled SQLite connection's set-up (once per connection, not per request).
        if text.trim_start().to_uppercase().starts_with("PRAGMA") {
            return;
        }
        if let Some(log) = LOG.lock().unwrap().as_mut() {
            log.push(shape(&text));
        }
    }
}

/// `VERB table` of a statement (`BEGIN`, `COMMIT` as they are; a `WITH` statement by the
/// statement its common table expressions feed).
fn shape(sql: &str) -> String {
    if sql.trim_start().to_uppercase().starts_with("WITH") {
        let upper = sql.to_uppercase();
        if let Some(at) = [") INSERT ", ") UPDATE ", ") DELETE "]
            .iter()
            .filter_map(|verb| upper.find(verb))
            .min()
        {
            return shape(&sql[at + 1..]);
        }
    }
    let words: Vec<String> = sql
        .split_whitespace()
        .map(|w| w.trim_end_matches([',', ';']).to_owned())
        .collect();
    let verb = words.first().cloned().unwrap_or_default().to_uppercase();
    let after = |kw: &str| {
        words
            .iter()
            .position(|w| w.eq_ignore_ascii_case(kw))
            .and_then(|i| words.get(i + 1))
            .cloned()
            .unwrap_or_default()
    };
    let table = match verb.as_str() {
        "INSERT" => after("INTO"),
        "UPDATE" => words.get(1).cloned().unwrap_or_default(),
        "SELECT" | "DELETE" => after("FROM"),
        _ => return verb,
    };
    format!("{verb} {table}")
}

fn install() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let subscriber = Registry::default().with(StatementLog);
        tracing::subscriber::set_global_default(subscriber).unwrap();
    });
}

/// The statements, transactions and sqlx pool releases of one full issuance of a freshly
/// published document.
async fn one_issuance(app: &TestApp, document_id: &str) -> (Vec<String>, u64, u64, u64) {
    let offer = app.publish_id_card(document_id).await.json()["offer"].clone();
    let begun = app.services.db.transactions_begun();
    let relaxed = app.services.db.relaxed_transactions_begun();
    let releases = settled_releases(&app.services.db).await;
    *LOG.lock().unwrap() = Some(Vec::new());
    let token = app.redeem(&offer).await.unwrap();
    let (status, body) = app.request_credential(&token).await;
    let log = LOG.lock().unwrap().take().unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    (
        log,
        app.services.db.transactions_begun() - begun,
        app.services.db.relaxed_transactions_begun() - relaxed,
        settled_releases(&app.services.db).await - releases,
    )
}

/// `Db::pool_releases` once every connection of the sqlx pools is back (sqlx gives a
/// connection back in a task of its own, after the request's answer): waits for the
/// pools' idle count to reach their size, polling, within a generous bound.
async fn settled_releases(db: &giayto_server::db::Db) -> u64 {
    for _ in 0..30_000 {
        if [db.pool(), db.writer()]
            .iter()
            .all(|p| p.num_idle() == p.size() as usize)
        {
            return db.pool_releases();
        }
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    panic!("a sqlx pool connection never came back");
}

/// How many connections one issuance, or one batch of them, gives back to a sqlx pool
/// (which pings each on its way back, `return_to_pool` in sqlx-core 0.8.6: a hidden round
/// trip no statement log shows). None on PostgreSQL: the reads, the redemption batch and
/// the credential batch run on ping-free connections (`giayto_server::db_conns`). On
/// SQLite the two writes (the redemption statement, the credential transaction) queue
/// for the one writer, a sqlx pool shared with bulk publishing and revocation; the reads
/// use ping-free connections.
fn pool_releases_per_issuance(kind: DbKind) -> u64 {
    match kind {
        DbKind::Postgres => 0,
        DbKind::Sqlite => 2,
    }
}

/// The statements of one issuance, in order, with `COMMIT` where sqlx logs it: on
/// PostgreSQL (its `BEGIN` is queued with the transaction's first statement, no round trip
/// of its own, and not logged); SQLite's `BEGIN`/`COMMIT` run inside its driver, unlogged,
/// and are counted by `Db::transactions_begun`.
fn expected(kind: DbKind) -> Vec<&'static str> {
    let tx = |inner: Vec<&'static str>| {
        let mut v = inner;
        if kind == DbKind::Postgres {
            v.push("COMMIT");
        }
        v
    };
    let mut all = vec![
        // Token endpoint: the offer read (with the activation it may be, one LEFT JOIN),
        // then the redemption, one statement (no token rows: the tokens are stateless).
        "SELECT offers",
    ];
    // One autocommit statement on both engines (no COMMIT of its own).
    all.push("UPDATE offers");
    // Credential endpoint (the nonce endpoint touches no database): the offer with its
    // document and the agency's active kid (the signer is cached), then one transaction.
    all.push("SELECT offers");
    all.extend(tx(vec![
        "INSERT single_uses", // the nonce and the token's use, one multi-row statement
        "UPDATE documents",   // row lock, state and the window bound together
        "INSERT credentials", // with the open status list, INSERT ... SELECT
    ]));
    all
}

async fn pins_statements_and_commits(app: TestApp) {
    install();
    let kind = app.services.db.kind();
    // The first issuance makes the agency's status list; measure a later one.
    one_issuance(&app, "cost-warmup").await;
    let (log, transactions, relaxed, releases) = one_issuance(&app, "cost-1").await;
    assert_eq!(log, expected(kind), "{kind:?}");
    assert_eq!(releases, pool_releases_per_issuance(kind), "{kind:?}");
    // Two transactions (redemption, credential), one durable commit: the redemption's
    // commit does not wait for the disk. (On SQLite the redemption is one autocommit
    // statement, counted as a relaxed transaction.)
    assert_eq!((transactions, relaxed), (2, 1), "{kind:?}");
    if kind == DbKind::Postgres {
        // The relaxed transaction really commits without waiting for the disk, and only it.
        let setting = |relaxed: bool| {
            let db = app.services.db.clone();
            async move {
                let mut tx = if relaxed {
                    db.begin_relaxed().await.unwrap()
                } else {
                    db.begin().await.unwrap()
                };
                let v: String = sqlx::query_scalar("SELECT current_setting('synchronous_commit')")
                    .fetch_one(&mut *tx)
                    .await
                    .unwrap();
                tx.rollback().await.unwrap();
                v
            }
        };
        assert_eq!(setting(true).await, "off");
        assert_eq!(setting(false).await, "on");
        // The relaxed single statements run on sessions that commit without waiting.
        let row = app
            .services
            .db
            .fetch_all_relaxed(sqlx::query(
                "SELECT current_setting('synchronous_commit') AS v",
            ))
            .await
            .unwrap();
        assert_eq!(sqlx::Row::get::<String, _>(&row[0], "v"), "off");
    }
    // Pool checkouts without a ping (sqlx's default is a round trip per checkout).
    assert!(!app.services.db.pool().options().get_test_before_acquire());
    assert!(!app.services.db.writer().options().get_test_before_acquire());
}

/// Holds `batcher`; lets it go once `n` requests wait in it: one batch of the `n`.
async fn one_batch<K: BatchKind>(batcher: &GroupCommit<K>, n: usize) -> impl Future<Output = ()> {
    let mut queued = batcher.queued();
    let held = batcher.hold().await;
    async move {
        queued.wait_for(|&q| q == n).await.unwrap();
        drop(held);
    }
}

/// Concurrent issuances share their writes: each batcher is held while `N` requests queue
/// (watched on its queue count, no sleeping), then released. After each request's own
/// read of its offer, the `N` redemptions make one relaxed statement, and the `N`
/// credential requests one transaction with the statements of a batch of one (each
/// multi-row).
async fn concurrent_issuances_share_one_transaction(app: TestApp) {
    const N: usize = 8;
    install();
    let kind = app.services.db.kind();
    one_issuance(&app, "batch-warmup").await;
    let mut offers = Vec::new();
    for i in 0..N {
        offers.push(app.publish_id_card(&format!("batch-{i}")).await.json()["offer"].clone());
    }
    let services = &app.services;
    let b = &services.batchers;
    let batches = || {
        [
            b.redemptions.stats().batches(),
            b.credentials.stats().batches(),
        ]
    };
    let before = batches();
    let begun = services.db.transactions_begun();
    let relaxed = services.db.relaxed_transactions_begun();
    let releases = settled_releases(&services.db).await;
    *LOG.lock().unwrap() = Some(Vec::new());
    let release = one_batch(&b.redemptions, N).await;
    let (tokens, ()) = tokio::join!(join_all(offers.iter().map(|o| app.redeem(o))), release);
    let tokens: Vec<String> = tokens.into_iter().map(Result::unwrap).collect();
    let release = one_batch(&b.credentials, N).await;
    let (replies, ()) = tokio::join!(
        join_all(tokens.iter().map(|t| app.request_credential(t))),
        release
    );
    let log = LOG.lock().unwrap().take().unwrap();
    for (status, body) in &replies {
        assert_eq!(*status, StatusCode::OK, "{body}");
    }
    assert_eq!(
        (
            services.db.transactions_begun() - begun,
            services.db.relaxed_transactions_begun() - relaxed
        ),
        (2, 1),
        "{kind:?}"
    );
    assert_eq!(batches(), before.map(|n| n + 1));
    // The batch of N gives back as many pool connections as one issuance: none on
    // PostgreSQL, the writer's two on SQLite (not one per request).
    assert_eq!(
        settled_releases(&services.db).await - releases,
        pool_releases_per_issuance(kind),
        "{kind:?}"
    );
    let mut want = vec!["SELECT offers"; N];
    want.push("UPDATE offers");
    want.extend(vec!["SELECT offers"; N]);
    want.extend([
        "INSERT single_uses",
        "UPDATE documents",
        "INSERT credentials",
    ]);
    if kind == DbKind::Postgres {
        want.push("COMMIT");
    }
    assert_eq!(log, want, "{kind:?}");
}

/// Both checks on both databases, in one test: the statement log is process-wide (SQLite
/// runs statements on its own worker thread), so nothing else may run in this process
/// meanwhile, not even another database's set-up or teardown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_and_postgres() {
    // Status lists of the largest size: a random slot already taken (which takes the slow
    // path's extra statements) becomes too rare to show up (about 1 in 20,000 runs).
    let large = |c: &mut giayto_server::config::Config| {
        c.status_list_size = giayto_server::config::MAX_STATUS_LIST_SIZE as u32;
    };
    pins_statements_and_commits(common::sqlite_with(large).await).await;
    concurrent_issuances_share_one_transaction(common::sqlite_with(large).await).await;
    if common::postgres_url().is_some() {
        pins_statements_and_commits(common::postgres_with(large).await.unwrap()).await;
        concurrent_issuances_share_one_transaction(common::postgres_with(large).await.unwrap())
            .await;
    }
}
