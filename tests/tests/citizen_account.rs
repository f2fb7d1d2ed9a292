//! Issue 14, the citizen account, against the real `giayto-server` binary on SQLite and
//! PostgreSQL, with the real `giayto` command as the phone: the police activate the
//! citizen (issuer API), `giayto wallet activate` binds the account to the phone's key and
//! receives the ID card; three agencies publish and one `giayto wallet sync` receives all;
//! a reissue arrives on the next sync and replaces; a revocation shows in the wallet; a
//! sync with nothing new is a `304`; the phone changes at the counter, and the old phone's
//! QR is refused by a verifier that refreshed its status lists while the new phone's
//! passes; the account moves again from the phone at hand (`giayto wallet transfer`, the
//! next phone activates with its offer) and the moved phone's QR is refused alike; a lost
//! phone deactivated revokes everything on it.
//!
//! Status lists: the wallet's sync reads them too, so a licence received by its own offer
//! (which the inbox does not link) is marked revoked; a quiet sync reads them with a `304`.
//!
//! Guardians: the police record a guardianship; the guardian's sync receives the child's
//! health insurance card, a hospital's verifier accepts it and shows the guardian; with the
//! verifier's clock past the guardianship's end (the child turns 14) it is refused; the
//! child's own account then receives it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::Path;
use std::process::Command;

use giayto_core::verifier::FailureCode;
use giayto_e2e::HarnessError;
use giayto_e2e::agency::{self, Offer};
use giayto_e2e::officer::Officer;
use giayto_e2e::server::{Backend, Server, giayto_binary};
use serde_json::{Value, json};

const CITIZEN: &str = "001090000014";

#[test]
fn citizen_account_on_sqlite() {
    run(Backend::Sqlite);
}

#[test]
fn citizen_account_on_postgres() {
    run(Backend::Postgres);
}

fn run(backend: Backend) {
    let Some(mut server) = Server::start(backend).unwrap() else {
        return;
    };
    if let Err(e) = scenario(&server)
        .and_then(|()| guardian_scenario(&server))
        .and_then(|()| status_list_scenario(&server))
    {
        panic!(
            "{backend:?} citizen account failed: {e}\n--- server log ---\n{}",
            server.log()
        );
    }
    server.stop().unwrap();
}

