//! DCQL (OpenID4VP 1.0 section 6) as the verifier uses it: the query types (plain serde,
//! until core's own land), checks that a query is well formed and bounded, the query for a
//! catalogue preset, and whether the verified presentations answer a query (section 6.4
//! and section 8.6 "VP Token Validation", step "the returned Credential(s) meet all
//! criteria defined in the query").

use std::collections::{BTreeMap, BTreeSet};

use giayto_core::catalogue::{self, FULL_PRESET, Purpose};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The only Credential Format Identifier giayto asks for (OpenID4VP 1.0 Appendix B, "IETF
/// SD-JWT VC").
pub const FORMAT_SD_JWT_VC: &str = "dc+sd-jwt";
/// The most Credential Queries in one query.
pub const MAX_CREDENTIAL_QUERIES: usize = 8;
/// The most Claims Queries in one Credential Query.
pub const MAX_CLAIMS: usize = 64;
/// The most components in one claims path pointer.
pub const MAX_PATH_LEN: usize = 16;
/// The most `values`, `claim_sets`, `credential_sets` or `options` entries.
pub const MAX_ALTERNATIVES: usize = 16;

/// A DCQL query (section 6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DcqlQuery {
    /// The Credential Queries.
    pub credentials: Vec<CredentialQuery>,
    /// The Credential Set Queries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_sets: Option<Vec<CredentialSetQuery>>,
}

/// A Credential Query (section 6.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialQuery {
    /// Its id: the key of its presentations in the `vp_token`.
    pub id: String,
    /// The Credential Format Identifier; giayto answers only `dc+sd-jwt`.
    pub format: String,
    /// Whether several credentials may answer it (default `false`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub multiple: bool,
    /// Format-specific constraints: for SD-JWT VC, `vct_values` (Appendix B).
    pub meta: Meta,
    /// Whether a key-binding proof is required (default `true`).
    #[serde(default = "default_true", skip_serializing_if = "Clone::clone")]
    pub require_cryptographic_holder_binding: bool,
    /// The claims requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Vec<ClaimsQuery>>,
    /// Alternative combinations of claim ids, preferred first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_sets: Option<Vec<Vec<String>>>,
}

/// The SD-JWT VC `meta` of a Credential Query (Appendix B, "IETF SD-JWT VC").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// The accepted `vct` values.
    pub vct_values: Vec<String>,
}

/// A Claims Query (section 6.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimsQuery {
    /// Its id (required when the Credential Query has `claim_sets`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The claims path pointer (section 7): strings, `null` and non-negative integers.
    pub path: Vec<Value>,
    /// The accepted values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<Value>>,
}

/// A Credential Set Query (section 6.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialSetQuery {
    /// Alternative sets of Credential Query ids.
    pub options: Vec<Vec<String>>,
    /// Whether the set is required (default `true`).
    #[serde(default = "default_true")]
    pub required: bool,
}

fn default_true() -> bool {
    true
}

/// Why a query is refused, or a response does not answer it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DcqlError {
    /// The query breaks a rule of section 6 or a bound of this service.
    #[error("invalid DCQL query: {0}")]
    Invalid(String),
    /// No catalogue document or preset by that name.
    #[error("no preset {preset} for document {document} in the catalogue")]
    UnknownPreset {
        /// The document id.
        document: String,
        /// The preset name.
        preset: String,
    },
    /// The presentations do not answer the query.
    #[error("the response does not answer the query: {0}")]
    NotAnswered(String),
}

