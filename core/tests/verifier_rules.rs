//! Issue 9's verifier rules: every claim the verifier acts on is read from the Processed
//! SD-JWT Payload (RFC 9901 section 7.1 step 6), an issuer-signed `aud` must name the
//! verifier (RFC 7519 section 4.1.3), dates are RFC 7519 NumericDates read by one parser,
//! `typ` is compared as a media type (RFC 7515 section 4.1.9), and a status list signed by
//! another trusted issuer is named as such.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use giayto_core::jose::jws::{self, header_with_typ};
use giayto_core::jose::{Algorithm, Jwks, Signer, SoftwareSigner, b64};
use giayto_core::sd_jwt::{Disclosure, HashAlg, create_kb_jwt};
use giayto_core::status_list::{StatusCache, StatusList, sign_token};
use giayto_core::trust_list::{IssuerName, TrustList, TrustedIssuer};
use giayto_core::verifier::{
    FailureCode, HolderBinding, IssuerTrust, Policy, Profile, Verdict, verify_presentation,
    verify_status_list_for,
};
use serde_json::{Map, Value, json};

const NOW: i64 = 1_795_000_000;
const ISSUER: &str = "https://issuer.example";
const VERIFIER: &str = "https://verifier.example";
const NONCE: &str = "n-1";
const VCT: &str = "https://giayto.gov.vn/vct/driving_licence";
const MONTH: i64 = 30 * 86_400;

struct Parties {
    issuer: SoftwareSigner,
    holder: SoftwareSigner,
}

fn parties() -> Parties {
    Parties {
        issuer: SoftwareSigner::generate(Algorithm::Es256).unwrap(),
        holder: SoftwareSigner::generate(Algorithm::Es256).unwrap(),
    }
}

fn trust(p: &Parties) -> IssuerTrust {
    IssuerTrust::Keys(Jwks {
        keys: vec![p.issuer.public_jwk().unwrap()],
    })
}

fn policy(profile: Profile) -> Policy {
    Policy {
        profile,
        accepted_audiences: Some(vec![VERIFIER.into()]),
        expected_nonce: Some(NONCE.into()),
        replay_cache: None,
        ..Policy::default()
    }
}

fn disclosure(name: &str, value: Value) -> Disclosure {
    Disclosure::for_property("c2FsdC1zYWx0LXNhbHQ".into(), name, value).unwrap()
}

fn salted(salt: &str, name: &str, value: Value) -> Disclosure {
    Disclosure::for_property(b64::encode(salt), name, value).unwrap()
}

/// The clear payload of a document: issuer, holder key, and `claims`.
fn payload(p: &Parties, claims: Value) -> Map<String, Value> {
    let mut payload = json!({
        "iss": ISSUER,
        "vct": VCT,
        "cnf": {"jwk": p.holder.public_jwk().unwrap()},
    });
    let extra = claims.as_object().unwrap().clone();
    payload.as_object_mut().unwrap().extend(extra);
    payload.as_object().unwrap().clone()
}

/// An SD-JWT+KB signed by the issuer with `typ`, `payload` (`_sd` filled from `disclosed`)
/// and a KB-JWT for this verifier made at `NOW`.
fn present(
    p: &Parties,
    typ: &str,
    mut payload: Map<String, Value>,
    disclosed: &[Disclosure],
) -> String {
    if !disclosed.is_empty() {
        let digests: Vec<String> = disclosed
            .iter()
            .map(|d| d.digest(HashAlg::Sha256))
            .collect();
        payload.insert("_sd".into(), json!(digests));
        payload.insert("_sd_alg".into(), json!("sha-256"));
    }
    let sd_jwt = sd_jwt(p, typ, &payload, disclosed);
    let kb = create_kb_jwt(&sd_jwt, HashAlg::Sha256, VERIFIER, NONCE, NOW, &p.holder).unwrap();
    sd_jwt + &kb
}

