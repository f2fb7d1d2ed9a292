//! SD-JWT VC Type Metadata (draft-ietf-oauth-sd-jwt-vc, "SD-JWT VC Type Metadata") of the
//! catalogue's types: `vct`, developer `name` and `description`, `display` per locale (`vi`,
//! `en`), `extends`, and `claims` entries with `path`, `display` labels, `mandatory` and `sd`.
//!
//! Each document type publishes three kinds of types (the choice is written down in
//! docs/ARCHITECTURE.md, "Purpose credentials"):
//! - the **base type** ([`base_type_metadata`]): every claim with its labels, `sd: allowed`
//!   where the full credential makes it disclosable, `never` where no credential does, and
//!   nothing `mandatory` (a purpose credential holds only some claims);
//! - the **full type**, the document's own `vct` ([`type_metadata`]): `extends` the base and
//!   turns `allowed` into `always`, and required claims into `mandatory`;
//! - one **purpose type** per preset except `full` ([`purpose_type_metadata`]): `extends` the
//!   base and turns the preset's claims into `sd: never` (section "Limitations for `sd` and
//!   `mandatory`": an extending type may change `allowed` to `always` or `never`, never the
//!   reverse, and may make an optional claim mandatory, never the reverse).

use serde_json::{Map, Value, json};

use super::paths::{self, Node, Segment};
use super::purpose::Purpose;
use super::{DocumentType, Label, Sd};

/// The locales every label is published in, in this order.
pub const LOCALES: [&str; 2] = ["vi", "en"];

/// How one claim entry is written.
struct Entry {
    /// `sd` value (`always`, `allowed` or `never`).
    sd: &'static str,
    /// Whether to write `mandatory: true`.
    mandatory: bool,
    /// Whether to write the claim's `display` labels.
    display: bool,
}

/// The Type Metadata document of the full credential of `doc` (its own `vct`).
///
/// Claim paths are arrays of property names with `null` for "every element of the array"
/// (section "Claim Path"). `mandatory` is written only when true, as its default is false;
/// `sd` is always written, as `always` or `never` (the draft recommends against leaving it
/// to the `allowed` default). Array element entries carry no `display`: the array's own
/// entry labels them. Labels repeat those of the base type so a consumer that reads only
/// this document still shows them.
pub(crate) fn type_metadata(doc: &DocumentType) -> Value {
    let claims = paths::nodes(doc.claims)
        .iter()
        .map(|node| {
            entry(
                node,
                &Entry {
                    sd: node.sd.as_str(),
                    mandatory: node.mandatory,
                    display: true,
                },
            )
        })
        .collect();
    document(
        doc.vct,
        format!("giayto {}", doc.name.en),
        doc.description.en.to_owned(),
        display(|locale| doc.name.get(locale).to_owned(), doc.description),
        Some(doc.base_vct()),
        claims,
    )
}

/// The Type Metadata document of the base type of `doc`, which every other type of the
/// document extends: `sd: allowed` for what the full credential discloses selectively,
/// `never` for what no credential does, no claim `mandatory`.
pub(crate) fn base_type_metadata(doc: &DocumentType) -> Value {
    let claims = paths::nodes(doc.claims)
        .iter()
        .map(|node| {
            entry(
                node,
                &Entry {
                    sd: match node.sd {
                        Sd::Always => "allowed",
                        Sd::Never => "never",
                    },
                    mandatory: false,
                    display: true,
                },
            )
        })
        .collect();
    document(
        &doc.base_vct(),
        format!("giayto {} (base type)", doc.name.en),
        format!(
            "Claims and labels shared by every {} credential; extended by the full credential and the purpose credentials",
            doc.name.en.to_lowercase()
        ),
        display(|locale| doc.name.get(locale).to_owned(), doc.description),
        None,
        claims,
    )
}

/// The Type Metadata document of a purpose type: the preset's claims (and the parents they
/// need), `sd: never`, `mandatory` as in the full type; the other claims are inherited from
/// the base type and absent from the credential.
pub(crate) fn purpose_type_metadata(purpose: &Purpose) -> Value {
    let doc = purpose.document();
    let claims = purpose
        .nodes()
        .iter()
        .map(|(node, mandatory)| {
            entry(
                node,
                &Entry {
                    sd: Sd::Never.as_str(),
                    mandatory: *mandatory,
                    display: false,
                },
            )
        })
        .collect();
    document(
        &purpose.vct(),
        format!("giayto {}: {}", doc.name.en, purpose.preset().label.en),
        format!(
            "{}, holding only the claims shown for this purpose, none selectively disclosable",
            doc.name.en
        ),
        display(|locale| purpose.name(locale), doc.description),
        Some(doc.base_vct()),
        claims,
    )
}

fn document(
    vct: &str,
    name: String,
    description: String,
    display: Vec<Value>,
    extends: Option<String>,
    claims: Vec<Value>,
) -> Value {
    let mut out = Map::new();
    out.insert("vct".to_owned(), Value::from(vct));
    out.insert("name".to_owned(), Value::from(name));
    out.insert("description".to_owned(), Value::from(description));
    if let Some(extends) = extends {
        out.insert("extends".to_owned(), Value::from(extends));
    }
    out.insert("display".to_owned(), Value::Array(display));
    out.insert("claims".to_owned(), Value::Array(claims));
    Value::Object(out)
}

fn display(name: impl Fn(&str) -> String, description: Label) -> Vec<Value> {
    LOCALES
        .iter()
        .map(|locale| {
            json!({
                "locale": locale,
                "name": name(locale),
                "description": description.get(locale),
            })
        })
        .collect()
}

fn entry(node: &Node, how: &Entry) -> Value {
    let mut entry = Map::new();
    let path: Vec<Value> = node
        .path
        .iter()
        .map(|segment| match segment {
            Segment::Key(key) => Value::from(*key),
            Segment::Each => Value::Null,
        })
        .collect();
    entry.insert("path".to_owned(), Value::Array(path));
    if how.display
        && let Some(label) = node.label
    {
        let labels: Vec<Value> = LOCALES
            .iter()
            .map(|locale| json!({ "locale": locale, "label": label.get(locale) }))
            .collect();
        entry.insert("display".to_owned(), Value::Array(labels));
    }
    if how.mandatory {
        entry.insert("mandatory".to_owned(), Value::Bool(true));
    }
    entry.insert("sd".to_owned(), Value::from(how.sd));
    Value::Object(entry)
}
