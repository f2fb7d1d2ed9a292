//! The holder's façade over the [`Vault`]: store a received SD-JWT VC with a display snapshot,
//! list the documents with their vi/en labels, present chosen claims as a QR-ready
//! presentation (one-way, two-way or paper), keep and use each document's purpose
//! credentials ([`purposes`]), and delete. Shared by the `giayto` command and the mobile
//! bindings; sans-IO apart from the vault's own file.

pub mod account;
pub mod history;
pub mod purpose_issuance;
pub mod purposes;
pub mod status_check;

pub use purpose_issuance::{
    KeptPurposes, PURPOSE_BATCH, PurposeFailure, PurposeIssuance, PurposeReceipt, PurposeStep,
    offered_purposes,
};
pub use purposes::{
    Fallback, HolderKeys, MAX_PURPOSE_CREDENTIALS, PurposeCount, REFILL_BELOW, ShownPreset, Source,
    no_refill_reason, refill_refused_reason,
};

use ring::digest::{SHA256, digest};
use serde_json::{Map, Value, json};

use crate::catalogue::{self, DocumentType, Label, Purpose};
use crate::jose::Signer;
use crate::qr::{self, Challenge, KeyBindingTarget, QrError};
use crate::sd_jwt::{ClaimPath, PathSegment, SdJwt, SdJwtError};
use crate::sd_jwt_vc::{SD_JWT_VC_TYP, VcEnvelope, VcError};
use crate::vault::{StoredCredential, Vault, VaultError};
use crate::verifier::Names;

/// Hex digits of the issuer-JWT digest that make a stored document's id.
const ID_HEX_DIGITS: usize = 16;

/// Why a wallet operation failed. Messages never contain claim values or keys.
#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    /// No stored document has this id.
    #[error("no document with id {0:?} in the wallet")]
    NotFound(String),
    /// The received credential is not a well-formed SD-JWT that processes.
    #[error("the credential is not a valid SD-JWT: {0}")]
    Credential(#[source] SdJwtError),
    /// The credential's SD-JWT VC envelope (`iss`, `vct`, `cnf`, ...) is missing or wrong.
    #[error("the credential is not a valid SD-JWT VC: {0}")]
    Envelope(#[from] VcError),
    /// The preset is not defined for this document's type; the message lists those that
    /// are (`--preset hospital` failed without saying which exist).
    #[error("document type {vct} has no preset {preset:?}; its presets: {known}")]
    UnknownPreset {
        /// The document type.
        vct: String,
        /// The preset asked for.
        preset: String,
        /// The type's presets, comma-separated, in catalogue order.
        known: String,
    },
    /// A selection named no claim at all.
    #[error("the selection is empty: name at least one claim or a preset")]
    EmptySelection,
    /// A credential offered as a purpose credential of a document is not one of its
    /// purpose types, not from its issuer, or not key-bound.
    #[error("{vct} is not a purpose credential of the document {document} from its issuer")]
    NotAPurposeCredential {
        /// The credential's type.
        vct: String,
        /// The document's type.
        document: String,
    },
    /// A document would keep more purpose credentials than allowed.
    #[error("a document keeps at most {max} purpose credentials")]
    TooManyPurposeCredentials {
        /// The bound.
        max: usize,
    },
    /// The key store has no key with this alias.
    #[error("the key store has no holder key {0:?}")]
    HolderKeyMissing(String),
    /// A purpose credential shows its own preset and nothing else.
    #[error("the purpose credential {vct} shows only its own preset")]
    PurposeMismatch {
        /// The purpose credential's type.
        vct: String,
    },
    /// Presets exist only for catalogue types.
    #[error("document type {0} is not in the catalogue, so it has no presets; select claims")]
    NotInCatalogue(String),
    /// Selecting the disclosures or signing the key-binding JWT failed.
    #[error("could not build the presentation: {0}")]
    Presentation(#[source] SdJwtError),
    /// The credential has no `cnf` key, so it cannot be presented with key binding.
    #[error("the credential is not bound to a holder key (no cnf), present it as paper")]
    NotKeyBound,
    /// The presentation could not be packed into QR text.
    #[error("could not pack the presentation for a QR code: {0}")]
    Qr(#[from] QrError),
    /// The vault could not be read or written.
    #[error(transparent)]
    Vault(#[from] VaultError),
}

/// Which claims to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// A named preset of the document's type (`traffic_stop`, `age_over_18`, `full`, ...).
    Preset(String),
    /// Claim paths in the `a/*/b` syntax; each also shows what lies below it.
    Claims(Vec<String>),
}

/// How the presentation is bound to the holder's device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    /// One-way: a KB-JWT for [`qr::OFFLINE_AUDIENCE`] with a fresh random 128-bit nonce.
    OneWay,
    /// Two-way: a KB-JWT answering the verifier's challenge (its id as `aud`, its nonce).
    Challenge(Challenge),
    /// A KB-JWT for an explicit audience and nonce (an online verifier's request).
    Target(KeyBindingTarget),
    /// No key binding: the printable paper form, which a verifier reports as not bound to
    /// a device.
    Paper,
}

impl Binding {
    /// The `aud` and `nonce` the KB-JWT must carry, `None` for paper.
    fn target(&self) -> Result<Option<KeyBindingTarget>, WalletError> {
        Ok(match self {
            Binding::OneWay => Some(KeyBindingTarget::one_way()?),
            Binding::Challenge(challenge) => Some(challenge.key_binding_target()),
            Binding::Target(target) => Some(target.clone()),
            Binding::Paper => None,
        })
    }
}

/// A presentation ready to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentationOutput {
    /// The compact SD-JWT(+KB) presentation.
    pub presentation: String,
    /// The same, packed as QR text (`GT2:...`, or `GTP2:...` for paper).
    pub qr_text: String,
}

/// One claim of a stored document, as the holder sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimEntry {
    /// Where it is, as the verifier shows it (`driving_privileges[0].class`).
    pub path: String,
    /// Its labels, for catalogue types.
    pub label: Option<Names>,
    /// Its value.
    pub value: Value,
}

