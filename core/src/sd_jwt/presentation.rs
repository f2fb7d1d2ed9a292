//! The two sides of a presentation: [`SdJwt`], the holder's issued SD-JWT from which
//! disclosures are selected (parents included automatically) and a key-binding JWT added;
//! and [`Presentation`], what a verifier receives, parsed from the compact or the JWS JSON
//! serialization (RFC 9901 sections 4 and 8) before any check.

use serde_json::{Map, Value};

use super::path::{self, Pattern};
use super::process::{ConsumedPayload, process_payload_consuming};
use super::{
    ClaimPath, Disclosure, HashAlg, ProcessedPayload, SdJwtError, create_kb_jwt, process_payload,
};
use crate::jose::Signer;
use crate::jose::jws::CompactJws;
use crate::limits::MAX_PRESENTATION_BYTES;

/// An SD-JWT as issued to a holder: the issuer-signed JWT and all its disclosures.
#[derive(Debug, Clone, PartialEq)]
pub struct SdJwt {
    issuer_jwt: String,
    disclosures: Vec<Disclosure>,
}

impl SdJwt {
    pub(crate) fn from_parts(issuer_jwt: String, disclosures: Vec<Disclosure>) -> SdJwt {
        SdJwt {
            issuer_jwt,
            disclosures,
        }
    }

    /// Parses an issued SD-JWT in compact form (`<JWT>~<D1>~...~<DN>~`). An SD-JWT+KB is
    /// refused, as RFC 9901 section 7.2 requires of a holder.
    pub fn parse(issued: &str) -> Result<SdJwt, SdJwtError> {
        let parts = split_compact(issued)?;
        if parts.kb_jwt.is_some() {
            return Err(SdJwtError::Malformed(
                "an issued SD-JWT must not carry a KB-JWT",
            ));
        }
        Ok(SdJwt {
            issuer_jwt: parts.issuer_jwt.to_owned(),
            disclosures: parts.disclosures,
        })
    }

    /// The issuer-signed JWT.
    pub fn issuer_jwt(&self) -> &str {
        &self.issuer_jwt
    }

    /// All disclosures, in issuance order.
    pub fn disclosures(&self) -> &[Disclosure] {
        &self.disclosures
    }

    /// The compact serialization with every disclosure.
    pub fn to_compact(&self) -> String {
        compact(
            &self.issuer_jwt,
            self.disclosures.iter().map(Disclosure::encoded),
        )
    }

    /// Processes the SD-JWT with all its disclosures (the holder's own check, without the
    /// issuer signature, which the holder checks against the issuer's keys separately).
    pub fn process(&self) -> Result<ProcessedPayload, SdJwtError> {
        let jws =
            CompactJws::parse(&self.issuer_jwt).map_err(SdJwtError::jose("issuer-signed JWT"))?;
        process_payload(payload_object(&jws)?, &self.disclosures)
    }

    /// The positions of the disclosures needed to show the claims matched by `selectors`
    /// (`a/*/b` paths): every claim at or below a selector, and every disclosure above one.
    pub fn select(&self, selectors: &[impl AsRef<str>]) -> Result<Vec<usize>, SdJwtError> {
        let patterns: Vec<Pattern> = selectors
            .iter()
            .map(|s| path::parse_pattern(s.as_ref()))
            .collect::<Result<_, _>>()?;
        self.select_where(|claim| {
            patterns
                .iter()
                .any(|p| path::is_prefix(p, &claim.0) || path::is_ancestor(&claim.0, p))
        })
    }

    /// The positions of the disclosures needed to show the claims at the concrete `paths`
    /// (array positions as in the processed payload, as a DCQL claims path pointer selects
    /// them): every claim at or below a path, every disclosure above one.
    pub fn select_paths(&self, paths: &[ClaimPath]) -> Result<Vec<usize>, SdJwtError> {
        let starts_with = |long: &ClaimPath, short: &ClaimPath| {
            long.0.len() >= short.0.len() && long.0[..short.0.len()] == short.0[..]
        };
        self.select_where(|claim| {
            paths
                .iter()
                .any(|p| starts_with(claim, p) || starts_with(p, claim))
        })
    }

