//! The Pre-Authorized Code Flow driven end to end against canned issuer responses: every
//! request the session produces is checked (method, URL, headers, body bytes), and every
//! failure the spec describes is exercised.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use giayto_core::jose::jws;
use giayto_core::jose::{Algorithm, Signer, SoftwareSigner};
use giayto_core::oid4vci::{
    CredentialOffer, CredentialOutcome, CredentialRequest, Endpoint, HttpRequest, HttpResponse,
    IssuanceSession, IssuerErrorCode, MAX_RESPONSE_BYTES, Method, Oid4vciError, SecretString,
    TokenStep, TxCodeInputMode, TxCodeSpec, verify_proof_jwt,
};

const ISSUER: &str = "https://issuer.example.vn/bo-cong-an";
const NOW: u64 = 1_760_000_000;
const PRE_AUTHORIZED_CODE: &str = "SplxlOBeZQQYbYS6WxSbIA";
const TX_CODE: &str = "493536";
const ACCESS_TOKEN: &str = "czZCaGRSa3F0MzpnWDFmQmF0M2JW";
const VCT: &str = "https://issuer.example.vn/vct/cccd";

/// An SD-JWT VC (no disclosures) of type `vct`, bound to `holder`'s key.
fn sd_jwt_vc(holder: &SoftwareSigner, vct: &str) -> String {
    let issuer = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let payload = serde_json::json!({
        "iss": ISSUER,
        "vct": vct,
        "iat": NOW,
        "cnf": {"jwk": holder.public_jwk().unwrap()},
    });
    let jwt = jws::sign_compact(
        jws::header_with_typ("dc+sd-jwt"),
        &serde_json::to_vec(&payload).unwrap(),
        &issuer,
    )
    .unwrap();
    format!("{jwt}~")
}

fn issued(credential: &str) -> HttpResponse {
    HttpResponse::json(
        200,
        format!(r#"{{"credentials":[{{"credential":"{credential}"}}]}}"#),
    )
}

fn offer(tx_code: Option<TxCodeSpec>) -> CredentialOffer {
    CredentialOffer::pre_authorized(
        ISSUER,
        vec!["cccd_sd_jwt".into()],
        SecretString::new(PRE_AUTHORIZED_CODE),
        tx_code,
    )
}

fn six_digits() -> Option<TxCodeSpec> {
    Some(TxCodeSpec {
        input_mode: Some(TxCodeInputMode::Numeric),
        length: Some(6),
        description: None,
    })
}

fn issuer_metadata(extra: &str) -> String {
    format!(
        r#"{{
  "credential_issuer": "{ISSUER}",
  "credential_endpoint": "{ISSUER}/credential",
  "nonce_endpoint": "{ISSUER}/nonce",
  "deferred_credential_endpoint": "{ISSUER}/deferred",
  "display": [{{"name": "Bộ Công an", "locale": "vi"}}],
  "x-unknown-vendor-member": {{"ignored": true}},
  {extra}
  "credential_configurations_supported": {{
    "cccd_sd_jwt": {{
      "format": "dc+sd-jwt",
      "scope": "cccd",
      "vct": "{VCT}",
      "cryptographic_binding_methods_supported": ["jwk"],
      "credential_signing_alg_values_supported": ["ES256"],
      "proof_types_supported": {{"jwt": {{"proof_signing_alg_values_supported": ["ES256", "EdDSA"]}}}},
      "credential_metadata": {{
        "display": [{{"name": "Căn cước", "locale": "vi"}}, {{"name": "Identity card", "locale": "en"}}],
        "claims": [{{"path": ["given_name"]}}]
      }}
    }},
    "org.iso.18013.5.1.mDL": {{
      "format": "mso_mdoc",
      "doctype": "org.iso.18013.5.1.mDL",
      "credential_signing_alg_values_supported": [-7, -9]
    }}
  }}
}}"#
    )
}

fn as_metadata() -> String {
    format!(
        r#"{{"issuer": "{ISSUER}", "token_endpoint": "{ISSUER}/token",
            "grant_types_supported": ["urn:ietf:params:oauth:grant-type:pre-authorized_code"],
            "pre-authorized_grant_anonymous_access_supported": true,
            "response_types_supported": []}}"#
    )
}

