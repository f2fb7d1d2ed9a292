//! The wallet's side of one presentation, sans-IO as [`crate::oid4vci::IssuanceSession`]:
//! it hands out [`HttpRequest`]s and takes [`HttpResponse`]s.
//!
//! 1. [`PresentationSession::start`] parses the invocation (URI or QR text) and returns the
//!    GET of the request object.
//! 2. [`PresentationSession::on_request_object`] verifies it against the trust list,
//!    assesses the verifier's registration, evaluates the DCQL query against the wallet and
//!    returns the [`RequestView`] the consent screen shows (or refuses by policy).
//! 3. On consent, [`PresentationSession::respond`] builds the presentations (KB-JWT `aud` =
//!    client id, `nonce` from the request: OpenID4VP 1.0 Appendix B.3.6), marks a purpose
//!    credential used in the vault, encrypts and returns the POST; or
//!    [`PresentationSession::decline`] returns the POST of `error=access_denied`.
//! 4. [`PresentationSession::on_response`] reads the verifier's reply (`redirect_uri`).

use serde_json::{Map, Value};

use super::candidates::{CandidateSource, wallet_candidates};
use super::dcql::{Candidate, QueryAnswer};
use super::request::{request_object_of, verify_request};
use super::response::{ResponseOutcome, encrypt_response, post_form, read_reply};
use super::view::{RequestView, SharedDocument, Warning, shared_claims, type_names};
use super::{Invocation, Oid4vpError, Registration, VerifiedRequest};
use crate::oid4vci::{HttpRequest, HttpResponse};
use crate::sd_jwt::SdJwt;
use crate::trust_list::VerifiedTrustList;
use crate::wallet::{HolderKeys, Wallet, WalletError};

/// What the holder allows when a verifier asks beyond its registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationPolicy {
    /// Warn on the consent screen, let the holder decide.
    Warn,
    /// Refuse the request ([`Oid4vpError::BeyondRegistration`]).
    RefuseBeyond,
}

/// What the holder consented to share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    /// The documents the request requires, not those of optional credential sets.
    Required,
    /// Everything shown on the consent screen, optional parts included.
    All,
}

#[derive(Debug)]
enum State {
    AwaitingRequest,
    Verified {
        request: Box<VerifiedRequest>,
        plan: Vec<(QueryAnswer, CandidateSource)>,
        refused: bool,
    },
    Sent,
}

/// One presentation exchange with a verifier.
#[derive(Debug)]
pub struct PresentationSession {
    invocation: Invocation,
    state: State,
}

impl PresentationSession {
    /// Parses the invocation (an `openid4vp://` or `haip-vp://` URI, or its QR text) and
    /// returns the session with the GET of the request object to perform.
    pub fn start(invocation: &str) -> Result<(PresentationSession, HttpRequest), Oid4vpError> {
        let invocation = Invocation::parse(invocation)?;
        let get = invocation.request_object_request();
        Ok((
            PresentationSession {
                invocation,
                state: State::AwaitingRequest,
            },
            get,
        ))
    }

    /// The invocation.
    pub fn invocation(&self) -> &Invocation {
        &self.invocation
    }

