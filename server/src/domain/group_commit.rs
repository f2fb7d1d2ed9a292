//! Group commit of issuance writes (issue 17): concurrent requests hand their write to one
//! batching task per kind of write and [`Services`](super::Services), which runs one
//! transaction (or one statement), with multi-row statements, for every request waiting at
//! that moment, and answers each on its own channel. PostgreSQL's own group commit (one WAL
//! flush for the commits that queue behind a flush in progress) is the analogy, one level
//! up. Two kinds: [`CredentialWrites`] (the credential endpoint's transaction for an offer's
//! access token: single uses, the document's window bound, status slots) and
//! [`Redemptions`] (the token endpoint's relaxed `UPDATE offers` of a document's code),
//! gathered in [`Batchers`]. The reads before them are not batched: batching them (one
//! `SELECT ... WHERE key IN (...)`) was tried and measured no CPU saved, and it would
//! queue reads that the pool otherwise runs in parallel.
//! Per-statement overhead (executor set-up, wake-ups, task switches, the driver), not the
//! rows, was most of an issuance's database cost: a batch of 8 pays it once, not 8 times.
//!
//! What it guarantees:
//! - **One commit per batch** (durable for credentials, relaxed for redemptions as before),
//!   and nothing is answered before it: a request learns its status slots, or its token
//!   generation, only after the transaction holding them committed.
//! - **Sequential semantics**: the outcome is that of running the batch's requests one
//!   after another. A request whose document, nonce, token use or offer is already in the
//!   batch being formed waits for the next batch ([`BatchKind::keys`]), so two requests
//!   with one code, one token or one nonce still give exactly one success, and the
//!   per-document window bound counts each request on its own. A refused request leaves no trace: its fresh `single_uses` rows are deleted in the
//!   same transaction (the rollback it had alone).
//! - **No added delay**: a batch starts as soon as the task is free; the requests that arrive
//!   while it runs form the next one, so a batch of one costs the statements of an unbatched
//!   issuance (plus one hand-over between tasks).
//! - **Bounds**: the queue holds at most [`QUEUE_CAPACITY`] requests (a full queue makes the
//!   next request wait for room, never grow memory), a batch at most
//!   [`MAX_REQUESTS_PER_BATCH`] requests and [`MAX_ITEMS_PER_BATCH`] credentials (8
//!   bound parameters each: far below SQLite's 32,766 and PostgreSQL's 65,535).
//! - **Failures**: on PostgreSQL a batch that fails with a deadlock or serialization
//!   failure (SQLSTATE `40P01` / `40001`: several server processes lock documents of their
//!   batches in different orders) is retried whole, up to [`RETRIES`] times; its rows are
//!   sorted by key to make that rare. Any other database error fails every request of the
//!   batch with the error an unbatched request would get.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use sqlx::{Any, Row, Transaction};
use tokio::sync::{Mutex, MutexGuard, mpsc, oneshot, watch};

use super::issuance::{CREDENTIAL_WINDOW_SECS, MAX_CREDENTIALS_PER_WINDOW};
use super::status_lists::{self, NewCredential};
use super::{DomainError, DomainResult, now};
use crate::db::Db;
use crate::secrets;

/// Most requests waiting in the queue of one batcher (beyond the batch running and those
/// the task holds back for the next one); a full queue makes a request wait for room.
pub const QUEUE_CAPACITY: usize = 256;
/// Most requests in one batch.
pub const MAX_REQUESTS_PER_BATCH: usize = 64;
/// Most rows a batch adds to one statement: credentials (a request has at most
/// [`BATCH_SIZE`](super::issuance::BATCH_SIZE)), offers; the first request of a batch
/// always fits.
pub const MAX_ITEMS_PER_BATCH: usize = 1024;
/// How many times a batch failing with a deadlock or serialization failure is tried again.
pub const RETRIES: usize = 3;
/// Requests the task holds back from the queue while forming batches (those that wait for
/// a later batch, and those it read ahead).
const MAX_HELD: usize = 2 * MAX_REQUESTS_PER_BATCH;

