//! `giayto-verifier certs`: a demo "verifier registrar" CA and a verifier certificate it
//! signs (rcgen, P-256), in the shape HAIP 1.0 asks for `x509_hash` (a leaf that is not
//! self-signed, under an anchor the wallet gets from the trust list). For tests and demos
//! only: a real registrar issues the leaf.

use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};

/// The PEM files `certs` writes.
#[derive(Debug, Clone)]
pub struct DemoCerts {
    /// The registrar CA certificate (the trust anchor): `ca.pem`.
    pub ca_pem: String,
    /// The registrar CA's private key: `ca.key.pem`.
    pub ca_key_pem: String,
    /// The verifier's leaf certificate, signed by the CA.
    pub leaf_pem: String,
    /// The verifier's private key: `verifier.key.pem`.
    pub leaf_key_pem: String,
}

/// Why the certificates could not be made or written.
#[derive(Debug, thiserror::Error)]
pub enum CertsError {
    /// rcgen failed.
    #[error("making the certificates: {0}")]
    Generate(#[from] rcgen::Error),
    /// A file could not be written, or already exists.
    #[error("{path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// Makes a registrar CA and a verifier leaf for `name`, valid from now for a year.
pub fn generate(name: &str) -> Result<DemoCerts, CertsError> {
    let now = time::OffsetDateTime::now_utc();
    let year = time::Duration::days(365);
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.distinguished_name = dn(&format!("{name} registrar CA"));
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params.not_before = now;
    ca_params.not_after = now + year;
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca_params.self_signed(&ca_key)?;

    let mut leaf_params = CertificateParams::new(Vec::<String>::new())?;
    leaf_params.distinguished_name = dn(name);
    leaf_params.is_ca = IsCa::ExplicitNoCa;
    leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    leaf_params.not_before = now;
    leaf_params.not_after = now + year;
    leaf_params.use_authority_key_identifier_extension = true;
    let leaf_key = KeyPair::generate()?;
    let issuer = Issuer::new(ca_params, &ca_key);
    let leaf_cert = leaf_params.signed_by(&leaf_key, &issuer)?;
    Ok(DemoCerts {
        ca_pem: ca_cert.pem(),
        ca_key_pem: ca_key.serialize_pem(),
        leaf_pem: leaf_cert.pem(),
        leaf_key_pem: leaf_key.serialize_pem(),
    })
}

/// Writes `ca.pem`, `ca.key.pem`, `verifier.pem` (the leaf only: the chain a service
/// sends, anchor excluded) and `verifier.key.pem` into `dir`, refusing to overwrite.
pub fn write(certs: &DemoCerts, dir: &Path) -> Result<(), CertsError> {
    std::fs::create_dir_all(dir).map_err(|source| CertsError::Write {
        path: dir.display().to_string(),
        source,
    })?;
    for (name, text, secret) in [
        ("ca.pem", &certs.ca_pem, false),
        ("ca.key.pem", &certs.ca_key_pem, true),
        ("verifier.pem", &certs.leaf_pem, false),
        ("verifier.key.pem", &certs.leaf_key_pem, true),
    ] {
        let path = dir.join(name);
        write_new(&path, text.as_bytes(), secret).map_err(|source| CertsError::Write {
            path: path.display().to_string(),
            source,
        })?;
    }
    Ok(())
}

fn write_new(path: &Path, bytes: &[u8], secret: bool) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    options.open(path)?.write_all(bytes)
}

fn dn(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn.push(DnType::CountryName, "VN");
    dn
}