fn token_response() -> HttpResponse {
    HttpResponse::json(
        200,
        format!(r#"{{"access_token":"{ACCESS_TOKEN}","token_type":"Bearer","expires_in":86400}}"#),
    )
}

fn nonce_response(nonce: &str) -> HttpResponse {
    HttpResponse::json(200, format!(r#"{{"c_nonce":"{nonce}"}}"#))
}

fn holder() -> SoftwareSigner {
    SoftwareSigner::generate(Algorithm::Es256).unwrap()
}

fn assert_get(request: &HttpRequest, url: &str) {
    assert_eq!(request.method, Method::Get);
    assert_eq!(request.url, url);
    assert_eq!(
        request.headers,
        vec![("Accept".to_owned(), "application/json".to_owned())]
    );
    assert_eq!(request.body, None);
}

/// Drives the session up to the token request (with the tx code if the offer asks one).
fn to_token(offer: CredentialOffer) -> (IssuanceSession, HttpRequest) {
    let (mut session, request) = IssuanceSession::new(offer).unwrap();
    let as_request = session
        .on_issuer_metadata(&HttpResponse::json(200, issuer_metadata("")))
        .unwrap();
    assert_eq!(request.method, Method::Get);
    let token = match session
        .on_as_metadata(&HttpResponse::json(200, as_metadata()))
        .unwrap()
    {
        TokenStep::Request(request) => request,
        TokenStep::NeedsTxCode(_) => session.with_tx_code(TX_CODE).unwrap(),
    };
    assert_eq!(as_request.method, Method::Get);
    (session, token)
}

/// Drives the session up to the first credential request.
fn to_credential(signer: &SoftwareSigner) -> (IssuanceSession, HttpRequest) {
    let (mut session, _) = to_token(offer(six_digits()));
    session.on_token(&token_response()).unwrap().unwrap();
    session.on_nonce(&nonce_response("nonce-1")).unwrap();
    let request = session.build_credential_request(signer, NOW).unwrap();
    (session, request)
}

fn proof_of(request: &HttpRequest) -> String {
    let body: CredentialRequest = serde_json::from_slice(request.body.as_ref().unwrap()).unwrap();
    body.proofs.unwrap().jwt.unwrap().remove(0)
}

#[test]
fn full_pre_authorized_flow_with_tx_code() {
    let signer = holder();
    let (mut session, request) = IssuanceSession::new(offer(six_digits())).unwrap();
    assert_get(
        &request,
        "https://issuer.example.vn/.well-known/openid-credential-issuer/bo-cong-an",
    );

    let request = session
        .on_issuer_metadata(&HttpResponse::json(200, issuer_metadata("")))
        .unwrap();
    assert_get(
        &request,
        "https://issuer.example.vn/.well-known/oauth-authorization-server/bo-cong-an",
    );
    assert_eq!(session.issuer_metadata().unwrap().credential_issuer, ISSUER);

    let step = session
        .on_as_metadata(&HttpResponse::json(200, as_metadata()))
        .unwrap();
    assert_eq!(step, TokenStep::NeedsTxCode(six_digits().unwrap()));

    let request = session.with_tx_code(TX_CODE).unwrap();
    assert_eq!(request.method, Method::Post);
    assert_eq!(request.url, format!("{ISSUER}/token"));
    assert_eq!(
        request.headers,
        vec![
            (
                "Content-Type".to_owned(),
                "application/x-www-form-urlencoded".to_owned()
            ),
            ("Accept".to_owned(), "application/json".to_owned()),
        ]
    );
    assert_eq!(
        request.body.as_deref(),
        Some(
            &b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&pre-authorized_code=SplxlOBeZQQYbYS6WxSbIA&tx_code=493536"[..]
        )
    );

    let request = session.on_token(&token_response()).unwrap().unwrap();
    assert_eq!(request.method, Method::Post);
    assert_eq!(request.url, format!("{ISSUER}/nonce"));
    assert_eq!(
        request.headers,
        vec![("Accept".to_owned(), "application/json".to_owned())]
    );
    assert_eq!(request.body, None);

    session
        .on_nonce(&nonce_response("wKI4LT17ac15ES9bw8ac4"))
        .unwrap();
    let request = session.build_credential_request(&signer, NOW).unwrap();
    assert_eq!(request.method, Method::Post);
    assert_eq!(request.url, format!("{ISSUER}/credential"));
    assert_eq!(
        request.headers,
        vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("Accept".to_owned(), "application/json".to_owned()),
            ("Authorization".to_owned(), format!("Bearer {ACCESS_TOKEN}")),
        ]
    );
    let proof = proof_of(&request);
    assert_eq!(
        String::from_utf8(request.body.clone().unwrap()).unwrap(),
        format!(
            r#"{{"credential_configuration_id":"cccd_sd_jwt","proofs":{{"jwt":["{proof}"]}}}}"#
        )
    );
    let key = verify_proof_jwt(&proof, ISSUER, |n| n == "wKI4LT17ac15ES9bw8ac4", NOW, 60).unwrap();
    assert_eq!(key, signer.public_jwk().unwrap());

    let credential = sd_jwt_vc(&signer, VCT);
    let outcome = session
        .on_credential(&HttpResponse::json(
            200,
            format!(
                r#"{{"credentials":[{{"credential":"{credential}"}}],"notification_id":"3fwe98js"}}"#
            ),
        ))
        .unwrap();
    let CredentialOutcome::Issued(credentials) = outcome else {
        panic!("expected issued credentials, got {outcome:?}");
    };
    assert_eq!(credentials.len(), 1);
    let received = &credentials[0];
    assert_eq!(received.format, "dc+sd-jwt");
    assert_eq!(received.credential_configuration_id, "cccd_sd_jwt");
    assert_eq!(received.vct.as_deref(), Some(VCT));
    assert_eq!(received.credential, credential);
    assert_eq!(received.issuer, ISSUER);
    assert_eq!(received.notification_id.as_deref(), Some("3fwe98js"));
    let names: Vec<&str> = received.display.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["Căn cước", "Identity card"]);

    let shown = format!("{session:?}");
    for secret in [PRE_AUTHORIZED_CODE, TX_CODE, ACCESS_TOKEN] {
        assert!(!shown.contains(secret), "{secret} leaked in Debug");
    }
}

#[test]
fn without_tx_code_nonce_endpoint_or_proofs() {
    let metadata = format!(
        r#"{{"credential_issuer":"{ISSUER}","credential_endpoint":"{ISSUER}/credential",
            "credential_configurations_supported":{{"cccd_sd_jwt":{{"format":"dc+sd-jwt","vct":"urn:cccd"}}}}}}"#
    );
    let (mut session, _) = IssuanceSession::new(offer(None)).unwrap();
    session.set_client_id("giayto-wallet");
    session
        .on_issuer_metadata(&HttpResponse::json(200, metadata))
        .unwrap();
    let TokenStep::Request(token) = session
        .on_as_metadata(&HttpResponse::json(200, as_metadata()))
        .unwrap()
    else {
        panic!("no tx code was asked for");
    };
    assert_eq!(
        token.body.as_deref(),
        Some(
            &b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&pre-authorized_code=SplxlOBeZQQYbYS6WxSbIA&client_id=giayto-wallet"[..]
        )
    );
    assert_eq!(session.on_token(&token_response()).unwrap(), None);
    let request = session.build_credential_request(&holder(), NOW).unwrap();
    assert_eq!(
        request.body.as_deref(),
        Some(&br#"{"credential_configuration_id":"cccd_sd_jwt"}"#[..])
    );
}

