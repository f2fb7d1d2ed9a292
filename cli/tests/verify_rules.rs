//! `giayto verify` on issue 9's examples: validity claims inside disclosures, an issuer
//! `aud` naming another verifier, garbage and tampered input (nothing said about binding),
//! a national-size status list given as a file or fetched online, an oversized list refused
//! as too large, the offline hint, and a status list signed by another trusted issuer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{error_codes, run, run_json};
use giayto_core::jose::jws::{self, header_with_typ};
use giayto_core::jose::{Algorithm, Jwk, Jwks, Signer, SoftwareSigner};
use giayto_core::limits::MAX_STATUS_LIST_TOKEN_BYTES;
use giayto_core::sd_jwt::{Disclosure, HashAlg, SdJwt, create_kb_jwt};
use giayto_core::sd_jwt_vc::{IssueRequest, issue_document};
use giayto_core::status_list::{StatusList, StatusReference, sign_token};
use giayto_core::trust_list::{IssuerName, TrustList, TrustedIssuer};
use serde_json::{Value, json};

const VERIFIER: &str = "https://verifier.example";
const NONCE: &str = "nonce-1";
const LICENCE: &str = "https://giayto.gov.vn/vct/driving_licence";

struct Setup {
    dir: tempfile::TempDir,
    issuer: SoftwareSigner,
    holder: SoftwareSigner,
    now: i64,
}

impl Setup {
    fn new() -> Setup {
        Setup {
            dir: tempfile::tempdir().unwrap(),
            issuer: SoftwareSigner::generate(Algorithm::Es256).unwrap(),
            holder: SoftwareSigner::generate(Algorithm::Es256).unwrap(),
            now: giayto_cli::unix_now(),
        }
    }

    fn file(&self, name: &str, bytes: impl AsRef<[u8]>) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path.display().to_string()
    }

    fn issuer_jwk(&self) -> String {
        self.file(
            "issuer.pub.jwk",
            serde_json::to_vec(&self.issuer.public_jwk().unwrap()).unwrap(),
        )
    }

    /// A hand-made SD-JWT+KB: `payload` in the clear, `disclosed` in disclosures.
    fn hand_made(&self, typ: &str, payload: Value, disclosed: &[Disclosure]) -> String {
        let mut payload = payload.as_object().unwrap().clone();
        payload.insert("iss".into(), json!(common::ISS));
        payload.insert("vct".into(), json!(LICENCE));
        payload.insert(
            "cnf".into(),
            json!({"jwk": self.holder.public_jwk().unwrap()}),
        );
        let digests: Vec<String> = disclosed
            .iter()
            .map(|d| d.digest(HashAlg::Sha256))
            .collect();
        payload.insert("_sd".into(), json!(digests));
        let jwt = jws::sign_compact(
            header_with_typ(typ),
            Value::Object(payload).to_string().as_bytes(),
            &self.issuer,
        )
        .unwrap();
        let mut sd_jwt = jwt + "~";
        for d in disclosed {
            sd_jwt.push_str(d.encoded());
            sd_jwt.push('~');
        }
        let kb = create_kb_jwt(
            &sd_jwt,
            HashAlg::Sha256,
            VERIFIER,
            NONCE,
            self.now,
            &self.holder,
        )
        .unwrap();
        sd_jwt + &kb
    }

    /// A catalogue driving licence whose status is entry 7 of the list at `status_uri`,
    /// presented with key binding for this verifier.
    fn licence(&self, status_uri: &str) -> String {
        let credential = issue_document(
            &IssueRequest {
                issuer: common::ISS.into(),
                vct: LICENCE.into(),
                claims: common::sample_claims("driving_licence"),
                holder_jwk: Some(self.holder.public_jwk().unwrap()),
                status: Some(StatusReference {
                    idx: 7,
                    uri: status_uri.into(),
                }),
                issued_at: self.now - 60,
                not_before: None,
                expires_at: Some(self.now + 86_400),
            },
            &self.issuer,
        )
        .unwrap();
        SdJwt::parse(&credential)
            .unwrap()
            .present_with_key_binding(&["licence_number"], VERIFIER, NONCE, self.now, &self.holder)
            .unwrap()
    }

    /// A trust list naming this issuer and `others`, and its anchor's public key file.
    fn trust_list(&self, others: &[(&str, &str, &SoftwareSigner)]) -> (String, String) {
        let anchor = SoftwareSigner::generate(Algorithm::Es256).unwrap();
        let entry = |id: &str, en: &str, key: &SoftwareSigner| TrustedIssuer {
            id: id.into(),
            name: IssuerName {
                vi: en.into(),
                en: en.into(),
            },
            jwks: Jwks {
                keys: vec![key.public_jwk().unwrap().with_thumbprint_kid().unwrap()],
            },
            vcts: vec![LICENCE.into()],
            status_list_aggregation_endpoint: None,
        };
        let mut issuers = vec![entry(common::ISS, "Traffic Police", &self.issuer)];
        issuers.extend(others.iter().map(|(id, en, key)| entry(id, en, key)));
        let list = TrustList {
            iss: "https://trust.example".into(),
            iat: self.now - 60,
            exp: self.now + 86_400,
            issuers,
            verifier_anchors: Vec::new(),
            verifiers: Vec::new(),
        };
        let anchor_jwk: Jwk = anchor.public_jwk().unwrap();
        (
            self.file("trust.jwt", list.sign(&anchor).unwrap()),
            self.file("anchor.jwk", serde_json::to_vec(&anchor_jwk).unwrap()),
        )
    }

    /// A national-size list (1 bit, 2^23 random entries) with entry 7 valid, for `uri`.
    fn national_list(&self, uri: &str, signer: &SoftwareSigner) -> String {
        // xorshift64: bits zlib cannot shrink, the worst case for the token's size.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut bytes: Vec<u8> = (0..(1 << 23) / 8)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()[0]
            })
            .collect();
        bytes[0] &= !(1 << 7);
        let list = StatusList::from_bytes(1, bytes).unwrap();
        sign_token(uri, &list, self.now - 5, None, Some(3600), signer).unwrap()
    }
}

