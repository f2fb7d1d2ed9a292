//! The two presentation modes by QR. One-way: the wallet binds its presentation to the
//! offline audience and a fresh random nonce. Two-way: the verifier first shows a challenge QR
//! (`GTC1:` + base45 of nonce, expiry and verifier id) that the wallet scans and answers with
//! `aud` = verifier id and `nonce` = the challenge nonce.
//!
//! ```text
//! challenge = "GTC1:" base45(nonce[16] expires_at[8, big-endian, >= 0] verifier_id[utf-8])
//! ```

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};

use super::QrError;
use super::text::{self, Kind};

/// The KB-JWT `aud` of a one-way presentation, made without a verifier's challenge.
pub const OFFLINE_AUDIENCE: &str = "giayto:offline";
/// Nonce length in bytes (128 bits).
const NONCE_BYTES: usize = 16;
/// Longest verifier id, in bytes.
pub const MAX_VERIFIER_ID_LEN: usize = 256;

/// A verifier's challenge for two-way presentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// Who asks: becomes the KB-JWT `aud`.
    pub verifier_id: String,
    /// 128 random bits, base64url (22 characters): becomes the KB-JWT `nonce`.
    pub nonce: String,
    /// Seconds since the Unix epoch after which the challenge is refused.
    pub expires_at: i64,
}

/// What the wallet's key-binding JWT must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyBindingTarget {
    /// The KB-JWT `aud`.
    pub aud: String,
    /// The KB-JWT `nonce`.
    pub nonce: String,
}

impl KeyBindingTarget {
    /// One-way mode: the offline audience and a fresh 128-bit random nonce.
    pub fn one_way() -> Result<Self, QrError> {
        Ok(KeyBindingTarget {
            aud: OFFLINE_AUDIENCE.to_owned(),
            nonce: URL_SAFE_NO_PAD.encode(random_nonce()?),
        })
    }
}

fn random_nonce() -> Result<[u8; NONCE_BYTES], QrError> {
    let mut nonce = [0u8; NONCE_BYTES];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| QrError::RandomUnavailable)?;
    Ok(nonce)
}

fn check_verifier_id(id: &str) -> Result<(), QrError> {
    if id.is_empty() || id.len() > MAX_VERIFIER_ID_LEN {
        return Err(QrError::InvalidChallenge(
            "the verifier id must be 1 to 256 bytes",
        ));
    }
    if id.chars().any(char::is_control) {
        return Err(QrError::InvalidChallenge(
            "the verifier id contains a control character",
        ));
    }
    Ok(())
}

impl Challenge {
    /// A fresh challenge from `verifier_id`, valid for `ttl` from `now` (Unix seconds).
    pub fn new(verifier_id: impl Into<String>, ttl: Duration, now: i64) -> Result<Self, QrError> {
        let verifier_id = verifier_id.into();
        check_verifier_id(&verifier_id)?;
        let ttl = i64::try_from(ttl.as_secs())
            .map_err(|_| QrError::InvalidChallenge("the lifetime is too long"))?;
        let expires_at = now
            .checked_add(ttl)
            .filter(|t| *t >= 0)
            .ok_or(QrError::InvalidChallenge("the expiry is out of range"))?;
        Ok(Challenge {
            verifier_id,
            nonce: URL_SAFE_NO_PAD.encode(random_nonce()?),
            expires_at,
        })
    }

    /// The QR text of this challenge (`GTC1:...`, alphanumeric mode).
    pub fn to_qr_text(&self) -> Result<String, QrError> {
        check_verifier_id(&self.verifier_id)?;
        let nonce = URL_SAFE_NO_PAD
            .decode(&self.nonce)
            .ok()
            .filter(|n| n.len() == NONCE_BYTES)
            .ok_or(QrError::InvalidChallenge(
                "the nonce must be 16 bytes of canonical base64url",
            ))?;
        if self.expires_at < 0 {
            return Err(QrError::InvalidChallenge("the expiry is before 1970"));
        }
        let mut body = Vec::with_capacity(NONCE_BYTES + 8 + self.verifier_id.len());
        body.extend_from_slice(&nonce);
        body.extend_from_slice(&self.expires_at.to_be_bytes());
        body.extend_from_slice(self.verifier_id.as_bytes());
        Ok(text::encode(Kind::Challenge, 1, &body))
    }

    /// Reads a challenge QR and refuses it when it has expired at `now` (Unix seconds).
    pub fn parse(qr_text: &str, now: i64) -> Result<Self, QrError> {
        let (kind, _, data) = text::split_prefix(qr_text)?;
        if kind != Kind::Challenge {
            return Err(QrError::KindMismatch(
                "this is a presentation, not a verifier challenge",
            ));
        }
        let body = text::decode_base45(data)?;
        if body.len() < NONCE_BYTES + 8 {
            return Err(QrError::Truncated("challenge"));
        }
        let (nonce, rest) = body.split_at(NONCE_BYTES);
        let (expiry, id) = rest.split_at(8);
        let expires_at = i64::from_be_bytes(
            expiry
                .try_into()
                .map_err(|_| QrError::Truncated("challenge expiry"))?,
        );
        if expires_at < 0 {
            return Err(QrError::InvalidChallenge("the expiry is before 1970"));
        }
        let verifier_id = std::str::from_utf8(id)
            .map_err(|_| QrError::InvalidChallenge("the verifier id is not UTF-8"))?
            .to_owned();
        check_verifier_id(&verifier_id)?;
        if now > expires_at {
            return Err(QrError::ChallengeExpired {
                expired_at: expires_at,
                now,
            });
        }
        Ok(Challenge {
            verifier_id,
            nonce: URL_SAFE_NO_PAD.encode(nonce),
            expires_at,
        })
    }

    /// Two-way mode: the KB-JWT answers this challenge.
    pub fn key_binding_target(&self) -> KeyBindingTarget {
        KeyBindingTarget {
            aud: self.verifier_id.clone(),
            nonce: self.nonce.clone(),
        }
    }
}
