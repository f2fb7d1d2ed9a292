//! SD-JWT VC Type Metadata (draft-ietf-oauth-sd-jwt-vc, "SD-JWT VC Type Metadata") for a
//! document type: `vct`, developer `name` and `description`, `display` per locale (`vi`,
//! `en`), and one `claims` entry per claim path with `display` labels, `mandatory` and `sd`.

use serde_json::{Map, Value, json};

use super::DocumentType;
use super::paths::{self, Segment};

/// The locales every label is published in, in this order.
pub const LOCALES: [&str; 2] = ["vi", "en"];

/// Builds the Type Metadata document of `doc`.
///
/// Claim paths are arrays of property names with `null` for "every element of the array"
/// (section "Claim Path"). `mandatory` is written only when true, as its default is false;
/// `sd` is always written, as `always` or `never` (the draft recommends against leaving it
/// to the `allowed` default). Array element entries carry no `display`: the array's own
/// entry labels them.
pub(crate) fn type_metadata(doc: &DocumentType) -> Value {
    let display: Vec<Value> = LOCALES
        .iter()
        .map(|locale| {
            json!({
                "locale": locale,
                "name": doc.name.get(locale),
                "description": doc.description.get(locale),
            })
        })
        .collect();
    let claims: Vec<Value> = paths::nodes(doc.claims)
        .iter()
        .map(|node| {
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
            if let Some(label) = node.label {
                let labels: Vec<Value> = LOCALES
                    .iter()
                    .map(|locale| json!({ "locale": locale, "label": label.get(locale) }))
                    .collect();
                entry.insert("display".to_owned(), Value::Array(labels));
            }
            if node.mandatory {
                entry.insert("mandatory".to_owned(), Value::Bool(true));
            }
            entry.insert("sd".to_owned(), Value::from(node.sd.as_str()));
            Value::Object(entry)
        })
        .collect();
    json!({
        "vct": doc.vct,
        "name": format!("giayto {}", doc.name.en),
        "description": doc.description.en,
        "display": display,
        "claims": claims,
    })
}
