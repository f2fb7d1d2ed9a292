//! The citizen account through the bindings against an in-memory issuer: `Wallet.transfer`
//! asks for the new phone's offer with the account key's DPoP proofs, and `Wallet.sync`
//! marks a document its status list revoked though the inbox answered `304`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use futures_lite::future::block_on;
use giayto_core::catalogue::{self, examples::example_claims};
use giayto_core::jose::{Algorithm, Jwk, Jwks, Signer, SoftwareSigner};
use giayto_core::oid4vci::dpop::verify_dpop_proof;
use giayto_core::sd_jwt_vc::{IssueRequest, issue_document};
use giayto_core::status_list::{Status, StatusList, StatusReference, sign_token};
use giayto_core::vault::{StoredAccount, VAULT_KEY_LEN};
use serde_json::{Value, json};

use crate::http::{HttpClient, HttpHeader, HttpRequest, HttpResponse};
use crate::keys::software_key_store;
use crate::wallet::{Wallet, lock};
use crate::{GiaytoError, unix_now};

const ISSUER: &str = "https://issuer.example";
const ISS: &str = "https://issuer.example/agencies/police";
const LIST: &str = "https://issuer.example/status-lists/0123456789abcdef0123456789abcdef";
const ACCOUNT_KEY: &str = "giayto-account-test";

/// The in-memory issuer: the requests it got, and its answers.
struct FakeServer {
    signer: SoftwareSigner,
    /// Entries of `LIST` set INVALID.
    revoked: Mutex<Vec<u64>>,
    /// The account moved to another phone: the token endpoint refuses the refresh token.
    moved: Mutex<bool>,
    sent: Mutex<Vec<HttpRequest>>,
}

fn answer(status: u16, body: Value) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![HttpHeader {
            name: "Content-Type".into(),
            value: "application/json".into(),
        }],
        body: body.to_string().into_bytes(),
    }
}

fn header<'r>(request: &'r HttpRequest, name: &str) -> Option<&'r str> {
    request
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

#[async_trait::async_trait]
impl HttpClient for FakeServer {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, GiaytoError> {
        self.sent.lock().unwrap().push(request.clone());
        let path = request.url.strip_prefix(ISSUER).unwrap();
        Ok(match path {
            "/token" if *self.moved.lock().unwrap() => answer(
                400,
                json!({"error": "invalid_grant", "error_description": "unknown, used or expired refresh token"}),
            ),
            "/token" => answer(200, json!({"access_token": "access", "token_type": "DPoP"})),
            "/account/transfer" => answer(
                201,
                json!({"offer": {
                    "offer_uri_by_reference": "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fissuer.example%2Foffers%2Fnew",
                    "tx_code": "493817",
                    "expires_at": 1_900_000_000,
                }}),
            ),
            "/account/inbox" => HttpResponse {
                status: 304,
                headers: vec![],
                body: vec![],
            },
            "/.well-known/jwt-vc-issuer/agencies/police" => answer(
                200,
                json!({"issuer": ISS, "jwks": Jwks { keys: vec![self.signer.public_jwk().unwrap()] }}),
            ),
            _ if request.url == LIST => {
                let mut list = StatusList::new(1, 16).unwrap();
                for idx in self.revoked.lock().unwrap().iter() {
                    list.set_status(*idx, Status::Invalid).unwrap();
                }
                let now = unix_now();
                let token =
                    sign_token(LIST, &list, now - 10, Some(now + 600), None, &self.signer).unwrap();
                HttpResponse {
                    status: 200,
                    headers: vec![HttpHeader {
                        name: "ETag".into(),
                        value: "\"v1\"".into(),
                    }],
                    body: token.into_bytes(),
                }
            }
            other => panic!("unexpected request to {other}"),
        })
    }
}

fn server() -> Arc<FakeServer> {
    Arc::new(FakeServer {
        signer: SoftwareSigner::generate(Algorithm::Es256).unwrap(),
        revoked: Mutex::new(Vec::new()),
        moved: Mutex::new(false),
        sent: Mutex::new(Vec::new()),
    })
}

struct Phone {
    wallet: Arc<Wallet>,
    server: Arc<FakeServer>,
    account_jwk: Jwk,
    _dir: tempfile::TempDir,
}

