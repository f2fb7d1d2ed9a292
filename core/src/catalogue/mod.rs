//! The document catalogue: each document type giayto knows, its `vct`, claim schema, vi/en labels, disclosure presets and issuer role.
//!
//! The catalogue is static data ([`all`]); one submodule per document type holds its
//! schema and presets. [`DocumentType::prepare_claims`] is what an issuer runs before
//! signing: it enforces the schema and adds the computed `age_equal_or_over` predicates.
//! [`DocumentType::disclosable_paths`] tells the SD-JWT issuer which claims get their own
//! Disclosure, [`Preset`]s tell the wallet what to show in common situations, and
//! [`DocumentType::type_metadata`] publishes all of it as SD-JWT VC Type Metadata.
//!
//! Paths use the catalogue's syntax: property names joined by `/`, `*` for every element
//! of an array (`driving_privileges/*/class`, `age_equal_or_over/18`).

pub mod age;
mod can_cuoc;
mod common;
mod driving_licence;
pub mod examples;
mod health_book;
mod health_insurance_card;
mod judicial_record;
mod metadata;
mod order;
pub mod paths;
mod purpose;
pub mod representation;
pub mod schema;
mod values;
pub(crate) mod vehicle_registration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use age::{AGE_THRESHOLDS, CivilDate, age_on};
pub use metadata::{INPUT_MEMBER, LOCALES};
pub use purpose::{BASE_SEGMENT, FULL_PRESET, Purpose, base_by_vct, issued_vcts};
pub use schema::{ClaimKind, ClaimSpec, ListSpec, Rule, SchemaError, Sd};
pub use values::{enumeration_names, value_names};

use schema::{Loc, Origin};

/// The base every giayto `vct` starts with; the rest is the type's [`DocumentType::id`].
pub const VCT_BASE: &str = "https://giayto.gov.vn/vct/";

/// A text in Vietnamese and English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Label {
    /// Vietnamese, with diacritics.
    pub vi: &'static str,
    /// English.
    pub en: &'static str,
}

impl Label {
    /// The text for a language tag: Vietnamese for `vi` and its subtags (`vi-VN`), English
    /// otherwise.
    pub fn get(&self, locale: &str) -> &'static str {
        let primary = locale.split('-').next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("vi") {
            self.vi
        } else {
            self.en
        }
    }
}

/// The kind of authority allowed to issue a document type. The trust list maps each
/// issuer to the `vct`s it may issue; this is the catalogue's statement of which kind of
/// agency that should be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssuerRole {
    /// Công an (Ministry of Public Security): ID cards, driving licences, vehicle registrations.
    Police,
    /// Tư pháp (justice): judicial record certificates.
    Justice,
    /// Bảo hiểm xã hội (Vietnam Social Security): health insurance cards.
    SocialInsurance,
    /// Y tế (health authorities): the electronic health book.
    Health,
}

impl IssuerRole {
    /// Every role.
    pub const ALL: [IssuerRole; 4] = [
        IssuerRole::Police,
        IssuerRole::Justice,
        IssuerRole::SocialInsurance,
        IssuerRole::Health,
    ];

    /// The serde name: `police`, `justice`, `social_insurance`, `health`.
    pub fn as_str(self) -> &'static str {
        match self {
            IssuerRole::Police => "police",
            IssuerRole::Justice => "justice",
            IssuerRole::SocialInsurance => "social_insurance",
            IssuerRole::Health => "health",
        }
    }

    /// The role named by [`IssuerRole::as_str`], if any.
    pub fn from_name(name: &str) -> Option<IssuerRole> {
        IssuerRole::ALL
            .into_iter()
            .find(|role| role.as_str() == name)
    }

    /// Display labels.
    pub fn label(self) -> Label {
        match self {
            IssuerRole::Police => Label {
                vi: "Cơ quan Công an",
                en: "Police",
            },
            IssuerRole::Justice => Label {
                vi: "Cơ quan Tư pháp",
                en: "Justice",
            },
            IssuerRole::SocialInsurance => Label {
                vi: "Cơ quan Bảo hiểm xã hội",
                en: "Social insurance",
            },
            IssuerRole::Health => Label {
                vi: "Cơ quan Y tế",
                en: "Health",
            },
        }
    }
}

