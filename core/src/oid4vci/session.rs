//! The wallet side of the Pre-Authorized Code Flow as a sans-IO state machine: each step
//! takes the previous response and hands out the next request, checking everything the
//! spec asks the wallet to check, until the credential is ready for the vault.
//!
//! ```text
//! new(offer) ──GET issuer metadata──▶ on_issuer_metadata ──GET AS metadata──▶ on_as_metadata
//!   ├─ NeedsTxCode ─▶ with_tx_code ─┐
//!   └─ Request ─────────────────────┴─POST token─▶ on_token
//!        ├─ Some(POST nonce) ─▶ on_nonce ─┐
//!        └─ None ─────────────────────────┴─▶ build_credential_request ─POST─▶ on_credential
//!             ├─ Issued(credentials)
//!             ├─ Deferred { transaction_id } ─▶ deferred_credential_request ─▶ on_deferred_credential
//!             └─ RetryWithFreshNonce(POST nonce) ─▶ on_nonce ─▶ build_credential_request (once)
//! ```

use std::collections::HashMap;

use super::error::{Endpoint, IssuerErrorCode, Oid4vciError};
use super::http::{
    APPLICATION_FORM, APPLICATION_JSON, HttpRequest, HttpResponse, Method, read_json,
};
use super::messages::{
    AuthorizationDetail, CredentialRequest, CredentialResponse, DeferredCredentialRequest,
    IssuedCredential, NonceResponse, OPENID_CREDENTIAL, Proofs, REFRESH_TOKEN_GRANT, TokenRequest,
    TokenResponse,
};
use super::metadata::{
    AlgorithmIdentifier, AuthorizationServerMetadata, CredentialDisplay, CredentialIssuerMetadata,
};
use super::offer::{
    CredentialOffer, PRE_AUTHORIZED_CODE_GRANT, PreAuthorizedCodeGrant, TxCodeInputMode, TxCodeSpec,
};
use super::proof::{ProofClaims, build_proof_jwt};
use super::secret::SecretString;
use super::urls::{authorization_server_metadata_url, credential_issuer_metadata_url};
use crate::jose::jws::CompactJws;
use crate::jose::{Jwk, Signer};
use crate::sd_jwt::SdJwt;

/// The SD-JWT VC Credential Format identifier.
pub const FORMAT_SD_JWT_VC: &str = "dc+sd-jwt";

/// The nonce endpoint answers with "a 2xx status code" (OpenID4VCI §7.2): those with a body.
const NONCE_SUCCESS: [u16; 4] = [200, 201, 202, 203];

/// The longest Transaction Code accepted from the holder.
const MAX_TX_CODE_CHARS: usize = 256;

/// What follows the authorization server metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenStep {
    /// The offer asks for a Transaction Code: show this to the holder, then call
    /// [`IssuanceSession::with_tx_code`].
    NeedsTxCode(TxCodeSpec),
    /// Send this token request.
    Request(HttpRequest),
}

/// What a credential (or deferred credential) response led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialOutcome {
    /// Credentials issued now (one per key proof, possibly fewer).
    Issued(Vec<ReceivedCredential>),
    /// Issuance is deferred: ask [`IssuanceSession::deferred_credential_request`] after
    /// `interval` seconds.
    Deferred {
        /// The deferred transaction.
        transaction_id: String,
        /// Seconds to wait at least.
        interval: u64,
    },
    /// The issuer refused the nonce (`invalid_nonce`): send this nonce request, pass the
    /// answer to [`IssuanceSession::on_nonce`] and build the credential request again.
    /// Offered once per credential request.
    RetryWithFreshNonce(HttpRequest),
}

/// A credential obtained from an issuer, ready for the vault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedCredential {
    /// The Credential Format, e.g. `dc+sd-jwt`.
    pub format: String,
    /// The configuration it was issued under.
    pub credential_configuration_id: String,
    /// The SD-JWT VC type from the issuer metadata, if the format has one.
    pub vct: Option<String>,
    /// The credential as received: for `dc+sd-jwt` the SD-JWT VC string; a credential
    /// that is a JSON object (other formats) is kept as its JSON text.
    pub credential: String,
    /// The Credential Issuer identifier it came from.
    pub issuer: String,
    /// Display properties from the issuer metadata.
    pub display: Vec<CredentialDisplay>,
    /// The `notification_id`, if the issuer gave one.
    pub notification_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    IssuerMetadata,
    AuthorizationServerMetadata,
    TxCode,
    Token,
    Nonce,
    Ready,
    Credential,
    DeferredCredential,
}

