//! Online presentation (OpenID4VP 1.0, HAIP 1.0) for the app: [`Wallet::inspect_request`]
//! reads a verifier's QR or link and returns what the consent screen must show (who asks:
//! registered names or not registered, where the answer goes, each document and claim with
//! labels, warnings); [`Wallet::respond`] answers with the holder's choice. Both async and
//! cancellable like `receive`; the holder keys sign through the app's `KeyStore`.

use std::sync::{Arc, Mutex};

use giayto_core::oid4vp::{
    Consent, Oid4vpError, PresentationSession, RegistrationPolicy, RequestView,
};
use giayto_core::verifier::VerifierDevice;

use crate::http;
use crate::keys::HolderKey;
use crate::result::{LabelledClaim, display_value};
use crate::wallet::{Wallet, lock};
use crate::{GiaytoError, unix_now};

/// A document the answer would share.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct SharedDocument {
    /// The verifier's Credential Query it answers.
    pub query_id: String,
    /// The wallet id of the document.
    pub document_id: String,
    /// The credential type (`vct`).
    pub vct: String,
    /// Vietnamese name of the type (with the purpose, for a purpose credential).
    pub name_vi: Option<String>,
    /// English name of the type.
    pub name_en: Option<String>,
    /// Whether a one-time purpose credential answers (unlinkable).
    pub purpose_credential: bool,
    /// Whether it answers only an optional part of the request (shared with `ShareAll`).
    pub optional: bool,
    /// Every claim it shows, labelled, in catalogue order.
    pub claims: Vec<LabelledClaim>,
}

/// Personal data: `Debug` shows only the ids.
impl std::fmt::Debug for SharedDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedDocument")
            .field("query_id", &self.query_id)
            .field("document_id", &self.document_id)
            .finish_non_exhaustive()
    }
}

/// A warning the consent screen must show.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PresentationWarning {
    /// `not_registered` or `beyond_registration`.
    pub code: String,
    /// In Vietnamese.
    pub message_vi: String,
    /// In English.
    pub message_en: String,
}

/// Who asks and what would be shared: everything the consent screen shows.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PresentationRequestInfo {
    /// The verifier's client id (`x509_hash:…`).
    pub client_id: String,
    /// Its registered Vietnamese name; `None` when it is not registered.
    pub verifier_name_vi: Option<String>,
    /// Its registered English name; `None` when it is not registered.
    pub verifier_name_en: Option<String>,
    /// `within`, `beyond` (asks more than it is registered for) or `not_registered`.
    pub registration: String,
    /// The host the answer goes to.
    pub response_host: String,
    /// The documents that would be shared.
    pub documents: Vec<SharedDocument>,
    /// The warnings to show.
    pub warnings: Vec<PresentationWarning>,
    /// When the request expires, Unix seconds.
    pub expires_at: i64,
}

impl From<&RequestView> for PresentationRequestInfo {
    fn from(view: &RequestView) -> Self {
        PresentationRequestInfo {
            client_id: view.client_id.clone(),
            verifier_name_vi: view.verifier_name.as_ref().map(|n| n.vi.clone()),
            verifier_name_en: view.verifier_name.as_ref().map(|n| n.en.clone()),
            registration: view.registration.to_owned(),
            response_host: view.response_host.clone(),
            documents: view
                .documents
                .iter()
                .map(|d| SharedDocument {
                    query_id: d.query_id.clone(),
                    document_id: d.document_id.clone(),
                    vct: d.vct.clone(),
                    name_vi: d.name.as_ref().map(|n| n.vi.to_string()),
                    name_en: d.name.as_ref().map(|n| n.en.to_string()),
                    purpose_credential: d.purpose_credential,
                    optional: d.optional,
                    claims: d
                        .claims
                        .iter()
                        .map(|c| LabelledClaim {
                            path: c.path.clone(),
                            label_vi: c.label.as_ref().map(|l| l.vi.to_string()),
                            label_en: c.label.as_ref().map(|l| l.en.to_string()),
                            value: display_value(&c.path, &c.value),
                            value_json: c.value.to_string(),
                        })
                        .collect(),
                })
                .collect(),
            warnings: view
                .warnings
                .iter()
                .map(|w| PresentationWarning {
                    code: w.code.to_owned(),
                    message_vi: w.vi.clone(),
                    message_en: w.en.clone(),
                })
                .collect(),
            expires_at: view.expires_at,
        }
    }
}

/// The holder's answer on the consent screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PresentationConsent {
    /// Share what the request requires.
    ShareRequired,
    /// Share everything shown, optional parts included.
    ShareAll,
    /// Share nothing; the verifier is told the holder declined.
    Decline,
}

/// What happened after `respond`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PresentationOutcome {
    /// Whether anything was shared.
    pub shared: bool,
    /// Where the verifier asks the app to continue (same-device flow: open it).
    pub redirect_uri: Option<String>,
}