/// A named selection of claims to disclose, for a common situation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Preset {
    /// Stable identifier (`full`, `identity`, `age_over_18`, `traffic_stop`, ...).
    pub name: &'static str,
    /// Display labels.
    pub label: Label,
    /// Claim paths in the catalogue syntax; a path selects all its descendants, and the
    /// presenter adds the parents it needs (see [`DocumentType::preset_paths`]).
    pub claims: &'static [&'static str],
}

/// One document type of the catalogue.
#[derive(Debug)]
pub struct DocumentType {
    /// Short identifier, e.g. `can_cuoc`; the last segment of the `vct`.
    pub id: &'static str,
    /// The SD-JWT VC type, [`VCT_BASE`] followed by `id`.
    pub vct: &'static str,
    /// Display name.
    pub name: Label,
    /// One-sentence description.
    pub description: Label,
    /// Who may issue it.
    pub issuer_role: IssuerRole,
    /// Top-level claims, in display order.
    pub claims: &'static [ClaimSpec],
    /// Rules across claims.
    pub rules: &'static [Rule],
    /// Disclosure presets; the first is always `full`.
    pub presets: &'static [Preset],
}

/// Every document type of the catalogue.
pub fn all() -> &'static [DocumentType] {
    static ALL: [DocumentType; 6] = [
        can_cuoc::TYPE,
        driving_licence::TYPE,
        vehicle_registration::TYPE,
        health_insurance_card::TYPE,
        health_book::TYPE,
        judicial_record::TYPE,
    ];
    &ALL
}

/// The document type with this `vct`.
pub fn by_vct(vct: &str) -> Option<&'static DocumentType> {
    all().iter().find(|doc| doc.vct == vct)
}

/// The document type with this short id.
pub fn by_id(id: &str) -> Option<&'static DocumentType> {
    all().iter().find(|doc| doc.id == id)
}

impl DocumentType {
    /// Checks an issuer's claims against the schema: a JSON object; no reserved envelope
    /// names (`iss`, `vct`, `cnf`, `_sd`, ...), no unknown or computed claims, every
    /// required claim present, every value of its kind and within its bounds, and the
    /// cross-claim rules (dates in order, lists agreeing with their flags).
    pub fn validate(&self, claims: &Value) -> Result<(), SchemaError> {
        match self.validate_all(claims).into_iter().next() {
            Some(first) => Err(first),
            None => Ok(()),
        }
    }

    /// Every fault [`DocumentType::validate`] would find, in claim order (empty when the
    /// claims are valid): a publisher learns all of them from one request. The
    /// cross-claim rules are checked once every value is of its kind.
    pub fn validate_all(&self, claims: &Value) -> Vec<SchemaError> {
        match claims.as_object() {
            Some(obj) => self.validate_all_object(obj),
            None => vec![SchemaError::NotAnObject],
        }
    }

    /// [`DocumentType::validate_all`] of claims held as a JSON object.
    fn validate_all_object(&self, obj: &Map<String, Value>) -> Vec<SchemaError> {
        let mut errors = Vec::new();
        schema::validate_object(self.claims, obj, &Loc::ROOT, &mut errors);
        if errors.is_empty()
            && let Err(error) = schema::check_rules(self.rules, obj)
        {
            errors.push(error);
        }
        errors
    }

    /// Validates the claims and returns them ready for signing: in schema order, with the
    /// computed claims added (the `age_equal_or_over` predicates, computed from
    /// `birth_date` on `today`, for types with a birth date). A birth date after `today` is
    /// refused.
    pub fn prepare_claims(
        &self,
        claims: &Value,
        today: CivilDate,
    ) -> Result<Map<String, Value>, SchemaError> {
        self.prepare_object(claims.as_object().ok_or(SchemaError::NotAnObject)?, today)
    }

    /// [`DocumentType::prepare_claims`] of claims held as a JSON object (an issuer's request
    /// holds them so: they are checked where they are, not copied into a [`Value`] first).
    pub fn prepare_object(
        &self,
        input: &Map<String, Value>,
        today: CivilDate,
    ) -> Result<Map<String, Value>, SchemaError> {
        if let Some(first) = self.validate_all_object(input).into_iter().next() {
            return Err(first);
        }
        let mut out = Map::new();
        for spec in self.claims {
            match spec.origin {
                Origin::Issuer => {
                    if let Some(value) = input.get(spec.name) {
                        out.insert(spec.name.to_owned(), value.clone());
                    }
                }
                Origin::Computed if spec.name == age::AGE_CLAIM => {
                    let birth = input
                        .get(age::BIRTH_DATE_CLAIM)
                        .and_then(Value::as_str)
                        .and_then(CivilDate::parse)
                        .ok_or_else(|| SchemaError::Missing {
                            path: age::BIRTH_DATE_CLAIM.to_owned(),
                        })?;
                    let predicates =
                        age::age_predicates(birth, today).ok_or_else(|| SchemaError::InFuture {
                            path: age::BIRTH_DATE_CLAIM.to_owned(),
                        })?;
                    out.insert(spec.name.to_owned(), Value::Object(predicates));
                }
                Origin::Computed => {}
            }
        }
        Ok(out)
    }