/// One issuance through the Pre-Authorized Code Flow. It holds the pre-authorized code,
/// the Transaction Code and the access token; `Debug` shows none of them.
#[derive(Debug)]
pub struct IssuanceSession {
    offer: CredentialOffer,
    client_id: Option<String>,
    step: Step,
    issuer_metadata: Option<CredentialIssuerMetadata>,
    authorization_server: Option<String>,
    token_endpoint: Option<String>,
    tx_code: Option<SecretString>,
    access_token: Option<SecretString>,
    authorization_details: Vec<AuthorizationDetail>,
    c_nonce: Option<String>,
    selected: String,
    nonce_retried: bool,
    deferred: HashMap<String, String>,
    deferred_pending: Option<String>,
    /// The refresh token to come back with: given to [`IssuanceSession::resume`], or the
    /// latest one a token response carried (a rotated one replaces it).
    refresh_token: Option<SecretString>,
    /// RFC 7638 thumbprints of the keys proved in the last credential request; each
    /// credential received must be bound to one of them.
    holder_thumbprints: Vec<String>,
    requested: Option<String>,
}

impl IssuanceSession {
    /// Starts from a (validated) offer with a pre-authorized code grant; returns the
    /// session and the Credential Issuer metadata request.
    pub fn new(offer: CredentialOffer) -> Result<(IssuanceSession, HttpRequest), Oid4vciError> {
        offer.validate()?;
        if offer.grants.pre_authorized_code.is_none() {
            return Err(Oid4vciError::Unsupported(
                "offers without a pre-authorized code grant (authorization code flow)".into(),
            ));
        }
        IssuanceSession::start(offer, None)
    }

    /// A session at its first step (the issuer metadata request), for an offer or for a
    /// refresh token.
    fn start(
        offer: CredentialOffer,
        refresh_token: Option<SecretString>,
    ) -> Result<(IssuanceSession, HttpRequest), Oid4vciError> {
        let request = HttpRequest::get(credential_issuer_metadata_url(&offer.credential_issuer)?);
        let selected = offer
            .credential_configuration_ids
            .first()
            .cloned()
            .unwrap_or_default();
        let session = IssuanceSession {
            offer,
            client_id: None,
            step: Step::IssuerMetadata,
            issuer_metadata: None,
            authorization_server: None,
            token_endpoint: None,
            tx_code: None,
            access_token: None,
            authorization_details: Vec::new(),
            c_nonce: None,
            selected,
            nonce_retried: false,
            deferred: HashMap::new(),
            deferred_pending: None,
            holder_thumbprints: Vec::new(),
            requested: None,
            refresh_token,
        };
        Ok((session, request))
    }

    /// Comes back to an issuer with a refresh token (RFC 6749 section 6) from an earlier
    /// session, for more credentials of `configuration_ids` (OpenID4VCI 1.0 section 6.3:
    /// refresh tokens let a wallet obtain credentials again without the holder). Returns the
    /// session and the Credential Issuer metadata request; the flow then goes on as for an
    /// offer, the Authorization Server metadata answer giving the refresh token request.
    ///
    /// Errors: [`Oid4vciError::Unsupported`] for an empty configuration list, and the URL
    /// errors of an insecure or malformed issuer identifier.
    pub fn resume(
        credential_issuer: &str,
        configuration_ids: Vec<String>,
        refresh_token: SecretString,
    ) -> Result<(IssuanceSession, HttpRequest), Oid4vciError> {
        if configuration_ids.is_empty() {
            return Err(Oid4vciError::Unsupported(
                "a refresh for no credential configuration".into(),
            ));
        }
        let offer = CredentialOffer {
            credential_issuer: credential_issuer.to_owned(),
            credential_configuration_ids: configuration_ids,
            grants: Default::default(),
        };
        IssuanceSession::start(offer, Some(refresh_token))
    }

    /// The refresh token to keep for [`IssuanceSession::resume`]: the latest the issuer
    /// gave (a secret: store it like a key).
    pub fn refresh_token(&self) -> Option<&SecretString> {
        self.refresh_token.as_ref()
    }

