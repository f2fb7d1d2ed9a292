//! Claim schemas: how a document type describes its claims (kind, required or optional,
//! selectively disclosable or always visible), cross-claim rules, and the strict validation
//! of an issuer's claims against them.
//!
//! Error messages name the claim path (`driving_privileges[0].class`) but never echo a
//! value: claims are personal data and errors end up in logs.

use std::fmt::{self, Write as _};

use serde_json::{Map, Value};

use super::Label;
use super::age::CivilDate;

/// Longest object key quoted in an error message; longer (unknown, untrusted) keys are cut.
const MAX_KEY_IN_ERROR: usize = 64;

/// Claim names the SD-JWT VC layer sets itself or that SD-JWT reserves; a document's claims
/// may not use them at any depth (draft-ietf-oauth-sd-jwt-vc, Registered JWT Claims;
/// RFC 9901 for `_sd`, `_sd_alg` and `...`).
pub const RESERVED_CLAIM_NAMES: &[&str] = &[
    "iss",
    "sub",
    "iat",
    "nbf",
    "exp",
    "cnf",
    "vct",
    "vct#integrity",
    "aka_vcts",
    "status",
    "_sd",
    "_sd_alg",
    "...",
];

/// Whether a claim is selectively disclosable, in the terms of the Type Metadata `sd` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sd {
    /// The issuer puts the claim into its own Disclosure (`sd: "always"`).
    Always,
    /// The claim is always visible once its parent is (`sd: "never"`).
    Never,
}

impl Sd {
    /// The Type Metadata spelling: `"always"` or `"never"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Sd::Always => "always",
            Sd::Never => "never",
        }
    }
}

/// Who provides a claim's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The issuing agency supplies it.
    Issuer,
    /// The catalogue computes it in [`super::DocumentType::prepare_claims`]; an issuer that
    /// supplies it is refused.
    Computed,
}

/// The value a claim holds.
#[derive(Debug, Clone, Copy)]
pub enum ClaimKind {
    /// Free text: non-empty, not only whitespace, no control characters, at most
    /// `max_chars` characters.
    Text {
        /// Longest accepted value, in characters.
        max_chars: usize,
    },
    /// A fixed-format code matching one of the masks: `9` is an ASCII digit, `A` an
    /// uppercase ASCII letter, any other character stands for itself.
    Mask(&'static [&'static str]),
    /// An identifier such as a plate or chassis number: 1 to `max_chars` characters, ASCII
    /// uppercase letters, digits, `-`, `.` and `/`, starting with a letter or digit.
    Code {
        /// Longest accepted value, in characters.
        max_chars: usize,
    },
    /// A calendar date written `YYYY-MM-DD`.
    Date,
    /// A JSON integer within `min..=max`.
    Integer {
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
    },
    /// A JSON boolean.
    Boolean,
    /// One of a closed set of strings.
    OneOf(&'static [&'static str]),
    /// A JSON object with exactly these sub-claims (no others).
    Object(&'static [ClaimSpec]),
    /// A JSON array.
    List(&'static ListSpec),
}

impl ClaimKind {
    /// Short English description of the kind, used in error messages.
    pub fn describe(&self) -> &'static str {
        match self {
            ClaimKind::Text { .. } => "a text string",
            ClaimKind::Mask(_) => "a code string",
            ClaimKind::Code { .. } => "an identifier string",
            ClaimKind::Date => "a date string YYYY-MM-DD",
            ClaimKind::Integer { .. } => "an integer",
            ClaimKind::Boolean => "a boolean",
            ClaimKind::OneOf(_) => "a string",
            ClaimKind::Object(_) => "an object",
            ClaimKind::List(_) => "an array",
        }
    }
}

/// The elements of a [`ClaimKind::List`].
#[derive(Debug, Clone, Copy)]
pub struct ListSpec {
    /// What every element holds.
    pub item: ClaimKind,
    /// Fewest elements accepted.
    pub min_items: usize,
    /// Most elements accepted.
    pub max_items: usize,
    /// Whether each element is its own Disclosure (a holder may show some elements only).
    /// `Never` for lists where leaving an element out would mislead the verifier.
    pub item_sd: Sd,
}

