//! The verifier's side of DCQL (OpenID4VP 1.0 section 8.6, "VP Token Validation": the
//! returned credentials meet all criteria defined in the query): whether the verified
//! presentations of a `vp_token` answer a [`DcqlQuery`], by the selection rules of section
//! 6.4 that the wallet applies in [`DcqlQuery::evaluate`].

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::dcql::{ClaimsQuery, CredentialQuery, DcqlQuery, FORMAT_DC_SD_JWT, resolve_all};

/// What one verified presentation holds, for [`DcqlQuery::check_answer`].
#[derive(Debug, Clone, PartialEq)]
pub struct AnsweredCredential {
    /// The credential's `vct`.
    pub vct: String,
    /// The claims it disclosed (and the always-visible ones), as verified.
    pub claims: Map<String, Value>,
}

/// Why the presentations do not answer the query; the message names the Credential Query,
/// claims path or credential set, never a claim value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the response does not answer the query: {0}")]
pub struct NotAnswered(pub String);

impl DcqlQuery {
    /// The Credential Query with id `id`.
    pub fn credential(&self, id: &str) -> Option<&CredentialQuery> {
        self.credentials.iter().find(|c| c.id == id)
    }

    /// Whether `answered` (for each Credential Query id of the `vp_token`, the verified
    /// presentations) answers the query (OpenID4VP 1.0 sections 6.4 and 8.6): every id is
    /// one of the query's, no more presentations than `multiple` allows, each presentation
    /// of the `dc+sd-jwt` format's accepted `vct_values` (absent: any type) holding the
    /// claims asked for (all of `claims`, or every claim of one of `claim_sets`, a claim
    /// whose value is not among `values` counting as absent, section 6.4.1), and the
    /// Credential Queries answered make up every required Credential Set (all queries
    /// when there are none, section 6.4.2).
    pub fn check_answer(
        &self,
        answered: &BTreeMap<String, Vec<AnsweredCredential>>,
    ) -> Result<(), NotAnswered> {
        for (id, presentations) in answered {
            let query = self.credential(id).ok_or_else(|| {
                NotAnswered(format!(
                    "a presentation answers {:?}, which the query does not ask for",
                    crate::jose::truncate(id)
                ))
            })?;
            if presentations.is_empty() {
                return Err(NotAnswered(format!("{id}: an empty array")));
            }
            if presentations.len() > 1 && !query.multiple {
                return Err(NotAnswered(format!(
                    "{id}: {} presentations where one is asked for",
                    presentations.len()
                )));
            }
            for presentation in presentations {
                query.check_presentation(presentation)?;
            }
        }
        let answered_ids: BTreeSet<&str> = answered.keys().map(String::as_str).collect();
        match &self.credential_sets {
            None => {
                if let Some(missing) = self
                    .credentials
                    .iter()
                    .find(|c| !answered_ids.contains(c.id.as_str()))
                {
                    return Err(NotAnswered(format!("no presentation for {}", missing.id)));
                }
            }
            Some(sets) => {
                for (n, set) in sets.iter().enumerate().filter(|(_, s)| s.required) {
                    let met = set
                        .options
                        .iter()
                        .any(|option| option.iter().all(|id| answered_ids.contains(id.as_str())));
                    if !met {
                        return Err(NotAnswered(format!(
                            "required credential set {n}: no option is fully answered"
                        )));
                    }
                }
            }
        }
        Ok(())
    }
}

impl CredentialQuery {
    fn check_presentation(&self, presentation: &AnsweredCredential) -> Result<(), NotAnswered> {
        let id = &self.id;
        let accepted = self.format == FORMAT_DC_SD_JWT
            && self
                .meta
                .vct_values
                .as_ref()
                .is_none_or(|vcts| vcts.contains(&presentation.vct));
        if !accepted {
            return Err(NotAnswered(format!(
                "{id}: document type {} is not one the query accepts",
                crate::jose::truncate(&presentation.vct)
            )));
        }
        let Some(claims) = &self.claims else {
            return Ok(());
        };
        let holds = |claim: &ClaimsQuery| {
            resolve_all(std::iter::once(claim), &presentation.claims).is_some()
        };
        let pointer = |claim: &ClaimsQuery| {
            Value::Array(claim.path.iter().map(|e| e.to_json()).collect()).to_string()
        };
        match &self.claim_sets {
            None => match claims.iter().find(|c| !holds(c)) {
                Some(missing) => Err(NotAnswered(format!(
                    "{id}: claim {} is missing or has a value the query does not accept",
                    pointer(missing)
                ))),
                None => Ok(()),
            },
            Some(sets) => {
                let by_id =
                    |claim_id: &String| claims.iter().find(|c| c.id.as_ref() == Some(claim_id));
                if sets
                    .iter()
                    .any(|set| set.iter().all(|c| by_id(c).is_some_and(holds)))
                {
                    return Ok(());
                }
                let missing: Vec<String> = sets
                    .last()
                    .into_iter()
                    .flatten()
                    .filter_map(by_id)
                    .filter(|c| !holds(c))
                    .map(pointer)
                    .collect();
                Err(NotAnswered(format!(
                    "{id}: no claim set is fully disclosed (the last set lacks {})",
                    missing.join(", ")
                )))
            }
        }
    }
}
