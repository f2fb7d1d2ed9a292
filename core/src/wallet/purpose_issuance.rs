//! Getting a document's purpose credentials from its issuer, sans-IO: one batch per preset
//! (OpenID4VCI 1.0 section 8.2, one `jwt` key proof per credential, each key new), after
//! the document itself with the same access token, or later as a refill with the refresh
//! token kept from that issuance (RFC 6749 section 6). Shared by the `giayto` command and
//! the mobile bindings: the caller sends the requests, makes the holder keys and signs.
//!
//! ```text
//! after_document(session) ─┐
//! refill(grant) ─(issuer md request)─▶ on_response ─Send(AS md)─▶ on_response ─Send(token)─▶
//!   on_response ─KeepRefill(grant)─┐
//!                                  ▼  for each purpose configuration:
//!   [Send(nonce) ─▶ on_response] ─▶ NewKeys(n) ─▶ with_keys ─▶ Sign ─▶ credential_request
//!     ─Send(credential)─▶ on_response ─┬─ Issued: kept, next configuration
//!                                      ├─ invalid_nonce: Send(nonce) ─▶ Sign again (once)
//!                                      └─ refused or deferred: a failure, next configuration
//!   ─▶ Done ─▶ finish() ─▶ PurposeReceipt ─▶ Wallet::keep_purposes / store_with_purposes
//! ```
//!
//! One configuration the issuer refuses is recorded as a [`PurposeFailure`] and the others
//! go on; a request that could not be sent ends the run ([`PurposeIssuance::interrupted`])
//! and what was received is still kept. Nothing is written here: the receipt is stored in
//! one vault write, so a run abandoned half-way (a cancelled call) leaves the vault as it
//! was, apart from a rotated refresh token ([`PurposeStep::KeepRefill`]), which replaces
//! the old one at the issuer and must be kept at once.

use std::collections::{BTreeMap, VecDeque};

use super::{Wallet, WalletError};
use crate::catalogue::Purpose;
use crate::jose::Signer;
use crate::oid4vci::{
    CredentialOutcome, HttpRequest, HttpResponse, IssuanceSession, Oid4vciError, SecretString,
    TokenStep,
};
use crate::vault::{RefillGrant, StoredCredential};

/// Purpose credentials asked for per preset on each receive or refill (fewer when the
/// issuer's `batch_credential_issuance.batch_size`, OpenID4VCI 1.0 section 12.2.4, is
/// smaller; one without batch issuance).
pub const PURPOSE_BATCH: usize = 10;

/// What the caller does next.
#[derive(Debug, Clone, PartialEq)]
pub enum PurposeStep {
    /// Send this request and pass its response to [`PurposeIssuance::on_response`]; when it
    /// cannot be sent, call [`PurposeIssuance::interrupted`].
    Send(HttpRequest),
    /// Make this many new holder keys (P-256, one per credential) and pass their aliases
    /// to [`PurposeIssuance::with_keys`].
    NewKeys(usize),
    /// Sign the key proofs: pass the signers of [`PurposeIssuance::batch_keys`], in that
    /// order, to [`PurposeIssuance::credential_request`].
    Sign,
    /// The issuer rotated the refresh token (the old one no longer works): store this
    /// grant now ([`Wallet::set_refill`]), then call [`PurposeIssuance::next_step`].
    KeepRefill(RefillGrant),
    /// Nothing more to ask: call [`PurposeIssuance::finish`].
    Done,
}

/// A purpose configuration that brought no credential, and why (no secret in it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurposeFailure {
    /// The credential configuration id.
    pub configuration: String,
    /// Why, for the holder or a log.
    pub reason: String,
}

/// What a run brought: stored by [`Wallet::keep_purposes`] or
/// [`Wallet::store_with_purposes`]. Personal data: `Debug` shows counts and aliases only.
#[derive(Clone, PartialEq, Default)]
pub struct PurposeReceipt {
    /// Each purpose credential received with the alias of the key it is bound to.
    pub credentials: Vec<(String, String)>,
    /// The configurations that brought nothing.
    pub failures: Vec<PurposeFailure>,
    /// Aliases of keys made for this run that no received credential is bound to: the
    /// caller deletes them.
    pub unused_keys: Vec<String>,
    /// How to refill later: the issuer, every purpose configuration of the document by
    /// preset, and the latest refresh token; `None` when the issuer gave no refresh token.
    pub refill: Option<RefillGrant>,
}

