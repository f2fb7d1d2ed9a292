//! Test harness: a fresh database per test (a SQLite file in a temporary folder, or a new
//! database on the PostgreSQL server named by `GIAYTO_TEST_POSTGRES_URL`, dropped at the
//! end of the test), the router on
//! top, the demo agencies seeded, and helpers to call it with `oneshot`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use giayto_core::oid4vci::{HttpRequest, HttpResponse, Method};
use giayto_server::config::Config;
use giayto_server::domain::Services;
use giayto_server::{AppState, app, server};
use serde_json::{Value, json};
use tower::ServiceExt as _;

/// Public URL of test servers.
pub const PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// A router on a fresh database, with the demo agencies' API keys.
pub struct TestApp {
    pub router: Router,
    pub services: Services,
    pub keys: HashMap<String, String>,
    _dir: tempfile::TempDir,
    /// Dropped last; `WITH (FORCE)` ends the connections the pool above still holds.
    _pg: Option<TempPgDatabase>,
}

/// A TCP port free on loopback now (for a server process to bind).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The PostgreSQL admin URL for tests; in CI (`CI` set) its absence is a failure.
pub fn postgres_url() -> Option<String> {
    let url = std::env::var("GIAYTO_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() && std::env::var("CI").is_ok() {
        panic!(
            "CI must run the PostgreSQL tests: set GIAYTO_TEST_POSTGRES_URL (scripts/test.sh does)"
        );
    }
    url
}

/// A PostgreSQL database made for one test and dropped when this guard is, even when the
/// test panics, so `giayto_t_*` databases do not pile up across runs.
pub struct TempPgDatabase {
    admin_url: String,
    name: String,
    /// The database's URL.
    pub url: String,
}

impl Drop for TempPgDatabase {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime (or while unwinding): do the async work on a
        // thread of its own. `WITH (FORCE)` ends the test pool's connections still open.
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                use sqlx::Connection as _;
                use sqlx::Executor as _;
                let mut conn = sqlx::PgConnection::connect(&admin_url).await?;
                conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await?;
                conn.close().await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}

/// A fresh, empty PostgreSQL database, dropped with the returned guard.
pub async fn fresh_postgres_database(admin_url: &str) -> TempPgDatabase {
    use sqlx::Connection as _;
    use sqlx::Executor as _;
    let name = format!("giayto_t_{}", giayto_server::secrets::random_id().unwrap());
    let mut conn = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("connect to test PostgreSQL");
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    conn.close().await.unwrap();
    let mut url = url::Url::parse(admin_url).unwrap();
    url.set_path(&format!("/{name}"));
    TempPgDatabase {
        admin_url: admin_url.to_owned(),
        name,
        url: url.to_string(),
    }
}

fn test_config(dir: &std::path::Path, database_url: String) -> Config {
    Config {
        database_url,
        database_max_connections: 4,
        master_key_file: dir.join("master.key"),
        public_url: PUBLIC_URL.into(),
        status_list_size: 1024,
        ..Config::default()
    }
}

async fn build(
    dir: tempfile::TempDir,
    database_url: String,
    pg: Option<TempPgDatabase>,
) -> TestApp {
    build_with(dir, database_url, pg, |_| {}).await
}

async fn build_with(
    dir: tempfile::TempDir,
    database_url: String,
    pg: Option<TempPgDatabase>,
    adjust: impl FnOnce(&mut Config),
) -> TestApp {
    let mut config = test_config(dir.path(), database_url);
    adjust(&mut config);
    let services = server::open(config).await.unwrap();
    let seeded = giayto_server::demo::seed(&services).await.unwrap();
    let keys = seeded.into_iter().map(|(a, k)| (a.id, k.secret)).collect();
    let router = app(AppState {
        services: services.clone(),
    });
    TestApp {
        router,
        services,
        keys,
        _dir: dir,
        _pg: pg,
    }
}

/// On a fresh SQLite file.
pub async fn sqlite() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("giayto.db").display()
    );
    build(dir, url, None).await
}

/// On a fresh SQLite file, with `adjust` applied to the test configuration.
pub async fn sqlite_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("giayto.db").display()
    );
    build_with(dir, url, None, adjust).await
}

/// On the database at `database_url` (a fresh one the caller made), with `adjust` applied.
pub async fn at_url_with(database_url: String, adjust: impl FnOnce(&mut Config)) -> TestApp {
    build_with(tempfile::tempdir().unwrap(), database_url, None, adjust).await
}

