//! Example documents: one valid set of claims for every document type, used by the
//! server's demo mode, the `giayto` command's demo, benchmarks and tests. The people are
//! invented; their identification numbers follow the real formats.

use serde_json::{Value, json};

/// A valid set of claims for the document type with catalogue id `id`.
pub fn example_claims(id: &str) -> Option<Value> {
    match id {
        "can_cuoc" => Some(json!({
            "personal_id": "001090012345",
            "family_name": "Nguyễn",
            "given_name": "Thị Minh Anh",
            "full_name": "Nguyễn Thị Minh Anh",
            "birth_date": "2006-07-15",
            "sex": "female",
            "nationality": "VN",
            "place_of_origin": "Xã Đông Anh, Hà Nội",
            "place_of_residence": "Số 12 phố Hàng Bạc, phường Hoàn Kiếm, Hà Nội",
            "issue_date": "2024-07-01",
            "expiry_date": "2031-07-15",
            "issuing_authority": "Bộ Công an"
        })),
        "driving_licence" => Some(json!({
            "licence_number": "010123456789",
            "family_name": "Trần",
            "given_name": "Văn Bình",
            "full_name": "Trần Văn Bình",
            "birth_date": "1990-02-28",
            "nationality": "VN",
            "place_of_residence": "Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh",
            "driving_privileges": [
                { "class": "A1", "issue_date": "2010-05-02" },
                { "class": "B", "issue_date": "2015-09-10", "expiry_date": "2035-09-10" }
            ],
            "issue_date": "2025-01-15",
            "issuing_authority": "Phòng Cảnh sát giao thông Công an TP. Hồ Chí Minh"
        })),
        "vehicle_registration" => Some(json!({
            "registration_number": "012345",
            "plate_number": "51K-123.45",
            "owner_name": "Trần Văn Bình",
            "owner_personal_id": "079090001234",
            "owner_address": "Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh",
            "vehicle_type": "car",
            "make": "VinFast",
            "model": "VF 8",
            "colour": "Trắng",
            "engine_number": "VF8E2301234",
            "chassis_number": "RLLV8AAA0PH012345",
            "seats": 5,
            "first_registration_date": "2023-03-01",
            "registration_date": "2023-03-01",
            "issuing_authority": "Phòng Cảnh sát giao thông Công an TP. Hồ Chí Minh"
        })),
        "health_insurance_card" => Some(json!({
            "card_number": "0123456789",
            "full_name": "Lê Thị Hoa",
            "birth_date": "1958-02-28",
            "sex": "female",
            "initial_care_facility": "Bệnh viện Đa khoa Đống Đa",
            "initial_care_facility_code": "01-014",
            "valid_from": "2025-01-01",
            "valid_until": "2025-12-31",
            "benefit_level": 4,
            "issuing_authority": "Bảo hiểm xã hội thành phố Hà Nội"
        })),
        "health_book" => Some(json!({
            "personal_id": "001090012345",
            "full_name": "Nguyễn Thị Minh Anh",
            "birth_date": "2006-07-15",
            "sex": "female",
            "blood_group": "O+",
            "allergies": ["Penicillin", "Tôm, cua"],
            "vaccinations": [
                { "vaccine": "Viêm gan B", "dose": 1, "date": "2006-07-16", "place": "Bệnh viện Phụ sản Hà Nội" },
                { "vaccine": "Sởi - Rubella", "dose": 2, "date": "2024-03-04", "place": "Trạm Y tế phường Hàng Bạc" }
            ],
            "check_ups": [
                { "date": "2024-08-20", "facility": "Bệnh viện Bạch Mai", "summary": "Đủ sức khỏe học tập" }
            ],
            "issuing_authority": "Sở Y tế Hà Nội"
        })),
        "judicial_record" => Some(json!({
            "certificate_number": "1234/2025/LLTP",
            "form": "1",
            "full_name": "Phạm Quốc Huy",
            "sex": "male",
            "birth_date": "1995-11-30",
            "place_of_birth": "Đà Nẵng",
            "nationality": "VN",
            "place_of_residence": "Phường Hải Châu, Đà Nẵng",
            "personal_id": "048095001122",
            "criminal_record": { "convicted": false },
            "purpose": "Bổ sung hồ sơ xin việc",
            "issue_date": "2025-03-10",
            "issuing_authority": "Sở Tư pháp thành phố Đà Nẵng"
        })),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_a_valid_example() {
        for document in super::super::all() {
            let claims = example_claims(document.id).unwrap();
            document.validate(&claims).unwrap();
        }
    }
}
