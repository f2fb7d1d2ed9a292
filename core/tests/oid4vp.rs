//! The OpenID4VP wallet end to end without a network: a test verifier (rcgen registrar CA
//! and leaf, a signed request object, an ephemeral ECDH-ES key) asks, the wallet verifies,
//! assesses the registration, evaluates DCQL, presents and encrypts; the test decrypts
//! with josekit and checks what left the phone. Every refusal has its own test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/test_verifier.rs"]
mod test_verifier;

use std::collections::HashMap;

use giayto_core::catalogue::{self, examples::example_claims};
use giayto_core::jose::jws::CompactJws;
use giayto_core::jose::{Algorithm, Signer, SoftwareSigner, b64};
use giayto_core::oid4vci::{HttpResponse, Method};
use giayto_core::oid4vp::{
    Consent, Oid4vpError, PresentationSession, RegistrationPolicy, RequestView,
};
use giayto_core::sd_jwt::{HashAlg, Presentation};
use giayto_core::sd_jwt_vc::{IssueRequest, issue_document, issue_purpose};
use giayto_core::trust_list::{TrustList, VerifiedTrustList};
use giayto_core::vault::{Vault, VaultKey};
use giayto_core::wallet::Wallet;
use serde_json::{Map, Value, json};
use test_verifier::{Pki, Request, client_id, pki, registration, request, signed_trust_list};

const NOW: i64 = 1_800_000_000;
const ISS: &str = "https://csgt.bocongan.gov.vn/agencies/police";
const RESPONSE_URI: &str = "https://desk.benhvien.example/oid4vp/response/abc";
const REQUEST_URI: &str = "https://desk.benhvien.example/oid4vp/request/abc";

fn licence_vct() -> String {
    catalogue::by_id("driving_licence").unwrap().vct.to_owned()
}

fn trust_list(
    pki: &Pki,
    issuer: &SoftwareSigner,
    registered: Option<Vec<Vec<Value>>>,
) -> VerifiedTrustList {
    let verifiers = registered
        .map(|claims| vec![registration(pki, &licence_vct(), claims)])
        .unwrap_or_default();
    let (token, anchor) = signed_trust_list(pki, ISS, issuer, &licence_vct(), verifiers, NOW);
    TrustList::verify(&token, &anchor, NOW, 0).unwrap()
}

fn request_for(pki: &Pki, dcql: Value) -> Request {
    request(pki, dcql, RESPONSE_URI, NOW)
}

fn invocation(pki: &Pki, scheme: &str) -> String {
    format!(
        "{scheme}://?{}",
        serde_urlencoded::to_string([
            ("client_id", client_id(pki)),
            ("request_uri", REQUEST_URI.to_owned()),
        ])
        .unwrap()
    )
}

/// A wallet holding a driving licence, and optionally `traffic_stop` purpose credentials.
struct Holder {
    wallet: Wallet,
    keys: HashMap<String, SoftwareSigner>,
    issuer: SoftwareSigner,
    id: String,
    _dir: tempfile::TempDir,
}

fn issue_request(holder: &SoftwareSigner) -> IssueRequest {
    let Value::Object(claims) = example_claims("driving_licence").unwrap() else {
        panic!()
    };
    IssueRequest {
        issuer: ISS.into(),
        vct: licence_vct(),
        claims,
        holder_jwk: Some(holder.public_jwk().unwrap()),
        status: None,
        issued_at: NOW - 100,
        not_before: None,
        expires_at: Some(NOW + 86_400),
    }
}

fn holder(purposes: &[&str]) -> Holder {
    let dir = tempfile::tempdir().unwrap();
    let mut wallet =
        Wallet::new(Vault::create(dir.path().join("v"), &VaultKey::generate().unwrap()).unwrap());
    let issuer = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let key = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let full = issue_document(&issue_request(&key), &issuer).unwrap();
    let id = wallet.store(&full, "holder", NOW - 50).unwrap().id;
    let mut keys = HashMap::new();
    keys.insert("holder".to_owned(), key);
    let mut batch = Vec::new();
    for preset in purposes {
        let key = SoftwareSigner::generate(Algorithm::Es256).unwrap();
        let alias = format!("purpose-{preset}");
        batch.push((
            issue_purpose(&issue_request(&key), preset, &issuer).unwrap(),
            alias.clone(),
        ));
        keys.insert(alias, key);
    }
    if !batch.is_empty() {
        wallet
            .add_purpose_credentials(&id, &batch, NOW - 40)
            .unwrap();
    }
    Holder {
        wallet,
        keys,
        issuer,
        id,
        _dir: dir,
    }
}

