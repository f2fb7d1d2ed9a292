//! Processing an issuer-signed payload with its disclosures into the Processed SD-JWT
//! Payload (RFC 9901 section 7.1, step 3 to 5): digests are matched to disclosures,
//! disclosed claims are put in place recursively, every other digest is dropped, and each
//! rule (digest at most once, disclosure referenced exactly once, reserved names, no
//! overwriting) is enforced with its own error.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::{ClaimPath, Disclosure, HashAlg, PathSegment, SdJwtError};

/// Key-binding-free processing keeps recursion bounded: payload and disclosures are each
/// depth-checked when parsed, and this bounds the depth of disclosures inside disclosures.
const MAX_PROCESSING_DEPTH: usize = 64;

/// A claim that was disclosed: where it landed and which disclosure carried it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisclosedClaim {
    /// Where the claim is in the processed payload.
    pub path: ClaimPath,
    /// Position of the disclosure in the list given to [`process_payload`].
    pub disclosure: usize,
    /// The disclosure whose value contained this one's digest, if any (recursive
    /// disclosures); `None` when the digest sits in the issuer-signed payload itself.
    pub parent: Option<usize>,
}

/// The Processed SD-JWT Payload and what was disclosed in it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessedPayload {
    /// The claims, with disclosures in place and `_sd`, `_sd_alg` and unmatched digests gone.
    pub claims: Map<String, Value>,
    /// The hash algorithm from `_sd_alg`.
    pub hash_alg: HashAlg,
    /// Every disclosed claim, in the order processing met them.
    pub disclosed: Vec<DisclosedClaim>,
}

/// Processes `payload` (the issuer-signed JWT's claims) with `disclosures`.
pub fn process_payload(
    payload: Map<String, Value>,
    disclosures: &[Disclosure],
) -> Result<ProcessedPayload, SdJwtError> {
    let hash_alg = match payload.get("_sd_alg") {
        None => HashAlg::default(),
        Some(Value::String(name)) => HashAlg::from_name(name)?,
        Some(_) => return Err(SdJwtError::UnsupportedHashAlg("(not a string)".into())),
    };
    let mut by_digest = HashMap::with_capacity(disclosures.len());
    for (index, disclosure) in disclosures.iter().enumerate() {
        if by_digest
            .insert(disclosure.digest(hash_alg), index)
            .is_some()
        {
            return Err(SdJwtError::DuplicateDisclosure { index });
        }
    }
    let mut walker = Walker {
        disclosures,
        by_digest,
        seen: HashSet::new(),
        used: vec![false; disclosures.len()],
        disclosed: Vec::with_capacity(disclosures.len()),
    };
    // `_sd_alg` stays in place while disclosures are put in, so a disclosure named
    // `_sd_alg` meets it and is refused as a name conflict (step 3, "If the claim name
    // already exists at the level of the `_sd` key"); it is removed only afterwards (step
    // 3.6).
    let mut claims = walker.object(payload, &ClaimPath::default(), None, 0)?;
    claims.shift_remove("_sd_alg");
    if let Some(index) = walker.used.iter().position(|used| !used) {
        return Err(SdJwtError::UnreferencedDisclosure { index });
    }
    Ok(ProcessedPayload {
        claims,
        hash_alg,
        disclosed: walker.disclosed,
    })
}

struct Walker<'a> {
    disclosures: &'a [Disclosure],
    by_digest: HashMap<String, usize>,
    seen: HashSet<String>,
    used: Vec<bool>,
    disclosed: Vec<DisclosedClaim>,
}

