//! Untrusted input (offer URIs, response bodies, key proofs, token forms) never panics: it
//! parses or is refused with a typed error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use giayto_core::oid4vci::{
    CredentialOffer, HttpResponse, IssuanceSession, SecretString, TokenRequest, parse_offer_uri,
    verify_proof_jwt,
};
use proptest::prelude::*;

fn session() -> IssuanceSession {
    let offer = CredentialOffer::pre_authorized(
        "https://issuer.example.vn",
        vec!["cccd".into()],
        SecretString::new("code"),
        None,
    );
    IssuanceSession::new(offer).unwrap().0
}

/// Text that looks a little like what the parsers expect, so mutations go deep.
fn jsonish() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[{}\\[\\]\":,a-z_0-9~.%=&?/-]{0,200}",
        Just(r#"{"credential_issuer":"https://issuer.example.vn","credential_endpoint":"https://issuer.example.vn/c","credential_configurations_supported":{"cccd":{"format":"dc+sd-jwt"}}}"#.to_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn offer_uris_never_panic(tail in jsonish()) {
        let _ = parse_offer_uri(&format!("openid-credential-offer://?credential_offer={tail}"));
        let _ = parse_offer_uri(&format!("openid-credential-offer://?credential_offer_uri={tail}"));
        let _ = parse_offer_uri(&tail);
    }

    #[test]
    fn metadata_bodies_never_panic(body in jsonish(), status in 100u16..600) {
        let mut s = session();
        let _ = s.on_issuer_metadata(&HttpResponse::json(status, body.clone()));
        let mut s = session();
        let _ = s.on_issuer_metadata(&HttpResponse::json(200, body.replace("cccd", "x")));
    }

    #[test]
    fn proofs_and_forms_never_panic(text in jsonish()) {
        let _ = verify_proof_jwt(&text, "https://issuer.example.vn", |_| true, 1_760_000_000, 300);
        let dotted = format!("{text}.{text}.{text}");
        let _ = verify_proof_jwt(&dotted, "https://issuer.example.vn", |_| true, 1_760_000_000, 300);
        let _ = TokenRequest::from_form(text.as_bytes());
    }
}
