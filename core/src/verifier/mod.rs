//! The offline verifier: one call from a presentation to a verdict a person can read.
//!
//! [`verify_presentation`] takes the presentation (compact or JSON-serialized SD-JWT, with
//! or without KB-JWT), the [`Policy`], the issuers it trusts ([`IssuerTrust`]: a verified
//! trust list, or bare keys for testing), the cached status lists and the time, and
//! returns a [`Verdict`]: document type and issuer with their vi/en names, the disclosed
//! claims with labels, validity, holder binding, status, and every failure as a typed
//! [`FailureCode`] with a message. It never panics and does no I/O.
//!
//! [`VerifierDevice`] keeps what a verifier app holds between scans (pinned anchor, trust
//! list, status lists, replay cache, pending challenge) around that call.

mod device;
mod freshness;
mod policy;
mod replay;
mod status_source;
mod sync;
mod verdict;

use std::fmt::Write as _;

use serde_json::{Map, Value};

pub use device::{
    DeviceError, DeviceState, MAX_STATUS_CACHE_DECODED_BYTES, REPLAY_CACHE_CAPACITY, Scan,
    TRUST_LIST_GRACE_SECONDS, VerifierDevice,
};
pub use freshness::{format_age, format_date};
pub use policy::{Policy, Profile, StatusStrictness};
pub use replay::{ReplayCache, ReplayStateError, SeenProof};
pub use status_source::{StatusListSourceError, verify_status_list_for};
pub use sync::{
    MAX_AGGREGATION_BYTES, MAX_SYNC_LISTS, MAX_SYNC_URI_BYTES, StatusSync, SyncFailure, SyncReport,
    SyncRequest,
};
pub use verdict::{
    ClaimView, DocumentTypeView, Failure, FailureCode, HolderBinding, IssuerView, Names,
    PurposeView, StatusFreshness, StatusView, Validity, Verdict,
};

use crate::catalogue::{self, DocumentType};
use crate::jose::{JoseError, Jwk, Jwks, typ_matches};
use crate::sd_jwt::{KbExpectations, Presentation, SdJwtError, process_payload, verify_kb_jwt};
use crate::sd_jwt_vc::{ENVELOPE_CLAIMS, PROTECTED_CLAIMS, SD_JWT_VC_TYP, VcEnvelope, VcError};
use crate::status_list::{Status, StatusCache, StatusLookup};
use crate::trust_list::{TrustListError, VerifiedTrustList};

/// The issuers a verifier trusts.
#[derive(Debug, Clone)]
pub enum IssuerTrust {
    /// A trust list verified against the pinned national trust anchor: each issuer's keys
    /// and the document types it may issue.
    TrustList(VerifiedTrustList),
    /// Keys trusted for any issuer and any document type (testing against other issuers).
    Keys(Jwks),
}

/// Verifies one presentation. See the module documentation.
pub fn verify_presentation(
    presentation: &str,
    policy: &Policy,
    trust: &IssuerTrust,
    statuses: &StatusCache,
    now: i64,
) -> Verdict {
    let mut verdict = Verdict::empty();
    if let Err(fatal) = check(presentation, policy, trust, statuses, now, &mut verdict) {
        verdict.errors.push(fatal);
    }
    verdict.valid = verdict.errors.is_empty();
    verdict
}