impl std::fmt::Debug for PurposeReceipt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PurposeReceipt")
            .field("credentials", &self.credentials.len())
            .field("failures", &self.failures)
            .field("unused_keys", &self.unused_keys)
            .field("refill", &self.refill)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    IssuerMetadata,
    AuthorizationServerMetadata,
    Token,
    Next,
    Nonce,
    NewKeys,
    Sign,
    Credential,
    RetryNonce,
    Done,
}

/// One run of purpose-credential batches on an [`IssuanceSession`]. Holds the session's
/// access and refresh tokens; `Debug` shows neither.
#[derive(Debug)]
pub struct PurposeIssuance {
    session: IssuanceSession,
    phase: Phase,
    /// Every purpose configuration of the document, by preset (kept in the refill grant).
    configurations: BTreeMap<String, String>,
    /// Configurations still to ask for.
    pending: VecDeque<String>,
    current: Option<String>,
    batch: usize,
    /// Aliases of the current batch's keys, in proof order.
    keys: Vec<String>,
    /// Every alias made in this run.
    made: Vec<String>,
    /// RFC 7638 thumbprint and alias of each key proved in the last request.
    proved: Vec<(String, String)>,
    nonce_retried: bool,
    /// A request to send at the next [`PurposeIssuance::next_step`].
    queued: Option<HttpRequest>,
    receipt: PurposeReceipt,
}

impl PurposeIssuance {
    /// Goes on from a session that has just received document type `vct` (its step is
    /// ready for another credential request): asks for a batch of each offered purpose
    /// configuration of that type (the offer's `credential_configuration_ids` whose `vct`
    /// is one of its purpose types). Returns the run and its first step ([`PurposeStep::Done`]
    /// when the offer has none).
    pub fn after_document(session: IssuanceSession, vct: &str) -> (PurposeIssuance, PurposeStep) {
        let configurations = offered_purposes(&session, vct);
        let pending = configurations.values().cloned().collect();
        let mut run = PurposeIssuance::new(session, Phase::Next, configurations, pending);
        let step = run.next_step();
        (run, step)
    }

    /// Comes back to the issuer of `grant` with its refresh token for a batch of each of
    /// `presets` that the grant covers (what [`Wallet::presets_to_refill`] names). Returns
    /// the run and the Credential Issuer metadata request to send first, or `None` when the
    /// grant covers none of `presets`.
    ///
    /// Errors: those of [`IssuanceSession::resume`] (an insecure issuer URL).
    pub fn refill(
        grant: &RefillGrant,
        presets: &[String],
    ) -> Result<Option<(PurposeIssuance, HttpRequest)>, Oid4vciError> {
        let pending: VecDeque<String> = presets
            .iter()
            .filter_map(|preset| grant.configurations.get(preset).cloned())
            .collect();
        if pending.is_empty() {
            return Ok(None);
        }
        let (session, request) = IssuanceSession::resume(
            &grant.credential_issuer,
            pending.iter().cloned().collect(),
            SecretString::new(grant.refresh_token.clone()),
        )?;
        let run = PurposeIssuance::new(
            session,
            Phase::IssuerMetadata,
            grant.configurations.clone(),
            pending,
        );
        Ok(Some((run, request)))
    }

    fn new(
        session: IssuanceSession,
        phase: Phase,
        configurations: BTreeMap<String, String>,
        pending: VecDeque<String>,
    ) -> PurposeIssuance {
        PurposeIssuance {
            phase,
            configurations,
            pending,
            current: None,
            batch: 1,
            keys: Vec::new(),
            made: Vec::new(),
            proved: Vec::new(),
            nonce_retried: false,
            queued: None,
            receipt: PurposeReceipt::default(),
            session,
        }
    }