fn verify_args<'a>(input: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["verify", input, "--aud", VERIFIER, "--nonce", NONCE];
    args.extend_from_slice(extra);
    args
}

#[test]
fn exp_inside_a_disclosure_is_expired_like_exp_in_the_clear() {
    let s = Setup::new();
    let issuer = s.issuer_jwk();
    let exp = s.now - 30 * 86_400;
    let exp_disclosure = Disclosure::for_property("c2FsdA".into(), "exp", json!(exp)).unwrap();
    let hidden = s.file(
        "hidden.txt",
        s.hand_made(
            "example+sd-jwt",
            json!({"iat": s.now - 60 * 86_400}),
            &[exp_disclosure],
        ),
    );
    let clear = s.file(
        "clear.txt",
        s.hand_made("example+sd-jwt", json!({"exp": exp}), &[]),
    );
    for file in [&hidden, &clear] {
        let args = verify_args(file, &["--profile", "sd-jwt", "--issuer-jwk", &issuer]);
        let verdict = run_json(&args, 1);
        assert_eq!(error_codes(&verdict), ["expired"], "{verdict}");
        assert_eq!(verdict["validity"]["expires_at"], exp);
        assert!(verdict["claims_json"].get("exp").is_none());
    }
}

#[test]
fn an_issuer_aud_for_another_verifier_is_refused_in_both_profiles() {
    let s = Setup::new();
    let issuer = s.issuer_jwk();
    for (profile, typ) in [("sd-jwt-vc", "dc+sd-jwt"), ("sd-jwt", "example+sd-jwt")] {
        let other = s.hand_made(typ, json!({"aud": "https://other-verifier.example"}), &[]);
        let args = verify_args(&other, &["--profile", profile, "--issuer-jwk", &issuer]);
        let verdict = run_json(&args, 1);
        assert_eq!(
            error_codes(&verdict),
            ["issuer_audience_mismatch"],
            "{verdict}"
        );
        assert!(verdict["claims_json"].get("aud").is_none(), "{verdict}");
        let ours = s.hand_made(typ, json!({"aud": VERIFIER}), &[]);
        let args = verify_args(&ours, &["--profile", profile, "--issuer-jwk", &issuer]);
        let verdict = run_json(&args, 0);
        assert!(verdict["claims_json"].get("aud").is_none(), "{verdict}");
    }
}

#[test]
fn garbage_and_tampered_qr_say_nothing_about_binding() {
    let s = Setup::new();
    let issuer = s.issuer_jwk();
    let hello = s.file("hello.txt", "hello\n");
    let presentation = s.licence("https://issuer.example/status/1");
    let qr_text = giayto_core::qr::pack(&presentation).unwrap();
    let tampered = format!("{}a{}", &qr_text[..40], &qr_text[41..]);
    for input in [hello.as_str(), tampered.as_str()] {
        let out = run(&["verify", input, "--issuer-jwk", &issuer]);
        assert_eq!(out.status.code(), Some(1));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("INVALID"), "{text}");
        assert!(!text.contains("bound to a device"), "{text}");
        assert!(!text.contains("Holder binding"), "{text}");
        let verdict = run_json(&["verify", input, "--issuer-jwk", &issuer], 1);
        assert_eq!(verdict["holder_binding"]["state"], "not_checked");
    }
}

