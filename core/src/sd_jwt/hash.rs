//! The hash algorithms `_sd_alg` may name (IANA "Named Information Hash Algorithm" names).

use super::SdJwtError;
use crate::jose::b64;

/// A hash algorithm for disclosure digests and `sd_hash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HashAlg {
    /// `sha-256`, the default when `_sd_alg` is absent.
    #[default]
    Sha256,
    /// `sha-384`.
    Sha384,
    /// `sha-512`.
    Sha512,
}

impl HashAlg {
    /// The `_sd_alg` value.
    pub fn name(self) -> &'static str {
        match self {
            HashAlg::Sha256 => "sha-256",
            HashAlg::Sha384 => "sha-384",
            HashAlg::Sha512 => "sha-512",
        }
    }

    /// Parses an `_sd_alg` value.
    pub fn from_name(name: &str) -> Result<HashAlg, SdJwtError> {
        match name {
            "sha-256" => Ok(HashAlg::Sha256),
            "sha-384" => Ok(HashAlg::Sha384),
            "sha-512" => Ok(HashAlg::Sha512),
            other => Err(SdJwtError::UnsupportedHashAlg(crate::jose::truncate(other))),
        }
    }

    /// base64url of the digest of `data` (a disclosure's ASCII bytes or an SD-JWT).
    pub fn digest_b64(self, data: &[u8]) -> String {
        let alg = match self {
            HashAlg::Sha256 => &ring::digest::SHA256,
            HashAlg::Sha384 => &ring::digest::SHA384,
            HashAlg::Sha512 => &ring::digest::SHA512,
        };
        b64::encode(ring::digest::digest(alg, data))
    }
}