    fn select_where(&self, wanted: impl Fn(&ClaimPath) -> bool) -> Result<Vec<usize>, SdJwtError> {
        let processed = self.process()?;
        let mut chosen = vec![false; self.disclosures.len()];
        for claim in &processed.disclosed {
            if wanted(&claim.path) {
                chosen[claim.disclosure] = true;
            }
        }
        // Parents of chosen disclosures (recursive disclosures) must come along.
        let mut changed = true;
        while changed {
            changed = false;
            for claim in &processed.disclosed {
                if chosen[claim.disclosure]
                    && let Some(parent) = claim.parent
                    && !chosen[parent]
                {
                    chosen[parent] = true;
                    changed = true;
                }
            }
        }
        Ok((0..chosen.len()).filter(|&i| chosen[i]).collect())
    }

    /// The SD-JWT with only the disclosures for `selectors`, without key binding.
    pub fn present(&self, selectors: &[impl AsRef<str>]) -> Result<String, SdJwtError> {
        let chosen = self.select(selectors)?;
        Ok(compact(
            &self.issuer_jwt,
            chosen.iter().map(|&i| self.disclosures[i].encoded()),
        ))
    }

    /// The SD-JWT+KB with only the disclosures for `selectors` and a key-binding JWT for
    /// `aud` and `nonce`, signed by the holder key at time `iat`.
    pub fn present_with_key_binding(
        &self,
        selectors: &[impl AsRef<str>],
        aud: &str,
        nonce: &str,
        iat: i64,
        holder: &dyn Signer,
    ) -> Result<String, SdJwtError> {
        let sd_jwt = self.present(selectors)?;
        let hash_alg = self.hash_alg()?;
        let kb = create_kb_jwt(&sd_jwt, hash_alg, aud, nonce, iat, holder)?;
        Ok(sd_jwt + &kb)
    }

    /// The SD-JWT+KB with exactly the disclosures at positions `chosen` (from
    /// [`SdJwt::select_paths`]) and a key-binding JWT for `aud` and `nonce`, signed by the
    /// holder key at time `iat`.
    pub fn present_chosen_with_key_binding(
        &self,
        chosen: &[usize],
        aud: &str,
        nonce: &str,
        iat: i64,
        holder: &dyn Signer,
    ) -> Result<String, SdJwtError> {
        let sd_jwt = self.present_chosen(chosen);
        let kb = create_kb_jwt(&sd_jwt, self.hash_alg()?, aud, nonce, iat, holder)?;
        Ok(sd_jwt + &kb)
    }

    /// The SD-JWT with exactly the disclosures at positions `chosen`, without key binding.
    pub fn present_chosen(&self, chosen: &[usize]) -> String {
        compact(
            &self.issuer_jwt,
            chosen
                .iter()
                .filter_map(|&i| self.disclosures.get(i))
                .map(Disclosure::encoded),
        )
    }

    fn hash_alg(&self) -> Result<HashAlg, SdJwtError> {
        let jws =
            CompactJws::parse(&self.issuer_jwt).map_err(SdJwtError::jose("issuer-signed JWT"))?;
        hash_alg_of(&payload_object(&jws)?)
    }
}

/// A presentation as a verifier receives it, parsed but not yet verified.
#[derive(Debug, Clone)]
pub struct Presentation {
    /// The issuer-signed JWT, holding the whole presentation in compact form as its text:
    /// `<issuer JWT>~<disclosures>~` (`sd_jwt_len` bytes) followed by the KB-JWT, if any.
    issuer_jwt: CompactJws,
    disclosures: Vec<Disclosure>,
    sd_jwt_len: usize,
    has_kb_jwt: bool,
}

