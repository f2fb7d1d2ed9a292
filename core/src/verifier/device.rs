//! The verifier device: what a roadside officer's app keeps between scans. It pins the
//! national trust anchor, holds the signed trust list and the status lists it loaded while
//! online, remembers proofs already seen (replay) and the challenge it showed last, and
//! turns a scanned QR into a [`Verdict`] with no network. The app (or the bindings, or the
//! `giayto demo`) only fetches the tokens and shows the verdicts.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use crate::jose::jws::CompactJws;
use crate::jose::{JoseError, Jwk, Jwks};
use crate::limits::MAX_TRUST_LIST_TOKEN_BYTES;
use crate::qr::{self, Challenge, OFFLINE_AUDIENCE, QrError, QrPayload};
use crate::status_list::{StatusCache, StatusListError, Validators};
use crate::trust_list::{TrustList, TrustListError, VerifiedTrustList};
use crate::verifier::{
    IssuerTrust, Policy, Profile, ReplayCache, ReplayStateError, SeenProof, StatusListSourceError,
    StatusView, Verdict, unverified_envelope, verify_presentation, verify_status_list_for,
};

/// How long after its `exp` a cached trust list is still used offline (with a warning).
pub const TRUST_LIST_GRACE_SECONDS: i64 = 7 * 24 * 3600;
/// Key-binding proofs remembered to refuse replays.
pub const REPLAY_CACHE_CAPACITY: usize = 10_000;
/// The most the cached status lists may hold decoded, bytes: 64 MiB, i.e. 268 million
/// credentials at giayto's 2 bits (a national issuer of 100 million credentials takes 25 MB).
/// The exported form is compressed and far smaller (see docs/OPERATIONS.md for measured
/// figures).
pub const MAX_STATUS_CACHE_DECODED_BYTES: usize = 64 * 1024 * 1024;

/// What a device keeps between runs: the trust list token, the cached status lists with
/// their validators, and the key-binding proofs still inside their freshness window (so a
/// one-way QR is refused the second time even across a restart). The status lists were
/// verified when loaded and are not re-verified on import (keep the state where only the
/// app can write); the trust list is verified again against the pinned anchor.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DeviceState {
    /// The trust list token in use.
    pub trust_list: Option<String>,
    /// The cached status lists.
    pub status_cache: StatusCache,
    /// The replay cache's entries (at most [`REPLAY_CACHE_CAPACITY`]; those whose window
    /// has closed are dropped on import); absent in states saved before it was kept, read
    /// as none.
    #[serde(default)]
    pub seen_proofs: Vec<SeenProof>,
}

