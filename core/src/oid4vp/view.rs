//! What the consent screen gets: who asks (registered names or "not registered"), where
//! the answer goes, each document that would be shared with every claim it shows (labels
//! from the catalogue, in catalogue order, and values), and the warnings to show.

use serde::Serialize;
use serde_json::Value;

use super::Registration;
use super::dcql::PathElement;
use crate::catalogue::{self, Purpose};
use crate::sd_jwt::ClaimPath;
use crate::trust_list::IssuerName;
use crate::verifier::Names;

/// A request as the holder must see it before consenting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestView {
    /// The verifier's client identifier (`x509_hash:…`).
    pub client_id: String,
    /// Its registered names, `None` when it is not registered.
    pub verifier_name: Option<IssuerName>,
    /// `within`, `beyond` or `not_registered`.
    pub registration: &'static str,
    /// The host the answer is sent to (from `response_uri`).
    pub response_host: String,
    /// The documents that would be shared.
    pub documents: Vec<SharedDocument>,
    /// What to warn about, in Vietnamese and English.
    pub warnings: Vec<Warning>,
    /// When the request expires, Unix seconds.
    pub expires_at: i64,
}

/// One document the answer would show.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SharedDocument {
    /// The Credential Query it answers.
    pub query_id: String,
    /// The document's wallet id.
    pub document_id: String,
    /// The credential's `vct`.
    pub vct: String,
    /// The type's names (a purpose credential's include the purpose).
    pub name: Option<Names>,
    /// Whether a purpose credential answers (unlinkable, holds only the preset's claims).
    pub purpose_credential: bool,
    /// Whether it answers only an optional part of the request.
    pub optional: bool,
    /// Every claim it shows, in catalogue order.
    pub claims: Vec<SharedClaim>,
}

/// One claim shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SharedClaim {
    /// Where it is (`address.province`, `driving_privileges[0].class`).
    pub path: String,
    /// Its labels, for catalogue types.
    pub label: Option<Names>,
    /// Its value.
    pub value: Value,
}

/// A warning for the consent screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// `not_registered` or `beyond_registration`.
    pub code: &'static str,
    /// In Vietnamese.
    pub vi: String,
    /// In English.
    pub en: String,
}

impl Warning {
    pub(crate) fn for_registration(registration: &Registration) -> Option<Warning> {
        match registration {
            Registration::Within { .. } => None,
            Registration::NotRegistered => Some(Warning {
                code: "not_registered",
                vi: "Bên yêu cầu không có trong danh sách đăng ký quốc gia: không rõ họ là ai."
                    .into(),
                en: "The requester is not on the national register: who they are is not known."
                    .into(),
            }),
            Registration::Beyond { beyond, .. } => {
                let (vi, en): (Vec<String>, Vec<String>) = beyond
                    .iter()
                    .map(|b| beyond_in_words(&b.vcts, &b.path))
                    .unzip();
                Some(Warning {
                    code: "beyond_registration",
                    vi: format!(
                        "Bên yêu cầu hỏi nhiều hơn phạm vi đã đăng ký: {}.",
                        vi.join(", ")
                    ),
                    en: format!(
                        "The requester asks for more than it is registered for: {}.",
                        en.join(", ")
                    ),
                })
            }
        }
    }
}