fn sd_jwt(
    p: &Parties,
    typ: &str,
    payload: &Map<String, Value>,
    disclosed: &[Disclosure],
) -> String {
    let jwt = jws::sign_compact(
        header_with_typ(typ),
        Value::Object(payload.clone()).to_string().as_bytes(),
        &p.issuer,
    )
    .unwrap();
    let mut out = jwt + "~";
    for d in disclosed {
        out.push_str(d.encoded());
        out.push('~');
    }
    out
}

fn verify(p: &Parties, presentation: &str, profile: Profile) -> Verdict {
    verify_presentation(
        presentation,
        &policy(profile),
        &trust(p),
        &StatusCache::new(),
        NOW,
    )
}

fn codes(verdict: &Verdict) -> Vec<FailureCode> {
    verdict.errors.iter().map(|f| f.code).collect()
}

#[test]
fn validity_claims_in_a_disclosure_count_in_the_plain_profile() {
    let p = parties();
    let exp = NOW - MONTH;
    // The issue's example: `exp` a month in the past, only inside a disclosure, with a
    // valid KB-JWT: it was VALID with `expires_at: null`.
    let hidden = present(
        &p,
        "example+sd-jwt",
        payload(&p, json!({"iat": NOW - 2 * MONTH})),
        &[disclosure("exp", json!(exp))],
    );
    let verdict = verify(&p, &hidden, Profile::SdJwt);
    assert_eq!(codes(&verdict), [FailureCode::Expired], "{verdict:?}");
    assert_eq!(verdict.validity.expires_at, Some(exp));
    assert!(matches!(
        verdict.holder_binding,
        HolderBinding::Verified { .. }
    ));
    // The same claim in the clear gives the same verdict.
    let clear = present(
        &p,
        "example+sd-jwt",
        payload(&p, json!({"iat": NOW - 2 * MONTH, "exp": exp})),
        &[],
    );
    assert_eq!(
        codes(&verify(&p, &clear, Profile::SdJwt)),
        [FailureCode::Expired]
    );

    // nbf and iat, the same kind.
    let nbf = present(
        &p,
        "example+sd-jwt",
        payload(&p, json!({})),
        &[disclosure("nbf", json!(NOW + MONTH))],
    );
    let verdict = verify(&p, &nbf, Profile::SdJwt);
    assert_eq!(codes(&verdict), [FailureCode::NotYetValid]);
    assert_eq!(verdict.validity.not_before, Some(NOW + MONTH));
    let iat = present(
        &p,
        "example+sd-jwt",
        payload(&p, json!({})),
        &[disclosure("iat", json!(NOW + MONTH))],
    );
    assert_eq!(
        codes(&verify(&p, &iat, Profile::SdJwt)),
        [FailureCode::IssuedInFuture]
    );
    // A disclosed `iss` chooses the issuer as a clear one would; a disclosed `cnf` is the
    // holder key the KB-JWT is checked against.
    let mut no_iss = payload(&p, json!({}));
    no_iss.remove("iss");
    let cnf = no_iss.remove("cnf").unwrap();
    let disclosed = present(
        &p,
        "example+sd-jwt",
        no_iss,
        &[disclosure("iss", json!(ISSUER)), salted("s2", "cnf", cnf)],
    );
    let verdict = verify(&p, &disclosed, Profile::SdJwt);
    assert!(verdict.valid, "{:?}", verdict.errors);
    assert_eq!(verdict.issuer.unwrap().id, ISSUER);
}

