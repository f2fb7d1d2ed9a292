//! The officer's verifier device in the demo: it pins the trust anchor, syncs the signed
//! trust list and the status lists while online, then verifies scanned QR images with no
//! network at all, from those copies only, with a replay cache like a real device.

use giayto_core::jose::{Jwk, Jwks};
use giayto_core::qr::{self, OFFLINE_AUDIENCE, QrPayload};
use giayto_core::status_list::{StatusCache, verify_token};
use giayto_core::trust_list::{TrustList, VerifiedTrustList};
use giayto_core::verifier::{FailureCode, IssuerTrust, Policy, Verdict, verify_presentation};

use crate::error::CliError;
use crate::{net, unix_now};

/// The largest trust or status list fetched.
const MAX_LIST_BYTES: u64 = 8 * 1024 * 1024;

/// A roadside verifier device.
pub struct Officer {
    anchor: Jwk,
    trust: Option<VerifiedTrustList>,
    statuses: StatusCache,
    policy: Policy,
}

impl Officer {
    /// Pins the trust anchor published at `{server}/trust-anchor.json` (a real device has
    /// it configured out of band; the demo takes it once, at the start).
    pub fn pin(agent: &ureq::Agent, server: &str) -> Result<Officer, CliError> {
        let url = format!("{server}/trust-anchor.json");
        let anchors: Jwks = serde_json::from_slice(&net::get(agent, &url, MAX_LIST_BYTES)?)
            .map_err(|e| CliError::Format(format!("{url}: {e}")))?;
        let anchor = anchors
            .keys
            .into_iter()
            .next()
            .ok_or_else(|| CliError::Format(format!("{url}: no key")))?;
        Ok(Officer {
            anchor,
            trust: None,
            statuses: StatusCache::new(),
            policy: Policy {
                accepted_audiences: Some(vec![OFFLINE_AUDIENCE.to_owned()]),
                ..Policy::default()
            },
        })
    }

    /// Online: fetches and verifies the trust list, then each status list of `lists`
    /// (issuer id, list URI) against that issuer's keys on the list. Returns how many
    /// issuers are trusted.
    pub fn sync(
        &mut self,
        agent: &ureq::Agent,
        server: &str,
        lists: &[(String, String)],
    ) -> Result<usize, CliError> {
        let now = unix_now();
        let url = format!("{server}/trust-list");
        let token = text(agent, &url)?;
        let trust = TrustList::verify(
            token.trim(),
            &self.anchor,
            now,
            self.policy.trust_list_grace_seconds,
        )
        .map_err(|e| CliError::Format(format!("trust list: {e}")))?;
        for (issuer, uri) in lists {
            let keys = &trust
                .issuer(issuer)
                .ok_or_else(|| CliError::Format(format!("{issuer} is not on the trust list")))?
                .jwks;
            let token = text(agent, uri)?;
            let verified = verify_token(token.trim(), uri, keys, now)
                .map_err(|e| CliError::Format(format!("status list {uri}: {e}")))?;
            self.statuses.insert(verified, now);
        }
        let issuers = trust.list().issuers.len();
        self.trust = Some(trust);
        Ok(issuers)
    }

    /// Offline: decodes a QR image and verifies what it holds.
    pub fn scan(&self, png: &[u8]) -> Verdict {
        let now = unix_now();
        let presentation = match qr::decode_image(png).and_then(|text| qr::classify(&text, now)) {
            Ok(QrPayload::Presentation(presentation)) => presentation,
            Ok(_) => {
                return Verdict::refused(FailureCode::QrUnreadable, "not a key-bound presentation");
            }
            Err(error) => return Verdict::refused(FailureCode::QrUnreadable, error.to_string()),
        };
        let Some(trust) = &self.trust else {
            return Verdict::refused(FailureCode::UntrustedIssuer, "no trust list synced yet");
        };
        verify_presentation(
            &presentation,
            &self.policy,
            &IssuerTrust::TrustList(trust.clone()),
            &self.statuses,
            now,
        )
    }
}

fn text(agent: &ureq::Agent, url: &str) -> Result<String, CliError> {
    String::from_utf8(net::get(agent, url, MAX_LIST_BYTES)?)
        .map_err(|_| CliError::Format(format!("{} is not text", net::redact_url(url))))
}