/// What a request asks beyond a registration, in plain words (Vietnamese, English): a
/// document type by its catalogue name ("Giấy phép lái xe" / "Driving licence", a purpose
/// type with its purpose), a claim by its label; the `vct` or the path only for what the
/// catalogue does not know.
fn beyond_in_words(vcts: &[String], path: &[PathElement]) -> (String, String) {
    let document = vcts.iter().find_map(|vct| {
        catalogue::by_vct(vct).or_else(|| Purpose::by_vct(vct).map(|p| p.document()))
    });
    if path.is_empty() {
        let (vi, en): (Vec<String>, Vec<String>) = vcts
            .iter()
            .map(|vct| match (catalogue::by_vct(vct), Purpose::by_vct(vct)) {
                (Some(doc), _) => (doc.name.vi.to_owned(), doc.name.en.to_owned()),
                (None, Some(purpose)) => (
                    format!(
                        "{} ({})",
                        purpose.document().name.vi,
                        purpose.preset().label.vi
                    ),
                    format!(
                        "{} ({})",
                        purpose.document().name.en,
                        purpose.preset().label.en
                    ),
                ),
                (None, None) => (vct.clone(), vct.clone()),
            })
            .unzip();
        return (vi.join(" | "), en.join(" | "));
    }
    let keys: Vec<&str> = path
        .iter()
        .filter_map(|element| match element {
            PathElement::Key(k) => Some(k.as_str()),
            _ => None,
        })
        .collect();
    match document.and_then(|doc| doc.claim_label(&keys).map(|label| (doc, label))) {
        Some((doc, label)) => (
            format!("{} ({})", label.vi, doc.name.vi),
            format!("{} ({})", label.en, doc.name.en),
        ),
        None => (pointer_text(path), pointer_text(path)),
    }
}

/// A claims path pointer as text (`address.province`, `list[*].name`).
pub fn pointer_text(path: &[PathElement]) -> String {
    let mut out = String::new();
    for element in path {
        match element {
            PathElement::Key(k) if out.is_empty() => out.push_str(k),
            PathElement::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            PathElement::Index(i) => out.push_str(&format!("[{i}]")),
            PathElement::All => out.push_str("[*]"),
        }
    }
    out
}

/// The names of a credential type: the catalogue document, or document and purpose.
pub(crate) fn type_names(vct: &str) -> Option<Names> {
    if let Some(purpose) = Purpose::by_vct(vct) {
        return Some(Names {
            vi: purpose.name("vi").into(),
            en: purpose.name("en").into(),
        });
    }
    catalogue::by_vct(vct).map(|d| d.name.into())
}

/// The shown claims of a credential of type `vct`, labelled and in catalogue order.
pub(crate) fn shared_claims(
    vct: &str,
    shown: &[ClaimPath],
    claims: &serde_json::Map<String, Value>,
) -> Vec<SharedClaim> {
    let document = catalogue::by_vct(vct).or_else(|| Purpose::by_vct(vct).map(|p| p.document()));
    let order: Vec<String> = document
        .map(|d| {
            catalogue::paths::nodes(d.claims)
                .iter()
                .map(|n| n.path_string())
                .collect()
        })
        .unwrap_or_default();
    let mut out: Vec<(usize, usize, SharedClaim)> = shown
        .iter()
        .enumerate()
        .map(|(position, path)| {
            let rank = order
                .iter()
                .position(|p| *p == path.pattern())
                .unwrap_or(usize::MAX);
            let label = document
                .and_then(|d| d.claim_label(&path.keys()))
                .map(Names::from);
            (
                rank,
                position,
                SharedClaim {
                    path: path.to_string(),
                    label,
                    value: value_at(claims, path).cloned().unwrap_or(Value::Null),
                },
            )
        })
        .collect();
    out.sort_by_key(|(rank, position, _)| (*rank, *position));
    out.into_iter().map(|(_, _, claim)| claim).collect()
}

fn value_at<'v>(claims: &'v serde_json::Map<String, Value>, path: &ClaimPath) -> Option<&'v Value> {
    let mut segments = path.0.iter();
    let first = match segments.next()? {
        crate::sd_jwt::PathSegment::Key(k) => claims.get(k)?,
        crate::sd_jwt::PathSegment::Index(_) => return None,
    };
    segments.try_fold(first, |value, segment| match segment {
        crate::sd_jwt::PathSegment::Key(k) => value.get(k),
        crate::sd_jwt::PathSegment::Index(i) => value.get(*i),
    })
}
