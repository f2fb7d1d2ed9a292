//! Thẻ bảo hiểm y tế: the health insurance card of Vietnam Social Security, shown at a
//! care facility's desk to be treated under the insurance.

use super::age::AGE_EQUAL_OR_OVER;
use super::common::{
    AGE_OVER_18, AGE_PATH, BIRTH_DATE, FULL_LABEL, FULL_NAME, IDENTITY_LABEL, ISSUING_AUTHORITY,
    LONG_TEXT, SEX,
};
use super::schema::{ClaimKind, ClaimSpec, Rule};
use super::{DocumentType, IssuerRole, Label, Preset};

/// The health insurance card.
pub const TYPE: DocumentType = DocumentType {
    id: "health_insurance_card",
    vct: "https://giayto.gov.vn/vct/health_insurance_card",
    name: Label {
        vi: "Thẻ bảo hiểm y tế",
        en: "Health insurance card",
    },
    description: Label {
        vi: "Thẻ bảo hiểm y tế do cơ quan Bảo hiểm xã hội Việt Nam cấp",
        en: "Health insurance card issued by Vietnam Social Security",
    },
    issuer_role: IssuerRole::SocialInsurance,
    claims: &[
        // Cards since 2021 print the 10-digit social insurance number; older cards a
        // 15-character code: beneficiary group (2 letters), benefit level, province, number.
        ClaimSpec::new(
            "card_number",
            "Mã số thẻ bảo hiểm y tế",
            "Health insurance card number",
            ClaimKind::Mask(&["9999999999", "AA9999999999999"]),
        ),
        FULL_NAME,
        BIRTH_DATE,
        SEX,
        // K1, K2, K3: the holder lives in a disadvantaged area, which widens the benefits.
        ClaimSpec::new(
            "insurance_region",
            "Mã nơi sinh sống",
            "Residence area code",
            ClaimKind::OneOf(&["K1", "K2", "K3"]),
        )
        .optional(),
        ClaimSpec::new(
            "initial_care_facility",
            "Nơi đăng ký khám bệnh, chữa bệnh ban đầu",
            "Registered primary care facility",
            LONG_TEXT,
        ),
        ClaimSpec::new(
            "initial_care_facility_code",
            "Mã cơ sở khám bệnh, chữa bệnh",
            "Primary care facility code",
            ClaimKind::Mask(&["99-999", "99999"]),
        )
        .optional(),
        ClaimSpec::new(
            "valid_from",
            "Giá trị sử dụng từ ngày",
            "Valid from",
            ClaimKind::Date,
        ),
        // Some beneficiary groups (children under 6 aside) hold cards without an end date.
        ClaimSpec::new(
            "valid_until",
            "Giá trị sử dụng đến ngày",
            "Valid until",
            ClaimKind::Date,
        )
        .optional(),
        ClaimSpec::new(
            "benefit_level",
            "Mức hưởng",
            "Benefit level",
            ClaimKind::Integer { min: 1, max: 5 },
        ),
        ClaimSpec::new(
            "five_years_continuous_from",
            "Thời điểm đủ 5 năm liên tục",
            "Five consecutive years of coverage from",
            ClaimKind::Date,
        )
        .optional(),
        ISSUING_AUTHORITY,
        AGE_EQUAL_OR_OVER,
    ],
    rules: &[Rule::NotAfter {
        object: "",
        earlier: "valid_from",
        later: "valid_until",
    }],
    presets: &[
        Preset {
            name: "full",
            label: FULL_LABEL,
            claims: &[
                "card_number",
                "full_name",
                "birth_date",
                "sex",
                "insurance_region",
                "initial_care_facility",
                "initial_care_facility_code",
                "valid_from",
                "valid_until",
                "benefit_level",
                "five_years_continuous_from",
                "issuing_authority",
                AGE_PATH,
            ],
        },
        Preset {
            name: "identity",
            label: IDENTITY_LABEL,
            claims: &["full_name", "birth_date", "sex"],
        },
        AGE_OVER_18,
        // The hospital desk: everything the insurance claim needs (card, person, validity,
        // facility, benefit), which is the whole card except the issuing office.
        Preset {
            name: "insurance_check",
            label: Label {
                vi: "Khám chữa bệnh bảo hiểm y tế",
                en: "Insured care at a facility",
            },
            claims: &[
                "card_number",
                "full_name",
                "birth_date",
                "sex",
                "insurance_region",
                "initial_care_facility",
                "initial_care_facility_code",
                "valid_from",
                "valid_until",
                "benefit_level",
                "five_years_continuous_from",
            ],
        },
    ],
};