impl Presentation {
    /// Parses a presentation in compact or JWS JSON (flattened or general) serialization,
    /// refusing anything over [`MAX_PRESENTATION_BYTES`] before looking inside.
    pub fn parse(input: &str) -> Result<Presentation, SdJwtError> {
        if input.len() > MAX_PRESENTATION_BYTES {
            return Err(SdJwtError::TooLarge {
                size: input.len(),
                limit: MAX_PRESENTATION_BYTES,
            });
        }
        let trimmed = input.trim();
        if trimmed.starts_with('{') {
            Presentation::parse_json(trimmed)
        } else {
            Presentation::parse_compact(trimmed)
        }
    }

    fn parse_compact(input: &str) -> Result<Presentation, SdJwtError> {
        let parts = split_compact(input)?;
        let issuer_jwt = CompactJws::parse_prefix(
            input.to_owned(),
            parts.issuer_jwt.len(),
            MAX_PRESENTATION_BYTES,
        )
        .map_err(SdJwtError::jose("issuer-signed JWT"))?;
        Ok(Presentation {
            issuer_jwt,
            disclosures: parts.disclosures,
            sd_jwt_len: parts.sd_jwt.len(),
            has_kb_jwt: parts.kb_jwt.is_some(),
        })
    }

    /// The JWS JSON serialization (RFC 9901 section 8). In the general form the first
    /// signature carries `disclosures` and `kb_jwt` and is the one verified.
    fn parse_json(input: &str) -> Result<Presentation, SdJwtError> {
        let object: Map<String, Value> =
            crate::limits::parse_json(input.as_bytes()).map_err(|reason| SdJwtError::Json {
                context: "JWS JSON serialization",
                reason,
            })?;
        let payload = str_member(&object, "payload")?;
        let (protected, signature, header) = match object.get("signatures") {
            Some(Value::Array(signatures)) => {
                let first = signatures
                    .first()
                    .and_then(Value::as_object)
                    .ok_or(SdJwtError::Malformed("signatures must hold an object"))?;
                for later in signatures.iter().skip(1) {
                    let has_sd_members = later
                        .get("header")
                        .and_then(Value::as_object)
                        .is_some_and(|h| h.contains_key("disclosures") || h.contains_key("kb_jwt"));
                    if has_sd_members {
                        return Err(SdJwtError::Malformed(
                            "disclosures and kb_jwt belong in the first signature's header",
                        ));
                    }
                }
                (
                    str_member(first, "protected")?,
                    str_member(first, "signature")?,
                    first.get("header"),
                )
            }
            Some(_) => return Err(SdJwtError::Malformed("signatures must be an array")),
            None => (
                str_member(&object, "protected")?,
                str_member(&object, "signature")?,
                object.get("header"),
            ),
        };
        let empty = Map::new();
        let header = match header {
            None => &empty,
            Some(Value::Object(h)) => h,
            Some(_) => return Err(SdJwtError::Malformed("header must be an object")),
        };
        // Disclosures may also sit at the top level in the flattened form's examples.
        let disclosures_value = header.get("disclosures").or(object.get("disclosures"));
        let kb_value = header.get("kb_jwt").or(object.get("kb_jwt"));
        let encoded: Vec<&str> = match disclosures_value {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .ok_or(SdJwtError::Malformed("disclosures must be strings"))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(SdJwtError::Malformed("disclosures must be an array")),
        };
        let kb_jwt = match kb_value {
            None => None,
            Some(Value::String(kb)) => Some(kb.as_str()),
            Some(_) => return Err(SdJwtError::Malformed("kb_jwt must be a string")),
        };
        let jwt = format!("{protected}.{payload}.{signature}");
        let jwt_len = jwt.len();
        // sd_hash is computed over the compact form even here (RFC 9901 section 8.1).
        let mut text = compact(&jwt, encoded.iter().copied());
        let sd_jwt_len = text.len();
        text.push_str(kb_jwt.unwrap_or_default());
        let issuer_jwt = CompactJws::parse_prefix(text, jwt_len, MAX_PRESENTATION_BYTES)
            .map_err(SdJwtError::jose("issuer-signed JWT"))?;
        let disclosures = parse_disclosures(encoded.iter().copied(), encoded.len())?;
        Ok(Presentation {
            issuer_jwt,
            disclosures,
            sd_jwt_len,
            has_kb_jwt: kb_jwt.is_some(),
        })
    }