    /// Verifies the fetched request object (see [`verify_request`]) against `trust_list`
    /// at `now`, assesses the verifier ([`Registration::assess`]), evaluates the query
    /// against `wallet` and returns what the consent screen shows. With
    /// [`RegistrationPolicy::RefuseBeyond`], a verifier asking beyond its registration is
    /// [`Oid4vpError::BeyondRegistration`] (the session can still [`Self::decline`]).
    /// Errors: every refusal of [`verify_request`], [`Oid4vpError::NoMatch`].
    pub fn on_request_object(
        &mut self,
        response: &HttpResponse,
        trust_list: &VerifiedTrustList,
        wallet: &Wallet,
        policy: RegistrationPolicy,
        now: i64,
    ) -> Result<RequestView, Oid4vpError> {
        if !matches!(self.state, State::AwaitingRequest) {
            return Err(Oid4vpError::State("the request object was already read"));
        }
        let token = request_object_of(response)?;
        let request = verify_request(&token, &self.invocation, trust_list, now)?;
        let registration =
            Registration::assess(&request.client_id, &request.dcql_query, trust_list);
        let candidates = wallet_candidates(wallet);
        let only: Vec<Candidate> = candidates.iter().map(|(c, _)| c.clone()).collect();
        let answers = request.dcql_query.evaluate(&only);
        let refused = policy == RegistrationPolicy::RefuseBeyond
            && matches!(registration, Registration::Beyond { .. });
        let plan: Vec<(QueryAnswer, CandidateSource)> = answers
            .as_ref()
            .map(|answers| {
                answers
                    .iter()
                    .map(|a| (a.clone(), candidates[a.candidate].1.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let documents = plan
            .iter()
            .map(|(answer, source)| {
                let candidate = &candidates[answer.candidate].0;
                SharedDocument {
                    query_id: answer.query_id.clone(),
                    document_id: source.document().to_owned(),
                    vct: candidate.vct.clone(),
                    name: type_names(&candidate.vct),
                    purpose_credential: matches!(source, CandidateSource::Purpose { .. }),
                    optional: answer.optional,
                    claims: shared_claims(&candidate.vct, &answer.shown, &candidate.claims),
                }
            })
            .collect();
        let view = RequestView {
            client_id: request.client_id.clone(),
            verifier_name: registration.name().cloned(),
            registration: match registration {
                Registration::Within { .. } => "within",
                Registration::Beyond { .. } => "beyond",
                Registration::NotRegistered => "not_registered",
            },
            response_host: url::Url::parse(&request.response_uri)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_default(),
            documents,
            warnings: Warning::for_registration(&registration)
                .into_iter()
                .collect(),
            expires_at: request.expires_at,
        };
        let beyond_text = view
            .warnings
            .first()
            .map(|w| w.en.clone())
            .unwrap_or_default();
        self.state = State::Verified {
            request: Box::new(request),
            plan,
            refused,
        };
        if refused {
            return Err(Oid4vpError::BeyondRegistration(beyond_text));
        }
        answers?;
        Ok(view)
    }

    /// Builds the answer the holder consented to: one presentation per Credential Query
    /// answered (optional ones only with [`Consent::All`]), each with exactly the
    /// disclosures DCQL selected and a KB-JWT (`aud` = client id, `nonce` of the request,
    /// `iat` = `now`) signed by the credential's key from `keys`; purpose credentials used
    /// are marked shown in the vault first. Returns the POST to perform. The same as
    /// [`Self::prepare`], [`PreparedAnswer::present`] for each item, [`Self::finish`].
    /// Errors: [`Oid4vpError::State`] before a request was verified, after a policy
    /// refusal, or a second time; [`Oid4vpError::Expired`]; wallet, key and encryption
    /// errors.
    pub fn respond(
        &mut self,
        wallet: &mut Wallet,
        keys: &dyn HolderKeys,
        consent: Consent,
        now: i64,
    ) -> Result<HttpRequest, Oid4vpError> {
        let prepared = self.prepare(wallet, consent, now)?;
        let presentations = prepared
            .items()
            .iter()
            .enumerate()
            .map(|(index, item)| {
                let key = keys
                    .holder_key(&item.holder_key_alias)
                    .ok_or_else(|| WalletError::HolderKeyMissing(item.holder_key_alias.clone()))?;
                prepared.present(index, key)
            })
            .collect::<Result<Vec<_>, Oid4vpError>>()?;
        self.finish(wallet, &prepared, presentations)
    }

    /// The first half of [`Self::respond`], for a holder key whose signing waits (a
    /// biometric prompt): the credentials, disclosures and `iat` of each presentation, so
    /// the caller signs each with [`PreparedAnswer::present`] and then calls
    /// [`Self::finish`]. Errors as [`Self::respond`].
    pub fn prepare(
        &self,
        wallet: &Wallet,
        consent: Consent,
        now: i64,
    ) -> Result<PreparedAnswer, Oid4vpError> {
        let State::Verified {
            request,
            plan,
            refused,
        } = &self.state
        else {
            return Err(Oid4vpError::State("no verified request to answer"));
        };
        if *refused {
            return Err(Oid4vpError::State("the request was refused by policy"));
        }
        if plan.is_empty() {
            return Err(Oid4vpError::NoMatch("nothing to share".into()));
        }
        if now >= request.expires_at {
            return Err(Oid4vpError::Expired {
                expired_at: request.expires_at,
            });
        }
        let mut items = Vec::new();
        for (answer, source) in plan {
            if answer.optional && consent == Consent::Required {
                continue;
            }
            let stored = wallet.stored(source.document())?;
            let (credential, alias, purpose) = match source {
                CandidateSource::Full { .. } => (&stored.credential, &stored.holder_key_id, None),
                CandidateSource::Purpose { index, .. } => {
                    let purpose = stored
                        .purposes
                        .get(*index)
                        .ok_or_else(|| WalletError::NotFound(source.document().to_owned()))?;
                    (
                        &purpose.credential,
                        &purpose.holder_key_id,
                        Some((source.document().to_owned(), *index)),
                    )
                }
            };
            let sd_jwt = SdJwt::parse(credential.trim()).map_err(WalletError::Credential)?;
            let chosen = sd_jwt
                .select_paths(&answer.disclose)
                .map_err(WalletError::Presentation)?;
            items.push(PreparedItem {
                query_id: answer.query_id.clone(),
                holder_key_alias: alias.clone(),
                key_binding: answer.key_binding,
                sd_jwt,
                chosen,
                purpose,
            });
        }
        Ok(PreparedAnswer {
            items,
            aud: request.client_id.clone(),
            nonce: request.nonce.clone(),
            iat: now,
        })
    }

    /// The second half of [`Self::respond`]: `presentations` (one per prepared item, in
    /// order) are encrypted into the response; the purpose credentials used are marked
    /// shown in the vault; returns the POST to perform.
    pub fn finish(
        &mut self,
        wallet: &mut Wallet,
        prepared: &PreparedAnswer,
        presentations: Vec<String>,
    ) -> Result<HttpRequest, Oid4vpError> {
        let State::Verified { request, .. } = &self.state else {
            return Err(Oid4vpError::State("no verified request to answer"));
        };
        if presentations.len() != prepared.items.len() {
            return Err(Oid4vpError::State("one presentation per prepared item"));
        }
        let mut vp_token = Map::new();
        for (item, presentation) in prepared.items.iter().zip(presentations) {
            vp_token.insert(
                item.query_id.clone(),
                Value::Array(vec![Value::from(presentation)]),
            );
        }
        let jwe = encrypt_response(request, &vp_token)?;
        let post = post_form(request, &[("response", jwe.as_str())])?;
        for (document, index) in prepared.items.iter().filter_map(|i| i.purpose.as_ref()) {
            wallet.mark_purpose_shown(document, *index, prepared.iat)?;
        }
        self.state = State::Sent;
        Ok(post)
    }

    /// The POST telling the verifier the holder declined (`error=access_denied`,
    /// OpenID4VP 1.0 section 8.5, unencrypted as section 8.3.1 allows for errors).
    pub fn decline(&mut self) -> Result<HttpRequest, Oid4vpError> {
        let State::Verified { request, .. } = &self.state else {
            return Err(Oid4vpError::State("no verified request to decline"));
        };
        let mut fields = vec![("error", "access_denied")];
        if let Some(state) = &request.state {
            fields.push(("state", state.as_str()));
        }
        let post = post_form(request, &fields)?;
        self.state = State::Sent;
        Ok(post)
    }

    /// Reads the verifier's reply to the POST (see [`read_reply`]).
    pub fn on_response(&mut self, response: &HttpResponse) -> Result<ResponseOutcome, Oid4vpError> {
        if !matches!(self.state, State::Sent) {
            return Err(Oid4vpError::State("no response was sent"));
        }
        read_reply(response)
    }
}

/// One presentation to sign: which credential, which key, which disclosures.
#[derive(Debug)]
pub struct PreparedItem {
    /// The Credential Query it answers.
    pub query_id: String,
    /// The alias of the key that signs its KB-JWT.
    pub holder_key_alias: String,
    /// Whether it carries a KB-JWT (always, for a key-bound credential).
    pub key_binding: bool,
    sd_jwt: SdJwt,
    chosen: Vec<usize>,
    purpose: Option<(String, usize)>,
}

/// An answer ready to sign ([`PresentationSession::prepare`]).
#[derive(Debug)]
pub struct PreparedAnswer {
    items: Vec<PreparedItem>,
    aud: String,
    nonce: String,
    iat: i64,
}

impl PreparedAnswer {
    /// The presentations to sign, in order.
    pub fn items(&self) -> &[PreparedItem] {
        &self.items
    }

    /// Presentation `index`: the SD-JWT with its chosen disclosures and, for a key-bound
    /// credential, a KB-JWT signed by `signer` (`aud` = client id, the request's `nonce`,
    /// `iat` fixed by `prepare`, so signing twice signs the same bytes).
    pub fn present(
        &self,
        index: usize,
        signer: &dyn crate::jose::Signer,
    ) -> Result<String, Oid4vpError> {
        let item = self
            .items
            .get(index)
            .ok_or(Oid4vpError::State("no such prepared presentation"))?;
        if !item.key_binding {
            return Ok(item.sd_jwt.present_chosen(&item.chosen));
        }
        item.sd_jwt
            .present_chosen_with_key_binding(&item.chosen, &self.aud, &self.nonce, self.iat, signer)
            .map_err(|e| WalletError::Presentation(e).into())
    }
}
