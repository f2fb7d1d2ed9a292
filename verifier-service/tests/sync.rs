//! The background refresh over real HTTP: a fresh service learns the trust list and every
//! status list from the issuer's URLs (core's status sync: the trust list names the
//! issuer's Status List Aggregation, which names the lists), a revocation published later
//! shows after the next run, an unreachable trust list keeps the lists in use, and the
//! state saved in a state folder serves a restarted service at once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use giayto_core::verifier::{StatusView, VerifierDevice};
use giayto_core::wallet::{Binding, Selection, present_credential};
use giayto_verifier::identity::VerifierIdentity;
use giayto_verifier::service::Verifier;
use giayto_verifier::store::Limits;
use giayto_verifier::sync::{self, SyncOutcome};
use serde_json::json;
use support::*;

/// What the issuer's server publishes, changed by the test.
#[derive(Clone, Default)]
struct Published {
    trust_list: Arc<Mutex<String>>,
    status_list: Arc<Mutex<String>>,
}

/// Serves `/trust-list`, `/status-lists` (the aggregation) and `/status-lists/1`; returns
/// the base URL.
async fn issuer_server(published: Published) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let list_uri = format!("{base}/status-lists/1");
    let app = Router::new()
        .route(
            "/trust-list",
            get(|State(p): State<Published>| async move { p.trust_list.lock().unwrap().clone() }),
        )
        .route(
            "/status-lists",
            get(move || async move { axum::Json(json!({ "status_lists": [list_uri] })) }),
        )
        .route(
            "/status-lists/1",
            get(|State(p): State<Published>| async move { p.status_list.lock().unwrap().clone() }),
        )
        .with_state(published);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

