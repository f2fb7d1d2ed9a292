//! Processing an issuer-signed payload with its disclosures into the Processed SD-JWT
//! Payload (RFC 9901 section 7.1, step 3 to 5): digests are matched to disclosures,
//! disclosed claims are put in place recursively, every other digest is dropped, and each
//! rule (digest at most once, disclosure referenced exactly once, reserved names, no
//! overwriting) is enforced with its own error.

use std::collections::BTreeSet;

use serde_json::map::Entry;
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
///
/// The payload is processed in place: each object keeps its members in their order (after
/// `_sd` is taken out) and gains its disclosed claims after them, in digest order.
pub fn process_payload(
    payload: Map<String, Value>,
    disclosures: &[Disclosure],
) -> Result<ProcessedPayload, SdJwtError> {
    let (claims, hash_alg, record) = process(
        payload,
        Disclosures::Shared(disclosures),
        Record::Paths(Vec::new()),
    )?;
    let disclosed = match record {
        Record::Paths(disclosed) => disclosed,
        Record::FirstUnder { .. } => Vec::new(),
    };
    Ok(ProcessedPayload {
        claims,
        hash_alg,
        disclosed,
    })
}

/// What [`process_payload_consuming`] gives: the processed claims, and instead of every
/// disclosed claim's path, only the first top-level name the caller asked about.
pub(crate) struct ConsumedPayload {
    /// The claims, as [`ProcessedPayload::claims`].
    pub(crate) claims: Map<String, Value>,
    /// The hash algorithm from `_sd_alg`.
    pub(crate) hash_alg: HashAlg,
    /// The top-level name of the first disclosed claim (in processing order, as
    /// [`ProcessedPayload::disclosed`] lists them) whose top-level name `watch` matched.
    pub(crate) first_watched: Option<String>,
}

/// [`process_payload`] moving each disclosed name and value out of `disclosures` instead of
/// copying it (each disclosure is used at most once; they are left empty), and recording
/// no paths: only the first disclosed claim found under a top-level name `watch` accepts.
pub(crate) fn process_payload_consuming(
    payload: Map<String, Value>,
    disclosures: &mut [Disclosure],
    watch: &dyn Fn(&str) -> bool,
) -> Result<ConsumedPayload, SdJwtError> {
    let (claims, hash_alg, record) = process(
        payload,
        Disclosures::Owned(disclosures),
        Record::FirstUnder { watch, first: None },
    )?;
    let first_watched = match record {
        Record::FirstUnder { first, .. } => first,
        Record::Paths(_) => None,
    };
    Ok(ConsumedPayload {
        claims,
        hash_alg,
        first_watched,
    })
}

/// What the walker keeps of each disclosed claim.
enum Record<'w> {
    /// Its full path and origin.
    Paths(Vec<DisclosedClaim>),
    /// Only the first top-level name (of the claim or of its ancestor) `watch` accepts.
    FirstUnder {
        watch: &'w dyn Fn(&str) -> bool,
        first: Option<String>,
    },
}

/// The disclosures being put in place: read (and copied from), or consumed.
enum Disclosures<'a> {
    Shared(&'a [Disclosure]),
    Owned(&'a mut [Disclosure]),
}

impl Disclosures<'_> {
    fn all(&self) -> &[Disclosure] {
        match self {
            Disclosures::Shared(all) => all,
            Disclosures::Owned(all) => all,
        }
    }

    /// The claim name and value of disclosure `index`.
    fn claim(&mut self, index: usize) -> (Option<String>, Value) {
        match self {
            Disclosures::Shared(all) => (
                all[index].name().map(str::to_owned),
                all[index].value().clone(),
            ),
            Disclosures::Owned(all) => all[index].take_claim(),
        }
    }
}

fn process<'w>(
    mut payload: Map<String, Value>,
    disclosures: Disclosures<'_>,
    record: Record<'w>,
) -> Result<(Map<String, Value>, HashAlg, Record<'w>), SdJwtError> {
    let count = disclosures.all().len();
    let hash_alg = match payload.get("_sd_alg") {
        None => HashAlg::default(),
        Some(Value::String(name)) => HashAlg::from_name(name)?,
        Some(_) => return Err(SdJwtError::UnsupportedHashAlg("(not a string)".into())),
    };
    let by_digest = DigestIndex::new(hash_alg, disclosures.all())?;
    let mut walker = Walker {
        disclosures,
        by_digest,
        // Ordered, not hashed: no hashing of (possibly attacker-chosen) digests, and a
        // bounded cost per look-up whatever the digests are.
        seen: BTreeSet::new(),
        used: vec![false; count],
        record: match record {
            Record::Paths(_) => Record::Paths(Vec::with_capacity(count)),
            watching => watching,
        },
    };
    // `_sd_alg` stays in place while disclosures are put in, so a disclosure named
    // `_sd_alg` meets it and is refused as a name conflict (step 3, "If the claim name
    // already exists at the level of the `_sd` key"); it is removed only afterwards (step
    // 3.6).
    walker.object(&mut payload, None, None, 0)?;
    payload.shift_remove("_sd_alg");
    if let Some(index) = walker.used.iter().position(|used| !used) {
        return Err(SdJwtError::UnreferencedDisclosure { index });
    }
    Ok((payload, hash_alg, walker.record))
}

