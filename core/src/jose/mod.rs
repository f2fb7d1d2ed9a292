//! JOSE on ring: JWK (P-256, Ed25519), RFC 7638 thumbprints, JWKS, compact JWS with an
//! algorithm allow-list, compact JWE encryption ([`jwe`]: ECDH-ES, AES-GCM) for OpenID4VP
//! answers, and the [`Signer`] seam through which a server key (josekit), a
//! phone's hardware key or a software key signs.
//!
//! Only ES256 and EdDSA are ever accepted. `none`, every HMAC algorithm, unknown `crit`
//! parameters and keys referenced by URL inside a token (`jku`, `x5u`) are refused when a
//! token is parsed, before any key is chosen.
//!
//! Two readings are shared by every token: [`typ_matches`] compares a `typ` header as a media
//! type (RFC 7515 section 4.1.9) and [`numeric_date`] reads a JWT date (RFC 7519 section 2).

pub mod b64;
mod error;
pub mod jwe;
mod jwk;
pub mod jws;
mod media_type;
pub mod numeric_date;
mod signer;

pub use error::JoseError;
pub use jwk::{Jwk, Jwks};
pub use media_type::{shown_typ, typ_matches};
pub use numeric_date::{MAX_NUMERIC_DATE, NumericDateError, numeric_date, numeric_date_claim};
pub use signer::{Signer, SoftwareSigner};

/// A JWS algorithm on giayto's allow-list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// ECDSA on P-256 with SHA-256 (the default).
    Es256,
    /// EdDSA on Ed25519.
    EdDsa,
}

impl Algorithm {
    /// The `alg` header value.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Es256 => "ES256",
            Algorithm::EdDsa => "EdDSA",
        }
    }

    /// Parses an `alg` value, refusing `none`, HMAC and everything not on the allow-list.
    pub fn from_name(name: &str) -> Result<Algorithm, JoseError> {
        match name {
            "ES256" => Ok(Algorithm::Es256),
            "EdDSA" | "Ed25519" => Ok(Algorithm::EdDsa),
            "none" | "None" | "NONE" => Err(JoseError::AlgorithmNone),
            n if n.starts_with("HS") => Err(JoseError::HmacRefused),
            other => Err(JoseError::UnsupportedAlgorithm(truncate(other))),
        }
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl serde::Serialize for Algorithm {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Algorithm {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Algorithm::from_name(&name).map_err(serde::de::Error::custom)
    }
}

/// Keeps attacker-chosen strings short when they are echoed in an error.
pub(crate) fn truncate(s: &str) -> String {
    const MAX: usize = 64;
    if s.len() <= MAX {
        s.to_owned()
    } else {
        let mut end = MAX;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_list() {
        assert_eq!(Algorithm::from_name("ES256").unwrap(), Algorithm::Es256);
        assert_eq!(Algorithm::from_name("EdDSA").unwrap(), Algorithm::EdDsa);
        assert!(matches!(
            Algorithm::from_name("none"),
            Err(JoseError::AlgorithmNone)
        ));
        assert!(matches!(
            Algorithm::from_name("HS256"),
            Err(JoseError::HmacRefused)
        ));
        assert!(matches!(
            Algorithm::from_name("RS256"),
            Err(JoseError::UnsupportedAlgorithm(_))
        ));
    }
}