fn served(token: &str) -> HttpResponse {
    HttpResponse {
        status: 200,
        headers: vec![(
            "Content-Type".into(),
            "application/oauth-authz-req+jwt".into(),
        )],
        body: token.as_bytes().to_vec(),
    }
}

/// Runs the flow up to the consent view.
fn ask(
    holder: &Holder,
    list: &VerifiedTrustList,
    token: &str,
    policy: RegistrationPolicy,
) -> (PresentationSession, Result<RequestView, Oid4vpError>) {
    let pki_invocation = invocation_of(token);
    let (mut session, get) = PresentationSession::start(&pki_invocation).unwrap();
    assert_eq!(get.method, Method::Get);
    assert_eq!(get.url, REQUEST_URI);
    let view = session.on_request_object(&served(token), list, &holder.wallet, policy, NOW);
    (session, view)
}

/// The invocation naming the client id the token claims (as a verifier's QR would).
fn invocation_of(token: &str) -> String {
    let jws = CompactJws::parse(token).unwrap();
    let claims: Map<String, Value> = jws.payload_json().unwrap();
    format!(
        "openid4vp://?{}",
        serde_urlencoded::to_string([
            ("client_id", claims["client_id"].as_str().unwrap()),
            ("request_uri", REQUEST_URI),
        ])
        .unwrap()
    )
}

fn names_query() -> Value {
    json!({
        "credentials": [{
            "id": "licence",
            "format": "dc+sd-jwt",
            "meta": {"vct_values": [licence_vct()]},
            "claims": [
                {"path": ["family_name"]},
                {"path": ["given_name"]}
            ]
        }]
    })
}

/// What a presentation shows, after the SD-JWT rules: the processed claims.
fn shown_claims(presentation: &str) -> Map<String, Value> {
    Presentation::parse(presentation)
        .unwrap()
        .process()
        .unwrap()
        .claims
}

/// The top-level claims outside the envelope, sorted.
fn claim_names(claims: &Map<String, Value>) -> Vec<String> {
    let envelope = [
        "iss", "vct", "iat", "exp", "nbf", "cnf", "status", "aud", "sub",
    ];
    let mut names: Vec<String> = claims
        .keys()
        .filter(|k| !envelope.contains(&k.as_str()))
        .cloned()
        .collect();
    names.sort();
    names
}