/// One claim of a document type (or a sub-claim of an object claim).
#[derive(Debug, Clone, Copy)]
pub struct ClaimSpec {
    /// The JSON property name.
    pub name: &'static str,
    /// Vietnamese and English display labels.
    pub label: Label,
    /// The value it holds.
    pub kind: ClaimKind,
    /// Whether the claim must be present (for computed claims: always added).
    pub required: bool,
    /// Whether the claim itself is selectively disclosable.
    pub sd: Sd,
    /// Who provides the value.
    pub origin: Origin,
}

impl ClaimSpec {
    /// A required, selectively disclosable claim supplied by the issuer.
    pub const fn new(
        name: &'static str,
        vi: &'static str,
        en: &'static str,
        kind: ClaimKind,
    ) -> Self {
        ClaimSpec {
            name,
            label: Label { vi, en },
            kind,
            required: true,
            sd: Sd::Always,
            origin: Origin::Issuer,
        }
    }

    /// The same claim, but optional.
    pub const fn optional(self) -> Self {
        ClaimSpec {
            required: false,
            ..self
        }
    }

    /// The same claim, but always visible once its parent is (never its own Disclosure).
    pub const fn visible(self) -> Self {
        ClaimSpec {
            sd: Sd::Never,
            ..self
        }
    }

    /// The same claim, but computed by the catalogue rather than supplied by the issuer.
    pub const fn computed(self) -> Self {
        ClaimSpec {
            origin: Origin::Computed,
            ..self
        }
    }
}

/// A rule across claims, checked after every claim has passed its own schema.
///
/// `object` is a claim path in the catalogue's `/` syntax naming the object(s) the rule
/// applies to: `""` for the top level, `"driving_privileges/*"` for every element.
#[derive(Debug, Clone, Copy)]
pub enum Rule {
    /// The date `earlier` is not after the date `later` (checked when both are present).
    NotAfter {
        /// Where the two sibling dates live.
        object: &'static str,
        /// The date that comes first.
        earlier: &'static str,
        /// The date that comes second.
        later: &'static str,
    },
    /// The list `list` is present and non-empty exactly when the boolean `flag` is true.
    ListWhenFlag {
        /// Where the flag and the list live.
        object: &'static str,
        /// The boolean claim.
        flag: &'static str,
        /// The list claim.
        list: &'static str,
    },
}

/// Why a document's claims were refused. Every message starts with the claim path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// The claims are not a JSON object.
    #[error("claims: expected a JSON object")]
    NotAnObject,
    /// A required claim is absent.
    #[error("{path}: required claim is missing")]
    Missing {
        /// Path of the claim.
        path: String,
    },
    /// A claim the document type does not define.
    #[error("{path}: unknown claim for this document type")]
    Unknown {
        /// Path of the claim.
        path: String,
    },
    /// A claim name reserved for the SD-JWT VC envelope.
    #[error("{path}: reserved claim name, set by the credential envelope, not the document")]
    Reserved {
        /// Path of the claim.
        path: String,
    },
    /// A claim the catalogue computes was supplied by the issuer.
    #[error("{path}: computed at issuance, must not be supplied")]
    Computed {
        /// Path of the claim.
        path: String,
    },
    /// The value has the wrong JSON type.
    #[error("{path}: expected {expected}")]
    WrongType {
        /// Path of the claim.
        path: String,
        /// What was expected.
        expected: &'static str,
    },
    /// A string that is empty, blank or contains control characters.
    #[error("{path}: must be non-blank text without control characters")]
    BadText {
        /// Path of the claim.
        path: String,
    },
    /// A string or array longer than allowed.
    #[error("{path}: too long, at most {max} {unit}")]
    TooLong {
        /// Path of the claim.
        path: String,
        /// The bound.
        max: usize,
        /// `characters` or `elements`.
        unit: &'static str,
    },
    /// An array with fewer elements than required.
    #[error("{path}: too few elements, at least {min}")]
    TooShort {
        /// Path of the claim.
        path: String,
        /// The bound.
        min: usize,
    },
    /// A code or identifier in the wrong format.
    #[error("{path}: wrong format, expected {expected}")]
    BadFormat {
        /// Path of the claim.
        path: String,
        /// The accepted format(s).
        expected: String,
    },
    /// Not a real calendar date in the form `YYYY-MM-DD`.
    #[error("{path}: not a calendar date in the form YYYY-MM-DD")]
    BadDate {
        /// Path of the claim.
        path: String,
    },
    /// An integer outside its range.
    #[error("{path}: out of range, expected {min} to {max}")]
    OutOfRange {
        /// Path of the claim.
        path: String,
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
    },
    /// A value outside a closed set.
    #[error("{path}: value not allowed, expected one of {}", allowed.join(", "))]
    NotAllowed {
        /// Path of the claim.
        path: String,
        /// The accepted values.
        allowed: &'static [&'static str],
    },
    /// Two dates in the wrong order.
    #[error("{path}: must not be before {earlier}")]
    DateOrder {
        /// Path of the later date.
        path: String,
        /// Name of the sibling date it must not precede.
        earlier: &'static str,
    },
    /// A list that disagrees with its flag.
    #[error("{path}: must be present and non-empty exactly when {flag} is true")]
    FlagMismatch {
        /// Path of the list.
        path: String,
        /// Name of the sibling flag.
        flag: &'static str,
    },
    /// A birth date after the issuance day.
    #[error("{path}: is after the issuance date")]
    InFuture {
        /// Path of the claim.
        path: String,
    },
}

