//! The verifier's identity: its signing key and certificate chain, the `x509_hash` Client
//! Identifier they give, and the signed request objects (JAR, RFC 9101) made with them.
//!
//! Rules (OpenID4VP 1.0 section 5.9.3, HAIP 1.0 "OpenID for Verifiable Presentations"):
//! the Client Identifier is `x509_hash:` + base64url (no padding) of SHA-256 over the DER
//! leaf certificate; the request object is signed with the leaf's key, ES256, and carries
//! the chain in `x5c` (leaf first) without the trust anchor; the leaf is not self-signed.
//! These are checked when the identity is loaded, so a misconfigured service does not start.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use josekit::jws::alg::ecdsa::EcdsaJwsSigner;
use josekit::jws::{ES256, JwsHeader};
use josekit::jwt::{self, JwtPayload};
use openssl::x509::X509;
use serde_json::{Map, Value};

/// The JOSE `typ` of a request object (RFC 9101 section 10.8).
pub const REQUEST_OBJECT_TYP: &str = "oauth-authz-req+jwt";
/// The Client Identifier Prefix used (OpenID4VP 1.0 section 5.9.3).
pub const CLIENT_ID_PREFIX: &str = "x509_hash:";

/// Why the key or chain cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The chain file holds no certificate, or one that does not parse.
    #[error("certificate chain: {0}")]
    Chain(String),
    /// The key does not parse or is not P-256.
    #[error("signing key: {0}")]
    Key(String),
    /// The chain breaks a HAIP rule.
    #[error("certificate chain: {0}")]
    Rule(&'static str),
    /// Signing failed.
    #[error("signing the request object: {0}")]
    Signing(String),
}

/// The verifier's key, chain and Client Identifier.
pub struct VerifierIdentity {
    signer: EcdsaJwsSigner,
    /// DER certificates, leaf first, anchor excluded.
    chain: Vec<Vec<u8>>,
    client_id: String,
}

impl std::fmt::Debug for VerifierIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifierIdentity")
            .field("client_id", &self.client_id)
            .field("chain_len", &self.chain.len())
            .finish_non_exhaustive()
    }
}

impl VerifierIdentity {
    /// Loads a PEM private key (PKCS#8 P-256) and a PEM chain (leaf first). Errors when the
    /// chain is empty, a certificate is self-signed (a trust anchor, or a self-signed leaf:
    /// HAIP forbids both in `x5c`), or the key is not the leaf's.
    pub fn from_pem(key_pem: &[u8], chain_pem: &[u8]) -> Result<VerifierIdentity, IdentityError> {
        let certs =
            X509::stack_from_pem(chain_pem).map_err(|e| IdentityError::Chain(e.to_string()))?;
        let leaf = certs
            .first()
            .ok_or_else(|| IdentityError::Chain("no certificate in the file".into()))?;
        for cert in &certs {
            if is_self_signed(cert) {
                return Err(IdentityError::Rule(
                    "holds a self-signed certificate: give the leaf and intermediates only, \
                     never the registrar's trust anchor, and a leaf signed by the registrar",
                ));
            }
        }
        let key = openssl::pkey::PKey::private_key_from_pem(key_pem)
            .map_err(|e| IdentityError::Key(e.to_string()))?;
        let leaf_key = leaf
            .public_key()
            .map_err(|e| IdentityError::Chain(e.to_string()))?;
        if !leaf_key.public_eq(&key) {
            return Err(IdentityError::Rule(
                "the signing key is not the key of the first (leaf) certificate",
            ));
        }
        let signer = ES256
            .signer_from_pem(key_pem)
            .map_err(|e| IdentityError::Key(e.to_string()))?;
        let chain = certs
            .iter()
            .map(|c| c.to_der())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| IdentityError::Chain(e.to_string()))?;
        let client_id = client_id_for(
            &leaf
                .to_der()
                .map_err(|e| IdentityError::Chain(e.to_string()))?,
        );
        Ok(VerifierIdentity {
            signer,
            chain,
            client_id,
        })
    }

    /// The Client Identifier: `x509_hash:<base64url SHA-256 of the DER leaf>`.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The `x5c` header value: standard base64 DER, leaf first (RFC 7515 section 4.1.6).
    pub fn x5c(&self) -> Vec<String> {
        self.chain.iter().map(|der| STANDARD.encode(der)).collect()
    }

    /// Signs `claims` as a request object: header `alg: ES256`, `typ:
    /// oauth-authz-req+jwt`, `x5c`.
    pub fn sign_request_object(&self, claims: Map<String, Value>) -> Result<String, IdentityError> {
        let mut header = JwsHeader::new();
        header.set_token_type(REQUEST_OBJECT_TYP);
        header.set_x509_certificate_chain(&self.chain);
        let payload =
            JwtPayload::from_map(claims).map_err(|e| IdentityError::Signing(e.to_string()))?;
        jwt::encode_with_signer(&payload, &header, &self.signer)
            .map_err(|e| IdentityError::Signing(e.to_string()))
    }
}

/// `x509_hash:` + base64url(SHA-256(DER)) (OpenID4VP 1.0 section 5.9.3).
pub fn client_id_for(leaf_der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, leaf_der);
    format!(
        "{CLIENT_ID_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(digest.as_ref())
    )
}

/// Whether `cert` names itself as issuer and its own key verifies its signature.
fn is_self_signed(cert: &X509) -> bool {
    cert.issued(cert) == openssl::x509::X509VerifyResult::OK
        && cert
            .public_key()
            .and_then(|key| cert.verify(&key))
            .unwrap_or(false)
}
