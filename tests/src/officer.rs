//! The roadside officer's verifier: pins the national trust anchor, refreshes the signed
//! trust list and the status lists while online, then verifies QR images with no network
//! at all, from those cached copies only.

use std::collections::BTreeSet;

use giayto_core::jose::Jwk;
use giayto_core::jose::jws::CompactJws;
use giayto_core::qr::{self, QrPayload};
use giayto_core::status_list::{StatusCache, verify_token};
use giayto_core::trust_list::{TrustList, VerifiedTrustList};
use giayto_core::verifier::{IssuerTrust, Policy, Verdict, verify_presentation};
use serde_json::Value;

use crate::error::CoreContext as _;
use crate::http::Client;
use crate::{HarnessError, now};

/// Where a credential's status lives: its issuer and status list URI.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StatusRef {
    /// The credential's `iss`.
    pub issuer: String,
    /// `status.status_list.uri`.
    pub uri: String,
}

/// The `iss`, `kid` and status reference of an issued credential.
pub fn credential_facts(credential: &str) -> Result<(String, String, StatusRef), HarnessError> {
    let jwt = credential.split('~').next().unwrap_or_default();
    let jws = CompactJws::parse(jwt).ctx("issuer JWT")?;
    let payload: Value = jws.payload_json().ctx("issuer JWT payload")?;
    let issuer = payload["iss"].as_str().unwrap_or_default().to_owned();
    let uri = payload["status"]["status_list"]["uri"]
        .as_str()
        .ok_or_else(|| HarnessError::Unexpected("credential without status".into()))?
        .to_owned();
    let kid = jws.header().kid.clone().unwrap_or_default();
    Ok((issuer.clone(), kid, StatusRef { issuer, uri }))
}

/// A verifier device.
pub struct Officer {
    anchor: Jwk,
    trust: Option<VerifiedTrustList>,
    statuses: StatusCache,
    policy: Policy,
}

impl Officer {
    /// An officer pinning `anchor`, with the default roadside policy (key binding, a
    /// 5-minute window, a replay cache).
    pub fn new(anchor: Jwk) -> Officer {
        Officer {
            anchor,
            trust: None,
            statuses: StatusCache::new(),
            policy: Policy::default(),
        }
    }

    /// Reads the anchor key from the server's `/trust-anchor.json` (in the field it is
    /// configured out of band; the journey takes it once, at the start).
    pub fn pin_from(client: &Client, base_url: &str) -> Result<Officer, HarnessError> {
        let url = format!("{base_url}/trust-anchor.json");
        let jwks: giayto_core::jose::Jwks =
            serde_json::from_slice(&client.get(&url, None)?.expect(&url, 200)?.body)
                .map_err(|e| HarnessError::Unexpected(format!("anchor: {e}")))?;
        let anchor = jwks
            .keys
            .into_iter()
            .next()
            .ok_or_else(|| HarnessError::Unexpected("no anchor key".into()))?;
        Ok(Officer::new(anchor))
    }

    /// The cached trust list.
    pub fn trust_list(&self) -> Option<&VerifiedTrustList> {
        self.trust.as_ref()
    }

    /// Goes online: fetches and verifies the trust list, then the status lists of
    /// `refs`, each against its issuer's keys from that trust list.
    pub fn refresh(
        &mut self,
        client: &Client,
        base_url: &str,
        refs: &BTreeSet<StatusRef>,
    ) -> Result<(), HarnessError> {
        let url = format!("{base_url}/trust-list");
        let token = client.get(&url, None)?.expect(&url, 200)?.text()?;
        let trust = TrustList::verify(
            token.trim(),
            &self.anchor,
            now(),
            self.policy.trust_list_grace_seconds,
        )
        .ctx("trust list")?;
        for r in refs {
            let issuer = trust.issuer(&r.issuer).ok_or_else(|| {
                HarnessError::Unexpected(format!("{} not on the trust list", r.issuer))
            })?;
            let token = client.get(&r.uri, None)?.expect(&r.uri, 200)?.text()?;
            let verified =
                verify_token(token.trim(), &r.uri, &issuer.jwks, now()).ctx("status list")?;
            self.statuses.insert(verified, now());
        }
        self.trust = Some(trust);
        Ok(())
    }

    /// Scans a QR image and verifies it offline.
    pub fn scan(&self, png: &[u8]) -> Result<Verdict, HarnessError> {
        let text = qr::decode_image(png).ctx("decode QR image")?;
        self.verify_text(&text)
    }

    /// Verifies QR text offline.
    pub fn verify_text(&self, text: &str) -> Result<Verdict, HarnessError> {
        let trust = self
            .trust
            .clone()
            .ok_or_else(|| HarnessError::Unexpected("the officer has no trust list yet".into()))?;
        let presentation = match qr::classify(text, now()).ctx("classify QR")? {
            QrPayload::Presentation(p) => p,
            other => {
                return Err(HarnessError::Unexpected(format!(
                    "not a presentation: {other:?}"
                )));
            }
        };
        Ok(verify_presentation(
            &presentation,
            &self.policy,
            &IssuerTrust::TrustList(trust),
            &self.statuses,
            now(),
        ))
    }
}