#[test]
fn a_national_status_list_file_is_used_and_an_oversized_one_is_refused_as_too_large() {
    let s = Setup::new();
    let issuer = s.issuer_jwk();
    let uri = "https://issuer.example/status/national";
    let presentation = s.licence(uri);
    let big = s.file("big.jwt", s.national_list(uri, &s.issuer));
    assert!(std::fs::metadata(&big).unwrap().len() > 1_800_000);
    let args = verify_args(
        &presentation,
        &["--issuer-jwk", &issuer, "--status-list", &big, "--offline"],
    );
    let verdict = run_json(&args, 0);
    assert_eq!(verdict["status"], "valid", "{verdict}");

    let huge = s.file("huge.jwt", "a".repeat(MAX_STATUS_LIST_TOKEN_BYTES + 1));
    let args = verify_args(
        &presentation,
        &["--issuer-jwk", &issuer, "--status-list", &huge, "--offline"],
    );
    let out = run(&args);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("limit"), "{stderr}");
    assert!(!stderr.contains("expected"), "{stderr}");
    // Offline, the missing list's message tells how to give it.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("--status-list FILE"), "{stdout}");
}

/// Serves, on 127.0.0.1, the body `make_body(url)` makes for every GET (at most `max`
/// connections); returns the server's URL.
/// Serves `make_body(url)` to at most `max` requests; the counter says how many came.
fn serve(max: usize, make_body: impl FnOnce(&str) -> String) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let body = make_body(&url);
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(max) {
            let Ok(mut stream) = stream else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/statuslist+jwt\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, requests)
}

#[test]
fn online_the_named_status_list_is_fetched_and_offline_the_message_says_how_to_give_it() {
    let s = Setup::new();
    let (url, requests) = serve(4, |url| {
        s.national_list(&format!("{url}/status/1"), &s.issuer)
    });
    let uri2 = format!("{url}/status/1");
    let (trust, anchor) = s.trust_list(&[]);
    // A presentation whose issuer signature does not verify (signed by a key the trust list
    // does not hold) makes the verifier fetch nothing, whatever URL it names.
    let stranger = Setup::new().licence(&uri2);
    let verdict = run_json(
        &verify_args(&stranger, &["--trust-list", &trust, "--anchor", &anchor]),
        1,
    );
    assert_eq!(error_codes(&verdict), ["unknown_key"], "{verdict}");
    assert_eq!(requests.load(Ordering::SeqCst), 0);

    let presentation = s.licence(&uri2);
    let online = verify_args(
        &presentation,
        &["--trust-list", &trust, "--anchor", &anchor],
    );
    let verdict = run_json(&online, 0);
    assert_eq!(verdict["status"], "valid", "{verdict}");
    assert_eq!(requests.load(Ordering::SeqCst), 1);

    let mut offline = online.clone();
    offline.push("--offline");
    let verdict = run_json(&offline, 1);
    assert_eq!(error_codes(&verdict), ["status_list_missing"], "{verdict}");
    let message = verdict["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("--status-list FILE"), "{message}");
}

#[test]
fn a_status_list_signed_by_another_trusted_issuer_names_it() {
    let s = Setup::new();
    let army = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let uri = "https://issuer.example/status/1";
    let presentation = s.licence(uri);
    let (trust, anchor) = s.trust_list(&[("https://army.example", "Ministry of Defence", &army)]);
    let list = s.file(
        "army.jwt",
        sign_token(
            uri,
            &StatusList::new(1, 64).unwrap(),
            s.now - 5,
            None,
            Some(60),
            &army,
        )
        .unwrap(),
    );
    let args = verify_args(
        &presentation,
        &[
            "--trust-list",
            &trust,
            "--anchor",
            &anchor,
            "--status-list",
            &list,
            "--offline",
        ],
    );
    let verdict = run_json(&args, 1);
    assert_eq!(
        error_codes(&verdict),
        ["status_list_wrong_signer"],
        "{verdict}"
    );
    let message = verdict["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("Ministry of Defence (https://army.example)"),
        "{message}"
    );
    assert!(
        message.contains("does not vouch for this document"),
        "{message}"
    );
    assert!(!message.contains("unknown key"), "{message}");
}