#[test]
fn a_registered_verifier_gets_exactly_the_claims_asked_bound_to_its_nonce() {
    let pki = pki();
    let mut holder = holder(&[]);
    let list = trust_list(
        &pki,
        &holder.issuer,
        Some(vec![vec![json!("family_name")], vec![json!("given_name")]]),
    );
    let request = request_for(&pki, names_query());
    let token = request.sign(&pki.leaf_key);
    let (mut session, view) = ask(&holder, &list, &token, RegistrationPolicy::RefuseBeyond);
    let view = view.unwrap();
    assert_eq!(view.registration, "within");
    assert_eq!(view.verifier_name.as_ref().unwrap().en, "Bach Mai Hospital");
    assert!(view.warnings.is_empty());
    assert_eq!(view.response_host, "desk.benhvien.example");
    assert_eq!(view.documents.len(), 1);
    let document = &view.documents[0];
    assert_eq!(document.document_id, holder.id);
    assert!(!document.purpose_credential);
    let shown: Vec<(&str, &str)> = document
        .claims
        .iter()
        .map(|c| (c.path.as_str(), c.label.as_ref().unwrap().en.as_ref()))
        .collect();
    assert_eq!(
        shown,
        [
            ("family_name", "Family name"),
            ("given_name", "Given names")
        ]
    );

    let post = session
        .respond(&mut holder.wallet, &holder.keys, Consent::Required, NOW)
        .unwrap();
    assert_eq!(post.method, Method::Post);
    assert_eq!(post.url, RESPONSE_URI);
    assert_eq!(
        post.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let response = request.open(post.body.as_ref().unwrap());
    assert_eq!(response["state"], "st-1");
    let presentations = response["vp_token"]["licence"].as_array().unwrap();
    assert_eq!(presentations.len(), 1);
    let presentation = presentations[0].as_str().unwrap();
    let claims = shown_claims(presentation);
    assert_eq!(claim_names(&claims), ["family_name", "given_name"]);
    // KB-JWT: aud is the client id, nonce the request's (OpenID4VP 1.0 Appendix B.3.6).
    let parsed = Presentation::parse(presentation).unwrap();
    let kb = CompactJws::parse(parsed.key_binding_jwt().unwrap()).unwrap();
    let kb_claims: Map<String, Value> = kb.payload_json().unwrap();
    assert_eq!(kb_claims["aud"], client_id(&pki).as_str());
    assert_eq!(kb_claims["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(kb_claims["iat"], NOW);
    kb.verify(&holder.keys["holder"].public_jwk().unwrap())
        .unwrap();
    assert_eq!(
        kb_claims["sd_hash"],
        HashAlg::Sha256
            .digest_b64(parsed.sd_jwt_part().as_bytes())
            .as_str()
    );

    // The verifier answers with a redirect for the same-device flow.
    let outcome = session
        .on_response(&HttpResponse::json(
            200,
            br#"{"redirect_uri":"https://desk.benhvien.example/done#x"}"#.to_vec(),
        ))
        .unwrap();
    assert_eq!(
        outcome.redirect_uri.as_deref(),
        Some("https://desk.benhvien.example/done#x")
    );
    // A session answers once.
    assert!(matches!(
        session.respond(&mut holder.wallet, &holder.keys, Consent::Required, NOW),
        Err(Oid4vpError::State(_))
    ));
}

#[test]
fn haip_scheme_and_a_qr_image_of_the_invocation() {
    let pki = pki();
    let uri = invocation(&pki, "haip-vp");
    let png = giayto_core::qr::render_png(&uri, giayto_core::qr::EcLevel::M).unwrap();
    let text = giayto_core::qr::decode_image(&png).unwrap();
    let (session, get) = PresentationSession::start(&text).unwrap();
    assert_eq!(session.invocation().client_id, client_id(&pki));
    assert_eq!(get.url, REQUEST_URI);
}

#[test]
fn an_unregistered_verifier_is_named_as_such_and_may_still_ask() {
    let pki = pki();
    let holder = holder(&[]);
    let list = trust_list(&pki, &holder.issuer, None);
    let token = request_for(&pki, names_query()).sign(&pki.leaf_key);
    let (_, view) = ask(&holder, &list, &token, RegistrationPolicy::RefuseBeyond);
    let view = view.unwrap();
    assert_eq!(view.registration, "not_registered");
    assert_eq!(view.verifier_name, None);
    assert_eq!(view.warnings[0].code, "not_registered");
}

#[test]
fn beyond_registration_warns_by_default_and_is_refused_by_policy() {
    let pki = pki();
    let mut holder = holder(&[]);
    // Registered for the family name only; the request also asks for the given name.
    let list = trust_list(&pki, &holder.issuer, Some(vec![vec![json!("family_name")]]));
    let token = request_for(&pki, names_query()).sign(&pki.leaf_key);
    let (_, view) = ask(&holder, &list, &token, RegistrationPolicy::Warn);
    let view = view.unwrap();
    assert_eq!(view.registration, "beyond");
    assert_eq!(view.warnings[0].code, "beyond_registration");
    // In plain words, by the catalogue's labels (a newcomer saw raw vct URLs and paths).
    assert_eq!(
        view.warnings[0].en,
        "The requester asks for more than it is registered for: Given names (Driving licence)."
    );
    assert_eq!(
        view.warnings[0].vi,
        "Bên yêu cầu hỏi nhiều hơn phạm vi đã đăng ký: Chữ đệm và tên (Giấy phép lái xe)."
    );

    let (mut session, refused) = ask(&holder, &list, &token, RegistrationPolicy::RefuseBeyond);
    assert!(matches!(refused, Err(Oid4vpError::BeyondRegistration(_))));
    assert!(matches!(
        session.respond(&mut holder.wallet, &holder.keys, Consent::All, NOW),
        Err(Oid4vpError::State(_))
    ));
    // The holder's refusal can still be told to the verifier.
    let decline = session.decline().unwrap();
    let form: HashMap<String, String> =
        serde_urlencoded::from_bytes(decline.body.as_ref().unwrap()).unwrap();
    assert_eq!(form["error"], "access_denied");
    assert_eq!(form["state"], "st-1");
}

#[test]
fn a_purpose_credential_answers_when_the_query_asks_for_all_it_holds() {
    let pki = pki();
    let mut holder = holder(&["traffic_stop"]);
    let list = trust_list(&pki, &holder.issuer, Some(vec![]));
    let document = catalogue::by_id("driving_licence").unwrap();
    let paths = document.preset("traffic_stop").unwrap().claims;
    let query = json!({
        "credentials": [{
            "id": "licence",
            "format": "dc+sd-jwt",
            "meta": {"vct_values": [licence_vct(), format!("{}/traffic_stop", licence_vct())]},
            "claims": paths.iter().map(|p| json!({"path": [p]})).collect::<Vec<_>>()
        }]
    });
    let request = request_for(&pki, query);
    let token = request.sign(&pki.leaf_key);
    let (mut session, view) = ask(&holder, &list, &token, RegistrationPolicy::Warn);
    let view = view.unwrap();
    assert!(view.documents[0].purpose_credential);
    assert_eq!(
        view.documents[0].vct,
        format!("{}/traffic_stop", licence_vct())
    );
    let post = session
        .respond(&mut holder.wallet, &holder.keys, Consent::Required, NOW)
        .unwrap();
    let response = request.open(post.body.as_ref().unwrap());
    let presentation = response["vp_token"]["licence"][0].as_str().unwrap();
    let names = claim_names(&shown_claims(presentation));
    let mut expected: Vec<String> = paths.iter().map(|p| (*p).to_owned()).collect();
    expected.sort();
    assert_eq!(names, expected);
    // Signed by the purpose credential's own key, and marked used.
    let parsed = Presentation::parse(presentation).unwrap();
    CompactJws::parse(parsed.key_binding_jwt().unwrap())
        .unwrap()
        .verify(&holder.keys["purpose-traffic_stop"].public_jwk().unwrap())
        .unwrap();
    let stored = holder.wallet.stored(&holder.id).unwrap();
    assert_eq!(stored.purposes[0].shown_at, Some(NOW));
}

#[test]
fn a_purpose_credential_holding_more_than_asked_is_not_used() {
    let pki = pki();
    let mut holder = holder(&["traffic_stop"]);
    let list = trust_list(&pki, &holder.issuer, Some(vec![]));
    let mut query = names_query();
    query["credentials"][0]["meta"]["vct_values"] =
        json!([licence_vct(), format!("{}/traffic_stop", licence_vct())]);
    let request = request_for(&pki, query);
    let (mut session, view) = ask(
        &holder,
        &list,
        &request.sign(&pki.leaf_key),
        RegistrationPolicy::Warn,
    );
    let view = view.unwrap();
    assert!(!view.documents[0].purpose_credential);
    let post = session
        .respond(&mut holder.wallet, &holder.keys, Consent::Required, NOW)
        .unwrap();
    let response = request.open(post.body.as_ref().unwrap());
    let presentation = response["vp_token"]["licence"][0].as_str().unwrap();
    assert_eq!(
        claim_names(&shown_claims(presentation)),
        ["family_name", "given_name"]
    );
    assert_eq!(
        holder.wallet.stored(&holder.id).unwrap().purposes[0].shown_at,
        None
    );
}

// --- DCQL cases -------------------------------------------------------------------

fn view_of(query: Value) -> Result<RequestView, Oid4vpError> {
    let pki = pki();
    let holder = holder(&[]);
    let list = trust_list(&pki, &holder.issuer, Some(vec![]));
    let token = request_for(&pki, query).sign(&pki.leaf_key);
    ask(&holder, &list, &token, RegistrationPolicy::Warn).1
}

fn shown_paths(view: &RequestView) -> Vec<Vec<String>> {
    view.documents
        .iter()
        .map(|d| d.claims.iter().map(|c| c.path.clone()).collect())
        .collect()
}

#[test]
fn dcql_missing_claim_means_no_answer() {
    let mut query = names_query();
    query["credentials"][0]["claims"][1]["path"] = json!(["blood_type"]);
    assert!(matches!(view_of(query), Err(Oid4vpError::NoMatch(_))));
}

#[test]
fn dcql_wrong_type_means_no_answer() {
    let mut query = names_query();
    query["credentials"][0]["meta"]["vct_values"] =
        json!(["https://giayto.gov.vn/vct/judicial_record"]);
    assert!(matches!(view_of(query), Err(Oid4vpError::NoMatch(_))));
}

#[test]
fn dcql_value_filters_treat_a_mismatch_as_absent() {
    let mut matching = names_query();
    matching["credentials"][0]["claims"][0]["values"] = json!(["Nguyễn", "Trần"]);
    assert_eq!(
        shown_paths(&view_of(matching).unwrap()),
        [["family_name", "given_name"]]
    );
    let mut other = names_query();
    other["credentials"][0]["claims"][0]["values"] = json!(["Lê"]);
    assert!(matches!(view_of(other), Err(Oid4vpError::NoMatch(_))));
    // Type matters: the number 1990 is not the string "1990".
    let mut typed = names_query();
    typed["credentials"][0]["claims"][0] = json!({"path": ["birth_date"], "values": [1990]});
    assert!(matches!(view_of(typed), Err(Oid4vpError::NoMatch(_))));
}

#[test]
fn dcql_array_pointers_select_elements_and_values_filter_them() {
    let query = json!({"credentials": [{
        "id": "licence", "format": "dc+sd-jwt", "meta": {"vct_values": [licence_vct()]},
        "claims": [{"path": ["driving_privileges", null, "class"], "values": ["B"]}]
    }]});
    // The element is one Disclosure whose dates are not disclosable apart from it: they
    // come along, and the consent screen says so.
    assert_eq!(
        shown_paths(&view_of(query).unwrap()),
        [[
            "driving_privileges[1].class",
            "driving_privileges[1].issue_date",
            "driving_privileges[1].expiry_date"
        ]]
    );
    let by_index = json!({"credentials": [{
        "id": "licence", "format": "dc+sd-jwt", "meta": {"vct_values": [licence_vct()]},
        "claims": [{"path": ["driving_privileges", 0, "class"]}]
    }]});
    assert_eq!(
        shown_paths(&view_of(by_index).unwrap()),
        [[
            "driving_privileges[0].class",
            "driving_privileges[0].issue_date"
        ]]
    );
}

#[test]
fn dcql_claim_sets_take_the_first_satisfiable_option() {
    let query = json!({"credentials": [{
        "id": "licence", "format": "dc+sd-jwt", "meta": {"vct_values": [licence_vct()]},
        "claims": [
            {"id": "blood", "path": ["blood_type"]},
            {"id": "name", "path": ["full_name"]},
            {"id": "birth", "path": ["birth_date"]}
        ],
        "claim_sets": [["blood"], ["name"], ["name", "birth"]]
    }]});
    assert_eq!(shown_paths(&view_of(query).unwrap()), [["full_name"]]);
    let none = json!({"credentials": [{
        "id": "licence", "format": "dc+sd-jwt", "meta": {"vct_values": [licence_vct()]},
        "claims": [{"id": "blood", "path": ["blood_type"]}, {"id": "name", "path": ["full_name"]}],
        "claim_sets": [["blood"], ["blood", "name"]]
    }]});
    assert!(matches!(view_of(none), Err(Oid4vpError::NoMatch(_))));
}

#[test]
fn dcql_credential_sets_alternatives_and_optional_sets() {
    let query = json!({
        "credentials": [
            {"id": "record", "format": "dc+sd-jwt",
             "meta": {"vct_values": ["https://giayto.gov.vn/vct/judicial_record"]},
             "claims": [{"path": ["full_name"]}]},
            {"id": "licence", "format": "dc+sd-jwt", "meta": {"vct_values": [licence_vct()]},
             "claims": [{"path": ["full_name"]}]},
            {"id": "extra", "format": "dc+sd-jwt", "meta": {"vct_values": [licence_vct()]},
             "claims": [{"path": ["nationality"]}]}
        ],
        "credential_sets": [
            {"options": [["record"], ["licence"]]},
            {"options": [["extra"]], "required": false}
        ]
    });
    let view = view_of(query).unwrap();
    let answered: Vec<(&str, bool)> = view
        .documents
        .iter()
        .map(|d| (d.query_id.as_str(), d.optional))
        .collect();
    assert_eq!(answered, [("licence", false), ("extra", true)]);
    let required_missing = json!({
        "credentials": [
            {"id": "record", "format": "dc+sd-jwt",
             "meta": {"vct_values": ["https://giayto.gov.vn/vct/judicial_record"]}},
            {"id": "licence", "format": "dc+sd-jwt", "meta": {"vct_values": [licence_vct()]}}
        ],
        "credential_sets": [{"options": [["licence"]]}, {"options": [["record"]]}]
    });
    assert!(matches!(
        view_of(required_missing),
        Err(Oid4vpError::NoMatch(_))
    ));
}

#[test]
fn optional_sets_are_shared_only_with_consent_to_all() {
    let pki = pki();
    let mut holder = holder(&[]);
    let list = trust_list(&pki, &holder.issuer, Some(vec![]));
    let query = json!({
        "credentials": [
            {"id": "licence", "format": "dc+sd-jwt", "meta": {"vct_values": [licence_vct()]},
             "claims": [{"path": ["full_name"]}]},
            {"id": "extra", "format": "dc+sd-jwt", "meta": {"vct_values": [licence_vct()]},
             "claims": [{"path": ["nationality"]}]}
        ],
        "credential_sets": [{"options": [["licence"]]}, {"options": [["extra"]], "required": false}]
    });
    let request = request_for(&pki, query);
    let token = request.sign(&pki.leaf_key);
    let (mut session, _) = ask(&holder, &list, &token, RegistrationPolicy::Warn);
    let post = session
        .respond(&mut holder.wallet, &holder.keys, Consent::Required, NOW)
        .unwrap();
    let response = request.open(post.body.as_ref().unwrap());
    let keys: Vec<&String> = response["vp_token"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["licence"]);
    let (mut session, _) = ask(&holder, &list, &token, RegistrationPolicy::Warn);
    let post = session
        .respond(&mut holder.wallet, &holder.keys, Consent::All, NOW)
        .unwrap();
    let response = request.open(post.body.as_ref().unwrap());
    let keys: Vec<&String> = response["vp_token"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["licence", "extra"]);
}

#[test]
fn dcql_no_claims_shows_only_what_is_always_visible() {
    let query = json!({"credentials": [{
        "id": "licence", "format": "dc+sd-jwt", "meta": {"vct_values": [licence_vct()]}
    }]});
    let view = view_of(query).unwrap();
    assert_eq!(view.documents.len(), 1);
    let always: Vec<&str> = view.documents[0]
        .claims
        .iter()
        .map(|c| c.path.as_str())
        .collect();
    // Whatever the issuer made non-disclosable is all that shows.
    let document = catalogue::by_id("driving_licence").unwrap();
    for path in &always {
        let keys: Vec<&str> = path.split(['.', '[']).take(1).collect();
        let spec = document.claim_spec(&keys).unwrap();
        assert_eq!(spec.sd, catalogue::Sd::Never, "{path}");
    }
}

#[test]
fn invalid_queries_are_refused() {
    let invalid = [
        json!({"credentials": []}),
        json!({"credentials": [{"id": "a b", "format": "dc+sd-jwt", "meta": {}}]}),
        json!({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {}}, {"id": "a", "format": "dc+sd-jwt", "meta": {}}]}),
        json!({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {}, "claim_sets": [["x"]]}]}),
        json!({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {}, "claims": [{"path": []}]}]}),
        json!({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {}, "claims": [{"path": ["x"], "values": [{"o": 1}]}]}]}),
        json!({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {}, "claims": [{"path": [-1]}]}]}),
        json!({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {}, "claims": [{"id": "x", "path": ["x"]}], "claim_sets": [["y"]]}]}),
        json!({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {}}], "credential_sets": [{"options": [["b"]]}]}),
    ];
    for query in invalid {
        assert!(
            matches!(view_of(query.clone()), Err(Oid4vpError::InvalidQuery(_))),
            "{query}"
        );
    }
}

