//! Credential offers (by value and by reference), well-known URLs and the shared wire
//! bodies, pinned against the examples of the OpenID4VCI 1.0 text.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use giayto_core::oid4vci::{
    CredentialOffer, CredentialRequest, CredentialResponse, Endpoint, ErrorResponse, HttpResponse,
    IssuerErrorCode, Method, OfferSource, Oid4vciError, Proofs, SecretString, TokenRequest,
    TxCodeInputMode, TxCodeSpec, authorization_server_metadata_url, credential_issuer_metadata_url,
    fetch_offer_request, offer_by_reference_uri, on_offer, parse_offer_uri,
};

/// OpenID4VCI §4.1.2, the native-app example, with the display line breaks removed.
const SPEC_OFFER_BY_VALUE: &str = concat!(
    "openid-credential-offer://?",
    "credential_offer=%7B%22credential_issuer%22:%22https://credential-issuer.exam",
    "ple.com%22,%22credential_configuration_ids%22:%5B%22org.iso.18013.5.1.mDL%22%",
    "5D,%22grants%22:%7B%22urn:ietf:params:oauth:grant-type:pre-authorized_code%22",
    ":%7B%22pre-authorized_code%22:%22oaKazRN8I0IbtZ0C7JuMn5%22,%22tx_code%22:%7B%",
    "22input_mode%22:%22text%22,%22description%22:%22Please%20enter%20the%20serial",
    "%20number%20of%20your%20physical%20drivers%20license%22%7D%7D%7D%7D"
);

/// OpenID4VCI §4.1.2, the https example, as a full URL.
const SPEC_OFFER_BY_VALUE_HTTPS: &str = concat!(
    "https://wallet.example.org/credential_offer?",
    "credential_offer=%7B%22credential_issuer%22:%22https://credential-issuer.exam",
    "ple.com%22,%22credential_configuration_ids%22:%5B%22UniversityDegree_JWT%22,%",
    "22org.iso.18013.5.1.mDL%22%5D,%22grants%22:%7B%22urn:ietf:params:oauth:grant-",
    "type:pre-authorized_code%22:%7B%22pre-authorized_code%22:%22oaKazRN8I0IbtZ0C7",
    "JuMn5%22,%22tx_code%22:%7B%7D%7D%7D%7D"
);

/// OpenID4VCI §4.1.3 example.
const SPEC_OFFER_BY_REFERENCE: &str = concat!(
    "openid-credential-offer://?",
    "credential_offer_uri=https%3A%2F%2Fserver%2Eexample%2Ecom%2Fcredential-offer",
    "%2FGkurKxf5T0Y-mnPFCHqWOMiZi4VS138cQO_V7PZHAdM"
);

fn by_value(uri: &str) -> CredentialOffer {
    match parse_offer_uri(uri).unwrap() {
        OfferSource::ByValue(offer) => offer,
        other => panic!("expected an offer by value, got {other:?}"),
    }
}

#[test]
fn spec_offer_by_value_native_app() {
    let offer = by_value(SPEC_OFFER_BY_VALUE);
    assert_eq!(
        offer.credential_issuer,
        "https://credential-issuer.example.com"
    );
    assert_eq!(
        offer.credential_configuration_ids,
        ["org.iso.18013.5.1.mDL"]
    );
    let grant = offer.grants.pre_authorized_code.as_ref().unwrap();
    assert_eq!(grant.pre_authorized_code.expose(), "oaKazRN8I0IbtZ0C7JuMn5");
    let tx = grant.tx_code.as_ref().unwrap();
    assert_eq!(tx.input_mode, Some(TxCodeInputMode::Text));
    assert_eq!(tx.length, None);
    assert_eq!(
        tx.description.as_deref(),
        Some("Please enter the serial number of your physical drivers license")
    );
    assert!(offer.grants.authorization_code.is_none());
}

