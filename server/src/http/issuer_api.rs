//! The issuer API of agencies (bearer API key): publish one document, bulk-publish an
//! NDJSON stream, read a document, revoke / suspend / reinstate it, re-issue it.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;
use serde::Serialize;
use tokio::sync::mpsc;
use zeroize::Zeroizing;

use super::AppState;
use super::auth::{AuthAgency, bearer_secret};
use super::body::BodyFault;
use super::error::{ApiError, Problem};
use crate::domain::agencies::{self, Agency};
use crate::domain::documents::{
    self, Change, OfferView, PublishRequest, PublishResponse, Published, ReissueRequest,
};
use crate::domain::{DomainError, Services};

/// Longest accepted NDJSON line, bytes.
pub const MAX_LINE_BYTES: usize = 64 * 1024;
/// Lines published per database transaction in a bulk request.
const BULK_CHUNK: usize = 256;

/// Publish one document.
#[utoipa::path(post, path = "/api/v1/documents", tag = "issuer",
    request_body = PublishRequest,
    responses(
        (status = 201, description = "Published; carries the credential offer", body = PublishResponse),
        (status = 200, description = "Same document id and content as before: the earlier result", body = PublishResponse),
        (status = 401, description = "No, unknown or revoked API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Document type not allowed for this agency", body = Problem, content_type = "application/problem+json"),
        (status = 400, description = "The body is not a JSON publish request", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Same document id with other content", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid; `field` names it", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = [])))]
pub async fn publish(
    State(state): State<AppState>,
    AuthAgency(agency): AuthAgency,
    body: Bytes,
) -> Result<(StatusCode, Json<PublishResponse>), ApiError> {
    let req = parse_json::<PublishRequest>(&body)?;
    let (published, res) = documents::publish(&state.services, &agency, req).await?;
    let status = match published {
        Published::Created => {
            metrics::counter!("giayto_documents_published_total").increment(1);
            StatusCode::CREATED
        }
        Published::Replayed => StatusCode::OK,
    };
    Ok((status, Json(res)))
}

/// Parses a JSON body after core's nesting bound (`limits::MAX_JSON_DEPTH`), which holds
/// whatever serde_json features a workspace build unifies (`unbounded_depth` lifts
/// serde_json's own recursion limit).
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    giayto_core::limits::parse_json(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad-json",
            format!("request body: {e}"),
        )
    })
}

