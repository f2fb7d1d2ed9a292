//! Sổ sức khỏe điện tử: the electronic health book: blood group, allergies, vaccinations
//! and check-ups, kept by the health authorities.

use super::age::AGE_EQUAL_OR_OVER;
use super::common::{
    AGE_OVER_18, AGE_PATH, BIRTH_DATE, FULL_LABEL, FULL_NAME, IDENTITY_LABEL, ISSUING_AUTHORITY,
    LONG_TEXT, PERSONAL_ID, SEX, SHORT_TEXT,
};
use super::schema::{ClaimKind, ClaimSpec, ListSpec, Sd};
use super::{DocumentType, IssuerRole, Label, Preset};

/// ABO group with Rh factor.
pub const BLOOD_GROUPS: &[&str] = &["A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-"];

/// Allergies are disclosed as one list: an emergency doctor shown only some of them would
/// be misled, so no single allergy can be withheld.
const ALLERGIES: ListSpec = ListSpec {
    item: ClaimKind::Text { max_chars: 200 },
    min_items: 0,
    max_items: 50,
    item_sd: Sd::Never,
};

/// Each vaccination is its own Disclosure, so a holder can prove one vaccination (for
/// travel, school) without the rest of the history.
const VACCINATIONS: ListSpec = ListSpec {
    item: ClaimKind::Object(&[
        ClaimSpec::new("vaccine", "Vắc xin", "Vaccine", SHORT_TEXT).visible(),
        ClaimSpec::new(
            "dose",
            "Mũi số",
            "Dose number",
            ClaimKind::Integer { min: 1, max: 20 },
        )
        .visible(),
        ClaimSpec::new("date", "Ngày tiêm", "Date of vaccination", ClaimKind::Date).visible(),
        ClaimSpec::new("place", "Nơi tiêm", "Place of vaccination", LONG_TEXT).visible(),
    ]),
    min_items: 0,
    max_items: 200,
    item_sd: Sd::Always,
};

/// Each check-up is its own Disclosure (a driver's or work health check shown alone).
const CHECK_UPS: ListSpec = ListSpec {
    item: ClaimKind::Object(&[
        ClaimSpec::new("date", "Ngày khám", "Date of check-up", ClaimKind::Date).visible(),
        ClaimSpec::new("facility", "Cơ sở khám", "Facility", LONG_TEXT).visible(),
        ClaimSpec::new(
            "summary",
            "Kết luận",
            "Summary",
            ClaimKind::Text { max_chars: 2000 },
        )
        .visible(),
    ]),
    min_items: 0,
    max_items: 200,
    item_sd: Sd::Always,
};

/// The electronic health book.
pub const TYPE: DocumentType = DocumentType {
    id: "health_book",
    vct: "https://giayto.gov.vn/vct/health_book",
    name: Label {
        vi: "Sổ sức khỏe điện tử",
        en: "Electronic health book",
    },
    description: Label {
        vi: "Sổ theo dõi sức khỏe cá nhân: nhóm máu, dị ứng, tiêm chủng và khám sức khỏe",
        en: "Personal health record: blood group, allergies, vaccinations and check-ups",
    },
    issuer_role: IssuerRole::Health,
    claims: &[
        PERSONAL_ID,
        FULL_NAME,
        BIRTH_DATE,
        SEX,
        ClaimSpec::new(
            "blood_group",
            "Nhóm máu",
            "Blood group",
            ClaimKind::OneOf(BLOOD_GROUPS),
        )
        .optional(),
        ClaimSpec::new(
            "allergies",
            "Dị ứng",
            "Allergies",
            ClaimKind::List(&ALLERGIES),
        )
        .optional(),
        ClaimSpec::new(
            "vaccinations",
            "Tiêm chủng",
            "Vaccinations",
            ClaimKind::List(&VACCINATIONS),
        )
        .optional(),
        ClaimSpec::new(
            "check_ups",
            "Khám sức khỏe",
            "Check-ups",
            ClaimKind::List(&CHECK_UPS),
        )
        .optional(),
        ISSUING_AUTHORITY,
        AGE_EQUAL_OR_OVER,
    ],
    rules: &[],
    presets: &[
        Preset {
            name: "full",
            label: FULL_LABEL,
            claims: &[
                "personal_id",
                "full_name",
                "birth_date",
                "sex",
                "blood_group",
                "allergies",
                "vaccinations",
                "check_ups",
                "issuing_authority",
                AGE_PATH,
            ],
        },
        Preset {
            name: "identity",
            label: IDENTITY_LABEL,
            claims: &["personal_id", "full_name", "birth_date", "sex"],
        },
        AGE_OVER_18,
        // A first responder: who this is, blood group and every allergy; nothing else of
        // the medical history.
        Preset {
            name: "emergency",
            label: Label {
                vi: "Cấp cứu",
                en: "Emergency",
            },
            claims: &["full_name", "birth_date", "blood_group", "allergies"],
        },
        // School enrolment, travel: the vaccinations with the name and birth date they
        // belong to.
        Preset {
            name: "vaccination",
            label: Label {
                vi: "Chứng nhận tiêm chủng",
                en: "Vaccination record",
            },
            claims: &["full_name", "birth_date", "vaccinations"],
        },
    ],
};