async fn run(world: &World, service: &Arc<Verifier>, url: String) -> Result<SyncOutcome, String> {
    let (service, anchors) = (service.clone(), anchors(&world.anchor));
    tokio::task::spawn_blocking(move || {
        let now = service.now();
        sync::sync_once(&service, &anchors, &sync::agent(), &url, now)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_service_syncs_from_the_issuers_urls_and_sees_a_later_revocation() {
    let world = world();
    let published = Published::default();
    let base = issuer_server(published.clone()).await;
    let list_uri = format!("{base}/status-lists/1");
    let trust = trust_list_json(&world.issuer, Some(&format!("{base}/status-lists")));
    *published.trust_list.lock().unwrap() = sign_trust_list(trust, &world.anchor);
    *published.status_list.lock().unwrap() =
        status_list_token_at(&world.issuer, &list_uri, &[], NOW - 60);

    let identity = VerifierIdentity::from_pem(
        world.certs.leaf_key_pem.as_bytes(),
        world.certs.leaf_pem.as_bytes(),
    )
    .unwrap();
    let device = VerifierDevice::new(anchors(&world.anchor), identity.client_id()).unwrap();
    let clock = world.clock.clone();
    let service = Arc::new(Verifier::new(
        device,
        identity,
        url::Url::parse("https://verifier.example").unwrap(),
        Limits {
            request_ttl: 60,
            result_ttl: 60,
            max_requests: 8,
        },
        Arc::new(move || clock.load(std::sync::atomic::Ordering::SeqCst)),
    ));
    assert!(service.device().trust_list().is_none());

    let outcome = run(&world, &service, format!("{base}/trust-list"))
        .await
        .unwrap();
    assert_eq!(outcome.issuers, 1);
    assert_eq!(
        (outcome.status.aggregations, outcome.status.downloaded),
        (1, 1),
        "{:?}",
        outcome.status
    );
    assert!(
        outcome.status.failures.is_empty(),
        "{:?}",
        outcome.status.failures
    );

    let credential = world.credential_at(&list_uri, 3);
    let show = |now: i64| {
        present_credential(
            &credential,
            &Selection::Preset("insurance_check".into()),
            &Binding::OneWay,
            &world.holder,
            now,
        )
        .unwrap()
        .qr_text
    };
    assert_eq!(
        service.verify_qr_text(&show(world.now())).status,
        StatusView::Valid
    );

    // The issuer revokes index 3; the next run downloads the new list.
    world.advance(120);
    *published.status_list.lock().unwrap() =
        status_list_token_at(&world.issuer, &list_uri, &[3], world.now() - 10);
    let outcome = run(&world, &service, format!("{base}/trust-list"))
        .await
        .unwrap();
    assert_eq!(outcome.status.downloaded, 1, "{:?}", outcome.status);
    assert_eq!(
        service.verify_qr_text(&show(world.now())).status,
        StatusView::Revoked
    );

    // The issuer's server cannot be reached: the run fails, the lists in use stay.
    let error = run(&world, &service, "http://127.0.0.1:9/trust-list".into())
        .await
        .unwrap_err();
    assert!(error.contains("127.0.0.1:9/trust-list"), "{error}");
    assert!(service.device().trust_list().is_some());
    assert_eq!(service.device().status_cache().len(), 1);

    // With a state folder, a restarted service verifies at once, the issuer still down.
    let dir = tempfile::tempdir().unwrap();
    let mut restarted = VerifierDevice::new(anchors(&world.anchor), "restarted").unwrap();
    assert!(!sync::load_state(&mut restarted, dir.path(), world.now()).unwrap());
    sync::save_state(&service, dir.path()).unwrap();
    assert!(sync::load_state(&mut restarted, dir.path(), world.now()).unwrap());
    assert!(restarted.trust_list().is_some());
    let verdict = restarted
        .verify_qr_text(&show(world.now()), world.now())
        .unwrap()
        .verdict;
    assert_eq!(verdict.status, StatusView::Revoked);
    std::fs::write(dir.path().join(sync::STATE_FILE), b"{not json").unwrap();
    assert!(sync::load_state(&mut restarted, dir.path(), world.now()).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_list_issued_since_the_last_sync_is_fetched_when_a_verified_document_names_it() {
    let world = world();
    let published = Published::default();
    let base = issuer_server(published.clone()).await;
    let list_uri = format!("{base}/status-lists/1");
    *published.status_list.lock().unwrap() =
        status_list_token_at(&world.issuer, &list_uri, &[9], NOW - 60);
    // A service synced before the list existed: it has the trust list, not the list.
    let fresh_service = || {
        let identity = VerifierIdentity::from_pem(
            world.certs.leaf_key_pem.as_bytes(),
            world.certs.leaf_pem.as_bytes(),
        )
        .unwrap();
        let mut device = VerifierDevice::new(anchors(&world.anchor), identity.client_id()).unwrap();
        device.load_trust_list(&world.trust_list, NOW).unwrap();
        let clock = world.clock.clone();
        Arc::new(
            Verifier::new(
                device,
                identity,
                url::Url::parse("https://verifier.example").unwrap(),
                Limits {
                    request_ttl: 60,
                    result_ttl: 60,
                    max_requests: 8,
                },
                Arc::new(move || clock.load(std::sync::atomic::Ordering::SeqCst)),
            )
            .with_status_fetch(sync::on_demand_agent()),
        )
    };
    let service = fresh_service();

    // An OpenID4VP answer with a card on the new list: fetched, verified again, valid.
    let (svc, world_ref) = (service.clone(), &world);
    let created = svc
        .create_request(
            "desk",
            giayto_verifier::service::NewRequest::Preset {
                document: "health_insurance_card".into(),
                preset: "insurance_check".into(),
                same_device: false,
            },
        )
        .unwrap();
    let jwt = svc.request_object(&created.id).unwrap();
    let request = verify_request_object(&jwt, &world_ref.certs.ca_pem, svc.client_id());
    let card = world.credential_at(&list_uri, 3);
    let presentation = present(
        &world,
        &card,
        Selection::Preset("insurance_check".into()),
        request.client_id(),
        request.nonce(),
    );
    let jwe = encrypted_response(
        &request,
        "health_insurance_card",
        &[presentation],
        request.state(),
        None,
        "A128GCM",
    );
    let result = tokio::task::spawn_blocking(move || svc.take_response(&jwe))
        .await
        .unwrap()
        .unwrap()
        .result;
    assert!(result.valid, "{result:?}");
    assert_eq!(result.credentials[0].verdict.status, StatusView::Valid);

    // A scanned QR of a revoked card on that list, at another fresh service: fetched too.
    let revoked = present_credential(
        &world.credential_at(&list_uri, 9),
        &Selection::Preset("insurance_check".into()),
        &Binding::OneWay,
        &world.holder,
        world.now(),
    )
    .unwrap()
    .qr_text;
    let other = fresh_service();
    assert!(other.device().status_cache().is_empty());
    let verdict = tokio::task::spawn_blocking(move || other.verify_qr_text(&revoked))
        .await
        .unwrap();
    assert_eq!(verdict.status, StatusView::Revoked);
}