/// The credential write of one offer-token credential request: its single uses, the
/// document's row lock and window bound, and one status slot per credential.
#[derive(Debug, Clone)]
pub struct CredentialWrite {
    /// Internal document id.
    pub document_id: String,
    /// The version the credentials carry.
    pub doc_version: i64,
    /// The issuing agency (whose open status list gets the slots).
    pub agency_id: String,
    /// The signing key's `kid`.
    pub kid: String,
    /// `iat` of the credentials, Unix seconds.
    pub issued_at: i64,
    /// `exp` of the credentials, Unix seconds.
    pub expires_at: i64,
    /// A fresh row id per credential (one per holder key).
    pub credential_ids: Vec<String>,
    /// The distinct `c_nonce`s of the key proofs, with their expiry.
    pub nonces: Vec<(String, i64)>,
    /// The access token's use for this configuration, with the token's expiry.
    pub token_use: (String, i64),
}

impl CredentialWrite {
    /// Every `single_uses` id this write records.
    fn single_uses(&self) -> impl Iterator<Item = (&str, i64)> {
        self.nonces
            .iter()
            .chain(std::iter::once(&self.token_use))
            .map(|(id, expires_at)| (id.as_str(), *expires_at))
    }
}

/// Why a write was refused (nothing of it stays in the database).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A `c_nonce` of the proofs was used before.
    NonceUsed,
    /// The access token was used before for this configuration.
    TokenUsed,
    /// The document was revoked, suspended or re-issued since the offer.
    DocumentGone,
    /// The document reached [`MAX_CREDENTIALS_PER_WINDOW`] in its window.
    OverBound,
}

/// The status slots of a write's credentials: `(list_id, idx)` per credential, in order.
pub type Slots = Vec<(String, i64)>;

/// One kind of write whose concurrent requests share one transaction (or one statement).
pub trait BatchKind: Send + Sync + 'static {
    /// One request's write.
    type Write: Send + Sync + 'static;
    /// What one request gets back (a refusal of its own included).
    type Answer: Send + 'static;
    /// The `kind` label of the batch-size metric.
    fn name(&self) -> &'static str;
    /// The keys a write holds within its batch: a later write sharing one waits for the
    /// next batch, so the outcome is that of one after the other.
    fn keys(write: &Self::Write) -> Vec<&str>;
    /// The write's share of [`MAX_ITEMS_PER_BATCH`] (rows it adds to a statement).
    fn items(write: &Self::Write) -> usize;
    /// Runs one batch; an answer per write, in order. Any error fails the whole batch
    /// (nothing of it is kept).
    fn run<'a>(
        &'a self,
        writes: &'a [&'a Self::Write],
    ) -> impl Future<Output = DomainResult<Vec<Self::Answer>>> + Send + 'a;
}

struct Job<K: BatchKind> {
    write: K::Write,
    reply: oneshot::Sender<DomainResult<K::Answer>>,
}

/// Batch sizes seen, for the load benchmark and the operators: requests per batch in
/// power-of-two buckets `1, 2-3, 4-7, 8-15, 16-31, 32-63, 64` (the last holds 64 and up),
/// also recorded as the histogram `giayto_issuance_batch_size{kind}`.
#[derive(Debug, Default)]
pub struct BatchStats {
    batches: AtomicU64,
    requests: AtomicU64,
    buckets: [AtomicU64; 7],
}

impl BatchStats {
    fn record(&self, kind: &'static str, size: usize) {
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.requests.fetch_add(size as u64, Ordering::Relaxed);
        let bucket = (usize::BITS - size.max(1).leading_zeros() - 1) as usize;
        if let Some(b) = self.buckets.get(bucket.min(6)) {
            b.fetch_add(1, Ordering::Relaxed);
        }
        metrics::histogram!("giayto_issuance_batch_size", "kind" => kind).record(size as f64);
    }

    /// Batches run so far.
    pub fn batches(&self) -> u64 {
        self.batches.load(Ordering::Relaxed)
    }

    /// Requests those batches held.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Batches per size bucket (`1, 2-3, 4-7, 8-15, 16-31, 32-63, 64+` requests).
    pub fn buckets(&self) -> [u64; 7] {
        std::array::from_fn(|i| self.buckets[i].load(Ordering::Relaxed))
    }
}

/// The batching task of one kind of write on one database, and its queue (started on
/// first use, inside the runtime that serves requests; it ends when its handle is dropped).
pub struct GroupCommit<K: BatchKind> {
    kind: Arc<K>,
    sender: OnceLock<mpsc::Sender<Job<K>>>,
    gate: Arc<Mutex<()>>,
    queued: Arc<watch::Sender<usize>>,
    stats: Arc<BatchStats>,
}

