//! Stateless access and refresh tokens of a document's offer (RFC 6749 sections 1.4 and
//! 1.5, OpenID4VCI 1.0 section 6.2): the token endpoint writes no token row, so handing
//! out a token costs no statement; the credential endpoint checks the MAC and reads the
//! offer. A token is made and checked by this server alone:
//!
//! ```text
//! prefix ("gya_" access, "gyr_" refresh) || base64url( version (1 byte, 1) || kind (1 byte:
//!     1 access, 2 refresh) || expires_at (8 bytes, big-endian Unix seconds)
//!     || generation (8 bytes, big-endian) || offer id length (1 byte) || offer id (UTF-8)
//!     || HMAC-SHA256 tag (32 bytes) of everything before it, the prefix excluded )
//! ```
//!
//! The HMAC key is derived from the master key for this use alone
//! ([`MasterKey::offer_token_tag`]), never logged nor shown by `Debug`.
//!
//! **Generation.** The offer row's `token_generation` is bumped by the redemption and by
//! each refresh, in the very `UPDATE` that checks them; tokens carry the generation they
//! were made at. A refresh token is honoured only at its own generation, so it works once
//! and each use rotates it (RFC 6749 section 6 and section 10.4); an access token is
//! honoured while its offer is redeemed at its generation or a later one, until it expires.
//! Single use per credential configuration is enforced when issuing: the credential
//! transaction records [`OfferToken::use_key`] in `single_uses` (until the token's expiry).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::secrets::MasterKey;

/// Prefix of an offer's access token.
pub const ACCESS_PREFIX: &str = "gya_";
/// Prefix of an offer's refresh token.
pub const REFRESH_PREFIX: &str = "gyr_";
/// Longest offer id a token carries, bytes (offer ids are 32 hex characters).
pub const MAX_OFFER_ID_LEN: usize = 64;

const VERSION: u8 = 1;
const HEADER_LEN: usize = 1 + 1 + 8 + 8 + 1;
const TAG_LEN: usize = 32;
/// Longest token this module makes, in characters: anything longer is refused unread.
const MAX_CHARS: usize = 4 + (HEADER_LEN + MAX_OFFER_ID_LEN + TAG_LEN).div_ceil(3) * 4;

/// Which of the two tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A Bearer access token for the credential endpoint.
    Access,
    /// A refresh token for the token endpoint's `refresh_token` grant.
    Refresh,
}

impl Kind {
    fn byte(self) -> u8 {
        match self {
            Kind::Access => 1,
            Kind::Refresh => 2,
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Kind::Access => ACCESS_PREFIX,
            Kind::Refresh => REFRESH_PREFIX,
        }
    }
}

/// What a genuine, unexpired token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferToken {
    /// The offer it was granted for.
    pub offer_id: String,
    /// The offer's `token_generation` when it was made.
    pub generation: i64,
    /// Its expiry, Unix seconds (exclusive).
    pub expires_at: i64,
}

impl OfferToken {
    /// The `single_uses` id recording that this (access) token was used for
    /// `configuration_id`: an access token covers each configuration of its offer once.
    pub fn use_key(&self, configuration_id: &str) -> String {
        format!("t.{}.{}.{configuration_id}", self.offer_id, self.generation)
    }
}

/// Makes a token of `kind` for `offer_id` at `generation`, valid until `expires_at` (Unix
/// seconds, exclusive); `None` when the offer id is longer than [`MAX_OFFER_ID_LEN`].
pub fn mint(
    master: &MasterKey,
    kind: Kind,
    offer_id: &str,
    generation: i64,
    expires_at: i64,
) -> Option<String> {
    let id_len = u8::try_from(offer_id.len())
        .ok()
        .filter(|n| usize::from(*n) <= MAX_OFFER_ID_LEN)?;
    let mut token = Vec::with_capacity(HEADER_LEN + offer_id.len() + TAG_LEN);
    token.push(VERSION);
    token.push(kind.byte());
    token.extend_from_slice(&expires_at.to_be_bytes());
    token.extend_from_slice(&generation.to_be_bytes());
    token.push(id_len);
    token.extend_from_slice(offer_id.as_bytes());
    let tag = master.offer_token_tag(&token);
    token.extend_from_slice(tag.as_ref());
    Some(format!(
        "{}{}",
        kind.prefix(),
        URL_SAFE_NO_PAD.encode(token)
    ))
}

