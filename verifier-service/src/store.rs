//! The presentation requests the service holds, and their results: each is single use (one
//! response is ever processed), expires ([`Limits::request_ttl`] to be answered,
//! [`Limits::result_ttl`] to be read), is readable only by the desk session that created
//! it, and the store holds at most [`Limits::max_requests`] of them, so no client can make
//! the service hold more (one desk holds at most [`MAX_PER_DESK`]: its oldest is dropped).

use std::collections::HashMap;

use serde::Serialize;
use zeroize::Zeroizing;

use crate::result::RequestResult;
use giayto_core::oid4vp::DcqlQuery;

/// The most requests one desk session holds; a new one drops its oldest.
pub const MAX_PER_DESK: usize = 16;

/// The store's bounds, seconds and counts.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How long a request waits for its response.
    pub request_ttl: i64,
    /// How long a result stays readable after the response.
    pub result_ttl: i64,
    /// The most requests and results held at once.
    pub max_requests: usize,
}

/// What the desk asked for, to show while waiting: the catalogue names.
#[derive(Debug, Clone, Serialize)]
pub struct RequestLabel {
    /// The catalogue document id.
    pub document: String,
    /// The preset name.
    pub preset: String,
}

/// Where a request is.
#[derive(Debug, Clone)]
pub enum Phase {
    /// Waiting for the wallet; `fetched` once the request object was served.
    Pending {
        /// Whether a wallet fetched the request object.
        fetched: bool,
    },
    /// A response is being verified: no other response is accepted.
    Verifying,
    /// Answered at `at` (Unix seconds).
    Answered {
        /// When.
        at: i64,
        /// The outcome.
        result: Box<RequestResult>,
    },
}

/// One presentation request.
#[derive(Debug, Clone)]
pub struct PresentationRequest {
    /// Its id in URLs (128 random bits, base64url).
    pub id: String,
    /// The desk session that created it.
    pub desk: String,
    /// The `state` the response must carry back.
    pub state: String,
    /// The `nonce` the key-binding JWTs must carry.
    pub nonce: String,
    /// The DCQL query.
    pub query: DcqlQuery,
    /// The preset it was made from, if any.
    pub label: Option<RequestLabel>,
    /// When it was made, Unix seconds.
    pub created_at: i64,
    /// When it stops accepting a response, Unix seconds.
    pub expires_at: i64,
    /// The `kid` of its response encryption key.
    pub enc_kid: String,
    /// Its response encryption key, dropped once answered.
    pub enc_key: EncryptionKey,
    /// The public half as a JWK (`use: enc`, `alg: ECDH-ES`, `kid`).
    pub enc_jwk: serde_json::Value,
    /// Same-device flow: the wallet is sent back to the desk page after answering.
    pub same_device: bool,
    /// Where it is.
    pub phase: Phase,
}

/// A request's private response encryption key (P-256, PKCS#8 DER): zeroed when dropped,
/// never shown by `Debug`.
#[derive(Clone, Default)]
pub struct EncryptionKey(pub Zeroizing<Vec<u8>>);

impl std::fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EncryptionKey(..)")
    }
}

/// Why the store refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The store holds [`Limits::max_requests`] requests that have not expired.
    #[error("the service holds as many open requests as it may; try again in a few minutes")]
    Full,
    /// No such request (never made, expired, or another desk's).
    #[error("no such request (it may have expired)")]
    NotFound,
    /// The request expired before it was answered.
    #[error("the request expired")]
    Expired,
    /// The request was answered already (a replayed or second response).
    #[error("the request was already answered")]
    AlreadyAnswered,
}

/// The requests. Not thread-safe itself: the service keeps it behind a mutex.
#[derive(Debug)]
pub struct RequestStore {
    limits: Limits,
    requests: HashMap<String, PresentationRequest>,
    by_kid: HashMap<String, String>,
}

impl RequestStore {
    /// An empty store.
    pub fn new(limits: Limits) -> RequestStore {
        RequestStore {
            limits,
            requests: HashMap::new(),
            by_kid: HashMap::new(),
        }
    }

    /// The bounds.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// How many requests are held.
    pub fn len(&self) -> usize {
        self.requests.len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.requests.is_empty()
    }

    /// Drops what expired at `now`: requests not answered past their `expires_at`, results
    /// read-able past `at + result_ttl`.
    pub fn prune(&mut self, now: i64) {
        let result_ttl = self.limits.result_ttl;
        let expired: Vec<String> = self
            .requests
            .values()
            .filter(|r| match &r.phase {
                Phase::Pending { .. } | Phase::Verifying => now > r.expires_at,
                Phase::Answered { at, .. } => now > at.saturating_add(result_ttl),
            })
            .map(|r| r.id.clone())
            .collect();
        for id in expired {
            self.remove(&id);
        }
    }