#[test]
fn sd_jwt_vc_refuses_protected_claims_and_their_sub_claims_in_disclosures() {
    let p = parties();
    // `cnf` with its `jwk` disclosed one level down: a sub-claim of a protected claim.
    let mut clear = payload(&p, json!({"exp": NOW + MONTH}));
    let jwk = clear.remove("cnf").unwrap()["jwk"].clone();
    let inner = disclosure("jwk", jwk);
    clear.insert(
        "cnf".into(),
        json!({"_sd": [inner.digest(HashAlg::Sha256)]}),
    );
    clear.insert("_sd_alg".into(), json!("sha-256"));
    let sd = sd_jwt(&p, "dc+sd-jwt", &clear, std::slice::from_ref(&inner));
    let kb = create_kb_jwt(&sd, HashAlg::Sha256, VERIFIER, NONCE, NOW, &p.holder).unwrap();
    let verdict = verify(&p, &(sd + &kb), Profile::SdJwtVc);
    assert_eq!(
        codes(&verdict),
        [FailureCode::ProtectedClaimDisclosed],
        "{verdict:?}"
    );
    // `iat` MAY be disclosed in SD-JWT VC: honoured from the processed payload.
    let iat = present(
        &p,
        "dc+sd-jwt",
        payload(&p, json!({})),
        &[disclosure("iat", json!(NOW + MONTH))],
    );
    assert_eq!(
        codes(&verify(&p, &iat, Profile::SdJwtVc)),
        [FailureCode::IssuedInFuture]
    );
}

#[test]
fn a_disclosure_named_sd_alg_conflicts_with_the_payloads() {
    let p = parties();
    let sneaky = present(
        &p,
        "example+sd-jwt",
        payload(&p, json!({})),
        &[disclosure("_sd_alg", json!("sha-512"))],
    );
    assert_eq!(
        codes(&verify(&p, &sneaky, Profile::SdJwt)),
        [FailureCode::ClaimNameConflict]
    );
}

#[test]
fn issuer_audience_must_name_this_verifier_in_every_profile() {
    let p = parties();
    for (profile, typ) in [
        (Profile::SdJwtVc, "dc+sd-jwt"),
        (Profile::SdJwt, "example+sd-jwt"),
    ] {
        let other = present(
            &p,
            typ,
            payload(&p, json!({"aud": "https://other-verifier.example"})),
            &[],
        );
        let verdict = verify(&p, &other, profile);
        assert_eq!(
            codes(&verdict),
            [FailureCode::IssuerAudienceMismatch],
            "{profile:?}"
        );
        assert!(
            verdict.errors[0]
                .message
                .contains("https://other-verifier.example")
        );
        assert!(!verdict.claims_json.contains_key("aud"));
        // In a disclosure: the same.
        let hidden = present(
            &p,
            typ,
            payload(&p, json!({})),
            &[disclosure("aud", json!(["https://other-verifier.example"]))],
        );
        assert_eq!(
            codes(&verify(&p, &hidden, profile)),
            [FailureCode::IssuerAudienceMismatch]
        );
        // Naming this verifier, as a string or inside an array: accepted, not listed.
        for aud in [json!(VERIFIER), json!(["https://x.example", VERIFIER])] {
            let ours = present(&p, typ, payload(&p, json!({"aud": aud})), &[]);
            let verdict = verify(&p, &ours, profile);
            assert!(verdict.valid, "{profile:?} {aud}: {:?}", verdict.errors);
            assert!(!verdict.claims_json.contains_key("aud"));
            assert!(!verdict.claims.iter().any(|c| c.path.starts_with("aud")));
        }
        // A verifier that names no audience is never the audience.
        let anyone = Policy {
            accepted_audiences: None,
            ..policy(profile)
        };
        let ours = present(&p, typ, payload(&p, json!({"aud": VERIFIER})), &[]);
        let verdict = verify_presentation(&ours, &anyone, &trust(&p), &StatusCache::new(), NOW);
        assert_eq!(codes(&verdict), [FailureCode::IssuerAudienceMismatch]);
        // Not a string or an array of strings: an invalid envelope.
        let bad = present(&p, typ, payload(&p, json!({"aud": 7})), &[]);
        assert_eq!(
            codes(&verify(&p, &bad, profile)),
            [FailureCode::InvalidEnvelope]
        );
    }
}

/// A KB-JWT with a hand-written header and `iat`.
fn with_kb(p: &Parties, sd_jwt: &str, typ: &str, iat: Value) -> String {
    let claims = json!({
        "iat": iat,
        "aud": VERIFIER,
        "nonce": NONCE,
        "sd_hash": HashAlg::Sha256.digest_b64(sd_jwt.as_bytes()),
    });
    let kb = jws::sign_compact(
        header_with_typ(typ),
        claims.to_string().as_bytes(),
        &p.holder,
    )
    .unwrap();
    format!("{sd_jwt}{kb}")
}

