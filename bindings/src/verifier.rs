//! The officer's side: a [`Verifier`] that pins the national trust anchor, keeps the
//! trust list and status lists cached for offline use, and turns a scanned QR into a
//! [`VerificationResult`] the app shows as it is.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use giayto_core::jose::{Jwk, Jwks, jws::CompactJws};
use giayto_core::qr::{self, Challenge, OFFLINE_AUDIENCE, QrPayload};
use giayto_core::sd_jwt::Presentation;
use giayto_core::sd_jwt_vc::VcEnvelope;
use giayto_core::status_list::{STATUS_LIST_JWT_TYP, StatusCache, verify_token};
use giayto_core::trust_list::TrustList;
use giayto_core::verifier::{self, IssuerTrust, Policy, ReplayCache};

use crate::http::{self, HttpClient};
use crate::result::VerificationResult;
use crate::{GiaytoError, unix_now};

/// How long after its `exp` a cached trust list is still used offline (with a warning).
const TRUST_LIST_GRACE_SECONDS: i64 = 7 * 24 * 3600;
/// The largest exported status cache `import_status_cache` reads.
const MAX_STATUS_CACHE_JSON_BYTES: usize = 32 * 1024 * 1024;
/// Key-binding proofs remembered to refuse replays.
const REPLAY_CACHE_CAPACITY: usize = 10_000;

/// Who a [`Verifier`] trusts, what it has cached, and the challenge it showed last.
struct State {
    /// The pinned anchor keys (more than one while the anchor rotates).
    anchors: Jwks,
    /// Always `IssuerTrust::TrustList` once loaded.
    trust: Option<IssuerTrust>,
    statuses: StatusCache,
    /// Status lists that presentations referred to and the cache lacked.
    wanted_status_uris: BTreeSet<String>,
    challenge: Option<Challenge>,
}

/// Verifies giayto presentations offline, like the roadside officer's app.
///
/// Load the trust list once (from bytes, or through `refresh_trust_list` when online) and
/// the status lists (`load_status_list`, `refresh_status_lists`); then every
/// `verify_qr_text` / `verify_image` works without a network. A presentation is accepted
/// only if it is signed by an issuer the trust list allows for that document type, not
/// revoked or suspended, not expired, bound to the holder's phone by a fresh key-binding
/// proof (unless it is a paper form), and not replayed.
#[derive(uniffi::Object)]
pub struct Verifier {
    verifier_id: String,
    replay: Arc<ReplayCache>,
    state: Mutex<State>,
}

impl Verifier {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panic cannot happen while the lock is held (no code path panics), but a
        // poisoned lock still holds consistent data: every update is a single assignment.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn policy(&self, state: &State, key_binding: bool) -> Policy {
        let (audiences, nonce) = match &state.challenge {
            Some(challenge) => (
                vec![challenge.verifier_id.clone()],
                Some(challenge.nonce.clone()),
            ),
            None => (vec![OFFLINE_AUDIENCE.to_owned()], None),
        };
        Policy {
            require_key_binding: key_binding,
            accepted_audiences: Some(audiences),
            expected_nonce: nonce,
            trust_list_grace_seconds: TRUST_LIST_GRACE_SECONDS,
            replay_cache: Some(self.replay.clone()),
            ..Policy::default()
        }
    }

    fn verify(&self, presentation: &str, key_binding: bool, now: i64) -> VerificationResult {
        let mut state = self.state();
        // Nothing trusted yet: every presentation is refused as untrusted.
        let nobody = IssuerTrust::Keys(Jwks { keys: Vec::new() });
        let trust = state.trust.as_ref().unwrap_or(&nobody);
        let policy = self.policy(&state, key_binding);
        let verdict =
            verifier::verify_presentation(presentation, &policy, trust, &state.statuses, now);
        if matches!(
            verdict.status,
            verifier::StatusView::ListMissing | verifier::StatusView::ValidStale
        ) && let Some(uri) = status_uri(presentation)
        {
            state.wanted_status_uris.insert(uri);
        }
        if verdict.valid && key_binding {
            // A challenge answers one presentation.
            state.challenge = None;
        }
        VerificationResult::from_verdict(&verdict, key_binding)
    }

    fn issuer_keys_for(&self, token: &str) -> Result<Jwks, GiaytoError> {
        let state = self.state();
        let Some(IssuerTrust::TrustList(list)) = &state.trust else {
            return Err(GiaytoError::invalid(
                "load the trust list before the status lists it vouches for",
            ));
        };
        // Status list tokens carry no `iss`: the key named by `kid` (an RFC 7638 thumbprint,
        // unique across issuers) tells which trusted issuer signed it.
        let jws = CompactJws::parse(token)?;
        let kid = jws
            .header()
            .kid
            .as_deref()
            .ok_or_else(|| GiaytoError::invalid("status list token has no kid"))?;
        list.list()
            .issuers
            .iter()
            .find(|issuer| issuer.jwks.find(kid).is_some())
            .map(|issuer| issuer.jwks.clone())
            .ok_or_else(|| GiaytoError::Crypto {
                reason: "status list token is not signed by a key on the trust list".into(),
            })
    }

    fn store_status_list(&self, token: &str, uri: &str, now: i64) -> Result<(), GiaytoError> {
        let keys = self.issuer_keys_for(token)?;
        let verified = verify_token(token, uri, &keys, now)?;
        let mut state = self.state();
        state.wanted_status_uris.remove(uri);
        state.statuses.insert(verified, now);
        Ok(())
    }
}

