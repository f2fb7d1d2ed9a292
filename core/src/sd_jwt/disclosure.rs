//! Disclosures (RFC 9901 section 4.2): base64url of a JSON array `[salt, name, value]` for an
//! object property or `[salt, value]` for an array element. The encoded string is kept
//! as received, because digests are computed over it, never over a re-encoding.

use std::borrow::Cow;

use serde_json::Value;

use super::{HashAlg, SdJwtError};
use crate::jose::b64;
use crate::limits;

/// One disclosure: its encoded form as sent, and its decoded contents.
#[derive(Debug, Clone, PartialEq)]
pub struct Disclosure {
    /// The encoded form (`encoded_len` bytes) followed by the salt: one allocation for both.
    text: String,
    encoded_len: usize,
    name: Option<String>,
    value: Value,
}

impl Disclosure {
    /// Creates a disclosure for an object property: base64url of the JSON array
    /// `[salt, name, value]` (RFC 9901 section 4.2.1).
    pub fn for_property(salt: String, name: &str, value: Value) -> Result<Disclosure, SdJwtError> {
        // A tuple serializes as the JSON array, byte for byte, without building it.
        let encoded = encode_json(&(salt.as_str(), name, &value))?;
        Ok(Disclosure::new(
            &encoded,
            &salt,
            Some(name.to_owned()),
            value,
        ))
    }

    /// Creates a disclosure for an array element: base64url of the JSON array
    /// `[salt, value]` (RFC 9901 section 4.2.2).
    pub fn for_element(salt: String, value: Value) -> Result<Disclosure, SdJwtError> {
        let encoded = encode_json(&(salt.as_str(), &value))?;
        Ok(Disclosure::new(&encoded, &salt, None, value))
    }

    fn new(encoded: &str, salt: &str, name: Option<String>, value: Value) -> Disclosure {
        let mut text = String::with_capacity(encoded.len() + salt.len());
        text.push_str(encoded);
        text.push_str(salt);
        Disclosure {
            text,
            encoded_len: encoded.len(),
            name,
            value,
        }
    }

    /// Decodes a received disclosure; `index` is its position, for error messages.
    pub fn parse(encoded: &str, index: usize) -> Result<Disclosure, SdJwtError> {
        Disclosure::parse_with_buffer(encoded, index, &mut Vec::new())
    }

    /// [`Disclosure::parse`] decoding into `buffer`, which a caller parsing many
    /// disclosures reuses.
    pub(crate) fn parse_with_buffer(
        encoded: &str,
        index: usize,
        buffer: &mut Vec<u8>,
    ) -> Result<Disclosure, SdJwtError> {
        let malformed = |reason| SdJwtError::MalformedDisclosure { index, reason };
        b64::decode_into(encoded, buffer).map_err(|_| malformed("not base64url"))?;
        // The usual shape is read straight into its parts; anything else (or any fault)
        // is read again as a whole value below, which names the fault exactly.
        if let Ok(Shape { salt, name, value }) = limits::parse_json_borrowed::<Shape<'_>>(buffer) {
            return Ok(Disclosure::new(encoded, &salt, name, value));
        }
        let value: Value = limits::parse_json(buffer).map_err(|_| malformed("not JSON"))?;
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
        Ok(Disclosure::new(encoded, &salt, name, value))
    }

    /// The encoded form, as sent and hashed.
    pub fn encoded(&self) -> &str {
        self.text.get(..self.encoded_len).unwrap_or_default()
    }

    /// The salt.
    pub fn salt(&self) -> &str {
        self.text.get(self.encoded_len..).unwrap_or_default()
    }

    /// The claim name (`None` for an array element).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The claim value.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// Moves the claim name and value out (leaving `None` and `null`), for processing that
    /// consumes the disclosures instead of copying what they hold.
    pub(crate) fn take_claim(&mut self) -> (Option<String>, Value) {
        (self.name.take(), std::mem::take(&mut self.value))
    }

    /// The digest of the encoded disclosure under `alg`.
    pub fn digest(&self, alg: HashAlg) -> String {
        alg.digest_b64(self.encoded().as_bytes())
    }
}

/// A well-formed disclosure array, `[salt, name, value]` or `[salt, value]`, read without
/// building the array first. Any other shape is an error, and the caller then reads the
/// input as a plain value to say what is wrong with it.
struct Shape<'de> {
    salt: Cow<'de, str>,
    name: Option<String>,
    value: Value,
}

