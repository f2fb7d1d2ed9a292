//! The `representation` claim ([`crate::sd_jwt_vc::REPRESENTATION_CLAIM`], issue 14) as a
//! wallet or verifier shows it: a guardian's copy of a child's document names who holds it
//! (`representative`: personal id, full name), on what basis (`legal_basis`) and until
//! when (`valid_until`, Unix seconds). It belongs to no document type's schema (the issuer
//! adds it beside any document's claims), so its labels are here, in Vietnamese and
//! English, and [`DocumentType::claim_label`](super::DocumentType::claim_label) falls back
//! to them.

use super::Label;
use super::common::{FULL_NAME, LONG_TEXT, PERSONAL_ID};
use super::paths;
use super::schema::{ClaimKind, ClaimSpec};

/// The claim and its members, labelled.
static REPRESENTATION: [ClaimSpec; 1] = [ClaimSpec::new(
    "representation",
    "Đại diện",
    "Representation",
    ClaimKind::Object(&[
        ClaimSpec::new(
            "type",
            "Hình thức đại diện",
            "Type of representation",
            ClaimKind::OneOf(&["guardian"]),
        ),
        ClaimSpec::new(
            "representative",
            "Người đại diện",
            "Representative",
            // Labelled as the representative's: beside the child's own claims (the
            // child's `full_name`), "Full name" twice would not say whose is whose.
            ClaimKind::Object(&[
                ClaimSpec::new(
                    "personal_id",
                    "Người đại diện – số định danh cá nhân",
                    "Representative's personal identification number",
                    PERSONAL_ID.kind,
                ),
                ClaimSpec::new(
                    "full_name",
                    "Người đại diện – họ, chữ đệm và tên",
                    "Representative's full name",
                    FULL_NAME.kind,
                ),
            ]),
        ),
        ClaimSpec::new("legal_basis", "Căn cứ pháp lý", "Legal basis", LONG_TEXT),
        ClaimSpec::new(
            "valid_until",
            "Đại diện đến",
            "Representation valid until",
            ClaimKind::Integer {
                min: 0,
                max: i64::MAX,
            },
        ),
    ]),
)];

/// The claims, by the path a wallet and verifier show (`representation.valid_until`), whose
/// value is a Unix time (seconds since 1970-01-01T00:00:00Z): to be shown as a date.
pub const UNIX_TIME_CLAIMS: &[&str] = &["representation.valid_until"];

/// The labels of the `representation` claim or one of its members at `path` (property
/// names, as [`DocumentType::claim_label`](super::DocumentType::claim_label) takes them);
/// `None` for any other path.
pub fn label(path: &[&str]) -> Option<Label> {
    paths::find_spec(&REPRESENTATION, path).map(|spec| spec.label)
}

/// Whether the claim at `path` (as shown: `representation.valid_until`) holds a Unix time
/// ([`UNIX_TIME_CLAIMS`]).
pub fn is_unix_time(path: &str) -> bool {
    UNIX_TIME_CLAIMS.contains(&path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_member_is_labelled_in_both_languages() {
        for (path, vi, en) in [
            (&["representation"][..], "Đại diện", "Representation"),
            (
                &["representation", "type"][..],
                "Hình thức đại diện",
                "Type of representation",
            ),
            (
                &["representation", "representative", "personal_id"][..],
                "Người đại diện – số định danh cá nhân",
                "Representative's personal identification number",
            ),
            (
                &["representation", "representative", "full_name"][..],
                "Người đại diện – họ, chữ đệm và tên",
                "Representative's full name",
            ),
            (
                &["representation", "legal_basis"][..],
                "Căn cứ pháp lý",
                "Legal basis",
            ),
            (
                &["representation", "valid_until"][..],
                "Đại diện đến",
                "Representation valid until",
            ),
        ] {
            assert_eq!(label(path), Some(Label { vi, en }), "{path:?}");
        }
        assert_eq!(label(&["full_name"]), None);
        assert!(is_unix_time("representation.valid_until"));
        assert!(!is_unix_time("birth_date"));
    }
}