    /// Identifies the wallet with a `client_id` in the token request and as `iss` of key
    /// proofs. Without it the wallet uses anonymous pre-authorized access, as the spec
    /// allows, and omits `iss`. Call before the token request.
    pub fn set_client_id(&mut self, client_id: impl Into<String>) {
        self.client_id = Some(client_id.into());
    }

    /// The offer this session works on.
    pub fn offer(&self) -> &CredentialOffer {
        &self.offer
    }

    /// The issuer metadata, once received and checked.
    pub fn issuer_metadata(&self) -> Option<&CredentialIssuerMetadata> {
        self.issuer_metadata.as_ref()
    }

    /// The Transaction Code description, when the offer requires one.
    pub fn tx_code_spec(&self) -> Option<&TxCodeSpec> {
        self.grant().and_then(|g| g.tx_code.as_ref())
    }

    /// The configuration the next credential request asks for (the first offered one
    /// unless [`IssuanceSession::select_configuration`] chose another).
    pub fn selected_configuration(&self) -> &str {
        &self.selected
    }

    /// Chooses which offered configuration the next credential request asks for.
    pub fn select_configuration(&mut self, id: &str) -> Result<(), Oid4vciError> {
        if !self
            .offer
            .credential_configuration_ids
            .iter()
            .any(|c| c == id)
        {
            return Err(Oid4vciError::UnknownConfiguration(
                id.chars().take(120).collect(),
            ));
        }
        self.selected = id.to_owned();
        Ok(())
    }

    fn grant(&self) -> Option<&PreAuthorizedCodeGrant> {
        self.offer.grants.pre_authorized_code.as_ref()
    }

    fn expect(&self, steps: &[Step], what: &'static str) -> Result<(), Oid4vciError> {
        if steps.contains(&self.step) {
            Ok(())
        } else {
            Err(Oid4vciError::OutOfOrder(what))
        }
    }

    fn metadata(&self) -> Result<&CredentialIssuerMetadata, Oid4vciError> {
        self.issuer_metadata
            .as_ref()
            .ok_or(Oid4vciError::OutOfOrder("no issuer metadata yet"))
    }

    /// Reads the Credential Issuer metadata: same `credential_issuer` as the offer, every
    /// offered configuration published, secure endpoints. Returns the Authorization Server
    /// metadata request (of the offer's `authorization_server`, which must be listed, else
    /// of the first of `authorization_servers`, else of the issuer itself).
    pub fn on_issuer_metadata(
        &mut self,
        response: &HttpResponse,
    ) -> Result<HttpRequest, Oid4vciError> {
        self.expect(&[Step::IssuerMetadata], "issuer metadata not expected now")?;
        let metadata: CredentialIssuerMetadata =
            read_json(response, Endpoint::IssuerMetadata, &[200])?;
        metadata.validate(&self.offer.credential_issuer)?;
        for id in &self.offer.credential_configuration_ids {
            metadata.configuration(id)?;
        }
        let hint = self.grant().and_then(|g| g.authorization_server.clone());
        let server = match (&metadata.authorization_servers, hint) {
            (Some(servers), Some(hint)) => {
                if !servers.contains(&hint) {
                    return Err(Oid4vciError::InvalidOffer(
                        "authorization_server is not one of the issuer's authorization_servers"
                            .into(),
                    ));
                }
                hint
            }
            (Some(servers), None) => {
                servers
                    .first()
                    .cloned()
                    .ok_or_else(|| Oid4vciError::InvalidMetadata {
                        endpoint: Endpoint::IssuerMetadata,
                        reason: "authorization_servers is empty".into(),
                    })?
            }
            (None, Some(_)) => {
                return Err(Oid4vciError::InvalidOffer(
                    "authorization_server given but the issuer lists no authorization_servers"
                        .into(),
                ));
            }
            (None, None) => metadata.credential_issuer.clone(),
        };
        let request = HttpRequest::get(authorization_server_metadata_url(&server)?);
        self.authorization_server = Some(server);
        self.issuer_metadata = Some(metadata);
        self.step = Step::AuthorizationServerMetadata;
        Ok(request)
    }

