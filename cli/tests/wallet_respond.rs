//! `giayto wallet respond` against a test verifier on loopback (tiny_http): the command
//! fetches the signed request, shows who asks and what is shared, posts the encrypted
//! answer with `--yes`, prints the verifier's `redirect_uri`; `--strict` refuses a
//! verifier asking beyond its registration and tells the verifier; a QR image works as
//! the request.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[path = "../../core/tests/common/test_verifier.rs"]
mod test_verifier;

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use common::{run_expect, run_json};
use giayto_core::catalogue;
use giayto_core::jose::{Algorithm, Jwk, SoftwareSigner, b64};
use giayto_core::sd_jwt::Presentation;
use giayto_core::sd_jwt_vc::{IssueRequest, issue_document};
use giayto_core::vault::{Vault, VaultKey};
use giayto_core::wallet::Wallet;
use serde_json::{Value, json};
use test_verifier::{Pki, client_id, pki, registration, request, signed_trust_list};

const ISS: &str = "https://csgt.bocongan.gov.vn/agencies/police";

fn licence_vct() -> String {
    catalogue::by_id("driving_licence").unwrap().vct.to_owned()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A wallet folder made by `giayto wallet init`, holding a driving licence bound to its
/// holder key; the trust list and its anchor written beside it.
struct Setup {
    dir: tempfile::TempDir,
    pki: Pki,
}

impl Setup {
    fn new(registered_claims: Vec<Vec<Value>>) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let wallet_dir = dir.path().join("wallet");
        run_expect(
            &["wallet", "--dir", wallet_dir.to_str().unwrap(), "init"],
            0,
        );
        let key_text = std::fs::read_to_string(wallet_dir.join("vault.key")).unwrap();
        let key: [u8; 32] = b64::decode(key_text.trim()).unwrap().try_into().unwrap();
        let holder: Jwk =
            serde_json::from_slice(&std::fs::read(wallet_dir.join("holder.jwk")).unwrap()).unwrap();
        let issuer = SoftwareSigner::generate(Algorithm::Es256).unwrap();
        let Value::Object(claims) = catalogue::examples::example_claims("driving_licence").unwrap()
        else {
            panic!()
        };
        let credential = issue_document(
            &IssueRequest {
                issuer: ISS.into(),
                vct: licence_vct(),
                claims,
                holder_jwk: Some(holder.to_public()),
                status: None,
                issued_at: now() - 100,
                not_before: None,
                expires_at: Some(now() + 86_400),
            },
            &issuer,
        )
        .unwrap();
        let mut wallet = Wallet::new(
            Vault::open(wallet_dir.join("vault.giayto"), &VaultKey::from_bytes(key)).unwrap(),
        );
        wallet.store(&credential, "holder.jwk", now()).unwrap();

        let pki = pki();
        let (token, anchor) = signed_trust_list(
            &pki,
            ISS,
            &issuer,
            &licence_vct(),
            vec![registration(&pki, &licence_vct(), registered_claims)],
            now(),
        );
        std::fs::write(dir.path().join("trust.jwt"), token).unwrap();
        std::fs::write(
            dir.path().join("anchor.jwk"),
            serde_json::to_vec(&anchor).unwrap(),
        )
        .unwrap();
        Setup { dir, pki }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

/// What the test verifier received.
struct Received {
    posted: Vec<u8>,
}

/// Serves one request object at `/request` and takes one POST at `/response`, answering
/// it with a `redirect_uri`; returns the invocation URI and a receiver of the POST body.
fn serve(setup: &Setup, dcql: Value) -> (String, test_verifier::Request, mpsc::Receiver<Received>) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let base = format!("http://{}", server.server_addr().to_ip().unwrap());
    let request = request(&setup.pki, dcql, &format!("{base}/response"), now());
    let token = request.sign(&setup.pki.leaf_key);
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for _ in 0..2 {
            let Ok(Some(mut incoming)) = server.recv_timeout(Duration::from_secs(60)) else {
                return;
            };
            if incoming.url() == "/request" {
                let _ = incoming.respond(tiny_http::Response::from_string(token.clone()));
            } else {
                let mut body = Vec::new();
                std::io::Read::read_to_end(incoming.as_reader(), &mut body).unwrap();
                let _ = sender.send(Received { posted: body });
                let reply = tiny_http::Response::from_string(
                    r#"{"redirect_uri":"https://desk.benhvien.example/done"}"#,
                )
                .with_header(
                    "Content-Type: application/json"
                        .parse::<tiny_http::Header>()
                        .unwrap(),
                );
                let _ = incoming.respond(reply);
            }
        }
    });
    let invocation = format!(
        "openid4vp://?{}",
        serde_urlencoded::to_string([
            ("client_id", client_id(&setup.pki)),
            ("request_uri", format!("{base}/request")),
        ])
        .unwrap()
    );
    (invocation, request, receiver)
}