/// A verified request waiting for the holder's answer; answered at most once.
#[derive(uniffi::Object)]
pub struct PresentationRequest {
    session: Mutex<Option<PresentationSession>>,
    info: PresentationRequestInfo,
}

impl std::fmt::Debug for PresentationRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresentationRequest")
            .field("client_id", &self.info.client_id)
            .finish_non_exhaustive()
    }
}

#[uniffi::export]
impl PresentationRequest {
    /// What the consent screen shows.
    pub fn info(&self) -> PresentationRequestInfo {
        self.info.clone()
    }
}

impl PresentationRequest {
    fn take(&self) -> Result<PresentationSession, GiaytoError> {
        self.session
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
            .ok_or_else(|| GiaytoError::invalid("this request was already answered"))
    }
}

#[uniffi::export]
impl Wallet {
    /// Reads a verifier's request (`openid4vp://` or `haip-vp://`, the scanned QR text or
    /// link), fetches its signed request object through the app's `HttpClient`, verifies it
    /// against the trust list (`trust_list_token`, signed by `trust_anchor`: a JWK or JWKS
    /// as JSON, as `Verifier` takes it), and evaluates it against the stored documents.
    /// With `strict`, a verifier asking beyond its registration is refused (and told so);
    /// otherwise the returned info carries the warning.
    ///
    /// Async: waits for the network. Cancelling it leaves nothing behind.
    pub async fn inspect_request(
        &self,
        request_uri: String,
        trust_list_token: String,
        trust_anchor: String,
        strict: bool,
    ) -> Result<Arc<PresentationRequest>, GiaytoError> {
        let now = unix_now();
        let mut device =
            VerifierDevice::new(VerifierDevice::parse_anchors(&trust_anchor)?, "wallet")?;
        device.load_trust_list(&trust_list_token, now)?;
        let trust_list = device
            .trust_list()
            .cloned()
            .ok_or_else(|| GiaytoError::invalid("no trust list"))?;
        let (mut session, get) = PresentationSession::start(&request_uri)?;
        let response = http::send(self.http.as_ref(), get).await?;
        let policy = if strict {
            RegistrationPolicy::RefuseBeyond
        } else {
            RegistrationPolicy::Warn
        };
        let view = {
            let wallet = lock(&self.inner);
            session.on_request_object(&response, &trust_list, &wallet, policy, now)
        };
        let view = match view {
            Ok(view) => view,
            Err(error @ Oid4vpError::BeyondRegistration(_)) => {
                if let Ok(decline) = session.decline() {
                    // The refusal stands whether or not the verifier hears it.
                    let _ = http::send(self.http.as_ref(), decline).await;
                }
                return Err(error.into());
            }
            Err(error) => return Err(error.into()),
        };
        Ok(Arc::new(PresentationRequest {
            info: (&view).into(),
            session: Mutex::new(Some(session)),
        }))
    }

    /// Answers `request` as the holder chose: shares (each presentation's key-binding JWT
    /// signed by the document's key through the app's `KeyStore`, which may ask for the
    /// holder's fingerprint), or declines. Returns whether it shared and the verifier's
    /// `redirect_uri`, if any.
    ///
    /// Async: waits for each signature and the network. Cancelling it before the answer is
    /// posted shares nothing (a purpose credential already signed for is then marked used,
    /// never shown twice); a request is answered at most once.
    pub async fn respond(
        &self,
        request: Arc<PresentationRequest>,
        consent: PresentationConsent,
    ) -> Result<PresentationOutcome, GiaytoError> {
        let mut session = request.take()?;
        let consent = match consent {
            PresentationConsent::Decline => {
                let decline = session.decline()?;
                let reply = http::send(self.http.as_ref(), decline).await?;
                let _ = session.on_response(&reply);
                return Ok(PresentationOutcome {
                    shared: false,
                    redirect_uri: None,
                });
            }
            PresentationConsent::ShareRequired => Consent::Required,
            PresentationConsent::ShareAll => Consent::All,
        };
        let prepared = session.prepare(&lock(&self.inner), consent, unix_now())?;
        let mut presentations = Vec::with_capacity(prepared.items().len());
        for (index, item) in prepared.items().iter().enumerate() {
            let holder = HolderKey::new(self.keys.get_key(item.holder_key_alias.clone())?)?;
            presentations.push(holder.run(|signer| prepared.present(index, signer)).await?);
        }
        // The vault is written (purpose credentials marked used) on a worker thread.
        let wallet = self.inner.clone();
        let (post, mut session) = blocking::unblock(move || {
            let post = session.finish(&mut lock(&wallet), &prepared, presentations);
            (post, session)
        })
        .await;
        let reply = http::send(self.http.as_ref(), post?).await?;
        let outcome = session.on_response(&reply)?;
        Ok(PresentationOutcome {
            shared: true,
            redirect_uri: outcome.redirect_uri,
        })
    }
}