    /// Reads the Authorization Server metadata (same `issuer`, a secure token endpoint,
    /// the pre-authorized grant supported). Returns the token request, or asks for the
    /// Transaction Code first.
    pub fn on_as_metadata(&mut self, response: &HttpResponse) -> Result<TokenStep, Oid4vciError> {
        self.expect(
            &[Step::AuthorizationServerMetadata],
            "authorization server metadata not expected now",
        )?;
        let expected = self
            .authorization_server
            .clone()
            .ok_or(Oid4vciError::OutOfOrder("no authorization server chosen"))?;
        let metadata: AuthorizationServerMetadata =
            read_json(response, Endpoint::AuthorizationServerMetadata, &[200])?;
        let grant = if self.grant().is_none() && self.refresh_token.is_some() {
            REFRESH_TOKEN_GRANT
        } else {
            PRE_AUTHORIZED_CODE_GRANT
        };
        self.token_endpoint = Some(metadata.validate_for(&expected, grant)?.to_owned());
        if let Some(spec) = self.tx_code_spec().cloned() {
            self.step = Step::TxCode;
            return Ok(TokenStep::NeedsTxCode(spec));
        }
        self.step = Step::Token;
        Ok(TokenStep::Request(self.token_request()?))
    }

    /// Takes the Transaction Code the holder typed (checked against the offer's
    /// `input_mode` and `length`) and returns the token request. After an `invalid_grant`
    /// token error it may be called again with a corrected code.
    pub fn with_tx_code(&mut self, tx_code: &str) -> Result<HttpRequest, Oid4vciError> {
        self.expect(
            &[Step::TxCode, Step::Token],
            "transaction code not expected now",
        )?;
        let spec = self.tx_code_spec().ok_or(Oid4vciError::OutOfOrder(
            "the offer asks for no transaction code",
        ))?;
        check_tx_code(spec, tx_code)?;
        self.tx_code = Some(SecretString::new(tx_code));
        self.step = Step::Token;
        self.token_request()
    }

    fn token_request(&self) -> Result<HttpRequest, Oid4vciError> {
        let body = match (self.grant(), &self.refresh_token) {
            (Some(grant), _) => {
                let tx_code = match (&grant.tx_code, &self.tx_code) {
                    (Some(_), None) => return Err(Oid4vciError::TxCodeRequired),
                    (Some(_), Some(code)) => Some(code.clone()),
                    (None, _) => None,
                };
                TokenRequest::pre_authorized(
                    grant.pre_authorized_code.clone(),
                    tx_code,
                    self.client_id.clone(),
                )
            }
            (None, Some(refresh_token)) => {
                TokenRequest::refresh(refresh_token.clone(), self.client_id.clone())
            }
            (None, None) => return Err(Oid4vciError::OutOfOrder("no pre-authorized code")),
        }
        .to_form()?;
        let url = self
            .token_endpoint
            .clone()
            .ok_or(Oid4vciError::OutOfOrder("no token endpoint yet"))?;
        Ok(HttpRequest {
            method: Method::Post,
            url,
            headers: vec![
                ("Content-Type".into(), APPLICATION_FORM.into()),
                ("Accept".into(), APPLICATION_JSON.into()),
            ],
            body: Some(body.into_bytes()),
        })
    }

    /// Reads the token response (a `Bearer` token; `DPoP` tokens are not supported).
    /// Returns the nonce request when the issuer has a Nonce Endpoint, else `None`: the
    /// credential request can be built.
    pub fn on_token(
        &mut self,
        response: &HttpResponse,
    ) -> Result<Option<HttpRequest>, Oid4vciError> {
        self.expect(&[Step::Token], "token response not expected now")?;
        let token: TokenResponse = read_json(response, Endpoint::Token, &[200])?;
        if token.token_type.eq_ignore_ascii_case("dpop") {
            return Err(Oid4vciError::Unsupported("DPoP-bound access tokens".into()));
        }
        if !token.token_type.eq_ignore_ascii_case("bearer") {
            return Err(Oid4vciError::InvalidResponse {
                endpoint: Endpoint::Token,
                reason: "token_type is neither Bearer nor DPoP".into(),
            });
        }
        if token.access_token.expose().is_empty() {
            return Err(Oid4vciError::InvalidResponse {
                endpoint: Endpoint::Token,
                reason: "empty access_token".into(),
            });
        }
        self.access_token = Some(token.access_token.clone());
        if let Some(refresh_token) = token.refresh_token.clone() {
            self.refresh_token = Some(refresh_token);
        }
        self.authorization_details = token
            .authorization_details
            .clone()
            .unwrap_or_default()
            .into_iter()
            .filter(|d| d.type_ == OPENID_CREDENTIAL)
            .collect();
        self.tx_code = None;
        match self.nonce_request()? {
            Some(request) => {
                self.step = Step::Nonce;
                Ok(Some(request))
            }
            None => {
                self.step = Step::Ready;
                Ok(None)
            }
        }
    }

