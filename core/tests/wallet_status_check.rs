//! The wallet reads the status lists of what it holds (issue 14): a document revoked or
//! suspended in its list is marked even when the account's inbox says nothing (a `304`),
//! the list is verified with the keys of the issuer's JWT VC Issuer Metadata, and a quiet
//! sync is one conditional request per list.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use giayto_core::catalogue::{self, examples::example_claims};
use giayto_core::jose::{Algorithm, Jwks, Signer, SoftwareSigner};
use giayto_core::oid4vci::{HttpRequest, HttpResponse};
use giayto_core::sd_jwt_vc::{IssueRequest, issue_document, issue_purpose};
use giayto_core::status_list::{Status, StatusList, StatusReference, sign_token};
use giayto_core::vault::{StoredAccount, Vault, VaultKey};
use giayto_core::wallet::Wallet;
use giayto_core::wallet::account::{AccountSync, SyncNext, SyncReport};
use giayto_core::wallet::status_check::StatusCheck;
use serde_json::{Value, json};

const NOW: i64 = 1_760_000_000;
const BASE: &str = "https://issuer.example";
const ISS: &str = "https://issuer.example/agencies/police";
const LIST: &str = "https://issuer.example/status-lists/0123456789abcdef0123456789abcdef";
const METADATA: &str = "https://issuer.example/.well-known/jwt-vc-issuer/agencies/police";

struct Setup {
    _dir: tempfile::TempDir,
    wallet: Wallet,
    account_key: SoftwareSigner,
    holder: SoftwareSigner,
    licence: String,
    insurance: String,
}

fn issue(
    type_id: &str,
    iss: &str,
    idx: u64,
    issuer: &SoftwareSigner,
    holder: &SoftwareSigner,
) -> String {
    let Value::Object(claims) = example_claims(type_id).unwrap() else {
        panic!()
    };
    issue_document(
        &IssueRequest {
            issuer: iss.into(),
            vct: catalogue::by_id(type_id).unwrap().vct.into(),
            claims,
            holder_jwk: Some(holder.public_jwk().unwrap()),
            status: Some(StatusReference {
                idx,
                uri: LIST.into(),
            }),
            issued_at: NOW - 100,
            not_before: None,
            expires_at: Some(NOW + 86_400),
        },
        issuer,
    )
    .unwrap()
}

/// A wallet with an account on `BASE` holding two documents received by their own offers
/// (no inbox link): the licence at index 3 and the insurance card at index 5 of `LIST`.
fn setup() -> (Setup, SoftwareSigner) {
    let dir = tempfile::tempdir().unwrap();
    let key = VaultKey::generate().unwrap();
    let mut wallet = Wallet::new(Vault::create(dir.path().join("v"), &key).unwrap());
    let issuer = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let holder = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let licence = wallet
        .store(
            &issue("driving_licence", ISS, 3, &issuer, &holder),
            "h",
            NOW,
        )
        .unwrap()
        .id;
    let insurance = wallet
        .store(
            &issue("health_insurance_card", ISS, 5, &issuer, &holder),
            "h",
            NOW,
        )
        .unwrap()
        .id;
    wallet
        .set_account(StoredAccount {
            credential_issuer: BASE.into(),
            token_endpoint: format!("{BASE}/token"),
            credential_endpoint: format!("{BASE}/credential"),
            nonce_endpoint: None,
            inbox_endpoint: format!("{BASE}/account/inbox"),
            account_key_id: "account".into(),
            refresh_token: "refresh".into(),
            citizen_id: Some("001090000014".into()),
            inbox_etag: Some("\"inbox-1\"".into()),
            inbox: Vec::new(),
            synced_at: None,
            status_lists: Default::default(),
            status_marks: Default::default(),
            history: Vec::new(),
        })
        .unwrap();
    let setup = Setup {
        _dir: dir,
        wallet,
        account_key: SoftwareSigner::generate(Algorithm::Es256).unwrap(),
        holder,
        licence,
        insurance,
    };
    (setup, issuer)
}

/// The list as a `200` with `etag`: `entries` (idx, status) set, the rest valid.
fn list_answer(signer: &SoftwareSigner, entries: &[(u64, Status)], etag: &str) -> HttpResponse {
    let mut list = StatusList::new(2, 16).unwrap();
    for (idx, status) in entries {
        list.set_status(*idx, *status).unwrap();
    }
    let token = sign_token(LIST, &list, NOW - 10, Some(NOW + 3600), None, signer).unwrap();
    HttpResponse {
        status: 200,
        headers: vec![
            ("Content-Type".into(), "application/statuslist+jwt".into()),
            ("ETag".into(), etag.into()),
        ],
        body: token.into_bytes(),
    }
}