/// A phone whose account is activated with `ISSUER` (the account key in the key store).
fn phone() -> Phone {
    let dir = tempfile::tempdir().unwrap();
    let keys = software_key_store();
    let server = server();
    let wallet = block_on(Wallet::open(
        dir.path().join("w.vault").to_string_lossy().into_owned(),
        vec![7; VAULT_KEY_LEN],
        keys.clone(),
        server.clone(),
    ))
    .unwrap();
    let key = keys.get_or_create_key(ACCOUNT_KEY.into()).unwrap();
    let account_jwk: Jwk = serde_json::from_str(&key.public_jwk().unwrap()).unwrap();
    lock(&wallet.inner)
        .set_account(StoredAccount {
            credential_issuer: ISSUER.into(),
            token_endpoint: format!("{ISSUER}/token"),
            credential_endpoint: format!("{ISSUER}/credential"),
            nonce_endpoint: None,
            inbox_endpoint: format!("{ISSUER}/account/inbox"),
            account_key_id: ACCOUNT_KEY.into(),
            refresh_token: "refresh".into(),
            citizen_id: Some("001090000014".into()),
            inbox_etag: Some("\"inbox\"".into()),
            inbox: Vec::new(),
            synced_at: None,
            status_lists: Default::default(),
            status_marks: Default::default(),
            history: Vec::new(),
        })
        .unwrap();
    Phone {
        wallet,
        server,
        account_jwk,
        _dir: dir,
    }
}

/// The `jkt` of the DPoP proof of `request`, checked against its method and URL.
fn dpop_key(request: &HttpRequest, access_token: Option<&str>) -> String {
    let proof = header(request, "DPoP").expect("a DPoP proof");
    verify_dpop_proof(
        proof,
        &[Algorithm::Es256],
        &request.method,
        &request.url,
        access_token,
        unix_now(),
    )
    .unwrap()
    .jkt
}

#[test]
fn transfer_asks_for_the_new_phones_offer_with_the_account_key() {
    let phone = phone();
    let offer = block_on(phone.wallet.transfer()).unwrap();
    assert_eq!(
        offer.offer_uri,
        "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fissuer.example%2Foffers%2Fnew"
    );
    assert_eq!(offer.tx_code, "493817");
    assert_eq!(offer.expires_at, 1_900_000_000);

    let sent = phone.server.sent.lock().unwrap();
    let urls: Vec<&str> = sent.iter().map(|r| r.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            format!("{ISSUER}/token"),
            format!("{ISSUER}/account/transfer")
        ]
    );
    let account_key = phone.account_jwk.thumbprint().unwrap();
    assert_eq!(dpop_key(&sent[0], None), account_key);
    assert!(
        String::from_utf8_lossy(&sent[0].body).contains("grant_type=refresh_token"),
        "a refresh of the account's token"
    );
    assert_eq!(sent[1].method, "POST");
    assert_eq!(header(&sent[1], "Authorization"), Some("DPoP access"));
    assert_eq!(dpop_key(&sent[1], Some("access")), account_key);
}

#[test]
fn transfer_without_an_account_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let server = server();
    let wallet = block_on(Wallet::open(
        dir.path().join("w.vault").to_string_lossy().into_owned(),
        vec![7; VAULT_KEY_LEN],
        software_key_store(),
        server.clone(),
    ))
    .unwrap();
    assert!(matches!(
        block_on(wallet.transfer()),
        Err(GiaytoError::NotFound { .. })
    ));
    assert!(server.sent.lock().unwrap().is_empty());
}

/// A licence received by its own offer (no inbox entry), at index 4 of `LIST`; its id.
fn held_licence(phone: &Phone) -> String {
    let holder = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let Value::Object(claims) = example_claims("driving_licence").unwrap() else {
        panic!()
    };
    let credential = issue_document(
        &IssueRequest {
            issuer: ISS.into(),
            vct: catalogue::by_id("driving_licence").unwrap().vct.into(),
            claims,
            holder_jwk: Some(holder.public_jwk().unwrap()),
            status: Some(StatusReference {
                idx: 4,
                uri: LIST.into(),
            }),
            issued_at: unix_now() - 100,
            not_before: None,
            expires_at: Some(unix_now() + 86_400),
        },
        &phone.server.signer,
    )
    .unwrap();
    lock(&phone.wallet.inner)
        .store(&credential, "h", unix_now())
        .unwrap()
        .id
}

