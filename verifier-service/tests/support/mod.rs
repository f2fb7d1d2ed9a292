//! Test support: a small national trust world (anchor, one social-insurance issuer, a status
//! list with index 7 revoked, a registrar CA and the verifier's leaf), the service in
//! process with a clock the test moves, and a wallet written from the OpenID4VP 1.0 text
//! with core's SD-JWT presentation code and josekit's JWE encryption.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use giayto_core::jose::{Algorithm, Jwks, Signer, SoftwareSigner};
use giayto_core::qr::KeyBindingTarget;
use giayto_core::sd_jwt_vc::{IssueRequest, issue_document};
use giayto_core::status_list::{Status, StatusList, StatusReference, sign_token};
use giayto_core::trust_list::TrustList;
use giayto_core::verifier::VerifierDevice;
use giayto_core::wallet::{Binding, Selection, present_credential};
use giayto_verifier::certs::{self, DemoCerts};
use giayto_verifier::http::{DESK_COOKIE, router};
use giayto_verifier::identity::VerifierIdentity;
use giayto_verifier::service::Verifier;
use giayto_verifier::store::Limits;
use http_body_util::BodyExt;
use serde_json::{Map, Value, json};
use tower::ServiceExt;

pub const NOW: i64 = 1_795_000_000;
pub const ISSUER: &str = "https://bhxh.giayto.example";
pub const HIC: &str = "https://giayto.gov.vn/vct/health_insurance_card";
pub const STATUS_URI: &str = "https://bhxh.giayto.example/status-lists/1";
/// The status index the issuer revoked.
pub const REVOKED_IDX: u64 = 7;
pub const DESK: &str = "desk-one";
pub const OTHER_DESK: &str = "desk-two";

pub struct World {
    pub anchor: SoftwareSigner,
    pub issuer: SoftwareSigner,
    pub holder: SoftwareSigner,
    pub certs: DemoCerts,
    pub trust_list: String,
    pub status_list: String,
    pub clock: Arc<AtomicI64>,
    pub service: Arc<Verifier>,
    pub app: Router,
}

pub fn trust_list_json(issuer: &SoftwareSigner, aggregation: Option<&str>) -> Value {
    let mut entry = json!({
        "id": ISSUER,
        "name": { "vi": "Bảo hiểm xã hội Việt Nam", "en": "Vietnam Social Security" },
        "jwks": { "keys": [issuer.public_jwk().unwrap().with_thumbprint_kid().unwrap()] },
        "vcts": [HIC, format!("{HIC}/insurance_check")],
    });
    if let Some(uri) = aggregation {
        entry["status_list_aggregation_endpoint"] = json!(uri);
    }
    json!({
        "iss": "https://trust.giayto.gov.vn",
        "iat": NOW - 3600,
        "exp": NOW + 30 * 86_400,
        "issuers": [entry],
    })
}

/// Signs a trust list given as JSON (so fields added to the format later still parse).
pub fn sign_trust_list(value: Value, anchor: &SoftwareSigner) -> String {
    serde_json::from_value::<TrustList>(value)
        .unwrap()
        .sign(anchor)
        .unwrap()
}

pub fn status_list_token(issuer: &SoftwareSigner, revoked: &[u64], iat: i64) -> String {
    status_list_token_at(issuer, STATUS_URI, revoked, iat)
}

/// A status list published at `uri` with `revoked` entries revoked, issued at `iat`.
pub fn status_list_token_at(
    issuer: &SoftwareSigner,
    uri: &str,
    revoked: &[u64],
    iat: i64,
) -> String {
    let mut list = StatusList::new(2, 1024).unwrap();
    for idx in revoked {
        list.set_status(*idx, Status::Invalid).unwrap();
    }
    sign_token(uri, &list, iat, Some(iat + 8 * 86_400), Some(300), issuer).unwrap()
}

pub fn anchors(anchor: &SoftwareSigner) -> Jwks {
    Jwks {
        keys: vec![anchor.public_jwk().unwrap().with_thumbprint_kid().unwrap()],
    }
}

pub fn world() -> World {
    world_with(Limits {
        request_ttl: 300,
        result_ttl: 600,
        max_requests: 1024,
    })
}

