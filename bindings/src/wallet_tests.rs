//! The wallet through the bindings against an in-memory OpenID4VCI issuer: the document
//! and its purpose credentials received (one key-store key per credential), shown once each,
//! the fallback said in the result, refilled by the refresh token, counted in
//! `DocumentInfo`, their keys deleted with the document; a receive or refill cancelled
//! half-way leaves the vault and the key store as they were.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::task::{Context, Waker};

use futures_lite::future::block_on;
use giayto_core::catalogue::{self, Purpose, examples::example_claims};
use giayto_core::jose::{Algorithm, Signer, SoftwareSigner};
use giayto_core::oid4vci::{CredentialOffer, verify_proof_jwt};
use giayto_core::sd_jwt_vc::{IssueRequest, issue_document, issue_purpose};
use giayto_core::status_list::StatusReference;
use giayto_core::vault::VAULT_KEY_LEN;
use serde_json::{Value, json};

use crate::http::{HttpClient, HttpRequest, HttpResponse};
use crate::keys::{KeyStore, SigningKey, software_key_store};
use crate::wallet::{
    ClaimSelection, PresentationMode, PresentationSource, PurposeFallback, Wallet,
};
use crate::{GiaytoError, unix_now};

const ISSUER: &str = "https://issuer.example";
/// The issuer's `batch_size`: small, so a test sees a preset run out.
const BATCH: usize = 3;
const DOCUMENT: &str = "driving_licence";
const PRESETS: [&str; 2] = ["traffic_stop", "age_over_18"];

/// The state of the in-memory issuer.
#[derive(Default)]
struct IssuerState {
    /// Requests received, by path.
    sent: Vec<String>,
    /// The one refresh token that works now (rotated at each use).
    refresh_token: Option<String>,
    rotations: u32,
    next_idx: u64,
    /// Give no refresh token.
    no_refresh_token: bool,
    /// Fail the `n`-th request (0-based) to this path, as a lost connection does.
    fail: Option<(String, usize)>,
    /// Never answer the `n`-th request (0-based) to this path: a call waits there until it
    /// is cancelled.
    hang: Option<(String, usize)>,
}

/// An OpenID4VCI issuer of driving licences and their `traffic_stop` and `age_over_18`
/// purpose credentials, with batch issuance, a nonce endpoint and rotating refresh tokens.
struct FakeIssuer {
    signer: SoftwareSigner,
    state: Mutex<IssuerState>,
}

fn purpose_vct(preset: &str) -> String {
    Purpose::of(catalogue::by_id(DOCUMENT).unwrap(), preset)
        .unwrap()
        .vct()
}

fn configuration(vct: &str) -> Value {
    json!({
        "format": "dc+sd-jwt", "vct": vct,
        "cryptographic_binding_methods_supported": ["jwk"],
        "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": ["ES256"]}}
    })
}

fn ok(body: Value) -> HttpResponse {
    HttpResponse {
        status: 200,
        headers: vec![crate::http::HttpHeader {
            name: "Content-Type".into(),
            value: "application/json".into(),
        }],
        body: body.to_string().into_bytes(),
    }
}

impl FakeIssuer {
    fn new() -> Arc<FakeIssuer> {
        Arc::new(FakeIssuer {
            signer: SoftwareSigner::generate(Algorithm::Es256).unwrap(),
            state: Mutex::new(IssuerState::default()),
        })
    }

    fn hang_at(&self, path: &str, nth: usize) {
        self.state.lock().unwrap().hang = Some((path.into(), nth));
    }

    fn sent(&self, path: &str) -> usize {
        let state = self.state.lock().unwrap();
        state.sent.iter().filter(|p| *p == path).count()
    }

    /// An offer of the licence and its purpose credentials, by value.
    fn offer(&self) -> String {
        let mut ids = vec![DOCUMENT.to_owned()];
        ids.extend(PRESETS.iter().map(|p| format!("{DOCUMENT}.{p}")));
        let offer: CredentialOffer = serde_json::from_value(json!({
            "credential_issuer": ISSUER,
            "credential_configuration_ids": ids,
            "grants": {"urn:ietf:params:oauth:grant-type:pre-authorized_code": {
                "pre-authorized_code": "code"
            }}
        }))
        .unwrap();
        offer.to_uri().unwrap()
    }

