//! The verifier service's state and operations, independent of HTTP: create a
//! presentation request, serve its request object, take its response, read its result,
//! verify an offline QR. The HTTP layer (`http`) only maps these to routes.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use giayto_core::oid4vp::{AnsweredCredential, DcqlQuery};
use giayto_core::verifier::{FailureCode, StatusView, Verdict, VerifierDevice};
use josekit::jwe::ECDH_ES;
use josekit::jwk::alg::ec::EcCurve;
use ring::rand::{SecureRandom, SystemRandom};
use serde::Serialize;
use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

use crate::identity::{IdentityError, VerifierIdentity};
use crate::query::{self, QueryError};
use crate::response::{self, JWE_ALG, JWE_ENC_VALUES, ResponseError};
use crate::result::{CredentialResult, RequestResult};
use crate::store::{
    EncryptionKey, Limits, Phase, PresentationRequest, RequestLabel, RequestStore, StoreError,
};

/// Whether a verdict failed for lack of a status list (set only once the issuer's signature
/// verified, so the list named is a trusted issuer's).
fn lacks_status_list(verdict: &Verdict) -> bool {
    verdict.status == StatusView::ListMissing && verdict.issuer.is_some()
}

/// The `aud` of a request object under static discovery (OpenID4VP 1.0 section 5.8).
pub const REQUEST_AUDIENCE: &str = "https://self-issued.me/v2";

/// The service's clock: Unix seconds.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    })
}

/// Why an operation failed; each maps to one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The query is malformed or names an unknown preset.
    #[error(transparent)]
    Query(#[from] QueryError),
    /// The store refused.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The response could not be read.
    #[error(transparent)]
    Response(#[from] ResponseError),
    /// The response's `state` is not its request's.
    #[error("the response's state is not the state of the request its key belongs to")]
    StateMismatch,
    /// Signing or key generation failed.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<IdentityError> for ServiceError {
    fn from(e: IdentityError) -> ServiceError {
        ServiceError::Internal(e.to_string())
    }
}

/// What the desk asks for: a preset by name, or a DCQL query.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(untagged)]
pub enum NewRequest {
    /// A catalogue preset.
    Preset {
        /// The catalogue document id (`health_insurance_card`).
        document: String,
        /// The preset name (`insurance_check`).
        preset: String,
        /// Same-device flow: the wallet runs on the device showing the desk page.
        #[serde(default)]
        same_device: bool,
    },
    /// A DCQL query.
    Query {
        /// The query.
        dcql_query: DcqlQuery,
        /// Same-device flow: the wallet runs on the device showing the desk page.
        #[serde(default)]
        same_device: bool,
    },
}

/// What the wallet is told after its response: in the same-device flow, where to send the
/// user back to (the desk page showing this request's result; OpenID4VP 1.0 section 8.2).
#[derive(Debug, Clone)]
pub struct Taken {
    /// The outcome, as the desk will read it.
    pub result: RequestResult,
    /// `redirect_uri` for the wallet, same-device requests only.
    pub redirect_uri: Option<String>,
}

/// A request as the desk sees it after creating it.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedRequest {
    /// Its id.
    pub id: String,
    /// `openid4vp://?client_id=…&request_uri=…`.
    pub openid4vp_uri: String,
    /// The same with HAIP's `haip-vp://` scheme.
    pub haip_uri: String,
    /// Where the request object is.
    pub request_uri: String,
    /// When it expires, Unix seconds.
    pub expires_at: i64,
}

/// A request's state as the desk polls it.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RequestView {
    /// Waiting for the wallet.
    Pending {
        /// Whether a wallet fetched the request object.
        fetched: bool,
        /// When it expires.
        expires_at: i64,
        /// The preset asked for, if any.
        label: Option<RequestLabel>,
    },
    /// A response is being verified.
    Verifying,
    /// Answered.
    Answered {
        /// When.
        at: i64,
        /// The outcome.
        result: Box<RequestResult>,
    },
}

