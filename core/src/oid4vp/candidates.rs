//! The wallet's documents as DCQL candidates: each full credential, and for each of its
//! presets the oldest unused purpose credential (a shown one is linkable, so it is never
//! offered online; the full credential stands in).

use super::dcql::{Candidate, leaf_paths};
use crate::catalogue::{self, Purpose};
use crate::sd_jwt::{ClaimPath, PathSegment, SdJwt};
use crate::sd_jwt_vc::{PROTECTED_CLAIMS, VcEnvelope, check_no_protected_disclosed};
use crate::vault::StoredCredential;
use crate::wallet::Wallet;

/// Which stored credential a candidate is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CandidateSource {
    /// The full credential of document `document`.
    Full {
        /// The document's wallet id.
        document: String,
    },
    /// Purpose credential `index` (in [`StoredCredential::purposes`]) of `document`.
    Purpose {
        /// The document's wallet id.
        document: String,
        /// Its position among the document's purpose credentials.
        index: usize,
    },
}

impl CandidateSource {
    /// The document's wallet id.
    pub fn document(&self) -> &str {
        match self {
            CandidateSource::Full { document } | CandidateSource::Purpose { document, .. } => {
                document
            }
        }
    }
}

/// Every candidate of the wallet, with where it comes from; credentials that no longer
/// parse are left out.
pub fn wallet_candidates(wallet: &Wallet) -> Vec<(Candidate, CandidateSource)> {
    let mut out = Vec::new();
    for stored in wallet.vault().list() {
        if let Some(candidate) = candidate_of(&stored.credential, false) {
            out.push((
                candidate,
                CandidateSource::Full {
                    document: stored.id.clone(),
                },
            ));
        }
        for index in oldest_unused_per_preset(stored) {
            if let Some(candidate) = candidate_of(&stored.purposes[index].credential, true) {
                out.push((
                    candidate,
                    CandidateSource::Purpose {
                        document: stored.id.clone(),
                        index,
                    },
                ));
            }
        }
    }
    out
}

fn oldest_unused_per_preset(stored: &StoredCredential) -> Vec<usize> {
    let mut chosen: Vec<usize> = Vec::new();
    for (index, purpose) in stored.purposes.iter().enumerate() {
        if purpose.shown_at.is_some() {
            continue;
        }
        match chosen
            .iter_mut()
            .find(|i| stored.purposes[**i].preset == purpose.preset)
        {
            Some(existing) if stored.purposes[*existing].received_at > purpose.received_at => {
                *existing = index;
            }
            Some(_) => {}
            None => chosen.push(index),
        }
    }
    chosen
}

/// A credential (compact SD-JWT VC with its disclosures) as a candidate.
pub fn candidate_of(credential: &str, purpose: bool) -> Option<Candidate> {
    let sd_jwt = SdJwt::parse(credential.trim()).ok()?;
    let processed = sd_jwt.process().ok()?;
    check_no_protected_disclosed(&processed).ok()?;
    let envelope = VcEnvelope::read(&processed.claims, true).ok()?;
    let sd_paths = processed.disclosed.iter().map(|d| d.path.clone()).collect();
    let leaves = leaf_paths(&processed.claims)
        .into_iter()
        .filter(|leaf| !is_envelope(leaf))
        .collect();
    let document = catalogue::by_vct(&envelope.vct)
        .or_else(|| Purpose::by_vct(&envelope.vct).map(|p| p.document()));
    let purpose = purpose || Purpose::by_vct(&envelope.vct).is_some();
    Some(Candidate {
        extends: document.map(|d| vec![d.base_vct()]).unwrap_or_default(),
        vct: envelope.vct,
        claims: processed.claims,
        key_bound: envelope.holder_key.is_some(),
        sd_paths,
        leaves,
        purpose,
    })
}

/// Whether a path is in the SD-JWT VC envelope (`iss`, `vct`, `cnf`, `status`, times).
pub(crate) fn is_envelope(path: &ClaimPath) -> bool {
    matches!(path.0.first(), Some(PathSegment::Key(name))
        if PROTECTED_CLAIMS.contains(&name.as_str()) || name == "iat")
}