/// The disclosures' digests (base64url text, one length under one algorithm) side by side
/// in one buffer, with their positions sorted by text for binary search: two allocations
/// whatever the number of disclosures, and no hashing of digests.
struct DigestIndex {
    texts: Vec<u8>,
    width: usize,
    /// (first eight bytes of the text as a big-endian number, position), sorted: the
    /// number orders as the bytes do, so most comparisons need no text.
    sorted: Vec<(u64, usize)>,
}

/// The first eight bytes of `text` (zero-padded), as a number that orders as they do.
fn prefix(text: &[u8]) -> u64 {
    let mut bytes = [0u8; 8];
    let len = text.len().min(8);
    bytes[..len].copy_from_slice(&text[..len]);
    u64::from_be_bytes(bytes)
}

impl DigestIndex {
    /// Digests every disclosure; refuses two with the same digest (RFC 9901 section 7.1,
    /// step 3.2.3), naming the first one, in the order sent, whose digest came before.
    fn new(alg: HashAlg, disclosures: &[Disclosure]) -> Result<DigestIndex, SdJwtError> {
        let mut texts = Vec::new();
        let mut width = 0;
        for disclosure in disclosures {
            let text = alg.digest_text(disclosure.encoded().as_bytes());
            if texts.is_empty() {
                width = text.as_bytes().len();
                texts.reserve_exact(width * disclosures.len());
            }
            texts.extend_from_slice(text.as_bytes());
        }
        let mut index = DigestIndex {
            texts,
            width,
            sorted: Vec::new(),
        };
        let mut sorted: Vec<(u64, usize)> = (0..disclosures.len())
            .map(|position| (prefix(index.text(position)), position))
            .collect();
        sorted.sort_unstable_by(|&(pa, a), &(pb, b)| {
            pa.cmp(&pb)
                .then_with(|| index.text(a).cmp(index.text(b)))
                .then(a.cmp(&b))
        });
        // Equal digests sit next to each other, in the order sent: the second of each run
        // is the first repeat of that digest.
        let repeat = sorted
            .windows(2)
            .filter(|pair| pair[0].0 == pair[1].0 && index.text(pair[0].1) == index.text(pair[1].1))
            .map(|pair| pair[1].1)
            .min();
        if let Some(index) = repeat {
            return Err(SdJwtError::DuplicateDisclosure { index });
        }
        index.sorted = sorted;
        Ok(index)
    }

    fn text(&self, position: usize) -> &[u8] {
        let start = position * self.width;
        self.texts
            .get(start..start + self.width)
            .unwrap_or_default()
    }

    /// The disclosure whose digest is `digest`, if any.
    fn find(&self, digest: &str) -> Option<usize> {
        let key = prefix(digest.as_bytes());
        self.sorted
            .binary_search_by(|&(first, position)| {
                first
                    .cmp(&key)
                    .then_with(|| self.text(position).cmp(digest.as_bytes()))
            })
            .ok()
            .map(|found| self.sorted[found].1)
    }
}

/// Where the walker is: one step, and the steps above it (a path built on the stack, so
/// that only the paths of disclosed claims are ever allocated).
struct Step<'a> {
    up: Option<&'a Step<'a>>,
    segment: StepSegment<'a>,
}

#[derive(Clone, Copy)]
enum StepSegment<'a> {
    Key(&'a str),
    Index(usize),
}

impl Step<'_> {
    /// The first segment of the path, when it is a name (it always is: a payload is an
    /// object).
    fn top_name(&self) -> Option<&str> {
        let mut at = self;
        while let Some(up) = at.up {
            at = up;
        }
        match at.segment {
            StepSegment::Key(name) => Some(name),
            StepSegment::Index(_) => None,
        }
    }

    fn to_path(step: Option<&Step<'_>>) -> ClaimPath {
        let mut segments = Vec::new();
        let mut at = step;
        while let Some(step) = at {
            segments.push(match step.segment {
                StepSegment::Key(key) => PathSegment::Key(key.to_owned()),
                StepSegment::Index(index) => PathSegment::Index(index),
            });
            at = step.up;
        }
        segments.reverse();
        ClaimPath(segments)
    }
}

struct Walker<'a, 'w> {
    disclosures: Disclosures<'a>,
    by_digest: DigestIndex,
    seen: BTreeSet<String>,
    used: Vec<bool>,
    record: Record<'w>,
}