    fn issuer_metadata(&self) -> Value {
        let mut configurations = serde_json::Map::new();
        let licence = catalogue::by_id(DOCUMENT).unwrap().vct;
        configurations.insert(DOCUMENT.into(), configuration(licence));
        for preset in PRESETS {
            configurations.insert(
                format!("{DOCUMENT}.{preset}"),
                configuration(&purpose_vct(preset)),
            );
        }
        json!({
            "credential_issuer": ISSUER,
            "credential_endpoint": format!("{ISSUER}/credential"),
            "nonce_endpoint": format!("{ISSUER}/nonce"),
            "batch_credential_issuance": {"batch_size": BATCH},
            "credential_configurations_supported": configurations,
        })
    }

    fn token(&self, form: &str, state: &mut IssuerState) -> HttpResponse {
        if form.contains("grant_type=refresh_token") {
            let given = form
                .split('&')
                .find_map(|pair| pair.strip_prefix("refresh_token="))
                .unwrap_or_default();
            if state.refresh_token.as_deref() != Some(given) {
                return HttpResponse {
                    status: 400,
                    headers: vec![],
                    body: br#"{"error":"invalid_grant"}"#.to_vec(),
                };
            }
        }
        let mut body = json!({"access_token": "access", "token_type": "Bearer", "expires_in": 300});
        if !state.no_refresh_token {
            state.rotations += 1;
            let refresh_token = format!("refresh-{}", state.rotations);
            state.refresh_token = Some(refresh_token.clone());
            body["refresh_token"] = refresh_token.into();
        }
        ok(body)
    }

    fn credential(&self, body: &[u8], state: &mut IssuerState) -> HttpResponse {
        let request: Value = serde_json::from_slice(body).unwrap();
        let id = request["credential_configuration_id"].as_str().unwrap();
        let now = u64::try_from(unix_now()).unwrap();
        let credentials: Vec<Value> = request["proofs"]["jwt"]
            .as_array()
            .unwrap()
            .iter()
            .map(|proof| {
                let jwk =
                    verify_proof_jwt(proof.as_str().unwrap(), ISSUER, |_| true, now, 300).unwrap();
                state.next_idx += 1;
                let Value::Object(claims) = example_claims(DOCUMENT).unwrap() else {
                    panic!()
                };
                let document = catalogue::by_id(DOCUMENT).unwrap();
                let request = IssueRequest {
                    issuer: ISSUER.into(),
                    vct: document.vct.into(),
                    claims,
                    holder_jwk: Some(jwk),
                    status: Some(StatusReference {
                        idx: state.next_idx,
                        uri: format!("{ISSUER}/status-lists/1"),
                    }),
                    issued_at: unix_now() - 10,
                    not_before: None,
                    expires_at: Some(unix_now() + 86_400),
                };
                let credential = match id.strip_prefix("driving_licence.") {
                    None => issue_document(&request, &self.signer).unwrap(),
                    Some(preset) => issue_purpose(&request, preset, &self.signer).unwrap(),
                };
                json!({ "credential": credential })
            })
            .collect();
        ok(json!({ "credentials": credentials }))
    }
}

#[async_trait::async_trait]
impl HttpClient for FakeIssuer {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, GiaytoError> {
        let path = request.url.strip_prefix(ISSUER).unwrap().to_owned();
        let response = {
            let mut state = self.state.lock().unwrap();
            let nth = state.sent.iter().filter(|p| **p == path).count();
            state.sent.push(path.clone());
            if state.fail.as_ref() == Some(&(path.clone(), nth)) {
                return Err(GiaytoError::Network {
                    reason: "connection reset".into(),
                });
            }
            if state.hang.as_ref() == Some(&(path.clone(), nth)) {
                None
            } else {
                Some(match path.as_str() {
                    "/.well-known/openid-credential-issuer" => ok(self.issuer_metadata()),
                    "/.well-known/oauth-authorization-server" => ok(json!({
                        "issuer": ISSUER,
                        "token_endpoint": format!("{ISSUER}/token"),
                    })),
                    "/token" => self.token(&String::from_utf8_lossy(&request.body), &mut state),
                    "/nonce" => ok(json!({"c_nonce": format!("nonce-{nth}")})),
                    "/credential" => self.credential(&request.body, &mut state),
                    other => panic!("unexpected request to {other}"),
                })
            }
        };
        match response {
            Some(response) => Ok(response),
            None => std::future::pending().await,
        }
    }
}

