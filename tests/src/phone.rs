//! A citizen's phone: a holder key, an encrypted vault behind core's wallet, receiving
//! documents by OpenID4VCI (core's sans-IO client over ureq) and presenting them as QR
//! images.

use giayto_core::jose::{Algorithm, Signer, SoftwareSigner};
use giayto_core::oid4vci::{
    CredentialOutcome, IssuanceSession, OfferSource, TokenStep, fetch_offer_request, on_offer,
    parse_offer_uri,
};
use giayto_core::qr::{self, EcLevel};
use giayto_core::vault::{Vault, VaultKey};
use giayto_core::wallet::{Binding, Selection, Wallet};

use crate::agency::Offer;
use crate::error::CoreContext as _;
use crate::http::Client;
use crate::{HarnessError, now};

/// One phone.
pub struct Phone {
    holder: SoftwareSigner,
    wallet: Wallet,
    _dir: tempfile::TempDir,
}

/// A presentation as the phone shows it.
#[derive(Debug, Clone)]
pub struct ShownQr {
    /// The QR text (`GT2:...`).
    pub text: String,
}

impl ShownQr {
    /// The QR image on the phone's screen, PNG (error correction M, as the wallet draws it).
    pub fn png(&self) -> Result<Vec<u8>, HarnessError> {
        qr::render_png(&self.text, EcLevel::M).ctx("render QR")
    }
}

impl Phone {
    /// A new phone with a fresh ES256 holder key and an empty vault.
    pub fn new() -> Result<Phone, HarnessError> {
        let dir = tempfile::tempdir()?;
        let key = VaultKey::generate().ctx("vault key")?;
        let vault = Vault::create(dir.path().join("wallet.vault"), &key).ctx("vault")?;
        Ok(Phone {
            holder: SoftwareSigner::generate(Algorithm::Es256).ctx("holder key")?,
            wallet: Wallet::new(vault),
            _dir: dir,
        })
    }

    /// The holder key (for tests that sign with another phone's key).
    pub fn holder(&self) -> &dyn Signer {
        &self.holder
    }

    /// The wallet.
    pub fn wallet(&self) -> &Wallet {
        &self.wallet
    }

    /// Receives the document of `offer` by the pre-authorized code flow and stores it;
    /// returns its wallet id.
    pub fn receive(&mut self, client: &Client, offer: &Offer) -> Result<String, HarnessError> {
        let offer_object = match parse_offer_uri(&offer.uri).ctx("offer uri")? {
            OfferSource::ByValue(o) => o,
            OfferSource::ByReference(url) => {
                on_offer(&client.perform(&fetch_offer_request(&url).ctx("offer request")?)?)
                    .ctx("offer")?
            }
        };
        let (mut session, req) = IssuanceSession::new(offer_object).ctx("session")?;
        let as_req = session
            .on_issuer_metadata(&client.perform(&req)?)
            .ctx("issuer metadata")?;
        let token_req = match session
            .on_as_metadata(&client.perform(&as_req)?)
            .ctx("authorization server metadata")?
        {
            TokenStep::NeedsTxCode(_) => session.with_tx_code(&offer.tx_code).ctx("tx_code")?,
            TokenStep::Request(r) => r,
        };
        if let Some(nonce_req) = session
            .on_token(&client.perform(&token_req)?)
            .ctx("token")?
        {
            session
                .on_nonce(&client.perform(&nonce_req)?)
                .ctx("nonce")?;
        }
        let now = u64::try_from(now()).unwrap_or(0);
        let cred_req = session
            .build_credential_request(&self.holder, now)
            .ctx("credential request")?;
        let credential = match session
            .on_credential(&client.perform(&cred_req)?)
            .ctx("credential")?
        {
            CredentialOutcome::Issued(mut creds) if creds.len() == 1 => creds.remove(0).credential,
            other => {
                return Err(HarnessError::Unexpected(format!(
                    "expected one credential, got {other:?}"
                )));
            }
        };
        let key_id = self
            .holder
            .public_jwk()
            .ctx("holder jwk")?
            .thumbprint()
            .ctx("thumbprint")?;
        let stored = self
            .wallet
            .store(&credential, &key_id, crate::now())
            .ctx("store")?;
        Ok(stored.id)
    }

    /// Presents preset `preset` of document `id` one-way, as a QR code.
    pub fn show(&self, id: &str, preset: &str) -> Result<ShownQr, HarnessError> {
        self.show_signed_by(id, preset, &self.holder)
    }

    /// The same, with the key-binding JWT signed by `key` (another phone's, in attacks).
    pub fn show_signed_by(
        &self,
        id: &str,
        preset: &str,
        key: &dyn Signer,
    ) -> Result<ShownQr, HarnessError> {
        let out = self
            .wallet
            .present(
                id,
                &Selection::Preset(preset.to_owned()),
                &Binding::OneWay,
                key,
                now(),
            )
            .ctx("present")?;
        Ok(ShownQr { text: out.qr_text })
    }

    /// The issuer-signed credential of document `id`.
    pub fn credential(&self, id: &str) -> Result<String, HarnessError> {
        Ok(self.wallet.stored(id).ctx("stored")?.credential.clone())
    }
}