impl Walker<'_, '_> {
    fn value(
        &mut self,
        value: &mut Value,
        path: Option<&Step<'_>>,
        parent: Option<usize>,
        depth: usize,
    ) -> Result<(), SdJwtError> {
        match value {
            Value::Object(map) => self.object(map, path, parent, depth),
            Value::Array(items) => self.array(items, path, parent, depth),
            _ => Ok(()),
        }
    }

    /// Keeps what was asked of the claim disclosed at `at` by disclosure `index`.
    fn note(&mut self, at: &Step<'_>, index: usize, parent: Option<usize>) {
        match &mut self.record {
            Record::Paths(disclosed) => disclosed.push(DisclosedClaim {
                path: Step::to_path(Some(at)),
                disclosure: index,
                parent,
            }),
            Record::FirstUnder { watch, first } => {
                if first.is_none()
                    && let Some(name) = at.top_name()
                    && watch(name)
                {
                    *first = Some(name.to_owned());
                }
            }
        }
    }

    /// Looks a digest up, refusing one met before; returns the disclosure it names, if any.
    fn claim_digest(&mut self, digest: String) -> Result<Option<usize>, SdJwtError> {
        // A digest naming a disclosure was met before exactly when that disclosure is
        // already used; only the others (decoys, claims not disclosed) need remembering.
        let repeated = match self.by_digest.find(&digest) {
            Some(index) if self.used[index] => Some(digest),
            Some(index) => {
                self.used[index] = true;
                return Ok(Some(index));
            }
            None => self.seen.replace(digest),
        };
        match repeated {
            Some(repeated) => Err(SdJwtError::DuplicateDigest {
                digest: crate::jose::truncate(&repeated),
            }),
            None => Ok(None),
        }
    }

    fn object(
        &mut self,
        map: &mut Map<String, Value>,
        path: Option<&Step<'_>>,
        parent: Option<usize>,
        depth: usize,
    ) -> Result<(), SdJwtError> {
        if depth > MAX_PROCESSING_DEPTH {
            return Err(SdJwtError::TooDeep);
        }
        // Most objects have no `_sd`: a look at their few keys is cheaper than hashing.
        let has_digests = map.len() > 16 || map.keys().any(|key| key == "_sd");
        let digests = match has_digests.then(|| map.remove("_sd")).flatten() {
            None => Vec::new(),
            Some(Value::Array(items)) => items,
            Some(_) => return Err(SdJwtError::InvalidDigestContainer("_sd must be an array")),
        };
        for (key, value) in map.iter_mut() {
            if key == "..." {
                return Err(SdJwtError::ReservedClaimName(key.clone()));
            }
            let child = Step {
                up: path,
                segment: StepSegment::Key(key),
            };
            self.value(value, Some(&child), parent, depth + 1)?;
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
            let name = self.disclosures.all()[index]
                .name()
                .ok_or(SdJwtError::ObjectDisclosureExpected)?;
            if name == "_sd" || name == "..." {
                return Err(SdJwtError::ReservedClaimName(name.to_owned()));
            }
            let (Some(name), mut value) = self.disclosures.claim(index) else {
                return Err(SdJwtError::ObjectDisclosureExpected);
            };
            let slot = match map.entry(name) {
                Entry::Occupied(taken) => {
                    return Err(SdJwtError::ClaimNameConflict(crate::jose::truncate(
                        taken.key(),
                    )));
                }
                Entry::Vacant(slot) => slot,
            };
            let child = Step {
                up: path,
                segment: StepSegment::Key(slot.key()),
            };
            self.note(&child, index, parent);
            self.value(&mut value, Some(&child), Some(index), depth + 1)?;
            slot.insert(value);
        }
        Ok(())
    }

