//! SD-JWT VC Type Metadata (draft-ietf-oauth-sd-jwt-vc, "SD-JWT VC Type Metadata") of the
//! catalogue's types: `vct`, developer `name` and `description`, `display` per locale (`vi`,
//! `en`), `extends`, and `claims` entries with `path`, `display` labels, `mandatory` and `sd`,
//! and, in the full type, the extension member [`INPUT_MEMBER`] (value type, allowed values,
//! what a publish request carries).
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
use super::schema::ClaimKind;
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
    /// Whether to write [`INPUT_MEMBER`] (the full type only).
    input: bool,
}

/// The claim metadata member, an extension consumers that do not understand it ignore
/// (section "Type Metadata Format": "Consumers MUST ignore properties that are not
/// understood"), that tells an agency what to put in a publish request: the value's
/// `type` (`text`, `code`, `mask`, `date`, `integer`, `boolean`, `one_of`, `object`,
/// `array`) with its bounds (`max_chars`, `masks`, `min`/`max`, `values`,
/// `min_items`/`max_items`), whether the request must carry it (`required`), and
/// `computed: true` for a claim the server computes at issuance, which a request must not
/// carry (`age_equal_or_over`; `mandatory` still says every credential holds it).
pub const INPUT_MEMBER: &str = "giayto_input";

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
                    input: true,
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
                    input: false,
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
                    input: false,
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
    if how.input {
        entry.insert(INPUT_MEMBER.to_owned(), input(node));
    }
    Value::Object(entry)
}

/// The [`INPUT_MEMBER`] of a node.
fn input(node: &Node) -> Value {
    let mut out = Map::new();
    let (kind, bounds): (&str, Value) = match node.kind {
        ClaimKind::Text { max_chars } => ("text", json!({ "max_chars": max_chars })),
        ClaimKind::Mask(masks) => ("mask", json!({ "masks": masks })),
        ClaimKind::Code { max_chars } => ("code", json!({ "max_chars": max_chars })),
        ClaimKind::Date => ("date", json!({})),
        ClaimKind::Integer { min, max } => ("integer", json!({ "min": min, "max": max })),
        ClaimKind::Boolean => ("boolean", json!({})),
        ClaimKind::OneOf(values) => ("one_of", json!({ "values": values })),
        ClaimKind::Object(_) => ("object", json!({})),
        ClaimKind::List(list) => (
            "array",
            json!({ "min_items": list.min_items, "max_items": list.max_items }),
        ),
    };
    out.insert("type".to_owned(), Value::from(kind));
    if let Value::Object(bounds) = bounds {
        out.extend(bounds);
    }
    if node.computed {
        out.insert("required".to_owned(), Value::Bool(false));
        out.insert("computed".to_owned(), Value::Bool(true));
    } else {
        out.insert("required".to_owned(), Value::Bool(node.mandatory));
    }
    Value::Object(out)
}