pub fn world_with(limits: Limits) -> World {
    world_at(limits, "https://verifier.benhvien.example")
}

/// A world whose service says it is reachable at `public_url`.
pub fn world_at(limits: Limits, public_url: &str) -> World {
    let anchor = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let issuer = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let holder = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let certs = certs::generate("Bệnh viện Bạch Mai").unwrap();
    let trust_list = sign_trust_list(trust_list_json(&issuer, None), &anchor);
    let status_list = status_list_token(&issuer, &[REVOKED_IDX], NOW - 600);
    let identity =
        VerifierIdentity::from_pem(certs.leaf_key_pem.as_bytes(), certs.leaf_pem.as_bytes())
            .unwrap();
    let mut device = VerifierDevice::new(anchors(&anchor), identity.client_id()).unwrap();
    device.load_trust_list(&trust_list, NOW).unwrap();
    device
        .load_status_list(STATUS_URI, &status_list, NOW)
        .unwrap();
    let clock = Arc::new(AtomicI64::new(NOW));
    let read = clock.clone();
    let service = Arc::new(Verifier::new(
        device,
        identity,
        url::Url::parse(public_url).unwrap(),
        limits,
        Arc::new(move || read.load(Ordering::SeqCst)),
    ));
    let app = router(service.clone());
    World {
        anchor,
        issuer,
        holder,
        certs,
        trust_list,
        status_list,
        clock,
        service,
        app,
    }
}

