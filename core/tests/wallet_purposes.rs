//! Purpose credentials in the wallet: stored with their document, each shown once with its
//! own key, counted, refilled, and the fallback said out loud; two verifiers who compare
//! what they scanned find no common signature, key, nonce or status index.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{HashMap, HashSet};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use giayto_core::catalogue::{self, examples::example_claims};
use giayto_core::jose::{Algorithm, Signer, SoftwareSigner};
use giayto_core::qr::{self, Challenge};
use giayto_core::sd_jwt::Presentation;
use giayto_core::sd_jwt_vc::{IssueRequest, issue_document, issue_purpose};
use giayto_core::status_list::StatusReference;
use giayto_core::vault::{Vault, VaultKey};
use giayto_core::wallet::{
    Binding, Fallback, PurposeCount, REFILL_BELOW, ShownPreset, Source, Wallet, WalletError,
};
use serde_json::Value;

const NOW: i64 = 1_760_000_000;
const ISS: &str = "https://csgt.bocongan.gov.vn/agencies/police";

struct Issuer {
    signer: SoftwareSigner,
    next_idx: u64,
}

impl Issuer {
    fn new() -> Issuer {
        Issuer {
            signer: SoftwareSigner::generate(Algorithm::Es256).unwrap(),
            next_idx: 40_000,
        }
    }

    fn request(&mut self, holder: &SoftwareSigner) -> IssueRequest {
        let Value::Object(claims) = example_claims("driving_licence").unwrap() else {
            panic!()
        };
        self.next_idx += 7_919;
        IssueRequest {
            issuer: ISS.into(),
            vct: catalogue::by_id("driving_licence").unwrap().vct.into(),
            claims,
            holder_jwk: Some(holder.public_jwk().unwrap()),
            status: Some(StatusReference {
                idx: self.next_idx,
                uri: "https://csgt.bocongan.gov.vn/status-lists/3f9c2a7e51d04b86a1e7c93d0f5b28e4"
                    .into(),
            }),
            issued_at: NOW - 100,
            not_before: None,
            expires_at: Some(NOW + 86_400),
        }
    }

    /// `n` purpose credentials of `preset`, each with a new holder key stored in `keys`.
    fn batch(
        &mut self,
        preset: &str,
        n: usize,
        keys: &mut HashMap<String, SoftwareSigner>,
    ) -> Vec<(String, String)> {
        (0..n)
            .map(|_| {
                let key = SoftwareSigner::generate(Algorithm::Es256).unwrap();
                let alias = format!("purpose-key-{}", keys.len());
                let credential = issue_purpose(&self.request(&key), preset, &self.signer).unwrap();
                keys.insert(alias.clone(), key);
                (credential, alias)
            })
            .collect()
    }
}

struct Setup {
    wallet: Wallet,
    keys: HashMap<String, SoftwareSigner>,
    issuer: Issuer,
    id: String,
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    vault_key: VaultKey,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v");
    let vault_key = VaultKey::generate().unwrap();
    let mut wallet = Wallet::new(Vault::create(&path, &vault_key).unwrap());
    let mut issuer = Issuer::new();
    let holder = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let full = issue_document(&issuer.request(&holder), &issuer.signer).unwrap();
    let id = wallet.store(&full, "holder", NOW).unwrap().id;
    let mut keys = HashMap::new();
    keys.insert("holder".to_owned(), holder);
    Setup {
        wallet,
        keys,
        issuer,
        id,
        _dir: dir,
        path,
        vault_key,
    }
}

impl Setup {
    /// Shows `preset` of the stored licence with the test's keys.
    fn show(
        &mut self,
        preset: &str,
        binding: &Binding,
        fallback: Fallback,
        now: i64,
    ) -> ShownPreset {
        self.wallet
            .present_preset(&self.id, preset, binding, &self.keys, fallback, now)
            .unwrap()
    }
}

