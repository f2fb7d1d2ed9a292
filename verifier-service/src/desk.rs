//! The desk page: plain HTML, CSS and JavaScript embedded in the binary (no build step),
//! and the catalogue the clerk picks from (document types and presets, vi/en labels).

use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use giayto_core::catalogue;
use serde_json::{Value, json};

const PAGE: &str = include_str!("../assets/desk.html");
const SCRIPT: &str = include_str!("../assets/desk.js");
const STYLE: &str = include_str!("../assets/desk.css");

/// The page.
pub fn page() -> Html<&'static str> {
    Html(PAGE)
}

/// A static asset by name (`desk.js`, `desk.css`).
pub fn asset(name: &str) -> Response {
    match name {
        "desk.js" => (
            [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
            SCRIPT,
        )
            .into_response(),
        "desk.css" => ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response(),
        _ => axum::http::StatusCode::NOT_FOUND.into_response(),
    }
}

/// Every catalogue document with its presets: `[{"id", "name": {"vi","en"}, "presets":
/// [{"name", "label": {"vi","en"}}]}]`, in catalogue order, plus each document's claim
/// labels by claim name for the verdict (the verdict carries labels already).
pub fn catalogue() -> Value {
    Value::Array(
        catalogue::all()
            .iter()
            .map(|doc| {
                json!({
                    "id": doc.id,
                    "vct": doc.vct,
                    "name": doc.name,
                    "presets": doc.presets().iter().map(|p| json!({
                        "name": p.name,
                        "label": p.label,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

/// The names of the catalogue's word enumeration values, core's
/// ([`catalogue::enumeration_names`]): `{"guardian": {"vi": "người giám hộ", "en":
/// "guardian"}, "female": {...}, ...}`; the page shows a claim value with its names, as the
/// `giayto` command does.
pub fn value_names() -> Value {
    Value::Object(
        catalogue::enumeration_names()
            .iter()
            .map(|(value, label)| ((*value).to_owned(), json!(label)))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    /// The enumerated values come with core's names in both languages, and the page
    /// loads them and uses them for claim values.
    #[test]
    fn the_page_names_enumerated_values_as_core_does() {
        let names = super::value_names();
        assert_eq!(
            names["guardian"],
            serde_json::json!({"vi": "người giám hộ", "en": "guardian"})
        );
        assert_eq!(
            names["female"],
            serde_json::json!({"vi": "nữ", "en": "female"})
        );
        assert!(super::SCRIPT.contains("fetch(\"/api/value-names\")"));
        assert!(super::SCRIPT.contains("const names = valueNames[v];"));
    }

    /// The page shows a `representation.valid_until` (Unix seconds) as a date: its list of
    /// such claims is core's.
    #[test]
    fn the_page_knows_every_unix_time_claim() {
        let list = giayto_core::catalogue::representation::UNIX_TIME_CLAIMS
            .iter()
            .map(|path| format!("{path:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        assert!(
            super::SCRIPT.contains(&format!("const UNIX_TIME_CLAIMS = [{list}];")),
            "desk.js's UNIX_TIME_CLAIMS is not [{list}]"
        );
    }
}
