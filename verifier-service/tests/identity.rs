//! The verifier's identity as HAIP 1.0 wants it for `x509_hash`: the chain it sends holds
//! no self-signed certificate (neither the registrar's anchor nor a self-signed leaf), the
//! key is the leaf's, and the Client Identifier is the hash of the leaf; and the `certs`
//! command's files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use giayto_verifier::certs;
use giayto_verifier::identity::{IdentityError, VerifierIdentity};

#[test]
fn the_client_id_is_the_hash_of_the_leaf_and_the_chain_sent_is_the_leaf_alone() {
    let made = certs::generate("Ngân hàng Demo").unwrap();
    let identity =
        VerifierIdentity::from_pem(made.leaf_key_pem.as_bytes(), made.leaf_pem.as_bytes()).unwrap();
    let leaf = openssl::x509::X509::from_pem(made.leaf_pem.as_bytes()).unwrap();
    let der = leaf.to_der().unwrap();
    let digest = ring::digest::digest(&ring::digest::SHA256, &der);
    assert_eq!(
        identity.client_id(),
        format!("x509_hash:{}", URL_SAFE_NO_PAD.encode(digest.as_ref()))
    );
    assert_eq!(identity.x5c().len(), 1);
    // The leaf really is signed by the registrar CA.
    let ca = openssl::x509::X509::from_pem(made.ca_pem.as_bytes()).unwrap();
    assert!(leaf.verify(&ca.public_key().unwrap()).unwrap());
}

#[test]
fn a_chain_holding_the_anchor_a_self_signed_leaf_or_another_key_is_refused() {
    let made = certs::generate("Ngân hàng Demo").unwrap();
    let with_anchor = format!("{}{}", made.leaf_pem, made.ca_pem);
    for (key, chain, what) in [
        (&made.leaf_key_pem, with_anchor.as_str(), "self-signed"),
        (&made.ca_key_pem, made.ca_pem.as_str(), "self-signed"),
        (
            &made.ca_key_pem,
            made.leaf_pem.as_str(),
            "not the key of the first",
        ),
    ] {
        let error = VerifierIdentity::from_pem(key.as_bytes(), chain.as_bytes()).unwrap_err();
        assert!(matches!(error, IdentityError::Rule(_)), "{error}");
        assert!(error.to_string().contains(what), "{error}");
    }
    assert!(matches!(
        VerifierIdentity::from_pem(made.leaf_key_pem.as_bytes(), b"").unwrap_err(),
        IdentityError::Chain(_)
    ));
}

#[test]
fn certs_writes_four_files_keeps_keys_private_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let made = certs::generate("Demo").unwrap();
    certs::write(&made, dir.path()).unwrap();
    for name in ["ca.pem", "ca.key.pem", "verifier.pem", "verifier.key.pem"] {
        assert!(dir.path().join(name).exists(), "{name}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("verifier.key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the key is readable by its owner only");
    }
    let again = certs::generate("Demo").unwrap();
    assert!(certs::write(&again, dir.path()).is_err());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("verifier.pem")).unwrap(),
        made.leaf_pem
    );
}