#[test]
fn numeric_dates_may_be_fractional_everywhere() {
    let p = parties();
    let sd = sd_jwt(
        &p,
        "dc+sd-jwt",
        &payload(
            &p,
            json!({"iat": NOW as f64 - 0.5, "exp": NOW as f64 + 3600.25}),
        ),
        &[],
    );
    // The issue's example: a KB-JWT with `"iat": <now>.5` was refused.
    let verdict = verify(
        &p,
        &with_kb(&p, &sd, "kb+jwt", json!(NOW as f64 + 0.5)),
        Profile::SdJwtVc,
    );
    assert!(verdict.valid, "{:?}", verdict.errors);
    assert_eq!(verdict.validity.expires_at, Some(NOW + 3600));
    assert_eq!(verdict.validity.issued_at, Some(NOW - 1));
    // Not a number, negative, out of range: refused with the reason.
    for (iat, reason) in [
        (json!("1795000000"), "not a JSON number"),
        (json!(-5), "negative"),
        (json!(1e300), "after 9999"),
    ] {
        let verdict = verify(
            &p,
            &with_kb(&p, &sd, "kb+jwt", iat.clone()),
            Profile::SdJwtVc,
        );
        assert_eq!(codes(&verdict), [FailureCode::KeyBindingInvalid], "{iat}");
        assert!(
            verdict.errors[0].message.contains(reason),
            "{:?}",
            verdict.errors
        );
    }
    let bad_exp = present(&p, "dc+sd-jwt", payload(&p, json!({"exp": "soon"})), &[]);
    let verdict = verify(&p, &bad_exp, Profile::SdJwtVc);
    assert_eq!(codes(&verdict), [FailureCode::InvalidEnvelope]);
    assert!(verdict.errors[0].message.contains("exp"));
}

#[test]
fn typ_is_compared_as_a_media_type_everywhere() {
    let p = parties();
    for typ in ["dc+sd-jwt", "DC+SD-JWT", "application/dc+sd-jwt"] {
        let ok = present(&p, typ, payload(&p, json!({})), &[]);
        let verdict = verify(&p, &ok, Profile::SdJwtVc);
        assert!(verdict.valid, "{typ}: {:?}", verdict.errors);
    }
    // SD-JWT VC: "The `typ` value MUST use `dc+sd-jwt`"; the old `vc+sd-jwt` is gone.
    for typ in ["vc+sd-jwt", "jwt", "text/dc+sd-jwt"] {
        let wrong = present(&p, typ, payload(&p, json!({})), &[]);
        assert_eq!(
            codes(&verify(&p, &wrong, Profile::SdJwtVc)),
            [FailureCode::WrongType],
            "{typ}"
        );
    }
    let sd = sd_jwt(&p, "dc+sd-jwt", &payload(&p, json!({})), &[]);
    for typ in ["KB+JWT", "application/kb+jwt"] {
        let verdict = verify(&p, &with_kb(&p, &sd, typ, json!(NOW)), Profile::SdJwtVc);
        assert!(verdict.valid, "{typ}: {:?}", verdict.errors);
    }
    let verdict = verify(&p, &with_kb(&p, &sd, "jwt", json!(NOW)), Profile::SdJwtVc);
    assert_eq!(codes(&verdict), [FailureCode::KeyBindingInvalid]);
}

#[test]
fn nothing_is_said_about_binding_when_nothing_was_verified() {
    let p = parties();
    let verdict = verify(&p, "hello", Profile::SdJwtVc);
    assert!(!verdict.valid);
    assert_eq!(verdict.holder_binding, HolderBinding::NotChecked);
    // A signature that does not verify: refused before binding is looked at.
    let honest = present(&p, "dc+sd-jwt", payload(&p, json!({})), &[]);
    let stranger = parties();
    let verdict = verify(&stranger, &honest, Profile::SdJwtVc);
    assert_eq!(codes(&verdict), [FailureCode::BadSignature]);
    assert_eq!(verdict.holder_binding, HolderBinding::NotChecked);
}