fn names_query() -> Value {
    json!({"credentials": [{
        "id": "licence",
        "format": "dc+sd-jwt",
        "meta": {"vct_values": [licence_vct()]},
        "claims": [{"path": ["family_name"]}, {"path": ["given_name"]}]
    }]})
}

fn respond_args<'a>(setup: &'a Setup, wallet: &'a str, request: &'a str) -> Vec<String> {
    vec![
        "wallet".into(),
        "--dir".into(),
        wallet.into(),
        "respond".into(),
        request.into(),
        "--trust-list".into(),
        setup.path("trust.jwt"),
        "--anchor".into(),
        setup.path("anchor.jwk"),
    ]
}

#[test]
fn respond_shows_who_asks_shares_what_was_asked_and_prints_the_redirect() {
    let setup = Setup::new(vec![vec![json!("family_name")], vec![json!("given_name")]]);
    let wallet = setup.path("wallet");
    let (invocation, request, received) = serve(&setup, names_query());
    let mut args = respond_args(&setup, &wallet, &invocation);
    args.push("--yes".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run_expect(&args, 0);
    assert!(
        out.contains("Bên yêu cầu / Requested by: Bệnh viện Bạch Mai / Bach Mai Hospital"),
        "{out}"
    );
    assert!(out.contains("Họ / Family name: Trần"), "{out}");
    assert!(out.contains("Given names: Văn Bình"), "{out}");
    assert!(!out.contains("birth"), "{out}");
    assert!(!out.contains('⚠'), "{out}");
    assert!(
        out.contains("Tiếp tục tại / Continue at: https://desk.benhvien.example/done"),
        "{out}"
    );
    let posted = received.recv_timeout(Duration::from_secs(60)).unwrap();
    let response = request.open(&posted.posted);
    let presentation = response["vp_token"]["licence"][0].as_str().unwrap();
    let claims = Presentation::parse(presentation)
        .unwrap()
        .process()
        .unwrap()
        .claims;
    assert_eq!(claims["family_name"], "Trần");
    assert!(claims.get("birth_date").is_none());
    assert!(claims.get("licence_number").is_none());
}

#[test]
fn respond_json_and_a_qr_image_as_the_request() {
    let setup = Setup::new(vec![vec![json!("family_name")], vec![json!("given_name")]]);
    let wallet = setup.path("wallet");
    let (invocation, _, received) = serve(&setup, names_query());
    let png = giayto_core::qr::render_png(&invocation, giayto_core::qr::EcLevel::M).unwrap();
    let image = Path::new(&setup.path("request.png")).to_path_buf();
    std::fs::write(&image, png).unwrap();
    let mut args = respond_args(&setup, &wallet, image.to_str().unwrap());
    args.push("--yes".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let body = run_json(&args, 0);
    assert_eq!(body["shared"], true);
    assert_eq!(body["request"]["registration"], "within");
    assert_eq!(body["request"]["verifier_name"]["en"], "Bach Mai Hospital");
    assert_eq!(
        body["request"]["documents"][0]["claims"][0]["label"]["en"],
        "Family name"
    );
    assert_eq!(body["redirect_uri"], "https://desk.benhvien.example/done");
    received.recv_timeout(Duration::from_secs(60)).unwrap();
}

#[test]
fn strict_refuses_a_verifier_beyond_its_registration_and_tells_it() {
    // Registered for the family name only.
    let setup = Setup::new(vec![vec![json!("family_name")]]);
    let wallet = setup.path("wallet");
    let (invocation, _, received) = serve(&setup, names_query());
    let mut args = respond_args(&setup, &wallet, &invocation);
    args.extend(["--yes".into(), "--strict".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = common::run(&args);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("beyond its registration"), "{stderr}");
    assert!(stderr.contains("Given names (Driving licence)"), "{stderr}");
    let posted = received.recv_timeout(Duration::from_secs(60)).unwrap();
    let form: std::collections::HashMap<String, String> =
        serde_urlencoded::from_bytes(&posted.posted).unwrap();
    assert_eq!(form["error"], "access_denied");
    assert!(!form.contains_key("response"));
}

#[test]
fn without_a_terminal_or_yes_nothing_is_sent() {
    let setup = Setup::new(vec![vec![json!("family_name")], vec![json!("given_name")]]);
    let wallet = setup.path("wallet");
    let (invocation, _, received) = serve(&setup, names_query());
    let args = respond_args(&setup, &wallet, &invocation);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = common::run(&args);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    assert!(received.recv_timeout(Duration::from_millis(500)).is_err());
}

/// An independent OpenID4VP 1.0 verifier (tests/interop/openid4vp: @openid4vc/openid4vp,
/// dcql, jose and @sd-jwt/decode from npm, installed by scripts/test.sh) creates a signed
/// request; `giayto wallet respond` answers it, and that verifier accepts the answer: JWE
/// decrypted, KB-JWT audience, nonce and sd_hash right, DCQL satisfied.
#[test]
fn an_independent_openid4vp_verifier_accepts_the_answer() {
    use std::io::BufRead as _;
    let setup = Setup::new(vec![
        vec![json!("family_name")],
        vec![json!("driving_privileges")],
    ]);
    let wallet = setup.path("wallet");
    let interop = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/interop/openid4vp");
    assert!(
        interop.join("node_modules/@openid4vc/openid4vp").is_dir(),
        "the interop verifier is not installed: run `npm ci` in {} (scripts/test.sh does)",
        interop.display()
    );
    let key_file = setup.path("verifier.key.pem");
    std::fs::write(&key_file, &setup.pki.leaf_key_pem).unwrap();
    let dcql = json!({"credentials": [{
        "id": "licence",
        "format": "dc+sd-jwt",
        "meta": {"vct_values": [licence_vct()]},
        "claims": [
            {"path": ["family_name"]},
            {"path": ["driving_privileges", null, "class"], "values": ["B"]}
        ]
    }]});
    let mut verifier = std::process::Command::new("node")
        .arg(interop.join("verifier.mjs"))
        .env("GIAYTO_VERIFIER_KEY", &key_file)
        .env(
            "GIAYTO_VERIFIER_X5C",
            b64::encode_standard(&setup.pki.leaf_der),
        )
        .env("GIAYTO_DCQL", dcql.to_string())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("node runs");
    let mut lines = std::io::BufReader::new(verifier.stdout.take().unwrap()).lines();
    let ready: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(ready["client_id"], client_id(&setup.pki).as_str());
    let invocation = ready["invocation"].as_str().unwrap().to_owned();
    let mut args = respond_args(&setup, &wallet, &invocation);
    args.extend(["--yes".into(), "--json".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = common::run(&args);
    let verdict: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    let _ = verifier.wait();
    assert_eq!(verdict["accepted"], true, "{verdict}");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let body: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["redirect_uri"], "https://verifier.example/done");
    // What the independent verifier saw: the family name and the class B privilege (with
    // the dates the issuer did not make disclosable apart from it), nothing else; and the
    // consent screen listed exactly that.
    let shown = &verdict["shown"]["licence"];
    assert_eq!(shown["family_name"], "Trần");
    assert_eq!(
        shown["driving_privileges"],
        json!([{"class": "B", "issue_date": "2015-09-10", "expiry_date": "2035-09-10"}])
    );
    for hidden in [
        "given_name",
        "birth_date",
        "licence_number",
        "place_of_residence",
    ] {
        assert!(
            shown.get(hidden).is_none(),
            "{hidden} was disclosed: {shown}"
        );
    }
    let mut listed: Vec<&str> = body["request"]["documents"][0]["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            "driving_privileges[1].class",
            "driving_privileges[1].expiry_date",
            "driving_privileges[1].issue_date",
            "family_name"
        ]
    );
}