fn check(
    input: &str,
    policy: &Policy,
    trust: &IssuerTrust,
    statuses: &StatusCache,
    now: i64,
    verdict: &mut Verdict,
) -> Result<(), Failure> {
    let mut presentation = Presentation::parse(input).map_err(sd_jwt_failure)?;
    let typ = presentation.issuer_jwt().header().typ.as_deref();
    let is_vc = policy.profile == Profile::SdJwtVc;
    if is_vc && !typ_matches(typ, SD_JWT_VC_TYP) {
        return Err(Failure::new(
            FailureCode::WrongType,
            format!(
                "issuer-signed JWT has {}, expected {SD_JWT_VC_TYP}",
                crate::jose::shown_typ(typ)
            ),
        ));
    }
    // RFC 9901 section 7.1: every claim the verifier acts on is read from the Processed
    // SD-JWT Payload (step 6), after the disclosures are in place and the digest and
    // name-conflict rules have run (steps 3 to 5). Processing is pure and bounded, so it
    // runs before the signature check, which needs `iss` (and `vct`) to choose the keys.
    // The disclosures are not needed afterwards (`sd_hash` covers the SD-JWT as sent): their
    // values move into the processed payload. Of the disclosed claims only one thing is
    // needed: in SD-JWT VC, the first one under a protected claim (what
    // `check_no_protected_disclosed` finds in the full list).
    let protected = |name: &str| is_vc && PROTECTED_CLAIMS.contains(&name);
    let processed = presentation
        .process_consuming(&protected)
        .map_err(sd_jwt_failure)?;
    if let Some(name) = processed.first_watched {
        return Err(envelope_failure(VcError::ProtectedClaimDisclosed(name)));
    }
    let envelope = VcEnvelope::read(&processed.claims, is_vc).map_err(envelope_failure)?;
    // A purpose credential is its document's type holding one preset's claims: named and
    // labelled as that document, with the purpose said.
    let purpose = catalogue::Purpose::by_vct(&envelope.vct).filter(|_| is_vc);
    let document = catalogue::by_vct(&envelope.vct)
        .or(purpose.map(|p| p.document()))
        .filter(|_| is_vc);

    let (keys, issuer) = issuer_keys(
        &envelope,
        presentation.issuer_jwt().header().kid.as_deref(),
        is_vc,
        policy,
        trust,
        now,
        verdict,
    )?;
    let mut signature = Err(JoseError::BadSignature);
    for key in keys {
        signature = presentation.issuer_jwt().verify(key);
        if signature.is_ok() {
            break;
        }
    }
    signature.map_err(|e| jose_failure("issuer signature", e))?;

    // Only what the issuer's signature vouches for is shown: a refusal before this point
    // names no document, issuer or dates (they were read from unverified bytes).
    verdict.issuer = Some(issuer);
    if is_vc {
        verdict.document_type = Some(DocumentTypeView {
            vct: envelope.vct.clone(),
            id: document.map(|d| d.id.to_owned()),
            name: document.map(|d| d.name.into()),
            purpose: purpose.map(|p| PurposeView {
                preset: p.preset().name.to_owned(),
                name: p.preset().label.into(),
            }),
        });
    }
    verdict.validity = Validity {
        issued_at: envelope.iat,
        not_before: envelope.nbf,
        expires_at: envelope.exp,
    };

    let hash_alg = processed.hash_alg;
    verdict.claims_json = subject_claims(processed.claims, document);
    verdict.claims = claim_views(&verdict.claims_json, document);

    if is_vc
        && let Some(accepted) = &policy.accepted_types
        && !accepted.contains(&envelope.vct)
    {
        verdict.errors.push(Failure::new(
            FailureCode::TypeNotAccepted,
            format!("document type {} is not accepted here", envelope.vct),
        ));
    }
    check_validity(&envelope, policy, now, verdict);
    check_audience(&envelope, policy, verdict);
    let kb_proof = check_key_binding(&presentation, &envelope, hash_alg, policy, now, verdict);
    check_status(&envelope, trust, policy, statuses, now, verdict);

    // Remember the proof only once everything else passed: a holder whose presentation
    // failed for a stale status list can show the same QR again after a refresh.
    if verdict.errors.is_empty()
        && let (Some(cache), Some((kb, iat))) = (&policy.replay_cache, kb_proof)
    {
        let window_end = iat
            .saturating_add(policy.max_kb_age_seconds)
            .saturating_add(policy.clock_skew_seconds);
        if !cache.check_and_remember(kb, window_end, now) {
            verdict.errors.push(Failure::new(
                FailureCode::Replayed,
                "this key-binding proof was already presented to this verifier",
            ));
        }
    }
    Ok(())
}

/// The envelope of a presentation read without verifying anything (the payload processed
/// with its disclosures, as [`verify_presentation`] reads it), only to know which issuer's
/// keys and which status list to fetch before verifying; `None` when it cannot be read.
pub fn unverified_envelope(presentation: &str, profile: Profile) -> Option<VcEnvelope> {
    let presentation = Presentation::parse(presentation).ok()?;
    let payload = presentation.issuer_payload().ok()?;
    let processed = process_payload(payload, presentation.disclosures()).ok()?;
    VcEnvelope::read(&processed.claims, profile == Profile::SdJwtVc).ok()
}