impl<K: BatchKind> std::fmt::Debug for GroupCommit<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit")
            .field("kind", &self.kind.name())
            .field("queued", &*self.queued.borrow())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl<K: BatchKind> GroupCommit<K> {
    /// A group commit of `kind`'s writes.
    pub fn new(kind: K) -> Self {
        Self {
            kind: Arc::new(kind),
            sender: OnceLock::new(),
            gate: Arc::default(),
            queued: Arc::new(watch::Sender::new(0)),
            stats: Arc::default(),
        }
    }

    /// Requests handed over and not yet in a running batch (those queued, and those held
    /// back for a later batch), as a watch: tests wait on it with `wait_for`.
    pub fn queued(&self) -> watch::Receiver<usize> {
        self.queued.subscribe()
    }

    /// Holds the batcher: no batch starts until the guard is dropped (requests keep
    /// queuing, up to the bounds). For tests that make a batch of known requests, and for
    /// maintenance.
    pub async fn hold(&self) -> MutexGuard<'_, ()> {
        self.gate.lock().await
    }

    /// The batch sizes seen.
    pub fn stats(&self) -> &BatchStats {
        &self.stats
    }

    /// Runs `write` in the next batch it fits; its answer once that batch committed.
    pub async fn submit(&self, write: K::Write) -> DomainResult<K::Answer> {
        let gone = || DomainError::Internal(format!("{} batcher stopped", self.kind.name()));
        let sender = self.sender.get_or_init(|| self.start());
        // Room first (waiting here is cancel-safe), then count and send with no await in
        // between, so the count never drifts.
        let permit = sender.reserve().await.map_err(|_| gone())?;
        let (reply, answer) = oneshot::channel();
        self.queued.send_modify(|n| *n += 1);
        permit.send(Job { write, reply });
        answer.await.map_err(|_| gone())?
    }

    fn start(&self) -> mpsc::Sender<Job<K>> {
        let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(run_task(
            Arc::clone(&self.kind),
            Arc::clone(&self.gate),
            Arc::clone(&self.queued),
            Arc::clone(&self.stats),
            receiver,
        ));
        sender
    }
}

/// The batching task: waits for a first request, then takes the next batch from what has
/// queued meanwhile, runs it and answers each request.
async fn run_task<K: BatchKind>(
    kind: Arc<K>,
    gate: Arc<Mutex<()>>,
    queued: Arc<watch::Sender<usize>>,
    stats: Arc<BatchStats>,
    mut receiver: mpsc::Receiver<Job<K>>,
) {
    let mut held: VecDeque<Job<K>> = VecDeque::new();
    loop {
        if held.is_empty() {
            match receiver.recv().await {
                Some(job) => held.push_back(job),
                None => return,
            }
        }
        let _gate = gate.lock().await;
        while held.len() < MAX_HELD {
            match receiver.try_recv() {
                Ok(job) => held.push_back(job),
                Err(_) => break,
            }
        }
        let (batch, abandoned) = take_batch(&mut held);
        queued.send_modify(|n| *n -= batch.len() + abandoned);
        if batch.is_empty() {
            continue;
        }
        stats.record(kind.name(), batch.len());
        let writes: Vec<&K::Write> = batch.iter().map(|j| &j.write).collect();
        let answers = run_batch(kind.as_ref(), &writes).await;
        for (job, answer) in batch.into_iter().zip(answers) {
            // A request that went away meanwhile simply misses its answer.
            let _ = job.reply.send(answer);
        }
    }
}

/// Takes the next batch out of `held`, in order: each request that shares no key with an
/// earlier one in the batch, within the bounds; the others stay, in order, for a later
/// batch. Requests whose caller went away are dropped (their count is the second value).
/// The first request always fits.
fn take_batch<K: BatchKind>(held: &mut VecDeque<Job<K>>) -> (Vec<Job<K>>, usize) {
    let mut batch = Vec::new();
    let mut abandoned = 0;
    let mut keys: HashSet<String> = HashSet::new();
    let mut items = 0;
    let mut kept = VecDeque::with_capacity(held.len());
    while let Some(job) = held.pop_front() {
        if job.reply.is_closed() {
            abandoned += 1;
            continue;
        }
        let its_keys = K::keys(&job.write);
        let fits = batch.len() < MAX_REQUESTS_PER_BATCH
            && (batch.is_empty() || items + K::items(&job.write) <= MAX_ITEMS_PER_BATCH)
            && !its_keys.iter().any(|k| keys.contains(*k));
        if fits {
            keys.extend(its_keys.iter().map(|k| (*k).to_owned()));
            items += K::items(&job.write);
            batch.push(job);
        } else {
            kept.push_back(job);
        }
    }
    *held = kept;
    (batch, abandoned)
}

