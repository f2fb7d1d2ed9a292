//! The preset DEFLATE dictionaries of the compact QR formats: strings common in giayto
//! SD-JWT VCs and their key-binding JWTs. Each is part of its wire format: changing one
//! byte changes every packed QR, so both are pinned by the vectors in
//! `core/tests/vectors/qr/`. Version 1 is kept unchanged so format-1 QR codes stay readable.

/// Format-1 dictionary. DEFLATE prefers near matches, so the most frequent strings come last.
pub(crate) const DICTIONARY_V1: &[u8] = concat!(
    // Disclosure claim names of the document catalogue (ID card, licence, vehicle, health).
    r#""issuing_authority","issuing_country":"VN","nationality":"VN","place_of_origin","#,
    r#""place_of_residence","sex","personal_identification_number","#,
    r#""vehicle_registration","plate_number","brand","model","colour","engine_number","#,
    r#""chassis_number","health_insurance_number","insurance_code","registered_facility","#,
    r#""valid_from","valid_to","vaccinations","check_ups","judicial_record","convictions","#,
    r#""driving_privileges",[{"vehicle_category_code":"A1","vehicle_category_code":"B","#,
    r#""issue_date":"20","expiry_date":"20","document_number","#,
    r#""birth_date":"19","birth_date":"20","full_name","family_name","given_name","#,
    r#""age_equal_or_over",{"18":true},"age_over_18",true],"#,
    // SD-JWT VC issuer payload.
    r#"{"_sd":["#,
    r#""status":{"status_list":{"idx":"#,
    r#","uri":"https://giayto.gov.vn/status/"#,
    r#""cnf":{"jwk":{"kty":"OKP","crv":"Ed25519","x":""#,
    r#""cnf":{"jwk":{"kty":"EC","crv":"P-256","x":""#,
    r#"","y":""#,
    r#""iss":"https://"#,
    r#""vct":"https://giayto.gov.vn/vct/"#,
    r#""_sd_alg":"sha-256""#,
    r#","iat":17"#,
    r#","exp":17"#,
    r#"{"...":""#,
    // Key-binding JWT.
    r#"{"alg":"EdDSA","typ":"kb+jwt"}"#,
    r#"{"alg":"ES256","typ":"kb+jwt"}"#,
    r#"{"iat":17"#,
    r#","aud":"giayto:offline","nonce":""#,
    r#"","sd_hash":""#,
    // Issuer JWS header.
    r#"{"alg":"EdDSA","typ":"dc+sd-jwt","kid":""#,
    r#"{"alg":"ES256","typ":"dc+sd-jwt","kid":""#,
)
.as_bytes();

