//! Stateless `c_nonce` values (OpenID4VCI 1.0 section 7, Nonce Endpoint): the nonce endpoint
//! stores nothing, so an anonymous caller cannot make the server hold anything. A `c_nonce`
//! is a token the server alone can make and check:
//!
//! ```text
//! base64url( version (1 byte, 1) || expires_at (8 bytes, big-endian Unix seconds)
//!            || random (16 bytes) || HMAC-SHA256 tag (32 bytes) of the 25 bytes before )
//! ```
//!
//! The HMAC key is derived from the master key for this use alone
//! ([`MasterKey::c_nonce_tag`]). The 128 random bits make each value unpredictable, as
//! section 7.2 requires. Single use is enforced only when a credential is issued: the
//! credential endpoint records the nonce in `single_uses` (until its expiry) in the same
//! transaction that issues, and refuses a nonce already recorded with `invalid_nonce`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::secrets::{self, MasterKey, SecretError};

const VERSION: u8 = 1;
const RANDOM_LEN: usize = 16;
const BODY_LEN: usize = 1 + 8 + RANDOM_LEN;
const TAG_LEN: usize = 32;
/// Length of a `c_nonce` in characters (57 bytes in unpadded base64url).
pub const C_NONCE_CHARS: usize = ((BODY_LEN + TAG_LEN) * 4).div_ceil(3);

/// Makes a fresh `c_nonce` valid until `expires_at` (Unix seconds, exclusive).
pub fn mint(master: &MasterKey, expires_at: i64) -> Result<String, SecretError> {
    let mut token = Vec::with_capacity(BODY_LEN + TAG_LEN);
    token.push(VERSION);
    token.extend_from_slice(&expires_at.to_be_bytes());
    token.extend_from_slice(&secrets::random_bytes::<RANDOM_LEN>()?);
    let tag = master.c_nonce_tag(&token);
    token.extend_from_slice(tag.as_ref());
    Ok(URL_SAFE_NO_PAD.encode(token))
}

/// The expiry (Unix seconds) of `nonce` when this server made it and it is still valid at
/// `now`; `None` for anything altered, forged, malformed or expired.
pub fn check(master: &MasterKey, nonce: &str, now: i64) -> Option<i64> {
    if nonce.len() != C_NONCE_CHARS {
        return None;
    }
    let token = URL_SAFE_NO_PAD.decode(nonce).ok()?;
    if token.len() != BODY_LEN + TAG_LEN || token.first() != Some(&VERSION) {
        return None;
    }
    let (body, tag) = token.split_at(BODY_LEN);
    if !master.c_nonce_tag_matches(body, tag) {
        return None;
    }
    let expires_at = i64::from_be_bytes(body.get(1..9)?.try_into().ok()?);
    (now < expires_at).then_some(expires_at)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn key(byte: u8) -> MasterKey {
        MasterKey::from_bytes(&[byte; 32]).unwrap()
    }

    #[test]
    fn a_nonce_is_valid_until_its_expiry_under_its_key_only() {
        let k = key(1);
        let n = mint(&k, 1_000).unwrap();
        assert_eq!(n.len(), C_NONCE_CHARS);
        assert_eq!(check(&k, &n, 999), Some(1_000));
        assert_eq!(check(&k, &n, 1_000), None, "expired");
        assert_eq!(check(&key(2), &n, 999), None, "another master key");
        assert_ne!(mint(&k, 1_000).unwrap(), n, "unpredictable");
    }

    #[test]
    fn an_altered_or_malformed_nonce_is_refused() {
        let k = key(1);
        let n = mint(&k, 1_000).unwrap();
        let mut raw = URL_SAFE_NO_PAD.decode(&n).unwrap();
        // A later expiry written over the real one: the tag no longer matches.
        raw[1..9].copy_from_slice(&i64::MAX.to_be_bytes());
        assert_eq!(check(&k, &URL_SAFE_NO_PAD.encode(&raw), 999), None);
        for bad in [
            "",
            "made-up",
            &n[1..],
            &format!("{n}A"),
            &n.replace('A', "B"),
        ] {
            if bad != n {
                assert_eq!(check(&k, bad, 999), None, "{bad}");
            }
        }
    }
}
