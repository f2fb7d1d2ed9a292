//! Claims and presets several document types share, defined once so that a birth date or
//! a personal id means, validates and reads the same on every document.

use super::age::AGE_CLAIM;
use super::schema::{ClaimKind, ClaimSpec};
use super::{Label, Preset};

/// Free text bound for names.
pub const NAME: ClaimKind = ClaimKind::Text { max_chars: 100 };
/// Free text bound for addresses, places, authorities and organisation names.
pub const LONG_TEXT: ClaimKind = ClaimKind::Text { max_chars: 300 };
/// Free text bound for short descriptive values (makes, colours, vaccines).
pub const SHORT_TEXT: ClaimKind = ClaimKind::Text { max_chars: 100 };

/// Số định danh cá nhân: the 12-digit personal identification number.
pub const PERSONAL_ID: ClaimSpec = ClaimSpec::new(
    "personal_id",
    "Số định danh cá nhân",
    "Personal identification number",
    ClaimKind::Mask(&["999999999999"]),
);
/// Family name (họ).
pub const FAMILY_NAME: ClaimSpec = ClaimSpec::new("family_name", "Họ", "Family name", NAME);
/// Middle and given names (chữ đệm và tên).
pub const GIVEN_NAME: ClaimSpec =
    ClaimSpec::new("given_name", "Chữ đệm và tên", "Given names", NAME);
/// Full name as written on the document.
pub const FULL_NAME: ClaimSpec =
    ClaimSpec::new("full_name", "Họ, chữ đệm và tên", "Full name", NAME);
/// Date of birth; documents carrying it also carry the age predicates.
pub const BIRTH_DATE: ClaimSpec = ClaimSpec::new(
    "birth_date",
    "Ngày, tháng, năm sinh",
    "Date of birth",
    ClaimKind::Date,
);
/// Sex as recorded in the population register.
pub const SEX: ClaimSpec = ClaimSpec::new(
    "sex",
    "Giới tính",
    "Sex",
    ClaimKind::OneOf(&["male", "female"]),
);
/// Nationality, ISO 3166-1 alpha-2 (`VN`).
pub const NATIONALITY: ClaimSpec = ClaimSpec::new(
    "nationality",
    "Quốc tịch",
    "Nationality",
    ClaimKind::Mask(&["AA"]),
);
/// Place of residence.
pub const PLACE_OF_RESIDENCE: ClaimSpec = ClaimSpec::new(
    "place_of_residence",
    "Nơi cư trú",
    "Place of residence",
    LONG_TEXT,
);
/// Date the document was issued.
pub const ISSUE_DATE: ClaimSpec =
    ClaimSpec::new("issue_date", "Ngày cấp", "Date of issue", ClaimKind::Date);
/// Date the document stops being valid.
pub const EXPIRY_DATE: ClaimSpec = ClaimSpec::new(
    "expiry_date",
    "Có giá trị đến",
    "Date of expiry",
    ClaimKind::Date,
);
/// The office that issued the document.
pub const ISSUING_AUTHORITY: ClaimSpec = ClaimSpec::new(
    "issuing_authority",
    "Cơ quan cấp",
    "Issuing authority",
    LONG_TEXT,
);

/// Shows only `age_equal_or_over/18`: a bar, shop or venue learns that the holder is an
/// adult and nothing else, not even the birth date.
pub const AGE_OVER_18: Preset = Preset {
    name: "age_over_18",
    label: Label {
        vi: "Chứng minh đủ 18 tuổi",
        en: "Proof of age 18 or over",
    },
    claims: &["age_equal_or_over/18"],
};

/// Label of every `full` preset.
pub const FULL_LABEL: Label = Label {
    vi: "Toàn bộ thông tin",
    en: "Full document",
};

/// Label of every `identity` preset.
pub const IDENTITY_LABEL: Label = Label {
    vi: "Thông tin nhận dạng",
    en: "Identity",
};

/// The `age_equal_or_over` object path, for `full` presets.
pub const AGE_PATH: &str = AGE_CLAIM;