/// A stored document, ready to list or show.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentView {
    /// Wallet-local id.
    pub id: String,
    /// The `vct`.
    pub vct: String,
    /// The type's names, from the display snapshot.
    pub name: Option<Names>,
    /// The `iss`.
    pub issuer: String,
    /// `exp`, when the credential has one.
    pub expires_at: Option<i64>,
    /// When the wallet received it.
    pub received_at: i64,
    /// Every claim (all disclosures applied), leaves only.
    pub claims: Vec<ClaimEntry>,
}

/// The holder's wallet: a [`Vault`] and the logic around it.
#[derive(Debug)]
pub struct Wallet {
    vault: Vault,
}

impl Wallet {
    /// A wallet over an open vault.
    pub fn new(vault: Vault) -> Wallet {
        Wallet { vault }
    }

    /// The vault underneath.
    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    /// Stores a credential as received from an issuer (compact SD-JWT VC with all
    /// disclosures), after checking that it parses, processes and carries an SD-JWT VC
    /// envelope. Its id is derived from the issuer-signed JWT, so storing the same
    /// credential again replaces it. The issuer signature is not checked here: the
    /// verifier checks it against the trust list.
    pub fn store(
        &mut self,
        credential: &str,
        holder_key_id: &str,
        now: i64,
    ) -> Result<StoredCredential, WalletError> {
        self.insert(Parsed::read(credential)?, holder_key_id, now)
    }

    fn insert(
        &mut self,
        parsed: Parsed,
        holder_key_id: &str,
        now: i64,
    ) -> Result<StoredCredential, WalletError> {
        let stored = parsed.into_stored(holder_key_id, now);
        self.vault.insert(stored.clone())?;
        Ok(stored)
    }

    /// Every stored document, in the order received.
    pub fn documents(&self) -> Result<Vec<DocumentView>, WalletError> {
        self.vault.list().iter().map(view).collect()
    }

    /// One stored document.
    pub fn document(&self, id: &str) -> Result<DocumentView, WalletError> {
        view(self.stored(id)?)
    }

    /// The stored credential with this id.
    pub fn stored(&self, id: &str) -> Result<&StoredCredential, WalletError> {
        self.vault
            .get(id)
            .ok_or_else(|| WalletError::NotFound(id.to_owned()))
    }

    /// Presents the claims of `selection` from document `id`, bound as `binding` says,
    /// signed by `holder` at time `now`.
    pub fn present(
        &self,
        id: &str,
        selection: &Selection,
        binding: &Binding,
        holder: &dyn Signer,
        now: i64,
    ) -> Result<PresentationOutput, WalletError> {
        present_credential(
            &self.stored(id)?.credential,
            selection,
            binding,
            holder,
            now,
        )
    }