/// Runs one batch, trying it again on a deadlock or serialization failure; an answer per
/// write, in order.
async fn run_batch<K: BatchKind>(kind: &K, writes: &[&K::Write]) -> Vec<DomainResult<K::Answer>> {
    let mut tries = 0;
    loop {
        match kind.run(writes).await {
            Ok(answers) => return answers.into_iter().map(Ok).collect(),
            Err(e) if tries < RETRIES && is_retryable(&e) => {
                tries += 1;
                metrics::counter!("giayto_issuance_batch_retries_total", "kind" => kind.name())
                    .increment(1);
            }
            Err(e) => {
                tracing::warn!(error = %e, kind = kind.name(), requests = writes.len(), "issuance batch failed");
                return writes.iter().map(|_| Err(replicate(&e))).collect();
            }
        }
    }
}

/// A deadlock (`40P01`) or serialization failure (`40001`): PostgreSQL rolled the
/// transaction back, and running it again may succeed.
fn is_retryable(e: &DomainError) -> bool {
    match e {
        DomainError::Db(sqlx::Error::Database(db)) => {
            matches!(db.code().as_deref(), Some("40P01" | "40001"))
        }
        _ => false,
    }
}

/// The error a request of a failed batch gets: the same kind as `e` (so a database that
/// cannot be reached still answers 503, anything else 500).
fn replicate(e: &DomainError) -> DomainError {
    match e {
        DomainError::Db(sqlx::Error::PoolTimedOut) => DomainError::Db(sqlx::Error::PoolTimedOut),
        DomainError::Db(sqlx::Error::PoolClosed) => DomainError::Db(sqlx::Error::PoolClosed),
        DomainError::Db(sqlx::Error::Io(io)) => DomainError::Db(sqlx::Error::Io(
            std::io::Error::new(io.kind(), io.to_string()),
        )),
        other => DomainError::Internal(format!("issuance batch: {other}")),
    }
}

/// The credential writes of offer-token credential requests, on one database.
#[derive(Debug)]
pub struct CredentialWrites {
    /// The database.
    pub db: Db,
    /// Entries of a new status list.
    pub status_list_size: u32,
}

impl BatchKind for CredentialWrites {
    type Write = CredentialWrite;
    type Answer = Result<Slots, Refusal>;

    fn name(&self) -> &'static str {
        "credentials"
    }

    fn keys(write: &CredentialWrite) -> Vec<&str> {
        let mut keys = vec![write.document_id.as_str()];
        keys.extend(write.single_uses().map(|(id, _)| id));
        keys
    }

    fn items(write: &CredentialWrite) -> usize {
        write.credential_ids.len()
    }

    async fn run(&self, writes: &[&CredentialWrite]) -> DomainResult<Vec<Result<Slots, Refusal>>> {
        write_credentials(&self.db, self.status_list_size, writes).await
    }
}

/// One try of a batch of credential writes in one transaction: an answer per write, in
/// order. On PostgreSQL on the batcher's own ping-free connection ([`Db::batch_writer`],
/// put back once the transaction ended, closed and opened again after a broken one); on
/// SQLite on the one writer, queued with bulk publishing and revocation.
async fn write_credentials(
    db: &Db,
    status_list_size: u32,
    writes: &[&CredentialWrite],
) -> DomainResult<Vec<Result<Slots, Refusal>>> {
    let Some(set) = db.batch_writer() else {
        return write_credentials_in(db.begin().await?, status_list_size, writes).await;
    };
    let mut conn = set.acquire().await?;
    let answers = match db.begin_on(&mut conn).await {
        Ok(tx) => write_credentials_in(tx, status_list_size, writes).await,
        Err(e) => Err(e.into()),
    };
    conn.release_after(match &answers {
        Err(DomainError::Db(e)) => Some(e),
        _ => None,
    });
    answers
}