/// Read a document.
#[utoipa::path(get, path = "/api/v1/documents/{document_id}", tag = "issuer",
    params(("document_id" = String, Path, description = "The agency's own document id")),
    responses(
        (status = 200, body = PublishResponse),
        (status = 401, description = "No, unknown or revoked API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such document of this agency", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The path's document id is not a document id (`field`: `document_id`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = [])))]
pub async fn get_document(
    State(state): State<AppState>,
    AuthAgency(agency): AuthAgency,
    Path(document_id): Path<String>,
) -> Result<Json<PublishResponse>, ApiError> {
    Ok(Json(
        documents::get(&state.services, &agency, &document_id).await?,
    ))
}

async fn change(
    state: &AppState,
    agency: &Agency,
    document_id: &str,
    change: Change,
) -> Result<Json<PublishResponse>, ApiError> {
    let res = documents::change_state(&state.services, agency, document_id, change).await?;
    metrics::counter!("giayto_document_state_changes_total").increment(1);
    Ok(Json(res))
}

/// Revoke a document: every credential of it shows revoked in the next status list token.
#[utoipa::path(post, path = "/api/v1/documents/{document_id}/revoke", tag = "issuer",
    params(("document_id" = String, Path)),
    responses(
        (status = 200, description = "Revoked (again: the same answer)", body = PublishResponse),
        (status = 401, description = "No, unknown or revoked API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such document of this agency", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The path's document id is not a document id (`field`: `document_id`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    AuthAgency(agency): AuthAgency,
    Path(document_id): Path<String>,
) -> Result<Json<PublishResponse>, ApiError> {
    change(&state, &agency, &document_id, Change::Revoke).await
}

/// Suspend a document.
#[utoipa::path(post, path = "/api/v1/documents/{document_id}/suspend", tag = "issuer",
    params(("document_id" = String, Path)),
    responses(
        (status = 200, description = "Suspended (again: the same answer)", body = PublishResponse),
        (status = 401, description = "No, unknown or revoked API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such document of this agency", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The document is revoked", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The path's document id is not a document id (`field`: `document_id`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = [])))]
pub async fn suspend(
    State(state): State<AppState>,
    AuthAgency(agency): AuthAgency,
    Path(document_id): Path<String>,
) -> Result<Json<PublishResponse>, ApiError> {
    change(&state, &agency, &document_id, Change::Suspend).await
}

/// End a suspension.
#[utoipa::path(post, path = "/api/v1/documents/{document_id}/reinstate", tag = "issuer",
    params(("document_id" = String, Path)),
    responses(
        (status = 200, description = "Valid again (or already valid)", body = PublishResponse),
        (status = 401, description = "No, unknown or revoked API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such document of this agency", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The document is revoked", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The path's document id is not a document id (`field`: `document_id`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = [])))]
pub async fn reinstate(
    State(state): State<AppState>,
    AuthAgency(agency): AuthAgency,
    Path(document_id): Path<String>,
) -> Result<Json<PublishResponse>, ApiError> {
    change(&state, &agency, &document_id, Change::Reinstate).await
}

/// Re-issue after a data change: old credentials are revoked, a new offer is made.
#[utoipa::path(post, path = "/api/v1/documents/{document_id}/reissue", tag = "issuer",
    params(("document_id" = String, Path)),
    request_body = ReissueRequest,
    responses(
        (status = 200, description = "Re-issued; carries the new credential offer", body = PublishResponse),
        (status = 400, description = "The body is not a JSON re-issue request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown or revoked API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The agency may no longer issue this document type", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such document of this agency", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The document is revoked", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The path's document id, a claim or `valid_until` is invalid; `field` names it", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = [])))]
pub async fn reissue(
    State(state): State<AppState>,
    AuthAgency(agency): AuthAgency,
    Path(document_id): Path<String>,
    body: Bytes,
) -> Result<Json<PublishResponse>, ApiError> {
    let req = parse_json::<ReissueRequest>(&body)?;
    Ok(Json(
        documents::reissue(&state.services, &agency, &document_id, &req).await?,
    ))
}

/// One result line of a bulk publish.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BulkLine {
    /// 1-based input line number.
    pub line: usize,
    /// HTTP-like status of this line (201, 200, 400, 403, 409, 422, 500).
    pub status: u16,
    /// The agency's document id, when the line parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_id: Option<String>,
    /// The offer, for a newly published document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer: Option<OfferView>,
    /// The problem, for a refused line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Problem>,
}

/// Bulk publish: `application/x-ndjson`, one publish request per line; answers one result
/// line per input line, in order, streamed. A bad line never stops the good ones.
///
/// Lines are published in batches of 256 (and at the end of the body); before each batch
/// the API key is checked again, so a revoked key or a withdrawn document type takes effect
/// within one batch. The stream ends early, with one last line naming the first line that
/// was not published (`{"line": n, "status": s, "error": {problem}}`), when the key was
/// revoked (401), the body paused longer than `body_read_timeout_secs` or the stream lasted
/// longer than `bulk_max_duration_secs` (408), or the body went over `max_bulk_body_bytes`
/// (413). The client must read answers while it writes lines: a client that stops reading
/// for `write_timeout_secs` is disconnected.
#[utoipa::path(post, path = "/api/v1/bulk/documents", tag = "issuer",
    request_body(content = String, content_type = "application/x-ndjson", description = "One PublishRequest per line"),
    responses((status = 200, description = "One BulkLine per input line; an early end is one last BulkLine with status 401, 408 or 413", body = BulkLine, content_type = "application/x-ndjson"),
              (status = 401, description = "No, unknown or revoked API key", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub async fn bulk(
    State(state): State<AppState>,
    headers: HeaderMap,
    AuthAgency(_agency): AuthAgency,
    body: Body,
) -> Response {
    let secret = match bearer_secret(&headers) {
        Ok(s) => Zeroizing::new(s.to_owned()),
        Err(e) => return e.into_response(),
    };
    let (out_tx, out_rx) = mpsc::channel::<Bytes>(OUT_QUEUE);
    let (step_tx, step_rx) = mpsc::channel::<Step>(1);
    let config = &state.services.config;
    let stream = BulkStream {
        body_pause: Duration::from_secs(config.body_read_timeout_secs),
        max_duration: Duration::from_secs(config.bulk_max_duration_secs),
        max_bytes: config.max_bulk_body_bytes,
        services: state.services.clone(),
        secret,
        steps: step_tx,
        deadline: tokio::time::Instant::now() + Duration::from_secs(config.bulk_max_duration_secs),
        batch: Vec::with_capacity(BULK_CHUNK),
    };
    let publisher = Publisher {
        services: state.services.clone(),
        out: out_tx,
        write_timeout: Duration::from_secs(config.write_timeout_secs),
    };
    tokio::spawn(publisher.run(step_rx));
    tokio::spawn(stream.run(body));
    let stream = futures_util::stream::unfold(out_rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    });
    (
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(stream),
    )
        .into_response()
}

/// Answer chunks (one per batch) queued for a bulk client before the stream waits.
const OUT_QUEUE: usize = 2;

type Batch = Vec<(usize, Result<PublishRequest, ApiError>)>;

/// What the reading half of a bulk stream hands to its publishing half, in line order.
/// The two halves form a pipeline: the next batch is checked and prepared while the one
/// before is inserted. At most three batches of a stream are held at once (being read, one
/// waiting here, being published), whatever the stream's length.
enum Step {
    /// A batch checked against the key (of `Agency`, just now) and prepared: publish it.
    Publish(Agency, PreparedBatch),
    /// A batch answered without publishing (every line refused or failed).
    Answered(Vec<BulkLine>),
    /// The stream's last line: why it ended early.
    End(Box<BulkLine>),
}

/// The reading half of a bulk stream: splits the body into lines, parses them, checks the
/// key again and prepares each batch.
struct BulkStream {
    services: Services,
    /// The caller's API key, checked again before each batch.
    secret: Zeroizing<String>,
    steps: mpsc::Sender<Step>,
    body_pause: Duration,
    max_duration: Duration,
    max_bytes: usize,
    /// When the stream must end, `bulk_max_duration_secs` after it began.
    deadline: tokio::time::Instant,
    batch: Batch,
}

/// The publishing half of a bulk stream: inserts the prepared batches and sends the answers.
struct Publisher {
    services: Services,
    out: mpsc::Sender<Bytes>,
    write_timeout: Duration,
}

/// The client went away or stopped reading: nobody to answer.
struct Gone;

impl BulkStream {
    async fn run(mut self, body: Body) {
        let mut input = body.into_data_stream();
        let mut pending: Vec<u8> = Vec::new();
        let mut skipping = false; // inside an over-long line
        let mut line_no = 0usize;
        loop {
            let Ok(next) = tokio::time::timeout_at(self.deadline, input.next()).await else {
                let first = self.batch.first().map_or(line_no + 1, |(l, _)| *l);
                let _ = self
                    .steps
                    .send(Step::End(Box::new(self.overlong(first))))
                    .await;
                return;
            };
            let (bytes, end) = match next {
                Some(Ok(bytes)) => (bytes, false),
                None => (Bytes::new(), true),
                Some(Err(e)) => {
                    let first = self.batch.first().map_or(line_no + 1, |(l, _)| *l);
                    if let Some(line) = self.body_fault(&e, first) {
                        let _ = self.steps.send(Step::End(Box::new(line))).await;
                    }
                    return;
                }
            };
            let mut rest: &[u8] = &bytes;
            while let Some(pos) = rest.iter().position(|&b| b == b'\n') {
                let (head, tail) = rest.split_at(pos);
                rest = &tail[1..];
                if skipping {
                    // The end of a line already answered as too long.
                    skipping = false;
                    continue;
                }
                pending.extend_from_slice(head);
                line_no += 1;
                if pending.len() > MAX_LINE_BYTES {
                    self.batch.push((line_no, Err(too_long())));
                } else {
                    push_line(&mut self.batch, line_no, &pending);
                }
                pending.clear();
            }
            if !skipping {
                pending.extend_from_slice(rest);
                if pending.len() > MAX_LINE_BYTES {
                    line_no += 1;
                    self.batch.push((line_no, Err(too_long())));
                    pending.clear();
                    skipping = true;
                }
            }
            if end && !skipping && !pending.iter().all(u8::is_ascii_whitespace) {
                line_no += 1;
                push_line(&mut self.batch, line_no, &pending);
                pending.clear();
            }
            if (self.batch.len() >= BULK_CHUNK || (end && !self.batch.is_empty()))
                && self.flush().await.is_err()
            {
                return;
            }
            if end {
                return;
            }
        }
    }

    /// Checks the key again and prepares the batch for the publishing half; `Err` when the
    /// stream ends here (the key was revoked, or nobody is left to answer).
    async fn flush(&mut self) -> Result<(), Gone> {
        let batch = std::mem::take(&mut self.batch);
        let first = batch.first().map_or(0, |(l, _)| *l);
        let (step, last) = match agencies::authenticate(&self.services, &self.secret).await {
            Ok(Some(agency)) => (prepare_step(&self.services, agency, batch), false),
            Ok(None) => (
                Step::End(Box::new(early_end(
                    first,
                    ApiError::unauthorized(&format!(
                        "the API key was revoked: lines from {first} on were not published"
                    )),
                ))),
                true,
            ),
            Err(e) => (Step::Answered(fail_batch(batch, &ApiError::from(e))), false),
        };
        self.steps.send(step).await.map_err(|_| Gone)?;
        if last { Err(Gone) } else { Ok(()) }
    }

    /// The last line for a body that failed at line `first`, if anyone is left to read it.
    fn body_fault(&self, e: &axum::Error, first: usize) -> Option<BulkLine> {
        let (status, kind, detail) = match BodyFault::of(e) {
            BodyFault::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                format!(
                    "the stream is over {} bytes: lines from {first} on were not published",
                    self.max_bytes
                ),
            ),
            BodyFault::TimedOut => (
                StatusCode::REQUEST_TIMEOUT,
                "request-timeout",
                format!(
                    "no data for {} s: lines from {first} on were not published",
                    self.body_pause.as_secs()
                ),
            ),
            BodyFault::Other => return None,
        };
        Some(early_end(first, ApiError::new(status, kind, detail)))
    }

    /// The last line of a stream that reached `bulk_max_duration_secs` at line `first`.
    fn overlong(&self, first: usize) -> BulkLine {
        early_end(
            first,
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "request-timeout",
                format!(
                    "the stream lasted over {} s: lines from {first} on were not published",
                    self.max_duration.as_secs()
                ),
            ),
        )
    }
}

impl Publisher {
    /// Publishes and answers the steps in order until the reading half is done, the stream
    /// ended early or the client is gone.
    async fn run(self, mut steps: mpsc::Receiver<Step>) {
        while let Some(step) = steps.recv().await {
            let (lines, last) = match step {
                Step::Publish(agency, prepared) => {
                    (publish_step(&self.services, &agency, prepared).await, false)
                }
                Step::Answered(lines) => (lines, false),
                Step::End(line) => (vec![*line], true),
            };
            if self.send(&lines).await.is_err() || last {
                return;
            }
        }
    }

    /// Sends answer lines; a client that has not taken them within the write timeout has
    /// stopped reading and is let go.
    async fn send(&self, lines: &[BulkLine]) -> Result<(), Gone> {
        // A created document's line is about 1.6 kB: room for it from the start.
        let mut buf = Vec::with_capacity(lines.len() * 2048);
        for l in lines {
            if serde_json::to_writer(&mut buf, l).is_ok() {
                buf.push(b'\n');
            }
        }
        self.out
            .send_timeout(Bytes::from(buf), self.write_timeout)
            .await
            .map_err(|_| {
                tracing::info!("bulk client stopped reading its answers: stream ended");
                Gone
            })
    }
}

/// The last line of a stream that ends before its body: `line` is the first line not
/// published.
fn early_end(line: usize, e: ApiError) -> BulkLine {
    error_line(line, None, e)
}

fn too_long() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "line-too-long",
        format!("a line may hold at most {MAX_LINE_BYTES} bytes"),
    )
}

fn push_line(batch: &mut Batch, line_no: usize, bytes: &[u8]) {
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return; // blank lines are ignored (and numbered)
    }
    batch.push((line_no, parse_json::<PublishRequest>(bytes)));
}

fn error_line(line: usize, document_id: Option<String>, e: ApiError) -> BulkLine {
    BulkLine {
        line,
        status: e.status().as_u16(),
        document_id,
        offer: None,
        error: Some(problem_of(&e)),
    }
}

fn problem_of(e: &ApiError) -> Problem {
    let p = e.problem();
    Problem {
        type_: p.type_.clone(),
        title: p.title.clone(),
        status: p.status,
        detail: p.detail.clone(),
        field: p.field.clone(),
        errors: p.errors.clone(),
    }
}

/// Every line of a batch that could not run answers `e` (its own error for a line that did
/// not parse).
fn fail_batch(batch: Batch, e: &ApiError) -> Vec<BulkLine> {
    batch
        .into_iter()
        .map(|(line, parsed)| match parsed {
            Err(own) => error_line(line, None, own),
            Ok(req) => failed_line(line, req.document_id, e),
        })
        .collect()
}

/// The answer of a parsed line that a fault of the whole batch (`e`) stopped.
fn failed_line(line: usize, document_id: String, e: &ApiError) -> BulkLine {
    BulkLine {
        line,
        status: e.status().as_u16(),
        document_id: Some(document_id),
        offer: None,
        error: Some(problem_of(e)),
    }
}

/// A batch after its CPU work: the answers of the lines refused already (did not parse,
/// break a rule of the catalogue or the agency's rights) and the documents ready to insert,
/// each with its line number and the agency's document id.
struct PreparedBatch {
    refused: Vec<BulkLine>,
    ready: Vec<documents::PreparedPublish>,
    ready_lines: Vec<(usize, String)>,
}

/// Checks and prepares every line of `batch` (no I/O: run off the async workers). A fault
/// that is no line's own (the random generator failed) answers every parsed line with it.
fn prepare_batch(
    services: &Services,
    agency: &Agency,
    batch: Batch,
) -> Result<PreparedBatch, Vec<BulkLine>> {
    let mut refused = Vec::new();
    let mut ready = Vec::with_capacity(batch.len());
    let mut ready_lines = Vec::with_capacity(batch.len());
    let mut rest = batch.into_iter();
    while let Some((line, parsed)) = rest.next() {
        let req = match parsed {
            Err(e) => {
                refused.push(error_line(line, None, e));
                continue;
            }
            Ok(req) => req,
        };
        let document_id = req.document_id.clone();
        match documents::prepare(services, agency, req) {
            Ok(p) => {
                ready.push(p);
                ready_lines.push((line, document_id));
            }
            Err(e) if is_line_error(&e) => {
                refused.push(error_line(line, Some(document_id), e.into()));
            }
            Err(e) => {
                let e = ApiError::from(e);
                let mut lines = refused;
                lines.extend(
                    ready_lines
                        .into_iter()
                        .map(|(l, id)| failed_line(l, id, &e)),
                );
                lines.push(failed_line(line, document_id, &e));
                lines.extend(fail_batch(rest.collect(), &e));
                lines.sort_by_key(|l| l.line);
                return Err(lines);
            }
        }
    }
    Ok(PreparedBatch {
        refused,
        ready,
        ready_lines,
    })
}

/// Checks and prepares a batch: the CPU work of a batch, done while the publishing half
/// inserts the batch before. It stays on this task (a few milliseconds for a full batch)
/// rather than the blocking pool, whose extra threads each kept their own allocator heap.
fn prepare_step(services: &Services, agency: Agency, batch: Batch) -> Step {
    match prepare_batch(services, &agency, batch) {
        Ok(prepared) => Step::Publish(agency, prepared),
        Err(failed) => Step::Answered(failed),
    }
}

/// Publishes a prepared batch in one transaction; answers every line of it, in order.
async fn publish_step(
    services: &Services,
    agency: &Agency,
    prepared: PreparedBatch,
) -> Vec<BulkLine> {
    let PreparedBatch {
        mut refused,
        ready,
        ready_lines,
    } = prepared;
    if !ready.is_empty() {
        match publish_batch(services, agency, ready, &ready_lines).await {
            Ok(lines) => refused.extend(lines),
            Err(e) => {
                let e = ApiError::from(e);
                refused.extend(
                    ready_lines
                        .into_iter()
                        .map(|(l, id)| failed_line(l, id, &e)),
                );
            }
        }
    }
    refused.sort_by_key(|l| l.line);
    refused
}

/// Errors that belong to one line; any other fails the whole batch.
fn is_line_error(e: &DomainError) -> bool {
    matches!(
        e,
        DomainError::Conflict(_)
            | DomainError::Invalid { .. }
            | DomainError::InvalidClaims(_)
            | DomainError::Forbidden(_)
            | DomainError::NotFound(_)
    )
}

/// Inserts the prepared documents in one transaction; one answer per document, in the
/// order of `ready_lines`.
async fn publish_batch(
    services: &Services,
    agency: &Agency,
    ready: Vec<documents::PreparedPublish>,
    ready_lines: &[(usize, String)],
) -> Result<Vec<BulkLine>, DomainError> {
    let mut lines = Vec::with_capacity(ready.len());
    let mut tx = services.db.begin().await?;
    let outcomes = documents::publish_prepared(services.db.kind(), &mut tx, agency, ready).await?;
    let mut created = 0u64;
    for ((line, document_id), outcome) in ready_lines.iter().zip(outcomes) {
        let document_id = Some(document_id.clone());
        match outcome {
            Ok(outcome) => {
                let status = match outcome.published {
                    Published::Created => {
                        created += 1;
                        201
                    }
                    Published::Replayed => 200,
                };
                lines.push(BulkLine {
                    line: *line,
                    status,
                    document_id,
                    offer: outcome.offer,
                    error: None,
                });
            }
            Err(e) if is_line_error(&e) => {
                lines.push(error_line(*line, document_id, e.into()));
            }
            Err(e) => return Err(e),
        }
    }
    tx.commit().await?;
    metrics::counter!("giayto_documents_published_total").increment(created);
    // Replayed lines get their earlier offer, read after the commit.
    for l in lines.iter_mut().filter(|l| l.status == 200) {
        if let Some(id) = &l.document_id
            && let Ok(r) = documents::get(services, agency, id).await
        {
            l.offer = r.offer;
        }
    }
    Ok(lines)
}
