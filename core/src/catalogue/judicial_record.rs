//! Phiếu lý lịch tư pháp: the judicial record certificate (form No. 1 or No. 2) stating
//! whether the holder has criminal convictions, asked for by employers and authorities.

use super::age::AGE_EQUAL_OR_OVER;
use super::common::{
    AGE_OVER_18, AGE_PATH, BIRTH_DATE, FULL_LABEL, FULL_NAME, IDENTITY_LABEL, ISSUE_DATE,
    ISSUING_AUTHORITY, LONG_TEXT, NATIONALITY, PERSONAL_ID, PLACE_OF_RESIDENCE, SEX,
};
use super::schema::{ClaimKind, ClaimSpec, ListSpec, Rule, Sd};
use super::{DocumentType, IssuerRole, Label, Preset};

/// The convictions, each with its judgment. Never disclosed one by one: a certificate
/// showing some convictions but hiding others would be a false statement.
const CONVICTIONS: ListSpec = ListSpec {
    item: ClaimKind::Object(&[
        ClaimSpec::new(
            "judgment_number",
            "Số bản án",
            "Judgment number",
            ClaimKind::Code { max_chars: 40 },
        )
        .visible(),
        ClaimSpec::new(
            "judgment_date",
            "Ngày tuyên án",
            "Date of judgment",
            ClaimKind::Date,
        )
        .visible(),
        ClaimSpec::new("court", "Tòa án", "Court", LONG_TEXT).visible(),
        ClaimSpec::new("offence", "Tội danh", "Offence", LONG_TEXT).visible(),
        ClaimSpec::new("sentence", "Hình phạt", "Sentence", LONG_TEXT).visible(),
    ]),
    min_items: 1,
    max_items: 50,
    item_sd: Sd::Never,
};

/// The criminal record: a flag stated explicitly (`convicted: false` reads "Không có án
/// tích"), and the convictions when it is true. The whole record is one Disclosure.
const CRIMINAL_RECORD: ClaimKind = ClaimKind::Object(&[
    ClaimSpec::new(
        "convicted",
        "Có án tích",
        "Has criminal convictions",
        ClaimKind::Boolean,
    )
    .visible(),
    ClaimSpec::new(
        "convictions",
        "Án tích",
        "Convictions",
        ClaimKind::List(&CONVICTIONS),
    )
    .visible()
    .optional(),
]);

/// The judicial record certificate.
pub const TYPE: DocumentType = DocumentType {
    id: "judicial_record",
    vct: "https://giayto.gov.vn/vct/judicial_record",
    name: Label {
        vi: "Phiếu lý lịch tư pháp",
        en: "Judicial record certificate",
    },
    description: Label {
        vi: "Phiếu lý lịch tư pháp xác nhận có hay không có án tích",
        en: "Certificate stating whether the holder has criminal convictions",
    },
    issuer_role: IssuerRole::Justice,
    claims: &[
        ClaimSpec::new(
            "certificate_number",
            "Số phiếu",
            "Certificate number",
            ClaimKind::Code { max_chars: 40 },
        ),
        // Form No. 1 goes to individuals and employers; No. 2 (fuller, with expunged
        // convictions) to prosecuting bodies or the person themself.
        ClaimSpec::new(
            "form",
            "Loại phiếu",
            "Certificate form",
            ClaimKind::OneOf(&["1", "2"]),
        ),
        FULL_NAME,
        SEX,
        BIRTH_DATE,
        ClaimSpec::new("place_of_birth", "Nơi sinh", "Place of birth", LONG_TEXT).optional(),
        NATIONALITY,
        PLACE_OF_RESIDENCE,
        PERSONAL_ID,
        ClaimSpec::new(
            "criminal_record",
            "Tình trạng án tích",
            "Criminal record",
            CRIMINAL_RECORD,
        ),
        ClaimSpec::new("purpose", "Mục đích sử dụng", "Purpose", LONG_TEXT).optional(),
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
        Rule::ListWhenFlag {
            object: "criminal_record",
            flag: "convicted",
            list: "convictions",
        },
    ],
    presets: &[
        Preset {
            name: "full",
            label: FULL_LABEL,
            claims: &[
                "certificate_number",
                "form",
                "full_name",
                "sex",
                "birth_date",
                "place_of_birth",
                "nationality",
                "place_of_residence",
                "personal_id",
                "criminal_record",
                "purpose",
                "issue_date",
                "issuing_authority",
                AGE_PATH,
            ],
        },
        Preset {
            name: "identity",
            label: IDENTITY_LABEL,
            claims: &[
                "full_name",
                "sex",
                "birth_date",
                "nationality",
                "personal_id",
            ],
        },
        AGE_OVER_18,
        // Hiring: the certificate, whose it is and the record, dated and signed off; not
        // the residence, the place of birth or the purpose stated when applying.
        Preset {
            name: "employment",
            label: Label {
                vi: "Hồ sơ tuyển dụng",
                en: "Employment application",
            },
            claims: &[
                "certificate_number",
                "form",
                "full_name",
                "birth_date",
                "personal_id",
                "criminal_record",
                "issue_date",
                "issuing_authority",
            ],
        },
    ],
};