/// On a fresh PostgreSQL database, when one is configured.
pub async fn postgres() -> Option<TestApp> {
    postgres_with(|_| {}).await
}

/// On a fresh PostgreSQL database, when one is configured, with `adjust` applied to the
/// test configuration.
pub async fn postgres_with(adjust: impl FnOnce(&mut Config)) -> Option<TestApp> {
    let admin = postgres_url()?;
    let db = fresh_postgres_database(&admin).await;
    Some(
        build_with(
            tempfile::tempdir().unwrap(),
            db.url.clone(),
            Some(db),
            adjust,
        )
        .await,
    )
}

/// Runs `$test(app)` on SQLite and on PostgreSQL, as two tests.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::common::sqlite().await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $crate::common::postgres().await {
                    super::$name(app).await;
                }
            }
        }
    )*};
}

/// A response read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// Calls `router` once with an empty-bodied request.
pub async fn call(router: Router, req: axum::http::request::Builder) -> Reply {
    call_with(router, req.body(Body::empty()).unwrap()).await
}

/// Calls `router` once.
pub async fn call_with(router: Router, req: Request<Body>) -> Reply {
    let res = router.oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

impl TestApp {
    pub async fn call(&self, req: Request<Body>) -> Reply {
        call_with(self.router.clone(), req).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    pub async fn get_with(&self, path: &str, key: &str) -> Reply {
        self.call(
            Request::get(path)
                .header("authorization", format!("Bearer {key}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    /// A JSON request with an optional bearer key.
    pub async fn send_json(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: &Value,
    ) -> Reply {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json");
        if let Some(k) = key {
            req = req.header("authorization", format!("Bearer {k}"));
        }
        self.call(req.body(Body::from(body.to_string())).unwrap())
            .await
    }

    pub fn key(&self, agency: &str) -> String {
        self.keys[agency].clone()
    }

    /// Publishes an ID card with `document_id` as the police.
    pub async fn publish_id_card(&self, document_id: &str) -> Reply {
        let key = self.key("police");
        self.send_json(
            "POST",
            "/api/v1/documents",
            Some(&key),
            &id_card_request(document_id),
        )
        .await
    }

    /// Performs a core `HttpRequest` against the router (the URL must start with PUBLIC_URL).
    pub async fn perform(&self, req: &HttpRequest) -> HttpResponse {
        let path = req
            .url
            .strip_prefix(PUBLIC_URL)
            .unwrap_or_else(|| panic!("not our URL: {}", req.url));
        let method = match req.method {
            Method::Get => "GET",
            Method::Post => "POST",
        };
        let mut builder = Request::builder().method(method).uri(path);
        for (k, v) in &req.headers {
            builder = builder.header(k, v);
        }
        let reply = self
            .call(
                builder
                    .body(Body::from(req.body.clone().unwrap_or_default()))
                    .unwrap(),
            )
            .await;
        HttpResponse {
            status: reply.status.as_u16(),
            headers: reply
                .headers
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                .collect(),
            body: reply.body,
        }
    }
}

/// Runs core's OpenID4VCI client against the router to the end, from an offer by
/// reference and its `tx_code`; returns the credentials.
pub async fn receive(
    app: &TestApp,
    offer_uri: &str,
    tx_code: &str,
    holder: &dyn giayto_core::jose::Signer,
) -> Vec<String> {
    use giayto_core::oid4vci::{
        CredentialOutcome, IssuanceSession, OfferSource, TokenStep, fetch_offer_request, on_offer,
        parse_offer_uri,
    };
    let OfferSource::ByReference(url) = parse_offer_uri(offer_uri).unwrap() else {
        panic!("by reference")
    };
    let offer = on_offer(&app.perform(&fetch_offer_request(&url).unwrap()).await).unwrap();
    let (mut session, req) = IssuanceSession::new(offer).unwrap();
    let as_req = session
        .on_issuer_metadata(&app.perform(&req).await)
        .unwrap();
    let TokenStep::NeedsTxCode(spec) = session.on_as_metadata(&app.perform(&as_req).await).unwrap()
    else {
        panic!("giayto offers ask for a tx_code")
    };
    assert_eq!(spec.length, Some(6));
    let token_req = session.with_tx_code(tx_code).unwrap();
    let nonce_req = session
        .on_token(&app.perform(&token_req).await)
        .unwrap()
        .expect("nonce endpoint");
    session.on_nonce(&app.perform(&nonce_req).await).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let cred_req = session.build_credential_request(holder, now).unwrap();
    match session
        .on_credential(&app.perform(&cred_req).await)
        .unwrap()
    {
        CredentialOutcome::Issued(creds) => creds.into_iter().map(|c| c.credential).collect(),
        other => panic!("not issued: {other:?}"),
    }
}

/// Valid ID-card claims.
pub fn id_card_claims() -> Value {
    json!({
        "personal_id": "001099012345",
        "family_name": "Nguyễn",
        "given_name": "Văn An",
        "full_name": "Nguyễn Văn An",
        "birth_date": "1990-05-01",
        "sex": "male",
        "nationality": "VN",
        "place_of_origin": "Hà Nội",
        "place_of_residence": "12 Tràng Tiền, Hoàn Kiếm, Hà Nội",
        "issue_date": "2021-01-01",
        "expiry_date": "2030-05-01",
        "issuing_authority": "Cục Cảnh sát quản lý hành chính về trật tự xã hội",
    })
}

/// A publish request for an ID card.
pub fn id_card_request(document_id: &str) -> Value {
    json!({
        "document_id": document_id,
        "citizen_id": "001099012345",
        "vct": "https://giayto.gov.vn/vct/can_cuoc",
        "claims": id_card_claims(),
    })
}

/// The pre-authorized code and `tx_code` of an offer view (`offer` of a publish answer).
pub fn offer_secrets(offer: &Value) -> (String, String) {
    let code =
        offer["credential_offer"]["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
            ["pre-authorized_code"]
            .as_str()
            .expect("an open offer")
            .to_owned();
    (code, offer["tx_code"].as_str().unwrap().to_owned())
}

/// The token endpoint's form for the pre-authorized code grant.
pub fn redeem_form(code: &str, tx_code: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair(
            "grant_type",
            "urn:ietf:params:oauth:grant-type:pre-authorized_code",
        )
        .append_pair("pre-authorized_code", code)
        .append_pair("tx_code", tx_code)
        .finish()
}

/// The token endpoint's form for the refresh token grant.
pub fn refresh_form(refresh_token: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "refresh_token")
        .append_pair("refresh_token", refresh_token)
        .finish()
}

impl TestApp {
    /// Posts `form` to the token endpoint; the status and the answer (always `no-store`).
    pub async fn token_form(&self, form: &str) -> (StatusCode, Value) {
        let r = self
            .call(
                Request::post("/token")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(Body::from(form.to_owned()))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.headers.get("cache-control").unwrap(), "no-store");
        (r.status, r.json())
    }

    /// Redeems an offer view at the token endpoint; the access token, or the error answer.
    pub async fn redeem(&self, offer: &Value) -> Result<String, Value> {
        let (code, tx_code) = offer_secrets(offer);
        let body = self.token_form(&redeem_form(&code, &tx_code)).await.1;
        match body["access_token"].as_str() {
            Some(token) => Ok(token.to_owned()),
            None => Err(body),
        }
    }

    /// Asks the credential endpoint for one credential with `access_token`, a fresh nonce
    /// and a new ES256 holder key; the status and the answer.
    pub async fn request_credential(&self, access_token: &str) -> (StatusCode, Value) {
        let nonce = self.nonce().await;
        self.request_credential_with(access_token, &nonce).await
    }

    /// A fresh `c_nonce` from the nonce endpoint.
    pub async fn nonce(&self) -> String {
        self.call(Request::post("/nonce").body(Body::empty()).unwrap())
            .await
            .json()["c_nonce"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Like [`TestApp::request_credential`], with the key proof over `nonce`.
    pub async fn request_credential_with(
        &self,
        access_token: &str,
        nonce: &str,
    ) -> (StatusCode, Value) {
        use giayto_core::jose::{Algorithm, SoftwareSigner};
        use giayto_core::oid4vci::{ProofClaims, build_proof_jwt};
        let nonce = nonce.to_owned();
        let holder = SoftwareSigner::generate(Algorithm::Es256).unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let proof = build_proof_jwt(
            &holder,
            &ProofClaims {
                iss: None,
                aud: PUBLIC_URL.into(),
                iat: now,
                nonce: Some(nonce),
            },
        )
        .unwrap();
        let body =
            json!({ "credential_configuration_id": "can_cuoc", "proofs": { "jwt": [proof] } });
        let reply = self
            .call(
                Request::post("/credential")
                    .header("content-type", "application/json")
                    .header("authorization", format!("Bearer {access_token}"))
                    .body(Body::from(body.to_string()))
                    .unwrap(),
            )
            .await;
        (reply.status, reply.json())
    }
}

/// The current Unix time, seconds.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}