/// RFC 7519 section 4.1.3: "If the principal processing the claim does not identify itself
/// with a value in the `aud` claim when this claim is present, then the JWT MUST be
/// rejected." The verifier identifies itself by [`Policy::accepted_audiences`]; one that
/// names none is never the audience. Same rule in both profiles.
fn check_audience(envelope: &VcEnvelope, policy: &Policy, verdict: &mut Verdict) {
    let Some(aud) = &envelope.aud else {
        return;
    };
    let ours = policy.accepted_audiences.as_deref().unwrap_or_default();
    if aud.iter().any(|a| ours.contains(a)) {
        return;
    }
    let named: Vec<String> = aud
        .iter()
        .take(4)
        .map(|a| crate::jose::truncate(a))
        .collect();
    let us = if ours.is_empty() {
        "this verifier names no audience".to_owned()
    } else {
        format!("this verifier is {}", ours.join(", "))
    };
    verdict.errors.push(Failure::new(
        FailureCode::IssuerAudienceMismatch,
        format!(
            "the issuer addressed this document to {} (aud), not to this verifier ({us})",
            named.join(", ")
        ),
    ));
}

/// The keys that may have signed this credential, after the trust checks.
fn issuer_keys<'t>(
    envelope: &VcEnvelope,
    kid: Option<&str>,
    is_vc: bool,
    policy: &Policy,
    trust: &'t IssuerTrust,
    now: i64,
    verdict: &mut Verdict,
) -> Result<(&'t [Jwk], IssuerView), Failure> {
    match trust {
        IssuerTrust::Keys(jwks) => {
            let view = IssuerView {
                id: envelope.iss.clone(),
                name: None,
            };
            let keys = match kid.and_then(|kid| jwks.find(kid)) {
                Some(key) => std::slice::from_ref(key),
                None => jwks.keys.as_slice(),
            };
            if keys.is_empty() {
                return Err(Failure::new(
                    FailureCode::UntrustedIssuer,
                    "no trusted issuer key",
                ));
            }
            Ok((keys, view))
        }
        IssuerTrust::TrustList(list) => {
            let expires_at = list.expires_at();
            if now > expires_at.saturating_add(policy.trust_list_grace_seconds) {
                return Err(Failure::new(
                    FailureCode::TrustListExpired,
                    format!(
                        "the trust list expired at {}; refresh it",
                        format_date(expires_at)
                    ),
                ));
            }
            if now > expires_at {
                verdict.warnings.push(Failure::new(
                    FailureCode::TrustListInGrace,
                    format!(
                        "the trust list expired at {} and is used within its grace period",
                        format_date(expires_at)
                    ),
                ));
            }
            let issuer = list.issuer(&envelope.iss).ok_or_else(|| {
                Failure::new(
                    FailureCode::UntrustedIssuer,
                    format!("issuer {} is not on the trust list", envelope.iss),
                )
            })?;
            let view = IssuerView {
                id: envelope.iss.clone(),
                name: Some(Names {
                    vi: issuer.name.vi.clone().into(),
                    en: issuer.name.en.clone().into(),
                }),
            };
            if !is_vc {
                return Ok((issuer.jwks.keys.as_slice(), view));
            }
            match kid {
                Some(kid) => list
                    .authorise(&envelope.iss, kid, &envelope.vct)
                    .map(|key| (std::slice::from_ref(key), view))
                    .map_err(trust_failure),
                None => {
                    // No kid: every key of the issuer, once the type is authorised.
                    if !issuer.vcts.contains(&envelope.vct) {
                        return Err(trust_failure(TrustListError::NotAuthorisedForType {
                            iss: envelope.iss.clone(),
                            vct: envelope.vct.clone(),
                        }));
                    }
                    Ok((issuer.jwks.keys.as_slice(), view))
                }
            }
        }
    }
}

fn check_validity(envelope: &VcEnvelope, policy: &Policy, now: i64, verdict: &mut Verdict) {
    let skew = policy.clock_skew_seconds;
    if let Some(exp) = envelope.exp
        && now.saturating_sub(skew) > exp
    {
        verdict.errors.push(Failure::new(
            FailureCode::Expired,
            format!("the document expired at {}", format_date(exp)),
        ));
    }
    if let Some(nbf) = envelope.nbf
        && now.saturating_add(skew) < nbf
    {
        verdict.errors.push(Failure::new(
            FailureCode::NotYetValid,
            format!("the document is not valid before {}", format_date(nbf)),
        ));
    }
    if let Some(iat) = envelope.iat
        && now.saturating_add(skew) < iat
    {
        verdict.errors.push(Failure::new(
            FailureCode::IssuedInFuture,
            format!(
                "the document claims to be issued in the future ({})",
                format_date(iat)
            ),
        ));
    }
}