/// `giayto [--json] wallet --dir DIR args...`: its standard output, or the failure (with
/// what it printed).
fn run_wallet(dir: &Path, json: bool, args: &[&str]) -> Result<Vec<u8>, HarnessError> {
    let out = Command::new(giayto_binary()?)
        .args(json.then_some("--json"))
        .args(["wallet", "--dir"])
        .arg(dir)
        .args(args)
        .env_remove("GIAYTO_VAULT_KEY")
        .env_remove("GIAYTO_WALLET")
        .output()?;
    if !out.status.success() {
        return Err(HarnessError::Unexpected(format!(
            "giayto wallet {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(out.stdout)
}

/// `giayto --json wallet --dir DIR args...`: the parsed JSON answer, or the failure.
fn wallet(dir: &Path, args: &[&str]) -> Result<Value, HarnessError> {
    serde_json::from_slice(&run_wallet(dir, true, args)?)
        .map_err(|e| HarnessError::Unexpected(format!("giayto wallet {args:?}: {e}")))
}

/// `giayto wallet --dir DIR args...` for people: its text, or the failure.
fn wallet_text(dir: &Path, args: &[&str]) -> Result<String, HarnessError> {
    Ok(String::from_utf8_lossy(&run_wallet(dir, false, args)?).into_owned())
}

fn publish(server: &Server, type_id: &'static str, document_id: &str) -> Result<(), HarnessError> {
    publish_for(server, type_id, CITIZEN, document_id)
}

fn publish_for(
    server: &Server,
    type_id: &'static str,
    citizen: &str,
    document_id: &str,
) -> Result<(), HarnessError> {
    agency::publish(server, &agency::document(type_id, citizen, document_id)?)?;
    Ok(())
}

/// The police's activation call: the offer to show at the counter.
fn activation(server: &Server) -> Result<Offer, HarnessError> {
    activation_of(server, CITIZEN)
}

/// The police's activation call for `citizen`.
fn activation_of(server: &Server, citizen: &str) -> Result<Offer, HarnessError> {
    let url = server.url("/api/v1/accounts");
    let reply = server
        .client
        .post_json(
            &url,
            Some(server.api_key("police")?),
            &json!({ "citizen_id": citizen }),
        )?
        .expect(&url, 201)?
        .json()?;
    Offer::from_json(&reply["offer"])
}

/// A new phone (a `giayto` wallet folder) activated at the counter; its first sync's report.
fn new_phone(server: &Server, dir: &Path) -> Result<Value, HarnessError> {
    wallet(dir, &["init"])?;
    let offer = activation(server)?;
    wallet(dir, &["activate", &offer.uri, "--tx-code", &offer.tx_code])
}

/// The state `giayto wallet list` shows for stored document `id`, and the whole list.
fn listed_state(dir: &Path, id: &str) -> Result<(Option<Value>, Value), HarnessError> {
    let listed = wallet(dir, &["list"])?;
    let state = listed
        .as_array()
        .and_then(|l| l.iter().find(|d| d["id"] == id))
        .map(|d| d["state"].clone());
    Ok((state, listed))
}

/// The wallet id of the stored document of catalogue type `type_id`.
fn id_of(dir: &Path, type_id: &str) -> Result<String, HarnessError> {
    let vct = giayto_core::catalogue::by_id(type_id).unwrap().vct;
    wallet(dir, &["list"])?
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["vct"] == vct)
        .and_then(|d| d["id"].as_str().map(str::to_owned))
        .ok_or_else(|| HarnessError::Unexpected(format!("no {type_id} in the wallet")))
}

/// The verdict refuses the presentation as revoked.
fn assert_revoked(verdict: &giayto_core::verifier::Verdict) {
    assert!(!verdict.valid);
    assert!(
        verdict
            .errors
            .iter()
            .any(|f| f.code == FailureCode::Revoked),
        "{:?}",
        verdict.errors
    );
}

fn received(report: &Value) -> usize {
    report["received"].as_array().unwrap().len()
}

fn scenario(server: &Server) -> Result<(), HarnessError> {
    let phones = tempfile::tempdir()?;
    let old_phone = phones.path().join("old");
    publish(server, "can_cuoc", "CC-14")?;

    // Activation at the counter: the ID card arrives with it.
    let report = new_phone(server, &old_phone)?;
    assert_eq!(received(&report), 1, "{report}");

    // Three agencies publish as they always did; one sync receives all.
    publish(server, "driving_licence", "GPLX-14")?;
    publish(server, "judicial_record", "LLTP-14")?;
    publish(server, "health_insurance_card", "BHYT-14")?;
    let report = wallet(&old_phone, &["sync"])?;
    assert_eq!(received(&report), 3, "{report}");
    assert_eq!(wallet(&old_phone, &["list"])?.as_array().unwrap().len(), 4);
    let history = wallet(&old_phone, &["history"])?;
    let publishers: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["publisher"]["id"].as_str().unwrap())
        .collect();
    for agency in ["police", "justice", "social-insurance"] {
        assert!(publishers.contains(&agency), "{history}");
    }

    // Nothing new: one token request and a 304.
    let report = wallet(&old_phone, &["sync"])?;
    assert_eq!(report["unchanged"], true, "{report}");

    // A reissue arrives on the next sync and replaces the old version.
    let licence = id_of(&old_phone, "driving_licence")?;
    let mut claims = giayto_core::catalogue::examples::example_claims("driving_licence").unwrap();
    claims["place_of_residence"] = json!("45 Lý Thường Kiệt, Hoàn Kiếm, Hà Nội");
    let url = server.url("/api/v1/documents/GPLX-14/reissue");
    server
        .client
        .post_json(
            &url,
            Some(server.api_key("police")?),
            &json!({ "claims": claims }),
        )?
        .expect(&url, 200)?;
    let report = wallet(&old_phone, &["sync"])?;
    assert_eq!(received(&report), 1, "{report}");
    let new_licence = id_of(&old_phone, "driving_licence")?;
    assert_ne!(new_licence, licence);
    assert_eq!(wallet(&old_phone, &["list"])?.as_array().unwrap().len(), 4);

    // A revocation shows in the wallet.
    agency::change(server, "justice", "LLTP-14", "revoke")?;
    let report = wallet(&old_phone, &["sync"])?;
    let record = id_of(&old_phone, "judicial_record")?;
    assert_eq!(
        report["marked"],
        json!([{ "id": record, "state": "revoked" }])
    );
    let (state, listed) = listed_state(&old_phone, &record)?;
    assert_eq!(state, Some(json!("revoked")), "{listed}");

    // The history has every version and receipt the phone knows, not only the first
    // publication: the licence published, received, reissued as version 2 and received
    // again; the record published, received and revoked.
    let history = wallet(&old_phone, &["history"])?;
    let events: Vec<(String, String, i64)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["document_id"].as_str().unwrap().to_owned(),
                e["kind"].as_str().unwrap().to_owned(),
                e["version"].as_i64().unwrap(),
            )
        })
        .collect();
    let of = |document: &str| -> Vec<(String, i64)> {
        let mut kinds: Vec<(String, i64)> = events
            .iter()
            .filter(|(d, _, _)| d == document)
            .map(|(_, k, v)| (k.clone(), *v))
            .collect();
        kinds.sort();
        kinds
    };
    let pairs = |list: &[(&str, i64)]| -> Vec<(String, i64)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    };
    assert_eq!(
        of("GPLX-14"),
        pairs(&[
            ("new_version", 2),
            ("published", 1),
            ("received", 1),
            ("received", 2)
        ]),
        "{history}"
    );
    assert_eq!(
        of("LLTP-14"),
        pairs(&[("published", 1), ("received", 1), ("state", 1)]),
        "{history}"
    );
    let times: Vec<i64> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["at"].as_i64().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {history}"
    );
    let shown = wallet_text(&old_phone, &["history"])?;
    assert!(
        shown.contains("cấp lại: phiên bản mới / reissued: new version v2"),
        "{shown}"
    );
    assert!(
        shown.contains("điện thoại này đã nhận / received on this phone v2"),
        "{shown}"
    );
    assert!(shown.contains("v1 ĐÃ THU HỒI / REVOKED"), "{shown}");
    // Each line names the document's type, not only its id.
    assert!(
        shown.contains("Giấy phép lái xe / Driving licence GPLX-14  "),
        "{shown}"
    );

    // The old phone's licence QR passes a verifier today.
    let qr = wallet(
        &old_phone,
        &["present", &new_licence, "--preset", "traffic_stop"],
    )?;
    let old_qr = qr["qr_text"].as_str().unwrap().to_owned();
    let mut officer = Officer::pin_from(&server.client, &server.base_url())?;
    officer.sync(&server.client, &server.base_url())?;
    let verdict = officer.verify_text(&old_qr)?;
    assert!(verdict.valid, "{:?}", verdict.errors);

    // A new phone at the counter: the old phone's credentials are revoked in the same
    // transaction, the new one receives every valid document.
    let new = phones.path().join("new");
    let report = new_phone(server, &new)?;
    assert_eq!(
        received(&report),
        3,
        "ID card, licence, insurance card: {report}"
    );
    officer.sync(&server.client, &server.base_url())?;
    let verdict = officer.verify_text(&old_qr)?;
    assert!(!verdict.valid, "the old phone's QR is refused");
    assert_revoked(&verdict);
    let licence = id_of(&new, "driving_licence")?;
    let qr = wallet(&new, &["present", &licence, "--preset", "traffic_stop"])?;
    let verdict = officer.verify_text(qr["qr_text"].as_str().unwrap())?;
    assert!(verdict.valid, "{:?}", verdict.errors);
    // The old phone cannot sync any more: it is told why, and it still read the status
    // lists of what it holds, so its licence shows revoked (not valid) afterwards.
    let refused = wallet_text(&old_phone, &["sync"]).unwrap_err().to_string();
    assert!(
        refused.contains(
            "This phone's access to the citizen account ended: the account moved to another \
             phone or was closed."
        ) && refused.contains("Điện thoại này không còn truy cập được tài khoản công dân"),
        "{refused}"
    );
    assert!(!refused.contains("invalid_grant"), "{refused}");
    let (state, listed) = listed_state(&old_phone, &new_licence)?;
    assert_eq!(state, Some(json!("revoked")), "{listed}");

    // The account moves again, without the counter: the new phone (now the old one, at
    // hand) asks for the next phone's offer, the next phone activates with it; the moved
    // phone's QR is refused once the verifier refreshed its status lists.
    let moved_qr = qr["qr_text"].as_str().unwrap().to_owned();
    let transfer = wallet(&new, &["transfer"])?;
    let next = phones.path().join("next");
    wallet(&next, &["init"])?;
    let activate_transferred = |dir: &Path| {
        wallet(
            dir,
            &[
                "activate",
                transfer["offer_uri"].as_str().unwrap(),
                "--tx-code",
                transfer["tx_code"].as_str().unwrap(),
            ],
        )
    };
    let report = activate_transferred(&next)?;
    assert_eq!(
        received(&report),
        3,
        "ID card, licence, insurance card: {report}"
    );
    // The offer was redeemed: a second phone trying it is told why, not only "404".
    let again = phones.path().join("again");
    wallet(&again, &["init"])?;
    let reused = activate_transferred(&again).unwrap_err().to_string();
    assert!(
        reused.contains(
            "unexpected HTTP status 404 from the credential offer endpoint: offer not found"
        ),
        "{reused}"
    );
    // What giayto printed (the harness's message starts with the arguments given).
    let printed = reused.split_once("]: ").map_or(reused.as_str(), |(_, p)| p);
    assert!(
        !printed.contains(transfer["tx_code"].as_str().unwrap()),
        "{reused}"
    );
    officer.sync(&server.client, &server.base_url())?;
    let verdict = officer.verify_text(&moved_qr)?;
    assert!(!verdict.valid, "the moved phone's QR is refused");
    assert_revoked(&verdict);
    assert!(
        wallet(&new, &["sync"]).is_err(),
        "the moved phone's account"
    );
    let new = next;
    let licence = id_of(&new, "driving_licence")?;
    let qr = wallet(&new, &["present", &licence, "--preset", "traffic_stop"])?;
    let verdict = officer.verify_text(qr["qr_text"].as_str().unwrap())?;
    assert!(verdict.valid, "{:?}", verdict.errors);

    // Without a valid ID card the account cannot move: the server's reason is shown.
    agency::change(server, "police", "CC-14", "revoke")?;
    let refused = wallet(&new, &["transfer"]).unwrap_err().to_string();
    assert!(
        refused.contains(
            "unexpected HTTP status 409 from the account transfer endpoint: no valid ID card \
             of this citizen from this agency: an account is activated or moved only with a \
             valid ID card (the citizen can have it issued again at the agency's counter)"
        ),
        "{refused}"
    );

    // The new phone is lost: the counter deactivates the account, everything on it is
    // revoked at once.
    let url = server.url(&format!("/api/v1/accounts/{CITIZEN}/deactivate"));
    let closed = server
        .client
        .post_json(&url, Some(server.api_key("police")?), &json!({}))?
        .expect(&url, 200)?
        .json()?;
    assert_eq!(
        closed["revoked_credentials"], 2,
        "licence, insurance card (the ID card was revoked before): {closed}"
    );
    officer.sync(&server.client, &server.base_url())?;
    let qr = wallet(&new, &["present", &licence, "--preset", "traffic_stop"])?;
    let verdict = officer.verify_text(qr["qr_text"].as_str().unwrap())?;
    assert!(!verdict.valid);
    assert_revoked(&verdict);
    let refused = wallet(&new, &["sync"]).unwrap_err().to_string();
    assert!(refused.contains("\"access_ended\": true"), "{refused}");
    let (state, listed) = listed_state(&new, &licence)?;
    assert_eq!(
        state,
        Some(json!("revoked")),
        "the deactivated account's licence: {listed}"
    );
    Ok(())
}

