//! The document catalogue as the app sees it: each type's names, description and
//! disclosure presets in Vietnamese and English, so a picker can be drawn without a server.

use giayto_core::catalogue::{self, DocumentType, Preset};

/// A disclosure preset: a named selection of claims for a common situation.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PresetInfo {
    /// Stable identifier passed to `Wallet.present` (`full`, `identity`, `age_over_18`, ...).
    pub name: String,
    /// Vietnamese label.
    pub label_vi: String,
    /// English label.
    pub label_en: String,
    /// The claim paths it reveals, in the catalogue syntax (`given_name`, `age_equal_or_over/18`; an array step is `*`).
    pub claims: Vec<String>,
}

impl From<&Preset> for PresetInfo {
    fn from(p: &Preset) -> Self {
        PresetInfo {
            name: p.name.to_owned(),
            label_vi: p.label.vi.to_owned(),
            label_en: p.label.en.to_owned(),
            claims: p.claims.iter().map(|c| (*c).to_owned()).collect(),
        }
    }
}

/// A document type of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DocumentTypeInfo {
    /// Short identifier, e.g. `driving_licence`.
    pub id: String,
    /// The SD-JWT VC type (`vct`).
    pub vct: String,
    /// Vietnamese name.
    pub name_vi: String,
    /// English name.
    pub name_en: String,
    /// Vietnamese description.
    pub description_vi: String,
    /// English description.
    pub description_en: String,
    /// The kind of authority allowed to issue it (`police`, `justice`, ...).
    pub issuer_role: String,
    /// Disclosure presets; the first is always `full`.
    pub presets: Vec<PresetInfo>,
}

impl From<&DocumentType> for DocumentTypeInfo {
    fn from(d: &DocumentType) -> Self {
        DocumentTypeInfo {
            id: d.id.to_owned(),
            vct: d.vct.to_owned(),
            name_vi: d.name.vi.to_owned(),
            name_en: d.name.en.to_owned(),
            description_vi: d.description.vi.to_owned(),
            description_en: d.description.en.to_owned(),
            issuer_role: d.issuer_role.as_str().to_owned(),
            presets: d.presets().iter().map(PresetInfo::from).collect(),
        }
    }
}

/// Every document type giayto knows, in catalogue order.
#[uniffi::export]
pub fn document_types() -> Vec<DocumentTypeInfo> {
    catalogue::all()
        .iter()
        .map(DocumentTypeInfo::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_is_listed_with_full_first() {
        let types = document_types();
        assert_eq!(types.len(), catalogue::all().len());
        for t in &types {
            assert_eq!(t.presets[0].name, "full");
            assert!(t.vct.ends_with(&t.id));
            assert!(!t.name_vi.is_empty() && !t.name_en.is_empty());
        }
    }
}