/// Checks the KB-JWT; returns it and its `iat` when it verified.
fn check_key_binding<'p>(
    presentation: &'p Presentation,
    envelope: &VcEnvelope,
    hash_alg: crate::sd_jwt::HashAlg,
    policy: &Policy,
    now: i64,
    verdict: &mut Verdict,
) -> Option<(&'p str, i64)> {
    let Some(kb) = presentation.key_binding_jwt() else {
        verdict.holder_binding = HolderBinding::NotBound;
        if policy.require_key_binding {
            verdict.errors.push(Failure::new(
                FailureCode::KeyBindingMissing,
                "key binding is required but the presentation has no key-binding JWT",
            ));
        }
        return None;
    };
    verdict.holder_binding = HolderBinding::Failed;
    let Some(holder_key) = &envelope.holder_key else {
        verdict.errors.push(Failure::new(
            FailureCode::NoHolderKey,
            "the document carries no holder key (cnf.jwk) to check key binding against",
        ));
        return None;
    };
    let expectations = KbExpectations {
        audiences: policy.accepted_audiences.as_deref(),
        nonce: policy.expected_nonce.as_deref(),
        now,
        max_age: policy.max_kb_age_seconds,
        clock_skew: policy.clock_skew_seconds,
    };
    match verify_kb_jwt(
        kb,
        presentation.sd_jwt_part(),
        hash_alg,
        holder_key,
        &expectations,
    ) {
        Ok(claims) => {
            let iat = claims.iat;
            verdict.holder_binding = HolderBinding::Verified {
                aud: claims.aud,
                nonce: claims.nonce,
                iat,
            };
            Some((kb, iat))
        }
        Err(e) => {
            verdict.errors.push(key_binding_failure(e));
            None
        }
    }
}

/// Every key of the issuer `iss` (not only the one that signed this document: its status
/// lists may be signed by a newer key after a rotation).
fn all_issuer_keys<'t>(trust: &'t IssuerTrust, iss: &str) -> &'t [Jwk] {
    match trust {
        IssuerTrust::Keys(jwks) => &jwks.keys,
        IssuerTrust::TrustList(list) => list
            .issuer(iss)
            .map(|issuer| issuer.jwks.keys.as_slice())
            .unwrap_or_default(),
    }
}