const GUARDIAN: &str = "001080000015";
const CHILD: &str = "079216000016";

/// A phone activated for `citizen`; its first sync's report.
fn phone_of(server: &Server, dir: &Path, citizen: &str) -> Result<Value, HarnessError> {
    wallet(dir, &["init"])?;
    let offer = activation_of(server, citizen)?;
    wallet(dir, &["activate", &offer.uri, "--tx-code", &offer.tx_code])
}

fn guardian_scenario(server: &Server) -> Result<(), HarnessError> {
    let phones = tempfile::tempdir()?;
    publish_for(server, "can_cuoc", GUARDIAN, "CC-G")?;
    publish_for(server, "can_cuoc", CHILD, "CC-CHILD")?;
    publish_for(server, "health_insurance_card", CHILD, "BHYT-CHILD")?;
    let ends_at = giayto_e2e::now() + 3600;
    let url = server.url("/api/v1/guardianships");
    server
        .client
        .post_json(
            &url,
            Some(server.api_key("police")?),
            &json!({
                "guardian_citizen_id": GUARDIAN,
                "child_citizen_id": CHILD,
                "child_birth_date": "2016-05-01",
                "ends_at": ends_at,
            }),
        )?
        .expect(&url, 201)?;

    // The guardian's phone receives its own ID card and the child's documents.
    let guardian = phones.path().join("guardian");
    let report = phone_of(server, &guardian, GUARDIAN)?;
    assert_eq!(received(&report), 3, "{report}");
    let card = id_of(&guardian, "health_insurance_card")?;
    let qr = wallet(
        &guardian,
        &["present", &card, "--preset", "insurance_check"],
    )?;
    let qr = qr["qr_text"].as_str().unwrap().to_owned();

    // A hospital's verifier accepts it and shows who presented it.
    let mut hospital = Officer::pin_from(&server.client, &server.base_url())?;
    hospital.sync(&server.client, &server.base_url())?;
    let verdict = hospital.verify_text(&qr)?;
    assert!(verdict.valid, "{:?}", verdict.errors);
    let representation = &verdict.claims_json["representation"];
    assert_eq!(
        representation["type"], "guardian",
        "{:?}",
        verdict.claims_json
    );
    assert_eq!(representation["representative"]["personal_id"], GUARDIAN);
    // Labelled in both languages, its end a date rather than Unix seconds.
    let until = verdict
        .claims
        .iter()
        .find(|c| c.path == "representation.valid_until")
        .expect("the representation's end is shown");
    let names = until.label.as_ref().expect("labelled");
    assert_eq!(
        (names.vi.as_ref(), names.en.as_ref()),
        ("Đại diện đến", "Representation valid until")
    );
    // The history says whose document a guardian's copy is.
    let history = wallet_text(&guardian, &["history"])?;
    assert!(
        history.contains(&format!(
            "Thẻ bảo hiểm y tế / Health insurance card BHYT-CHILD (giấy tờ của / document of \
             {CHILD})"
        )),
        "{history}"
    );
    let shown = wallet_text(&guardian, &["show", &card])?;
    let line = shown
        .lines()
        .find(|l| l.contains("Đại diện đến / Representation valid until: "))
        .unwrap_or_else(|| panic!("{shown}"));
    assert!(!line.contains(&ends_at.to_string()), "{line}");
    assert!(line.contains(" / ") && line.contains("(UTC"), "{line}");

    // The child turns 14 (the verifier's clock moved past the guardianship's end): refused.
    let verdict = hospital.verify_text_at(&qr, ends_at + 600)?;
    assert!(!verdict.valid);
    assert!(
        verdict
            .errors
            .iter()
            .any(|f| f.code == FailureCode::Expired),
        "{:?}",
        verdict.errors
    );

    // The child's own account receives the documents.
    let child = phones.path().join("child");
    let report = phone_of(server, &child, CHILD)?;
    assert_eq!(received(&report), 2, "{report}");
    Ok(())
}