// --- Refusals of the request ---------------------------------------------------------

fn refusal(change: impl FnOnce(&Pki, &mut Request) -> Option<String>) -> Oid4vpError {
    let pki = pki();
    let holder = holder(&[]);
    let list = trust_list(&pki, &holder.issuer, Some(vec![]));
    let mut request = request_for(&pki, names_query());
    let token = change(&pki, &mut request).unwrap_or_else(|| request.sign(&pki.leaf_key));
    ask(&holder, &list, &token, RegistrationPolicy::Warn)
        .1
        .unwrap_err()
}

#[test]
fn refused_a_chain_to_an_unknown_registrar() {
    let error = refusal(|_, request| {
        let other = pki();
        request
            .header
            .insert("x5c".into(), json!([b64::encode_standard(&other.leaf_der)]));
        request
            .claims
            .insert("client_id".into(), Value::from(client_id(&other)));
        Some(request.sign(&other.leaf_key))
    });
    assert!(
        matches!(error, Oid4vpError::UntrustedCertificate(_)),
        "{error}"
    );
}

#[test]
fn refused_a_self_signed_leaf_and_a_missing_chain() {
    let error = refusal(|pki, request| {
        // The registrar's own certificate as the leaf: an anchor is not a verifier.
        request
            .header
            .insert("x5c".into(), json!([b64::encode_standard(&pki.ca_der)]));
        None
    });
    assert!(
        matches!(
            error,
            Oid4vpError::UntrustedCertificate(_) | Oid4vpError::ClientIdHashMismatch
        ),
        "{error}"
    );
    let error = refusal(|_, request| {
        request.header.remove("x5c");
        None
    });
    assert!(matches!(error, Oid4vpError::MalformedRequest(_)), "{error}");
}