fn check_status(
    envelope: &VcEnvelope,
    trust: &IssuerTrust,
    policy: &Policy,
    statuses: &StatusCache,
    now: i64,
    verdict: &mut Verdict,
) {
    let Some(reference) = &envelope.status else {
        verdict.status = StatusView::NotApplicable;
        return;
    };
    // The issuer is its own Status Issuer here: a list signed by anyone else (another
    // trusted issuer, say) says nothing about this document.
    if let Some(cached) = statuses.get(&reference.uri) {
        let holds_signer = |keys: &[Jwk]| {
            cached.signer.as_deref().is_some_and(|signer| {
                keys.iter()
                    .any(|key| key.thumbprint().is_ok_and(|t| t == signer))
            })
        };
        if !holds_signer(all_issuer_keys(trust, &envelope.iss)) {
            let signer = match trust {
                IssuerTrust::TrustList(list) => list
                    .list()
                    .issuers
                    .iter()
                    .find(|issuer| holds_signer(&issuer.jwks.keys)),
                IssuerTrust::Keys(_) => None,
            };
            let signed_by = match signer {
                Some(issuer) => format!(
                    "is signed by {} / {} ({}), another issuer on the trust list, which does \
                     not vouch for this document",
                    issuer.name.vi, issuer.name.en, issuer.id
                ),
                None => "is signed by a key that is not the document's issuer's".to_owned(),
            };
            verdict.status = StatusView::Unknown;
            verdict.errors.push(Failure::new(
                FailureCode::StatusListWrongSigner,
                format!(
                    "status list {} {signed_by} (issued by {}); revocation could not be checked",
                    reference.uri, envelope.iss
                ),
            ));
            return;
        }
    }
    let strictness_push = |verdict: &mut Verdict, strictness, failure| match strictness {
        StatusStrictness::Fail => verdict.errors.push(failure),
        StatusStrictness::Warn => verdict.warnings.push(failure),
    };
    if let Some(cached) = statuses.get(&reference.uri) {
        let refresh_at = statuses
            .refresh_at(&reference.uri)
            .unwrap_or(cached.fetched_at);
        verdict.status_freshness = Some(StatusFreshness {
            list_uri: reference.uri.clone(),
            issued_at: cached.iat,
            checked_at: cached.fetched_at,
            age_seconds: now.saturating_sub(cached.fetched_at).max(0),
            refresh_at,
            expires_at: cached.exp,
        });
    }
    let (status, fresh) = match statuses.lookup(reference, now) {
        StatusLookup::Fresh(status) => (status, true),
        StatusLookup::Stale(status) => (status, false),
        StatusLookup::Expired { expired_at } => {
            let failure = Failure::new(
                FailureCode::StatusListExpired,
                format!(
                    "status list {} expired at {} (last checked {}); revocation could not be \
                     checked against a current list",
                    reference.uri,
                    freshness::format_date(expired_at),
                    verdict
                        .status_freshness
                        .as_ref()
                        .map(|f| freshness::format_age(f.age_seconds))
                        .unwrap_or_default(),
                ),
            );
            let expired_value = statuses
                .get(&reference.uri)
                .and_then(|cached| cached.list.status(reference.idx));
            match (policy.expired_status, expired_value) {
                (StatusStrictness::Warn, Some(status)) => {
                    verdict.warnings.push(failure);
                    (status, false)
                }
                _ => {
                    verdict.status = StatusView::ListMissing;
                    verdict.errors.push(failure);
                    return;
                }
            }
        }
        StatusLookup::Missing => {
            verdict.status = StatusView::ListMissing;
            strictness_push(
                verdict,
                policy.missing_status,
                Failure::new(
                    FailureCode::StatusListMissing,
                    format!(
                        "status list {} is not cached; revocation could not be checked",
                        reference.uri
                    ),
                ),
            );
            return;
        }
        StatusLookup::IndexOutOfRange { len } => {
            verdict.status = StatusView::Unknown;
            verdict.errors.push(Failure::new(
                FailureCode::StatusUnknown,
                format!(
                    "status index {} is beyond the list's {len} entries",
                    reference.idx
                ),
            ));
            return;
        }
    };
    verdict.status = match status {
        Status::Valid if fresh => StatusView::Valid,
        Status::Valid => StatusView::ValidStale,
        Status::Invalid => StatusView::Revoked,
        Status::Suspended => StatusView::Suspended,
        Status::Other(_) => StatusView::Unknown,
    };
    match status {
        Status::Valid => {}
        Status::Invalid => verdict.errors.push(Failure::new(
            FailureCode::Revoked,
            "the issuer has revoked this document",
        )),
        Status::Suspended => verdict.errors.push(Failure::new(
            FailureCode::Suspended,
            "the issuer has suspended this document",
        )),
        Status::Other(value) => verdict.errors.push(Failure::new(
            FailureCode::StatusUnknown,
            format!("unknown status value {value:#04x}"),
        )),
    }
    if !fresh {
        strictness_push(
            verdict,
            policy.stale_status,
            Failure::new(
                FailureCode::StatusListStale,
                format!(
                    "status list {} is older than its ttl: last checked {}; refresh it",
                    reference.uri,
                    verdict
                        .status_freshness
                        .as_ref()
                        .map(|f| freshness::format_age(f.age_seconds))
                        .unwrap_or_default(),
                ),
            ),
        );
    }
}

/// The claims about the subject: everything but the envelope, in the document's catalogue
/// order at every level (claims the type does not list keep their processed order, last).
fn subject_claims(
    claims: Map<String, Value>,
    document: Option<&DocumentType>,
) -> Map<String, Value> {
    let subject = claims
        .into_iter()
        .filter(|(name, _)| !ENVELOPE_CLAIMS.contains(&name.as_str()));
    match document {
        Some(document) => document.members_in_catalogue_order(subject),
        None => subject.collect(),
    }
}