/// The verifier service.
pub struct Verifier {
    device: Mutex<VerifierDevice>,
    store: Mutex<RequestStore>,
    identity: VerifierIdentity,
    public_url: url::Url,
    clock: Clock,
    rng: SystemRandom,
    /// Fetches a status list a verified presentation names and the cache lacks, then
    /// verifies again; `None`: the verdict says the list is missing.
    status_fetch: Option<ureq::Agent>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("identity", &self.identity)
            .field("public_url", &self.public_url.as_str())
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves data that is still consistent (every update is
    // one assignment): go on with it.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Verifier {
    /// A service around `device` (anchors pinned; the trust list loaded now or by the
    /// background sync), signing with `identity`, reachable at `public_url`.
    pub fn new(
        device: VerifierDevice,
        identity: VerifierIdentity,
        public_url: url::Url,
        limits: Limits,
        clock: Clock,
    ) -> Verifier {
        Verifier {
            device: Mutex::new(device),
            store: Mutex::new(RequestStore::new(limits)),
            identity,
            public_url,
            clock,
            rng: SystemRandom::new(),
            status_fetch: None,
        }
    }

    /// This service fetching, with `agent`, a status list that a verified presentation
    /// names and the cache lacks (a document issued since the last sync), then verifying
    /// again.
    pub fn with_status_fetch(mut self, agent: ureq::Agent) -> Verifier {
        self.status_fetch = Some(agent);
        self
    }

    /// Fetches the status lists verified presentations named and the cache lacked, when
    /// this service fetches on demand; whether any was loaded (then verify again: a failed
    /// verdict left no trace in the replay cache).
    fn fetch_missing_lists(&self, now: i64) -> bool {
        self.status_fetch
            .as_ref()
            .is_some_and(|agent| crate::sync::fetch_missing_status_lists(self, agent, now) > 0)
    }

    /// Now, by the service's clock.
    pub fn now(&self) -> i64 {
        (self.clock)()
    }

    /// The device (for the background sync and tests).
    pub fn device(&self) -> MutexGuard<'_, VerifierDevice> {
        lock(&self.device)
    }

    /// The Client Identifier.
    pub fn client_id(&self) -> &str {
        self.identity.client_id()
    }

    /// How many requests are held.
    pub fn held_requests(&self) -> usize {
        lock(&self.store).len()
    }

    /// 128 random bits, base64url.
    pub fn random_id(&self) -> Result<String, ServiceError> {
        let mut bytes = [0u8; 16];
        self.rng
            .fill(&mut bytes)
            .map_err(|_| ServiceError::Internal("no randomness".into()))?;
        Ok(URL_SAFE_NO_PAD.encode(bytes))
    }

    fn url(&self, path: &str) -> String {
        let base = self.public_url.as_str().trim_end_matches('/');
        format!("{base}{path}")
    }

    /// The URL of request `id`'s request object.
    pub fn request_uri(&self, id: &str) -> String {
        self.url(&format!("/oid4vp/requests/{id}"))
    }

    /// The response URI (one for every request: the JWE's `kid` names the request).
    pub fn response_uri(&self) -> String {
        self.url("/oid4vp/response")
    }

    /// Creates a request for desk session `desk`.
    pub fn create_request(
        &self,
        desk: &str,
        new: NewRequest,
    ) -> Result<CreatedRequest, ServiceError> {
        let (query, label, same_device) = match new {
            NewRequest::Preset {
                document,
                preset,
                same_device,
            } => (
                query::for_preset(&document, &preset)?,
                Some(RequestLabel { document, preset }),
                same_device,
            ),
            NewRequest::Query {
                dcql_query,
                same_device,
            } => (dcql_query, None, same_device),
        };
        query::check(&query)?;
        let now = self.now();
        let key = ECDH_ES
            .generate_ec_key_pair(EcCurve::P256)
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let enc_kid = self.random_id()?;
        let mut jwk = key.to_jwk_public_key();
        jwk.set_key_id(enc_kid.clone());
        jwk.set_key_use("enc");
        jwk.set_algorithm(JWE_ALG);
        let enc_jwk = serde_json::to_value(jwk.as_ref())
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let id = self.random_id()?;
        let limits = lock(&self.store).limits();
        let request = PresentationRequest {
            id: id.clone(),
            desk: desk.to_owned(),
            state: self.random_id()?,
            nonce: self.random_id()?,
            query,
            label,
            created_at: now,
            expires_at: now.saturating_add(limits.request_ttl),
            enc_kid,
            enc_key: EncryptionKey(Zeroizing::new(key.to_der_private_key())),
            enc_jwk,
            same_device,
            phase: Phase::Pending { fetched: false },
        };
        let expires_at = request.expires_at;
        lock(&self.store).insert(request, now)?;
        let query = self.invocation_query(&id)?;
        Ok(CreatedRequest {
            openid4vp_uri: format!("openid4vp://?{query}"),
            haip_uri: format!("haip-vp://?{query}"),
            request_uri: self.request_uri(&id),
            id,
            expires_at,
        })
    }