    /// How many purpose configurations this run asks for (for a progress bar).
    pub fn configurations_to_ask(&self) -> usize {
        self.pending.len() + usize::from(self.current.is_some())
    }

    /// The configuration being asked for now, if any (for a progress bar).
    pub fn current_configuration(&self) -> Option<&str> {
        self.current.as_deref()
    }

    /// The aliases of the current batch's keys, in the order their signers go to
    /// [`PurposeIssuance::credential_request`].
    pub fn batch_keys(&self) -> &[String] {
        &self.keys
    }

    /// The step after a [`PurposeStep::KeepRefill`]; otherwise the steps come from the
    /// calls that take the caller's answers, and this says [`PurposeStep::Done`] while a
    /// response is awaited.
    pub fn next_step(&mut self) -> PurposeStep {
        if let Some(request) = self.queued.take() {
            return PurposeStep::Send(request);
        }
        loop {
            match self.phase {
                Phase::Next => {}
                Phase::NewKeys => return PurposeStep::NewKeys(self.batch),
                Phase::Sign => return PurposeStep::Sign,
                _ => return PurposeStep::Done,
            }
            let Some(configuration) = self.pending.pop_front() else {
                self.phase = Phase::Done;
                return PurposeStep::Done;
            };
            self.current = Some(configuration.clone());
            self.nonce_retried = false;
            self.batch = batch_size(&self.session);
            match self.session.next_configuration(&configuration) {
                Ok(Some(nonce)) => {
                    self.phase = Phase::Nonce;
                    return PurposeStep::Send(nonce);
                }
                Ok(None) => self.phase = Phase::NewKeys,
                Err(error) => self.fail(error.to_string()),
            }
        }
    }

    /// Takes the aliases of the new keys [`PurposeStep::NewKeys`] asked for.
    ///
    /// Errors: [`Oid4vciError::OutOfOrder`] when no keys were asked for or their number
    /// differs.
    pub fn with_keys(&mut self, aliases: Vec<String>) -> Result<PurposeStep, Oid4vciError> {
        if self.phase != Phase::NewKeys {
            return Err(Oid4vciError::OutOfOrder("no new keys asked for"));
        }
        if aliases.len() != self.batch {
            return Err(Oid4vciError::OutOfOrder("not as many keys as asked for"));
        }
        self.made.extend(aliases.iter().cloned());
        self.keys = aliases;
        self.phase = Phase::Sign;
        Ok(PurposeStep::Sign)
    }

    /// Builds the batch credential request with one key proof per signer (the signers of
    /// [`PurposeIssuance::batch_keys`], in order) at `now` (Unix seconds), and returns
    /// the step that sends it. A request the session refuses to build (a key the issuer's
    /// proof algorithms exclude) is a failure of this configuration, and the run goes on.
    ///
    /// Errors: [`Oid4vciError::OutOfOrder`] when no signature was asked for, or the
    /// signers are not as many as the keys; the error of a signer that failed (a key
    /// store's refusal) is returned as the session's, and the run can sign again.
    pub fn credential_request(
        &mut self,
        signers: &[&dyn Signer],
        now: u64,
    ) -> Result<PurposeStep, Oid4vciError> {
        if self.phase != Phase::Sign {
            return Err(Oid4vciError::OutOfOrder("no signature asked for"));
        }
        if signers.len() != self.keys.len() {
            return Err(Oid4vciError::OutOfOrder("not one signer per key"));
        }
        let mut proved = Vec::with_capacity(signers.len());
        for (signer, alias) in signers.iter().zip(&self.keys) {
            proved.push((signer.public_jwk()?.thumbprint()?, alias.clone()));
        }
        match self.session.build_batch_credential_request(signers, now) {
            Ok(request) => {
                self.proved = proved;
                self.phase = Phase::Credential;
                Ok(PurposeStep::Send(request))
            }
            Err(error @ (Oid4vciError::Jose(_) | Oid4vciError::OutOfOrder(_))) => Err(error),
            Err(error) => {
                self.fail(error.to_string());
                Ok(self.next_step())
            }
        }
    }