    /// The issuer-signed JWT.
    pub fn issuer_jwt(&self) -> &CompactJws {
        &self.issuer_jwt
    }

    /// The disclosures sent.
    pub fn disclosures(&self) -> &[Disclosure] {
        &self.disclosures
    }

    /// The key-binding JWT, if one was sent.
    pub fn key_binding_jwt(&self) -> Option<&str> {
        self.has_kb_jwt
            .then(|| self.issuer_jwt.text().get(self.sd_jwt_len..))
            .flatten()
    }

    /// `<issuer JWT>~<disclosures>~` in compact form: what `sd_hash` covers.
    pub fn sd_jwt_part(&self) -> &str {
        self.issuer_jwt
            .text()
            .get(..self.sd_jwt_len)
            .unwrap_or_default()
    }

    /// The issuer-signed payload as sent (unverified, undisclosed).
    pub fn issuer_payload(&self) -> Result<Map<String, Value>, SdJwtError> {
        payload_object(&self.issuer_jwt)
    }

    /// Processes the payload with the disclosures (RFC 9901 section 7.1, steps 3 to 5).
    /// The issuer signature is checked separately, with the key the trust list names.
    pub fn process(&self) -> Result<ProcessedPayload, SdJwtError> {
        process_payload(self.issuer_payload()?, &self.disclosures)
    }

    /// [`Presentation::process`] moving the disclosed values into the processed payload
    /// instead of copying them: afterwards the presentation holds no disclosures (its
    /// [`Presentation::sd_jwt_part`], which `sd_hash` covers, is kept). Of the disclosed
    /// claims it reports only the first under a top-level name `watch` accepts.
    pub(crate) fn process_consuming(
        &mut self,
        watch: &dyn Fn(&str) -> bool,
    ) -> Result<ConsumedPayload, SdJwtError> {
        let payload = self.issuer_payload()?;
        let mut disclosures = std::mem::take(&mut self.disclosures);
        process_payload_consuming(payload, &mut disclosures, watch)
    }
}

struct CompactParts<'a> {
    issuer_jwt: &'a str,
    disclosures: Vec<Disclosure>,
    kb_jwt: Option<&'a str>,
    sd_jwt: &'a str,
}

fn split_compact(input: &str) -> Result<CompactParts<'_>, SdJwtError> {
    let last_tilde = input
        .rfind('~')
        .ok_or(SdJwtError::Malformed("no ~ separator"))?;
    let (sd_jwt, kb) = input.split_at(last_tilde + 1);
    let mut parts = split_tildes(&sd_jwt[..last_tilde]);
    let issuer_jwt = parts
        .next()
        .filter(|jwt| !jwt.is_empty())
        .ok_or(SdJwtError::Malformed("missing issuer-signed JWT"))?;
    // One `~` ends each disclosure (and the issuer-signed JWT): the list is sized once.
    let count = memchr::memchr_iter(b'~', sd_jwt.as_bytes()).count();
    let disclosures = parse_disclosures(parts, count.saturating_sub(1))?;
    let kb_jwt = (!kb.is_empty()).then_some(kb);
    Ok(CompactParts {
        issuer_jwt,
        disclosures,
        kb_jwt,
        sd_jwt,
    })
}

/// `text.split('~')`, each cut found by one `memchr` jump.
fn split_tildes(text: &str) -> impl Iterator<Item = &str> {
    let mut cuts = memchr::memchr_iter(b'~', text.as_bytes());
    let mut start = Some(0);
    std::iter::from_fn(move || {
        let from = start?;
        match cuts.next() {
            Some(end) => {
                start = Some(end + 1);
                text.get(from..end)
            }
            None => {
                start = None;
                text.get(from..)
            }
        }
    })
}

/// How many disclosures [`parse_disclosures`] reserves room for before reading any.
const MAX_PRESIZED_DISCLOSURES: usize = 128;