#[test]
fn refused_a_request_signed_by_another_key() {
    let error = refusal(|_, request| {
        Some(request.sign(&SoftwareSigner::generate(Algorithm::Es256).unwrap()))
    });
    assert!(matches!(error, Oid4vpError::BadSignature), "{error}");
}

#[test]
fn refused_a_client_id_that_is_not_the_leaf_hash() {
    let error = refusal(|_, request| {
        request.claims.insert(
            "client_id".into(),
            Value::from(format!("x509_hash:{}", b64::encode([7u8; 32]))),
        );
        None
    });
    assert!(
        matches!(error, Oid4vpError::ClientIdHashMismatch),
        "{error}"
    );
    let error = refusal(|_, request| {
        request.claims.insert(
            "client_id".into(),
            Value::from("x509_san_dns:desk.benhvien.example"),
        );
        None
    });
    assert!(
        matches!(error, Oid4vpError::UnsupportedClientIdPrefix(_)),
        "{error}"
    );
}

#[test]
fn refused_an_expired_request_and_one_from_the_future() {
    let error = refusal(|_, request| {
        request.claims.insert("exp".into(), Value::from(NOW));
        None
    });
    assert!(
        matches!(error, Oid4vpError::Expired { expired_at } if expired_at == NOW),
        "{error}"
    );
    let error = refusal(|_, request| {
        request
            .claims
            .insert("iat".into(), Value::from(NOW + 3_600));
        None
    });
    assert!(matches!(error, Oid4vpError::NotYetValid { .. }), "{error}");
    let error = refusal(|_, request| {
        request.claims.remove("exp");
        None
    });
    assert!(matches!(error, Oid4vpError::MalformedRequest(_)), "{error}");
}