    /// Reads the response to the last [`PurposeStep::Send`].
    ///
    /// Errors: during a refill's metadata and token steps, the session's errors (an
    /// expired refresh token is [`Oid4vciError::Issuer`] `invalid_grant`): the run is
    /// over. Later, an issuer's refusal is a [`PurposeFailure`] and the run goes on.
    pub fn on_response(&mut self, response: &HttpResponse) -> Result<PurposeStep, Oid4vciError> {
        match self.phase {
            Phase::IssuerMetadata => {
                let request = self.session.on_issuer_metadata(response)?;
                self.phase = Phase::AuthorizationServerMetadata;
                Ok(PurposeStep::Send(request))
            }
            Phase::AuthorizationServerMetadata => match self.session.on_as_metadata(response)? {
                TokenStep::Request(request) => {
                    self.phase = Phase::Token;
                    Ok(PurposeStep::Send(request))
                }
                TokenStep::NeedsTxCode(_) => Err(Oid4vciError::Unsupported(
                    "a refresh that asks for a transaction code".into(),
                )),
            },
            Phase::Token => {
                // The session selected the first configuration asked; its nonce request,
                // if any, comes with the token response.
                let nonce = self.session.on_token(response)?;
                self.current = self.pending.pop_front();
                self.batch = batch_size(&self.session);
                self.phase = match nonce {
                    Some(_) => Phase::Nonce,
                    None => Phase::NewKeys,
                };
                self.queued = nonce;
                match self.refill_grant() {
                    Some(grant) => Ok(PurposeStep::KeepRefill(grant)),
                    None => Ok(self.next_step()),
                }
            }
            Phase::Nonce | Phase::RetryNonce => {
                let retry = self.phase == Phase::RetryNonce;
                match self.session.on_nonce(response) {
                    Ok(()) if retry => self.phase = Phase::Sign,
                    Ok(()) => self.phase = Phase::NewKeys,
                    Err(error) => self.fail(error.to_string()),
                }
                Ok(self.next_step())
            }
            Phase::Credential => {
                match self.session.on_credential(response) {
                    Ok(CredentialOutcome::Issued(credentials)) => {
                        self.keep(credentials.into_iter().map(|c| c.credential));
                    }
                    Ok(CredentialOutcome::RetryWithFreshNonce(nonce)) if !self.nonce_retried => {
                        self.nonce_retried = true;
                        self.phase = Phase::RetryNonce;
                        return Ok(PurposeStep::Send(nonce));
                    }
                    Ok(CredentialOutcome::RetryWithFreshNonce(_)) => {
                        self.fail("the issuer refused a fresh nonce twice".into());
                    }
                    Ok(CredentialOutcome::Deferred { .. }) => self.fail(
                        "the issuer deferred the purpose credentials; they are not fetched later"
                            .into(),
                    ),
                    Err(error) => self.fail(error.to_string()),
                }
                Ok(self.next_step())
            }
            Phase::Next | Phase::NewKeys | Phase::Sign | Phase::Done => {
                Err(Oid4vciError::OutOfOrder("no request sent"))
            }
        }
    }

    /// The last request could not be sent (`reason`: the transport's error): the current
    /// configuration and those not asked yet are failures, and the run is over (the
    /// session waits for an answer that will not come).
    pub fn interrupted(&mut self, reason: &str) {
        let left: Vec<String> = self
            .current
            .take()
            .into_iter()
            .chain(self.pending.drain(..))
            .collect();
        for configuration in left {
            self.receipt.failures.push(PurposeFailure {
                configuration,
                reason: reason.to_owned(),
            });
        }
        self.keys.clear();
        self.queued = None;
        self.phase = Phase::Done;
    }