#[test]
fn sync_marks_a_document_its_status_list_revoked_though_the_inbox_is_unchanged() {
    let phone = phone();
    let id = held_licence(&phone);

    let summary = block_on(phone.wallet.sync()).unwrap();
    assert!(summary.unchanged);
    assert!(summary.state_changes.is_empty(), "still valid");

    phone.server.revoked.lock().unwrap().push(4);
    let summary = block_on(phone.wallet.sync()).unwrap();
    assert!(summary.unchanged, "the inbox said nothing");
    assert_eq!(summary.state_changes.len(), 1);
    assert_eq!(summary.state_changes[0].id, id);
    assert_eq!(summary.state_changes[0].state, "revoked");
    assert_eq!(
        lock(&phone.wallet.inner).document_state(&id).as_deref(),
        Some("revoked")
    );
}

/// The account moved to another phone (the token endpoint answers `invalid_grant`): the
/// sync still reads the held documents' status lists and keeps the marks, then fails
/// saying in both languages that this phone's access ended.
#[test]
fn a_sync_refused_at_the_token_endpoint_still_reads_the_status_lists() {
    let phone = phone();
    let id = held_licence(&phone);
    *phone.server.moved.lock().unwrap() = true;
    phone.server.revoked.lock().unwrap().push(4);
    let refused = block_on(phone.wallet.sync()).unwrap_err();
    let GiaytoError::IssuerRefused { reason } = refused else {
        panic!("{refused:?}")
    };
    assert!(
        reason.contains(
            "This phone's access to the citizen account ended: the account moved to another \
             phone or was closed."
        ) && reason.contains("Điện thoại này không còn truy cập được tài khoản công dân"),
        "{reason}"
    );
    assert_eq!(
        lock(&phone.wallet.inner).document_state(&id).as_deref(),
        Some("revoked")
    );
    let asked: Vec<String> = phone
        .server
        .sent
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.url.clone())
        .collect();
    assert!(asked.iter().any(|u| u == LIST), "{asked:?}");
    assert!(
        !asked.iter().any(|u| u.ends_with("/account/inbox")),
        "{asked:?}"
    );
}

/// The phone's history has each version and receipt the vault knows, not only the inbox's
/// first publication; dates as dates in both languages.
#[test]
fn account_events_give_every_version_and_receipt() {
    use giayto_core::oid4vci::inbox::{InboxEntry, Publisher};
    use giayto_core::wallet::history::received_event;

    use crate::account::HistoryEventKind::*;
    let phone = phone();
    let entry = |version: i64, updated_at: i64| InboxEntry {
        credential_identifier: None,
        credential_configuration_id: "driving_licence".into(),
        vct: catalogue::by_id("driving_licence").unwrap().vct.into(),
        document_id: "GPLX-1".into(),
        publisher: Publisher {
            id: "police".into(),
            name_vi: "Bộ Công an".into(),
            name_en: "Ministry of Public Security".into(),
            issuer: ISS.into(),
        },
        state: "valid".into(),
        version,
        published_at: 1_796_000_000,
        updated_at,
        valid_until: 1_900_000_000,
        on_behalf_of: None,
    };
    let mut account = lock(&phone.wallet.inner).account().unwrap().clone();
    account.inbox = vec![entry(2, 1_796_054_869)];
    account.history = vec![received_event(&entry(1, 1_796_000_000), 1_796_000_100)];
    lock(&phone.wallet.inner).set_account(account).unwrap();
    let events: Vec<_> = phone
        .wallet
        .account_events()
        .into_iter()
        .map(|e| (e.kind, e.version, e.at))
        .collect();
    assert_eq!(
        events,
        [
            (NewVersion, 2, 1_796_054_869),
            (Received, 1, 1_796_000_100),
            (Published, 1, 1_796_000_000)
        ]
    );
    assert_eq!(
        phone.wallet.account_events()[0].at_text,
        "30/11/2026 16:07:49 / 30 Nov 2026 16:07:49 (UTC)"
    );
    // The inbox alone said only the first publication and the latest version.
    assert_eq!(phone.wallet.account_history().len(), 1);
    // Each event names the document's type, and whose it is for a guardian's copy.
    let first = &phone.wallet.account_events()[0];
    assert_eq!(
        (
            first.document_name_vi.as_deref(),
            first.document_name_en.as_deref()
        ),
        (Some("Giấy phép lái xe"), Some("Driving licence"))
    );
    assert_eq!(first.on_behalf_of, None);
    let mut account = lock(&phone.wallet.inner).account().unwrap().clone();
    account.inbox[0].on_behalf_of = Some("079216000016".into());
    lock(&phone.wallet.inner).set_account(account).unwrap();
    assert_eq!(
        phone.wallet.account_events()[0].on_behalf_of.as_deref(),
        Some("079216000016")
    );
}