/// Where a value sits in the claims, as a parent-linked chain (no allocation while
/// validating; rendered only for an error).
#[derive(Clone, Copy)]
pub(crate) struct Loc<'a> {
    parent: Option<&'a Loc<'a>>,
    step: Step<'a>,
}

#[derive(Clone, Copy)]
enum Step<'a> {
    Root,
    Key(&'a str),
    Index(usize),
}

impl<'a> Loc<'a> {
    pub(crate) const ROOT: Loc<'static> = Loc {
        parent: None,
        step: Step::Root,
    };

    pub(crate) fn key(&'a self, key: &'a str) -> Loc<'a> {
        Loc {
            parent: Some(self),
            step: Step::Key(key),
        }
    }

    fn index(&'a self, index: usize) -> Loc<'a> {
        Loc {
            parent: Some(self),
            step: Step::Index(index),
        }
    }

    pub(crate) fn path(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Loc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at_root = match self.parent {
            Some(parent) => {
                parent.fmt(f)?;
                matches!(parent.step, Step::Root)
            }
            None => true,
        };
        match self.step {
            Step::Root => Ok(()),
            Step::Index(i) => write!(f, "[{i}]"),
            Step::Key(key) => {
                if !at_root {
                    f.write_str(".")?;
                }
                for (n, c) in key.chars().enumerate() {
                    if n == MAX_KEY_IN_ERROR {
                        return f.write_str("…");
                    }
                    f.write_char(if c.is_control() { '?' } else { c })?;
                }
                Ok(())
            }
        }
    }
}

/// Validates `obj` against `specs`: no reserved, unknown or computed names, every required
/// issuer claim present, every value of its kind. Every fault is pushed to `errors` (a
/// publisher learns all of them at once), in claim order.
pub(crate) fn validate_object(
    specs: &[ClaimSpec],
    obj: &Map<String, Value>,
    loc: &Loc<'_>,
    errors: &mut Vec<SchemaError>,
) {
    for key in obj.keys() {
        let here = loc.key(key);
        if RESERVED_CLAIM_NAMES.contains(&key.as_str()) {
            errors.push(SchemaError::Reserved { path: here.path() });
            continue;
        }
        match specs.iter().find(|spec| spec.name == key) {
            None => errors.push(SchemaError::Unknown { path: here.path() }),
            Some(spec) if spec.origin == Origin::Computed => {
                errors.push(SchemaError::Computed { path: here.path() });
            }
            Some(_) => {}
        }
    }
    for spec in specs {
        let here = loc.key(spec.name);
        match obj.get(spec.name) {
            // A computed claim given was reported above.
            Some(value) if spec.origin == Origin::Issuer => {
                validate_value(&spec.kind, value, &here, errors);
            }
            None if spec.required && spec.origin == Origin::Issuer => {
                errors.push(SchemaError::Missing { path: here.path() });
            }
            _ => {}
        }
    }
}

