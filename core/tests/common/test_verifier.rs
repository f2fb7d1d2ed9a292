//! A test OpenID4VP verifier shared by core's and the CLI's tests: an rcgen registrar CA
//! and a verifier leaf signed by it, request objects whose every member a test can change
//! before signing, and the decryption of the posted response with josekit.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use giayto_core::jose::jws;
use giayto_core::jose::{Algorithm, JoseError, Jwk, Signer, b64};
use giayto_core::jose::{Jwks, SoftwareSigner};
use giayto_core::oid4vp::x509_hash;
use giayto_core::trust_list::{
    IssuerName, RegisteredRequest, RegisteredVerifier, TrustList, TrustedIssuer,
};
use josekit::jwe::ECDH_ES;
use josekit::jwk::alg::ec::EcCurve;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use serde_json::{Map, Value, json};

/// A P-256 key held by ring, signing JWS for a certificate rcgen made.
pub struct CertKey(EcdsaKeyPair);

impl CertKey {
    pub fn from_rcgen(pair: &rcgen::KeyPair) -> CertKey {
        CertKey(
            EcdsaKeyPair::from_pkcs8(
                &ECDSA_P256_SHA256_FIXED_SIGNING,
                &pair.serialize_der(),
                &SystemRandom::new(),
            )
            .unwrap(),
        )
    }
}

impl Signer for CertKey {
    fn algorithm(&self) -> Algorithm {
        Algorithm::Es256
    }
    fn key_id(&self) -> Option<String> {
        None
    }
    fn public_jwk(&self) -> Result<Jwk, JoseError> {
        Jwk::from_p256_public(self.0.public_key().as_ref())
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JoseError> {
        Ok(self
            .0
            .sign(&SystemRandom::new(), message)
            .unwrap()
            .as_ref()
            .to_vec())
    }
}

/// A verifier registrar CA and a verifier leaf certificate signed by it.
pub struct Pki {
    pub ca_der: Vec<u8>,
    pub leaf_der: Vec<u8>,
    pub leaf_key: CertKey,
    /// The leaf's private key, PKCS#8 PEM (for a verifier in another language).
    pub leaf_key_pem: String,
}

pub fn pki() -> Pki {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Verifier registrar (test)");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let mut leaf_params =
        rcgen::CertificateParams::new(vec!["desk.benhvien.example".to_owned()]).unwrap();
    leaf_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Bach Mai Hospital desk");
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
    Pki {
        ca_der: ca_cert.der().to_vec(),
        leaf_der: leaf.der().to_vec(),
        leaf_key: CertKey::from_rcgen(&leaf_key),
        leaf_key_pem: leaf_key.serialize_pem(),
    }
}

/// The `x509_hash` client id of the verifier's leaf.
pub fn client_id(pki: &Pki) -> String {
    format!("x509_hash:{}", x509_hash(&pki.leaf_der))
}

/// A trust list signed by a new anchor, valid around `now`: one issuer (`iss`, `issuer`'s
/// key, the document type `vct` with its purpose types), the test registrar, `verifiers`.
/// Returns the token and the anchor's public key.
pub fn signed_trust_list(
    pki: &Pki,
    iss: &str,
    issuer: &SoftwareSigner,
    vct: &str,
    verifiers: Vec<RegisteredVerifier>,
    now: i64,
) -> (String, Jwk) {
    let anchor = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let list = TrustList {
        iss: "https://trust.giayto.gov.vn".into(),
        iat: now - 10,
        exp: now + 86_400,
        issuers: vec![TrustedIssuer {
            id: iss.into(),
            name: IssuerName {
                vi: "Bộ Công an".into(),
                en: "Ministry of Public Security".into(),
            },
            jwks: Jwks {
                keys: vec![issuer.public_jwk().unwrap().with_thumbprint_kid().unwrap()],
            },
            vcts: giayto_core::catalogue::issued_vcts(vct),
            status_list_aggregation_endpoint: None,
        }],
        verifier_anchors: vec![b64::encode_standard(&pki.ca_der)],
        verifiers,
    };
    (list.sign(&anchor).unwrap(), anchor.public_jwk().unwrap())
}

/// The registration of the test verifier ("Bach Mai Hospital") for `vct` and `claims`.
pub fn registration(pki: &Pki, vct: &str, claims: Vec<Vec<Value>>) -> RegisteredVerifier {
    RegisteredVerifier {
        client_id: client_id(pki),
        name: IssuerName {
            vi: "Bệnh viện Bạch Mai".into(),
            en: "Bach Mai Hospital".into(),
        },
        may_request: vec![RegisteredRequest {
            vct: vct.to_owned(),
            claims,
        }],
    }
}

/// The test verifier's request: every member can be changed before signing.
pub struct Request {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    pub decryption: josekit::jwk::Jwk,
}

pub fn request(pki: &Pki, dcql: Value, response_uri: &str, now: i64) -> Request {
    let mut key = ECDH_ES
        .generate_ec_key_pair(EcCurve::P256)
        .unwrap()
        .to_jwk_key_pair();
    key.set_key_id("enc-1");
    key.set_algorithm("ECDH-ES");
    key.set_key_use("enc");
    // josekit's public key keeps `use` but not `kid` and `alg`.
    let mut public: Map<String, Value> = key.to_public_key().unwrap().as_ref().clone();
    public.insert("kid".into(), Value::from("enc-1"));
    public.insert("alg".into(), Value::from("ECDH-ES"));
    let mut header = jws::header_with_typ("oauth-authz-req+jwt");
    header.insert("x5c".into(), json!([b64::encode_standard(&pki.leaf_der)]));
    let claims = json!({
        "iss": client_id(pki),
        "aud": "https://self-issued.me/v2",
        "iat": now - 5,
        "exp": now + 300,
        "client_id": client_id(pki),
        "response_type": "vp_token",
        "response_mode": "direct_post.jwt",
        "response_uri": response_uri,
        "nonce": "n-0S6_WzA2Mj",
        "state": "st-1",
        "dcql_query": dcql,
        "client_metadata": {
            "jwks": {"keys": [public]},
            "encrypted_response_enc_values_supported": ["A128GCM"],
            "vp_formats_supported": {"dc+sd-jwt": {"sd-jwt_alg_values": ["ES256"], "kb-jwt_alg_values": ["ES256"]}}
        }
    });
    Request {
        header,
        claims: claims.as_object().unwrap().clone(),
        decryption: key,
    }
}

impl Request {
    pub fn sign(&self, key: &dyn Signer) -> String {
        jws::sign_compact(
            self.header.clone(),
            &serde_json::to_vec(&self.claims).unwrap(),
            key,
        )
        .unwrap()
    }

    /// Decrypts a posted `response=<JWE>` body into the Authorization Response.
    pub fn open(&self, body: &[u8]) -> Map<String, Value> {
        let form: HashMap<String, String> = serde_urlencoded::from_bytes(body).unwrap();
        let decrypter = ECDH_ES.decrypter_from_jwk(&self.decryption).unwrap();
        let (payload, header) =
            josekit::jwe::deserialize_compact(&form["response"], &decrypter).unwrap();
        assert_eq!(header.content_encryption(), Some("A128GCM"));
        assert_eq!(header.key_id(), Some("enc-1"));
        serde_json::from_slice(&payload).unwrap()
    }
}
