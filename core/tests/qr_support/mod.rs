//! Shared by the QR tests and bench: the RFC 9901 example presentations and synthetic giayto
//! presentations shaped like real SD-JWT VCs (random-looking digests, salts, keys, signatures).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// Reads an RFC 9901 example (copied from the shared vectors into `tests/vectors/qr/rfc/`);
/// `file` is `sd_jwt_presentation` (with KB-JWT) or `sd_jwt_issuance` (without).
pub fn rfc_vector(example: &str, file: &str) -> String {
    let path = format!(
        "{}/tests/vectors/qr/rfc/{example}__{file}.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .trim_end_matches('\n')
        .to_owned()
}

/// Deterministic, incompressible bytes: SHA-256 in counter mode over a label.
pub struct Bytes {
    label: String,
    counter: u64,
}

impl Bytes {
    pub fn new(label: &str) -> Self {
        Bytes {
            label: label.to_owned(),
            counter: 0,
        }
    }

    pub fn take(&mut self, n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            self.counter += 1;
            let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
            ctx.update(self.label.as_bytes());
            ctx.update(&self.counter.to_be_bytes());
            out.extend_from_slice(ctx.finish().as_ref());
        }
        out.truncate(n);
        out
    }

    pub fn b64(&mut self, n: usize) -> String {
        URL_SAFE_NO_PAD.encode(self.take(n))
    }
}

fn b64_json(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

/// A synthetic driving licence (giấy phép lái xe) SD-JWT VC shaped like giayto's: `total_claims`
/// selectively disclosable claims (their digests all in `_sd`), of which `disclosed` are shown,
/// with a KB-JWT when `with_kb`.
pub fn licence(
    label: &str,
    disclosed: &[(&str, Value)],
    total_claims: usize,
    with_kb: bool,
) -> String {
    let mut rnd = Bytes::new(label);
    let header = json!({"alg": "ES256", "typ": "dc+sd-jwt", "kid": rnd.b64(32)});
    let digests: Vec<String> = (0..total_claims).map(|_| rnd.b64(32)).collect();
    let payload = json!({
        "_sd": digests,
        "iss": "https://csgt.bocongan.gov.vn",
        "iat": 1_767_225_600,
        "exp": 2_082_758_400,
        "vct": "https://giayto.gov.vn/vct/driving_licence",
        "status": {"status_list": {"idx": 48_213, "uri": "https://giayto.gov.vn/status/csgt/1"}},
        "cnf": {"jwk": {"kty": "EC", "crv": "P-256", "x": rnd.b64(32), "y": rnd.b64(32)}},
        "_sd_alg": "sha-256"
    });
    let mut out = format!(
        "{}.{}.{}~",
        b64_json(&header),
        b64_json(&payload),
        rnd.b64(64)
    );
    for (name, value) in disclosed {
        out.push_str(&b64_json(&json!([rnd.b64(16), name, value])));
        out.push('~');
    }
    if with_kb {
        let kb_header = json!({"alg": "ES256", "typ": "kb+jwt"});
        let kb_payload = json!({"iat": 1_767_312_000, "aud": "giayto:offline", "nonce": rnd.b64(16), "sd_hash": rnd.b64(32)});
        out.push_str(&format!(
            "{}.{}.{}",
            b64_json(&kb_header),
            b64_json(&kb_payload),
            rnd.b64(64)
        ));
    }
    out
}

/// The traffic-stop preset of a licence: who, which licence, which vehicle classes, until when.
pub fn licence_traffic_stop(with_kb: bool) -> String {
    licence("traffic-stop", &traffic_stop_claims(), 16, with_kb)
}

/// Every claim of a licence disclosed.
pub fn licence_full(with_kb: bool) -> String {
    let mut claims = traffic_stop_claims();
    claims.extend([
        ("sex", json!(1)),
        ("nationality", json!("VN")),
        (
            "place_of_residence",
            json!("Số 12 ngõ 34 phố Hàng Bạc, phường Hoàn Kiếm, Hà Nội"),
        ),
        ("issue_date", json!("2025-06-01")),
        (
            "issuing_authority",
            json!("Phòng Cảnh sát giao thông Công an thành phố Hà Nội"),
        ),
        ("issuing_country", json!("VN")),
        ("personal_identification_number", json!("001090012345")),
        ("age_equal_or_over", json!({"18": true})),
    ]);
    licence("full", &claims, 16, with_kb)
}

/// The age_over_18 preset: only the age predicate, from a credential with `total_claims` digests.
pub fn age_over_18(total_claims: usize) -> String {
    licence(
        "age",
        &[("age_equal_or_over", json!({"18": true}))],
        total_claims,
        true,
    )
}

fn traffic_stop_claims() -> Vec<(&'static str, Value)> {
    vec![
        ("family_name", json!("Nguyễn")),
        ("given_name", json!("Văn An")),
        ("birth_date", json!("1990-05-17")),
        ("document_number", json!("790123456789")),
        ("expiry_date", json!("2035-06-01")),
        (
            "driving_privileges",
            json!([
                {"vehicle_category_code": "A1", "issue_date": "2012-03-10", "expiry_date": null},
                {"vehicle_category_code": "B", "issue_date": "2015-06-01", "expiry_date": "2035-06-01"}
            ]),
        ),
    ]
}