fn validate_value(kind: &ClaimKind, value: &Value, loc: &Loc<'_>, errors: &mut Vec<SchemaError>) {
    if let Err(error) = check_value(kind, value, loc, errors) {
        errors.push(error);
    }
}

/// The fault of one value (its members' faults go to `errors` directly).
fn check_value(
    kind: &ClaimKind,
    value: &Value,
    loc: &Loc<'_>,
    errors: &mut Vec<SchemaError>,
) -> Result<(), SchemaError> {
    let wrong_type = || SchemaError::WrongType {
        path: loc.path(),
        expected: kind.describe(),
    };
    match kind {
        ClaimKind::Text { max_chars } => {
            let s = value.as_str().ok_or_else(wrong_type)?;
            check_length(s, *max_chars, loc)?;
            if s.trim().is_empty() || s.chars().any(char::is_control) {
                return Err(SchemaError::BadText { path: loc.path() });
            }
        }
        ClaimKind::Mask(masks) => {
            let s = value.as_str().ok_or_else(wrong_type)?;
            if !masks.iter().any(|mask| matches_mask(s, mask)) {
                return Err(SchemaError::BadFormat {
                    path: loc.path(),
                    expected: format!("{} (9 = digit, A = capital letter)", masks.join(" or ")),
                });
            }
        }
        ClaimKind::Code { max_chars } => {
            let s = value.as_str().ok_or_else(wrong_type)?;
            check_length(s, *max_chars, loc)?;
            if !is_code(s) {
                return Err(SchemaError::BadFormat {
                    path: loc.path(),
                    expected:
                        "capital letters, digits, '-', '.' or '/', starting with a letter or digit"
                            .to_owned(),
                });
            }
        }
        ClaimKind::Date => {
            let s = value.as_str().ok_or_else(wrong_type)?;
            if CivilDate::parse(s).is_none() {
                return Err(SchemaError::BadDate { path: loc.path() });
            }
        }
        ClaimKind::Integer { min, max } => {
            let n = value.as_i64().ok_or_else(wrong_type)?;
            if n < *min || n > *max {
                return Err(SchemaError::OutOfRange {
                    path: loc.path(),
                    min: *min,
                    max: *max,
                });
            }
        }
        ClaimKind::Boolean => {
            value.as_bool().ok_or_else(wrong_type)?;
        }
        ClaimKind::OneOf(allowed) => {
            let s = value.as_str().ok_or_else(wrong_type)?;
            if !allowed.contains(&s) {
                return Err(SchemaError::NotAllowed {
                    path: loc.path(),
                    allowed,
                });
            }
        }
        ClaimKind::Object(specs) => {
            let obj = value.as_object().ok_or_else(wrong_type)?;
            validate_object(specs, obj, loc, errors);
        }
        ClaimKind::List(list) => {
            let items = value.as_array().ok_or_else(wrong_type)?;
            if items.len() > list.max_items {
                return Err(SchemaError::TooLong {
                    path: loc.path(),
                    max: list.max_items,
                    unit: "elements",
                });
            }
            if items.len() < list.min_items {
                return Err(SchemaError::TooShort {
                    path: loc.path(),
                    min: list.min_items,
                });
            }
            for (i, item) in items.iter().enumerate() {
                validate_value(&list.item, item, &loc.index(i), errors);
            }
        }
    }
    Ok(())
}

fn check_length(s: &str, max_chars: usize, loc: &Loc<'_>) -> Result<(), SchemaError> {
    // A UTF-8 character is at most 4 bytes: past that, no need to count.
    if s.len() > max_chars.saturating_mul(4) || s.chars().count() > max_chars {
        return Err(SchemaError::TooLong {
            path: loc.path(),
            max: max_chars,
            unit: "characters",
        });
    }
    Ok(())
}

fn matches_mask(s: &str, mask: &str) -> bool {
    s.len() == mask.len()
        && s.bytes().zip(mask.bytes()).all(|(c, m)| match m {
            b'9' => c.is_ascii_digit(),
            b'A' => c.is_ascii_uppercase(),
            _ => c == m,
        })
}

fn is_code(s: &str) -> bool {
    s.bytes()
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && s.bytes().all(|c| {
            c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, b'-' | b'.' | b'/')
        })
}