    /// The query of an invocation URI (OpenID4VP 1.0 section 9, HAIP 1.0):
    /// `client_id=…&request_uri=…`.
    fn invocation_query(&self, id: &str) -> Result<String, ServiceError> {
        serde_urlencoded::to_string([
            ("client_id", self.client_id()),
            ("request_uri", self.request_uri(id).as_str()),
        ])
        .map_err(|e| ServiceError::Internal(e.to_string()))
    }

    /// The request object of request `id`, signed (OpenID4VP 1.0 section 5, RFC 9101).
    pub fn request_object(&self, id: &str) -> Result<String, ServiceError> {
        let now = self.now();
        let claims = {
            let mut store = lock(&self.store);
            let request = store.for_wallet(id, now)?;
            self.request_claims(request, now)
        };
        Ok(self.identity.sign_request_object(claims)?)
    }

    fn request_claims(&self, request: &PresentationRequest, now: i64) -> Map<String, Value> {
        let claims = json!({
            "iss": self.client_id(),
            "aud": REQUEST_AUDIENCE,
            "iat": now,
            "exp": request.expires_at,
            "client_id": self.client_id(),
            "response_type": "vp_token",
            "response_mode": "direct_post.jwt",
            "response_uri": self.response_uri(),
            "nonce": request.nonce,
            "state": request.state,
            "dcql_query": request.query,
            "client_metadata": {
                "jwks": { "keys": [request.enc_jwk] },
                "encrypted_response_enc_values_supported": JWE_ENC_VALUES,
                "vp_formats_supported": {
                    "dc+sd-jwt": {
                        "sd-jwt_alg_values": ["ES256"],
                        "kb-jwt_alg_values": ["ES256"],
                    }
                },
            },
        });
        match claims {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    /// Takes a `direct_post.jwt` response: finds the request by the JWE's `kid`, decrypts
    /// it with that request's key, checks `state`, then (the request now closed to any
    /// other response) verifies each presentation for the request's Client Identifier and
    /// nonce and checks they answer the query (section 8.6). A response that does not
    /// decrypt or carries another `state` leaves the request open.
    pub fn take_response(&self, jwe: &str) -> Result<Taken, ServiceError> {
        let now = self.now();
        let kid = response::response_kid(jwe)?;
        let (id, state, nonce, query, key, same_device) = {
            let store = lock(&self.store);
            let request = store.pending_by_kid(&kid, now)?;
            (
                request.id.clone(),
                request.state.clone(),
                request.nonce.clone(),
                request.query.clone(),
                request.enc_key.clone(),
                request.same_device,
            )
        };
        let response = response::decrypt(jwe, &key.0)?;
        if response.state.as_deref() != Some(state.as_str()) {
            return Err(ServiceError::StateMismatch);
        }
        lock(&self.store).claim(&id, now)?;
        let result = self.judge(&query, &nonce, &response.vp_token, now);
        lock(&self.store).complete(&id, result.clone(), now);
        Ok(Taken {
            result,
            redirect_uri: same_device.then(|| self.result_page(&id)),
        })
    }

    /// The desk page showing request `id`'s result (readable only by its desk session).
    fn result_page(&self, id: &str) -> String {
        self.url(&format!("/?request={id}"))
    }

    /// A wallet's error response (section 8.5): `error` for the request with `state`; the
    /// `redirect_uri` for a same-device request.
    pub fn take_error(&self, state: &str, error: &str) -> Result<Option<String>, ServiceError> {
        let now = self.now();
        let (id, same_device) = {
            let store = lock(&self.store);
            let request = store.pending_by_state(state, now)?;
            (request.id.clone(), request.same_device)
        };
        lock(&self.store).claim(&id, now)?;
        let result = RequestResult {
            valid: false,
            wallet_error: Some(crate::shown(error)),
            errors: vec![format!("the wallet answered {}", crate::shown(error))],
            credentials: Vec::new(),
        };
        lock(&self.store).complete(&id, result, now);
        Ok(same_device.then(|| self.result_page(&id)))
    }

    fn judge(
        &self,
        query: &DcqlQuery,
        nonce: &str,
        vp_token: &BTreeMap<String, Vec<String>>,
        now: i64,
    ) -> RequestResult {
        let verify = |device: &mut VerifierDevice, presentation: &str| {
            device.verify_presentation_for(presentation, self.client_id(), nonce, now)
        };
        let mut verdicts: Vec<(&String, &String, Verdict)> = {
            let mut device = lock(&self.device);
            vp_token
                .iter()
                .flat_map(|(id, presentations)| presentations.iter().map(move |p| (id, p)))
                .map(|(id, p)| (id, p, verify(&mut device, p)))
                .collect()
        };
        // Only the presentations that lacked their list are verified again: the others'
        // proofs are in the replay cache now.
        if verdicts.iter().any(|(_, _, v)| lacks_status_list(v)) && self.fetch_missing_lists(now) {
            let mut device = lock(&self.device);
            for (_, presentation, verdict) in &mut verdicts {
                if lacks_status_list(verdict) {
                    *verdict = verify(&mut device, presentation);
                }
            }
        }
        let mut credentials = Vec::new();
        let mut answered: BTreeMap<String, Vec<AnsweredCredential>> = BTreeMap::new();
        for (query_id, _, verdict) in verdicts {
            if verdict.valid
                && let Some(document) = &verdict.document_type
            {
                answered
                    .entry(query_id.clone())
                    .or_default()
                    .push(AnsweredCredential {
                        vct: document.vct.clone(),
                        claims: verdict.claims_json.clone(),
                    });
            }
            credentials.push(CredentialResult {
                query_id: crate::shown(query_id),
                verdict,
            });
        }
        let mut errors = Vec::new();
        let all_valid = credentials.iter().all(|c| c.verdict.valid);
        if !all_valid {
            errors.push("a presentation failed its checks (see its verdict)".to_owned());
        }
        if let Err(e) = query.check_answer(&answered) {
            errors.push(e.to_string());
        }
        RequestResult {
            valid: all_valid && errors.is_empty() && !credentials.is_empty(),
            wallet_error: None,
            errors,
            credentials,
        }
    }

    /// Request `id` as its desk sees it.
    pub fn view(&self, id: &str, desk: &str) -> Result<RequestView, ServiceError> {
        let now = self.now();
        let store = lock(&self.store);
        let request = store.for_desk(id, desk, now)?;
        Ok(match &request.phase {
            Phase::Pending { fetched } => RequestView::Pending {
                fetched: *fetched,
                expires_at: request.expires_at,
                label: request.label.clone(),
            },
            Phase::Verifying => RequestView::Verifying,
            Phase::Answered { at, result } => RequestView::Answered {
                at: *at,
                result: result.clone(),
            },
        })
    }

    /// The invocation URI of desk `desk`'s pending request `id`, for its QR code.
    pub fn invocation_uri(&self, id: &str, desk: &str) -> Result<String, ServiceError> {
        let now = self.now();
        lock(&self.store).for_desk(id, desk, now)?;
        Ok(format!("openid4vp://?{}", self.invocation_query(id)?))
    }

    /// Verifies an offline giayto QR text (typed by a barcode scanner or pasted) as the
    /// roadside device does; an unreadable text is an invalid verdict, not an error.
    pub fn verify_qr_text(&self, text: &str) -> Verdict {
        let now = self.now();
        let verify = || match lock(&self.device).verify_qr_text(text, now) {
            Ok(scan) => scan.verdict,
            Err(e) => Verdict::refused(FailureCode::QrUnreadable, e.to_string()),
        };
        let verdict = verify();
        if lacks_status_list(&verdict) && self.fetch_missing_lists(now) {
            verify()
        } else {
            verdict
        }
    }
}