/// [`write_credentials`] in the transaction `tx`.
async fn write_credentials_in(
    mut tx: Transaction<'_, Any>,
    status_list_size: u32,
    writes: &[&CredentialWrite],
) -> DomainResult<Vec<Result<Slots, Refusal>>> {
    let t = now();
    let mut answers: Vec<Option<Result<Slots, Refusal>>> = vec![None; writes.len()];

    // 1. Every single use, one statement (sorted: concurrent batches take the index
    //    entries in one order).
    let mut uses: Vec<(&str, i64)> = writes.iter().flat_map(|w| w.single_uses()).collect();
    uses.sort_unstable();
    let fresh: HashSet<String> = record_single_uses(&mut tx, &uses)
        .await?
        .into_iter()
        .collect();
    for (answer, w) in answers.iter_mut().zip(writes) {
        if w.nonces.iter().any(|(n, _)| !fresh.contains(n)) {
            *answer = Some(Err(Refusal::NonceUsed));
        } else if !fresh.contains(&w.token_use.0) {
            *answer = Some(Err(Refusal::TokenUsed));
        }
    }

    // 2. Every remaining document's row lock, state and window bound, one statement.
    let mut open: Vec<usize> = (0..writes.len())
        .filter(|&i| answers[i].is_none())
        .collect();
    open.sort_unstable_by(|&a, &b| writes[a].document_id.cmp(&writes[b].document_id));
    let passed = count_in_windows(&mut tx, writes, &open, t).await?;
    let failed: Vec<usize> = open
        .iter()
        .copied()
        .filter(|&i| !passed.contains(&writes[i].document_id))
        .collect();
    if !failed.is_empty() {
        // Rare: tell a document no longer issued from one over its bound.
        let still_valid = still_valid(&mut tx, writes, &failed).await?;
        for &i in &failed {
            answers[i] = Some(Err(if still_valid.contains(&writes[i].document_id) {
                Refusal::OverBound
            } else {
                Refusal::DocumentGone
            }));
        }
    }
    // A refusal leaves no trace: its fresh single uses go again.
    let undo: Vec<&str> = writes
        .iter()
        .zip(&answers)
        .filter(|(_, a)| matches!(a, Some(Err(_))))
        .flat_map(|(w, _)| w.single_uses().map(|(id, _)| id))
        .filter(|id| fresh.contains(*id))
        .collect();
    if !undo.is_empty() {
        delete_single_uses(&mut tx, &undo).await?;
    }

    // 3. Every credential of the writes that passed, with a slot in its agency's oldest
    //    open list, one statement; the few it could not place take the slow path.
    let issuing: Vec<usize> = (0..writes.len())
        .filter(|&i| answers[i].is_none())
        .collect();
    let mut planned: Vec<(usize, &str, i64)> = Vec::new();
    for &i in &issuing {
        for id in &writes[i].credential_ids {
            let idx = i64::try_from(secrets::random_below(u64::from(status_list_size))?)
                .map_err(|_| DomainError::Internal("slot".into()))?;
            planned.push((i, id.as_str(), idx));
        }
    }
    let placed = insert_credentials(&mut tx, writes, &planned).await?;
    let mut slots: HashMap<usize, Slots> = HashMap::new();
    for (i, id, idx) in planned {
        let w = writes[i];
        let slot = match placed.get(id) {
            Some(list_id) => (list_id.clone(), idx),
            None => {
                let cred = NewCredential {
                    id,
                    document_id: &w.document_id,
                    doc_version: w.doc_version,
                    kid: &w.kid,
                    issued_at: w.issued_at,
                    expires_at: w.expires_at,
                    account_id: None,
                    guardianship_id: None,
                };
                status_lists::insert_with_slot(status_list_size, &mut tx, &w.agency_id, &cred)
                    .await?
            }
        };
        slots.entry(i).or_default().push(slot);
    }
    tx.commit().await?;
    Ok(answers
        .into_iter()
        .enumerate()
        .map(|(i, a)| a.unwrap_or_else(|| Ok(slots.remove(&i).unwrap_or_default())))
        .collect())
}

/// `($first, $first+1, ...), (...)`: `rows` groups of `width` numbered placeholders, written
/// into one string (the batch statements' `VALUES` lists; numbered on both databases, since
/// some follow other parameters).
fn placeholders(rows: usize, width: usize, first: usize) -> String {
    use std::fmt::Write as _;
    let mut sql = String::with_capacity(rows * (width * 6 + 4));
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..width {
            if c > 0 {
                sql.push_str(", ");
            }
            let _ = write!(sql, "${}", first + r * width + c);
        }
        sql.push(')');
    }
    sql
}

