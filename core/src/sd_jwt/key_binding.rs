//! Key-binding JWTs (RFC 9901 section 4.3): the holder signs `iat`, `aud`, `nonce` and
//! `sd_hash` (the digest of the presented SD-JWT) with the key named in `cnf.jwk`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{HashAlg, KB_JWT_TYP, SdJwtError};
use crate::jose::jws::{self, CompactJws};
use crate::jose::{Jwk, Signer, numeric_date, typ_matches};

/// The claims of a key-binding JWT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyBindingClaims {
    /// When the holder created the proof.
    pub iat: i64,
    /// The verifier it is meant for.
    pub aud: String,
    /// The verifier's challenge, or a fresh random value in one-way mode.
    pub nonce: String,
    /// base64url digest of `<issuer JWT>~<disclosures>~`.
    pub sd_hash: String,
}

/// What a verifier expects of a key-binding JWT.
#[derive(Debug, Clone, Copy)]
pub struct KbExpectations<'a> {
    /// Accepted audiences; `None` accepts any (the caller then checks `aud` itself).
    pub audiences: Option<&'a [String]>,
    /// The expected nonce, when the verifier issued a challenge.
    pub nonce: Option<&'a str>,
    /// The verifier's clock, Unix seconds.
    pub now: i64,
    /// How old a proof may be, in seconds.
    pub max_age: i64,
    /// Tolerated clock difference between phone and verifier, in seconds.
    pub clock_skew: i64,
}

/// Creates a key-binding JWT over `sd_jwt` (the presentation up to and including its last
/// `~`), hashing with `hash_alg` (the SD-JWT's `_sd_alg`).
pub fn create_kb_jwt(
    sd_jwt: &str,
    hash_alg: HashAlg,
    aud: &str,
    nonce: &str,
    iat: i64,
    signer: &dyn Signer,
) -> Result<String, SdJwtError> {
    let claims = KeyBindingClaims {
        iat,
        aud: aud.to_owned(),
        nonce: nonce.to_owned(),
        sd_hash: hash_alg.digest_b64(sd_jwt.as_bytes()),
    };
    let payload = serde_json::to_vec(&claims).map_err(|e| SdJwtError::Json {
        context: "key binding JWT",
        reason: e.to_string(),
    })?;
    // The verifier takes the key from cnf.jwk, never from the KB-JWT; a kid would only
    // link presentations together, so none is written.
    jws::sign_compact(jws::header_with_typ(KB_JWT_TYP), &payload, &NoKid(signer))
        .map_err(SdJwtError::jose("key binding JWT"))
}

/// A signer view that never writes a `kid` header.
struct NoKid<'a>(&'a dyn Signer);

impl Signer for NoKid<'_> {
    fn algorithm(&self) -> crate::jose::Algorithm {
        self.0.algorithm()
    }
    fn key_id(&self) -> Option<String> {
        None
    }
    fn public_jwk(&self) -> Result<Jwk, crate::jose::JoseError> {
        self.0.public_jwk()
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, crate::jose::JoseError> {
        self.0.sign(message)
    }
}

/// Verifies a key-binding JWT against the holder key and the presented SD-JWT
/// (RFC 9901 section 7.3, step 5): `typ` is `kb+jwt` compared as a media type (RFC 7515
/// section 4.1.9, [`typ_matches`]); `iat` is an RFC 7519 NumericDate (fractions floored,
/// [`numeric_date`]) within `[now - max_age - clock_skew, now + clock_skew]`.
pub fn verify_kb_jwt(
    kb_jwt: &str,
    sd_jwt: &str,
    hash_alg: HashAlg,
    holder_key: &Jwk,
    expect: &KbExpectations<'_>,
) -> Result<KeyBindingClaims, SdJwtError> {
    let jws = CompactJws::parse_with_limit(kb_jwt, crate::limits::MAX_PRESENTATION_BYTES)
        .map_err(SdJwtError::jose("key binding JWT"))?;
    if !typ_matches(jws.header().typ.as_deref(), KB_JWT_TYP) {
        return Err(SdJwtError::KeyBindingWrongTyp(jws.header().typ.clone()));
    }
    jws.verify(holder_key)
        .map_err(SdJwtError::jose("key binding JWT"))?;
    let claims: KbPayload = jws.payload_json().map_err(|e| SdJwtError::Json {
        context: "key binding JWT",
        reason: e.to_string(),
    })?;
    let string = |value: Option<Value>, name: &'static str| -> Result<String, SdJwtError> {
        match value {
            Some(Value::String(s)) => Ok(s),
            _ => Err(SdJwtError::KeyBindingClaim(name)),
        }
    };
    let iat = match &claims.iat {
        None => return Err(SdJwtError::KeyBindingClaim("iat")),
        Some(value) => numeric_date(value).map_err(SdJwtError::KeyBindingIat)?,
    };
    let claims = KeyBindingClaims {
        iat,
        aud: string(claims.aud, "aud")?,
        nonce: string(claims.nonce, "nonce")?,
        sd_hash: string(claims.sd_hash, "sd_hash")?,
    };
    if claims.sd_hash.as_bytes() != hash_alg.digest_text(sd_jwt.as_bytes()).as_bytes() {
        return Err(SdJwtError::KeyBindingSdHashMismatch);
    }
    let earliest = expect
        .now
        .saturating_sub(expect.max_age.saturating_add(expect.clock_skew));
    let latest = expect.now.saturating_add(expect.clock_skew);
    if iat < earliest || iat > latest {
        return Err(SdJwtError::KeyBindingStale {
            iat,
            now: expect.now,
        });
    }
    if let Some(nonce) = expect.nonce
        && claims.nonce != nonce
    {
        return Err(SdJwtError::KeyBindingNonceMismatch);
    }
    if let Some(audiences) = expect.audiences
        && !audiences.contains(&claims.aud)
    {
        return Err(SdJwtError::KeyBindingAudienceMismatch(
            crate::jose::truncate(&claims.aud),
        ));
    }
    Ok(claims)
}