fn parse_disclosures<'a>(
    encoded: impl Iterator<Item = &'a str>,
    count: usize,
) -> Result<Vec<Disclosure>, SdJwtError> {
    // Sized from the input, but never more than a real credential carries up front: a
    // presentation of bare `~` must not reserve more than it could ever fill.
    let mut disclosures = Vec::with_capacity(count.min(MAX_PRESIZED_DISCLOSURES));
    let mut buffer = Vec::new();
    for (index, d) in encoded.enumerate() {
        if d.is_empty() {
            return Err(SdJwtError::MalformedDisclosure {
                index,
                reason: "empty disclosure",
            });
        }
        disclosures.push(Disclosure::parse_with_buffer(d, index, &mut buffer)?);
    }
    Ok(disclosures)
}

fn compact<'a>(issuer_jwt: &str, disclosures: impl Iterator<Item = &'a str> + Clone) -> String {
    let len = issuer_jwt.len() + 1 + disclosures.clone().map(|d| d.len() + 1).sum::<usize>();
    let mut out = String::with_capacity(len);
    out.push_str(issuer_jwt);
    out.push('~');
    for disclosure in disclosures {
        out.push_str(disclosure);
        out.push('~');
    }
    out
}

fn str_member<'a>(
    object: &'a Map<String, Value>,
    name: &'static str,
) -> Result<&'a str, SdJwtError> {
    object
        .get(name)
        .and_then(Value::as_str)
        .ok_or(SdJwtError::Malformed(
            "JWS JSON member missing or not a string",
        ))
}

fn payload_object(jws: &CompactJws) -> Result<Map<String, Value>, SdJwtError> {
    jws.payload_json().map_err(|e| SdJwtError::Json {
        context: "issuer-signed JWT payload",
        reason: e.to_string(),
    })
}

fn hash_alg_of(payload: &Map<String, Value>) -> Result<HashAlg, SdJwtError> {
    match payload.get("_sd_alg") {
        None => Ok(HashAlg::default()),
        Some(Value::String(name)) => HashAlg::from_name(name),
        Some(_) => Err(SdJwtError::UnsupportedHashAlg("(not a string)".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_copy_holds_every_part() {
        let jwt = format!(
            "{}.{}.{}",
            crate::jose::b64::encode(r#"{"alg":"ES256","typ":"dc+sd-jwt"}"#),
            crate::jose::b64::encode(r#"{"iss":"i","_sd":[]}"#),
            crate::jose::b64::encode([7u8; 64])
        );
        let one = crate::jose::b64::encode(r#"["s1","a",1]"#);
        let two = crate::jose::b64::encode(r#"["s2","b",2]"#);
        let sd_jwt = format!("{jwt}~{one}~{two}~");
        let json = |kb: &str| {
            let [protected, payload, signature]: [&str; 3] =
                jwt.split('.').collect::<Vec<_>>().try_into().unwrap();
            serde_json::json!({
                "protected": protected, "payload": payload, "signature": signature,
                "header": {"disclosures": [one, two], "kb_jwt": kb},
            })
            .to_string()
        };
        for (text, kb) in [
            (sd_jwt.clone(), None),
            (format!("{sd_jwt}kb.jwt.x"), Some("kb.jwt.x")),
            (json("kb.jwt.x"), Some("kb.jwt.x")),
        ] {
            let presentation = Presentation::parse(&text).unwrap();
            assert_eq!(presentation.issuer_jwt().as_str(), jwt, "{text}");
            assert_eq!(presentation.sd_jwt_part(), sd_jwt, "{text}");
            assert_eq!(presentation.key_binding_jwt(), kb, "{text}");
            assert_eq!(presentation.disclosures().len(), 2);
            assert_eq!(presentation.disclosures()[1].encoded(), two);
        }
    }

    #[test]
    fn split_tildes_is_split() {
        for text in ["", "~", "a", "a~", "~a", "a~b", "a~~b~", "~~", "ab~cd~ef"] {
            assert_eq!(
                split_tildes(text).collect::<Vec<_>>(),
                text.split('~').collect::<Vec<_>>(),
                "{text:?}"
            );
        }
    }
}