/// Records each `(id, expires_at)` in `single_uses` in one statement; the ids recorded
/// now (those missing were used before).
pub(crate) async fn record_single_uses(
    tx: &mut Transaction<'_, Any>,
    uses: &[(&str, i64)],
) -> Result<Vec<String>, sqlx::Error> {
    if uses.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "INSERT INTO single_uses (id, expires_at) VALUES {} ON CONFLICT (id) DO NOTHING RETURNING id",
        placeholders(uses.len(), 2, 1)
    );
    let mut q = sqlx::query_scalar(&sql);
    for (id, expires_at) in uses {
        q = q.bind(*id).bind(*expires_at);
    }
    q.fetch_all(&mut **tx).await
}

/// Deletes the `single_uses` rows `ids` (written earlier in this transaction).
async fn delete_single_uses(
    tx: &mut Transaction<'_, Any>,
    ids: &[&str],
) -> Result<(), sqlx::Error> {
    let list: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!("DELETE FROM single_uses WHERE id IN ({})", list.join(", "));
    let mut q = sqlx::query(&sql);
    for id in ids {
        q = q.bind(*id);
    }
    q.execute(&mut **tx).await?;
    Ok(())
}

/// For the writes `open` (distinct documents), one statement takes each document's row
/// lock (as revocation does), checks it may still be issued at its version, and counts
/// the credentials against the window bound ([`MAX_CREDENTIALS_PER_WINDOW`] in a fixed
/// window of [`CREDENTIAL_WINDOW_SECS`], starting at the first issuance after the last
/// window ended); the documents that passed.
async fn count_in_windows(
    tx: &mut Transaction<'_, Any>,
    writes: &[&CredentialWrite],
    open: &[usize],
    t: i64,
) -> Result<HashSet<String>, sqlx::Error> {
    if open.is_empty() {
        return Ok(HashSet::new());
    }
    let sql = format!(
        "WITH v (doc_id, doc_version, asked) AS (VALUES {}) \
         UPDATE documents SET \
         credentials_window_start = CASE WHEN credentials_window_start > $1 \
           THEN credentials_window_start ELSE $2 END, \
         credentials_in_window = CASE WHEN credentials_window_start > $1 \
           THEN credentials_in_window ELSE 0 END + v.asked \
         FROM v WHERE id = v.doc_id AND state = 'valid' AND version = v.doc_version \
         AND CASE WHEN credentials_window_start > $1 THEN credentials_in_window ELSE 0 END \
           + v.asked <= $3 \
         RETURNING id",
        placeholders(open.len(), 3, 4)
    );
    let mut q = sqlx::query_scalar(&sql)
        .bind(t - CREDENTIAL_WINDOW_SECS)
        .bind(t)
        .bind(MAX_CREDENTIALS_PER_WINDOW);
    for &i in open {
        let w = writes[i];
        q = q
            .bind(&w.document_id)
            .bind(w.doc_version)
            .bind(i64::try_from(w.credential_ids.len()).unwrap_or(i64::MAX));
    }
    Ok(q.fetch_all(&mut **tx).await?.into_iter().collect())
}

/// Of the documents of `refused`, those still valid at the version their write asked for.
async fn still_valid(
    tx: &mut Transaction<'_, Any>,
    writes: &[&CredentialWrite],
    refused: &[usize],
) -> Result<HashSet<String>, sqlx::Error> {
    let list: Vec<String> = (1..=refused.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT id, state, version FROM documents WHERE id IN ({})",
        list.join(", ")
    );
    let mut q = sqlx::query(&sql);
    for &i in refused {
        q = q.bind(&writes[i].document_id);
    }
    let mut valid = HashSet::new();
    for row in q.fetch_all(&mut **tx).await? {
        let id: String = row.try_get("id")?;
        let version: i64 = row.try_get("version")?;
        let asked = refused
            .iter()
            .any(|&i| writes[i].document_id == id && writes[i].doc_version == version);
        if row.try_get::<String, _>("state")? == "valid" && asked {
            valid.insert(id);
        }
    }
    Ok(valid)
}