    fn nonce_request(&self) -> Result<Option<HttpRequest>, Oid4vciError> {
        Ok(self
            .metadata()?
            .nonce_endpoint
            .as_ref()
            .map(|url| HttpRequest {
                method: Method::Post,
                url: url.clone(),
                headers: vec![("Accept".into(), APPLICATION_JSON.into())],
                body: None,
            }))
    }

    /// Reads a nonce response and keeps its `c_nonce` for the next key proof.
    pub fn on_nonce(&mut self, response: &HttpResponse) -> Result<(), Oid4vciError> {
        self.expect(&[Step::Nonce], "nonce response not expected now")?;
        let nonce: NonceResponse = read_json(response, Endpoint::Nonce, &NONCE_SUCCESS)?;
        if nonce.c_nonce.is_empty() {
            return Err(Oid4vciError::InvalidResponse {
                endpoint: Endpoint::Nonce,
                reason: "empty c_nonce".into(),
            });
        }
        self.c_nonce = Some(nonce.c_nonce);
        self.step = Step::Ready;
        Ok(())
    }

    /// Builds the credential request for the selected configuration, with a `jwt` key
    /// proof signed by the holder key when the issuer asks for proofs (`aud` = issuer,
    /// `iat` = `now` in Unix seconds, `nonce` = the `c_nonce`, the key in the `jwk` header).
    pub fn build_credential_request(
        &mut self,
        signer: &dyn Signer,
        now: u64,
    ) -> Result<HttpRequest, Oid4vciError> {
        self.build_batch_credential_request(&[signer], now)
    }

    /// Builds the credential request for the selected configuration with one `jwt` key
    /// proof per signer, all with the same `c_nonce` (OpenID4VCI 1.0 section 8.2,
    /// `proofs`): the issuer answers with one credential per proved key. More than one
    /// signer needs the issuer's `batch_credential_issuance` and at most its `batch_size`
    /// (section 12.2.4); the keys must differ.
    ///
    /// Errors: [`Oid4vciError::Unsupported`] for a batch the issuer does not take, and the
    /// errors of [`IssuanceSession::build_credential_request`].
    pub fn build_batch_credential_request(
        &mut self,
        signers: &[&dyn Signer],
        now: u64,
    ) -> Result<HttpRequest, Oid4vciError> {
        self.expect(&[Step::Ready], "credential request not possible now")?;
        let metadata = self.metadata()?;
        let configuration = metadata.configuration(&self.selected)?;
        if signers.is_empty() {
            return Err(Oid4vciError::Unsupported(
                "a credential request needs a holder key".into(),
            ));
        }
        if signers.len() > 1 {
            let batch_size = metadata
                .batch_credential_issuance
                .as_ref()
                .map_or(1, |b| usize::try_from(b.batch_size).unwrap_or(usize::MAX));
            if signers.len() > batch_size {
                return Err(Oid4vciError::Unsupported(format!(
                    "a batch of {} keys (the issuer takes at most {batch_size})",
                    signers.len()
                )));
            }
        }
        let mut holder_thumbprints = Vec::new();
        let proofs = match &configuration.proof_types_supported {
            None => None,
            Some(types) => {
                let jwt = types.get("jwt").ok_or_else(|| {
                    Oid4vciError::Unsupported(format!(
                        "proof types {:?} (only jwt is supported)",
                        types.keys().collect::<Vec<_>>()
                    ))
                })?;
                if let Some(methods) = &configuration.cryptographic_binding_methods_supported
                    && !methods.iter().any(|m| m == "jwk" || m == "cose_key")
                {
                    return Err(Oid4vciError::Unsupported(
                        "key binding methods other than jwk and cose_key".into(),
                    ));
                }
                if metadata.nonce_endpoint.is_some() && self.c_nonce.is_none() {
                    return Err(Oid4vciError::OutOfOrder("no c_nonce fetched yet"));
                }
                let claims = ProofClaims {
                    iss: self.client_id.clone(),
                    aud: metadata.credential_issuer.clone(),
                    iat: now,
                    nonce: self.c_nonce.clone(),
                };
                let mut jwts = Vec::with_capacity(signers.len());
                for signer in signers {
                    let alg = signer.algorithm().name();
                    if !jwt
                        .proof_signing_alg_values_supported
                        .iter()
                        .any(|a| matches!(a, AlgorithmIdentifier::Name(name) if name == alg))
                    {
                        return Err(Oid4vciError::Unsupported(format!(
                            "the issuer does not accept {alg} key proofs"
                        )));
                    }
                    let thumbprint = signer.public_jwk()?.thumbprint()?;
                    if holder_thumbprints.contains(&thumbprint) {
                        return Err(Oid4vciError::Unsupported(
                            "the same key twice in one batch".into(),
                        ));
                    }
                    holder_thumbprints.push(thumbprint);
                    jwts.push(build_proof_jwt(*signer, &claims)?);
                }
                Some(Proofs {
                    jwt: Some(jwts),
                    other: serde_json::Map::new(),
                })
            }
        };
        let identifier = self
            .authorization_details
            .iter()
            .find(|d| d.credential_configuration_id.as_deref() == Some(self.selected.as_str()))
            .and_then(|d| d.credential_identifiers.as_ref())
            .and_then(|ids| ids.first())
            .cloned();
        let body = CredentialRequest {
            credential_configuration_id: identifier.is_none().then(|| self.selected.clone()),
            credential_identifier: identifier,
            proofs,
            credential_response_encryption: None,
        };
        let request = self.authorized_post(metadata.credential_endpoint.clone(), &body)?;
        self.holder_thumbprints = holder_thumbprints;
        self.requested = Some(self.selected.clone());
        self.step = Step::Credential;
        Ok(request)
    }

