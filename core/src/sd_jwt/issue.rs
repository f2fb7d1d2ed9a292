//! Issuing an SD-JWT (RFC 9901 section 4): the claims at the given paths become
//! disclosures (inner ones first, so a disclosable object inside a disclosable object is a
//! recursive disclosure), digests go into `_sd` arrays or `{"...": digest}` array elements,
//! decoy digests are mixed in, and the payload is signed.

use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{Map, Value};

use super::path::{self, Pattern};
use super::{ClaimPath, Disclosure, HashAlg, PathSegment, SdJwt, SdJwtError};
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
        rng: SystemRandom::new(),
        disclosures: Vec::new(),
    };
    let mut payload = issuer.object(claims, &ClaimPath::default())?;
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

struct Concealer<'a> {
    patterns: &'a [Pattern],
    options: IssueOptions,
    rng: SystemRandom,
    disclosures: Vec<Disclosure>,
}

impl Concealer<'_> {
    fn is_disclosable(&self, path: &ClaimPath) -> bool {
        self.patterns.iter().any(|p| path::matches(p, &path.0))
    }

    fn random_b64(&self) -> Result<String, SdJwtError> {
        // 128-bit salts, as RFC 9901 section 9.3 recommends.
        let mut bytes = [0u8; 16];
        self.rng.fill(&mut bytes).map_err(|_| SdJwtError::Rng)?;
        Ok(b64::encode(bytes))
    }

    fn value(&mut self, value: Value, path: &ClaimPath) -> Result<Value, SdJwtError> {
        match value {
            Value::Object(map) => self.object(map, path).map(Value::Object),
            Value::Array(items) => self.array(items, path).map(Value::Array),
            other => Ok(other),
        }
    }

    fn object(
        &mut self,
        map: Map<String, Value>,
        path: &ClaimPath,
    ) -> Result<Map<String, Value>, SdJwtError> {
        let mut out = Map::with_capacity(map.len());
        let mut digests = Vec::new();
        for (key, value) in map {
            if matches!(key.as_str(), "_sd" | "..." | "_sd_alg") {
                return Err(SdJwtError::ReservedClaimName(key));
            }
            let child = path.child(PathSegment::Key(key.clone()));
            let value = self.value(value, &child)?;
            if self.is_disclosable(&child) {
                let disclosure = Disclosure::for_property(self.random_b64()?, &key, value)?;
                digests.push(disclosure.digest(self.options.hash_alg));
                self.disclosures.push(disclosure);
            } else {
                out.insert(key, value);
            }
        }
        if !digests.is_empty() {
            for _ in 0..self.decoy_count()? {
                let seed = self.random_b64()?;
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

    fn array(&mut self, items: Vec<Value>, path: &ClaimPath) -> Result<Vec<Value>, SdJwtError> {
        let mut out = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            let child = path.child(PathSegment::Index(index));
            let item = self.value(item, &child)?;
            if self.is_disclosable(&child) {
                let disclosure = Disclosure::for_element(self.random_b64()?, item)?;
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

    fn decoy_count(&self) -> Result<usize, SdJwtError> {
        if self.options.max_decoys_per_object == 0 {
            return Ok(0);
        }
        let mut byte = [0u8; 1];
        self.rng.fill(&mut byte).map_err(|_| SdJwtError::Rng)?;
        Ok(usize::from(byte[0]) % (self.options.max_decoys_per_object + 1))
    }
}
