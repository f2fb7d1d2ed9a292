//! Issue 12 against the real `giayto-server` binary, on SQLite and PostgreSQL: a fresh
//! verifier that knows only the pinned anchor and the trust list URL syncs every status
//! list (Status List Aggregation from the trust list, conditional requests), the server
//! stops, and it verifies with status checked a document of each type whose list no
//! presentation ever showed it; a revocation appears after the next delta sync, in which
//! only the changed list's body is transferred (counted on the wire); a broken list in the
//! aggregation does not stop the others. The same through the `giayto` command: `giayto
//! verifier sync` into a cache folder, then `giayto verify --cache --offline`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use giayto_core::catalogue;
use giayto_core::verifier::{StatusView, SyncReport};
use giayto_e2e::HarnessError;
use giayto_e2e::agency::{self, Document};
use giayto_e2e::officer::{Officer, credential_facts};
use giayto_e2e::phone::Phone;
use giayto_e2e::server::{Backend, Server, giayto_binary};
use serde_json::Value;

const CITIZEN: &str = "001090000001";

#[test]
fn offline_status_on_sqlite() {
    run(Backend::Sqlite);
}

#[test]
fn offline_status_on_postgres() {
    run(Backend::Postgres);
}

fn run(backend: Backend) {
    let Some(mut server) = Server::start(backend).unwrap() else {
        return;
    };
    if let Err(e) = scenario(&mut server) {
        panic!(
            "{backend:?} offline status failed: {e}\n--- server log ---\n{}",
            server.log()
        );
    }
}

/// Full bodies (2xx) and 304s the verifier received, by URL: counted on the wire, apart
/// from what the sync reports.
#[derive(Default)]
struct Wire {
    bodies: BTreeMap<String, usize>,
    not_modified: BTreeMap<String, usize>,
}

/// Loads the current trust list into `officer` and runs a sync, counting on `wire` what
/// came back.
fn sync(
    officer: &mut Officer,
    server: &Server,
    wire: &mut Wire,
) -> Result<SyncReport, HarnessError> {
    let url = server.url("/trust-list");
    let token = server.client.get(&url, None)?.expect(&url, 200)?.text()?;
    officer.load_trust_list(&token)?;
    officer.sync_with(|request| {
        let response = server.client.perform(request)?;
        let counter = match response.status {
            304 => &mut wire.not_modified,
            200..=299 => &mut wire.bodies,
            _ => return Ok(response),
        };
        *counter.entry(request.url.clone()).or_default() += 1;
        Ok(response)
    })
}