impl Walker<'_> {
    fn value(
        &mut self,
        value: Value,
        path: &ClaimPath,
        parent: Option<usize>,
        depth: usize,
    ) -> Result<Value, SdJwtError> {
        match value {
            Value::Object(map) => self.object(map, path, parent, depth).map(Value::Object),
            Value::Array(items) => self.array(items, path, parent, depth).map(Value::Array),
            other => Ok(other),
        }
    }

    /// Looks a digest up, refusing one met before; returns the disclosure it names, if any.
    fn claim_digest(&mut self, digest: String) -> Result<Option<usize>, SdJwtError> {
        let found = self.by_digest.get(digest.as_str()).copied();
        if let Some(repeated) = self.seen.replace(digest) {
            return Err(SdJwtError::DuplicateDigest {
                digest: crate::jose::truncate(&repeated),
            });
        }
        if let Some(index) = found {
            self.used[index] = true;
        }
        Ok(found)
    }

    fn object(
        &mut self,
        mut map: Map<String, Value>,
        path: &ClaimPath,
        parent: Option<usize>,
        depth: usize,
    ) -> Result<Map<String, Value>, SdJwtError> {
        if depth > MAX_PROCESSING_DEPTH {
            return Err(SdJwtError::TooDeep);
        }
        let digests = match map.remove("_sd") {
            None => Vec::new(),
            Some(Value::Array(items)) => items,
            Some(_) => return Err(SdJwtError::InvalidDigestContainer("_sd must be an array")),
        };
        let mut out = Map::with_capacity(map.len() + digests.len());
        for (key, value) in map {
            if key == "..." {
                return Err(SdJwtError::ReservedClaimName(key));
            }
            let child = path.child(PathSegment::Key(key.clone()));
            let processed = self.value(value, &child, parent, depth + 1)?;
            out.insert(key, processed);
        }
        for digest in digests {
            let Value::String(digest) = digest else {
                return Err(SdJwtError::InvalidDigestContainer(
                    "_sd must contain only strings",
                ));
            };
            let Some(index) = self.claim_digest(digest)? else {
                continue; // a decoy, or a claim the holder did not disclose
            };
            let disclosure = &self.disclosures[index];
            let name = disclosure
                .name()
                .ok_or(SdJwtError::ObjectDisclosureExpected)?;
            if name == "_sd" || name == "..." {
                return Err(SdJwtError::ReservedClaimName(name.to_owned()));
            }
            if out.contains_key(name) {
                return Err(SdJwtError::ClaimNameConflict(crate::jose::truncate(name)));
            }
            let name = name.to_owned();
            let child = path.child(PathSegment::Key(name.clone()));
            self.disclosed.push(DisclosedClaim {
                path: child.clone(),
                disclosure: index,
                parent,
            });
            let value = disclosure.value().clone();
            let processed = self.value(value, &child, Some(index), depth + 1)?;
            out.insert(name, processed);
        }
        Ok(out)
    }

    fn array(
        &mut self,
        items: Vec<Value>,
        path: &ClaimPath,
        parent: Option<usize>,
        depth: usize,
    ) -> Result<Vec<Value>, SdJwtError> {
        if depth > MAX_PROCESSING_DEPTH {
            return Err(SdJwtError::TooDeep);
        }
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let child = path.child(PathSegment::Index(out.len()));
            match array_digest(item)? {
                Err(item) => out.push(self.value(item, &child, parent, depth + 1)?),
                Ok(digest) => {
                    let Some(index) = self.claim_digest(digest)? else {
                        continue;
                    };
                    let disclosure = &self.disclosures[index];
                    if disclosure.name().is_some() {
                        return Err(SdJwtError::ArrayDisclosureExpected);
                    }
                    self.disclosed.push(DisclosedClaim {
                        path: child.clone(),
                        disclosure: index,
                        parent,
                    });
                    let value = disclosure.value().clone();
                    out.push(self.value(value, &child, Some(index), depth + 1)?);
                }
            }
        }
        Ok(out)
    }
}

/// An array element that is a `{"...": digest}` placeholder gives its digest; any other
/// element is handed back unchanged.
fn array_digest(item: Value) -> Result<Result<String, Value>, SdJwtError> {
    match item {
        Value::Object(mut map) if map.len() == 1 && map.contains_key("...") => {
            match map.swap_remove("...") {
                Some(Value::String(digest)) => Ok(Ok(digest)),
                _ => Err(SdJwtError::InvalidDigestContainer("... must be a string")),
            }
        }
        other => Ok(Err(other)),
    }
}
