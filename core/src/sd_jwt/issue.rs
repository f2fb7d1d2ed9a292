//! Issuing an SD-JWT (RFC 9901 section 4): the claims at the given paths become
//! disclosures (inner ones first, so a disclosable object inside a disclosable object is a
//! recursive disclosure), digests go into `_sd` arrays or `{"...": digest}` array elements,
//! decoy digests are mixed in, and the payload is signed.

use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{Map, Value};

use super::path::{self, Pattern};
use super::{Disclosure, HashAlg, PathSegment, SdJwt, SdJwtError};
use crate::jose::{Signer, b64, jws};

/// How an SD-JWT is issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IssueOptions {
    /// The digest algorithm (`_sd_alg`).
    pub hash_alg: HashAlg,
    /// Each object that has an `_sd` array gets a random number of decoy digests between
    /// zero and this (RFC 9901 section 4.2.5), hiding how many claims it really holds.
    pub max_decoys_per_object: usize,
}

impl Default for IssueOptions {
    fn default() -> Self {
        IssueOptions {
            hash_alg: HashAlg::Sha256,
            max_decoys_per_object: 2,
        }
    }
}

/// Issues an SD-JWT: `claims` with the claims at `disclosable` paths (`a/*/b` syntax) made
/// selectively disclosable, signed by `signer` under `header` (which should carry `typ`).
pub fn issue(
    header: Map<String, Value>,
    claims: Map<String, Value>,
    disclosable: &[impl AsRef<str>],
    signer: &dyn Signer,
    options: IssueOptions,
) -> Result<SdJwt, SdJwtError> {
    let patterns = disclosable
        .iter()
        .map(|p| path::parse_pattern(p.as_ref()))
        .collect::<Result<Vec<_>, _>>()?;
    let mut issuer = Concealer {
        patterns: &patterns,
        options,
        random: Randomness::new(),
        path: Vec::new(),
        disclosures: Vec::new(),
    };
    let mut payload = issuer.object(claims)?;
    payload.insert(
        "_sd_alg".into(),
        Value::String(options.hash_alg.name().into()),
    );
    let payload_json = serde_json::to_vec(&payload).map_err(|e| SdJwtError::Json {
        context: "payload",
        reason: e.to_string(),
    })?;
    let issuer_jwt = jws::sign_compact(header, &payload_json, signer)
        .map_err(SdJwtError::jose("issuer-signed JWT"))?;
    Ok(SdJwt::from_parts(issuer_jwt, issuer.disclosures))
}

/// Bytes of OS randomness drawn at once: the salts (16 bytes each) of a credential with up
/// to 32 disclosures, so a catalogue document costs one `getrandom` call, not one per salt.
const RANDOM_BLOCK: usize = 512;

/// The randomness of one issuance (salts and decoy counts), read from the OS
/// ([`SystemRandom`]) a block at a time; each byte is handed out once and then zeroed.
struct Randomness {
    rng: SystemRandom,
    block: [u8; RANDOM_BLOCK],
    used: usize,
}

impl Randomness {
    fn new() -> Self {
        Randomness {
            rng: SystemRandom::new(),
            block: [0; RANDOM_BLOCK],
            used: RANDOM_BLOCK,
        }
    }

    /// The next `N` random bytes (`N` at most [`RANDOM_BLOCK`]).
    fn take<const N: usize>(&mut self) -> Result<[u8; N], SdJwtError> {
        if RANDOM_BLOCK - self.used < N {
            self.rng
                .fill(&mut self.block)
                .map_err(|_| SdJwtError::Rng)?;
            self.used = 0;
        }
        let mut out = [0u8; N];
        let taken = self
            .block
            .get_mut(self.used..self.used + N)
            .ok_or(SdJwtError::Rng)?;
        out.copy_from_slice(taken);
        taken.fill(0);
        self.used += N;
        Ok(out)
    }
}

impl Drop for Randomness {
    fn drop(&mut self) {
        // Salts not yet handed out never outlive the issuance.
        self.block.fill(0);
    }
}

/// Walks the claims depth first, turning those at disclosable paths into disclosures.
/// `path` is the path of the value being walked (segments pushed and popped, not copied).
struct Concealer<'a> {
    patterns: &'a [Pattern],
    options: IssueOptions,
    random: Randomness,
    path: Vec<PathSegment>,
    disclosures: Vec<Disclosure>,
}

impl Concealer<'_> {
    fn is_disclosable(&self) -> bool {
        self.patterns.iter().any(|p| path::matches(p, &self.path))
    }

    /// A fresh salt: 128 bits, as RFC 9901 section 9.3 recommends, base64url.
    fn salt(&mut self) -> Result<String, SdJwtError> {
        Ok(b64::encode(self.random.take::<16>()?))
    }

    fn value(&mut self, value: Value) -> Result<Value, SdJwtError> {
        match value {
            Value::Object(map) => self.object(map).map(Value::Object),
            Value::Array(items) => self.array(items).map(Value::Array),
            other => Ok(other),
        }
    }

    /// The object at `self.path`, its disclosable properties replaced by `_sd` digests.
    fn object(&mut self, map: Map<String, Value>) -> Result<Map<String, Value>, SdJwtError> {
        let mut out = Map::with_capacity(map.len());
        let mut digests = Vec::new();
        for (key, value) in map {
            if matches!(key.as_str(), "_sd" | "..." | "_sd_alg") {
                return Err(SdJwtError::ReservedClaimName(key));
            }
            self.path.push(PathSegment::Key(key));
            let value = self.value(value);
            let disclosable = self.is_disclosable();
            let Some(PathSegment::Key(key)) = self.path.pop() else {
                return Err(SdJwtError::InvalidPath("claim path".into()));
            };
            let value = value?;
            if disclosable {
                let disclosure = Disclosure::for_property(self.salt()?, &key, value)?;
                digests.push(disclosure.digest(self.options.hash_alg));
                self.disclosures.push(disclosure);
            } else {
                out.insert(key, value);
            }
        }
        if !digests.is_empty() {
            for _ in 0..self.decoy_count()? {
                // A decoy is the digest of a random salt (RFC 9901 section 4.2.5).
                let seed = self.salt()?;
                digests.push(self.options.hash_alg.digest_b64(seed.as_bytes()));
            }
            // Sorting hides the original order of the claims (RFC 9901 section 4.2.4.1).
            digests.sort_unstable();
            out.insert(
                "_sd".into(),
                Value::Array(digests.into_iter().map(Value::String).collect()),
            );
        }
        Ok(out)
    }

    /// The array at `self.path`, its disclosable elements replaced by `{"...": digest}`.
    fn array(&mut self, items: Vec<Value>) -> Result<Vec<Value>, SdJwtError> {
        let mut out = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            self.path.push(PathSegment::Index(index));
            let item = self.value(item);
            let disclosable = self.is_disclosable();
            self.path.pop();
            let item = item?;
            if disclosable {
                let disclosure = Disclosure::for_element(self.salt()?, item)?;
                let mut digest = Map::with_capacity(1);
                digest.insert(
                    "...".into(),
                    Value::String(disclosure.digest(self.options.hash_alg)),
                );
                self.disclosures.push(disclosure);
                out.push(Value::Object(digest));
            } else {
                out.push(item);
            }
        }
        Ok(out)
    }

    fn decoy_count(&mut self) -> Result<usize, SdJwtError> {
        if self.options.max_decoys_per_object == 0 {
            return Ok(0);
        }
        let [byte] = self.random.take::<1>()?;
        Ok(usize::from(byte) % (self.options.max_decoys_per_object + 1))
    }
}