    /// Ends the run: what was received, what failed, which new keys went unused, and the
    /// refill grant.
    pub fn finish(mut self) -> PurposeReceipt {
        if self.current.is_some() || !self.pending.is_empty() {
            self.interrupted("not finished");
        }
        let bound: Vec<&String> = self.receipt.credentials.iter().map(|(_, a)| a).collect();
        self.receipt.unused_keys = self
            .made
            .iter()
            .filter(|alias| !bound.contains(alias))
            .cloned()
            .collect();
        self.receipt.refill = self.refill_grant();
        self.receipt
    }

    fn refill_grant(&self) -> Option<RefillGrant> {
        let refresh_token = self.session.refresh_token()?;
        if self.configurations.is_empty() {
            return None;
        }
        Some(RefillGrant {
            credential_issuer: self.session.offer().credential_issuer.clone(),
            configurations: self.configurations.clone(),
            refresh_token: refresh_token.expose().to_owned(),
        })
    }

    /// Keeps each issued credential with the alias of the key it is bound to (the session
    /// checked that each is bound to one of the keys proved).
    fn keep(&mut self, credentials: impl Iterator<Item = String>) {
        for credential in credentials {
            let alias = super::holder_jwk_of(&credential)
                .ok()
                .and_then(|jwk| jwk.thumbprint().ok())
                .and_then(|t| self.proved.iter().find(|(p, _)| *p == t))
                .map(|(_, alias)| alias.clone());
            match alias {
                Some(alias) => self.receipt.credentials.push((credential, alias)),
                None => self.receipt.failures.push(PurposeFailure {
                    configuration: self.current.clone().unwrap_or_default(),
                    reason: "a purpose credential bound to an unknown key".into(),
                }),
            }
        }
        self.current = None;
        self.keys.clear();
        self.phase = Phase::Next;
    }

    fn fail(&mut self, reason: String) {
        self.receipt.failures.push(PurposeFailure {
            configuration: self.current.take().unwrap_or_default(),
            reason,
        });
        self.keys.clear();
        self.phase = Phase::Next;
    }
}

/// The purpose configurations an issuance session's offer covers for document type `vct`,
/// by preset: the offered `credential_configuration_ids` whose `vct` in the issuer
/// metadata is one of that type's purpose types. Empty before the issuer metadata.
pub fn offered_purposes(session: &IssuanceSession, vct: &str) -> BTreeMap<String, String> {
    let Some(metadata) = session.issuer_metadata() else {
        return BTreeMap::new();
    };
    session
        .offer()
        .credential_configuration_ids
        .iter()
        .filter_map(|id| {
            let purpose = metadata
                .configuration(id)
                .ok()
                .and_then(|c| c.vct.as_deref())
                .and_then(Purpose::by_vct)
                .filter(|p| p.document().vct == vct)?;
            Some((purpose.preset().name.to_owned(), id.clone()))
        })
        .collect()
}

/// How many purpose credentials to ask for at once: [`PURPOSE_BATCH`], or fewer when the
/// issuer's `batch_size` is smaller (1 without batch issuance).
fn batch_size(session: &IssuanceSession) -> usize {
    session
        .issuer_metadata()
        .and_then(|m| m.batch_credential_issuance.as_ref())
        .map_or(1, |b| usize::try_from(b.batch_size).unwrap_or(1))
        .clamp(1, PURPOSE_BATCH)
}

/// What storing a [`PurposeReceipt`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptPurposes {
    /// The document's id.
    pub id: String,
    /// Purpose credentials added.
    pub added: usize,
    /// Key aliases of the used purpose credentials dropped for the fresh ones of their
    /// preset: the caller deletes those keys.
    pub dropped_keys: Vec<String>,
}

impl Wallet {
    /// Keeps what a run brought for document `id`: its purpose credentials (as
    /// [`Wallet::add_purpose_credentials`]) and its refill grant, in one vault write.
    ///
    /// Errors: those of [`Wallet::add_purpose_credentials`]; nothing is stored then.
    pub fn keep_purposes(
        &mut self,
        id: &str,
        receipt: &PurposeReceipt,
        now: i64,
    ) -> Result<KeptPurposes, WalletError> {
        let mut stored = self.stored(id)?.clone();
        let (added, dropped_keys) = merge_receipt(&mut stored, receipt, now)?;
        self.vault.insert(stored)?;
        Ok(KeptPurposes {
            id: id.to_owned(),
            added,
            dropped_keys,
        })
    }

