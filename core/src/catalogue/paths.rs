//! Claim paths: the schema flattened into one node per claim, sub-claim and array element,
//! and the catalogue's path syntax shared with the SD-JWT issuer and presenter: property
//! names joined by `/`, with `*` for every element of an array (`driving_privileges/*/class`).

use super::Label;
use super::schema::{ClaimKind, ClaimSpec, Origin, Sd};

/// One step of a claim path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment<'a> {
    /// An object property.
    Key(&'a str),
    /// Every element of an array (`*` in the path syntax, `null` in Type Metadata).
    Each,
}

/// A claim, sub-claim or array element of a document type's schema.
#[derive(Debug, Clone)]
pub struct Node {
    /// Where it sits.
    pub path: Vec<Segment<'static>>,
    /// The claim's labels; `None` for an array element.
    pub label: Option<Label>,
    /// Whether it is its own Disclosure.
    pub sd: Sd,
    /// Whether it is always present when its parent is.
    pub mandatory: bool,
    /// The value it holds.
    pub kind: &'static ClaimKind,
    /// Whether the catalogue computes it at issuance (a publish request must not carry it).
    pub computed: bool,
}

impl Node {
    /// The path in the catalogue's `/` syntax.
    pub fn path_string(&self) -> String {
        join(&self.path)
    }
}

/// Joins segments into the `/` syntax.
pub fn join(path: &[Segment<'_>]) -> String {
    let mut out = String::new();
    for (i, segment) in path.iter().enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.push_str(match segment {
            Segment::Key(key) => key,
            Segment::Each => "*",
        });
    }
    out
}

/// Every node of `specs`, depth first, each parent before its children, in schema order.
pub fn nodes(specs: &'static [ClaimSpec]) -> Vec<Node> {
    let mut out = Vec::new();
    collect(specs, &mut Vec::new(), &mut out);
    out
}

fn collect(specs: &'static [ClaimSpec], prefix: &mut Vec<Segment<'static>>, out: &mut Vec<Node>) {
    for spec in specs {
        prefix.push(Segment::Key(spec.name));
        out.push(Node {
            path: prefix.clone(),
            label: Some(spec.label),
            sd: spec.sd,
            mandatory: spec.required,
            kind: &spec.kind,
            computed: spec.origin == Origin::Computed,
        });
        collect_kind(&spec.kind, prefix, out);
        prefix.pop();
    }
}

fn collect_kind(kind: &'static ClaimKind, prefix: &mut Vec<Segment<'static>>, out: &mut Vec<Node>) {
    match kind {
        ClaimKind::Object(specs) => collect(specs, prefix, out),
        ClaimKind::List(list) => {
            prefix.push(Segment::Each);
            out.push(Node {
                path: prefix.clone(),
                label: None,
                sd: list.item_sd,
                mandatory: false,
                kind: &list.item,
                computed: false,
            });
            collect_kind(&list.item, prefix, out);
            prefix.pop();
        }
        _ => {}
    }
}

/// The spec a path names, or `None` when the path leaves the schema. Array steps are
/// optional: `[list, "0", field]`, `[list, "*", field]` and `[list, field]` (the keys of
/// a processed claim path with its positions left out) all name `field`, and a path
/// ending on an array step names the array.
pub fn find_spec(specs: &'static [ClaimSpec], path: &[&str]) -> Option<&'static ClaimSpec> {
    let (first, mut rest) = path.split_first()?;
    let mut spec = specs.iter().find(|s| s.name == *first)?;
    let mut kind = &spec.kind;
    while let Some((step, tail)) = rest.split_first() {
        match kind {
            ClaimKind::List(list) => {
                kind = &list.item;
                if *step == "*" || step.parse::<usize>().is_ok() {
                    rest = tail;
                }
            }
            ClaimKind::Object(members) => {
                spec = members.iter().find(|s| s.name == *step)?;
                kind = &spec.kind;
                rest = tail;
            }
            _ => return None,
        }
    }
    Some(spec)
}

/// Whether `prefix` is `path` or one of its ancestors.
pub fn is_prefix(prefix: &[Segment<'_>], path: &[Segment<'_>]) -> bool {
    prefix.len() <= path.len() && prefix.iter().zip(path).all(|(a, b)| a == b)
}

/// Splits a path in the `/` syntax into segments.
pub fn parse(path: &str) -> Vec<Segment<'_>> {
    path.split('/')
        .map(|s| {
            if s == "*" {
                Segment::Each
            } else {
                Segment::Key(s)
            }
        })
        .collect()
}
