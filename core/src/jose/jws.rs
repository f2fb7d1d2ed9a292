//! Compact JWS (RFC 7515) signing and parsing with giayto's algorithm allow-list.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::{Algorithm, JoseError, Jwk, Signer, b64, truncate};
use crate::limits;

/// The protected header of a parsed JWS: the members giayto reads, and all of them raw.
#[derive(Debug, Clone)]
pub struct JwsHeader {
    /// The algorithm, already checked against the allow-list.
    pub alg: Algorithm,
    /// `typ`, if present.
    pub typ: Option<String>,
    /// `kid`, if present.
    pub kid: Option<String>,
    /// `jwk`, if present (a public key; only meaningful where a spec puts the key there,
    /// such as an OpenID4VCI key proof).
    pub jwk: Option<Jwk>,
    /// Every header member as parsed.
    pub raw: Map<String, Value>,
}

/// A parsed compact JWS whose signature has not been verified yet.
#[derive(Debug, Clone)]
pub struct CompactJws {
    /// The token, possibly followed by the rest of the text it came in (a presentation
    /// keeps one copy of all it received): the JWS is `token[..token_len]`.
    token: String,
    token_len: usize,
    signing_input_len: usize,
    header: JwsHeader,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

impl CompactJws {
    /// Parses a compact JWS of at most [`limits::MAX_JWS_BYTES`].
    pub fn parse(token: &str) -> Result<CompactJws, JoseError> {
        CompactJws::parse_with_limit(token, limits::MAX_JWS_BYTES)
    }

    /// Parses a compact JWS of at most `limit` bytes, enforcing the allow-list and header
    /// rules before anything else looks at it.
    pub fn parse_with_limit(token: &str, limit: usize) -> Result<CompactJws, JoseError> {
        let parts = Parts::parse(token, limit)?;
        Ok(parts.into_jws(token.to_owned(), token.len()))
    }

    /// Parses the compact JWS `text[..len]` (of at most `limit` bytes) and keeps `text`
    /// whole, so that a caller holding more than the JWS needs one copy of it all
    /// ([`CompactJws::text`]).
    pub(crate) fn parse_prefix(
        text: String,
        len: usize,
        limit: usize,
    ) -> Result<CompactJws, JoseError> {
        let token = text
            .get(..len)
            .ok_or(JoseError::Malformed("expected three dot-separated parts"))?;
        let parts = Parts::parse(token, limit)?;
        Ok(parts.into_jws(text, len))
    }

    /// The whole text the JWS was parsed from ([`CompactJws::parse_prefix`]).
    pub(crate) fn text(&self) -> &str {
        &self.token
    }
}

/// A compact JWS taken apart, before its text is stored.
struct Parts {
    signing_input_len: usize,
    header: JwsHeader,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

impl Parts {
    fn into_jws(self, token: String, token_len: usize) -> CompactJws {
        CompactJws {
            token,
            token_len,
            signing_input_len: self.signing_input_len,
            header: self.header,
            payload: self.payload,
            signature: self.signature,
        }
    }

    fn parse(token: &str, limit: usize) -> Result<Parts, JoseError> {
        if token.len() > limit {
            return Err(JoseError::TooLarge {
                size: token.len(),
                limit,
            });
        }
        let mut parts = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JoseError::Malformed("expected three dot-separated parts"));
        };
        let header_bytes = b64::decode(header_b64)?;
        let raw: Map<String, Value> = limits::parse_json(&header_bytes).map_err(JoseError::Json)?;
        let header = parse_header(raw)?;
        let payload = b64::decode(payload_b64)?;
        let signature = b64::decode(signature_b64)?;
        if signature.len() != 64 {
            return Err(JoseError::Malformed("signature must be 64 bytes"));
        }
        Ok(Parts {
            signing_input_len: header_b64.len() + 1 + payload_b64.len(),
            header,
            payload,
            signature,
        })
    }
}

impl CompactJws {
    /// The protected header.
    pub fn header(&self) -> &JwsHeader {
        &self.header
    }

    /// The payload bytes.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The payload parsed as JSON (after the nesting-depth check).
    pub fn payload_json<T: DeserializeOwned>(&self) -> Result<T, JoseError> {
        limits::parse_json(&self.payload).map_err(JoseError::Json)
    }

    /// The JWS signing input, `header_b64.payload_b64`.
    pub fn signing_input(&self) -> &str {
        &self.token[..self.signing_input_len]
    }

    /// The whole compact token.
    pub fn as_str(&self) -> &str {
        self.token.get(..self.token_len).unwrap_or_default()
    }

    /// Verifies the signature with `key`, whose type must fit the header's algorithm.
    pub fn verify(&self, key: &Jwk) -> Result<(), JoseError> {
        key.verify(
            self.header.alg,
            self.signing_input().as_bytes(),
            &self.signature,
        )
    }
}

