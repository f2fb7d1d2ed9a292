//! A minimal OpenID4VCI issuer on 127.0.0.1 for `wallet receive` tests: metadata, token
//! (with a transaction code), nonce and credential endpoints, one request per connection.
//! It checks the token request's code and the key proof, and issues a catalogue document
//! bound to the proof's key with core's issuer functions.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

use giayto_core::jose::{Algorithm, SoftwareSigner};
use giayto_core::oid4vci::{
    CredentialOffer, CredentialRequest, SecretString, TxCodeInputMode, TxCodeSpec, verify_proof_jwt,
};
use giayto_core::sd_jwt_vc::{IssueRequest, issue_document};

pub const PRE_AUTHORIZED_CODE: &str = "pre-auth-code-for-tests";
pub const TX_CODE: &str = "493536";
const ACCESS_TOKEN: &str = "test-access-token";
const NONCE: &str = "test-c-nonce";
const CONFIGURATION: &str = "driving_licence";

/// A running test issuer.
pub struct TestIssuer {
    pub url: String,
    pub signer: Arc<SoftwareSigner>,
    /// Requests seen: "METHOD path".
    pub seen: Arc<Mutex<Vec<String>>>,
}

impl TestIssuer {
    /// Starts the issuer, issuing `claims` as a driving licence.
    pub fn start(claims: serde_json::Map<String, serde_json::Value>) -> TestIssuer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let signer = Arc::new(SoftwareSigner::generate(Algorithm::Es256).unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (issuer_url, issuer_signer, log) = (url.clone(), signer.clone(), seen.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                handle(stream, &issuer_url, &issuer_signer, &claims, &log);
            }
        });
        TestIssuer { url, signer, seen }
    }

    /// An offer URI by value, with a six-digit transaction code.
    pub fn offer_uri(&self) -> String {
        CredentialOffer::pre_authorized(
            &self.url,
            vec![CONFIGURATION.into()],
            SecretString::new(PRE_AUTHORIZED_CODE),
            Some(TxCodeSpec {
                input_mode: Some(TxCodeInputMode::Numeric),
                length: Some(6),
                description: None,
            }),
        )
        .to_uri()
        .unwrap()
    }
}

fn handle(
    stream: TcpStream,
    url: &str,
    signer: &SoftwareSigner,
    claims: &serde_json::Map<String, serde_json::Value>,
    seen: &Mutex<Vec<String>>,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    reader.read_line(&mut request_line).unwrap();
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            content_length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; content_length];
    reader.read_exact(&mut body).unwrap();
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    seen.lock().unwrap().push(format!("{method} {path}"));
    let (status, json) = route(method, path, &body, url, signer, claims);
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
        json.len()
    );
}

fn route(
    method: &str,
    path: &str,
    body: &[u8],
    url: &str,
    signer: &SoftwareSigner,
    claims: &serde_json::Map<String, serde_json::Value>,
) -> (u16, String) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    match (method, path) {
        ("GET", "/.well-known/openid-credential-issuer") => (
            200,
            serde_json::json!({
                "credential_issuer": url,
                "credential_endpoint": format!("{url}/credential"),
                "nonce_endpoint": format!("{url}/nonce"),
                "credential_configurations_supported": {
                    CONFIGURATION: {
                        "format": "dc+sd-jwt",
                        "vct": "https://giayto.gov.vn/vct/driving_licence",
                        "cryptographic_binding_methods_supported": ["jwk"],
                        "credential_signing_alg_values_supported": ["ES256"],
                        "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": ["ES256", "EdDSA"]}}
                    }
                }
            })
            .to_string(),
        ),
        ("GET", "/.well-known/oauth-authorization-server") => (
            200,
            serde_json::json!({
                "issuer": url,
                "token_endpoint": format!("{url}/token"),
                "grant_types_supported": ["urn:ietf:params:oauth:grant-type:pre-authorized_code"],
                "pre-authorized_grant_anonymous_access_supported": true,
                "response_types_supported": []
            })
            .to_string(),
        ),
        ("POST", "/token") => {
            let form: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap();
            let get = |name: &str| {
                form.iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.as_str())
            };
            if get("pre-authorized_code") != Some(PRE_AUTHORIZED_CODE)
                || get("tx_code") != Some(TX_CODE)
            {
                return (400, r#"{"error":"invalid_grant"}"#.into());
            }
            (
                200,
                format!(r#"{{"access_token":"{ACCESS_TOKEN}","token_type":"Bearer","expires_in":600}}"#),
            )
        }
        ("POST", "/nonce") => (200, format!(r#"{{"c_nonce":"{NONCE}"}}"#)),
        ("POST", "/credential") => {
            let request: CredentialRequest = serde_json::from_slice(body).unwrap();
            let proof = request.proofs.unwrap().jwt.unwrap().remove(0);
            let holder = match verify_proof_jwt(&proof, url, |n| n == NONCE, now, 300) {
                Ok(jwk) => jwk,
                Err(_) => return (400, r#"{"error":"invalid_proof"}"#.into()),
            };
            let credential = issue_document(
                &IssueRequest {
                    issuer: url.to_owned(),
                    vct: "https://giayto.gov.vn/vct/driving_licence".into(),
                    claims: claims.clone(),
                    holder_jwk: Some(holder),
                    status: None,
                    issued_at: i64::try_from(now).unwrap(),
                    not_before: None,
                    expires_at: None,
                },
                signer,
            )
            .unwrap();
            (
                200,
                serde_json::json!({"credentials": [{"credential": credential}]}).to_string(),
            )
        }
        _ => (404, r#"{"error":"not_found"}"#.into()),
    }
}