#[test]
fn refused_a_wrong_response_mode_type_or_response_uri() {
    for mode in ["direct_post", "fragment", "dc_api.jwt"] {
        let error = refusal(|_, request| {
            request
                .claims
                .insert("response_mode".into(), Value::from(mode));
            None
        });
        assert!(
            matches!(error, Oid4vpError::WrongResponseMode(_)),
            "{error}"
        );
    }
    let error = refusal(|_, request| {
        request.header.insert("typ".into(), Value::from("JWT"));
        None
    });
    assert!(matches!(error, Oid4vpError::WrongType(_)), "{error}");
    let error = refusal(|_, request| {
        request.claims.insert(
            "response_uri".into(),
            Value::from("http://desk.benhvien.example/r"),
        );
        None
    });
    assert!(matches!(error, Oid4vpError::Url(_)), "{error}");
    let error = refusal(|_, request| {
        request
            .claims
            .insert("transaction_data".into(), json!(["e30"]));
        None
    });
    assert!(matches!(error, Oid4vpError::Unsupported(_)), "{error}");
}

#[test]
fn refused_a_request_whose_client_id_is_not_the_invocations() {
    let pki = pki();
    let holder = holder(&[]);
    let list = trust_list(&pki, &holder.issuer, Some(vec![]));
    let token = request_for(&pki, names_query()).sign(&pki.leaf_key);
    let (mut session, _) = PresentationSession::start(&format!(
        "openid4vp://?client_id=x509_hash%3Aother&request_uri={}",
        REQUEST_URI
    ))
    .unwrap();
    let error = session
        .on_request_object(
            &served(&token),
            &list,
            &holder.wallet,
            RegistrationPolicy::Warn,
            NOW,
        )
        .unwrap_err();
    assert!(matches!(error, Oid4vpError::ClientIdMismatch), "{error}");
}

