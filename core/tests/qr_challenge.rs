//! Two-way mode challenges, one-way key-binding targets, and telling QR texts apart.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod qr_support;

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use giayto_core::qr::image::is_alphanumeric_encoded;
use giayto_core::qr::{
    Challenge, KeyBindingTarget, OFFLINE_AUDIENCE, QrError, QrPayload, classify, pack,
};
use proptest::prelude::*;
use qr_support::*;

const NOW: i64 = 1_767_312_000;

#[test]
fn challenge_round_trips_and_is_alphanumeric() {
    let challenge = Challenge::new(
        "https://csgt.hanoi.gov.vn/tram-12",
        Duration::from_secs(120),
        NOW,
    )
    .unwrap();
    assert_eq!(challenge.expires_at, NOW + 120);
    assert_eq!(URL_SAFE_NO_PAD.decode(&challenge.nonce).unwrap().len(), 16);
    let text = challenge.to_qr_text().unwrap();
    assert!(text.starts_with("GTC1:") && is_alphanumeric_encoded(&text));
    assert_eq!(Challenge::parse(&text, NOW + 120).unwrap(), challenge);
    let target = challenge.key_binding_target();
    assert_eq!(
        (target.aud.as_str(), target.nonce.as_str()),
        (
            "https://csgt.hanoi.gov.vn/tram-12",
            challenge.nonce.as_str()
        )
    );
    assert_eq!(
        classify(&text, NOW).unwrap(),
        QrPayload::Challenge(challenge)
    );
}

#[test]
fn challenge_format_is_pinned() {
    let challenge = Challenge {
        verifier_id: "https://v.example".into(),
        nonce: URL_SAFE_NO_PAD.encode([7u8; 16]),
        expires_at: 1_767_312_120,
    };
    let text = challenge.to_qr_text().unwrap();
    let mut body = vec![7u8; 16];
    body.extend_from_slice(&1_767_312_120i64.to_be_bytes());
    body.extend_from_slice(b"https://v.example");
    assert_eq!(text, format!("GTC1:{}", base45::encode(&body)));
    // Cross-checked with an independent RFC 9285 encoder.
    assert_eq!(
        text,
        "GTC1::*0:*0:*0:*0:*0:*0:*0:*0000000CEDIH1A9DIWENPEJ/5E.EB$CBECP9EB2"
    );
}

#[test]
fn fresh_nonces_differ() {
    let a = Challenge::new("v", Duration::from_secs(60), NOW).unwrap();
    let b = Challenge::new("v", Duration::from_secs(60), NOW).unwrap();
    assert_ne!(a.nonce, b.nonce);
    let one_way = KeyBindingTarget::one_way().unwrap();
    assert_eq!(one_way.aud, OFFLINE_AUDIENCE);
    assert_ne!(one_way.nonce, KeyBindingTarget::one_way().unwrap().nonce);
}

#[test]
fn expired_and_malformed_challenges_are_refused() {
    let challenge = Challenge::new("verifier", Duration::from_secs(60), NOW).unwrap();
    let text = challenge.to_qr_text().unwrap();
    assert_eq!(
        Challenge::parse(&text, NOW + 61),
        Err(QrError::ChallengeExpired {
            expired_at: NOW + 60,
            now: NOW + 61
        })
    );
    assert_eq!(
        classify(&text, NOW + 61),
        Err(QrError::ChallengeExpired {
            expired_at: NOW + 60,
            now: NOW + 61
        })
    );
    assert_eq!(
        Challenge::parse(&text[..20], NOW),
        Err(QrError::Truncated("challenge"))
    );
    assert!(matches!(
        Challenge::new("", Duration::from_secs(1), NOW),
        Err(QrError::InvalidChallenge(_))
    ));
    assert!(matches!(
        Challenge::new("a\nb", Duration::from_secs(1), NOW),
        Err(QrError::InvalidChallenge(_))
    ));
    assert!(matches!(
        Challenge::new("x".repeat(257), Duration::from_secs(1), NOW),
        Err(QrError::InvalidChallenge(_))
    ));
    assert_eq!(
        Challenge::parse("GTC2:AAA", NOW),
        Err(QrError::UnsupportedVersion {
            kind: "challenge",
            version: 2
        })
    );
    let presentation = pack(&age_over_18(2)).unwrap();
    assert!(matches!(
        Challenge::parse(&presentation, NOW),
        Err(QrError::KindMismatch(_))
    ));
    assert!(matches!(
        giayto_core::qr::unpack(&text),
        Err(QrError::KindMismatch(_))
    ));
}

#[test]
fn classify_tells_bound_presentations_from_paper() {
    let bound = licence_traffic_stop(true);
    let paper = licence_traffic_stop(false);
    assert_eq!(
        classify(&pack(&bound).unwrap(), NOW).unwrap(),
        QrPayload::Presentation(bound)
    );
    assert_eq!(
        classify(&pack(&paper).unwrap(), NOW).unwrap(),
        QrPayload::Paper(paper)
    );
    assert_eq!(
        classify("https://example.com", NOW),
        Err(QrError::UnknownPrefix)
    );
}

proptest! {
    #[test]
    fn parse_never_panics(text in "(GTC1:)?[0-9A-Z $%*+./:-]{0,120}", now in any::<i64>()) {
        let _ = Challenge::parse(&text, now);
        let _ = classify(&text, now);
    }

    #[test]
    fn any_valid_challenge_round_trips(id in "\\PC{1,60}", ttl in 0u64..1_000_000, now in 0i64..4_000_000_000) {
        let challenge = Challenge::new(id, Duration::from_secs(ttl), now).unwrap();
        let text = challenge.to_qr_text().unwrap();
        prop_assert!(is_alphanumeric_encoded(&text));
        prop_assert_eq!(Challenge::parse(&text, now).unwrap(), challenge);
    }
}