/// An HTTP answer: status, content type, body.
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| {
            panic!(
                "not JSON ({}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
}

impl World {
    pub fn advance(&self, seconds: i64) {
        self.clock.fetch_add(seconds, Ordering::SeqCst);
    }

    pub fn now(&self) -> i64 {
        self.clock.load(Ordering::SeqCst)
    }

    pub async fn call(&self, request: Request<Body>) -> Answer {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Answer {
            status,
            content_type,
            body,
        }
    }

    pub async fn get(&self, path: &str, desk: Option<&str>) -> Answer {
        let mut request = Request::get(path);
        if let Some(desk) = desk {
            request = request.header(header::COOKIE, format!("{DESK_COOKIE}={desk}"));
        }
        self.call(request.body(Body::empty()).unwrap()).await
    }

    pub async fn post_json(&self, path: &str, desk: Option<&str>, body: Value) -> Answer {
        let mut request = Request::post(path).header(header::CONTENT_TYPE, "application/json");
        if let Some(desk) = desk {
            request = request.header(header::COOKIE, format!("{DESK_COOKIE}={desk}"));
        }
        self.call(request.body(Body::from(body.to_string())).unwrap())
            .await
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let body = serde_urlencoded::to_string(fields).unwrap();
        self.call(
            Request::post(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }

    /// The desk asks for `preset` of `document`: the created request's JSON.
    pub async fn desk_request(&self, desk: &str, document: &str, preset: &str) -> Value {
        let answer = self
            .post_json(
                "/api/requests",
                Some(desk),
                json!({ "document": document, "preset": preset }),
            )
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
        answer.json()
    }

    pub async fn desk_view(&self, desk: &str, id: &str) -> Answer {
        self.get(&format!("/api/requests/{id}"), Some(desk)).await
    }

    /// A health insurance card for the test holder with status index `idx`.
    pub fn credential(&self, idx: u64) -> String {
        self.credential_at(STATUS_URI, idx)
    }

    /// A health insurance card whose status is index `idx` of the list at `uri`.
    pub fn credential_at(&self, uri: &str, idx: u64) -> String {
        let claims: Map<String, Value> = serde_json::from_value(
            giayto_core::catalogue::examples::example_claims("health_insurance_card").unwrap(),
        )
        .unwrap();
        issue_document(
            &IssueRequest {
                issuer: ISSUER.into(),
                vct: HIC.into(),
                claims,
                holder_jwk: Some(self.holder.public_jwk().unwrap()),
                status: Some(StatusReference {
                    idx,
                    uri: uri.into(),
                }),
                issued_at: NOW - 86_400,
                not_before: None,
                expires_at: Some(NOW + 365 * 86_400),
            },
            &self.issuer,
        )
        .unwrap()
    }
}

/// What the test wallet learnt from a request object it verified.
#[derive(Debug, Clone)]
pub struct WalletRequest {
    pub claims: Map<String, Value>,
    pub header: Value,
}

impl WalletRequest {
    pub fn client_id(&self) -> &str {
        self.claims["client_id"].as_str().unwrap()
    }
    pub fn nonce(&self) -> &str {
        self.claims["nonce"].as_str().unwrap()
    }
    pub fn state(&self) -> &str {
        self.claims["state"].as_str().unwrap()
    }
    pub fn enc_jwk(&self) -> Value {
        self.claims["client_metadata"]["jwks"]["keys"][0].clone()
    }
    pub fn response_path(&self) -> String {
        let uri = url::Url::parse(self.claims["response_uri"].as_str().unwrap()).unwrap();
        uri.path().to_owned()
    }
}

/// The wallet's side of the invocation URI: its `client_id` and `request_uri` path.
pub fn parse_invocation(uri: &str) -> (String, String) {
    let url = url::Url::parse(uri).unwrap();
    let pairs: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    let request_uri = url::Url::parse(&pairs["request_uri"]).unwrap();
    (pairs["client_id"].clone(), request_uri.path().to_owned())
}

/// Verifies a request object as a wallet must (OpenID4VP 1.0 section 5.9.3, HAIP 1.0): the
/// JWS `typ`, ES256 signature by the `x5c` leaf, the chain validated to the registrar CA
/// `anchor_pem` (which `x5c` must not hold), the leaf not self-signed, and `client_id` =
/// `x509_hash:` + SHA-256 of the leaf.
pub fn verify_request_object(
    jwt: &str,
    anchor_pem: &str,
    expected_client_id: &str,
) -> WalletRequest {
    use openssl::stack::Stack;
    use openssl::x509::store::X509StoreBuilder;
    use openssl::x509::{X509, X509StoreContext};

    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["typ"], "oauth-authz-req+jwt");
    let x5c: Vec<X509> = header["x5c"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| X509::from_der(&STANDARD.decode(c.as_str().unwrap()).unwrap()).unwrap())
        .collect();
    let leaf = &x5c[0];
    let anchor = X509::from_pem(anchor_pem.as_bytes()).unwrap();
    for cert in &x5c {
        assert_ne!(
            cert.to_der().unwrap(),
            anchor.to_der().unwrap(),
            "x5c must not hold the trust anchor"
        );
        assert_ne!(
            cert.issued(cert),
            openssl::x509::X509VerifyResult::OK,
            "x5c must not hold a self-signed certificate"
        );
    }
    let mut store = X509StoreBuilder::new().unwrap();
    store.add_cert(anchor).unwrap();
    let store = store.build();
    let mut chain = Stack::new().unwrap();
    for cert in &x5c[1..] {
        chain.push(cert.clone()).unwrap();
    }
    let mut context = X509StoreContext::new().unwrap();
    assert!(
        context
            .init(&store, leaf, &chain, |c| c.verify_cert())
            .unwrap(),
        "the leaf does not chain to the registrar CA"
    );
    let public_pem = leaf.public_key().unwrap().public_key_to_pem().unwrap();
    let verifier = josekit::jws::ES256.verifier_from_pem(&public_pem).unwrap();
    let (payload, _) = josekit::jwt::decode_with_verifier(jwt, &verifier).unwrap();
    let claims = payload.claims_set().clone();
    let digest = ring::digest::digest(&ring::digest::SHA256, &leaf.to_der().unwrap());
    let hash_id = format!("x509_hash:{}", URL_SAFE_NO_PAD.encode(digest.as_ref()));
    assert_eq!(claims["client_id"], hash_id.as_str());
    assert_eq!(hash_id, expected_client_id);
    WalletRequest { claims, header }
}

/// The presentation of `credential` disclosing `selection`, key-bound to `aud` and `nonce`.
pub fn present(
    world: &World,
    credential: &str,
    selection: Selection,
    aud: &str,
    nonce: &str,
) -> String {
    present_credential(
        credential,
        &selection,
        &Binding::Target(KeyBindingTarget {
            aud: aud.into(),
            nonce: nonce.into(),
        }),
        &world.holder,
        world.now(),
    )
    .unwrap()
    .presentation
}

/// Encrypts an Authorization Response payload to `jwk` (ECDH-ES, `enc`), with header `kid`.
pub fn encrypt(payload: &Value, jwk: &Value, kid: &str, enc: &str) -> String {
    let jwk = josekit::jwk::Jwk::from_bytes(jwk.to_string().as_bytes()).unwrap();
    let encrypter = josekit::jwe::ECDH_ES.encrypter_from_jwk(&jwk).unwrap();
    let mut header = josekit::jwe::JweHeader::new();
    header.set_content_encryption(enc);
    header.set_key_id(kid);
    josekit::jwe::serialize_compact(payload.to_string().as_bytes(), &header, &encrypter).unwrap()
}

/// The JWE of an Authorization Response carrying `presentations` for Credential Query
/// `query_id` and `state`, encrypted to `request`'s key with `enc`, naming `kid` (the
/// request's own unless given).
pub fn encrypted_response(
    request: &WalletRequest,
    query_id: &str,
    presentations: &[String],
    state: &str,
    kid: Option<&str>,
    enc: &str,
) -> String {
    let payload = json!({ "vp_token": { query_id: presentations }, "state": state });
    let jwk = request.enc_jwk();
    let kid = kid
        .unwrap_or_else(|| jwk["kid"].as_str().unwrap())
        .to_owned();
    encrypt(&payload, &jwk, &kid, enc)
}

/// A node script talking line by line with the test (tests/desk/*.mjs).
pub struct NodeScript {
    child: tokio::process::Child,
    stdin: Option<tokio::process::ChildStdin>,
    lines: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
}

impl NodeScript {
    /// Runs `tests/desk/<script>` with `args` and `env`; its stderr goes to the test's.
    pub fn spawn(script: &str, args: &[&str], env: &[(&str, String)]) -> NodeScript {
        use tokio::io::AsyncBufReadExt;
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/desk");
        assert!(
            std::path::Path::new(&format!("{dir}/node_modules")).exists(),
            "run `npm ci` in verifier-service/tests/desk (scripts/test-desk.sh does)"
        );
        let mut command = tokio::process::Command::new("node");
        command.arg(format!("{dir}/{script}")).args(args);
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node");
        let stdin = child.stdin.take();
        let lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        NodeScript {
            child,
            stdin,
            lines,
        }
    }

    /// The rest of the next line starting with `prefix` (other lines are echoed).
    pub async fn next(&mut self, prefix: &str) -> String {
        loop {
            let line = self
                .lines
                .next_line()
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("the script ended before {prefix}"));
            if let Some(rest) = line.strip_prefix(prefix) {
                return rest.trim().to_owned();
            }
            eprintln!("node: {line}");
        }
    }

    /// Sends the script its one line of input and closes its stdin.
    pub async fn send(&mut self, line: &str) {
        use tokio::io::AsyncWriteExt;
        let mut stdin = self.stdin.take().expect("one line only");
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
        stdin.flush().await.unwrap();
    }

    /// Waits for the script to end; it must succeed.
    pub async fn succeeds(mut self) {
        drop(self.stdin.take());
        assert!(self.child.wait().await.unwrap().success());
    }
}

/// The whole wallet: fetch and verify the request object of `created`, present `credential`
/// with the request's query preset claims, encrypt, and return (request, JWE).
pub async fn wallet_answer(
    world: &World,
    created: &Value,
    credential: &str,
    selection: Selection,
) -> (WalletRequest, String) {
    let (client_id, path) = parse_invocation(created["openid4vp_uri"].as_str().unwrap());
    let answer = world.get(&path, None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.content_type, "application/oauth-authz-req+jwt");
    let request = verify_request_object(&answer.text(), &world.certs.ca_pem, &client_id);
    let query_id = request.claims["dcql_query"]["credentials"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let presentation = present(
        world,
        credential,
        selection,
        request.client_id(),
        request.nonce(),
    );
    let payload = json!({ "vp_token": { query_id: [presentation] }, "state": request.state() });
    let jwk = request.enc_jwk();
    let jwe = encrypt(&payload, &jwk, jwk["kid"].as_str().unwrap(), "A128GCM");
    (request, jwe)
}