/// Inserts each planned credential `(write, id, idx)` at `idx` of its agency's oldest
/// open list whose size is above `idx`, in one statement (`INSERT ... SELECT`, the list by
/// a correlated subquery, `ON CONFLICT (list_id, idx) DO NOTHING`); the list id of each
/// credential inserted, by credential id. Those missing found their slot taken or no list.
async fn insert_credentials(
    tx: &mut Transaction<'_, Any>,
    writes: &[&CredentialWrite],
    planned: &[(usize, &str, i64)],
) -> Result<HashMap<String, String>, sqlx::Error> {
    if planned.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "WITH v (c_id, c_doc, c_version, c_idx, c_kid, c_iat, c_exp, c_agency) AS (VALUES {}) \
         INSERT INTO credentials (id, document_id, doc_version, list_id, idx, status, kid, issued_at, expires_at) \
         SELECT c_id, c_doc, c_version, c_list, c_idx, 0, c_kid, c_iat, c_exp FROM ( \
           SELECT v.*, (SELECT s.id FROM status_lists s WHERE s.agency_id = v.c_agency \
             AND s.is_full = 0 AND v.c_idx < s.size ORDER BY s.created_at, s.id LIMIT 1) AS c_list \
           FROM v) AS placed \
         WHERE c_list IS NOT NULL \
         ON CONFLICT (list_id, idx) DO NOTHING RETURNING id, list_id",
        placeholders(planned.len(), 8, 1)
    );
    let mut q = sqlx::query(&sql);
    for &(i, id, idx) in planned {
        let w = writes[i];
        q = q
            .bind(id)
            .bind(&w.document_id)
            .bind(w.doc_version)
            .bind(idx)
            .bind(&w.kid)
            .bind(w.issued_at)
            .bind(w.expires_at)
            .bind(&w.agency_id);
    }
    let mut placed = HashMap::with_capacity(planned.len());
    for row in q.fetch_all(&mut **tx).await? {
        placed.insert(row.try_get("id")?, row.try_get("list_id")?);
    }
    Ok(placed)
}

/// The redemptions of documents' pre-authorized codes (the token endpoint): one relaxed
/// autocommit statement per batch, `UPDATE offers ... WHERE id IN (...)` (see
/// [`Db::fetch_all_relaxed`] for why its commit need not wait for the disk). The write is
/// the offer id; the answer its new token generation, `None` when the offer was not open
/// (used, burnt or expired).
#[derive(Debug)]
pub struct Redemptions {
    /// The database.
    pub db: Db,
}

impl BatchKind for Redemptions {
    type Write = String;
    type Answer = Option<i64>;

    fn name(&self) -> &'static str {
        "redemptions"
    }

    fn keys(offer_id: &String) -> Vec<&str> {
        vec![offer_id.as_str()]
    }

    fn items(_: &String) -> usize {
        1
    }

    async fn run(&self, offer_ids: &[&String]) -> DomainResult<Vec<Option<i64>>> {
        let mut sorted: Vec<&str> = offer_ids.iter().map(|id| id.as_str()).collect();
        sorted.sort_unstable();
        let list: Vec<String> = (2..sorted.len() + 2).map(|i| format!("${i}")).collect();
        let sql = format!(
            "UPDATE offers SET state = 'redeemed', secret_wrapped = NULL, \
             token_generation = token_generation + 1 \
             WHERE id IN ({}) AND state = 'open' AND expires_at > $1 \
             RETURNING id, token_generation",
            list.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(now());
        for id in &sorted {
            q = q.bind(*id);
        }
        let mut generations: HashMap<String, i64> = HashMap::with_capacity(sorted.len());
        for row in self.db.fetch_all_relaxed(q).await? {
            generations.insert(row.try_get("id")?, row.try_get("token_generation")?);
        }
        Ok(offer_ids
            .iter()
            .map(|id| generations.get(id.as_str()).copied())
            .collect())
    }
}

/// The batchers of one database's issuance path.
#[derive(Debug)]
pub struct Batchers {
    /// The token endpoint's redemptions.
    pub redemptions: GroupCommit<Redemptions>,
    /// The credential endpoint's writes.
    pub credentials: GroupCommit<CredentialWrites>,
}

