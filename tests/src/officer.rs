//! The roadside officer's verifier: core's verifier device pinning the national trust
//! anchor, fed the signed trust list and the status lists while online, then verifying QR
//! images with no network at all, from those cached copies only.

use std::collections::BTreeSet;

use giayto_core::jose::jws::CompactJws;
use giayto_core::jose::{Jwk, Jwks};
use giayto_core::oid4vci::{HttpRequest, HttpResponse};
use giayto_core::trust_list::VerifiedTrustList;
use giayto_core::verifier::{SyncReport, Verdict, VerifierDevice};
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

/// A verifier device: core's [`VerifierDevice`], fed over HTTP while online.
pub struct Officer {
    device: VerifierDevice,
}

impl Officer {
    /// An officer pinning `anchor`, with the roadside policy of core's device (key binding
    /// for the offline audience, a 5-minute window, a replay cache).
    pub fn new(anchor: Jwk) -> Result<Officer, HarnessError> {
        let device = VerifierDevice::new(Jwks { keys: vec![anchor] }, "e2e:officer")
            .ctx("verifier device")?;
        Ok(Officer { device })
    }

    /// Reads the anchor key from the server's `/trust-anchor.json` (in the field it is
    /// configured out of band; the journey takes it once, at the start).
    pub fn pin_from(client: &Client, base_url: &str) -> Result<Officer, HarnessError> {
        let url = format!("{base_url}/trust-anchor.json");
        let jwks: Jwks = serde_json::from_slice(&client.get(&url, None)?.expect(&url, 200)?.body)
            .map_err(|e| HarnessError::Unexpected(format!("anchor: {e}")))?;
        let anchor = jwks
            .keys
            .into_iter()
            .next()
            .ok_or_else(|| HarnessError::Unexpected("no anchor key".into()))?;
        Officer::new(anchor)
    }

    /// The cached trust list.
    pub fn trust_list(&self) -> Option<&VerifiedTrustList> {
        self.device.trust_list()
    }

    /// Goes online: fetches and verifies the trust list, then the status lists of
    /// `refs`, each against the keys of the trusted issuer that signed it.
    pub fn refresh(
        &mut self,
        client: &Client,
        base_url: &str,
        refs: &BTreeSet<StatusRef>,
    ) -> Result<(), HarnessError> {
        let url = format!("{base_url}/trust-list");
        let token = client.get(&url, None)?.expect(&url, 200)?.text()?;
        self.device
            .load_trust_list(&token, now())
            .ctx("trust list")?;
        for r in refs {
            let token = client.get(&r.uri, None)?.expect(&r.uri, 200)?.text()?;
            self.device
                .load_status_list(&r.uri, &token, now())
                .ctx("status list")?;
        }
        Ok(())
    }

    /// Verifies and keeps the trust list `token`.
    pub fn load_trust_list(&mut self, token: &str) -> Result<(), HarnessError> {
        self.device
            .load_trust_list(token, now())
            .ctx("trust list")?;
        Ok(())
    }

    /// Goes online knowing nothing but the pinned anchor and the trust list URL: fetches
    /// and verifies the trust list, then runs core's status sync (every trusted issuer's
    /// Status List Aggregation and every list in it, as conditional requests). Returns the
    /// sync's report.
    pub fn sync(&mut self, client: &Client, base_url: &str) -> Result<SyncReport, HarnessError> {
        let url = format!("{base_url}/trust-list");
        let token = client.get(&url, None)?.expect(&url, 200)?.text()?;
        self.load_trust_list(&token)?;
        self.sync_with(|request| client.perform(request))
    }

    /// Runs core's status sync with the trust list already loaded, performing each request
    /// with `perform` (a failed one is reported by the sync, which goes on).
    pub fn sync_with(
        &mut self,
        mut perform: impl FnMut(&HttpRequest) -> Result<HttpResponse, HarnessError>,
    ) -> Result<SyncReport, HarnessError> {
        let mut sync = self.device.start_status_sync(now()).ctx("status sync")?;
        while let Some(request) = sync.next_request(&self.device) {
            match perform(&request.http) {
                Ok(response) => sync.on_response(&mut self.device, &response),
                Err(e) => sync.on_network_error(e.to_string()),
            }
        }
        Ok(sync.finish())
    }

    /// The device (to read its cache).
    pub fn device(&self) -> &VerifierDevice {
        &self.device
    }

    /// Scans a QR image and verifies it offline.
    pub fn scan(&mut self, png: &[u8]) -> Result<Verdict, HarnessError> {
        let scan = self.device.verify_image(png, now()).ctx("scan QR image")?;
        Ok(scan.verdict)
    }

    /// Verifies QR text offline.
    pub fn verify_text(&mut self, text: &str) -> Result<Verdict, HarnessError> {
        self.verify_text_at(text, now())
    }

    /// Verifies QR text offline with the device's clock at `t` (Unix seconds): a clock
    /// moved forward in tests.
    pub fn verify_text_at(&mut self, text: &str, t: i64) -> Result<Verdict, HarnessError> {
        let scan = self.device.verify_qr_text(text, t).ctx("scan QR text")?;
        Ok(scan.verdict)
    }
}