    /// Moves on to another offered configuration with the same access token, after a
    /// credential was received: selects `id` and returns the nonce request for its fresh
    /// `c_nonce` (pass the answer to [`IssuanceSession::on_nonce`]), or `None` when the
    /// issuer has no nonce endpoint and the request can be built at once.
    pub fn next_configuration(&mut self, id: &str) -> Result<Option<HttpRequest>, Oid4vciError> {
        self.expect(&[Step::Ready], "another configuration not possible now")?;
        self.select_configuration(id)?;
        self.c_nonce = None;
        self.nonce_retried = false;
        let request = self.nonce_request()?;
        if request.is_some() {
            self.step = Step::Nonce;
        }
        Ok(request)
    }

    fn authorized_post(
        &self,
        url: String,
        body: &impl serde::Serialize,
    ) -> Result<HttpRequest, Oid4vciError> {
        let token = self
            .access_token
            .as_ref()
            .ok_or(Oid4vciError::OutOfOrder("no access token yet"))?;
        let body = serde_json::to_vec(body)
            .map_err(|e| Oid4vciError::Unsupported(format!("JSON encoding: {e}")))?;
        Ok(HttpRequest {
            method: Method::Post,
            url,
            headers: vec![
                ("Content-Type".into(), APPLICATION_JSON.into()),
                ("Accept".into(), APPLICATION_JSON.into()),
                ("Authorization".into(), format!("Bearer {}", token.expose())),
            ],
            body: Some(body),
        })
    }

    /// Reads the credential response: 200 with `credentials`, 202 with `transaction_id`,
    /// or an error; `invalid_nonce` leads once to a fresh nonce and a new attempt.
    pub fn on_credential(
        &mut self,
        response: &HttpResponse,
    ) -> Result<CredentialOutcome, Oid4vciError> {
        self.expect(&[Step::Credential], "credential response not expected now")?;
        self.step = Step::Ready;
        let body: CredentialResponse = match read_json(response, Endpoint::Credential, &[200, 202])
        {
            Ok(body) => body,
            Err(Oid4vciError::Issuer {
                error: IssuerErrorCode::InvalidNonce,
                endpoint,
                description,
            }) => {
                return match (self.nonce_retried, self.nonce_request()?) {
                    (false, Some(request)) => {
                        self.nonce_retried = true;
                        self.c_nonce = None;
                        self.step = Step::Nonce;
                        Ok(CredentialOutcome::RetryWithFreshNonce(request))
                    }
                    _ => Err(Oid4vciError::Issuer {
                        endpoint,
                        error: IssuerErrorCode::InvalidNonce,
                        description,
                    }),
                };
            }
            Err(other) => return Err(other),
        };
        self.nonce_retried = false;
        let configuration_id = self
            .requested
            .clone()
            .ok_or(Oid4vciError::OutOfOrder("no credential request sent"))?;
        self.outcome(
            response.status,
            body,
            Endpoint::Credential,
            &configuration_id,
        )
    }

