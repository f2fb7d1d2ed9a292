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
        b64::encode(self.digest(data))
    }

    /// [`HashAlg::digest_b64`] held inline, without allocating.
    pub(crate) fn digest_text(self, data: &[u8]) -> DigestText {
        let mut text = DigestText {
            len: 0,
            bytes: [0; DIGEST_TEXT_CAPACITY],
        };
        // 86 characters hold the largest digest (SHA-512, 64 bytes), so the text always fits.
        // The SIMD encoder of `base64-simd` (the decoder `b64` uses), with the same alphabet
        // and no padding: a digest is encoded for every disclosure and for `sd_hash`.
        let digest = self.digest(data);
        let engine = &base64_simd::URL_SAFE_NO_PAD;
        let needed = engine.encoded_length(digest.as_ref().len());
        let written = match text.bytes.get_mut(..needed) {
            Some(out) => engine
                .encode(digest.as_ref(), base64_simd::Out::from_slice(out))
                .len(),
            None => 0,
        };
        text.len = written;
        text
    }

    fn digest(self, data: &[u8]) -> ring::digest::Digest {
        let alg = match self {
            HashAlg::Sha256 => &ring::digest::SHA256,
            HashAlg::Sha384 => &ring::digest::SHA384,
            HashAlg::Sha512 => &ring::digest::SHA512,
        };
        ring::digest::digest(alg, data)
    }
}

/// Room for the base64url of a SHA-512 digest (86 characters).
const DIGEST_TEXT_CAPACITY: usize = 86;

/// The base64url text of a digest, held inline; ordered (and looked up) as its bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DigestText {
    len: usize,
    bytes: [u8; DIGEST_TEXT_CAPACITY],
}

impl DigestText {
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

impl PartialEq for DigestText {
    fn eq(&self, other: &DigestText) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for DigestText {}

impl PartialOrd for DigestText {
    fn partial_cmp(&self, other: &DigestText) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for DigestText {
    fn cmp(&self, other: &DigestText) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl std::borrow::Borrow<[u8]> for DigestText {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_text_is_the_base64url_digest() {
        for alg in [HashAlg::Sha256, HashAlg::Sha384, HashAlg::Sha512] {
            for data in [&b""[..], b"WyJzYWx0IiwibmFtZSIsInZhbHVlIl0", &[7u8; 300]] {
                assert_eq!(
                    alg.digest_text(data).as_bytes(),
                    alg.digest_b64(data).as_bytes()
                );
            }
        }
    }
}