fn scenario(server: &mut Server) -> Result<(), HarnessError> {
    let client = server.client.clone();
    let desk = tempfile::tempdir()?;
    let anchor = desk.path().join("anchor.json");
    std::fs::write(
        &anchor,
        client
            .get(&server.url("/trust-anchor.json"), None)?
            .expect("anchor", 200)?
            .body,
    )?;
    // A desk synced before anything was issued: it holds the trust list and no status list.
    let early = desk.path().join("early");
    let (code, out) = giayto(&[
        "--json",
        "verifier",
        "sync",
        "--cache",
        early.to_str().unwrap(),
        "--anchor",
        anchor.to_str().unwrap(),
        "--trust-list",
        &server.url("/trust-list"),
    ])?;
    assert_eq!(code, 0, "{out}");
    let early_report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(early_report["report"]["lists"], 0, "{out}");

    // One document of each type, received by the citizen's phone.
    let docs: Vec<Document> = agency::documents_for(&[CITIZEN])?;
    assert_eq!(docs.len(), 6);
    let mut phone = Phone::new()?;
    let mut held = Vec::new();
    for doc in &docs {
        let (status, offer) = agency::publish(server, doc)?;
        assert_eq!(status, 201);
        let wallet_id = phone.receive(&client, &offer)?;
        let (_, _, status_ref) = credential_facts(&phone.credential(&wallet_id)?)?;
        held.push((doc.clone(), wallet_id, status_ref.uri));
    }
    let lists: BTreeSet<String> = held.iter().map(|(_, _, uri)| uri.clone()).collect();
    // Each of the three agencies has its own list.
    assert_eq!(lists.len(), 3, "{lists:?}");

    // A fresh verifier: the pinned anchor and the trust list URL, nothing else.
    let mut officer = Officer::pin_from(&client, &server.base_url())?;
    assert!(officer.device().status_cache().is_empty());
    let mut wire = Wire::default();
    let report = sync(&mut officer, server, &mut wire)?;
    assert_eq!(report.failures, vec![], "{report:?}");
    assert_eq!(report.aggregations, 3, "one per agency: {report:?}");
    assert_eq!((report.lists, report.downloaded), (3, 3), "{report:?}");
    assert_eq!(wire.bodies.keys().filter(|u| lists.contains(*u)).count(), 3);

    // The same from the desk tool, into a cache folder.
    let cache = desk.path().join("cache");
    let (code, out) = giayto(&[
        "--json",
        "verifier",
        "sync",
        "--cache",
        cache.to_str().unwrap(),
        "--anchor",
        anchor.to_str().unwrap(),
        "--trust-list",
        &server.url("/trust-list"),
    ])?;
    assert_eq!(code, 0, "{out}");
    let desk_report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(desk_report["report"]["downloaded"], 3, "{out}");

    // Online, the early desk fetches the list it lacks by itself and keeps it in its folder.
    let (licence, licence_id, licence_list) = held[1].clone();
    let shown = phone.show(&licence_id, first_preset(licence.type_id))?;
    let (code, out) = giayto(&[
        "--json",
        "verify",
        "--cache",
        early.to_str().unwrap(),
        &shown.text,
    ])?;
    assert_eq!(code, 0, "{out}");
    let state = std::fs::read_to_string(early.join("state.json"))?;
    assert!(
        state.contains(&licence_list),
        "the fetched list joins the folder"
    );

    // Offline: the server stops. Every document verifies with its status checked, though
    // no presentation ever named its list to this verifier.
    server.stop()?;
    let shown = phone.show(&licence_id, first_preset(licence.type_id))?;
    let (code, out) = giayto(&[
        "--json",
        "verify",
        "--cache",
        early.to_str().unwrap(),
        "--offline",
        &shown.text,
    ])?;
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["status"],
        "valid"
    );
    for (doc, wallet_id, uri) in &held {
        let preset = first_preset(doc.type_id);
        let qr = phone.show(wallet_id, preset)?;
        let verdict = officer.verify_text(&qr.text)?;
        assert!(
            verdict.valid,
            "{}: {:?} {:?}",
            doc.type_id, verdict.errors, verdict.warnings
        );
        assert_eq!(verdict.status, StatusView::Valid, "{}", doc.type_id);
        assert_eq!(
            verdict
                .status_freshness
                .as_ref()
                .map(|f| f.list_uri.as_str()),
            Some(uri.as_str())
        );
        let qr = phone.show(wallet_id, preset)?;
        let (code, out) = giayto(&[
            "--json",
            "verify",
            "--cache",
            cache.to_str().unwrap(),
            "--offline",
            &qr.text,
        ])?;
        assert_eq!(code, 0, "{}: {out}", doc.type_id);
        let verdict: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(verdict["status"], "valid", "{}: {out}", doc.type_id);
    }

    // A revocation, then the next (delta) sync: only the changed list's body comes back.
    server.start_again()?;
    let (revoked, revoked_id, revoked_list) = held[1].clone();
    agency::change(server, revoked.agency, revoked.document_id(), "revoke")?;
    let mut wire = Wire::default();
    let report = sync(&mut officer, server, &mut wire)?;
    assert_eq!(report.failures, vec![], "{report:?}");
    assert_eq!(
        (report.downloaded, report.not_modified),
        (1, 2),
        "{report:?}"
    );
    let list_bodies: Vec<&String> = wire.bodies.keys().filter(|u| lists.contains(*u)).collect();
    assert_eq!(list_bodies, [&revoked_list], "only the changed list");
    assert_eq!(wire.not_modified.len(), 2);
    let (code, out) = giayto(&[
        "--json",
        "verifier",
        "sync",
        "--cache",
        cache.to_str().unwrap(),
    ])?;
    assert_eq!(code, 0, "{out}");
    let desk_report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(desk_report["report"]["downloaded"], 1, "{out}");
    assert_eq!(desk_report["report"]["not_modified"], 2, "{out}");

    server.stop()?;
    let preset = first_preset(revoked.type_id);
    let verdict = officer.verify_text(&phone.show(&revoked_id, preset)?.text)?;
    assert_eq!(verdict.status, StatusView::Revoked);
    let (code, out) = giayto(&[
        "--json",
        "verify",
        "--cache",
        cache.to_str().unwrap(),
        "--offline",
        &phone.show(&revoked_id, preset)?.text,
    ])?;
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["status"],
        "revoked"
    );

    // A broken list in the police's aggregation (its token cannot be built: the server
    // answers 500) does not stop the others.
    server.execute(
        "INSERT INTO status_lists (id, agency_id, bits, size, is_full, created_at, updated_at) \
         VALUES ('ffffffffffffffffffffffffffffffff', 'police', 2, -5, 1, 0, 0)",
    )?;
    server.start_again()?;
    agency::change(server, held[0].0.agency, held[0].0.document_id(), "suspend")?;
    let mut fresh = Officer::pin_from(&client, &server.base_url())?;
    let report = sync(&mut fresh, server, &mut Wire::default())?;
    assert_eq!(report.lists, 4, "{report:?}");
    assert_eq!(report.downloaded, 3, "{report:?}");
    assert_eq!(report.failures.len(), 1, "{report:?}");
    assert!(
        report.failures[0]
            .uri
            .ends_with("/status-lists/ffffffffffffffffffffffffffffffff"),
        "{report:?}"
    );
    assert!(report.failures[0].reason.contains("500"), "{report:?}");
    server.stop()?;
    let preset = first_preset(held[0].0.type_id);
    let verdict = fresh.verify_text(&phone.show(&held[0].1, preset)?.text)?;
    assert_eq!(verdict.status, StatusView::Suspended);
    Ok(())
}

/// The first disclosure preset of a document type.
fn first_preset(type_id: &str) -> &'static str {
    catalogue::by_id(type_id)
        .unwrap()
        .presets()
        .first()
        .unwrap()
        .name
}

/// Runs the `giayto` command; returns its exit code and stdout.
fn giayto(args: &[&str]) -> Result<(i32, String), HarnessError> {
    let out = Command::new(giayto_binary()?).args(args).output()?;
    Ok((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    ))
}