    /// Marks purpose credential `index` of document `id` shown at `now` (an OpenID4VP
    /// answer used it), written to the vault at once.
    pub fn mark_purpose_shown(
        &mut self,
        id: &str,
        index: usize,
        now: i64,
    ) -> Result<(), WalletError> {
        let mut updated = self.stored(id)?.clone();
        let purpose = updated
            .purposes
            .get_mut(index)
            .ok_or_else(|| WalletError::NotFound(id.to_owned()))?;
        purpose.shown_at = Some(now);
        self.vault.insert(updated)?;
        Ok(())
    }

    /// Deletes document `id`.
    pub fn delete(&mut self, id: &str) -> Result<(), WalletError> {
        if self.vault.remove(id)? {
            Ok(())
        } else {
            Err(WalletError::NotFound(id.to_owned()))
        }
    }
}

/// Presents the claims of `selection` from an issued credential (compact SD-JWT VC with all
/// disclosures): what [`Wallet::present`] does for a stored one, for credentials kept
/// elsewhere (a file, a test).
pub fn present_credential(
    credential: &str,
    selection: &Selection,
    binding: &Binding,
    holder: &dyn Signer,
    now: i64,
) -> Result<PresentationOutput, WalletError> {
    let parsed = Parsed::read(credential)?;
    // A purpose credential holds exactly its preset's claims, none disclosable: it is shown
    // whole, and only for its own preset.
    let purpose = Purpose::by_vct(&parsed.envelope.vct);
    let selectors = match (selection, purpose) {
        (Selection::Preset(name), Some(purpose)) if purpose.preset().name == name => Vec::new(),
        (_, Some(_)) => {
            return Err(WalletError::PurposeMismatch {
                vct: parsed.envelope.vct.clone(),
            });
        }
        (Selection::Claims(paths), None) => paths.clone(),
        (Selection::Preset(name), None) => {
            let document = catalogue::by_vct(&parsed.envelope.vct)
                .ok_or_else(|| WalletError::NotInCatalogue(parsed.envelope.vct.clone()))?;
            document
                .preset_selectors(name)
                .ok_or_else(|| WalletError::UnknownPreset {
                    vct: parsed.envelope.vct.clone(),
                    preset: name.clone(),
                    known: document.preset_names().join(", "),
                })?
        }
    };
    if selectors.is_empty() && matches!(selection, Selection::Claims(_)) {
        return Err(WalletError::EmptySelection);
    }
    let presentation = match binding.target()? {
        None => parsed
            .sd_jwt
            .present(&selectors)
            .map_err(WalletError::Presentation)?,
        Some(target) => {
            if parsed.envelope.holder_key.is_none() {
                return Err(WalletError::NotKeyBound);
            }
            parsed
                .sd_jwt
                .present_with_key_binding(&selectors, &target.aud, &target.nonce, now, holder)
                .map_err(WalletError::Presentation)?
        }
    };
    let qr_text = qr::pack(&presentation)?;
    Ok(PresentationOutput {
        presentation,
        qr_text,
    })
}

/// The holder key (`cnf.jwk`) an issued SD-JWT VC is bound to: what a wallet matches
/// against its own keys to know which key presents it.
///
/// Errors: [`WalletError::Credential`], [`WalletError::Envelope`], and
/// [`WalletError::NotKeyBound`] when it has no `cnf`.
pub fn holder_jwk_of(credential: &str) -> Result<crate::jose::Jwk, WalletError> {
    Parsed::read(credential)?
        .envelope
        .holder_key
        .ok_or(WalletError::NotKeyBound)
}

/// A credential read and processed with all its disclosures.
struct Parsed {
    sd_jwt: SdJwt,
    envelope: VcEnvelope,
    claims: Map<String, Value>,
}

impl Parsed {
    /// The vault entry of a credential received just now, kept under key alias
    /// `holder_key_id`; its id comes from the issuer-signed JWT.
    fn into_stored(self, holder_key_id: &str, now: i64) -> StoredCredential {
        StoredCredential {
            id: document_id(self.sd_jwt.issuer_jwt()),
            vct: self.envelope.vct.clone(),
            format: SD_JWT_VC_TYP.to_owned(),
            credential: self.sd_jwt.to_compact(),
            holder_key_id: holder_key_id.to_owned(),
            issuer: self.envelope.iss.clone(),
            received_at: now,
            display: display_snapshot(&self.envelope, &self.claims),
            purposes: Vec::new(),
            refill: None,
            account: None,
        }
    }

