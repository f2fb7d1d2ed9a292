//! Giấy phép lái xe: the driving licence, with one entry per licence class and that
//! class's dates (classes of the Road Traffic Order and Safety Law 2024).

use super::age::AGE_EQUAL_OR_OVER;
use super::common::{
    AGE_OVER_18, AGE_PATH, BIRTH_DATE, FAMILY_NAME, FULL_LABEL, FULL_NAME, GIVEN_NAME,
    IDENTITY_LABEL, ISSUE_DATE, ISSUING_AUTHORITY, NATIONALITY, PLACE_OF_RESIDENCE,
};
use super::schema::{ClaimKind, ClaimSpec, ListSpec, Rule, Sd};
use super::{DocumentType, IssuerRole, Label, Preset};

/// Licence classes of the Road Traffic Order and Safety Law 2024 (article 57).
pub const LICENCE_CLASSES: &[&str] = &[
    "A1", "A", "B1", "B", "C1", "C", "D1", "D2", "D", "BE", "C1E", "CE", "D1E", "D2E", "DE",
];

/// One class of the licence. Each element is its own Disclosure, so a holder can show
/// only class B to a car rental; its fields are visible once the element is.
const PRIVILEGES: ListSpec = ListSpec {
    item: ClaimKind::Object(&[
        ClaimSpec::new("class", "Hạng", "Class", ClaimKind::OneOf(LICENCE_CLASSES)).visible(),
        ClaimSpec::new(
            "issue_date",
            "Ngày cấp hạng",
            "Class issued on",
            ClaimKind::Date,
        )
        .visible(),
        // Classes A1, A and B1 do not expire.
        ClaimSpec::new(
            "expiry_date",
            "Có giá trị đến",
            "Class valid until",
            ClaimKind::Date,
        )
        .visible()
        .optional(),
    ]),
    min_items: 1,
    max_items: LICENCE_CLASSES.len(),
    item_sd: Sd::Always,
};

/// The driving licence.
pub const TYPE: DocumentType = DocumentType {
    id: "driving_licence",
    vct: "https://giayto.gov.vn/vct/driving_licence",
    name: Label {
        vi: "Giấy phép lái xe",
        en: "Driving licence",
    },
    description: Label {
        vi: "Giấy phép lái xe cơ giới đường bộ, ghi các hạng được phép điều khiển",
        en: "Road motor vehicle driving licence, listing the classes the holder may drive",
    },
    issuer_role: IssuerRole::Police,
    claims: &[
        ClaimSpec::new(
            "licence_number",
            "Số giấy phép lái xe",
            "Licence number",
            ClaimKind::Mask(&["999999999999"]),
        ),
        FAMILY_NAME,
        GIVEN_NAME,
        FULL_NAME,
        BIRTH_DATE,
        NATIONALITY,
        PLACE_OF_RESIDENCE.optional(),
        ClaimSpec::new(
            "driving_privileges",
            "Hạng giấy phép lái xe",
            "Driving privileges",
            ClaimKind::List(&PRIVILEGES),
        ),
        ISSUE_DATE,
        ISSUING_AUTHORITY,
        AGE_EQUAL_OR_OVER,
    ],
    rules: &[
        Rule::NotAfter {
            object: "",
            earlier: "birth_date",
            later: "issue_date",
        },
        Rule::NotAfter {
            object: "driving_privileges/*",
            earlier: "issue_date",
            later: "expiry_date",
        },
    ],
    presets: &[
        Preset {
            name: "full",
            label: FULL_LABEL,
            claims: &[
                "licence_number",
                "family_name",
                "given_name",
                "full_name",
                "birth_date",
                "nationality",
                "place_of_residence",
                "driving_privileges",
                "issue_date",
                "issuing_authority",
                AGE_PATH,
            ],
        },
        Preset {
            name: "identity",
            label: IDENTITY_LABEL,
            claims: &[
                "family_name",
                "given_name",
                "full_name",
                "birth_date",
                "nationality",
            ],
        },
        AGE_OVER_18,
        // Roadside check: which licence, whose, and what it allows, with each class's
        // dates. No address, no birth date: the officer matches the face to the name.
        Preset {
            name: "traffic_stop",
            label: Label {
                vi: "Kiểm tra của cảnh sát giao thông",
                en: "Traffic stop",
            },
            claims: &[
                "licence_number",
                "family_name",
                "given_name",
                "full_name",
                "driving_privileges",
                "issuing_authority",
            ],
        },
        // Renting a car or motorbike: the rental needs name, licence number and classes,
        // not the birth date or address.
        Preset {
            name: "vehicle_rental",
            label: Label {
                vi: "Thuê xe",
                en: "Vehicle rental",
            },
            claims: &["licence_number", "full_name", "driving_privileges"],
        },
    ],
};