/// What `token` says when this server made it as a `kind` token and it is still valid at
/// `now`; `None` for anything altered, forged, of the other kind, malformed or expired.
pub fn check(master: &MasterKey, kind: Kind, token: &str, now: i64) -> Option<OfferToken> {
    if token.len() > MAX_CHARS {
        return None;
    }
    let raw = URL_SAFE_NO_PAD
        .decode(token.strip_prefix(kind.prefix())?)
        .ok()?;
    let body_len = raw.len().checked_sub(TAG_LEN)?;
    let (body, tag) = raw.split_at(body_len);
    if body.len() < HEADER_LEN
        || body.first() != Some(&VERSION)
        || body.get(1) != Some(&kind.byte())
        || !master.offer_token_tag_matches(body, tag)
    {
        return None;
    }
    let expires_at = i64::from_be_bytes(body.get(2..10)?.try_into().ok()?);
    let generation = i64::from_be_bytes(body.get(10..18)?.try_into().ok()?);
    let id_len = usize::from(*body.get(18)?);
    let offer_id = std::str::from_utf8(body.get(HEADER_LEN..)?).ok()?;
    if offer_id.len() != id_len || now >= expires_at {
        return None;
    }
    Some(OfferToken {
        offer_id: offer_id.to_owned(),
        generation,
        expires_at,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn key(byte: u8) -> MasterKey {
        MasterKey::from_bytes(&[byte; 32]).unwrap()
    }

    #[test]
    fn a_token_says_its_offer_and_generation_until_its_expiry_under_its_key_only() {
        let k = key(1);
        let offer = "0123456789abcdef0123456789abcdef";
        let t = mint(&k, Kind::Access, offer, 3, 1_000).unwrap();
        assert!(t.starts_with(ACCESS_PREFIX));
        assert!(t.len() <= MAX_CHARS);
        let said = check(&k, Kind::Access, &t, 999).unwrap();
        assert_eq!(
            said,
            OfferToken {
                offer_id: offer.into(),
                generation: 3,
                expires_at: 1_000
            }
        );
        assert_eq!(said.use_key("can_cuoc"), format!("t.{offer}.3.can_cuoc"));
        assert_eq!(check(&k, Kind::Access, &t, 1_000), None, "expired");
        assert_eq!(check(&key(2), Kind::Access, &t, 999), None, "another key");
        // An access token is no refresh token, even with the prefix swapped.
        let swapped = t.replacen(ACCESS_PREFIX, REFRESH_PREFIX, 1);
        assert_eq!(check(&k, Kind::Refresh, &swapped, 999), None);
        let r = mint(&k, Kind::Refresh, offer, 3, 1_000).unwrap();
        assert!(r.starts_with(REFRESH_PREFIX));
        assert_eq!(check(&k, Kind::Refresh, &r, 999).unwrap().generation, 3);
        assert_eq!(check(&k, Kind::Access, &r, 999), None);
        assert_eq!(mint(&k, Kind::Access, &"a".repeat(65), 0, 1), None);
    }

    #[test]
    fn an_altered_or_malformed_token_is_refused() {
        let k = key(1);
        let t = mint(&k, Kind::Access, "offer-1", 1, 1_000).unwrap();
        let mut raw = URL_SAFE_NO_PAD.decode(&t[4..]).unwrap();
        // A later generation written over the real one: the tag no longer matches.
        raw[10..18].copy_from_slice(&2i64.to_be_bytes());
        let forged = format!("{ACCESS_PREFIX}{}", URL_SAFE_NO_PAD.encode(&raw));
        assert_eq!(check(&k, Kind::Access, &forged, 999), None);
        let long = format!("{t}{}", "A".repeat(MAX_CHARS));
        for bad in [
            "",
            "gya_",
            "gya_made-up",
            &t[1..],
            &t[..t.len() - 1],
            &format!("{t}A"),
            &t.replace('A', "B"),
            &long,
        ] {
            if bad != t {
                assert_eq!(check(&k, Kind::Access, bad, 999), None, "{bad}");
            }
        }
    }
}