    fn remove(&mut self, id: &str) {
        if let Some(request) = self.requests.remove(id) {
            self.by_kid.remove(&request.enc_kid);
        }
    }

    /// Adds `request` (made at `now`): drops the desk's oldest past [`MAX_PER_DESK`];
    /// [`StoreError::Full`] when the store is at its bound after pruning.
    pub fn insert(&mut self, request: PresentationRequest, now: i64) -> Result<(), StoreError> {
        self.prune(now);
        let mut own: Vec<(i64, String)> = self
            .requests
            .values()
            .filter(|r| r.desk == request.desk)
            .map(|r| (r.created_at, r.id.clone()))
            .collect();
        if own.len() >= MAX_PER_DESK {
            own.sort();
            for (_, id) in own.iter().take(own.len() + 1 - MAX_PER_DESK) {
                self.remove(id);
            }
        }
        if self.requests.len() >= self.limits.max_requests {
            return Err(StoreError::Full);
        }
        self.by_kid
            .insert(request.enc_kid.clone(), request.id.clone());
        self.requests.insert(request.id.clone(), request);
        Ok(())
    }

    /// The request `id` for its desk `desk` (another desk's is [`StoreError::NotFound`]).
    pub fn for_desk(
        &self,
        id: &str,
        desk: &str,
        now: i64,
    ) -> Result<&PresentationRequest, StoreError> {
        let request = self.live(id, now)?;
        if request.desk != desk {
            return Err(StoreError::NotFound);
        }
        Ok(request)
    }

    /// The pending request `id`, to serve its request object (marks it fetched).
    pub fn for_wallet(&mut self, id: &str, now: i64) -> Result<&PresentationRequest, StoreError> {
        self.live(id, now)?;
        let request = self.requests.get_mut(id).ok_or(StoreError::NotFound)?;
        match &mut request.phase {
            Phase::Pending { fetched } => {
                *fetched = true;
                Ok(request)
            }
            _ => Err(StoreError::AlreadyAnswered),
        }
    }

    /// The pending request whose response key has `kid`.
    pub fn pending_by_kid(&self, kid: &str, now: i64) -> Result<&PresentationRequest, StoreError> {
        let id = self.by_kid.get(kid).ok_or(StoreError::NotFound)?;
        let request = self.live(id, now)?;
        match request.phase {
            Phase::Pending { .. } => Ok(request),
            _ => Err(StoreError::AlreadyAnswered),
        }
    }

    /// The pending request whose `state` is `state` (for an error response, which is not
    /// encrypted and names its request only by `state`).
    pub fn pending_by_state(
        &self,
        state: &str,
        now: i64,
    ) -> Result<&PresentationRequest, StoreError> {
        let request = self
            .requests
            .values()
            .find(|r| r.state == state)
            .ok_or(StoreError::NotFound)?;
        self.live(&request.id, now)?;
        match request.phase {
            Phase::Pending { .. } => Ok(request),
            _ => Err(StoreError::AlreadyAnswered),
        }
    }

    /// Claims request `id` for the response being verified: from now on no other response
    /// is accepted ([`StoreError::AlreadyAnswered`] if one already was).
    pub fn claim(&mut self, id: &str, now: i64) -> Result<(), StoreError> {
        self.live(id, now)?;
        let request = self.requests.get_mut(id).ok_or(StoreError::NotFound)?;
        match request.phase {
            Phase::Pending { .. } => {
                request.phase = Phase::Verifying;
                Ok(())
            }
            _ => Err(StoreError::AlreadyAnswered),
        }
    }

    /// Records the outcome of the claimed request `id`; its encryption key is dropped.
    pub fn complete(&mut self, id: &str, result: RequestResult, now: i64) {
        if let Some(request) = self.requests.get_mut(id) {
            request.phase = Phase::Answered {
                at: now,
                result: Box::new(result),
            };
            request.enc_key = EncryptionKey::default();
        }
    }

    /// Request `id` unless it expired at `now` ([`StoreError::Expired`]).
    fn live(&self, id: &str, now: i64) -> Result<&PresentationRequest, StoreError> {
        let request = self.requests.get(id).ok_or(StoreError::NotFound)?;
        match &request.phase {
            Phase::Answered { at, .. } if now > at.saturating_add(self.limits.result_ttl) => {
                Err(StoreError::NotFound)
            }
            Phase::Answered { .. } => Ok(request),
            _ if now > request.expires_at => Err(StoreError::Expired),
            _ => Ok(request),
        }
    }
}