#[test]
fn credential_identifier_from_token_response_is_used() {
    let (mut session, _) = to_token(offer(six_digits()));
    session
        .on_token(&HttpResponse::json(
            200,
            format!(
                r#"{{"access_token":"{ACCESS_TOKEN}","token_type":"bearer","authorization_details":[
                    {{"type":"openid_credential","credential_configuration_id":"cccd_sd_jwt",
                      "credential_identifiers":["CCCD-001","CCCD-002"]}}]}}"#
            ),
        ))
        .unwrap();
    session.on_nonce(&nonce_response("n")).unwrap();
    let request = session.build_credential_request(&holder(), NOW).unwrap();
    let body: CredentialRequest = serde_json::from_slice(&request.body.unwrap()).unwrap();
    assert_eq!(body.credential_identifier.as_deref(), Some("CCCD-001"));
    assert_eq!(body.credential_configuration_id, None);
}

#[test]
fn authorization_server_from_metadata_with_path_insertion() {
    let (mut session, _) = IssuanceSession::new(offer(None)).unwrap();
    let request = session
        .on_issuer_metadata(&HttpResponse::json(
            200,
            issuer_metadata(
                r#""authorization_servers": ["https://login.example.vn/realms/vneid"],"#,
            ),
        ))
        .unwrap();
    assert_get(
        &request,
        "https://login.example.vn/.well-known/oauth-authorization-server/realms/vneid",
    );
    // The AS metadata must be for that AS, not for the credential issuer.
    assert_eq!(
        session.on_as_metadata(&HttpResponse::json(200, as_metadata())),
        Err(Oid4vciError::IssuerMismatch {
            endpoint: Endpoint::AuthorizationServerMetadata,
            expected: "https://login.example.vn/realms/vneid".into(),
            found: ISSUER.into(),
        })
    );
}