#[test]
fn spec_offer_by_value_https_with_empty_tx_code() {
    let offer = by_value(SPEC_OFFER_BY_VALUE_HTTPS);
    assert_eq!(
        offer.credential_configuration_ids,
        ["UniversityDegree_JWT", "org.iso.18013.5.1.mDL"]
    );
    let tx = offer
        .grants
        .pre_authorized_code
        .as_ref()
        .unwrap()
        .tx_code
        .as_ref()
        .expect("an empty tx_code object still requires a code");
    assert_eq!(tx, &TxCodeSpec::default());
    assert_eq!(tx.input_mode(), TxCodeInputMode::Numeric);
}

#[test]
fn spec_offer_by_reference() {
    assert_eq!(
        parse_offer_uri(SPEC_OFFER_BY_REFERENCE).unwrap(),
        OfferSource::ByReference(
            "https://server.example.com/credential-offer/GkurKxf5T0Y-mnPFCHqWOMiZi4VS138cQO_V7PZHAdM"
                .into()
        )
    );
}

#[test]
fn offer_debug_hides_the_pre_authorized_code() {
    let offer = by_value(SPEC_OFFER_BY_VALUE);
    assert!(!format!("{offer:?}").contains("oaKazRN8I0IbtZ0C7JuMn5"));
}

#[test]
fn refused_offer_uris() {
    let cases: [(&str, Oid4vciError); 5] = [
        (
            "openid-credential-offer://?credential_offer=%7B%7D&credential_offer_uri=https%3A%2F%2Fa.example",
            Oid4vciError::InvalidOfferUri("both credential_offer and credential_offer_uri"),
        ),
        (
            "openid-credential-offer://?other=1",
            Oid4vciError::InvalidOfferUri("neither credential_offer nor credential_offer_uri"),
        ),
        (
            "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fa.example&credential_offer_uri=https%3A%2F%2Fb.example",
            Oid4vciError::InvalidOfferUri("parameter repeated"),
        ),
        (
            "openid-credential-offer://?credential_offer_uri=http%3A%2F%2Fissuer.example%2Foffer",
            Oid4vciError::InsecureUrl("http://issuer.example/offer".into()),
        ),
        ("not a uri", Oid4vciError::InvalidOfferUri("not a URI")),
    ];
    for (uri, expected) in cases {
        assert_eq!(parse_offer_uri(uri).unwrap_err(), expected, "{uri}");
    }
    let too_long = format!(
        "openid-credential-offer://?credential_offer={}",
        "a".repeat(70_000)
    );
    assert_eq!(
        parse_offer_uri(&too_long).unwrap_err(),
        Oid4vciError::InvalidOfferUri("too long")
    );
}

#[test]
fn refused_offer_objects() {
    let offer_uri = |json: &str| {
        format!(
            "openid-credential-offer://?{}",
            url_encode("credential_offer", json)
        )
    };
    let cases = [
        r#"{"credential_issuer":"https://i.example","credential_configuration_ids":[]}"#,
        r#"{"credential_issuer":"https://i.example","credential_configuration_ids":["a","a"]}"#,
        r#"{"credential_issuer":"http://i.example","credential_configuration_ids":["a"]}"#,
        r#"{"credential_issuer":"https://i.example?x=1","credential_configuration_ids":["a"]}"#,
        r#"{"credential_configuration_ids":["a"]}"#,
        r#"{"credential_issuer":"https://i.example","credential_configuration_ids":["a"],"grants":{"urn:ietf:params:oauth:grant-type:pre-authorized_code":{"pre-authorized_code":""}}}"#,
        r#"{"credential_issuer":"https://i.example","credential_configuration_ids":["a"],"grants":{"urn:ietf:params:oauth:grant-type:pre-authorized_code":{"pre-authorized_code":"c","tx_code":{"input_mode":"emoji"}}}}"#,
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    ];
    for json in cases {
        assert!(parse_offer_uri(&offer_uri(json)).is_err(), "{json}");
    }
    let long_description = format!(
        r#"{{"credential_issuer":"https://i.example","credential_configuration_ids":["a"],"grants":{{"urn:ietf:params:oauth:grant-type:pre-authorized_code":{{"pre-authorized_code":"c","tx_code":{{"description":"{}"}}}}}}}}"#,
        "d".repeat(301)
    );
    assert_eq!(
        parse_offer_uri(&offer_uri(&long_description)).unwrap_err(),
        Oid4vciError::InvalidOffer("tx_code description longer than 300 characters".into())
    );
    // Unknown members are ignored, as the spec requires.
    let extra = r#"{"credential_issuer":"https://i.example","credential_configuration_ids":["a"],"x-vendor":{"k":1}}"#;
    assert!(parse_offer_uri(&offer_uri(extra)).is_ok());
}

