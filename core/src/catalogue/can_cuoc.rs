//! Căn cước: the chip-based identity card of the Ministry of Public Security (Law on
//! Identity 2023), the wallet's reference identity document.

use super::age::AGE_EQUAL_OR_OVER;
use super::common::{
    AGE_OVER_18, AGE_PATH, BIRTH_DATE, EXPIRY_DATE, FAMILY_NAME, FULL_LABEL, FULL_NAME, GIVEN_NAME,
    IDENTITY_LABEL, ISSUE_DATE, ISSUING_AUTHORITY, LONG_TEXT, NATIONALITY, PERSONAL_ID, SEX,
};
use super::schema::{ClaimSpec, Rule};
use super::{DocumentType, IssuerRole, Label, Preset};

/// The ID card.
pub const TYPE: DocumentType = DocumentType {
    id: "can_cuoc",
    vct: "https://giayto.gov.vn/vct/can_cuoc",
    name: Label {
        vi: "Căn cước",
        en: "Identity card",
    },
    description: Label {
        vi: "Thẻ căn cước của công dân Việt Nam do cơ quan Công an cấp",
        en: "Identity card of a Vietnamese citizen, issued by the police",
    },
    issuer_role: IssuerRole::Police,
    claims: &[
        PERSONAL_ID,
        FAMILY_NAME,
        GIVEN_NAME,
        FULL_NAME,
        BIRTH_DATE,
        SEX,
        NATIONALITY,
        ClaimSpec::new("place_of_origin", "Quê quán", "Place of origin", LONG_TEXT),
        ClaimSpec::new(
            "place_of_residence",
            "Nơi thường trú",
            "Place of permanent residence",
            LONG_TEXT,
        ),
        ISSUE_DATE,
        // Cards issued from age 60 have no expiry ("không thời hạn").
        EXPIRY_DATE.optional(),
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
            object: "",
            earlier: "issue_date",
            later: "expiry_date",
        },
    ],
    presets: &[
        Preset {
            name: "full",
            label: FULL_LABEL,
            claims: &[
                "personal_id",
                "family_name",
                "given_name",
                "full_name",
                "birth_date",
                "sex",
                "nationality",
                "place_of_origin",
                "place_of_residence",
                "issue_date",
                "expiry_date",
                "issuing_authority",
                AGE_PATH,
            ],
        },
        // Hotel check-in, bank account opening, SIM registration: who the holder is, with
        // the personal id those desks must record, but no addresses.
        Preset {
            name: "identity",
            label: IDENTITY_LABEL,
            claims: &[
                "personal_id",
                "family_name",
                "given_name",
                "full_name",
                "birth_date",
                "sex",
                "nationality",
            ],
        },
        AGE_OVER_18,
        // Registering residence or a service at an address: name, id and residence.
        Preset {
            name: "residence",
            label: Label {
                vi: "Xác nhận nơi cư trú",
                en: "Proof of residence",
            },
            claims: &["personal_id", "full_name", "place_of_residence"],
        },
    ],
};