impl Batchers {
    /// The batchers of `db`; new status lists get `status_list_size` entries.
    pub fn new(db: &Db, status_list_size: u32) -> Self {
        Self {
            redemptions: GroupCommit::new(Redemptions { db: db.clone() }),
            credentials: GroupCommit::new(CredentialWrites {
                db: db.clone(),
                status_list_size,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn placeholders_number_rows_from_first() {
        assert_eq!(placeholders(2, 3, 4), "($4, $5, $6), ($7, $8, $9)");
        assert_eq!(placeholders(1, 2, 1), "($1, $2)");
        assert_eq!(placeholders(0, 2, 1), "");
    }

    /// A kind whose write is its keys and its item count (never run).
    struct Keyed;

    impl BatchKind for Keyed {
        type Write = (Vec<String>, usize);
        type Answer = ();

        fn name(&self) -> &'static str {
            "test"
        }

        fn keys(write: &Self::Write) -> Vec<&str> {
            write.0.iter().map(String::as_str).collect()
        }

        fn items(write: &Self::Write) -> usize {
            write.1
        }

        async fn run(&self, _: &[&Self::Write]) -> DomainResult<Vec<()>> {
            Ok(Vec::new())
        }
    }

    type Answers = Vec<oneshot::Receiver<DomainResult<()>>>;

    fn jobs(writes: &[(&[&str], usize)]) -> (VecDeque<Job<Keyed>>, Answers) {
        let mut held: VecDeque<Job<Keyed>> = VecDeque::new();
        let mut answers = Vec::new();
        for (keys, items) in writes {
            let (reply, answer) = oneshot::channel();
            let keys = keys.iter().map(|k| (*k).to_owned()).collect();
            held.push_back(Job {
                write: (keys, *items),
                reply,
            });
            answers.push(answer);
        }
        (held, answers)
    }

    fn keys_of(batch: &[Job<Keyed>]) -> Vec<&str> {
        batch.iter().map(|j| j.write.0[0].as_str()).collect()
    }

    #[test]
    fn a_write_sharing_a_key_with_an_earlier_one_waits_for_the_next_batch() {
        // Two requests with one token ("t1"), one nonce shared ("n"), and free ones.
        let (mut held, _answers) = jobs(&[
            (&["d1", "t1", "n"], 1),
            (&["d2", "t1"], 1),
            (&["d3", "n"], 1),
            (&["d4"], 1),
        ]);
        let (batch, abandoned) = take_batch(&mut held);
        assert_eq!((keys_of(&batch), abandoned), (vec!["d1", "d4"], 0));
        // The two held back keep their order and share no key with each other: both go in
        // the next batch.
        let (batch, _) = take_batch(&mut held);
        assert_eq!(keys_of(&batch), vec!["d2", "d3"]);
        assert!(held.is_empty());
    }

    #[test]
    fn a_batch_stays_within_its_bounds_and_the_first_write_always_fits() {
        let many: Vec<String> = (0..MAX_REQUESTS_PER_BATCH + 5)
            .map(|i| format!("d{i}"))
            .collect();
        let mut held: VecDeque<Job<Keyed>> = VecDeque::new();
        let mut answers = Vec::new();
        for key in &many {
            let (reply, answer) = oneshot::channel();
            held.push_back(Job {
                write: (vec![key.clone()], 1),
                reply,
            });
            answers.push(answer);
        }
        let (batch, _) = take_batch(&mut held);
        assert_eq!(batch.len(), MAX_REQUESTS_PER_BATCH);
        assert_eq!(held.len(), 5);
        // Items: a write over what is left waits; a write alone over the bound still goes.
        let (mut held, _answers) = jobs(&[
            (&["a"], MAX_ITEMS_PER_BATCH - 10),
            (&["b"], 20),
            (&["c"], 10),
        ]);
        let (batch, _) = take_batch(&mut held);
        assert_eq!(keys_of(&batch), vec!["a", "c"]);
        let (mut held, _answers) = jobs(&[(&["big"], MAX_ITEMS_PER_BATCH + 1)]);
        assert_eq!(take_batch(&mut held).0.len(), 1);
    }

    #[test]
    fn a_request_whose_caller_went_away_is_dropped_and_counted() {
        let (mut held, mut answers) = jobs(&[(&["d1"], 1), (&["d2"], 1)]);
        drop(answers.remove(0));
        let (batch, abandoned) = take_batch(&mut held);
        assert_eq!((keys_of(&batch), abandoned), (vec!["d2"], 1));
    }
}