/// Checks the cross-claim rules on claims that already passed [`validate_object`] (with no
/// fault).
pub(crate) fn check_rules(rules: &[Rule], claims: &Map<String, Value>) -> Result<(), SchemaError> {
    for rule in rules {
        let object = match rule {
            Rule::NotAfter { object, .. } | Rule::ListWhenFlag { object, .. } => object,
        };
        let segments: Vec<&str> = object.split('/').filter(|s| !s.is_empty()).collect();
        for_each_object(claims, &segments, &Loc::ROOT, &mut |obj, loc| {
            check_rule(rule, obj, loc)
        })?;
    }
    Ok(())
}

fn check_rule(rule: &Rule, obj: &Map<String, Value>, loc: &Loc<'_>) -> Result<(), SchemaError> {
    match *rule {
        Rule::NotAfter { earlier, later, .. } => {
            let date = |name: &str| {
                obj.get(name)
                    .and_then(Value::as_str)
                    .and_then(CivilDate::parse)
            };
            if let (Some(first), Some(second)) = (date(earlier), date(later))
                && first > second
            {
                return Err(SchemaError::DateOrder {
                    path: loc.key(later).path(),
                    earlier,
                });
            }
        }
        Rule::ListWhenFlag { flag, list, .. } => {
            let flagged = obj.get(flag).and_then(Value::as_bool).unwrap_or(false);
            let listed = obj
                .get(list)
                .and_then(Value::as_array)
                .is_some_and(|l| !l.is_empty());
            if flagged != listed {
                return Err(SchemaError::FlagMismatch {
                    path: loc.key(list).path(),
                    flag,
                });
            }
        }
    }
    Ok(())
}

/// A check run on one object of the claims, given where it sits.
type ObjectVisitor<'f> = dyn FnMut(&Map<String, Value>, &Loc<'_>) -> Result<(), SchemaError> + 'f;

/// Calls `f` on every object reached from `obj` by `segments` (`*` = every array element);
/// paths that lead nowhere (an optional claim left out) reach nothing.
fn for_each_object(
    obj: &Map<String, Value>,
    segments: &[&str],
    loc: &Loc<'_>,
    f: &mut ObjectVisitor<'_>,
) -> Result<(), SchemaError> {
    let Some((first, rest)) = segments.split_first() else {
        return f(obj, loc);
    };
    let Some(value) = obj.get(*first) else {
        return Ok(());
    };
    let here = loc.key(first);
    match (value, rest.split_first()) {
        (Value::Object(inner), _) => for_each_object(inner, rest, &here, f),
        (Value::Array(items), Some((&"*", rest))) => {
            for (i, item) in items.iter().enumerate() {
                if let Value::Object(inner) = item {
                    for_each_object(inner, rest, &here.index(i), f)?;
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_match_digits_letters_and_literals() {
        assert!(matches_mask("001090012345", "999999999999"));
        assert!(!matches_mask("00109001234", "999999999999"));
        assert!(!matches_mask("00109001234a", "999999999999"));
        assert!(matches_mask("DN4010123456789", "AA9999999999999"));
        assert!(!matches_mask("dn4010123456789", "AA9999999999999"));
        assert!(matches_mask("01-001", "99-999"));
        assert!(!matches_mask("01/001", "99-999"));
        // Multi-byte characters never match a single-byte mask position.
        assert!(!matches_mask("٠٠", "99"));
    }

    #[test]
    fn codes_are_capital_alphanumerics_with_separators() {
        assert!(is_code("30A-123.45"));
        assert!(is_code("RLHJF8101KY123456"));
        assert!(is_code("123/2024/HS-ST"));
        assert!(!is_code(""));
        assert!(!is_code("-30A"));
        assert!(!is_code("30a-123"));
        assert!(!is_code("30A 123"));
    }

    #[test]
    fn locations_render_as_dotted_paths_with_indices() {
        let root = Loc::ROOT;
        let list = root.key("driving_privileges");
        let item = list.index(2);
        let class = item.key("class");
        assert_eq!(class.path(), "driving_privileges[2].class");
        assert_eq!(root.key("a\nb").path(), "a?b");
        let long = "x".repeat(100);
        assert_eq!(root.key(&long).path(), format!("{}…", "x".repeat(64)));
    }
}
