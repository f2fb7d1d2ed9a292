//! The whole journey against the real `giayto-server` binary, once on SQLite and once on
//! PostgreSQL: three agencies publish all six document types for three citizens; each
//! citizen's phone receives them by OpenID4VCI; every preset is shown as a QR image and
//! verified by an officer holding only cached lists, with the server stopped; replays and
//! another phone's key are refused; a revocation and a suspension are caught after a
//! refresh; a key rotation keeps old documents valid and signs new ones with the new `kid`;
//! a restart keeps everything; a SIGKILL in the middle of a bulk publish loses nothing and
//! duplicates nothing when the same file is sent again.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::BTreeSet;
use std::io::Read;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use giayto_core::catalogue;
use giayto_core::verifier::{FailureCode, HolderBinding, StatusView, Verdict};
use giayto_e2e::HarnessError;
use giayto_e2e::agency::{self, Document, Offer};
use giayto_e2e::officer::{Officer, StatusRef, credential_facts};
use giayto_e2e::phone::Phone;
use giayto_e2e::server::{Backend, Server};

const CITIZENS: [&str; 3] = ["001090000001", "079085000002", "048199000003"];

#[test]
fn journey_on_sqlite() {
    run(Backend::Sqlite, true);
}

#[test]
fn journey_on_postgres() {
    run(Backend::Postgres, false);
}