/// Format-2 dictionary, tuned on purpose credentials (one preset's claims in the clear, no
/// `_sd`, a compressed `cnf` key, a rebuilt `sd_hash`) and still fit for full SD
/// credentials. The codec's tokens appear as they do in the stream (`\x01 ` is a lifted
/// 32-byte run, `\x02` a rebuilt P-256 `y`, `\x03` a rebuilt `sd_hash`). DEFLATE prefers
/// near matches, so the most frequent strings come last.
pub(crate) const DICTIONARY_V2: &[u8] = concat!(
    // Frequent words of Vietnamese names, places and authorities (UTF-8).
    "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Văn Thị Minh Anh ",
    "Phường Quận Huyện Xã Tỉnh thành phố Thành phố TP. Hồ Chí Minh Hà Nội Đà Nẵng Hải Phòng Cần Thơ ",
    "Bộ Công an Công an Phòng Cảnh sát giao thông Cục Cảnh sát giao thông Sở Tư pháp Trung tâm ",
    "Bảo hiểm xã hội Việt Nam Bệnh viện Trạm Y tế Sở Y tế phố đường số ",
    // Full SD credentials and their disclosures.
    r#"{"_sd":[""#,
    "\",\"_sd_alg\":\"sha-256\"",
    r#"{"...":""#,
    // Claim values of the catalogue.
    r#""sex":"male","sex":"female","nationality":"VN","blood_group":"O+","convicted":false,"#,
    r#""vehicle_type":"motorcycle","vehicle_type":"car","form":"#,
    r#""vaccinations":[{"vaccine":"","dose":1,"date":"20"},{"vaccine":""#,
    r#""check_ups":[{"date":"20","facility":""#,
    r#""driving_privileges":[{"class":"A1","issue_date":"20"},{"class":"B","issue_date":"20","expiry_date":"20"#,
    r#""},{"class":"A","issue_date":"20"#,
    // Claim names of the catalogue (those of every purpose last).
    r#""certificate_number":"","purpose":"","criminal_record":"","convictions":[],"#,
    r#""judgment_number":"","judgment_date":"20","court":"","offence":"","sentence":"","#,
    r#""registration_number":"","plate_number":"","owner_name":"","owner_personal_id":""#,
    r#""owner_address":"","make":"","model":"","colour":"","engine_number":"","#,
    r#""chassis_number":"","engine_capacity_cc":","seats":","registration_date":"20","#,
    r#""first_registration_date":"20","card_number":"","insurance_region":"","#,
    r#""initial_care_facility":"","initial_care_facility_code":"","valid_from":"20","#,
    r#""valid_until":"20","benefit_level":","five_years_continuous_from":"20","#,
    r#""allergies":[""#,
    r#""place_of_birth":"","place_of_origin":"","place_of_residence":"","#,
    r#""issue_date":"20","expiry_date":"20","issuing_authority":""#,
    r#""personal_id":"0","licence_number":"0","#,
    r#""family_name":"","given_name":"","full_name":"","birth_date":"19","birth_date":"20","#,
    r#""age_equal_or_over":{"18":true}"#,
    // Purpose types (`vct`), then the registered claims in the order giayto writes them.
    "https://giayto.gov.vn/vct/judicial_record/identity\",",
    "https://giayto.gov.vn/vct/judicial_record/employment\",",
    "https://giayto.gov.vn/vct/health_book/identity\",",
    "https://giayto.gov.vn/vct/health_book/emergency\",",
    "https://giayto.gov.vn/vct/health_book/vaccination\",",
    "https://giayto.gov.vn/vct/health_insurance_card/identity\",",
    "https://giayto.gov.vn/vct/health_insurance_card/insurance_check\",",
    "https://giayto.gov.vn/vct/vehicle_registration/identity\",",
    "https://giayto.gov.vn/vct/vehicle_registration/vehicle\",",
    "https://giayto.gov.vn/vct/vehicle_registration/traffic_stop\",",
    "https://giayto.gov.vn/vct/can_cuoc/identity\",",
    "https://giayto.gov.vn/vct/can_cuoc/residence\",",
    "https://giayto.gov.vn/vct/driving_licence/identity\",",
    "https://giayto.gov.vn/vct/driving_licence/vehicle_rental\",",
    "https://giayto.gov.vn/vct/driving_licence/traffic_stop\",",
    "https://giayto.gov.vn/vct/can_cuoc/age_over_18\",",
    "https://giayto.gov.vn/vct/health_insurance_card/age_over_18\",",
    "https://giayto.gov.vn/vct/health_book/age_over_18\",",
    "https://giayto.gov.vn/vct/judicial_record/age_over_18\",",
    "https://giayto.gov.vn/vct/driving_licence/age_over_18\",",
    "/agencies/justice\",/agencies/social-insurance\",/agencies/police\",",
    "{\"iss\":\"https://",
    ",\"iat\":17",
    ",\"exp\":18",
    ",\"exp\":17",
    ",\"vct\":\"https://giayto.gov.vn/vct/",
    ",\"cnf\":{\"jwk\":{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"\x01 \"}}",
    ",\"cnf\":{\"jwk\":{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"\x01 \",\"y\":\"\x02",
    "\"}},\"status\":{\"status_list\":{\"idx\":",
    ",\"uri\":\"https://",
    "/status-lists/",
    "\"}},\"",
    // Key-binding JWT, then the issuer's JWS header.
    "{\"alg\":\"EdDSA\",\"typ\":\"kb+jwt\"}",
    "{\"alg\":\"ES256\",\"typ\":\"kb+jwt\"}",
    "{\"iat\":17",
    ",\"aud\":\"giayto:offline\",\"nonce\":\"\x01\x10\",\"sd_hash\":\"\x03\"}",
    "{\"alg\":\"EdDSA\",\"typ\":\"dc+sd-jwt\",\"kid\":\"\x01 \"}",
    "{\"alg\":\"ES256\",\"typ\":\"dc+sd-jwt\",\"kid\":\"\x01 \"}",
)
.as_bytes();