#[uniffi::export]
impl Verifier {
    /// A verifier that pins the national trust anchor `trust_anchor` (a public JWK, or a
    /// JWKS while the anchor rotates, as JSON: the app ships it), and is called
    /// `verifier_id` in the challenges it shows (for example `csgt:hanoi:officer-1234`).
    #[uniffi::constructor]
    pub fn new(trust_anchor: String, verifier_id: String) -> Result<Arc<Self>, GiaytoError> {
        let anchors = parse_anchors(&trust_anchor)?;
        Ok(Arc::new(Verifier {
            verifier_id,
            replay: Arc::new(ReplayCache::new(REPLAY_CACHE_CAPACITY)),
            state: Mutex::new(State {
                anchors,
                trust: None,
                statuses: StatusCache::new(),
                wanted_status_uris: BTreeSet::new(),
                challenge: None,
            }),
        }))
    }

    /// Loads a signed trust list (`trustlist+jwt`), verified against the pinned anchor.
    /// Returns how many issuers it lists. Keep the token to load it again after a restart.
    pub fn load_trust_list(&self, token: String) -> Result<u32, GiaytoError> {
        let now = unix_now();
        let token = token.trim();
        let anchor = {
            let state = self.state();
            let kid = CompactJws::parse(token)?.header().kid.clone();
            match (kid, state.anchors.keys.as_slice()) {
                (_, [only]) => only.clone(),
                (Some(kid), _) => {
                    state
                        .anchors
                        .find(&kid)
                        .cloned()
                        .ok_or_else(|| GiaytoError::Crypto {
                            reason: "the trust list is signed by a key that is not a pinned anchor"
                                .into(),
                        })?
                }
                (None, _) => {
                    return Err(GiaytoError::invalid(
                        "the trust list names no kid and several anchors are pinned",
                    ));
                }
            }
        };
        let verified = TrustList::verify(token, &anchor, now, TRUST_LIST_GRACE_SECONDS)?;
        let issuers = u32::try_from(verified.list().issuers.len()).unwrap_or(u32::MAX);
        self.state().trust = Some(IssuerTrust::TrustList(verified));
        Ok(issuers)
    }

    /// Downloads the trust list from `url` through the app's HTTP client and loads it.
    /// Returns the token, for the app to cache.
    pub fn refresh_trust_list(
        &self,
        url: String,
        http: Arc<dyn HttpClient>,
    ) -> Result<String, GiaytoError> {
        let body = http::get_body(http.as_ref(), &url, "application/trustlist+jwt")?;
        let token = String::from_utf8(body)
            .map_err(|_| GiaytoError::invalid("trust list response is not UTF-8"))?;
        self.load_trust_list(token.trim().to_owned())?;
        Ok(token.trim().to_owned())
    }

    /// Loads a Status List Token (`statuslist+jwt`) published at `uri`, signed by an issuer
    /// on the trust list.
    pub fn load_status_list(&self, uri: String, token: String) -> Result<(), GiaytoError> {
        self.store_status_list(token.trim(), &uri, unix_now())
    }

    /// Downloads the status list at `uri` through the app's HTTP client and loads it.
    pub fn fetch_status_list(
        &self,
        uri: String,
        http: Arc<dyn HttpClient>,
    ) -> Result<(), GiaytoError> {
        let body = http::get_body(
            http.as_ref(),
            &uri,
            &format!("application/{STATUS_LIST_JWT_TYP}"),
        )?;
        let token = String::from_utf8(body)
            .map_err(|_| GiaytoError::invalid("status list response is not UTF-8"))?;
        self.store_status_list(token.trim(), &uri, unix_now())
    }

    /// Re-downloads every cached status list and every list a presentation referred to
    /// while it was missing or stale. Returns how many were loaded; stops at the first
    /// failure.
    pub fn refresh_status_lists(&self, http: Arc<dyn HttpClient>) -> Result<u32, GiaytoError> {
        let uris: BTreeSet<String> = {
            let state = self.state();
            state
                .statuses
                .uris()
                .map(str::to_owned)
                .chain(state.wanted_status_uris.iter().cloned())
                .collect()
        };
        let mut loaded = 0u32;
        for uri in uris {
            self.fetch_status_list(uri, http.clone())?;
            loaded = loaded.saturating_add(1);
        }
        Ok(loaded)
    }