fn vct_of(presentation: &str) -> String {
    let p = Presentation::parse(presentation).unwrap();
    p.issuer_payload().unwrap()["vct"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn count(wallet: &Wallet, id: &str, preset: &str) -> PurposeCount {
    wallet
        .purpose_counts(id)
        .unwrap()
        .into_iter()
        .find(|c| c.preset == preset)
        .unwrap()
}

#[test]
fn each_purpose_credential_is_shown_once_then_the_fallback_is_said() {
    let mut s = setup();
    let batch = s.issuer.batch("traffic_stop", 3, &mut s.keys);
    assert_eq!(
        s.wallet
            .add_purpose_credentials(&s.id, &batch, NOW)
            .unwrap(),
        3
    );
    // The same batch again adds nothing.
    assert_eq!(
        s.wallet
            .add_purpose_credentials(&s.id, &batch, NOW)
            .unwrap(),
        0
    );
    assert_eq!(
        count(&s.wallet, &s.id, "traffic_stop"),
        PurposeCount {
            preset: "traffic_stop".into(),
            unused: 3,
            used: 0
        }
    );
    let mut signatures = HashSet::new();
    for left in [2, 1, 0] {
        let shown = s.show(
            "traffic_stop",
            &Binding::OneWay,
            Fallback::ReuseLeastRecentlyShown,
            NOW + 10 - left as i64,
        );
        assert_eq!(shown.source, Source::Purpose { left });
        assert_eq!(shown.source.notice(), None);
        assert_eq!(
            vct_of(&shown.output.presentation),
            "https://giayto.gov.vn/vct/driving_licence/traffic_stop"
        );
        // No disclosure: the issuer JWT, `~`, the KB-JWT.
        assert_eq!(shown.output.presentation.matches('~').count(), 1);
        let issuer_signature = shown.output.presentation.split('~').next().unwrap();
        assert!(
            signatures.insert(issuer_signature.to_owned()),
            "shown twice"
        );
    }
    assert_eq!(count(&s.wallet, &s.id, "traffic_stop").unused, 0);
    // The marks were written to the vault before the QR codes were handed out.
    let reopened = Wallet::new(Vault::open(&s.path, &s.vault_key).unwrap());
    assert_eq!(count(&reopened, &s.id, "traffic_stop").used, 3);

    // None left: the least recently shown one again, and the holder is told.
    let reused = s.show(
        "traffic_stop",
        &Binding::OneWay,
        Fallback::ReuseLeastRecentlyShown,
        NOW + 100,
    );
    assert_eq!(
        reused.source,
        Source::ReusedPurpose {
            last_shown_at: NOW + 8
        }
    );
    let (vi, en) = reused.source.notice().unwrap();
    assert!(
        en.contains("shown before") && vi.contains("đã từng"),
        "{en}"
    );
    // Or the full credential, said just as openly.
    let full = s.show(
        "traffic_stop",
        &Binding::OneWay,
        Fallback::FullCredential,
        NOW + 101,
    );
    assert_eq!(full.source, Source::FullCredential { fallback: true });
    assert!(full.source.notice().unwrap().1.contains("full credential"));
    assert_eq!(
        vct_of(&full.output.presentation),
        "https://giayto.gov.vn/vct/driving_licence"
    );
    // A preset never issued as purpose credentials falls back the same way.
    let age = s.show(
        "age_over_18",
        &Binding::OneWay,
        Fallback::ReuseLeastRecentlyShown,
        NOW,
    );
    assert_eq!(age.source, Source::FullCredential { fallback: true });
    // `full` is the full credential by design, nothing to say.
    let whole = s.show(
        "full",
        &Binding::Paper,
        Fallback::ReuseLeastRecentlyShown,
        NOW,
    );
    assert_eq!(whole.source, Source::FullCredential { fallback: false });
    assert_eq!(whole.source.notice(), None);
}

#[test]
fn refills_replace_used_credentials_and_low_presets_are_named() {
    let mut s = setup();
    let presets: Vec<String> = catalogue::by_id("driving_licence")
        .unwrap()
        .purposes()
        .map(|p| p.preset().name.to_owned())
        .collect();
    assert_eq!(s.wallet.presets_to_refill(&s.id).unwrap(), presets);
    let batch = s.issuer.batch("age_over_18", REFILL_BELOW, &mut s.keys);
    s.wallet
        .add_purpose_credentials(&s.id, &batch, NOW)
        .unwrap();
    assert!(
        !s.wallet
            .presets_to_refill(&s.id)
            .unwrap()
            .contains(&"age_over_18".to_owned())
    );
    s.show(
        "age_over_18",
        &Binding::OneWay,
        Fallback::FullCredential,
        NOW,
    );
    assert!(
        s.wallet
            .presets_to_refill(&s.id)
            .unwrap()
            .contains(&"age_over_18".to_owned())
    );
    let refill = s.issuer.batch("age_over_18", 2, &mut s.keys);
    s.wallet
        .add_purpose_credentials(&s.id, &refill, NOW + 1)
        .unwrap();
    assert_eq!(
        count(&s.wallet, &s.id, "age_over_18"),
        PurposeCount {
            preset: "age_over_18".into(),
            unused: REFILL_BELOW + 1,
            used: 0
        }
    );
}

#[test]
fn only_the_documents_own_purpose_credentials_are_stored() {
    let mut s = setup();
    let holder = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    // The full credential is not a purpose credential.
    let full = issue_document(&s.issuer.request(&holder), &s.issuer.signer).unwrap();
    // Another issuer's purpose credential of the same type.
    let mut request = s.issuer.request(&holder);
    request.issuer = "https://elsewhere.example/agencies/police".into();
    let foreign = issue_purpose(&request, "traffic_stop", &s.issuer.signer).unwrap();
    // A purpose credential of another document type.
    let Value::Object(claims) = example_claims("can_cuoc").unwrap() else {
        panic!()
    };
    let mut request = s.issuer.request(&holder);
    request.vct = catalogue::by_id("can_cuoc").unwrap().vct.into();
    request.claims = claims;
    let other_type = issue_purpose(&request, "identity", &s.issuer.signer).unwrap();
    // One without a holder key.
    let mut request = s.issuer.request(&holder);
    request.holder_jwk = None;
    let unbound = issue_purpose(&request, "traffic_stop", &s.issuer.signer).unwrap();
    for credential in [full, foreign, other_type, unbound] {
        let good = s.issuer.batch("traffic_stop", 1, &mut s.keys);
        let batch = vec![good[0].clone(), (credential, "k".to_owned())];
        assert!(matches!(
            s.wallet.add_purpose_credentials(&s.id, &batch, NOW),
            Err(WalletError::NotAPurposeCredential { .. })
        ));
    }
    // Nothing of a refused batch was kept.
    assert_eq!(count(&s.wallet, &s.id, "traffic_stop").unused, 0);
    // A purpose credential shows its own preset only.
    let batch = s.issuer.batch("traffic_stop", 1, &mut s.keys);
    let error = giayto_core::wallet::present_credential(
        &batch[0].0,
        &giayto_core::wallet::Selection::Preset("identity".into()),
        &Binding::OneWay,
        &s.keys[&batch[0].1],
        NOW,
    )
    .unwrap_err();
    assert!(matches!(error, WalletError::PurposeMismatch { .. }));
    // Its key must be in the key store.
    s.wallet
        .add_purpose_credentials(&s.id, &batch, NOW)
        .unwrap();
    s.keys.remove(&batch[0].1);
    assert!(matches!(
        s.wallet.present_preset(
            &s.id,
            "traffic_stop",
            &Binding::OneWay,
            &s.keys,
            Fallback::FullCredential,
            NOW
        ),
        Err(WalletError::HolderKeyMissing(_))
    ));
}

/// The random bytes of a QR body (signatures, key, nonces, digests: the `raw` field of the
/// codec) without the issuer's `kid`, which is the same for every document it signs.
fn raw_without_kid(qr_text: &str, presentation: &str) -> Vec<u8> {
    let body = base45::decode(qr_text.split_once(':').unwrap().1).unwrap();
    let (mut len, mut shift, mut at) = (0usize, 0, 0);
    loop {
        let byte = body[at];
        at += 1;
        len |= usize::from(byte & 0x7f) << shift;
        shift += 7;
        if byte & 0x80 == 0 {
            break;
        }
    }
    let raw = body[at..at + len].to_vec();
    let p = Presentation::parse(presentation).unwrap();
    let kid = p.issuer_jwt().header().kid.clone().unwrap();
    let kid = URL_SAFE_NO_PAD.decode(kid).unwrap();
    let start = raw.windows(kid.len()).position(|w| w == kid).unwrap();
    [&raw[..start], &raw[start + kid.len()..]].concat()
}

fn shares_a_16_byte_run(a: &[u8], b: &[u8]) -> bool {
    let seen: HashSet<&[u8]> = a.windows(16).collect();
    b.windows(16).any(|w| seen.contains(w))
}

#[test]
fn two_verifiers_comparing_scans_find_nothing_in_common() {
    let mut s = setup();
    let batch = s.issuer.batch("traffic_stop", 2, &mut s.keys);
    s.wallet
        .add_purpose_credentials(&s.id, &batch, NOW)
        .unwrap();
    let mut scans = Vec::new();
    for verifier in ["giayto:police-hanoi", "giayto:police-hue"] {
        let challenge = Challenge::new(verifier, std::time::Duration::from_secs(60), NOW).unwrap();
        let shown = s.show(
            "traffic_stop",
            &Binding::Challenge(challenge),
            Fallback::FullCredential,
            NOW,
        );
        assert!(matches!(shown.source, Source::Purpose { .. }));
        scans.push(shown.output);
    }
    let raw: Vec<Vec<u8>> = scans
        .iter()
        .map(|o| raw_without_kid(&o.qr_text, &o.presentation))
        .collect();
    assert!(
        raw[0].len() > 150,
        "signatures, key and nonce are all there"
    );
    assert!(!shares_a_16_byte_run(&raw[0], &raw[1]));
    // Nor a key or a status index.
    let payloads: Vec<serde_json::Map<String, Value>> = scans
        .iter()
        .map(|o| {
            Presentation::parse(&o.presentation)
                .unwrap()
                .issuer_payload()
                .unwrap()
        })
        .collect();
    assert_ne!(payloads[0]["cnf"], payloads[1]["cnf"]);
    assert_ne!(
        payloads[0]["status"]["status_list"]["idx"],
        payloads[1]["status"]["status_list"]["idx"]
    );
    assert_eq!(
        payloads[0]["status"]["status_list"]["uri"],
        payloads[1]["status"]["status_list"]["uri"]
    );

    // The same test finds the link between two showings of the full credential: its
    // issuer signature and holder key are the same at both verifiers.
    let full: Vec<_> = (0..2)
        .map(|_| {
            s.show(
                "traffic_stop",
                &Binding::OneWay,
                Fallback::FullCredential,
                NOW,
            )
            .output
        })
        .collect();
    let raw_full: Vec<Vec<u8>> = full
        .iter()
        .map(|o| raw_without_kid(&o.qr_text, &o.presentation))
        .collect();
    assert!(shares_a_16_byte_run(&raw_full[0], &raw_full[1]));
    assert!(qr::unpack(&full[0].qr_text).is_ok());
}

/// A document received through the citizen account never had purpose credentials: a
/// preset is shown from the full credential whatever the fallback, and the holder is told
/// that (not that none is left); a refill says why there is nothing to refill.
#[test]
fn a_document_from_the_citizen_account_says_it_has_no_purpose_credentials() {
    use giayto_core::oid4vci::inbox::{InboxEntry, Publisher};
    let mut s = setup();
    let holder = SoftwareSigner::generate(Algorithm::Es256).unwrap();
    let credential = issue_document(&s.issuer.request(&holder), &s.issuer.signer).unwrap();
    let entry = InboxEntry {
        credential_identifier: Some("GPLX-1:v1".into()),
        credential_configuration_id: "driving_licence".into(),
        vct: catalogue::by_id("driving_licence").unwrap().vct.into(),
        document_id: "GPLX-1".into(),
        publisher: Publisher {
            id: "police".into(),
            name_vi: "Bộ Công an".into(),
            name_en: "Ministry of Public Security".into(),
            issuer: ISS.into(),
        },
        state: "valid".into(),
        version: 1,
        published_at: NOW - 100,
        updated_at: NOW - 100,
        valid_until: NOW + 86_400,
        on_behalf_of: None,
    };
    let (id, _) = s
        .wallet
        .store_from_account(&credential, "account-holder", &entry, "GPLX-1:v1", NOW)
        .unwrap();
    s.keys.insert("account-holder".into(), holder);
    for fallback in [Fallback::ReuseLeastRecentlyShown, Fallback::FullCredential] {
        let shown = s
            .wallet
            .present_preset(
                &id,
                "traffic_stop",
                &Binding::OneWay,
                &s.keys,
                fallback,
                NOW,
            )
            .unwrap();
        assert_eq!(
            shown.source,
            Source::NoPurposeCredentials {
                through_account: true
            }
        );
        let (vi, en) = shown.source.notice().unwrap();
        assert_eq!(
            en,
            "This document has no purpose credentials: it was received through the citizen \
             account, so the QR code shows the full credential's disclosures for this purpose."
        );
        assert!(vi.contains("tài khoản công dân"), "{vi}");
    }
    let reason = giayto_core::wallet::no_refill_reason(s.wallet.stored(&id).unwrap());
    assert!(
        reason.contains(
            "This document has no purpose credentials to refill: it was received \
             through the citizen account"
        ),
        "{reason}"
    );
    // A document received by its own offer without any: said, without the account.
    let plain = s.show(
        "traffic_stop",
        &Binding::OneWay,
        Fallback::ReuseLeastRecentlyShown,
        NOW,
    );
    assert_eq!(
        plain.source,
        Source::NoPurposeCredentials {
            through_account: false
        }
    );
}