fn metadata_answer(issuer: &str, keys: &SoftwareSigner) -> HttpResponse {
    let jwks = Jwks {
        keys: vec![keys.public_jwk().unwrap()],
    };
    HttpResponse::json(
        200,
        serde_json::to_vec(&json!({ "issuer": issuer, "jwks": jwks })).unwrap(),
    )
}

fn not_modified() -> HttpResponse {
    HttpResponse {
        status: 304,
        headers: Vec::new(),
        body: Vec::new(),
    }
}

/// One sync whose inbox answers `304`, the status requests answered by `answer`; the
/// requests made after the inbox, and the report.
fn sync(
    s: &mut Setup,
    mut answer: impl FnMut(&HttpRequest) -> HttpResponse,
) -> (Vec<HttpRequest>, SyncReport) {
    let (mut sync, request) = AccountSync::start(&s.wallet, &s.account_key, NOW).unwrap();
    assert_eq!(request.url, format!("{BASE}/token"));
    let token = HttpResponse::json(
        200,
        br#"{"access_token":"at","token_type":"DPoP"}"#.to_vec(),
    );
    let mut next = sync
        .on_response(&token, &mut s.wallet, &s.account_key, &s.holder, "h", NOW)
        .unwrap();
    let mut asked = Vec::new();
    let mut first = true;
    loop {
        match next {
            SyncNext::Done(report) => return (asked, report),
            SyncNext::Send(request) => {
                let response = if first {
                    assert_eq!(request.url, format!("{BASE}/account/inbox"));
                    first = false;
                    not_modified()
                } else {
                    let response = answer(&request);
                    asked.push(request);
                    response
                };
                next = sync
                    .on_response(
                        &response,
                        &mut s.wallet,
                        &s.account_key,
                        &s.holder,
                        "h",
                        NOW,
                    )
                    .unwrap();
            }
        }
    }
}

fn if_none_match(request: &HttpRequest) -> Option<&str> {
    request.header("if-none-match")
}

#[test]
fn a_document_revoked_in_its_list_is_marked_though_the_inbox_is_unchanged() {
    let (mut s, issuer) = setup();
    let (asked, report) = sync(&mut s, |request| {
        if request.url == LIST {
            list_answer(
                &issuer,
                &[(3, Status::Invalid), (5, Status::Suspended)],
                "\"v1\"",
            )
        } else {
            assert_eq!(request.url, METADATA);
            metadata_answer(ISS, &issuer)
        }
    });
    assert!(report.unchanged, "the inbox said nothing new");
    let urls: Vec<&str> = asked.iter().map(|r| r.url.as_str()).collect();
    assert_eq!(urls, [LIST, METADATA], "one list, then its issuer's keys");
    assert_eq!(if_none_match(&asked[0]), None, "never read: unconditional");
    let mut marked = report.marked.clone();
    marked.sort();
    let mut expected = vec![
        (s.licence.clone(), "revoked".to_owned()),
        (s.insurance.clone(), "suspended".to_owned()),
    ];
    expected.sort();
    assert_eq!(marked, expected);
    assert_eq!(
        s.wallet.document_state(&s.licence).as_deref(),
        Some("revoked")
    );
    assert_eq!(
        s.wallet.document_state(&s.insurance).as_deref(),
        Some("suspended")
    );

    // A quiet sync: the list is asked conditionally, answers 304, and nothing else is
    // asked (no issuer metadata); the marks stay.
    let (asked, report) = sync(&mut s, |_| not_modified());
    assert_eq!(asked.len(), 1);
    assert_eq!(if_none_match(&asked[0]), Some("\"v1\""));
    assert_eq!(report.status.not_modified, 1);
    assert!(report.marked.is_empty());
    assert_eq!(
        s.wallet.document_state(&s.licence).as_deref(),
        Some("revoked")
    );

    // The insurance card's suspension is lifted: marked valid again.
    let (_, report) = sync(&mut s, |request| {
        if request.url == LIST {
            list_answer(&issuer, &[(3, Status::Invalid)], "\"v2\"")
        } else {
            metadata_answer(ISS, &issuer)
        }
    });
    assert_eq!(report.marked, [(s.insurance.clone(), "valid".to_owned())]);
    assert_eq!(s.wallet.document_state(&s.insurance), None);
}