    /// The deferred credential request for a transaction from
    /// [`CredentialOutcome::Deferred`].
    pub fn deferred_credential_request(
        &mut self,
        transaction_id: &str,
    ) -> Result<HttpRequest, Oid4vciError> {
        self.expect(
            &[Step::Ready],
            "deferred credential request not possible now",
        )?;
        if !self.deferred.contains_key(transaction_id) {
            return Err(Oid4vciError::OutOfOrder("unknown transaction_id"));
        }
        let url = self
            .metadata()?
            .deferred_credential_endpoint
            .clone()
            .ok_or_else(|| Oid4vciError::InvalidMetadata {
                endpoint: Endpoint::IssuerMetadata,
                reason: "deferred issuance without a deferred_credential_endpoint".into(),
            })?;
        let request = self.authorized_post(
            url,
            &DeferredCredentialRequest {
                transaction_id: transaction_id.to_owned(),
            },
        )?;
        self.deferred_pending = Some(transaction_id.to_owned());
        self.step = Step::DeferredCredential;
        Ok(request)
    }

    /// Reads a deferred credential response: 200 with `credentials`, or 202 to wait more.
    pub fn on_deferred_credential(
        &mut self,
        response: &HttpResponse,
    ) -> Result<CredentialOutcome, Oid4vciError> {
        self.expect(
            &[Step::DeferredCredential],
            "deferred credential response not expected now",
        )?;
        self.step = Step::Ready;
        let transaction_id = self
            .deferred_pending
            .take()
            .ok_or(Oid4vciError::OutOfOrder("no deferred request pending"))?;
        let configuration_id = self
            .deferred
            .get(&transaction_id)
            .cloned()
            .ok_or(Oid4vciError::OutOfOrder("unknown transaction_id"))?;
        let body: CredentialResponse =
            read_json(response, Endpoint::DeferredCredential, &[200, 202])?;
        if response.status == 202 && body.transaction_id.as_deref() != Some(&transaction_id) {
            return Err(Oid4vciError::InvalidResponse {
                endpoint: Endpoint::DeferredCredential,
                reason: "transaction_id differs from the request's".into(),
            });
        }
        let outcome = self.outcome(
            response.status,
            body,
            Endpoint::DeferredCredential,
            &configuration_id,
        )?;
        if matches!(outcome, CredentialOutcome::Issued(_)) {
            self.deferred.remove(&transaction_id);
        }
        Ok(outcome)
    }