fn url_encode(name: &str, value: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair(name, value)
        .finish()
}

#[test]
fn offer_to_uri_is_pinned_and_round_trips() {
    let offer = CredentialOffer::pre_authorized(
        "https://issuer.example.vn",
        vec!["cccd".into()],
        SecretString::new("abc-123"),
        Some(TxCodeSpec {
            input_mode: Some(TxCodeInputMode::Numeric),
            length: Some(6),
            description: Some("Mã gửi qua SMS".into()),
        }),
    );
    let uri = offer.to_uri().unwrap();
    assert_eq!(
        uri,
        concat!(
            "openid-credential-offer://?credential_offer=",
            "%7B%22credential_issuer%22%3A%22https%3A%2F%2Fissuer.example.vn%22%2C",
            "%22credential_configuration_ids%22%3A%5B%22cccd%22%5D%2C",
            "%22grants%22%3A%7B%22urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code%22%3A",
            "%7B%22pre-authorized_code%22%3A%22abc-123%22%2C",
            "%22tx_code%22%3A%7B%22input_mode%22%3A%22numeric%22%2C%22length%22%3A6%2C",
            "%22description%22%3A%22M%C3%A3+g%E1%BB%ADi+qua+SMS%22%7D%7D%7D%7D"
        )
    );
    assert_eq!(by_value(&uri), offer);
    let reference = offer_by_reference_uri("https://issuer.example.vn/offers/42");
    assert_eq!(
        reference,
        "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fissuer.example.vn%2Foffers%2F42"
    );
    assert_eq!(
        parse_offer_uri(&reference).unwrap(),
        OfferSource::ByReference("https://issuer.example.vn/offers/42".into())
    );
}

#[test]
fn offer_by_reference_fetch() {
    let request = fetch_offer_request("https://server.example.com/credential-offer/Gk").unwrap();
    assert_eq!(request.method, Method::Get);
    assert_eq!(
        request.url,
        "https://server.example.com/credential-offer/Gk"
    );
    assert_eq!(request.header("accept"), Some("application/json"));
    assert_eq!(request.body, None);

    let body = r#"{"credential_issuer":"https://credential-issuer.example.com","credential_configuration_ids":["UniversityDegreeCredential"],"grants":{"urn:ietf:params:oauth:grant-type:pre-authorized_code":{"pre-authorized_code":"adhjhdjajkdkhjhdj","tx_code":{"input_mode":"numeric","length":4,"description":"Please provide the one-time code that was sent via e-mail"}}}}"#;
    let offer = on_offer(&HttpResponse::json(200, body)).unwrap();
    assert_eq!(
        offer
            .grants
            .pre_authorized_code
            .unwrap()
            .tx_code
            .unwrap()
            .length,
        Some(4)
    );

    let jwt_typed = HttpResponse {
        status: 200,
        headers: vec![("Content-Type".into(), "application/jwt".into())],
        body: body.into(),
    };
    assert!(matches!(
        on_offer(&jwt_typed),
        Err(Oid4vciError::InvalidResponse {
            endpoint: Endpoint::CredentialOffer,
            ..
        })
    ));
    assert!(matches!(
        on_offer(&HttpResponse::json(404, "")),
        Err(Oid4vciError::UnexpectedStatus { status: 404, .. })
    ));
    assert!(matches!(
        fetch_offer_request("http://server.example.com/o"),
        Err(Oid4vciError::InsecureUrl(_))
    ));
}