#[test]
fn a_list_not_signed_by_the_issuers_keys_marks_nothing() {
    let (mut s, issuer) = setup();
    let forger = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let (_, report) = sync(&mut s, |request| {
        if request.url == LIST {
            list_answer(&forger, &[(3, Status::Invalid)], "\"forged\"")
        } else {
            metadata_answer(ISS, &issuer)
        }
    });
    assert!(report.marked.is_empty(), "{:?}", report.marked);
    assert_eq!(report.status.failures.len(), 1, "{:?}", report.status);
    assert_eq!(s.wallet.document_state(&s.licence), None);
    // Nothing was kept of the forged list: the next read is unconditional.
    let (asked, _) = sync(&mut s, |_| not_modified());
    assert_eq!(if_none_match(&asked[0]), None);
}

#[test]
fn metadata_of_another_issuer_is_not_trusted() {
    let (mut s, issuer) = setup();
    let (_, report) = sync(&mut s, |request| {
        if request.url == LIST {
            list_answer(&issuer, &[(3, Status::Invalid)], "\"v1\"")
        } else {
            metadata_answer("https://issuer.example/agencies/justice", &issuer)
        }
    });
    assert!(report.marked.is_empty());
    assert_eq!(report.status.failures.len(), 1, "{:?}", report.status);
}

#[test]
fn a_document_on_an_index_not_read_makes_the_list_unconditional() {
    let (mut s, issuer) = setup();
    let answer = |request: &HttpRequest| {
        if request.url == LIST {
            list_answer(&issuer, &[(7, Status::Invalid)], "\"v1\"")
        } else {
            metadata_answer(ISS, &issuer)
        }
    };
    sync(&mut s, answer);
    // A third document arrives on index 7 of the same list: a 304 would say nothing of
    // it, so the list is read again in full.
    let judicial = s
        .wallet
        .store(
            &issue("judicial_record", ISS, 7, &issuer, &s.holder),
            "h",
            NOW,
        )
        .unwrap()
        .id;
    let (asked, report) = sync(&mut s, answer);
    assert_eq!(if_none_match(&asked[0]), None);
    assert_eq!(report.marked, [(judicial.clone(), "revoked".to_owned())]);
}

#[test]
fn documents_of_an_issuer_on_another_origin_are_not_checked() {
    let (mut s, _issuer) = setup();
    let other = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let stranger = s
        .wallet
        .store(
            &issue(
                "judicial_record",
                "https://elsewhere.example/agencies/x",
                1,
                &other,
                &s.holder,
            ),
            "h",
            NOW,
        )
        .unwrap()
        .id;
    let account = s.wallet.account().unwrap().clone();
    let check = StatusCheck::new(&s.wallet, &account);
    let (report, changed) = check.apply(&mut s.wallet).unwrap();
    assert_eq!(report.not_checked, [stranger]);
    assert!(changed.is_empty());
}

#[test]
fn a_purpose_credential_is_marked_by_its_own_index() {
    let (mut s, issuer) = setup();
    // The licence's `traffic_stop` purpose credential, at index 9 of the same list.
    let Value::Object(claims) = example_claims("driving_licence").unwrap() else {
        panic!()
    };
    let purpose = issue_purpose(
        &IssueRequest {
            issuer: ISS.into(),
            vct: catalogue::by_id("driving_licence").unwrap().vct.into(),
            claims,
            holder_jwk: Some(s.holder.public_jwk().unwrap()),
            status: Some(StatusReference {
                idx: 9,
                uri: LIST.into(),
            }),
            issued_at: NOW - 100,
            not_before: None,
            expires_at: Some(NOW + 86_400),
        },
        "traffic_stop",
        &issuer,
    )
    .unwrap();
    let added = s
        .wallet
        .add_purpose_credentials(&s.licence, &[(purpose, "p".into())], NOW)
        .unwrap();
    assert_eq!(added, 1);
    let (_, report) = sync(&mut s, |request| {
        if request.url == LIST {
            list_answer(&issuer, &[(9, Status::Invalid)], "\"v1\"")
        } else {
            metadata_answer(ISS, &issuer)
        }
    });
    let key = format!("{}#traffic_stop", s.licence);
    assert_eq!(report.marked, [(key.clone(), "revoked".to_owned())]);
    assert_eq!(s.wallet.document_state(&key).as_deref(), Some("revoked"));
    assert_eq!(
        s.wallet.document_state(&s.licence),
        None,
        "the document itself is valid"
    );
}