/// Runs the journey; `scan_images`: every preset goes through a QR image, not only text.
fn run(backend: Backend, scan_images: bool) {
    let started = Instant::now();
    let Some(mut server) = Server::start(backend).unwrap() else {
        return;
    };
    if let Err(e) = journey(&mut server, scan_images) {
        panic!(
            "{backend:?} journey failed: {e}\n--- server log ---\n{}",
            server.log()
        );
    }
    eprintln!(
        "{backend:?} journey: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// A document on a phone.
struct Held {
    phone: usize,
    wallet_id: String,
    doc: Document,
    kid: String,
    status: StatusRef,
}

fn step(name: &str, since: &mut Instant) {
    eprintln!("  {name}: {:.2} s", since.elapsed().as_secs_f64());
    *since = Instant::now();
}

fn journey(server: &mut Server, scan_images: bool) -> Result<(), HarnessError> {
    let mut t = Instant::now();
    let client = server.client.clone();

    // Agencies publish: the first citizen's documents one by one, the others' in bulk.
    let docs = agency::documents_for(&CITIZENS)?;
    let mut offers: Vec<(usize, Document, Offer)> = Vec::new();
    for (i, doc) in docs.iter().enumerate().filter(|(i, _)| i / 6 == 0) {
        let (status, offer) = agency::publish(server, doc)?;
        assert_eq!(status, 201, "{}", doc.document_id());
        // Publishing the same document again is idempotent: the same offer comes back.
        assert_eq!(agency::publish(server, doc)?, (200, offer.clone()));
        offers.push((i / 6, doc.clone(), offer));
    }
    for agency_id in ["police", "justice", "social-insurance"] {
        let batch: Vec<Document> = docs
            .iter()
            .skip(6)
            .filter(|d| d.agency == agency_id)
            .cloned()
            .collect();
        let lines = agency::bulk(server, agency_id, &agency::ndjson(&batch))?;
        assert_eq!(lines.len(), batch.len());
        for (line, doc) in lines.iter().zip(&batch) {
            assert_eq!(line["status"], 201, "{line}");
            assert_eq!(line["document_id"], doc.document_id());
            let citizen = CITIZENS
                .iter()
                .position(|c| doc.request["citizen_id"] == *c)
                .unwrap();
            offers.push((citizen, doc.clone(), Offer::from_json(&line["offer"])?));
        }
    }
    assert_eq!(offers.len(), 18);
    step("publish 18 documents", &mut t);

    // Each citizen's phone receives its documents.
    let mut phones: Vec<Phone> = (0..CITIZENS.len())
        .map(|_| Phone::new())
        .collect::<Result<_, _>>()?;
    let mut held: Vec<Held> = Vec::new();
    for (citizen, doc, offer) in &offers {
        let wallet_id = phones[*citizen].receive(&client, offer)?;
        let (iss, kid, status) = credential_facts(&phones[*citizen].credential(&wallet_id)?)?;
        assert_eq!(iss, server.url(&format!("/agencies/{}", doc.agency)));
        held.push(Held {
            phone: *citizen,
            wallet_id,
            doc: doc.clone(),
            kid,
            status,
        });
    }
    for phone in &phones {
        assert_eq!(
            phone
                .wallet()
                .documents()
                .map_err(|e| HarnessError::Unexpected(e.to_string()))?
                .len(),
            6
        );
    }
    // A redeemed offer cannot be used again.
    assert!(Phone::new()?.receive(&client, &offers[0].2).is_err());
    step("receive 18 documents by OpenID4VCI", &mut t);

    // The officer refreshes while online; then the server goes away.
    let mut officer = Officer::pin_from(&client, &server.base_url())?;
    let refs = status_refs(&held);
    officer.refresh(&client, &server.base_url(), &refs)?;
    assert_eq!(officer.trust_list().unwrap().list().issuers.len(), 3);
    server.stop()?;
    assert!(
        client.get(&server.url("/healthz"), None).is_err(),
        "the server is down"
    );

    // Every preset of every document verified offline: on one backend the first citizen's
    // as QR images (rendered, then scanned; a second or so each unoptimised), otherwise as
    // the QR text the image holds.
    let (mut images, mut texts) = (0, 0);
    for h in &held {
        let t = catalogue::by_id(h.doc.type_id).unwrap();
        let full = phones[h.phone].show(&h.wallet_id, "full")?;
        let full_claims = officer.verify_text(&full.text)?.claims_json.len();
        for preset in t.presets() {
            let qr = phones[h.phone].show(&h.wallet_id, preset.name)?;
            let verdict = if scan_images && h.phone == 0 {
                images += 1;
                officer.scan(&qr.png()?)?
            } else {
                texts += 1;
                officer.verify_text(&qr.text)?
            };
            expect_valid(&verdict, h, server)?;
            check_disclosure(&verdict, h.doc.type_id, preset.name, full_claims);
        }
    }
    assert!(texts >= 12 * 3, "{texts} texts");
    assert!(!scan_images || images >= 6 * 3, "{images} images");
    step(
        &format!("{images} QR images and {texts} QR texts verified offline"),
        &mut t,
    );

    // A replayed QR is refused by the same officer.
    let h = &held[1];
    let qr = phones[h.phone].show(&h.wallet_id, "traffic_stop")?;
    assert!(officer.scan(&qr.png()?)?.valid);
    let replay = officer.scan(&qr.png()?)?;
    assert!(
        !replay.valid && replay.has_error(FailureCode::Replayed),
        "{:?}",
        replay.errors
    );
    // A presentation of this citizen's licence signed by another phone's key is refused.
    let forged =
        phones[h.phone].show_signed_by(&h.wallet_id, "traffic_stop", phones[2].holder())?;
    let verdict = officer.scan(&forged.png()?)?;
    assert!(
        !verdict.valid && verdict.has_error(FailureCode::KeyBindingInvalid),
        "{:?}",
        verdict.errors
    );
    assert_eq!(verdict.holder_binding, HolderBinding::Failed);
    step("replay and foreign key refused", &mut t);

    // Back online: the police revoke a driving licence, social insurance suspends a card.
    server.start_again()?;
    let revoked = held
        .iter()
        .position(|h| h.doc.type_id == "driving_licence" && h.phone == 0)
        .unwrap();
    let suspended = held
        .iter()
        .position(|h| h.doc.type_id == "health_insurance_card" && h.phone == 1)
        .unwrap();
    let r = agency::change(server, "police", held[revoked].doc.document_id(), "revoke")?;
    assert_eq!(r["document"]["state"], "revoked");
    let s = agency::change(
        server,
        "social-insurance",
        held[suspended].doc.document_id(),
        "suspend",
    )?;
    assert_eq!(s["document"]["state"], "suspended");
    officer.refresh(&client, &server.base_url(), &refs)?;
    server.stop()?;
    let mut verdicts = verify_all(&mut officer, &phones, &held, server, revoked, suspended)?;
    step("revocation and suspension caught offline", &mut t);

    // Key rotation: old documents still verify; new ones carry the new kid.
    server.start_again()?;
    let old_kid = held
        .iter()
        .find(|h| h.doc.agency == "police")
        .unwrap()
        .kid
        .clone();
    let out = server.admin(&["agency", "rotate-key", "--id", "police"])?;
    let new_kid = out
        .split_whitespace()
        .skip_while(|w| *w != "key")
        .nth(1)
        .map(|k| k.trim_end_matches(';').to_owned())
        .unwrap();
    assert_ne!(new_kid, old_kid);
    let fresh = agency::document(
        "vehicle_registration",
        CITIZENS[0],
        "vehicle_registration-after-rotation",
    )?;
    let (_, offer) = agency::publish(server, &fresh)?;
    let wallet_id = phones[0].receive(&client, &offer)?;
    let (_, kid, status) = credential_facts(&phones[0].credential(&wallet_id)?)?;
    assert_eq!(kid, new_kid, "new documents are signed with the new key");
    held.push(Held {
        phone: 0,
        wallet_id,
        doc: fresh,
        kid,
        status,
    });
    let refs = status_refs(&held);
    officer.refresh(&client, &server.base_url(), &refs)?;
    let police = officer
        .trust_list()
        .unwrap()
        .issuer(&server.url("/agencies/police"))
        .unwrap()
        .jwks
        .clone();
    assert!(police.find(&old_kid).is_some() && police.find(&new_kid).is_some());
    verdicts = {
        let after = verify_all(&mut officer, &phones, &held, server, revoked, suspended)?;
        assert_eq!(
            &after[..verdicts.len()],
            &verdicts[..],
            "rotation changed no earlier verdict"
        );
        after
    };
    step("key rotation", &mut t);

    // Restart: every document, key and status survives.
    let jwks_before = client
        .get(&server.url("/.well-known/jwks.json"), None)?
        .json()?;
    let states_before: Vec<serde_json::Value> = held
        .iter()
        .map(|h| {
            agency::read(server, h.doc.agency, h.doc.document_id()).map(|d| d["document"].clone())
        })
        .collect::<Result<_, _>>()?;
    server.restart()?;
    assert_eq!(
        client
            .get(&server.url("/.well-known/jwks.json"), None)?
            .json()?,
        jwks_before
    );
    for (h, before) in held.iter().zip(&states_before) {
        let after = agency::read(server, h.doc.agency, h.doc.document_id())?;
        assert_eq!(&after["document"], before);
    }
    let mut officer = Officer::pin_from(&client, &server.base_url())?;
    officer.refresh(&client, &server.base_url(), &refs)?;
    let after = verify_all(&mut officer, &phones, &held, server, revoked, suspended)?;
    assert_eq!(after, verdicts);
    step("restart", &mut t);

    kill_during_bulk(server, &mut phones[0])?;
    step("SIGKILL during bulk publish, resend", &mut t);
    Ok(())
}

fn status_refs(held: &[Held]) -> BTreeSet<StatusRef> {
    held.iter().map(|h| h.status.clone()).collect()
}

/// What the officer concluded about each held document: valid, revoked or suspended.
fn verify_all(
    officer: &mut Officer,
    phones: &[Phone],
    held: &[Held],
    server: &Server,
    revoked: usize,
    suspended: usize,
) -> Result<Vec<StatusView>, HarnessError> {
    let mut out = Vec::new();
    for (i, h) in held.iter().enumerate() {
        let qr = phones[h.phone].show(&h.wallet_id, "identity")?;
        let verdict = officer.verify_text(&qr.text)?;
        if i == revoked {
            assert!(
                !verdict.valid && verdict.has_error(FailureCode::Revoked),
                "{:?}",
                verdict.errors
            );
            assert_eq!(
                verdict.errors.len(),
                1,
                "only the revocation: {:?}",
                verdict.errors
            );
        } else if i == suspended {
            assert!(
                !verdict.valid && verdict.has_error(FailureCode::Suspended),
                "{:?}",
                verdict.errors
            );
            assert_eq!(
                verdict.errors.len(),
                1,
                "only the suspension: {:?}",
                verdict.errors
            );
        } else {
            expect_valid(&verdict, h, server)?;
        }
        out.push(verdict.status);
    }
    Ok(out)
}

fn expect_valid(verdict: &Verdict, h: &Held, server: &Server) -> Result<(), HarnessError> {
    if !verdict.valid {
        return Err(HarnessError::Unexpected(format!(
            "{} refused: {:?}",
            h.doc.document_id(),
            verdict.errors
        )));
    }
    let t = catalogue::by_id(h.doc.type_id).unwrap();
    assert_eq!(verdict.document_type.as_ref().unwrap().vct, t.vct);
    assert_eq!(
        verdict.issuer.as_ref().unwrap().id,
        server.url(&format!("/agencies/{}", h.doc.agency))
    );
    assert!(matches!(
        verdict.holder_binding,
        HolderBinding::Verified { .. }
    ));
    assert_eq!(verdict.status, StatusView::Valid);
    Ok(())
}

/// The disclosed claims are those of the preset: each claim it names is shown when the
/// document has it, `full` shows every claim, a narrower preset shows fewer, and an age
/// check never reveals the birth date.
fn check_disclosure(verdict: &Verdict, type_id: &str, preset: &str, full_claims: usize) {
    let claims = &verdict.claims_json;
    let t = catalogue::by_id(type_id).unwrap();
    let example = catalogue::examples::example_claims(type_id).unwrap();
    for path in t.preset(preset).unwrap().claims {
        let top = path.split('/').next().unwrap();
        if example.get(top).is_some() || top == "age_equal_or_over" {
            assert!(claims.contains_key(top), "{type_id}/{preset} lacks {top}");
        }
    }
    match preset {
        "full" => {
            for key in example.as_object().unwrap().keys() {
                assert!(claims.contains_key(key), "{type_id}/full lacks {key}");
            }
        }
        "age_over_18" => {
            assert!(
                !claims.contains_key("birth_date"),
                "{type_id}/age_over_18 shows the birth date"
            );
            assert!(claims.len() < full_claims);
        }
        _ => assert!(
            claims.len() < full_claims,
            "{type_id}/{preset} shows every claim"
        ),
    }
}

/// A reader that hands out `body`, stops after `pause_at` bytes until told to go on, and
/// then fails (the connection is gone by then).
struct PausingReader {
    body: Vec<u8>,
    pos: usize,
    pause_at: usize,
    reached: Option<mpsc::Sender<()>>,
    resume: mpsc::Receiver<()>,
}

impl Read for PausingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos >= self.pause_at {
            if let Some(tx) = self.reached.take() {
                let _ = tx.send(());
            }
            let _ = self.resume.recv();
            return Err(std::io::Error::other("the server was killed"));
        }
        let n = buf.len().min(self.pause_at - self.pos).min(4096);
        buf[..n].copy_from_slice(&self.body[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn kill_during_bulk(server: &mut Server, phone: &mut Phone) -> Result<(), HarnessError> {
    const LINES: usize = 1200;
    let docs: Vec<Document> = (0..LINES)
        .map(|i| {
            agency::document(
                "can_cuoc",
                &format!("0010911{i:05}"),
                &format!("bulk-{i:05}"),
            )
        })
        .collect::<Result<_, _>>()?;
    let body = agency::ndjson(&docs);
    let (before, _) = server.count_documents("police")?;
    // Send a little more than two transactions' worth (256 lines each), then hold.
    let pause_at = body
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(599)
        .map(|(i, _)| i + 1)
        .unwrap();
    let (reached_tx, reached_rx) = mpsc::channel();
    let (resume_tx, resume_rx) = mpsc::channel();
    let reader = PausingReader {
        body: body.clone(),
        pos: 0,
        pause_at,
        reached: Some(reached_tx),
        resume: resume_rx,
    };
    let client = server.client.clone();
    let url = server.url("/api/v1/bulk/documents");
    let key = server.api_key("police")?.to_owned();
    let sender =
        std::thread::spawn(move || client.post_reader(&url, &key, "application/x-ndjson", reader));
    reached_rx
        .recv_timeout(Duration::from_secs(60))
        .map_err(|_| HarnessError::Unexpected("the bulk body was not sent".into()))?;
    // Wait until the second transaction (lines 257-512) is committed, then SIGKILL.
    let deadline = Instant::now() + Duration::from_secs(60);
    while server
        .client
        .get(
            &server.url("/api/v1/documents/bulk-00511"),
            Some(server.api_key("police")?),
        )?
        .status
        != 200
    {
        assert!(
            Instant::now() < deadline,
            "the first transactions never committed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    server.kill()?;
    let _ = resume_tx.send(());
    assert!(
        sender.join().unwrap().is_err(),
        "the interrupted upload fails"
    );
    let (after_kill, distinct) = server.count_documents("police")?;
    assert_eq!(after_kill, distinct);
    let committed = usize::try_from(after_kill - before).unwrap();
    assert!(
        (512..LINES).contains(&committed),
        "{committed} lines committed before the kill"
    );
    eprintln!("    {committed} of {LINES} lines were committed when the server was killed");

    server.start_again()?;
    let offer_before = agency::read(server, "police", "bulk-00000")?["offer"].clone();
    let lines = agency::bulk(server, "police", &body)?;
    assert_eq!(lines.len(), LINES);
    let mut replayed = 0;
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line["line"], i + 1);
        assert_eq!(line["document_id"], docs[i].document_id());
        match line["status"].as_u64() {
            Some(200) => replayed += 1,
            Some(201) => {}
            _ => panic!("line {}: {line}", i + 1),
        }
        assert!(line["offer"].is_object(), "line {} has an offer", i + 1);
    }
    assert_eq!(
        replayed, committed,
        "exactly the committed lines were already there"
    );
    assert_eq!(
        lines[0]["offer"], offer_before,
        "the earlier offer, not a second one"
    );
    assert_eq!(
        server.count_documents("police")?,
        (before + LINES as i64, before + LINES as i64)
    );
    // Documents from both sides of the kill reach a phone.
    for i in [0, LINES - 1] {
        let id = phone.receive(&server.client, &Offer::from_json(&lines[i]["offer"])?)?;
        assert_eq!(
            phone
                .wallet()
                .document(&id)
                .map_err(|e| HarnessError::Unexpected(e.to_string()))?
                .vct,
            catalogue::by_id("can_cuoc").unwrap().vct
        );
    }
    Ok(())
}
