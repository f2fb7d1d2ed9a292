//! Claim paths: where a claim sits inside a payload, and the `a/*/b` pattern syntax used to
//! declare disclosable claims and to select them for a presentation.

use std::fmt;

use super::SdJwtError;

/// One step of a concrete claim path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathSegment {
    /// An object property.
    Key(String),
    /// An array element (its position in the processed array).
    Index(usize),
}

/// A concrete path to a claim, from the payload root.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ClaimPath(pub Vec<PathSegment>);

impl ClaimPath {
    /// This path extended by one segment.
    pub fn child(&self, segment: PathSegment) -> ClaimPath {
        let mut segments = Vec::with_capacity(self.0.len() + 1);
        segments.extend_from_slice(&self.0);
        segments.push(segment);
        ClaimPath(segments)
    }

    /// The path in pattern syntax: keys joined by `/`, array indices as `*`.
    pub fn pattern(&self) -> String {
        let mut out = String::new();
        for (i, segment) in self.0.iter().enumerate() {
            if i > 0 {
                out.push('/');
            }
            match segment {
                PathSegment::Key(k) => out.push_str(k),
                PathSegment::Index(_) => out.push('*'),
            }
        }
        out
    }

    /// The keys of the path, with array positions left out (for label look-ups).
    pub fn keys(&self) -> Vec<&str> {
        self.0
            .iter()
            .filter_map(|s| match s {
                PathSegment::Key(k) => Some(k.as_str()),
                PathSegment::Index(_) => None,
            })
            .collect()
    }
}

impl fmt::Display for ClaimPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                PathSegment::Key(k) if i == 0 => write!(f, "{k}")?,
                PathSegment::Key(k) => write!(f, ".{k}")?,
                PathSegment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A parsed pattern: `Some(name)` for a key, `None` for `*`.
pub(crate) type Pattern = Vec<Option<String>>;

/// Parses `a/*/b` into a pattern.
pub(crate) fn parse_pattern(text: &str) -> Result<Pattern, SdJwtError> {
    if text.is_empty() {
        return Err(SdJwtError::InvalidPath(text.into()));
    }
    text.split('/')
        .map(|segment| match segment {
            "" => Err(SdJwtError::InvalidPath(text.into())),
            "*" => Ok(None),
            key => Ok(Some(key.to_owned())),
        })
        .collect()
}

/// Whether `pattern` matches the first `pattern.len()` segments of `path` exactly in
/// length `path.len()`.
pub(crate) fn matches(pattern: &[Option<String>], path: &[PathSegment]) -> bool {
    pattern.len() == path.len() && is_prefix(pattern, path)
}

/// Whether `pattern` matches a prefix of `path` (the path is the pattern or below it).
pub(crate) fn is_prefix(pattern: &[Option<String>], path: &[PathSegment]) -> bool {
    pattern.len() <= path.len()
        && pattern.iter().zip(path).all(|(p, s)| match (p, s) {
            (None, PathSegment::Index(_)) => true,
            (Some(k), PathSegment::Key(name)) => k == name,
            _ => false,
        })
}

/// Whether `path` is a prefix of what `pattern` matches (the path is an ancestor).
pub(crate) fn is_ancestor(path: &[PathSegment], pattern: &[Option<String>]) -> bool {
    path.len() < pattern.len() && is_prefix(&pattern[..path.len()], path)
}
