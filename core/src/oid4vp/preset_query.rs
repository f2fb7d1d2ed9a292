//! The DCQL query (OpenID4VP 1.0 section 6) a verifier sends for a catalogue preset
//! (`health_insurance_card` / `insurance_check`): the preset's claims as Claims Queries,
//! the document's `vct` and its purpose type's as `vct_values`, and `claim_sets` so that a
//! credential lacking an optional claim still answers.

use super::dcql::{ClaimsQuery, CredentialQuery, DcqlQuery, FORMAT_DC_SD_JWT, Meta, PathElement};
use crate::catalogue::paths::{self, Segment};
use crate::catalogue::{self, FULL_PRESET, Purpose};

/// Most `claim_sets` a preset query holds (the required claims with the first subsets of
/// the optional ones, largest first; the last set is always the required claims alone).
pub const MAX_PRESET_CLAIM_SETS: usize = 16;

impl DcqlQuery {
    /// The query for preset `preset` of catalogue document `document`, or `None` when the
    /// catalogue has no such document or preset: one Credential Query with id `document`,
    /// `vct_values` the document's `vct` and, except for `full`, the purpose credential's
    /// (whichever the wallet holds answers), and one Claims Query per claim of the preset
    /// (catalogue paths `a/*/b` become pointers `["a", null, "b"]`, see
    /// [`catalogue_pointer`]). When the preset names optional claims, `claim_sets` asks for
    /// the required ones with as many of the optional ones as the credential holds: asked
    /// for all at once, a card lacking one could not answer and the wallet MUST NOT return
    /// it (section 6.4.1), so the sets list every subset of the optional claims, largest
    /// first, within [`MAX_PRESET_CLAIM_SETS`] (the wallet returns the first it can
    /// satisfy, section 6.4.1).
    pub fn for_preset(document: &str, preset: &str) -> Option<DcqlQuery> {
        let doc = catalogue::by_id(document)?;
        let found = doc.preset(preset)?;
        let mut vct_values = vec![doc.vct.to_owned()];
        if preset != FULL_PRESET
            && let Some(purpose) = Purpose::of(doc, preset)
        {
            vct_values.push(purpose.vct());
        }
        let mut claims = Vec::new();
        let (mut required, mut optional) = (Vec::new(), Vec::new());
        for (n, path) in found.claims.iter().enumerate() {
            let id = format!("c{n}");
            let keys: Vec<&str> = path.split('/').filter(|s| *s != "*").collect();
            let is_required = (1..=keys.len()).all(|depth| {
                doc.claim_spec(&keys[..depth])
                    .is_some_and(|spec| spec.required)
            });
            if is_required {
                required.push(id.clone());
            } else {
                optional.push(id.clone());
            }
            claims.push(ClaimsQuery {
                id: Some(id),
                path: catalogue_pointer(path),
                values: None,
            });
        }
        let claim_sets = if optional.is_empty() {
            for claim in &mut claims {
                claim.id = None;
            }
            None
        } else {
            Some(optional_subsets(&required, &optional))
        };
        Some(DcqlQuery {
            credentials: vec![CredentialQuery {
                id: doc.id.to_owned(),
                format: FORMAT_DC_SD_JWT.to_owned(),
                multiple: false,
                meta: Meta {
                    vct_values: Some(vct_values),
                },
                require_cryptographic_holder_binding: true,
                claims: Some(claims),
                claim_sets,
            }],
            credential_sets: None,
        })
    }
}

/// A catalogue claim path (`driving_privileges/*/class`) as a claims path pointer
/// (`["driving_privileges", null, "class"]`, OpenID4VP 1.0 section 7).
pub fn catalogue_pointer(path: &str) -> Vec<PathElement> {
    paths::parse(path)
        .into_iter()
        .map(|segment| match segment {
            Segment::Each => PathElement::All,
            Segment::Key(name) => PathElement::Key(name.to_owned()),
        })
        .collect()
}

/// The claim sets for `required` claims and `optional` ones: `required` with each subset of
/// `optional`, largest subsets first (in claim order within a size), at most
/// [`MAX_PRESET_CLAIM_SETS`] sets, the last always `required` alone (or, when nothing is
/// required, the smallest non-empty subsets: a claim set may not be empty).
fn optional_subsets(required: &[String], optional: &[String]) -> Vec<Vec<String>> {
    let k = optional.len().min(16);
    let mut masks: Vec<u32> = (0..(1u32 << k)).collect();
    // Larger subsets first; within a size, the one with earlier claims first.
    masks.sort_by_key(|m| {
        (
            std::cmp::Reverse(m.count_ones()),
            std::cmp::Reverse(m.reverse_bits()),
        )
    });
    let set = |mask: u32| -> Vec<String> {
        let mut ids = required.to_vec();
        ids.extend(
            optional
                .iter()
                .take(k)
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, id)| id.clone()),
        );
        ids
    };
    let mut sets: Vec<Vec<String>> = masks
        .iter()
        .map(|m| set(*m))
        .filter(|s| !s.is_empty())
        .collect();
    if sets.len() > MAX_PRESET_CLAIM_SETS {
        let last = sets.pop().unwrap_or_default();
        sets.truncate(MAX_PRESET_CLAIM_SETS - 1);
        sets.push(last);
    }
    sets
}
