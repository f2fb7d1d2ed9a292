//! Disclosures (RFC 9901 section 4.2): base64url of a JSON array `[salt, name, value]` for an
//! object property or `[salt, value]` for an array element. The encoded string is kept
//! as received, because digests are computed over it, never over a re-encoding.

use serde_json::Value;

use super::{HashAlg, SdJwtError};
use crate::jose::b64;
use crate::limits;

/// One disclosure: its encoded form as sent, and its decoded contents.
#[derive(Debug, Clone, PartialEq)]
pub struct Disclosure {
    encoded: String,
    salt: String,
    name: Option<String>,
    value: Value,
}

impl Disclosure {
    /// Creates a disclosure for an object property.
    pub fn for_property(salt: String, name: &str, value: Value) -> Result<Disclosure, SdJwtError> {
        let array = Value::Array(vec![
            Value::String(salt.clone()),
            Value::String(name.to_owned()),
            value.clone(),
        ]);
        Ok(Disclosure {
            encoded: encode_json(&array)?,
            salt,
            name: Some(name.to_owned()),
            value,
        })
    }

    /// Creates a disclosure for an array element.
    pub fn for_element(salt: String, value: Value) -> Result<Disclosure, SdJwtError> {
        let array = Value::Array(vec![Value::String(salt.clone()), value.clone()]);
        Ok(Disclosure {
            encoded: encode_json(&array)?,
            salt,
            name: None,
            value,
        })
    }

    /// Decodes a received disclosure; `index` is its position, for error messages.
    pub fn parse(encoded: &str, index: usize) -> Result<Disclosure, SdJwtError> {
        let malformed = |reason| SdJwtError::MalformedDisclosure { index, reason };
        let bytes = b64::decode(encoded).map_err(|_| malformed("not base64url"))?;
        let value: Value = limits::parse_json(&bytes).map_err(|_| malformed("not JSON"))?;
        let Value::Array(items) = value else {
            return Err(malformed("not a JSON array"));
        };
        let mut items = items.into_iter();
        let salt = match items.next() {
            Some(Value::String(salt)) => salt,
            _ => return Err(malformed("salt must be a string")),
        };
        let (first, second, rest) = (items.next(), items.next(), items.next());
        let (name, value) = match (first, second, rest) {
            (Some(value), None, None) => (None, value),
            (Some(Value::String(name)), Some(value), None) => (Some(name), value),
            (Some(_), Some(_), None) => return Err(malformed("claim name must be a string")),
            _ => return Err(malformed("must have two or three elements")),
        };
        Ok(Disclosure {
            encoded: encoded.to_owned(),
            salt,
            name,
            value,
        })
    }

    /// The encoded form, as sent and hashed.
    pub fn encoded(&self) -> &str {
        &self.encoded
    }

    /// The salt.
    pub fn salt(&self) -> &str {
        &self.salt
    }

    /// The claim name (`None` for an array element).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The claim value.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The digest of the encoded disclosure under `alg`.
    pub fn digest(&self, alg: HashAlg) -> String {
        alg.digest_b64(self.encoded.as_bytes())
    }
}

fn encode_json(value: &Value) -> Result<String, SdJwtError> {
    serde_json::to_vec(value)
        .map(b64::encode)
        .map_err(|e| SdJwtError::Json {
            context: "disclosure",
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_example_digest() {
        // RFC 9901 section 4.2.1 / 4.2.3: the given_name disclosure and its digest.
        let d = Disclosure::parse(
            "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0",
            0,
        )
        .unwrap();
        assert_eq!(d.name(), Some("family_name"));
        assert_eq!(d.value(), &Value::String("Möbius".into()));
        assert_eq!(
            d.digest(HashAlg::Sha256),
            "X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0"
        );
    }

    #[test]
    fn shapes() {
        let enc = |s: &str| b64::encode(s);
        assert!(
            Disclosure::parse(&enc(r#"["salt","v"]"#), 0)
                .unwrap()
                .name()
                .is_none()
        );
        for bad in [
            r#"["salt"]"#,
            r#"[1,"a","b"]"#,
            r#"["s",1,"b"]"#,
            r#"["s","a","b","c"]"#,
            "{}",
        ] {
            assert!(
                matches!(
                    Disclosure::parse(&enc(bad), 3),
                    Err(SdJwtError::MalformedDisclosure { index: 3, .. })
                ),
                "{bad}"
            );
        }
    }
}