const HOLDER: &str = "001090000017";

/// The wallet reads the status lists of what it holds: a licence received by its own offer
/// (no inbox link) is marked revoked by its status list; a quiet sync reads the list with
/// a `304`.
fn status_list_scenario(server: &Server) -> Result<(), HarnessError> {
    let phones = tempfile::tempdir()?;
    let phone = phones.path().join("phone");
    wallet(&phone, &["init"])?;
    let licence = agency::document("driving_licence", HOLDER, "GPLX-17")?;
    let licence_agency = licence.agency;
    let (_, offer) = agency::publish(server, &licence)?;
    wallet(
        &phone,
        &["receive", &offer.uri, "--tx-code", &offer.tx_code],
    )?;
    let by_offer = id_of(&phone, "driving_licence")?;
    publish_for(server, "can_cuoc", HOLDER, "CC-17")?;
    let offer = activation_of(server, HOLDER)?;
    wallet(
        &phone,
        &["activate", &offer.uri, "--tx-code", &offer.tx_code],
    )?;

    // Nothing new: the inbox and the status list answer 304.
    let report = wallet(&phone, &["sync"])?;
    assert_eq!(report["unchanged"], true, "{report}");
    assert_eq!(report["marked"], json!([]), "{report}");
    assert_eq!(report["status_lists"]["failures"], json!([]), "{report}");
    assert!(
        report["status_lists"]["not_modified"].as_u64().unwrap() >= 1,
        "{report}"
    );

    // The agency revokes the licence: the copy received by its offer is marked too.
    agency::change(server, licence_agency, "GPLX-17", "revoke")?;
    let report = wallet(&phone, &["sync"])?;
    let marked = report["marked"].as_array().unwrap();
    assert!(
        marked.contains(&json!({ "id": by_offer, "state": "revoked" })),
        "{report}"
    );
    let (state, listed) = listed_state(&phone, &by_offer)?;
    assert_eq!(state, Some(json!("revoked")), "{listed}");
    let shown = wallet(&phone, &["show", &by_offer])?;
    assert_eq!(shown["state"], "revoked", "{shown}");
    Ok(())
}