#[test]
fn refused_when_the_trust_list_names_no_registrar() {
    let pki = pki();
    let holder = holder(&[]);
    let anchor = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let bare = TrustList {
        iss: "https://trust.giayto.gov.vn".into(),
        iat: NOW - 10,
        exp: NOW + 100,
        issuers: Vec::new(),
        verifier_anchors: Vec::new(),
        verifiers: Vec::new(),
    };
    let list = TrustList::verify(
        &bare.sign(&anchor).unwrap(),
        &anchor.public_jwk().unwrap(),
        NOW,
        0,
    )
    .unwrap();
    let token = request_for(&pki, names_query()).sign(&pki.leaf_key);
    let error = ask(&holder, &list, &token, RegistrationPolicy::Warn)
        .1
        .unwrap_err();
    assert!(matches!(error, Oid4vpError::NoVerifierAnchors), "{error}");
}

#[test]
fn a_request_that_expires_before_consent_is_not_answered() {
    let pki = pki();
    let mut holder = holder(&[]);
    let list = trust_list(&pki, &holder.issuer, Some(vec![]));
    let token = request_for(&pki, names_query()).sign(&pki.leaf_key);
    let (mut session, view) = ask(&holder, &list, &token, RegistrationPolicy::Warn);
    view.unwrap();
    let error = session
        .respond(
            &mut holder.wallet,
            &holder.keys,
            Consent::Required,
            NOW + 300,
        )
        .unwrap_err();
    assert!(matches!(error, Oid4vpError::Expired { .. }), "{error}");
}

#[test]
fn the_verifiers_error_reply_is_reported() {
    let pki = pki();
    let mut holder = holder(&[]);
    let list = trust_list(&pki, &holder.issuer, Some(vec![]));
    let token = request_for(&pki, names_query()).sign(&pki.leaf_key);
    let (mut session, _) = ask(&holder, &list, &token, RegistrationPolicy::Warn);
    session
        .respond(&mut holder.wallet, &holder.keys, Consent::Required, NOW)
        .unwrap();
    let error = session
        .on_response(&HttpResponse::json(
            400,
            br#"{"error":"invalid_request","error_description":"the response came after the request expired"}"#.to_vec(),
        ))
        .unwrap_err();
    assert!(
        matches!(&error, Oid4vpError::Http { status: 400, error: Some(code), .. } if code == "invalid_request"),
        "{error}"
    );
    // The verifier's explanation is carried, not only its code.
    assert_eq!(
        error.to_string(),
        "response_uri answered 400: invalid_request (the response came after the request \
         expired)"
    );
}