/// Flattens the subject's claims (already in the document's order, [`subject_claims`])
/// into labelled leaves.
fn claim_views(claims: &Map<String, Value>, document: Option<&DocumentType>) -> Vec<ClaimView> {
    fn walk<'v>(
        value: &'v Value,
        path: &mut String,
        keys: &mut Vec<&'v str>,
        document: Option<&DocumentType>,
        out: &mut Vec<ClaimView>,
    ) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    let len = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key);
                    keys.push(key);
                    walk(child, path, keys, document, out);
                    keys.pop();
                    path.truncate(len);
                }
            }
            Value::Array(items) if items.iter().any(|i| i.is_object() || i.is_array()) => {
                for (index, child) in items.iter().enumerate() {
                    let len = path.len();
                    // Writing to a String cannot fail.
                    let _ = write!(path, "[{index}]");
                    walk(child, path, keys, document, out);
                    path.truncate(len);
                }
            }
            leaf => {
                out.push(ClaimView {
                    path: path.clone(),
                    label: document.and_then(|d| d.claim_label(keys)).map(Names::from),
                    value: leaf.clone(),
                });
            }
        }
    }
    fn leaves(value: &Value) -> usize {
        match value {
            Value::Object(map) => map.values().map(leaves).sum(),
            Value::Array(items) if items.iter().any(|i| i.is_object() || i.is_array()) => {
                items.iter().map(leaves).sum()
            }
            _ => 1,
        }
    }
    let mut out = Vec::with_capacity(claims.values().map(leaves).sum());
    let (mut path, mut keys) = (String::new(), Vec::new());
    for (key, value) in claims {
        path.clear();
        path.push_str(key);
        keys.clear();
        keys.push(key.as_str());
        walk(value, &mut path, &mut keys, document, &mut out);
    }
    out
}

fn jose_failure(context: &str, error: JoseError) -> Failure {
    let code = match &error {
        JoseError::AlgorithmNone | JoseError::HmacRefused | JoseError::UnsupportedAlgorithm(_) => {
            FailureCode::AlgorithmRefused
        }
        JoseError::UnknownCritical(_) | JoseError::KeyUrlRefused(_) => FailureCode::HeaderRefused,
        JoseError::BadSignature | JoseError::KeyAlgorithmMismatch(_) => FailureCode::BadSignature,
        JoseError::TooLarge { .. } => FailureCode::TooLarge,
        _ => FailureCode::Malformed,
    };
    Failure::new(code, format!("{context}: {error}"))
}

fn sd_jwt_failure(error: SdJwtError) -> Failure {
    let code = match &error {
        SdJwtError::TooLarge { .. } => FailureCode::TooLarge,
        SdJwtError::Jose { context, source } => return jose_failure(context, source.clone()),
        SdJwtError::UnsupportedHashAlg(_) => FailureCode::UnsupportedHashAlgorithm,
        SdJwtError::MalformedDisclosure { .. }
        | SdJwtError::ObjectDisclosureExpected
        | SdJwtError::ArrayDisclosureExpected
        | SdJwtError::InvalidDigestContainer(_) => FailureCode::MalformedDisclosure,
        SdJwtError::DuplicateDisclosure { .. } => FailureCode::DuplicateDisclosure,
        SdJwtError::DuplicateDigest { .. } => FailureCode::DuplicateDigest,
        SdJwtError::UnreferencedDisclosure { .. } => FailureCode::UnreferencedDisclosure,
        SdJwtError::ReservedClaimName(_) => FailureCode::ReservedClaimName,
        SdJwtError::ClaimNameConflict(_) => FailureCode::ClaimNameConflict,
        _ => FailureCode::Malformed,
    };
    Failure::new(code, error.to_string())
}

fn key_binding_failure(error: SdJwtError) -> Failure {
    let code = match &error {
        SdJwtError::KeyBindingSdHashMismatch => FailureCode::KeyBindingHashMismatch,
        SdJwtError::KeyBindingStale { .. } => FailureCode::KeyBindingStale,
        SdJwtError::KeyBindingNonceMismatch => FailureCode::NonceMismatch,
        SdJwtError::KeyBindingAudienceMismatch(_) => FailureCode::AudienceMismatch,
        _ => FailureCode::KeyBindingInvalid,
    };
    Failure::new(code, error.to_string())
}

fn envelope_failure(error: VcError) -> Failure {
    let code = match &error {
        VcError::ProtectedClaimDisclosed(_) => FailureCode::ProtectedClaimDisclosed,
        VcError::Claim(_) | VcError::Date { .. } | VcError::BadHolderKey => {
            FailureCode::InvalidEnvelope
        }
    };
    Failure::new(code, error.to_string())
}

fn trust_failure(error: TrustListError) -> Failure {
    let code = match &error {
        TrustListError::UnknownIssuer { .. } => FailureCode::UntrustedIssuer,
        TrustListError::UnknownKey { .. } => FailureCode::UnknownKey,
        TrustListError::NotAuthorisedForType { .. } => FailureCode::NotAuthorisedForType,
        TrustListError::Expired { .. } => FailureCode::TrustListExpired,
        _ => FailureCode::UntrustedIssuer,
    };
    Failure::new(code, error.to_string())
}