    fn outcome(
        &mut self,
        status: u16,
        body: CredentialResponse,
        endpoint: Endpoint,
        configuration_id: &str,
    ) -> Result<CredentialOutcome, Oid4vciError> {
        let invalid = |reason: &str| Oid4vciError::InvalidResponse {
            endpoint,
            reason: reason.to_owned(),
        };
        match (status, body.credentials, body.transaction_id) {
            (200, Some(credentials), None) => {
                if credentials.is_empty() {
                    return Err(invalid("credentials is empty"));
                }
                let received = credentials
                    .into_iter()
                    .map(|issued| {
                        self.received(issued, configuration_id, body.notification_id.clone())
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(&invalid)?;
                Ok(CredentialOutcome::Issued(received))
            }
            (202, None, Some(transaction_id)) => {
                if transaction_id.is_empty() {
                    return Err(invalid("empty transaction_id"));
                }
                let interval = body
                    .interval
                    .filter(|i| *i > 0)
                    .ok_or_else(|| invalid("deferred response without a positive interval"))?;
                self.deferred
                    .insert(transaction_id.clone(), configuration_id.to_owned());
                Ok(CredentialOutcome::Deferred {
                    transaction_id,
                    interval,
                })
            }
            (200, _, _) => Err(invalid(
                "status 200 needs credentials and no transaction_id",
            )),
            _ => Err(invalid(
                "status 202 needs transaction_id and no credentials",
            )),
        }
    }

    fn received(
        &self,
        issued: IssuedCredential,
        configuration_id: &str,
        notification_id: Option<String>,
    ) -> Result<ReceivedCredential, &'static str> {
        let metadata = self.metadata().map_err(|_| "no issuer metadata")?;
        let configuration = metadata
            .configuration(configuration_id)
            .map_err(|_| "unknown configuration")?;
        let credential = match issued.credential {
            serde_json::Value::String(text) if !text.is_empty() => text,
            serde_json::Value::Object(_) if configuration.format != FORMAT_SD_JWT_VC => {
                issued.credential.to_string()
            }
            _ if configuration.format == FORMAT_SD_JWT_VC => {
                return Err("a dc+sd-jwt credential must be a non-empty string");
            }
            _ => return Err("credential must be a non-empty string or an object"),
        };
        if configuration.format == FORMAT_SD_JWT_VC {
            let proved = (!self.holder_thumbprints.is_empty()).then_some(&self.holder_thumbprints);
            check_sd_jwt_vc(&credential, configuration.vct.as_deref(), proved)?;
        }
        Ok(ReceivedCredential {
            format: configuration.format.clone(),
            credential_configuration_id: configuration_id.to_owned(),
            vct: configuration.vct.clone(),
            credential,
            issuer: metadata.credential_issuer.clone(),
            display: configuration.display_entries().to_vec(),
            notification_id,
        })
    }
}

/// Checks what the wallet can check of an SD-JWT VC before storing it: it is an SD-JWT,
/// its `vct` is the configuration's, and it is bound (`cnf.jwk`) to one of the keys whose
/// possession the request proved (`proved`, RFC 7638 thumbprints). The issuer signature is
/// checked against the trust list by the verifier, not here.
fn check_sd_jwt_vc(
    credential: &str,
    vct: Option<&str>,
    proved: Option<&Vec<String>>,
) -> Result<(), &'static str> {
    let sd_jwt =
        SdJwt::parse(credential).map_err(|_| "the dc+sd-jwt credential is not an SD-JWT")?;
    let jws = CompactJws::parse(sd_jwt.issuer_jwt())
        .map_err(|_| "the issuer-signed JWT of the SD-JWT is not a valid JWS")?;
    let payload: serde_json::Map<String, serde_json::Value> = jws
        .payload_json()
        .map_err(|_| "the issuer-signed JWT payload is not a JSON object")?;
    if let Some(expected) = vct
        && payload.get("vct").and_then(serde_json::Value::as_str) != Some(expected)
    {
        return Err("the credential's vct differs from the issuer metadata");
    }
    if let Some(proved) = proved {
        let jwk = payload
            .get("cnf")
            .and_then(|cnf| cnf.get("jwk"))
            .ok_or("the credential has no cnf.jwk though a key proof was sent")?;
        let jwk: Jwk = serde_json::from_value(jwk.clone())
            .map_err(|_| "the credential's cnf.jwk is not a JWK")?;
        let thumbprint = jwk.thumbprint().ok();
        if !proved.iter().any(|t| Some(t) == thumbprint.as_ref()) {
            return Err("the credential is bound to another key than the holder's");
        }
    }
    Ok(())
}

/// Checks a typed Transaction Code against the offer's description, never echoing it.
pub(crate) fn check_tx_code(spec: &TxCodeSpec, code: &str) -> Result<(), Oid4vciError> {
    let length = code.chars().count();
    if length == 0 {
        return Err(Oid4vciError::InvalidTxCode("empty"));
    }
    if length > MAX_TX_CODE_CHARS {
        return Err(Oid4vciError::InvalidTxCode("too long"));
    }
    if spec.input_mode() == TxCodeInputMode::Numeric && !code.chars().all(|c| c.is_ascii_digit()) {
        return Err(Oid4vciError::InvalidTxCode("digits only"));
    }
    if let Some(expected) = spec.length
        && usize::try_from(expected).ok() != Some(length)
    {
        return Err(Oid4vciError::InvalidTxCode("wrong length"));
    }
    Ok(())
}
