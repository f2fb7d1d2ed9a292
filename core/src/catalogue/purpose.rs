//! Purpose types: for each preset a holder shows offline (every preset except `full`), a
//! credential type holding exactly that preset's claims, none selectively disclosable, so a
//! presentation carries no digests of hidden claims and fits a small QR code.
//!
//! A purpose type's `vct` is the document's `vct` followed by `/` and the preset name
//! (`https://giayto.gov.vn/vct/driving_licence/traffic_stop`); its Type Metadata extends the
//! document's base type ([`DocumentType::base_vct`], `https://giayto.gov.vn/vct/base/<id>`).
//! A purpose credential is an ordinary SD-JWT VC: same issuer, validity and status
//! semantics as the full credential, its own holder key and status index.

use serde_json::{Map, Value};

use super::paths::{self, Node, Segment};
use super::schema::SchemaError;
use super::{DocumentType, Preset, VCT_BASE};

/// The preset that is never a purpose: the whole document, shown from the full credential.
pub const FULL_PRESET: &str = "full";

/// The path segment between [`VCT_BASE`] and a document id that names its base type.
pub const BASE_SEGMENT: &str = "base/";

/// One purpose type: a document type and one of its presets other than `full`.
#[derive(Debug, Clone, Copy)]
pub struct Purpose {
    document: &'static DocumentType,
    preset: &'static Preset,
}

impl Purpose {
    /// The purpose of `document` for the preset `name`; `None` for `full` or an unknown
    /// preset.
    pub fn of(document: &'static DocumentType, name: &str) -> Option<Purpose> {
        if name == FULL_PRESET {
            return None;
        }
        let preset = document.preset(name)?;
        Some(Purpose { document, preset })
    }

    /// The purpose type with this `vct`, if it is one of the catalogue's.
    pub fn by_vct(vct: &str) -> Option<Purpose> {
        let (base, name) = vct.rsplit_once('/')?;
        let document = super::by_vct(base)?;
        Purpose::of(document, name)
    }

    /// The document type.
    pub fn document(&self) -> &'static DocumentType {
        self.document
    }

    /// The preset whose claims the purpose credential holds.
    pub fn preset(&self) -> &'static Preset {
        self.preset
    }

    /// The `vct`: the document's `vct`, `/`, the preset name.
    pub fn vct(&self) -> String {
        format!("{}/{}", self.document.vct, self.preset.name)
    }

    /// Display name in a locale as [`Label::get`] picks it: the document's name and the
    /// preset's label (`Giấy phép lái xe: Kiểm tra của cảnh sát giao thông`).
    pub fn name(&self, locale: &str) -> String {
        format!(
            "{}: {}",
            self.document.name.get(locale),
            self.preset.label.get(locale)
        )
    }

    /// The claims of a purpose credential: from `prepared` (the output of
    /// [`DocumentType::prepare_claims`]), the value at each preset path, with the objects
    /// above it. A required claim of the preset that `prepared` lacks is
    /// [`SchemaError::Missing`]; an optional one is left out.
    pub fn claims(&self, prepared: &Map<String, Value>) -> Result<Map<String, Value>, SchemaError> {
        let mut out = Map::new();
        for path in self.preset.claims {
            let keys: Vec<&str> = path.split('/').collect();
            let mut value = Some(prepared);
            let mut found = None;
            for (depth, key) in keys.iter().enumerate() {
                let here = value.and_then(|obj| obj.get(*key));
                if depth + 1 == keys.len() {
                    found = here;
                } else {
                    value = here.and_then(Value::as_object);
                }
            }
            match found {
                Some(found) => insert_at(&mut out, &keys, found.clone()),
                None if self.is_required(&keys) => {
                    return Err(SchemaError::Missing {
                        path: keys.join("."),
                    });
                }
                None => {}
            }
        }
        Ok(out)
    }

    /// The schema nodes a purpose credential may hold, each with whether it is mandatory:
    /// the nodes at or under a preset path (mandatory as in the full type), and their
    /// ancestors (mandatory when the preset path below them is).
    pub fn nodes(&self) -> Vec<(Node, bool)> {
        let selected: Vec<Vec<Segment<'_>>> =
            self.preset.claims.iter().map(|p| paths::parse(p)).collect();
        paths::nodes(self.document.claims)
            .into_iter()
            .filter_map(|node| {
                if selected.iter().any(|sel| paths::is_prefix(sel, &node.path)) {
                    let mandatory = node.mandatory;
                    return Some((node, mandatory));
                }
                let below: Vec<&Vec<Segment<'_>>> = selected
                    .iter()
                    .filter(|sel| paths::is_prefix(&node.path, sel))
                    .collect();
                if below.is_empty() {
                    return None;
                }
                let mandatory = node.mandatory
                    && below.iter().any(|sel| {
                        let keys: Vec<&str> = sel
                            .iter()
                            .filter_map(|s| match s {
                                Segment::Key(k) => Some(*k),
                                Segment::Each => None,
                            })
                            .collect();
                        self.is_required(&keys)
                    });
                Some((node, mandatory))
            })
            .collect()
    }

    /// The SD-JWT VC Type Metadata of this purpose type.
    pub fn type_metadata(&self) -> Value {
        super::metadata::purpose_type_metadata(self)
    }

    /// Whether the claim at `keys` and every object above it are required by the schema.
    fn is_required(&self, keys: &[&str]) -> bool {
        (1..=keys.len()).all(|len| {
            self.document
                .claim_spec(&keys[..len])
                .is_some_and(|spec| spec.required)
        })
    }
}

impl DocumentType {
    /// The `vct` of this document's base type: [`VCT_BASE`], `base/`, the id.
    pub fn base_vct(&self) -> String {
        format!("{VCT_BASE}{BASE_SEGMENT}{}", self.id)
    }

    /// The Type Metadata of the base type, which the full type and every purpose type
    /// extend.
    pub fn base_type_metadata(&self) -> Value {
        super::metadata::base_type_metadata(self)
    }

    /// Every purpose type of this document: one per preset except `full`, in preset order.
    pub fn purposes(&'static self) -> impl Iterator<Item = Purpose> {
        self.presets
            .iter()
            .filter(|preset| preset.name != FULL_PRESET)
            .map(move |preset| Purpose {
                document: self,
                preset,
            })
    }
}

/// Every `vct` an issuer allowed to issue `vct` issues for it: `vct` itself and, for a
/// catalogue document, the `vct` of each of its purpose types (what a trust list names for
/// that issuer). A `vct` outside the catalogue is returned alone.
pub fn issued_vcts(vct: &str) -> Vec<String> {
    let mut out = vec![vct.to_owned()];
    if let Some(document) = super::by_vct(vct) {
        out.extend(document.purposes().map(|p| p.vct()));
    }
    out
}

/// The document type whose base type has this `vct`.
pub fn base_by_vct(vct: &str) -> Option<&'static DocumentType> {
    let id = vct.strip_prefix(VCT_BASE)?.strip_prefix(BASE_SEGMENT)?;
    super::by_id(id)
}

fn insert_at(out: &mut Map<String, Value>, keys: &[&str], value: Value) {
    let Some((last, parents)) = keys.split_last() else {
        return;
    };
    let mut here = out;
    for key in parents {
        let slot = here
            .entry((*key).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        let Value::Object(next) = slot else {
            return;
        };
        here = next;
    }
    here.insert((*last).to_owned(), value);
}