#[test]
fn well_known_urls() {
    // OpenID4VCI §12.2.2 examples.
    assert_eq!(
        credential_issuer_metadata_url("https://issuer.example.com/tenant").unwrap(),
        "https://issuer.example.com/.well-known/openid-credential-issuer/tenant"
    );
    assert_eq!(
        credential_issuer_metadata_url("https://tenant.issuer.example.com").unwrap(),
        "https://tenant.issuer.example.com/.well-known/openid-credential-issuer"
    );
    // RFC 8414 §3.1: insertion between host and path, terminating slash removed.
    assert_eq!(
        authorization_server_metadata_url("https://example.com/issuer1").unwrap(),
        "https://example.com/.well-known/oauth-authorization-server/issuer1"
    );
    assert_eq!(
        authorization_server_metadata_url("https://example.com/").unwrap(),
        "https://example.com/.well-known/oauth-authorization-server"
    );
    assert_eq!(
        credential_issuer_metadata_url("https://issuer.example.com:8443/a/b/").unwrap(),
        "https://issuer.example.com:8443/.well-known/openid-credential-issuer/a/b"
    );
    assert_eq!(
        credential_issuer_metadata_url("http://127.0.0.1:3000").unwrap(),
        "http://127.0.0.1:3000/.well-known/openid-credential-issuer"
    );
    assert!(matches!(
        credential_issuer_metadata_url("https://issuer.example.com/?q=1"),
        Err(Oid4vciError::InvalidUrl { .. })
    ));
}

#[test]
fn token_request_form_is_pinned() {
    let request = TokenRequest::pre_authorized(
        SecretString::new("SplxlOBeZQQYbYS6WxSbIA"),
        Some(SecretString::new("493536")),
        None,
    );
    let form = request.to_form().unwrap();
    assert_eq!(
        form,
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&pre-authorized_code=SplxlOBeZQQYbYS6WxSbIA&tx_code=493536"
    );
    assert_eq!(TokenRequest::from_form(form.as_bytes()).unwrap(), request);
    // The spec's example form, with `:` left unencoded, parses too.
    let spec = TokenRequest::from_form(
        b"grant_type=urn:ietf:params:oauth:grant-type:pre-authorized_code&pre-authorized_code=SplxlOBeZQQYbYS6WxSbIA&tx_code=493536&authorization_details=%5B%5D",
    )
    .unwrap();
    assert_eq!(spec, request);
    assert!(TokenRequest::from_form(b"grant_type=a&grant_type=b").is_err());
    assert!(!format!("{request:?}").contains("493536"));
}

#[test]
fn credential_bodies_are_pinned() {
    let request = CredentialRequest {
        credential_identifier: None,
        credential_configuration_id: Some("org.iso.18013.5.1.mDL".into()),
        proofs: Some(Proofs {
            jwt: Some(vec!["eyJ.x.y".into()]),
            other: Default::default(),
        }),
        credential_response_encryption: None,
    };
    assert_eq!(
        serde_json::to_string(&request).unwrap(),
        r#"{"credential_configuration_id":"org.iso.18013.5.1.mDL","proofs":{"jwt":["eyJ.x.y"]}}"#
    );
    let di_vp: CredentialRequest = serde_json::from_str(
        r#"{"credential_identifier":"CivilEngineeringDegree-2023","proofs":{"di_vp":[{"type":["VerifiablePresentation"]}]}}"#,
    )
    .unwrap();
    let proofs = di_vp.proofs.unwrap();
    assert_eq!(proofs.jwt, None);
    assert!(proofs.other.contains_key("di_vp"));

    assert_eq!(
        serde_json::to_string(&CredentialResponse::issued(vec!["LUpixVCWJk0".into()])).unwrap(),
        r#"{"credentials":[{"credential":"LUpixVCWJk0"}]}"#
    );
    assert_eq!(
        serde_json::to_string(&CredentialResponse::deferred("8xLOxBtZp8", 3600)).unwrap(),
        r#"{"transaction_id":"8xLOxBtZp8","interval":3600}"#
    );
    assert_eq!(
        serde_json::to_string(&ErrorResponse::new(
            IssuerErrorCode::InvalidNonce,
            Some("nonce expired")
        ))
        .unwrap(),
        r#"{"error":"invalid_nonce","error_description":"nonce expired"}"#
    );
}