    /// The claims the SD-JWT issuer makes selectively disclosable, in the catalogue path
    /// syntax (`given_name`, `driving_privileges`, `driving_privileges/*`,
    /// `age_equal_or_over/18`), parents before children. A path listed together with its
    /// parent is a recursive disclosure; claims not listed are always visible.
    pub fn disclosable_paths(&self) -> Vec<String> {
        paths::nodes(self.claims)
            .iter()
            .filter(|node| node.sd == Sd::Always)
            .map(paths::Node::path_string)
            .collect()
    }

    /// The disclosure presets; the first is `full`.
    pub fn presets(&self) -> &'static [Preset] {
        self.presets
    }

    /// The names of the type's presets, in catalogue order.
    pub fn preset_names(&self) -> Vec<&'static str> {
        self.presets.iter().map(|preset| preset.name).collect()
    }

    /// The preset with this name.
    pub fn preset(&self, name: &str) -> Option<&'static Preset> {
        self.presets.iter().find(|preset| preset.name == name)
    }

    /// The disclosable paths (as in [`DocumentType::disclosable_paths`]) a holder reveals
    /// with the preset `name`: those at or under a preset path, plus the disclosable
    /// ancestors they need. `None` for an unknown preset.
    pub fn preset_paths(&self, name: &str) -> Option<Vec<String>> {
        let preset = self.preset(name)?;
        let selected: Vec<Vec<paths::Segment<'_>>> =
            preset.claims.iter().map(|p| paths::parse(p)).collect();
        Some(
            paths::nodes(self.claims)
                .iter()
                .filter(|node| node.sd == Sd::Always)
                .filter(|node| {
                    selected.iter().any(|sel| {
                        paths::is_prefix(sel, &node.path) || paths::is_prefix(&node.path, sel)
                    })
                })
                .map(paths::Node::path_string)
                .collect(),
        )
    }

    /// The selectors a holder passes to the SD-JWT presenter for the preset `name`: the
    /// deepest of its [`DocumentType::preset_paths`]. A selector reveals everything under
    /// it and the presenter adds the parents it needs, so an ancestor kept as a selector
    /// would reveal its other children too (`age_equal_or_over` would show every age
    /// threshold, not only 18). `None` for an unknown preset.
    pub fn preset_selectors(&self, name: &str) -> Option<Vec<String>> {
        let paths = self.preset_paths(name)?;
        let is_strict_ancestor = |ancestor: &str, path: &str| {
            path.strip_prefix(ancestor)
                .is_some_and(|rest| rest.starts_with('/'))
        };
        Some(
            paths
                .iter()
                .filter(|path| !paths.iter().any(|other| is_strict_ancestor(path, other)))
                .cloned()
                .collect(),
        )
    }

    /// The labels of the claim at `path`: property names, with array steps (`*` or an
    /// index) optional, so `["driving_privileges", "0", "class"]` and the keys of a
    /// processed claim path, `["driving_privileges", "class"]`, both name the class. The
    /// `representation` claim a guardian's copy carries beside any document's claims has
    /// its labels too ([`representation::label`]).
    pub fn claim_label(&self, path: &[&str]) -> Option<Label> {
        self.claim_spec(path)
            .map(|spec| spec.label)
            .or_else(|| representation::label(path))
    }

    /// The schema of the claim at `path`, with array steps optional as in
    /// [`DocumentType::claim_label`].
    pub fn claim_spec(&self, path: &[&str]) -> Option<&'static ClaimSpec> {
        paths::find_spec(self.claims, path)
    }

    /// The SD-JWT VC Type Metadata document of this type, labels in `vi` and `en`.
    pub fn type_metadata(&self) -> Value {
        metadata::type_metadata(self)
    }

    /// Whether the type carries a birth date and hence the `age_equal_or_over` predicates.
    pub fn has_age_predicates(&self) -> bool {
        self.claims.iter().any(|spec| spec.name == age::AGE_CLAIM)
    }
}