/// A software key store that lists its aliases.
struct Listed {
    inner: Arc<dyn KeyStore>,
    aliases: Mutex<Vec<String>>,
}

impl Listed {
    fn new() -> Arc<Listed> {
        Arc::new(Listed {
            inner: software_key_store(),
            aliases: Mutex::new(Vec::new()),
        })
    }

    fn aliases(&self) -> Vec<String> {
        let mut aliases = self.aliases.lock().unwrap().clone();
        aliases.sort();
        aliases
    }
}

impl KeyStore for Listed {
    fn get_or_create_key(&self, alias: String) -> Result<Arc<dyn SigningKey>, GiaytoError> {
        self.aliases.lock().unwrap().push(alias.clone());
        self.inner.get_or_create_key(alias)
    }
    fn get_key(&self, alias: String) -> Result<Arc<dyn SigningKey>, GiaytoError> {
        self.inner.get_key(alias)
    }
    fn delete_key(&self, alias: String) -> Result<(), GiaytoError> {
        self.aliases.lock().unwrap().retain(|a| *a != alias);
        self.inner.delete_key(alias)
    }
}

struct Phone {
    wallet: Arc<Wallet>,
    keys: Arc<Listed>,
    issuer: Arc<FakeIssuer>,
    path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

fn phone() -> Phone {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wallet.vault");
    let keys = Listed::new();
    let issuer = FakeIssuer::new();
    let wallet = block_on(Wallet::open(
        path.to_string_lossy().into_owned(),
        vec![9; VAULT_KEY_LEN],
        keys.clone(),
        issuer.clone(),
    ))
    .unwrap();
    Phone {
        wallet,
        keys,
        issuer,
        path,
        _dir: dir,
    }
}

/// Unused purpose credentials left per preset the issuer offers.
fn left(phone: &Phone, id: &str) -> HashMap<String, u32> {
    let info = phone.wallet.document(id.into()).unwrap();
    info.purposes
        .into_iter()
        .filter(|c| PRESETS.contains(&c.preset.as_str()))
        .map(|c| (c.preset, c.unused))
        .collect()
}

fn present(phone: &Phone, id: &str, fallback: Option<PurposeFallback>) -> crate::PresentationQr {
    block_on(phone.wallet.present(
        id.into(),
        ClaimSelection::Preset {
            name: "traffic_stop".into(),
        },
        PresentationMode::OneWay,
        fallback,
    ))
    .unwrap()
}

/// The issuer-signed JWT of a compact presentation, and its payload.
fn issuer_jwt(presentation: &str) -> (String, Value) {
    let jwt = presentation.split('~').next().unwrap().to_owned();
    let payload = jwt.split('.').nth(1).unwrap();
    let payload = giayto_core::jose::b64::decode(payload).unwrap();
    (jwt, serde_json::from_slice(&payload).unwrap())
}

#[test]
fn purpose_credentials_are_received_shown_once_said_when_gone_and_refilled() {
    let phone = phone();
    let info = block_on(phone.wallet.receive(phone.issuer.offer(), None, None)).unwrap();
    // One batch per preset, one key per credential, plus the document's key.
    assert_eq!(phone.issuer.sent("/credential"), 3);
    assert_eq!(phone.keys.aliases().len(), 1 + 2 * BATCH);
    assert_eq!(
        left(&phone, &info.id),
        HashMap::from([("traffic_stop".into(), 3), ("age_over_18".into(), 3)])
    );
    assert!(info.refillable);
    // Every purpose of the licence is low; the issuer offers two of them.
    assert_eq!(info.purposes.len(), 4);
    for preset in PRESETS {
        assert!(info.presets_to_refill.iter().any(|p| p == preset));
    }

    let mut seen = Vec::new();
    for expected_left in (0..BATCH as u32).rev() {
        let shown = present(&phone, &info.id, None);
        assert_eq!(
            shown.source,
            PresentationSource::PurposeCredential {
                left: expected_left
            }
        );
        assert_eq!(
            (shown.notice_vi.as_deref(), shown.notice_en.as_deref()),
            (None, None)
        );
        let (jwt, payload) = issuer_jwt(&shown.presentation);
        assert_eq!(payload["vct"], purpose_vct("traffic_stop"));
        assert!(!seen.contains(&jwt), "a purpose credential was shown twice");
        seen.push(jwt);
    }
    assert_eq!(left(&phone, &info.id)["traffic_stop"], 0);

    // None left: the least recently shown again, said in both languages.
    let reused = present(&phone, &info.id, None);
    assert!(matches!(
        reused.source,
        PresentationSource::ReusedPurposeCredential { .. }
    ));
    assert_eq!(issuer_jwt(&reused.presentation).0, seen[0]);
    assert!(reused.notice_vi.unwrap().contains("Đã dùng hết"));
    assert!(reused.notice_en.unwrap().contains("shown before"));
    // Or the full credential, if the holder prefers.
    let full = present(&phone, &info.id, Some(PurposeFallback::FullCredential));
    assert_eq!(
        full.source,
        PresentationSource::FullCredential { fallback: true }
    );
    assert_eq!(
        issuer_jwt(&full.presentation).1["vct"],
        catalogue::by_id(DOCUMENT).unwrap().vct
    );
    assert!(full.notice_en.unwrap().contains("full credential"));

    // Refill: a refresh-token grant, a batch of each low preset, the used ones (and their
    // keys) dropped, the rotated refresh token kept.
    let refilled = block_on(phone.wallet.refill(info.id.clone(), None)).unwrap();
    assert_eq!(refilled.failures, []);
    assert_eq!(refilled.added, 6);
    assert!(refilled.failures.is_empty());
    assert_eq!(
        left(&phone, &info.id),
        HashMap::from([("traffic_stop".into(), 3), ("age_over_18".into(), 6)])
    );
    assert_eq!(phone.keys.aliases().len(), 1 + 3 + 6);
    let again = present(&phone, &info.id, None);
    assert_eq!(
        again.source,
        PresentationSource::PurposeCredential { left: 2 }
    );
    assert!(!seen.contains(&issuer_jwt(&again.presentation).0));
    // The rotated token works: a second refill is accepted (age_over_18 is not low now).
    let second = block_on(phone.wallet.refill(info.id.clone(), None)).unwrap();
    assert_eq!(second.added, 3);
    assert_eq!(phone.issuer.state.lock().unwrap().rotations, 3);

    // Deleting the document deletes every key it had.
    block_on(phone.wallet.delete(info.id.clone())).unwrap();
    assert_eq!(phone.keys.aliases(), Vec::<String>::new());
}

#[test]
fn a_cancelled_receive_deletes_its_new_keys_and_leaves_the_vault_as_it_was() {
    // Cancelled while waiting for the issuer metadata (the document's key made), and while
    // waiting for the first purpose batch (the document received, the batch's keys made and
    // its proofs signed).
    for (path, nth, keys_made) in [
        ("/.well-known/openid-credential-issuer", 0, 1),
        ("/credential", 1, 1 + BATCH),
    ] {
        let phone = phone();
        let vault_before = std::fs::read(&phone.path).unwrap();
        phone.issuer.hang_at(path, nth);
        {
            let mut call = Box::pin(phone.wallet.receive(phone.issuer.offer(), None, None));
            assert!(
                call.as_mut()
                    .poll(&mut Context::from_waker(Waker::noop()))
                    .is_pending()
            );
            assert_eq!(phone.issuer.sent(path), nth + 1);
            assert_eq!(phone.keys.aliases().len(), keys_made);
        } // Dropped: what a cancelled coroutine or task does.
        assert_eq!(phone.keys.aliases(), Vec::<String>::new(), "{path}");
        assert!(phone.wallet.documents().unwrap().is_empty());
        assert_eq!(std::fs::read(&phone.path).unwrap(), vault_before);
    }
}

#[test]
fn a_batch_lost_on_the_network_leaves_the_document_and_the_other_batches_and_no_unused_key() {
    let phone = phone();
    // The second purpose batch (traffic_stop: presets go in name order) is lost.
    phone.issuer.state.lock().unwrap().fail = Some(("/credential".into(), 2));
    let info = block_on(phone.wallet.receive(phone.issuer.offer(), None, None)).unwrap();
    assert_eq!(
        left(&phone, &info.id),
        HashMap::from([("traffic_stop".into(), 0), ("age_over_18".into(), 3)])
    );
    // The lost batch's keys are deleted; the document's and the kept batch's stay.
    assert_eq!(phone.keys.aliases().len(), 1 + BATCH);
    // Its preset falls back openly, and a refill fetches it.
    let shown = present(&phone, &info.id, None);
    assert_eq!(
        shown.source,
        PresentationSource::FullCredential { fallback: true }
    );
    assert!(shown.notice_vi.is_some() && shown.notice_en.is_some());
    let refilled = block_on(phone.wallet.refill(info.id.clone(), None)).unwrap();
    assert_eq!(refilled.added, 2 * BATCH as u32);
}

#[test]
fn a_refill_cancelled_during_a_batch_keeps_only_the_rotated_refresh_token() {
    let phone = phone();
    let info = block_on(phone.wallet.receive(phone.issuer.offer(), None, None)).unwrap();
    let keys_before = phone.keys.aliases();
    let purposes_before = phone.wallet.document(info.id.clone()).unwrap().purposes;
    // The refill's first batch request (the fourth to /credential) is never answered.
    phone.issuer.hang_at("/credential", 3);
    {
        let mut call = Box::pin(phone.wallet.refill(info.id.clone(), None));
        // Polled until it waits on the batch: before that it waits a moment on the worker
        // thread that writes the rotated refresh token (a generous bound, not a timing).
        for _ in 0..1000 {
            assert!(
                call.as_mut()
                    .poll(&mut Context::from_waker(Waker::noop()))
                    .is_pending()
            );
            if phone.issuer.sent("/credential") == 4 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(phone.issuer.sent("/credential"), 4);
        assert_eq!(phone.keys.aliases().len(), keys_before.len() + BATCH);
    }
    assert_eq!(phone.keys.aliases(), keys_before);
    assert_eq!(
        phone.wallet.document(info.id.clone()).unwrap().purposes,
        purposes_before
    );
    // The issuer replaced the refresh token when the refill began: the new one was kept,
    // so the next refill works.
    phone.issuer.state.lock().unwrap().hang = None;
    let refilled = block_on(phone.wallet.refill(info.id.clone(), None)).unwrap();
    assert_eq!(refilled.added, 2 * BATCH as u32);
    assert!(refilled.failures.is_empty());
}

#[test]
fn a_refill_without_a_refresh_token_says_so() {
    let phone = phone();
    phone.issuer.state.lock().unwrap().no_refresh_token = true;
    let info = block_on(phone.wallet.receive(phone.issuer.offer(), None, None)).unwrap();
    assert!(!info.refillable);
    let error = block_on(phone.wallet.refill(info.id.clone(), None)).unwrap_err();
    assert!(
        matches!(error, GiaytoError::Unsupported { .. }),
        "{error:?}"
    );
}

#[test]
fn a_batch_signs_one_message_per_key_in_one_step() {
    let store = software_key_store();
    let keys: Vec<crate::keys::HolderKey> = (0..3)
        .map(|i| {
            crate::keys::HolderKey::new(store.get_or_create_key(format!("k{i}")).unwrap()).unwrap()
        })
        .collect();
    let refs: Vec<&crate::keys::HolderKey> = keys.iter().collect();
    let mut runs = 0;
    let mut step = |signers: &[&dyn Signer]| {
        runs += 1;
        signers
            .iter()
            .enumerate()
            .map(|(i, s)| s.sign(format!("proof {i}").as_bytes()))
            .collect::<Result<Vec<_>, _>>()
    };
    let signatures =
        match crate::test_support::ready(crate::keys::sign_each(&refs, &mut step)).unwrap() {
            crate::keys::Signing::Ready(signatures) => signatures,
            crate::keys::Signing::Finished(_) => panic!("the step signs"),
        };
    let signed = signatures.run(&mut step).unwrap();
    // One recording run per key, then the run with every signature.
    assert_eq!(runs, 4);
    for (i, signature) in signed.iter().enumerate() {
        let public = store
            .get_key(format!("k{i}"))
            .unwrap()
            .public_jwk()
            .unwrap();
        let public: giayto_core::jose::Jwk = serde_json::from_str(&public).unwrap();
        public
            .verify(Algorithm::Es256, format!("proof {i}").as_bytes(), signature)
            .unwrap();
    }
}
