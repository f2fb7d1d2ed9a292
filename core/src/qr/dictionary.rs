//! The preset DEFLATE dictionary of format version 1: strings common in giayto SD-JWT VCs
//! and their key-binding JWTs. It is part of the wire format: changing one byte changes
//! every packed QR, so it is pinned by the vectors in `core/tests/vectors/qr/`.

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
