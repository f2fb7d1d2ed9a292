//! Giấy chứng nhận đăng ký xe: the vehicle registration certificate, naming the vehicle,
//! its plate and its owner (a person or an organisation).

use super::common::{FULL_LABEL, IDENTITY_LABEL, ISSUING_AUTHORITY, LONG_TEXT, SHORT_TEXT};
use super::schema::{ClaimKind, ClaimSpec, Rule};
use super::{DocumentType, IssuerRole, Label, Preset};

/// Vehicle categories of the registration.
pub const VEHICLE_TYPES: &[&str] = &[
    "motorcycle",
    "moped",
    "car",
    "truck",
    "bus",
    "tractor",
    "trailer",
    "semi_trailer",
    "special_purpose",
];

/// The vehicle registration.
pub const TYPE: DocumentType = DocumentType {
    id: "vehicle_registration",
    vct: "https://giayto.gov.vn/vct/vehicle_registration",
    name: Label {
        vi: "Giấy chứng nhận đăng ký xe",
        en: "Vehicle registration certificate",
    },
    description: Label {
        vi: "Chứng nhận đăng ký xe cơ giới và biển số do cơ quan Công an cấp",
        en: "Registration of a motor vehicle and its plate, issued by the police",
    },
    issuer_role: IssuerRole::Police,
    claims: &[
        ClaimSpec::new(
            "registration_number",
            "Số đăng ký",
            "Registration number",
            ClaimKind::Code { max_chars: 20 },
        ),
        ClaimSpec::new(
            "plate_number",
            "Biển số",
            "Plate number",
            ClaimKind::Code { max_chars: 16 },
        ),
        ClaimSpec::new("owner_name", "Tên chủ xe", "Owner's name", LONG_TEXT),
        // Organisations own vehicles too: no personal id then.
        ClaimSpec::new(
            "owner_personal_id",
            "Số định danh của chủ xe",
            "Owner's personal identification number",
            ClaimKind::Mask(&["999999999999"]),
        )
        .optional(),
        ClaimSpec::new(
            "owner_address",
            "Địa chỉ chủ xe",
            "Owner's address",
            LONG_TEXT,
        )
        .optional(),
        ClaimSpec::new(
            "vehicle_type",
            "Loại xe",
            "Vehicle type",
            ClaimKind::OneOf(VEHICLE_TYPES),
        ),
        ClaimSpec::new("make", "Nhãn hiệu", "Make", SHORT_TEXT),
        ClaimSpec::new("model", "Số loại", "Model", SHORT_TEXT),
        ClaimSpec::new("colour", "Màu sơn", "Colour", SHORT_TEXT),
        ClaimSpec::new(
            "engine_number",
            "Số máy",
            "Engine number",
            ClaimKind::Code { max_chars: 30 },
        ),
        ClaimSpec::new(
            "chassis_number",
            "Số khung",
            "Chassis number",
            ClaimKind::Code { max_chars: 30 },
        ),
        // Electric vehicles have no cylinder capacity.
        ClaimSpec::new(
            "engine_capacity_cc",
            "Dung tích xi lanh (cm³)",
            "Engine capacity (cm³)",
            ClaimKind::Integer {
                min: 1,
                max: 100_000,
            },
        )
        .optional(),
        ClaimSpec::new(
            "seats",
            "Số chỗ ngồi",
            "Seats",
            ClaimKind::Integer { min: 1, max: 100 },
        )
        .optional(),
        ClaimSpec::new(
            "first_registration_date",
            "Đăng ký lần đầu ngày",
            "First registered on",
            ClaimKind::Date,
        )
        .optional(),
        ClaimSpec::new(
            "registration_date",
            "Ngày đăng ký",
            "Registration date",
            ClaimKind::Date,
        ),
        ISSUING_AUTHORITY,
    ],
    rules: &[Rule::NotAfter {
        object: "",
        earlier: "first_registration_date",
        later: "registration_date",
    }],
    presets: &[
        Preset {
            name: "full",
            label: FULL_LABEL,
            claims: &[
                "registration_number",
                "plate_number",
                "owner_name",
                "owner_personal_id",
                "owner_address",
                "vehicle_type",
                "make",
                "model",
                "colour",
                "engine_number",
                "chassis_number",
                "engine_capacity_cc",
                "seats",
                "first_registration_date",
                "registration_date",
                "issuing_authority",
            ],
        },
        // The registration carries no birth date, so no age preset; identity is the owner.
        Preset {
            name: "identity",
            label: IDENTITY_LABEL,
            claims: &["owner_name", "owner_personal_id"],
        },
        // Roadside check: the plate, the registration, the owner's name and what the
        // vehicle is (to match engine and chassis numbers), not the owner's address.
        Preset {
            name: "traffic_stop",
            label: Label {
                vi: "Kiểm tra của cảnh sát giao thông",
                en: "Traffic stop",
            },
            claims: &[
                "registration_number",
                "plate_number",
                "owner_name",
                "vehicle_type",
                "make",
                "model",
                "colour",
                "engine_number",
                "chassis_number",
                "registration_date",
            ],
        },
        // Selling the vehicle, inspection, parking permits: the vehicle without its owner.
        Preset {
            name: "vehicle",
            label: Label {
                vi: "Thông tin xe",
                en: "Vehicle details",
            },
            claims: &[
                "plate_number",
                "vehicle_type",
                "make",
                "model",
                "colour",
                "engine_number",
                "chassis_number",
                "engine_capacity_cc",
                "seats",
                "first_registration_date",
            ],
        },
    ],
};