#[test]
fn authorization_server_hint_must_be_listed() {
    let mut with_hint = offer(None);
    with_hint
        .grants
        .pre_authorized_code
        .as_mut()
        .unwrap()
        .authorization_server = Some("https://other.example.vn".into());
    let (mut session, _) = IssuanceSession::new(with_hint).unwrap();
    assert!(matches!(
        session.on_issuer_metadata(&HttpResponse::json(
            200,
            issuer_metadata(r#""authorization_servers": ["https://login.example.vn"],"#),
        )),
        Err(Oid4vciError::InvalidOffer(_))
    ));
}

#[test]
fn issuer_metadata_checks() {
    let (mut session, _) = IssuanceSession::new(offer(None)).unwrap();
    let other = issuer_metadata("").replace(
        &format!(r#""credential_issuer": "{ISSUER}""#),
        r#""credential_issuer": "https://issuer.example.vn/bo-cong-an/""#,
    );
    assert_eq!(
        session.on_issuer_metadata(&HttpResponse::json(200, other)),
        Err(Oid4vciError::IssuerMismatch {
            endpoint: Endpoint::IssuerMetadata,
            expected: ISSUER.into(),
            found: "https://issuer.example.vn/bo-cong-an/".into(),
        })
    );

    let mut unknown = offer(None);
    unknown.credential_configuration_ids = vec!["passport".into()];
    let (mut session, _) = IssuanceSession::new(unknown).unwrap();
    assert_eq!(
        session.on_issuer_metadata(&HttpResponse::json(200, issuer_metadata(""))),
        Err(Oid4vciError::UnknownConfiguration("passport".into()))
    );

    let (mut session, _) = IssuanceSession::new(offer(None)).unwrap();
    let insecure = issuer_metadata("").replace(
        &format!(r#""credential_endpoint": "{ISSUER}/credential""#),
        r#""credential_endpoint": "http://issuer.example.vn/credential""#,
    );
    assert!(matches!(
        session.on_issuer_metadata(&HttpResponse::json(200, insecure)),
        Err(Oid4vciError::InsecureUrl(_))
    ));

    let (mut session, _) = IssuanceSession::new(offer(None)).unwrap();
    let signed = HttpResponse {
        status: 200,
        headers: vec![("Content-Type".into(), "application/jwt".into())],
        body: b"eyJ.eyJ.sig".to_vec(),
    };
    assert!(matches!(
        session.on_issuer_metadata(&signed),
        Err(Oid4vciError::Unsupported(_))
    ));

    let (mut session, _) = IssuanceSession::new(offer(None)).unwrap();
    let huge = HttpResponse::json(200, vec![b' '; MAX_RESPONSE_BYTES + 1]);
    assert!(matches!(
        session.on_issuer_metadata(&huge),
        Err(Oid4vciError::ResponseTooLarge { .. })
    ));
}

#[test]
fn tx_code_required_but_missing_or_malformed() {
    let (mut session, _) = IssuanceSession::new(offer(six_digits())).unwrap();
    session
        .on_issuer_metadata(&HttpResponse::json(200, issuer_metadata("")))
        .unwrap();
    let step = session
        .on_as_metadata(&HttpResponse::json(200, as_metadata()))
        .unwrap();
    assert!(matches!(step, TokenStep::NeedsTxCode(_)));
    // No token response is accepted before the code was given.
    assert_eq!(
        session.on_token(&token_response()),
        Err(Oid4vciError::OutOfOrder("token response not expected now"))
    );
    for (code, reason) in [
        ("", "empty"),
        ("49353a", "digits only"),
        ("49353", "wrong length"),
        ("4935367", "wrong length"),
    ] {
        let err = session.with_tx_code(code).unwrap_err();
        assert_eq!(err, Oid4vciError::InvalidTxCode(reason));
        if !code.is_empty() {
            assert!(!err.to_string().contains(code));
            assert!(!format!("{err:?}").contains(code));
        }
    }
    assert!(session.with_tx_code(TX_CODE).is_ok());
}

#[test]
fn token_errors_are_mapped_and_allow_a_corrected_tx_code() {
    let (mut session, _) = to_token(offer(six_digits()));
    let err = session
        .on_token(&HttpResponse::json(
            400,
            r#"{"error":"invalid_grant","error_description":"wrong tx_code"}"#,
        ))
        .unwrap_err();
    assert_eq!(
        err,
        Oid4vciError::Issuer {
            endpoint: Endpoint::Token,
            error: IssuerErrorCode::InvalidGrant,
            description: Some("wrong tx_code".into()),
        }
    );
    let retry = session.with_tx_code("000000").unwrap();
    assert!(
        String::from_utf8(retry.body.unwrap())
            .unwrap()
            .ends_with("&tx_code=000000")
    );

    let (mut session, _) = to_token(offer(None));
    assert_eq!(
        session.on_token(&HttpResponse::json(400, r#"{"error":"invalid_client"}"#)),
        Err(Oid4vciError::Issuer {
            endpoint: Endpoint::Token,
            error: IssuerErrorCode::InvalidClient,
            description: None,
        })
    );
}

#[test]
fn dpop_tokens_are_unsupported() {
    let (mut session, _) = to_token(offer(None));
    assert!(matches!(
        session.on_token(&HttpResponse::json(
            200,
            format!(r#"{{"access_token":"{ACCESS_TOKEN}","token_type":"DPoP"}}"#)
        )),
        Err(Oid4vciError::Unsupported(_))
    ));
    let (mut session, _) = to_token(offer(None));
    assert!(matches!(
        session.on_token(&HttpResponse::json(
            200,
            format!(r#"{{"access_token":"{ACCESS_TOKEN}","token_type":"MAC"}}"#)
        )),
        Err(Oid4vciError::InvalidResponse { .. })
    ));
}

#[test]
fn credential_errors_are_mapped() {
    let signer = holder();
    let (mut session, _) = to_credential(&signer);
    assert_eq!(
        session.on_credential(&HttpResponse::json(
            400,
            r#"{"error":"unknown_credential_configuration"}"#
        )),
        Err(Oid4vciError::Issuer {
            endpoint: Endpoint::Credential,
            error: IssuerErrorCode::UnknownCredentialConfiguration,
            description: None,
        })
    );
    session.build_credential_request(&signer, NOW).unwrap();
    let unauthorized = HttpResponse {
        status: 401,
        headers: vec![(
            "WWW-Authenticate".into(),
            r#"Bearer error="invalid_token", error_description="expired""#.into(),
        )],
        body: Vec::new(),
    };
    assert_eq!(
        session.on_credential(&unauthorized),
        Err(Oid4vciError::Issuer {
            endpoint: Endpoint::Credential,
            error: IssuerErrorCode::InvalidToken,
            description: None,
        })
    );
    session.build_credential_request(&signer, NOW).unwrap();
    assert!(matches!(
        session.on_credential(&HttpResponse::json(200, r#"{"credentials":[]}"#)),
        Err(Oid4vciError::InvalidResponse { .. })
    ));
    session.build_credential_request(&signer, NOW).unwrap();
    assert!(matches!(
        session.on_credential(&HttpResponse::json(
            200,
            r#"{"credentials":[{"credential":{"not":"a string"}}]}"#
        )),
        Err(Oid4vciError::InvalidResponse { .. })
    ));
}

#[test]
fn invalid_nonce_is_retried_once_with_a_fresh_nonce() {
    let signer = holder();
    let (mut session, first) = to_credential(&signer);
    let invalid_nonce = HttpResponse::json(400, r#"{"error":"invalid_nonce"}"#);
    assert!(verify_proof_jwt(&proof_of(&first), ISSUER, |n| n == "nonce-1", NOW, 60).is_ok());

    let CredentialOutcome::RetryWithFreshNonce(nonce_request) =
        session.on_credential(&invalid_nonce).unwrap()
    else {
        panic!("expected a nonce retry");
    };
    assert_eq!(nonce_request.method, Method::Post);
    assert_eq!(nonce_request.url, format!("{ISSUER}/nonce"));
    // The credential request cannot be rebuilt with the refused nonce.
    assert!(matches!(
        session.build_credential_request(&signer, NOW),
        Err(Oid4vciError::OutOfOrder(_))
    ));
    // Any 2xx with a body is a nonce response (OpenID4VCI §7.2).
    session
        .on_nonce(&HttpResponse::json(201, r#"{"c_nonce":"nonce-2"}"#))
        .unwrap();
    let second = session.build_credential_request(&signer, NOW + 1).unwrap();
    assert!(verify_proof_jwt(&proof_of(&second), ISSUER, |n| n == "nonce-2", NOW + 1, 60).is_ok());

    assert_eq!(
        session.on_credential(&invalid_nonce),
        Err(Oid4vciError::Issuer {
            endpoint: Endpoint::Credential,
            error: IssuerErrorCode::InvalidNonce,
            description: None,
        })
    );
}

#[test]
fn deferred_issuance() {
    let signer = holder();
    let (mut session, _) = to_credential(&signer);
    let outcome = session
        .on_credential(&HttpResponse::json(
            202,
            r#"{"transaction_id":"8xLOxBtZp8","interval":3600}"#,
        ))
        .unwrap();
    assert_eq!(
        outcome,
        CredentialOutcome::Deferred {
            transaction_id: "8xLOxBtZp8".into(),
            interval: 3600
        }
    );
    let request = session.deferred_credential_request("8xLOxBtZp8").unwrap();
    assert_eq!(request.method, Method::Post);
    assert_eq!(request.url, format!("{ISSUER}/deferred"));
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {ACCESS_TOKEN}").as_str())
    );
    assert_eq!(
        request.body.as_deref(),
        Some(&br#"{"transaction_id":"8xLOxBtZp8"}"#[..])
    );
    let still = session
        .on_deferred_credential(&HttpResponse::json(
            202,
            r#"{"transaction_id":"8xLOxBtZp8","interval":60}"#,
        ))
        .unwrap();
    assert!(matches!(
        still,
        CredentialOutcome::Deferred { interval: 60, .. }
    ));
    session.deferred_credential_request("8xLOxBtZp8").unwrap();
    let credential = sd_jwt_vc(&signer, VCT);
    let CredentialOutcome::Issued(credentials) = session
        .on_deferred_credential(&issued(&credential))
        .unwrap()
    else {
        panic!("expected credentials");
    };
    assert_eq!(credentials[0].credential_configuration_id, "cccd_sd_jwt");
    assert_eq!(credentials[0].credential, credential);
    assert_eq!(
        session.deferred_credential_request("8xLOxBtZp8"),
        Err(Oid4vciError::OutOfOrder("unknown transaction_id"))
    );
}

#[test]
fn proof_algorithm_must_be_accepted_by_the_issuer() {
    let metadata = issuer_metadata("").replace(r#"["ES256", "EdDSA"]"#, r#"["ES384"]"#);
    let (mut session, _) = IssuanceSession::new(offer(None)).unwrap();
    session
        .on_issuer_metadata(&HttpResponse::json(200, metadata))
        .unwrap();
    session
        .on_as_metadata(&HttpResponse::json(200, as_metadata()))
        .unwrap();
    session.on_token(&token_response()).unwrap();
    session.on_nonce(&nonce_response("n")).unwrap();
    assert!(matches!(
        session.build_credential_request(&holder(), NOW),
        Err(Oid4vciError::Unsupported(_))
    ));
}

#[test]
fn steps_out_of_order_are_refused() {
    let (mut session, _) = IssuanceSession::new(offer(None)).unwrap();
    assert!(matches!(
        session.on_token(&token_response()),
        Err(Oid4vciError::OutOfOrder(_))
    ));
    assert!(matches!(
        session.build_credential_request(&holder(), NOW),
        Err(Oid4vciError::OutOfOrder(_))
    ));
}

#[test]
fn credential_bound_to_another_key_or_of_another_type_is_refused() {
    let signer = holder();
    let (mut session, _) = to_credential(&signer);
    let stranger = holder();
    assert_eq!(
        session.on_credential(&issued(&sd_jwt_vc(&stranger, VCT))),
        Err(Oid4vciError::InvalidResponse {
            endpoint: Endpoint::Credential,
            reason: "the credential is bound to another key than the holder's".into(),
        })
    );
    session.build_credential_request(&signer, NOW).unwrap();
    assert_eq!(
        session.on_credential(&issued(&sd_jwt_vc(&signer, "urn:other"))),
        Err(Oid4vciError::InvalidResponse {
            endpoint: Endpoint::Credential,
            reason: "the credential's vct differs from the issuer metadata".into(),
        })
    );
    session.build_credential_request(&signer, NOW).unwrap();
    assert!(matches!(
        session.on_credential(&issued("not-an-sd-jwt")),
        Err(Oid4vciError::InvalidResponse { .. })
    ));
    session.build_credential_request(&signer, NOW).unwrap();
    assert!(matches!(
        session.on_credential(&issued(&sd_jwt_vc(&signer, VCT))),
        Ok(CredentialOutcome::Issued(_))
    ));
}

#[test]
fn several_offered_configurations_with_one_access_token() {
    let signer = holder();
    let mut two = offer(None);
    two.credential_configuration_ids = vec!["cccd_sd_jwt".into(), "org.iso.18013.5.1.mDL".into()];
    let (mut session, _) = to_token(two);
    session.on_token(&token_response()).unwrap();
    session.on_nonce(&nonce_response("n")).unwrap();
    assert_eq!(session.selected_configuration(), "cccd_sd_jwt");
    session.build_credential_request(&signer, NOW).unwrap();
    // Choosing another configuration mid-request does not relabel the answer.
    session
        .select_configuration("org.iso.18013.5.1.mDL")
        .unwrap();
    let CredentialOutcome::Issued(first) = session
        .on_credential(&issued(&sd_jwt_vc(&signer, VCT)))
        .unwrap()
    else {
        panic!("expected credentials");
    };
    assert_eq!(first[0].credential_configuration_id, "cccd_sd_jwt");

    let request = session.build_credential_request(&signer, NOW).unwrap();
    assert_eq!(
        request.body.as_deref(),
        Some(&br#"{"credential_configuration_id":"org.iso.18013.5.1.mDL"}"#[..])
    );
    let CredentialOutcome::Issued(second) = session.on_credential(&issued("omdkb2NUeXBl")).unwrap()
    else {
        panic!("expected credentials");
    };
    assert_eq!(second[0].format, "mso_mdoc");
    assert_eq!(
        second[0].credential_configuration_id,
        "org.iso.18013.5.1.mDL"
    );
    assert_eq!(second[0].credential, "omdkb2NUeXBl");
    assert_eq!(
        session.select_configuration("passport"),
        Err(Oid4vciError::UnknownConfiguration("passport".into()))
    );
}