fn invalid(message: impl Into<String>) -> DcqlError {
    DcqlError::Invalid(message.into())
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl DcqlQuery {
    /// Checks the rules of section 6 this service relies on, and its bounds: ids unique and
    /// of the allowed characters, format `dc+sd-jwt`, `vct_values` non-empty, claims and
    /// paths non-empty and well typed, `claim_sets` only with `claims` and naming their
    /// ids, `credential_sets` naming credential ids, and every array within the `MAX_*`
    /// bounds.
    pub fn validate(&self) -> Result<(), DcqlError> {
        if self.credentials.is_empty() || self.credentials.len() > MAX_CREDENTIAL_QUERIES {
            return Err(invalid(format!(
                "credentials must hold 1 to {MAX_CREDENTIAL_QUERIES} queries"
            )));
        }
        let mut ids = BTreeSet::new();
        for credential in &self.credentials {
            if !valid_id(&credential.id) || !ids.insert(credential.id.as_str()) {
                return Err(invalid(format!(
                    "credential id {:?} is empty, badly formed or repeated",
                    truncate(&credential.id)
                )));
            }
            credential.validate()?;
        }
        if let Some(sets) = &self.credential_sets {
            if sets.is_empty() || sets.len() > MAX_ALTERNATIVES {
                return Err(invalid("credential_sets must hold 1 to 16 sets"));
            }
            for set in sets {
                if set.options.is_empty() || set.options.len() > MAX_ALTERNATIVES {
                    return Err(invalid("a credential set must hold 1 to 16 options"));
                }
                for option in &set.options {
                    if option.is_empty() || option.iter().any(|id| !ids.contains(id.as_str())) {
                        return Err(invalid(
                            "a credential set option is empty or names an unknown credential id",
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// The query for preset `preset` of catalogue document `document` (for example
    /// `health_insurance_card` / `insurance_check`): one Credential Query with id
    /// `document`, `vct_values` the document's `vct` and, except for `full`, the purpose
    /// credential's (whichever the wallet holds answers), and one Claims Query per claim
    /// of the preset (catalogue paths `a/*/b` become pointers `["a", null, "b"]`); when the
    /// preset names optional claims, `claim_sets` asks for the required ones with as many
    /// of the optional ones as the credential holds (see `optional_subsets`).
    pub fn for_preset(document: &str, preset: &str) -> Result<DcqlQuery, DcqlError> {
        let unknown = || DcqlError::UnknownPreset {
            document: truncate(document),
            preset: truncate(preset),
        };
        let doc = catalogue::by_id(document).ok_or_else(unknown)?;
        let found = doc.preset(preset).ok_or_else(unknown)?;
        let mut vct_values = vec![doc.vct.to_owned()];
        if preset != FULL_PRESET
            && let Some(purpose) = Purpose::of(doc, preset)
        {
            vct_values.push(purpose.vct());
        }
        // A preset names optional claims too (a card without `insurance_region`): asked for
        // all at once, a card lacking one could not answer and the wallet MUST NOT return it
        // (section 6.4.1). So `claim_sets` lists the required claims with every subset of
        // the optional ones, largest first (the wallet returns the first it can satisfy,
        // i.e. every optional claim the card has), within [`MAX_ALTERNATIVES`] sets; the
        // last is always the required claims alone.
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
        Ok(DcqlQuery {
            credentials: vec![CredentialQuery {
                id: doc.id.to_owned(),
                format: FORMAT_SD_JWT_VC.to_owned(),
                multiple: false,
                meta: Meta { vct_values },
                require_cryptographic_holder_binding: true,
                claims: Some(claims),
                claim_sets,
            }],
            credential_sets: None,
        })
    }

    /// The Credential Query with id `id`.
    pub fn credential(&self, id: &str) -> Option<&CredentialQuery> {
        self.credentials.iter().find(|c| c.id == id)
    }

    /// Whether `answered` (for each Credential Query id, the `vct` and disclosed claims of
    /// each verified presentation) answers the query: every id is one of the query's, no
    /// more presentations than `multiple` allows, each presentation of an accepted `vct`
    /// holding the claims asked for (all of `claims`, or one of `claim_sets`, values as
    /// `values` says), and the Credential Queries answered make up the required Credential
    /// Sets (all queries when there are none). Section 6.4.
    pub fn check_answer(
        &self,
        answered: &BTreeMap<String, Vec<AnsweredCredential>>,
    ) -> Result<(), DcqlError> {
        for (id, presentations) in answered {
            let query = self.credential(id).ok_or_else(|| {
                DcqlError::NotAnswered(format!(
                    "a presentation answers {:?}, which the query does not ask for",
                    truncate(id)
                ))
            })?;
            if presentations.is_empty() {
                return Err(DcqlError::NotAnswered(format!("{id}: an empty array")));
            }
            if presentations.len() > 1 && !query.multiple {
                return Err(DcqlError::NotAnswered(format!(
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
                for credential in &self.credentials {
                    if !answered_ids.contains(credential.id.as_str()) {
                        return Err(DcqlError::NotAnswered(format!(
                            "no presentation for {}",
                            credential.id
                        )));
                    }
                }
            }
            Some(sets) => {
                for (n, set) in sets.iter().enumerate().filter(|(_, s)| s.required) {
                    let met = set
                        .options
                        .iter()
                        .any(|option| option.iter().all(|id| answered_ids.contains(id.as_str())));
                    if !met {
                        return Err(DcqlError::NotAnswered(format!(
                            "required credential set {n}: no option is fully answered"
                        )));
                    }
                }
            }
        }
        Ok(())
    }
}

/// What a verified presentation holds, for [`DcqlQuery::check_answer`].
#[derive(Debug, Clone, PartialEq)]
pub struct AnsweredCredential {
    /// The credential's `vct`.
    pub vct: String,
    /// The claims it disclosed (and the always-visible ones), as verified.
    pub claims: Map<String, Value>,
}

impl CredentialQuery {
    fn validate(&self) -> Result<(), DcqlError> {
        let id = &self.id;
        if self.format != FORMAT_SD_JWT_VC {
            return Err(invalid(format!(
                "{id}: format {:?} is not supported (only {FORMAT_SD_JWT_VC})",
                truncate(&self.format)
            )));
        }
        if self.meta.vct_values.is_empty() || self.meta.vct_values.len() > MAX_ALTERNATIVES {
            return Err(invalid(format!(
                "{id}: meta.vct_values must hold 1 to 16 types"
            )));
        }
        if !self.require_cryptographic_holder_binding {
            return Err(invalid(format!(
                "{id}: this service always requires holder binding"
            )));
        }
        let Some(claims) = &self.claims else {
            if self.claim_sets.is_some() {
                return Err(invalid(format!("{id}: claim_sets without claims")));
            }
            return Ok(());
        };
        if claims.is_empty() || claims.len() > MAX_CLAIMS {
            return Err(invalid(format!(
                "{id}: claims must hold 1 to {MAX_CLAIMS} queries"
            )));
        }
        let mut claim_ids = BTreeSet::new();
        for claim in claims {
            if claim.path.is_empty()
                || claim.path.len() > MAX_PATH_LEN
                || !claim.path.iter().all(|c| {
                    c.is_null() || c.as_str().is_some_and(|s| s.len() <= 256) || c.is_u64()
                })
            {
                return Err(invalid(format!(
                    "{id}: a claims path must hold 1 to {MAX_PATH_LEN} strings, nulls or \
                     non-negative integers"
                )));
            }
            if let Some(values) = &claim.values
                && (values.is_empty()
                    || values.len() > MAX_ALTERNATIVES
                    || !values
                        .iter()
                        .all(|v| v.is_string() || v.is_i64() || v.is_u64() || v.is_boolean()))
            {
                return Err(invalid(format!(
                    "{id}: values must hold 1 to 16 strings, integers or booleans"
                )));
            }
            if let Some(claim_id) = &claim.id
                && (!valid_id(claim_id) || !claim_ids.insert(claim_id.as_str()))
            {
                return Err(invalid(format!(
                    "{id}: a claim id is badly formed or repeated"
                )));
            }
        }
        if let Some(sets) = &self.claim_sets {
            if sets.is_empty() || sets.len() > MAX_ALTERNATIVES {
                return Err(invalid(format!("{id}: claim_sets must hold 1 to 16 sets")));
            }
            if claims.iter().any(|c| c.id.is_none()) {
                return Err(invalid(format!(
                    "{id}: with claim_sets every claim needs an id"
                )));
            }
            for set in sets {
                if set.is_empty() || set.iter().any(|c| !claim_ids.contains(c.as_str())) {
                    return Err(invalid(format!(
                        "{id}: a claim set is empty or names an unknown claim id"
                    )));
                }
            }
        }
        Ok(())
    }

    fn check_presentation(&self, presentation: &AnsweredCredential) -> Result<(), DcqlError> {
        let id = &self.id;
        if !self.meta.vct_values.contains(&presentation.vct) {
            return Err(DcqlError::NotAnswered(format!(
                "{id}: document type {} is not one the query accepts",
                truncate(&presentation.vct)
            )));
        }
        let Some(claims) = &self.claims else {
            return Ok(());
        };
        let holds = |claim: &ClaimsQuery| {
            matches!(select(&presentation.claims, &claim.path), Some(selected)
                if !selected.is_empty()
                    && claim
                        .values
                        .as_ref()
                        .is_none_or(|values| selected.iter().any(|v| values.contains(v))))
        };
        match &self.claim_sets {
            None => {
                if let Some(missing) = claims.iter().find(|c| !holds(c)) {
                    return Err(DcqlError::NotAnswered(format!(
                        "{id}: claim {} is missing or has a value the query does not accept",
                        Value::Array(missing.path.clone())
                    )));
                }
            }
            Some(sets) => {
                let by_id: BTreeMap<&str, &ClaimsQuery> = claims
                    .iter()
                    .filter_map(|c| c.id.as_deref().map(|i| (i, c)))
                    .collect();
                let met = sets.iter().any(|set| {
                    set.iter()
                        .all(|claim_id| by_id.get(claim_id.as_str()).is_some_and(|c| holds(c)))
                });
                if !met {
                    let missing: Vec<String> = sets
                        .last()
                        .into_iter()
                        .flatten()
                        .filter_map(|claim_id| by_id.get(claim_id.as_str()))
                        .filter(|c| !holds(c))
                        .map(|c| Value::Array(c.path.clone()).to_string())
                        .collect();
                    return Err(DcqlError::NotAnswered(format!(
                        "{id}: no claim set is fully disclosed (the last set lacks {})",
                        missing.join(", ")
                    )));
                }
            }
        }
        Ok(())
    }
}

/// The claim sets for `required` claims and `optional` ones: `required` with each subset of
/// `optional`, largest subsets first (in claim order within a size), at most
/// [`MAX_ALTERNATIVES`] sets, the last always `required` alone (or, when nothing is
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
    if sets.len() > MAX_ALTERNATIVES {
        let last = sets.pop().unwrap_or_default();
        sets.truncate(MAX_ALTERNATIVES - 1);
        sets.push(last);
    }
    sets
}

/// A catalogue claim path (`driving_privileges/*/class`) as a claims path pointer
/// (`["driving_privileges", null, "class"]`, section 7).
pub fn catalogue_pointer(path: &str) -> Vec<Value> {
    path.split('/')
        .map(|segment| match segment {
            "*" => Value::Null,
            name => Value::String(name.to_owned()),
        })
        .collect()
}

/// Processes a claims path pointer against `claims` (section 7.1 "Processing"): the
/// selected elements, or `None` where the pointer meets the wrong type or selects nothing.
pub fn select<'a>(claims: &'a Map<String, Value>, path: &[Value]) -> Option<Vec<&'a Value>> {
    let root = claims;
    let mut selected: Vec<&Value> = Vec::new();
    let mut first = true;
    for component in path {
        let mut next = Vec::new();
        match component {
            Value::String(key) => {
                if first {
                    next.extend(root.get(key));
                } else {
                    for element in &selected {
                        let object = element.as_object()?;
                        next.extend(object.get(key));
                    }
                }
            }
            Value::Null if !first => {
                for element in &selected {
                    next.extend(element.as_array()?.iter());
                }
            }
            Value::Number(n) if !first => {
                let index = n.as_u64().and_then(|i| usize::try_from(i).ok())?;
                for element in &selected {
                    next.extend(element.as_array()?.get(index));
                }
            }
            _ => return None,
        }
        selected = next;
        first = false;
    }
    (!selected.is_empty()).then_some(selected)
}

fn truncate(text: &str) -> String {
    crate::shown(text)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    const HIC: &str = "https://giayto.gov.vn/vct/health_insurance_card";
    const LICENCE: &str = "https://giayto.gov.vn/vct/driving_licence";

    fn query(value: Value) -> DcqlQuery {
        let query: DcqlQuery = serde_json::from_value(value).unwrap();
        query.validate().unwrap();
        query
    }

    fn answer(entries: &[(&str, &str, Value)]) -> BTreeMap<String, Vec<AnsweredCredential>> {
        let mut map: BTreeMap<String, Vec<AnsweredCredential>> = BTreeMap::new();
        for (id, vct, claims) in entries {
            map.entry((*id).to_owned())
                .or_default()
                .push(AnsweredCredential {
                    vct: (*vct).to_owned(),
                    claims: serde_json::from_value(claims.clone()).unwrap(),
                });
        }
        map
    }

    #[test]
    fn credential_sets_accept_either_option_and_need_every_required_set() {
        let q = query(json!({
            "credentials": [
                { "id": "card", "format": "dc+sd-jwt", "meta": { "vct_values": [HIC] } },
                { "id": "licence", "format": "dc+sd-jwt", "meta": { "vct_values": [LICENCE] } }
            ],
            "credential_sets": [{ "options": [["card"], ["licence"]] }]
        }));
        assert!(q.check_answer(&answer(&[("card", HIC, json!({}))])).is_ok());
        assert!(
            q.check_answer(&answer(&[("licence", LICENCE, json!({}))]))
                .is_ok()
        );
        let none = q.check_answer(&BTreeMap::new()).unwrap_err();
        assert!(
            none.to_string().contains("no option is fully answered"),
            "{none}"
        );
        // Without credential_sets every credential query must be answered.
        let both = query(json!({ "credentials": q.credentials }));
        let one = both
            .check_answer(&answer(&[("card", HIC, json!({}))]))
            .unwrap_err();
        assert!(
            one.to_string().contains("no presentation for licence"),
            "{one}"
        );
    }

    #[test]
    fn an_optional_credential_set_may_be_left_out() {
        let q = query(json!({
            "credentials": [
                { "id": "card", "format": "dc+sd-jwt", "meta": { "vct_values": [HIC] } },
                { "id": "licence", "format": "dc+sd-jwt", "meta": { "vct_values": [LICENCE] } }
            ],
            "credential_sets": [
                { "options": [["card"]] },
                { "options": [["licence"]], "required": false }
            ]
        }));
        assert!(q.check_answer(&answer(&[("card", HIC, json!({}))])).is_ok());
    }

    #[test]
    fn missing_claims_wrong_types_and_unasked_ids_do_not_answer() {
        let q = query(json!({ "credentials": [{
            "id": "card", "format": "dc+sd-jwt", "meta": { "vct_values": [HIC] },
            "claims": [{ "path": ["full_name"] }, { "path": ["address", "province"] }]
        }]}));
        let full = json!({ "full_name": "Lê Thị Hoa", "address": { "province": "Hà Nội" } });
        assert!(
            q.check_answer(&answer(&[("card", HIC, full.clone())]))
                .is_ok()
        );
        let missing = q
            .check_answer(&answer(&[(
                "card",
                HIC,
                json!({ "full_name": "Lê Thị Hoa" }),
            )]))
            .unwrap_err();
        assert!(
            missing.to_string().contains("[\"address\",\"province\"]"),
            "{missing}"
        );
        let wrong_type = q
            .check_answer(&answer(&[("card", LICENCE, full.clone())]))
            .unwrap_err();
        assert!(
            wrong_type.to_string().contains("not one the query accepts"),
            "{wrong_type}"
        );
        let unasked = q
            .check_answer(&answer(&[
                ("card", HIC, full.clone()),
                ("other", HIC, full.clone()),
            ]))
            .unwrap_err();
        assert!(
            unasked.to_string().contains("does not ask for"),
            "{unasked}"
        );
        let two = q
            .check_answer(&answer(&[("card", HIC, full.clone()), ("card", HIC, full)]))
            .unwrap_err();
        assert!(two.to_string().contains("2 presentations"), "{two}");
    }

    #[test]
    fn value_filters_match_type_and_value_exactly() {
        let q = query(json!({ "credentials": [{
            "id": "licence", "format": "dc+sd-jwt", "meta": { "vct_values": [LICENCE] },
            "claims": [
                { "path": ["driving_privileges", null, "class"], "values": ["B2", "C"] },
                { "path": ["age_equal_or_over", "18"], "values": [true] }
            ]
        }]}));
        let holder = |classes: Value, adult: Value| {
            json!({
                "driving_privileges": classes,
                "age_equal_or_over": { "18": adult }
            })
        };
        let ok = holder(json!([{ "class": "A1" }, { "class": "B2" }]), json!(true));
        assert!(q.check_answer(&answer(&[("licence", LICENCE, ok)])).is_ok());
        for bad in [
            holder(json!([{ "class": "A1" }]), json!(true)),
            holder(json!([{ "class": "B2" }]), json!("true")),
            holder(json!([{ "class": "B2" }]), json!(false)),
        ] {
            assert!(
                q.check_answer(&answer(&[("licence", LICENCE, bad.clone())]))
                    .is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn claims_path_pointers_select_as_section_7_says() {
        let claims: Map<String, Value> = serde_json::from_value(json!({
            "name": "Hoa",
            "degrees": [{ "type": "BSc" }, { "type": "MSc" }],
            "nationalities": ["VN", "FR"]
        }))
        .unwrap();
        let at = |path: Value| select(&claims, path.as_array().unwrap());
        assert_eq!(at(json!(["name"])).unwrap(), [&json!("Hoa")]);
        assert_eq!(
            at(json!(["degrees", null, "type"])).unwrap(),
            [&json!("BSc"), &json!("MSc")]
        );
        assert_eq!(at(json!(["nationalities", 1])).unwrap(), [&json!("FR")]);
        assert!(at(json!(["nationalities", 2])).is_none(), "no such index");
        assert!(at(json!(["name", null])).is_none(), "null on a string");
        assert!(at(json!(["name", "first"])).is_none(), "a key on a string");
        assert!(at(json!([null])).is_none(), "null on the root");
        assert!(at(json!(["missing"])).is_none());
        assert!(at(json!(["degrees", -1])).is_none());
    }

    #[test]
    fn malformed_queries_are_refused_with_the_rule_they_break() {
        for (query, rule) in [
            (json!({ "credentials": [] }), "1 to 8"),
            (
                json!({ "credentials": [{ "id": "", "format": "dc+sd-jwt", "meta": { "vct_values": [HIC] } }] }),
                "badly formed",
            ),
            (
                json!({ "credentials": [
                { "id": "a", "format": "dc+sd-jwt", "meta": { "vct_values": [HIC] } },
                { "id": "a", "format": "dc+sd-jwt", "meta": { "vct_values": [HIC] } }] }),
                "repeated",
            ),
            (
                json!({ "credentials": [{ "id": "a", "format": "dc+sd-jwt", "meta": { "vct_values": [] } }] }),
                "vct_values",
            ),
            (
                json!({ "credentials": [{ "id": "a", "format": "dc+sd-jwt", "meta": { "vct_values": [HIC] }, "claims": [{ "path": [] }] }] }),
                "claims path",
            ),
            (
                json!({ "credentials": [{ "id": "a", "format": "dc+sd-jwt", "meta": { "vct_values": [HIC] }, "claims": [{ "path": [1.5] }] }] }),
                "claims path",
            ),
            (
                json!({ "credentials": [{ "id": "a", "format": "dc+sd-jwt", "meta": { "vct_values": [HIC] }, "claims": [{ "path": ["x"] }], "claim_sets": [["x"]] }] }),
                "needs an id",
            ),
            (
                json!({ "credentials": [{ "id": "a", "format": "dc+sd-jwt", "meta": { "vct_values": [HIC] }, "claims": [{ "id": "x", "path": ["x"] }], "claim_sets": [["y"]] }] }),
                "unknown claim id",
            ),
            (
                json!({ "credentials": [{ "id": "a", "format": "dc+sd-jwt", "meta": { "vct_values": [HIC] }, "claims": [{ "path": ["x"], "values": [{ "o": 1 }] }] }] }),
                "values",
            ),
            (
                json!({ "credentials": [{ "id": "a", "format": "dc+sd-jwt", "meta": { "vct_values": [HIC] } }], "credential_sets": [{ "options": [["b"]] }] }),
                "unknown credential id",
            ),
            (
                json!({ "credentials": [{ "id": "a", "format": "dc+sd-jwt", "meta": { "vct_values": [HIC] }, "require_cryptographic_holder_binding": false }] }),
                "holder binding",
            ),
        ] {
            let parsed: DcqlQuery = serde_json::from_value(query.clone()).unwrap();
            let error = parsed.validate().unwrap_err().to_string();
            assert!(error.contains(rule), "{query}: {error}");
        }
    }

    #[test]
    fn a_preset_query_asks_for_as_many_optional_claims_as_the_credential_holds() {
        let q = DcqlQuery::for_preset("health_insurance_card", "insurance_check").unwrap();
        q.validate().unwrap();
        let credential = &q.credentials[0];
        assert_eq!(
            credential.meta.vct_values,
            [HIC.to_owned(), format!("{HIC}/insurance_check")]
        );
        let sets = credential.claim_sets.as_ref().unwrap();
        let claims = credential.claims.as_ref().unwrap();
        let id_of = |name: &str| {
            claims
                .iter()
                .find(|c| c.path == [json!(name)])
                .and_then(|c| c.id.clone())
                .unwrap()
        };
        // Four optional claims: every subset, 16 sets, all first, required alone last.
        assert_eq!(sets.len(), 16);
        assert_eq!(sets[0].len(), claims.len());
        let (region, code) = (
            id_of("insurance_region"),
            id_of("initial_care_facility_code"),
        );
        assert!(sets[0].contains(&region) && !sets[15].contains(&region));
        assert!(!sets[15].contains(&code), "the facility code is optional");
        assert!(sets[15].contains(&id_of("card_number")));
        // The first set without the region asks for every other claim.
        let first_without_region = sets.iter().find(|s| !s.contains(&region)).unwrap();
        assert_eq!(first_without_region.len(), claims.len() - 1);
        // A preset of required claims only needs no claim sets; `full` has no purpose type.
        let full = DcqlQuery::for_preset("driving_licence", "full").unwrap();
        assert_eq!(full.credentials[0].meta.vct_values, [LICENCE]);
        assert_eq!(
            catalogue_pointer("driving_privileges/*/class"),
            [json!("driving_privileges"), Value::Null, json!("class")]
        );
        assert!(DcqlQuery::for_preset("driving_licence", "nope").is_err());
    }
}