fn parse_header(raw: Map<String, Value>) -> Result<JwsHeader, JoseError> {
    // One pass over the members finds the ones read here (instead of one look-up each);
    // the rules then run in their order.
    let (mut alg, mut crit, mut jku, mut x5u, mut typ, mut kid, mut jwk) =
        (None, None, false, false, None, None, None);
    for (name, value) in &raw {
        match name.as_str() {
            "alg" => alg = Some(value),
            "crit" => crit = Some(value),
            "jku" => jku = true,
            "x5u" => x5u = true,
            "typ" => typ = Some(value),
            "kid" => kid = Some(value),
            "jwk" => jwk = Some(value),
            _ => {}
        }
    }
    let alg = match alg {
        Some(Value::String(name)) => Algorithm::from_name(name)?,
        Some(_) => return Err(JoseError::Malformed("alg must be a string")),
        None => return Err(JoseError::Malformed("missing alg")),
    };
    if let Some(crit) = crit {
        // giayto understands no JWS extension, so any critical one is unknown.
        let first = crit
            .as_array()
            .and_then(|names| names.first())
            .and_then(Value::as_str)
            .unwrap_or("crit");
        return Err(JoseError::UnknownCritical(truncate(first)));
    }
    for (present, url_member) in [(jku, "jku"), (x5u, "x5u")] {
        if present {
            return Err(JoseError::KeyUrlRefused(url_member));
        }
    }
    let string_member = |value: Option<&Value>| -> Result<Option<String>, JoseError> {
        match value {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(JoseError::Malformed("typ and kid must be strings")),
        }
    };
    let typ = string_member(typ)?;
    let kid = string_member(kid)?;
    let jwk = match jwk {
        None => None,
        Some(value) => {
            let jwk: Jwk = serde_json::from_value(value.clone())
                .map_err(|_| JoseError::InvalidKey("header jwk is not a JWK"))?;
            if jwk.is_private() {
                return Err(JoseError::InvalidKey("header jwk contains a private key"));
            }
            Some(jwk)
        }
    };
    Ok(JwsHeader {
        alg,
        typ,
        kid,
        jwk,
        raw,
    })
}

/// Signs `payload` as a compact JWS. The header gets `alg` from the signer, and `kid` if
/// the signer has one and the header does not already carry a `kid` or `jwk`.
pub fn sign_compact(
    mut header: Map<String, Value>,
    payload: &[u8],
    signer: &dyn Signer,
) -> Result<String, JoseError> {
    let mut ordered = Map::new();
    ordered.insert(
        "alg".into(),
        Value::String(signer.algorithm().name().into()),
    );
    header.remove("alg");
    ordered.append(&mut header);
    if !ordered.contains_key("kid")
        && !ordered.contains_key("jwk")
        && let Some(kid) = signer.key_id()
    {
        ordered.insert("kid".into(), Value::String(kid));
    }
    let header_json =
        serde_json::to_vec(&Value::Object(ordered)).map_err(|e| JoseError::Json(e.to_string()))?;
    // One buffer for the whole JWS: header, payload and the 86 characters of an ES256 or
    // EdDSA signature.
    let mut token = String::with_capacity((header_json.len() + payload.len()) * 4 / 3 + 96);
    b64::encode_append(header_json, &mut token);
    token.push('.');
    b64::encode_append(payload, &mut token);
    let signature = signer.sign(token.as_bytes())?;
    token.push('.');
    b64::encode_append(signature, &mut token);
    Ok(token)
}

/// Builds a header map with just `typ`.
pub fn header_with_typ(typ: &str) -> Map<String, Value> {
    let mut header = Map::new();
    header.insert("typ".into(), Value::String(typ.into()));
    header
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::SoftwareSigner;

    fn forge(header: &str, payload: &str) -> String {
        format!(
            "{}.{}.{}",
            b64::encode(header),
            b64::encode(payload),
            b64::encode([0u8; 64])
        )
    }

    #[test]
    fn round_trip_with_kid() {
        let signer = SoftwareSigner::generate(Algorithm::Es256).unwrap();
        let token = sign_compact(header_with_typ("JWT"), br#"{"a":1}"#, &signer).unwrap();
        let jws = CompactJws::parse(&token).unwrap();
        assert_eq!(jws.header().alg, Algorithm::Es256);
        assert_eq!(jws.header().typ.as_deref(), Some("JWT"));
        assert_eq!(jws.header().kid, signer.key_id());
        jws.verify(&signer.public_jwk().unwrap()).unwrap();
        let other = SoftwareSigner::generate(Algorithm::Es256).unwrap();
        assert_eq!(
            jws.verify(&other.public_jwk().unwrap()),
            Err(JoseError::BadSignature)
        );
        let ed = SoftwareSigner::generate(Algorithm::EdDsa).unwrap();
        assert!(matches!(
            jws.verify(&ed.public_jwk().unwrap()),
            Err(JoseError::KeyAlgorithmMismatch(_))
        ));
    }

    #[test]
    fn header_rules() {
        let cases: [(&str, JoseError); 6] = [
            (r#"{"alg":"none"}"#, JoseError::AlgorithmNone),
            (r#"{"alg":"HS256"}"#, JoseError::HmacRefused),
            (
                r#"{"alg":"ES256","crit":["exp"],"exp":1}"#,
                JoseError::UnknownCritical("exp".into()),
            ),
            (
                r#"{"alg":"ES256","jku":"https://evil.example/jwks"}"#,
                JoseError::KeyUrlRefused("jku"),
            ),
            (
                r#"{"alg":"ES256","x5u":"https://evil.example/cert"}"#,
                JoseError::KeyUrlRefused("x5u"),
            ),
            (r#"{"typ":"JWT"}"#, JoseError::Malformed("missing alg")),
        ];
        for (header, expected) in cases {
            assert_eq!(
                CompactJws::parse(&forge(header, "{}")).unwrap_err(),
                expected,
                "{header}"
            );
        }
    }

    #[test]
    fn shape_and_size() {
        assert!(matches!(
            CompactJws::parse("a.b"),
            Err(JoseError::Malformed(_))
        ));
        assert!(matches!(
            CompactJws::parse("a.b.c.d"),
            Err(JoseError::Malformed(_))
        ));
        assert!(matches!(
            CompactJws::parse_with_limit(&"a".repeat(100), 10),
            Err(JoseError::TooLarge { .. })
        ));
        let deep = format!("{{\"alg\":\"ES256\",\"x\":{}}}", "[".repeat(100));
        assert!(matches!(
            CompactJws::parse(&forge(&deep, "{}")),
            Err(JoseError::Json(_))
        ));
    }
}