impl<'de> serde::Deserialize<'de> for Shape<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Shape<'de>, D::Error> {
        deserializer.deserialize_seq(ShapeVisitor)
    }
}

/// A string borrowed from the decoded text when it has no escapes (the salt is copied
/// once, next to the encoded form, instead of into its own allocation).
struct Text<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Text<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Text<'de>, D::Error> {
        struct TextVisitor;
        impl<'de> serde::de::Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                text: &'de str,
            ) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(text)))
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(text.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, text: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(text)))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

struct ShapeVisitor;

impl<'de> serde::de::Visitor<'de> for ShapeVisitor {
    type Value = Shape<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a disclosure array")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Shape<'de>, A::Error> {
        use serde::de::Error as _;
        let Text(salt) = seq
            .next_element()?
            .ok_or_else(|| A::Error::custom("no salt"))?;
        let first: Value = seq
            .next_element()?
            .ok_or_else(|| A::Error::custom("no value"))?;
        let second: Option<Value> = seq.next_element()?;
        if seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
            return Err(A::Error::custom("too many elements"));
        }
        match (first, second) {
            (value, None) => Ok(Shape {
                salt,
                name: None,
                value,
            }),
            (Value::String(name), Some(value)) => Ok(Shape {
                salt,
                name: Some(name),
                value,
            }),
            _ => Err(A::Error::custom("claim name is not a string")),
        }
    }
}

fn encode_json(value: &impl serde::Serialize) -> Result<String, SdJwtError> {
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
    fn read_straight_into_parts_as_the_whole_value_says() {
        // Property and element disclosures of every value kind, escapes included: the parts
        // are those of the array the JSON text holds.
        for text in [
            r#"["salt","name","value"]"#,
            r#"["salt","name",{"a":[1,{"b":null}],"c":"d"}]"#,
            r#"["salt",{"a":1}]"#,
            r#"["salt",null]"#,
            r#"["salt","name",null]"#,
            r#"["s\u0061lt","n\"ame",-1.5e3]"#,
            r#" [ "salt" , "name" , [ ] ] "#,
        ] {
            let d = Disclosure::parse(&b64::encode(text), 0).unwrap();
            let Value::Array(items) = serde_json::from_str::<Value>(text).unwrap() else {
                panic!("{text}")
            };
            assert_eq!(Some(d.salt()), items[0].as_str(), "{text}");
            match items.len() {
                2 => assert_eq!((d.name(), d.value()), (None, &items[1]), "{text}"),
                _ => assert_eq!(
                    (d.name(), d.value()),
                    (items[1].as_str(), &items[2]),
                    "{text}"
                ),
            }
        }
    }

    /// The disclosures an issuer makes are the base64url of the JSON arrays `[salt, name,
    /// value]` and `[salt, value]` as serde_json writes them (RFC 9901 section 4.2), byte
    /// for byte, escapes and non-ASCII included, though the array itself is never built.
    #[test]
    fn made_as_the_json_array_encodes() {
        let values = [
            serde_json::json!("Nguyễn Văn An"),
            serde_json::json!({"a": [1, {"b": null}], "c": "d\"e\\f\u{1}", "g": 1.5}),
            serde_json::json!([true, false, -7]),
            Value::Null,
        ];
        for value in values {
            for name in ["given_name", "tên \"có\" dấu"] {
                let array = serde_json::json!(["c2FsdA", name, value.clone()]);
                let d = Disclosure::for_property("c2FsdA".into(), name, value.clone()).unwrap();
                assert_eq!(
                    d.encoded(),
                    b64::encode(serde_json::to_vec(&array).unwrap())
                );
                assert_eq!(
                    (d.salt(), d.name(), d.value()),
                    ("c2FsdA", Some(name), &value)
                );
            }
            let array = serde_json::json!(["c2FsdA", value.clone()]);
            let d = Disclosure::for_element("c2FsdA".into(), value.clone()).unwrap();
            assert_eq!(
                d.encoded(),
                b64::encode(serde_json::to_vec(&array).unwrap())
            );
            assert_eq!((d.salt(), d.name(), d.value()), ("c2FsdA", None, &value));
        }
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