/// Why the device refused a token, a key or a scan (a presentation that fails its checks
/// is not an error: it is a [`Verdict`] with `valid == false`).
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The pinned anchor is not a usable public key.
    #[error("trust anchor: {0}")]
    Anchor(String),
    /// The trust list is signed by a key that is not pinned.
    #[error("the trust list is signed by a key that is not a pinned anchor")]
    NotAnAnchor,
    /// The trust list names no `kid` and more than one anchor is pinned.
    #[error("the trust list names no kid and several anchors are pinned")]
    AmbiguousAnchor,
    /// The trust list does not verify.
    #[error(transparent)]
    TrustList(#[from] TrustListError),
    /// A status list came before any trust list.
    #[error("load the trust list before the status lists it vouches for")]
    NoTrustList,
    /// A status list token names no `kid`.
    #[error("status list token has no kid")]
    StatusListWithoutKid,
    /// No issuer on the trust list holds the key that signed a status list.
    #[error("status list token is not signed by a key on the trust list")]
    UnknownStatusListSigner,
    /// The status list does not verify.
    #[error(transparent)]
    StatusList(#[from] StatusListError),
    /// A token that is not a JWS.
    #[error(transparent)]
    Jose(#[from] JoseError),
    /// The QR could not be read, or a challenge could not be made.
    #[error(transparent)]
    Qr(#[from] QrError),
    /// Storing the list would take the cache past its bound.
    #[error(
        "status cache full: this list would take the cached lists past {MAX_STATUS_CACHE_DECODED_BYTES} bytes decoded"
    )]
    StatusCacheFull,
    /// The list is older (`iat`) than the one cached for its URI: refused so a replayed
    /// token cannot roll back a revocation.
    #[error("status list {0} is older than the cached one; kept the cached one")]
    StatusListOlder(String),
    /// The saved replay entries are too many or malformed.
    #[error(transparent)]
    ReplayState(#[from] ReplayStateError),
    /// A verifier's challenge QR was scanned instead of a document.
    #[error("this is a verifier's challenge, not a document: show it to the holder's wallet")]
    ChallengeScanned,
}

/// A verdict and the form of what was scanned.
#[derive(Debug, Clone)]
pub struct Scan {
    /// The verdict.
    pub verdict: Verdict,
    /// Whether a key-binding proof was required: `false` for the printed paper form.
    pub key_bound: bool,
}

/// A verifier device. See the module documentation.
#[derive(Debug)]
pub struct VerifierDevice {
    verifier_id: String,
    anchors: Jwks,
    /// Always [`IssuerTrust::TrustList`] once loaded.
    trust: Option<IssuerTrust>,
    statuses: StatusCache,
    /// Status lists that presentations referred to and the cache lacked or had stale.
    wanted_status_uris: BTreeSet<String>,
    challenge: Option<Challenge>,
    replay: Arc<ReplayCache>,
}

impl VerifierDevice {
    /// A device pinning `anchors` (one key, or several while the anchor rotates), called
    /// `verifier_id` in the challenges it shows.
    pub fn new(anchors: Jwks, verifier_id: impl Into<String>) -> Result<Self, DeviceError> {
        if anchors.keys.is_empty() {
            return Err(DeviceError::Anchor("no key".into()));
        }
        for key in &anchors.keys {
            if key.is_private() {
                return Err(DeviceError::Anchor(
                    "the anchor must be public; never give a verifier the anchor's private key"
                        .into(),
                ));
            }
            key.algorithm()?;
        }
        Ok(VerifierDevice {
            verifier_id: verifier_id.into(),
            anchors,
            trust: None,
            statuses: StatusCache::new(),
            wanted_status_uris: BTreeSet::new(),
            challenge: None,
            replay: Arc::new(ReplayCache::new(REPLAY_CACHE_CAPACITY)),
        })
    }

    /// Reads pinned anchors from JSON: a public JWK, or a JWKS of public keys.
    pub fn parse_anchors(json: &str) -> Result<Jwks, DeviceError> {
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| DeviceError::Anchor(e.to_string()))?;
        if value.get("keys").is_some() {
            serde_json::from_value::<Jwks>(value)
        } else {
            serde_json::from_value::<Jwk>(value).map(|key| Jwks { keys: vec![key] })
        }
        .map_err(|e| DeviceError::Anchor(e.to_string()))
    }

    /// Verifies a trust list token against the pinned anchor its `kid` names and keeps it.
    /// Returns how many issuers it lists.
    pub fn load_trust_list(&mut self, token: &str, now: i64) -> Result<usize, DeviceError> {
        let token = token.trim();
        let anchor = match (
            CompactJws::parse_with_limit(token, MAX_TRUST_LIST_TOKEN_BYTES)?
                .header()
                .kid
                .clone(),
            self.anchors.keys.as_slice(),
        ) {
            (_, [only]) => only,
            (Some(kid), _) => self.anchors.find(&kid).ok_or(DeviceError::NotAnAnchor)?,
            (None, _) => return Err(DeviceError::AmbiguousAnchor),
        };
        let verified = TrustList::verify(token, anchor, now, TRUST_LIST_GRACE_SECONDS)?;
        let issuers = verified.list().issuers.len();
        self.trust = Some(IssuerTrust::TrustList(verified));
        Ok(issuers)
    }

    /// The trust list in use.
    pub fn trust_list(&self) -> Option<&VerifiedTrustList> {
        match &self.trust {
            Some(IssuerTrust::TrustList(list)) => Some(list),
            _ => None,
        }
    }

    /// Verifies the status list token published at `uri` with the keys of the trusted
    /// issuer that signed it and caches it.
    pub fn load_status_list(
        &mut self,
        uri: &str,
        token: &str,
        now: i64,
    ) -> Result<(), DeviceError> {
        self.load_status_list_with_validators(uri, token, Validators::default(), now)
    }

    /// [`VerifierDevice::load_status_list`], keeping the HTTP validators it was served with
    /// for the next conditional request. Refused when it is older than the cached list for
    /// `uri` ([`DeviceError::StatusListOlder`]) or would take the cache past
    /// [`MAX_STATUS_CACHE_DECODED_BYTES`] ([`DeviceError::StatusCacheFull`]).
    pub fn load_status_list_with_validators(
        &mut self,
        uri: &str,
        token: &str,
        validators: Validators,
        now: i64,
    ) -> Result<(), DeviceError> {
        let trust = match &self.trust {
            Some(trust @ IssuerTrust::TrustList(_)) => trust,
            _ => return Err(DeviceError::NoTrustList),
        };
        let verified = verify_status_list_for(trust, uri, token, now).map_err(|e| match e {
            StatusListSourceError::WithoutKid => DeviceError::StatusListWithoutKid,
            StatusListSourceError::UnknownSigner => DeviceError::UnknownStatusListSigner,
            StatusListSourceError::StatusList(e) => DeviceError::StatusList(e),
        })?;
        let replaced = self
            .statuses
            .get(uri)
            .map_or(0, |cached| cached.list.as_bytes().len());
        let total = self.statuses.decoded_bytes() - replaced + verified.list.as_bytes().len();
        if total > MAX_STATUS_CACHE_DECODED_BYTES {
            return Err(DeviceError::StatusCacheFull);
        }
        self.wanted_status_uris.remove(uri);
        if self
            .statuses
            .insert_with_validators(verified, now, validators)
        {
            Ok(())
        } else {
            Err(DeviceError::StatusListOlder(crate::jose::truncate(uri)))
        }
    }

    /// Records a `304 Not Modified` for the cached list `uri`: confirmed current at `now`.
    /// Returns whether a list was cached for it.
    pub fn status_list_not_modified(&mut self, uri: &str, now: i64) -> bool {
        self.wanted_status_uris.remove(uri);
        self.statuses.revalidated(uri, now)
    }

    /// Everything the device keeps between runs (see [`DeviceState`]). The replay entries
    /// are every proof remembered: this call knows no time, so entries whose window has
    /// closed are dropped by [`VerifierDevice::import_state`] instead.
    pub fn export_state(&self) -> DeviceState {
        DeviceState {
            trust_list: self.trust_list().map(|list| list.token().to_owned()),
            status_cache: self.statuses.clone(),
            seen_proofs: self.replay.live_proofs(i64::MIN),
        }
    }

    /// Restores [`VerifierDevice::export_state`]'s output: the trust list is verified again
    /// against the pinned anchor at `now` (an error if it no longer verifies), the status
    /// lists are taken as they were saved, and the saved proofs join the replay cache
    /// (those whose window closed before `now` dropped; see [`ReplayCache::merge_saved`]).
    /// Refused before anything changes when the status lists would take the cache past
    /// [`MAX_STATUS_CACHE_DECODED_BYTES`] or the proofs are more than
    /// [`REPLAY_CACHE_CAPACITY`] or malformed ([`DeviceError::ReplayState`]). The proofs
    /// are merged before the trust list is checked: remembering a proof is never unsafe.
    pub fn import_state(&mut self, state: DeviceState, now: i64) -> Result<(), DeviceError> {
        if state.status_cache.decoded_bytes() > MAX_STATUS_CACHE_DECODED_BYTES {
            return Err(DeviceError::StatusCacheFull);
        }
        self.replay.merge_saved(&state.seen_proofs, now)?;
        if let Some(token) = &state.trust_list {
            self.load_trust_list(token, now)?;
        }
        self.statuses = state.status_cache;
        Ok(())
    }

    /// The replay cache: the proofs this device has accepted, still inside their window.
    /// Give it to a [`Policy`] (`replay_cache`) to verify with the device's memory.
    pub fn replay_cache(&self) -> &Arc<ReplayCache> {
        &self.replay
    }

    /// The cached status lists (to save them across restarts).
    pub fn status_cache(&self) -> &StatusCache {
        &self.statuses
    }

    /// Replaces the cached status lists (restored from the app's private storage; they
    /// were verified when first loaded).
    pub fn restore_status_cache(&mut self, statuses: StatusCache) {
        self.statuses = statuses;
    }

    /// The status lists to download: every cached one and every one a presentation
    /// referred to while it was missing or stale.
    pub fn status_lists_to_refresh(&self) -> BTreeSet<String> {
        self.statuses
            .uris()
            .map(str::to_owned)
            .chain(self.wanted_status_uris.iter().cloned())
            .collect()
    }

    /// The status lists presentations referred to that the cache lacked or had stale.
    pub fn missing_status_lists(&self) -> &BTreeSet<String> {
        &self.wanted_status_uris
    }

    /// Starts a two-way check: the challenge QR text, valid for `ttl`. Until a presentation
    /// answers it, only presentations answering it are accepted.
    pub fn new_challenge(&mut self, ttl: Duration, now: i64) -> Result<String, DeviceError> {
        let challenge = Challenge::new(self.verifier_id.clone(), ttl, now)?;
        let text = challenge.to_qr_text()?;
        self.challenge = Some(challenge);
        Ok(text)
    }

    /// Drops the pending challenge: back to one-way checks.
    pub fn cancel_challenge(&mut self) {
        self.challenge = None;
    }

    /// Verifies scanned QR text: a phone's presentation (`GT2:`, or `GT1:` of format 1; key binding required) or
    /// a printed paper form (`GTP2:` or `GTP1:`, reported as not bound to a device).
    pub fn verify_qr_text(&mut self, qr_text: &str, now: i64) -> Result<Scan, DeviceError> {
        let (presentation, key_bound) = match qr::classify(qr_text.trim(), now)? {
            QrPayload::Presentation(presentation) => (presentation, true),
            QrPayload::Paper(presentation) => (presentation, false),
            QrPayload::Challenge(_) => return Err(DeviceError::ChallengeScanned),
        };
        Ok(Scan {
            verdict: self.verify_presentation(&presentation, key_bound, now),
            key_bound,
        })
    }

    /// Reads the QR code in a photo (PNG or JPEG) and verifies it as
    /// [`VerifierDevice::verify_qr_text`] does.
    pub fn verify_image(&mut self, image: &[u8], now: i64) -> Result<Scan, DeviceError> {
        let text = qr::decode_image(image)?;
        self.verify_qr_text(&text, now)
    }

    /// Verifies a presentation string (compact or JSON serialization); `key_bound` says
    /// whether a key-binding JWT is required.
    pub fn verify_presentation(
        &mut self,
        presentation: &str,
        key_bound: bool,
        now: i64,
    ) -> Verdict {
        let (audiences, nonce) = match &self.challenge {
            Some(challenge) => (
                vec![challenge.verifier_id.clone()],
                Some(challenge.nonce.clone()),
            ),
            None => (vec![OFFLINE_AUDIENCE.to_owned()], None),
        };
        let verdict = self.verify_with(presentation, key_bound, audiences, nonce, now);
        if verdict.valid && key_bound {
            // A challenge answers one presentation.
            self.challenge = None;
        }
        verdict
    }

    /// Verifies a presentation made for an online request: key binding required, the
    /// KB-JWT's `aud` must be `audience` and its `nonce` must be `nonce` (OpenID4VP 1.0
    /// Appendix B, "IETF SD-JWT VC", Presentation Response: the Client Identifier and the
    /// request's `nonce`). The pending offline challenge, if any, is neither used nor
    /// cleared; the replay cache is shared.
    pub fn verify_presentation_for(
        &mut self,
        presentation: &str,
        audience: &str,
        nonce: &str,
        now: i64,
    ) -> Verdict {
        self.verify_with(
            presentation,
            true,
            vec![audience.to_owned()],
            Some(nonce.to_owned()),
            now,
        )
    }

    fn verify_with(
        &mut self,
        presentation: &str,
        key_bound: bool,
        audiences: Vec<String>,
        nonce: Option<String>,
        now: i64,
    ) -> Verdict {
        // Nothing trusted yet: every presentation is refused as untrusted.
        let nobody = IssuerTrust::Keys(Jwks { keys: Vec::new() });
        let trust = self.trust.as_ref().unwrap_or(&nobody);
        let policy = Policy {
            require_key_binding: key_bound,
            accepted_audiences: Some(audiences),
            expected_nonce: nonce,
            trust_list_grace_seconds: TRUST_LIST_GRACE_SECONDS,
            replay_cache: Some(self.replay.clone()),
            ..Policy::default()
        };
        let verdict = verify_presentation(presentation, &policy, trust, &self.statuses, now);
        if matches!(
            verdict.status,
            StatusView::ListMissing | StatusView::ValidStale
        ) && let Some(uri) = status_uri(presentation)
        {
            self.wanted_status_uris.insert(uri);
        }
        verdict
    }
}

/// The status list a presentation refers to, read without verification (only to know
/// which list to download).
fn status_uri(presentation: &str) -> Option<String> {
    unverified_envelope(presentation, Profile::SdJwtVc)?
        .status
        .map(|s| s.uri)
}
