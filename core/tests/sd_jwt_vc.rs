//! SD-JWT VC issuance of catalogue documents: the envelope, schema errors that name the
//! field, age predicates as their own disclosures, and protected claims kept visible.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use giayto_core::catalogue;
use giayto_core::jose::{Algorithm, Signer, SoftwareSigner};
use giayto_core::sd_jwt::{IssueOptions, Presentation, SdJwt};
use giayto_core::sd_jwt_vc::{
    IssueError, IssueRequest, SD_JWT_VC_TYP, VcEnvelope, issue_document, issue_vc,
};
use giayto_core::status_list::StatusReference;
use serde_json::{Map, Value, json};

fn licence_request(holder: &SoftwareSigner) -> IssueRequest {
    IssueRequest {
        issuer: "https://police.example".into(),
        vct: catalogue::by_id("driving_licence").unwrap().vct.into(),
        claims: {
            let mut claims: Map<String, Value> = serde_json::from_value(
                catalogue::examples::example_claims("driving_licence").unwrap(),
            )
            .unwrap();
            claims.insert("birth_date".into(), json!("2008-11-24"));
            claims
        },
        holder_jwk: Some(holder.public_jwk().unwrap()),
        status: Some(StatusReference {
            idx: 42,
            uri: "https://police.example/status/1".into(),
        }),
        // 2026-11-23 08:05 UTC: the holder turns 18 tomorrow in Hanoi.
        issued_at: 1_795_421_105,
        not_before: None,
        expires_at: Some(1_795_421_105 + 86_400 * 365),
    }
}

#[test]
fn licence_envelope_and_age_predicates() {
    let issuer = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let holder = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let compact = issue_document(&licence_request(&holder), &issuer).unwrap();
    let sd_jwt = SdJwt::parse(&compact).unwrap();
    let presentation = Presentation::parse(&compact).unwrap();
    assert_eq!(
        presentation.issuer_jwt().header().typ.as_deref(),
        Some(SD_JWT_VC_TYP)
    );
    let envelope = VcEnvelope::read(&presentation.issuer_payload().unwrap(), true).unwrap();
    assert_eq!(envelope.iss, "https://police.example");
    assert_eq!(envelope.status.unwrap().idx, 42);
    let holder_key = envelope.holder_key.unwrap();
    assert_eq!(holder_key.kid, None, "cnf.jwk carries the bare key");
    assert_eq!(
        holder_key.thumbprint().unwrap(),
        holder.public_jwk().unwrap().thumbprint().unwrap()
    );
    let claims = sd_jwt.process().unwrap().claims;
    assert_eq!(claims["age_equal_or_over"]["18"], Value::Bool(false));
    assert_eq!(claims["age_equal_or_over"]["16"], Value::Bool(true));
    // The bar learns only the age predicate.
    let shown = sd_jwt.present(&["age_equal_or_over/18"]).unwrap();
    let processed = Presentation::parse(&shown).unwrap().process().unwrap();
    let subject: Vec<&String> = processed
        .claims
        .keys()
        .filter(|k| !["iss", "iat", "exp", "vct", "cnf", "status"].contains(&k.as_str()))
        .collect();
    assert_eq!(subject, ["age_equal_or_over"]);
    assert_eq!(processed.claims["age_equal_or_over"], json!({"18": false}));
}

#[test]
fn schema_errors_name_the_field() {
    let issuer = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let holder = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let mut request = licence_request(&holder);
    request.claims.remove("licence_number");
    let error = issue_document(&request, &issuer).unwrap_err();
    assert!(matches!(error, IssueError::Schema(_)));
    assert!(error.to_string().contains("licence_number"), "{error}");

    let mut request = licence_request(&holder);
    request.vct = "https://giayto.gov.vn/vct/unknown".into();
    assert!(matches!(
        issue_document(&request, &issuer),
        Err(IssueError::UnknownType(_))
    ));

    let mut request = licence_request(&holder);
    request.holder_jwk = Some(giayto_core::jose::Jwk::generate(Algorithm::Es256).unwrap());
    assert!(matches!(
        issue_document(&request, &issuer),
        Err(IssueError::BadHolderKey)
    ));
}

#[test]
fn envelope_claims_are_never_disclosable() {
    let issuer = SoftwareSigner::generate(Algorithm::EdDsa).unwrap();
    let holder = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let mut request = licence_request(&holder);
    request.vct = "https://example.com/any".into();
    request.claims = Map::new();
    for path in ["exp", "cnf", "status", "iss", "vct", "nbf"] {
        assert!(matches!(
            issue_vc(&request, &[path], &issuer, IssueOptions::default()),
            Err(IssueError::ProtectedClaimDisclosable(_))
        ));
    }
    request.claims.insert("vct".into(), json!("spoof"));
    assert!(matches!(
        issue_vc(&request, &[] as &[&str], &issuer, IssueOptions::default()),
        Err(IssueError::ReservedClaim(_))
    ));
}