    fn read(credential: &str) -> Result<Parsed, WalletError> {
        let sd_jwt = SdJwt::parse(credential.trim()).map_err(WalletError::Credential)?;
        let processed = sd_jwt.process().map_err(WalletError::Credential)?;
        // The envelope is read from the processed payload, as a verifier reads it.
        crate::sd_jwt_vc::check_no_protected_disclosed(&processed)?;
        let envelope = VcEnvelope::read(&processed.claims, true)?;
        Ok(Parsed {
            sd_jwt,
            envelope,
            claims: processed.claims,
        })
    }
}

/// The first [`ID_HEX_DIGITS`] hex digits of the SHA-256 of the issuer-signed JWT.
fn document_id(issuer_jwt: &str) -> String {
    digest(&SHA256, issuer_jwt.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        .chars()
        .take(ID_HEX_DIGITS)
        .collect()
}

/// The names of the document type and of every claim, taken from the catalogue now, so
/// the wallet can show the document offline even if a later version renames things.
fn display_snapshot(envelope: &VcEnvelope, claims: &Map<String, Value>) -> Value {
    let document = catalogue::by_vct(&envelope.vct);
    let mut labels = Map::new();
    if let Some(document) = document {
        for (path, _) in leaves(claims) {
            if let Some(label) = label_of(document, &path) {
                labels.insert(path.to_string(), label_json(label));
            }
        }
    }
    json!({
        "name": document.map(|d| label_json(d.name)),
        "exp": envelope.exp,
        "claims": labels,
    })
}

fn label_json(label: Label) -> Value {
    json!({"vi": label.vi, "en": label.en})
}

fn names_of(value: Option<&Value>) -> Option<Names> {
    let value = value?;
    Some(Names {
        vi: value.get("vi")?.as_str()?.to_owned().into(),
        en: value.get("en")?.as_str()?.to_owned().into(),
    })
}

fn view(stored: &StoredCredential) -> Result<DocumentView, WalletError> {
    let parsed = Parsed::read(&stored.credential)?;
    let labels = stored.display.get("claims");
    // The catalogue's order, as `verify` shows them (disclosures arrive in digest order).
    let document = catalogue::by_vct(&stored.vct);
    let ordered = document.map(|t| t.in_catalogue_order(&parsed.claims));
    let claims = leaves(ordered.as_ref().unwrap_or(&parsed.claims))
        .into_iter()
        .filter(|(path, _)| !is_envelope(path))
        .map(|(claim_path, value)| {
            let path = claim_path.to_string();
            // A document stored before the catalogue labelled a claim (the `representation`
            // of a guardian's copy) gets the catalogue's label now.
            let label = names_of(labels.and_then(|l| l.get(&path))).or_else(|| {
                document
                    .and_then(|d| label_of(d, &claim_path))
                    .map(Names::from)
            });
            ClaimEntry { label, path, value }
        })
        .collect();
    Ok(DocumentView {
        id: stored.id.clone(),
        vct: stored.vct.clone(),
        name: names_of(stored.display.get("name")),
        issuer: stored.issuer.clone(),
        expires_at: parsed.envelope.exp,
        received_at: stored.received_at,
        claims,
    })
}

fn is_envelope(path: &ClaimPath) -> bool {
    matches!(path.0.first(), Some(PathSegment::Key(name))
        if crate::sd_jwt_vc::PROTECTED_CLAIMS.contains(&name.as_str()) || name == "iat")
}

/// Every leaf value (not an object or array) with its path, in document order.
pub(crate) fn leaves(claims: &Map<String, Value>) -> Vec<(ClaimPath, Value)> {
    fn walk(path: ClaimPath, value: &Value, out: &mut Vec<(ClaimPath, Value)>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    walk(path.child(PathSegment::Key(key.clone())), child, out);
                }
            }
            Value::Array(items) => {
                for (index, child) in items.iter().enumerate() {
                    walk(path.child(PathSegment::Index(index)), child, out);
                }
            }
            leaf => out.push((path, leaf.clone())),
        }
    }
    let mut out = Vec::new();
    for (key, value) in claims {
        walk(
            ClaimPath(vec![PathSegment::Key(key.clone())]),
            value,
            &mut out,
        );
    }
    out
}

fn label_of(document: &DocumentType, path: &ClaimPath) -> Option<Label> {
    let keys = path.keys();
    document.claim_label(&keys)
}