#[test]
fn a_refusal_before_the_issuer_signature_shows_nothing_the_signature_did_not_vouch_for() {
    let p = parties();
    let claims = payload(&p, json!({"exp": NOW + MONTH, "iat": NOW - 60}));
    let honest = present(&p, "dc+sd-jwt", claims, &[]);
    let good = verify(&p, &honest, Profile::SdJwtVc);
    assert!(good.valid, "{:?}", good.errors);
    assert!(good.document_type.is_some() && good.issuer.is_some());
    assert_eq!(good.validity.expires_at, Some(NOW + MONTH));
    // The same bytes checked against another issuer's key: no document type, issuer or dates.
    let verdict = verify(&parties(), &honest, Profile::SdJwtVc);
    assert_eq!(codes(&verdict), [FailureCode::BadSignature]);
    assert_eq!(verdict.document_type, None);
    assert_eq!(verdict.issuer, None);
    assert_eq!(verdict.validity.expires_at, None);
    assert_eq!(verdict.validity.issued_at, None);
}

#[test]
fn errors_name_a_wrong_typ_as_people_read_it() {
    let p = parties();
    let verdict = verify(
        &p,
        &present(&p, "vc+sd-jwt", payload(&p, json!({})), &[]),
        Profile::SdJwtVc,
    );
    assert_eq!(codes(&verdict), [FailureCode::WrongType]);
    assert_eq!(
        verdict.errors[0].message,
        "issuer-signed JWT has typ \"vc+sd-jwt\", expected dc+sd-jwt"
    );
}

#[test]
fn a_status_list_signed_by_another_trusted_issuer_is_named() {
    let p = parties();
    let army = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let anchor = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let issuer = |id: &str, vi: &str, en: &str, key: &SoftwareSigner| TrustedIssuer {
        id: id.into(),
        name: IssuerName {
            vi: vi.into(),
            en: en.into(),
        },
        jwks: Jwks {
            keys: vec![key.public_jwk().unwrap().with_thumbprint_kid().unwrap()],
        },
        vcts: vec![VCT.into()],
        status_list_aggregation_endpoint: None,
    };
    let list = TrustList {
        iss: "https://trust.example".into(),
        iat: NOW - 60,
        exp: NOW + MONTH,
        issuers: vec![
            issuer(ISSUER, "Cục CSGT", "Traffic Police", &p.issuer),
            issuer(
                "https://army.example",
                "Bộ Quốc phòng",
                "Ministry of Defence",
                &army,
            ),
        ],
        verifier_anchors: Vec::new(),
        verifiers: Vec::new(),
    };
    let trust = IssuerTrust::TrustList(
        TrustList::verify(
            &list.sign(&anchor).unwrap(),
            &anchor.public_jwk().unwrap(),
            NOW,
            0,
        )
        .unwrap(),
    );
    let uri = "https://issuer.example/status/1";
    let token = sign_token(
        uri,
        &StatusList::new(1, 64).unwrap(),
        NOW - 5,
        None,
        Some(60),
        &army,
    )
    .unwrap();
    let mut statuses = StatusCache::new();
    statuses.insert(
        verify_status_list_for(&trust, uri, &token, NOW).unwrap(),
        NOW,
    );
    let document = present(
        &p,
        "dc+sd-jwt",
        payload(
            &p,
            json!({"status": {"status_list": {"idx": 3, "uri": uri}}}),
        ),
        &[],
    );
    let verdict = verify_presentation(&document, &policy(Profile::SdJwtVc), &trust, &statuses, NOW);
    assert_eq!(codes(&verdict), [FailureCode::StatusListWrongSigner]);
    let message = &verdict.errors[0].message;
    assert!(message.contains("Ministry of Defence"), "{message}");
    assert!(message.contains("https://army.example"), "{message}");
    assert!(
        message.contains("does not vouch for this document"),
        "{message}"
    );
    assert!(!message.contains("unknown key"), "{message}");
}