    /// The trust list token in use, to store for the next start (`load_trust_list`).
    pub fn trust_list_token(&self) -> Option<String> {
        match &self.state().trust {
            Some(IssuerTrust::TrustList(list)) => Some(list.token().to_owned()),
            _ => None,
        }
    }

    /// The cached status lists as JSON, to keep in the app's private storage and give back
    /// to `import_status_cache` after a restart. The lists were verified when loaded and are
    /// not re-verified on import: store them where only the app can write.
    pub fn export_status_cache(&self) -> Result<String, GiaytoError> {
        serde_json::to_string(&self.state().statuses)
            .map_err(|e| GiaytoError::invalid(format!("status cache: {e}")))
    }

    /// Restores status lists saved by `export_status_cache`, replacing the cached ones.
    pub fn import_status_cache(&self, json: String) -> Result<(), GiaytoError> {
        if json.len() > MAX_STATUS_CACHE_JSON_BYTES {
            return Err(GiaytoError::invalid(format!(
                "status cache larger than {MAX_STATUS_CACHE_JSON_BYTES} bytes"
            )));
        }
        let statuses: StatusCache = serde_json::from_str(&json)
            .map_err(|e| GiaytoError::invalid(format!("status cache: {e}")))?;
        self.state().statuses = statuses;
        Ok(())
    }

    /// The status list URIs the verifier would need to check the presentations it saw.
    pub fn missing_status_lists(&self) -> Vec<String> {
        self.state().wanted_status_uris.iter().cloned().collect()
    }

    /// Starts a two-way check: returns a challenge QR text (show it to the holder, whose
    /// wallet answers it) valid for `ttl_seconds`. Until a presentation answers it, only
    /// presentations answering this challenge are accepted.
    pub fn new_challenge(&self, ttl_seconds: u32) -> Result<String, GiaytoError> {
        let challenge = Challenge::new(
            self.verifier_id.clone(),
            Duration::from_secs(u64::from(ttl_seconds)),
            unix_now(),
        )?;
        let text = challenge.to_qr_text()?;
        self.state().challenge = Some(challenge);
        Ok(text)
    }

    /// Drops the pending challenge: back to one-way checks.
    pub fn cancel_challenge(&self) {
        self.state().challenge = None;
    }

    /// Verifies a scanned QR text: a phone's presentation (`GT1:`) or a printed paper form
    /// (`GTP1:`, not bound to a device, which the result says). A challenge QR or a
    /// non-giayto text is an `InvalidInput` error; a presentation that fails its checks is
    /// a result with `valid == false` and the reasons.
    pub fn verify_qr_text(&self, qr_text: String) -> Result<VerificationResult, GiaytoError> {
        let now = unix_now();
        match qr::classify(qr_text.trim(), now)? {
            QrPayload::Presentation(presentation) => Ok(self.verify(&presentation, true, now)),
            QrPayload::Paper(presentation) => Ok(self.verify(&presentation, false, now)),
            QrPayload::Challenge(_) => Err(GiaytoError::invalid(
                "this is a verifier's challenge, not a document: show it to the holder's wallet",
            )),
        }
    }

    /// Reads the QR code in a photo (PNG or JPEG) and verifies it as `verify_qr_text` does.
    pub fn verify_image(&self, image_bytes: Vec<u8>) -> Result<VerificationResult, GiaytoError> {
        let text = qr::decode_image(&image_bytes)?;
        self.verify_qr_text(text)
    }

    /// Verifies an SD-JWT presentation received as a string (compact or JSON
    /// serialization), with a key-binding JWT required.
    pub fn verify_presentation(&self, presentation: String) -> VerificationResult {
        self.verify(presentation.trim(), true, unix_now())
    }
}

/// Reads the pinned anchor: a public JWK or a JWKS of public keys.
fn parse_anchors(json: &str) -> Result<Jwks, GiaytoError> {
    let value: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| GiaytoError::invalid(format!("trust anchor: {e}")))?;
    let anchors = if value.get("keys").is_some() {
        serde_json::from_value::<Jwks>(value)
    } else {
        serde_json::from_value::<Jwk>(value).map(|key| Jwks { keys: vec![key] })
    }
    .map_err(|e| GiaytoError::invalid(format!("trust anchor: {e}")))?;
    if anchors.keys.is_empty() {
        return Err(GiaytoError::invalid("the trust anchor JWKS has no key"));
    }
    for key in &anchors.keys {
        if key.is_private() {
            return Err(GiaytoError::invalid(
                "the trust anchor must be public; never give a verifier the anchor's private key",
            ));
        }
        key.algorithm()?;
    }
    Ok(anchors)
}

/// The status list a presentation refers to, read without verification (only to know
/// which list to download).
fn status_uri(presentation: &str) -> Option<String> {
    let parsed = Presentation::parse(presentation).ok()?;
    let payload = parsed.issuer_payload().ok()?;
    VcEnvelope::read(&payload, false)
        .ok()?
        .status
        .map(|s| s.uri)
}