    fn array(
        &mut self,
        items: &mut Vec<Value>,
        path: Option<&Step<'_>>,
        parent: Option<usize>,
        depth: usize,
    ) -> Result<(), SdJwtError> {
        if depth > MAX_PROCESSING_DEPTH {
            return Err(SdJwtError::TooDeep);
        }
        let received = std::mem::take(items);
        let out = items;
        out.reserve(received.len());
        for item in received {
            let child = Step {
                up: path,
                segment: StepSegment::Index(out.len()),
            };
            match array_digest(item)? {
                Err(mut item) => {
                    self.value(&mut item, Some(&child), parent, depth + 1)?;
                    out.push(item);
                }
                Ok(digest) => {
                    let Some(index) = self.claim_digest(digest)? else {
                        continue;
                    };
                    if self.disclosures.all()[index].name().is_some() {
                        return Err(SdJwtError::ArrayDisclosureExpected);
                    }
                    self.note(&child, index, parent);
                    let (_, mut value) = self.disclosures.claim(index);
                    self.value(&mut value, Some(&child), Some(index), depth + 1)?;
                    out.push(value);
                }
            }
        }
        Ok(())
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    /// Runs `payload` with `disclosures` through both ways in, which must agree: the same
    /// claims or the same error, and the consuming one's first watched name is the first
    /// disclosed path's top name the public one lists under `watch`.
    fn both(payload: Value, disclosures: &[&Disclosure], watch: &dyn Fn(&str) -> bool) {
        let shared: Vec<Disclosure> = disclosures.iter().map(|d| (*d).clone()).collect();
        let mut owned = shared.clone();
        let public = process_payload(object(payload.clone()), &shared);
        let consuming = process_payload_consuming(object(payload.clone()), &mut owned, watch);
        match (public, consuming) {
            (Ok(public), Ok(consuming)) => {
                assert_eq!(
                    Value::Object(public.claims.clone()).to_string(),
                    Value::Object(consuming.claims).to_string(),
                    "{payload}"
                );
                assert_eq!(public.hash_alg, consuming.hash_alg);
                let first = public
                    .disclosed
                    .iter()
                    .find_map(|claim| match claim.path.0.first() {
                        Some(PathSegment::Key(name)) if watch(name) => Some(name.clone()),
                        _ => None,
                    });
                assert_eq!(first, consuming.first_watched, "{payload}");
            }
            (Err(public), Err(consuming)) => assert_eq!(public, consuming, "{payload}"),
            (public, consuming) => panic!("{payload}: {public:?} but {:?}", consuming.err()),
        }
    }

    #[test]
    fn consuming_agrees_with_the_public_processing() {
        let d = |name: &str, value: Value| {
            Disclosure::for_property(format!("salt-{name}"), name, value).unwrap()
        };
        let a = d("a", json!(1));
        let b = d("b", json!({"x": [1, 2]}));
        let cnf_jwk = d("jwk", json!({"kty": "EC"}));
        let status = d("status", json!({"status_list": {"idx": 1}}));
        let element = Disclosure::for_element("salt-e".into(), json!({"class": "B"})).unwrap();
        let nested = d("n", json!({"_sd": [a.digest(HashAlg::Sha256)]}));
        let digest = |d: &Disclosure| Value::String(d.digest(HashAlg::Sha256));
        let protected = |name: &str| ["cnf", "status"].contains(&name);
        let none = |_: &str| false;
        let cases: Vec<(Value, Vec<&Disclosure>)> = vec![
            (
                json!({"iss": "i", "_sd": [digest(&a), digest(&b), "decoy"]}),
                vec![&a, &b],
            ),
            (
                json!({"cnf": {"_sd": [digest(&cnf_jwk)]}, "_sd": [digest(&a)]}),
                vec![&a, &cnf_jwk],
            ),
            (
                json!({"_sd": [digest(&a), digest(&status)]}),
                vec![&status, &a],
            ),
            (
                json!({"list": [{"...": digest(&element)}, 3, {"...": "decoy"}]}),
                vec![&element],
            ),
            (json!({"_sd": [digest(&nested)]}), vec![&nested, &a]),
            (
                json!({"_sd_alg": "sha-256", "z": 1, "_sd": [digest(&a)], "y": {"_sd": []}}),
                vec![&a],
            ),
            // Faults, each with its error.
            (json!({"a": 0, "_sd": [digest(&a)]}), vec![&a]),
            (json!({"_sd": [digest(&a), digest(&a)]}), vec![&a]),
            (json!({"_sd": [digest(&a)]}), vec![&a, &b]),
            (json!({"_sd": [digest(&a)]}), vec![&a, &a]),
            (json!({"_sd": [digest(&element)]}), vec![&element]),
            (json!({"l": [{"...": digest(&a)}]}), vec![&a]),
            (json!({"_sd": "no"}), vec![]),
            (json!({"_sd": [1]}), vec![]),
            (json!({"...": 1}), vec![]),
        ];
        for (payload, disclosures) in cases {
            both(payload.clone(), &disclosures, &protected);
            both(payload, &disclosures, &none);
        }
    }

    #[test]
    fn a_repeated_disclosure_is_named_by_its_first_repeat() {
        let one = Disclosure::for_property("s1".into(), "a", json!(1)).unwrap();
        let two = Disclosure::for_property("s2".into(), "b", json!(2)).unwrap();
        // In the order sent: the first disclosure whose digest an earlier one has.
        for (sent, index) in [
            (vec![&one, &two, &two, &one], 2),
            (vec![&one, &two, &one, &two], 2),
            (vec![&two, &one, &one], 2),
            (vec![&one, &one, &two, &two], 1),
        ] {
            let sent: Vec<Disclosure> = sent.into_iter().cloned().collect();
            assert_eq!(
                process_payload(Map::new(), &sent),
                Err(SdJwtError::DuplicateDisclosure { index })
            );
        }
    }
}