    /// Stores a received document (as [`Wallet::store`], under key alias `holder_key_id`)
    /// with what a run brought for it, in one vault write: the document is stored whole or
    /// not at all. A document received again keeps the purpose credentials it held.
    ///
    /// Errors: those of [`Wallet::store`] and [`Wallet::add_purpose_credentials`].
    pub fn store_with_purposes(
        &mut self,
        credential: &str,
        holder_key_id: &str,
        receipt: &PurposeReceipt,
        now: i64,
    ) -> Result<KeptPurposes, WalletError> {
        let mut stored = super::Parsed::read(credential)?.into_stored(holder_key_id, now);
        if let Some(old) = self.vault.get(&stored.id) {
            // Received again: the purpose credentials already held stay.
            stored.purposes = old.purposes.clone();
            stored.refill = old.refill.clone();
        }
        let (added, dropped_keys) = merge_receipt(&mut stored, receipt, now)?;
        let id = stored.id.clone();
        self.vault.insert(stored)?;
        Ok(KeptPurposes {
            id,
            added,
            dropped_keys,
        })
    }
}

fn merge_receipt(
    stored: &mut StoredCredential,
    receipt: &PurposeReceipt,
    now: i64,
) -> Result<(usize, Vec<String>), WalletError> {
    let merged = super::purposes::merge_purposes(stored, &receipt.credentials, now)?;
    if let Some(grant) = &receipt.refill {
        stored.refill = Some(grant.clone());
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn grant() -> RefillGrant {
        RefillGrant {
            credential_issuer: "https://issuer.example".into(),
            configurations: BTreeMap::from([
                ("age_over_18".into(), "driving_licence.age_over_18".into()),
                ("traffic_stop".into(), "driving_licence.traffic_stop".into()),
            ]),
            refresh_token: "refresh".into(),
        }
    }

    #[test]
    fn a_refill_asks_only_for_the_low_presets_the_grant_covers() {
        assert!(
            PurposeIssuance::refill(&grant(), &["identity".into()])
                .unwrap()
                .is_none()
        );
        let (run, request) =
            PurposeIssuance::refill(&grant(), &["identity".into(), "traffic_stop".into()])
                .unwrap()
                .unwrap();
        assert_eq!(
            request.url,
            "https://issuer.example/.well-known/openid-credential-issuer"
        );
        assert_eq!(run.configurations_to_ask(), 1);
        // Nothing came yet: the grant is kept whole, with its refresh token.
        let receipt = run.finish();
        assert_eq!(receipt.failures.len(), 1);
        assert_eq!(
            receipt.failures[0].configuration,
            "driving_licence.traffic_stop"
        );
        assert_eq!(receipt.refill.unwrap(), grant());
    }

    #[test]
    fn a_refill_from_an_insecure_issuer_is_refused() {
        let mut insecure = grant();
        insecure.credential_issuer = "http://issuer.example".into();
        assert!(PurposeIssuance::refill(&insecure, &["traffic_stop".into()]).is_err());
    }

    #[test]
    fn a_lost_request_fails_what_is_left_and_ends_the_run() {
        let (mut run, _) =
            PurposeIssuance::refill(&grant(), &["age_over_18".into(), "traffic_stop".into()])
                .unwrap()
                .unwrap();
        run.interrupted("connection reset");
        assert_eq!(run.next_step(), PurposeStep::Done);
        assert!(run.with_keys(vec!["k".into()]).is_err());
        let receipt = run.finish();
        let failed: Vec<_> = receipt
            .failures
            .iter()
            .map(|f| (f.configuration.as_str(), f.reason.as_str()))
            .collect();
        assert_eq!(
            failed,
            [
                ("driving_licence.age_over_18", "connection reset"),
                ("driving_licence.traffic_stop", "connection reset")
            ]
        );
        assert!(receipt.credentials.is_empty() && receipt.unused_keys.is_empty());
    }
}