/// The members of a KB-JWT payload the verifier reads, each as sent, read like the JSON
/// object it is: every member is parsed, the others are dropped, and a repeated member
/// counts by its last value (as a `serde_json` map keeps it), without building the map.
#[derive(Default)]
struct KbPayload {
    iat: Option<Value>,
    aud: Option<Value>,
    nonce: Option<Value>,
    sd_hash: Option<Value>,
}

impl<'de> Deserialize<'de> for KbPayload {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<KbPayload, D::Error> {
        deserializer.deserialize_map(KbPayloadVisitor)
    }
}

struct KbPayloadVisitor;

impl<'de> serde::de::Visitor<'de> for KbPayloadVisitor {
    type Value = KbPayload;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The words `serde_json` uses for a map, so a payload that is not an object is
        // refused with the same message as before.
        f.write_str("a map")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<KbPayload, A::Error> {
        let mut payload = KbPayload::default();
        while let Some(member) = map.next_key::<KbMember>()? {
            let value: Value = map.next_value()?;
            match member {
                KbMember::Iat => payload.iat = Some(value),
                KbMember::Aud => payload.aud = Some(value),
                KbMember::Nonce => payload.nonce = Some(value),
                KbMember::SdHash => payload.sd_hash = Some(value),
                KbMember::Other => {}
            }
        }
        Ok(payload)
    }
}

/// A KB-JWT payload member name, read without allocating.
enum KbMember {
    Iat,
    Aud,
    Nonce,
    SdHash,
    Other,
}

impl<'de> Deserialize<'de> for KbMember {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<KbMember, D::Error> {
        struct NameVisitor;
        impl serde::de::Visitor<'_> for NameVisitor {
            type Value = KbMember;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a member name")
            }
            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<KbMember, E> {
                Ok(match name {
                    "iat" => KbMember::Iat,
                    "aud" => KbMember::Aud,
                    "nonce" => KbMember::Nonce,
                    "sd_hash" => KbMember::SdHash,
                    _ => KbMember::Other,
                })
            }
        }
        deserializer.deserialize_identifier(NameVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_reads_like_the_map_it_replaces() {
        // A repeated member counts by its last value, as in a serde_json map.
        let text = r#"{"aud":"a","iat":1,"aud":"b","nonce":"n","x":{"y":[1]},"sd_hash":"h"}"#;
        let payload: KbPayload = crate::limits::parse_json(text.as_bytes()).unwrap();
        let map: serde_json::Map<String, Value> =
            crate::limits::parse_json(text.as_bytes()).unwrap();
        assert_eq!(payload.aud.as_ref(), map.get("aud"));
        assert_eq!(payload.aud, Some(Value::String("b".into())));
        assert_eq!(payload.iat.as_ref(), map.get("iat"));
        assert_eq!(payload.nonce.as_ref(), map.get("nonce"));
        assert_eq!(payload.sd_hash.as_ref(), map.get("sd_hash"));
        // Anything that is not an object, or not JSON, is refused with the map's words.
        for bad in [
            "[1]",
            "\"aud\"",
            "{\"aud\":}",
            "{\"a\":1e999}",
            "{\"aud\":\"a\"} x",
        ] {
            let ours = crate::limits::parse_json::<KbPayload>(bad.as_bytes()).err();
            let map =
                crate::limits::parse_json::<serde_json::Map<String, Value>>(bad.as_bytes()).err();
            assert!(ours.is_some(), "{bad}");
            assert_eq!(ours, map, "{bad}");
        }
    }
}
