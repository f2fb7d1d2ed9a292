//! Purpose credentials in the wallet: kept with their document, shown once each, counted,
//! refilled when few are left, and an open fallback when none is left.
//!
//! A purpose credential ([`crate::catalogue::Purpose`]) is bound to its own holder key and
//! status index, so two verifiers who compare what they scanned find nothing in common
//! (ARF Annex 2, "once-only" attestations). Showing one marks it used in the vault before
//! the QR is handed out; when a preset has none unused left, the holder's [`Fallback`] says
//! whether to show the least recently shown one again (linkable to the verifier who saw it)
//! or the full credential (a larger QR), and the [`Source`] of the result says which, so
//! the app tells the holder.

use super::{Binding, Parsed, PresentationOutput, Selection, Wallet, WalletError};
use crate::catalogue::{self, Purpose};
use crate::jose::Signer;
use crate::vault::{PurposeCredential, RefillGrant, StoredCredential};

/// Most purpose credentials a document keeps, all presets together (about 8 presets of a
/// batch of 30, with room for a refill); more are refused.
pub const MAX_PURPOSE_CREDENTIALS: usize = 512;

/// A preset with fewer unused purpose credentials than this is due for a refill.
pub const REFILL_BELOW: usize = 5;

/// The holder's private keys by alias, as the platform key store holds them: the full
/// credential's key and one per purpose credential.
pub trait HolderKeys {
    /// The signer of the key with this alias, `None` when the store has none.
    fn holder_key(&self, alias: &str) -> Option<&dyn Signer>;
}

impl<S: Signer> HolderKeys for std::collections::HashMap<String, S> {
    fn holder_key(&self, alias: &str) -> Option<&dyn Signer> {
        self.get(alias).map(|signer| signer as &dyn Signer)
    }
}

/// What to show when a preset has no unused purpose credential left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    /// Show the least recently shown purpose credential again: a small QR, but the
    /// verifier who saw it before can recognise it.
    ReuseLeastRecentlyShown,
    /// Show the preset's claims from the full credential: a larger QR, and the same
    /// issuer signature wherever it is shown.
    FullCredential,
}

/// Which credential a shown preset came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// An unused purpose credential, now marked used; `left` unused remain for the preset.
    Purpose {
        /// Unused purpose credentials left for this preset.
        left: usize,
    },
    /// None was unused: the least recently shown purpose credential, shown again.
    ReusedPurpose {
        /// When it had been shown last, Unix seconds.
        last_shown_at: i64,
    },
    /// The full credential: for `full` and claim choices, or as the fallback.
    FullCredential {
        /// Whether it stands in for a purpose credential that was not there.
        fallback: bool,
    },
    /// The full credential's disclosures for the preset, because the document never had
    /// purpose credentials (none received, no refresh token to ask for them): whatever
    /// the [`Fallback`].
    NoPurposeCredentials {
        /// It was received through the citizen account, which delivers the full
        /// credential only.
        through_account: bool,
    },
}

impl Source {
    /// What the holder must be told, in Vietnamese and English, when the presentation is
    /// not a fresh purpose credential; `None` otherwise.
    pub fn notice(&self) -> Option<(&'static str, &'static str)> {
        match self {
            Source::Purpose { .. } | Source::FullCredential { fallback: false } => None,
            Source::ReusedPurpose { .. } => Some((
                "Đã dùng hết giấy tờ dùng một lần cho mục đích này: mã QR này đã từng được xuất trình, người kiểm tra trước có thể nhận ra nó.",
                "No unused credential is left for this purpose: this QR code was shown before, and the verifier who saw it then can recognise it.",
            )),
            Source::NoPurposeCredentials {
                through_account: true,
            } => Some((
                "Giấy tờ này không có giấy tờ dùng một lần: nó được nhận qua tài khoản công dân, nên mã QR gồm các thông tin của mục đích này lấy từ giấy tờ đầy đủ.",
                "This document has no purpose credentials: it was received through the citizen account, so the QR code shows the full credential's disclosures for this purpose.",
            )),
            Source::NoPurposeCredentials {
                through_account: false,
            } => Some((
                "Giấy tờ này không có giấy tờ dùng một lần: mã QR gồm các thông tin của mục đích này lấy từ giấy tờ đầy đủ.",
                "This document has no purpose credentials: the QR code shows the full credential's disclosures for this purpose.",
            )),
            Source::FullCredential { fallback: true } => Some((
                "Không còn giấy tờ dùng một lần cho mục đích này: mã QR được lập từ giấy tờ đầy đủ, lớn hơn và giống nhau ở mọi nơi xuất trình.",
                "No credential for this purpose is left: the QR code is made from the full credential, larger and the same wherever it is shown.",
            )),
        }
    }
}

/// A preset shown, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownPreset {
    /// The presentation and its QR text.
    pub output: PresentationOutput,
    /// Which credential it came from.
    pub source: Source,
}

/// How many purpose credentials a document holds for one preset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurposeCount {
    /// The preset name.
    pub preset: String,
    /// Not yet shown.
    pub unused: usize,
    /// Shown at least once.
    pub used: usize,
}

impl Wallet {
    /// Stores a batch of purpose credentials of document `id`, each with the alias of its
    /// own holder key. Each must be an SD-JWT VC of one of the document type's purpose
    /// types, from the document's issuer, and key-bound; one already stored is skipped.
    /// Used credentials of the presets refilled are dropped (they only served the
    /// fallback). Written to the vault once, atomically. Returns how many were added.
    ///
    /// Errors: [`WalletError::NotFound`], [`WalletError::NotAPurposeCredential`] (wrong type
    /// or issuer, no `cnf`), [`WalletError::TooManyPurposeCredentials`], parse and vault
    /// errors. Nothing is stored when one credential is refused.
    pub fn add_purpose_credentials(
        &mut self,
        id: &str,
        batch: &[(String, String)],
        now: i64,
    ) -> Result<usize, WalletError> {
        let mut stored = self.stored(id)?.clone();
        let (added, _) = merge_purposes(&mut stored, batch, now)?;
        self.vault.insert(stored)?;
        Ok(added)
    }

    /// Keeps (or replaces, after a rotation) how to refill document `id`'s purpose
    /// credentials; written to the vault at once, since a rotated refresh token replaces
    /// the old one at the issuer.
    pub fn set_refill(&mut self, id: &str, refill: RefillGrant) -> Result<(), WalletError> {
        let mut stored = self.stored(id)?.clone();
        stored.refill = Some(refill);
        self.vault.insert(stored)?;
        Ok(())
    }

    /// For each purpose of document `id`'s type, in preset order, how many purpose
    /// credentials are unused and used. Empty for a type outside the catalogue.
    pub fn purpose_counts(&self, id: &str) -> Result<Vec<PurposeCount>, WalletError> {
        Ok(counts(self.stored(id)?))
    }

    /// The presets of document `id` with fewer than [`REFILL_BELOW`] unused purpose
    /// credentials: what to ask the issuer for next time the phone is online.
    pub fn presets_to_refill(&self, id: &str) -> Result<Vec<String>, WalletError> {
        Ok(counts(self.stored(id)?)
            .into_iter()
            .filter(|count| count.unused < REFILL_BELOW)
            .map(|count| count.preset)
            .collect())
    }

    /// Shows preset `preset` of document `id`: from an unused purpose credential when there
    /// is one (marked used in the vault before the QR is returned), else as `fallback`
    /// says; `full` and presets without a purpose type come from the full credential. The
    /// key of the credential shown is taken from `keys` by its alias.
    ///
    /// Errors: [`WalletError::NotFound`], [`WalletError::UnknownPreset`],
    /// [`WalletError::HolderKeyMissing`], presentation, QR and vault errors.
    pub fn present_preset(
        &mut self,
        id: &str,
        preset: &str,
        binding: &Binding,
        keys: &dyn HolderKeys,
        fallback: Fallback,
        now: i64,
    ) -> Result<ShownPreset, WalletError> {
        let stored = self.stored(id)?;
        let selection = Selection::Preset(preset.to_owned());
        let choice = choose(stored, preset, fallback);
        let Choice::Purpose(index) = choice else {
            let key = holder_key(keys, &stored.holder_key_id)?;
            let output =
                super::present_credential(&stored.credential, &selection, binding, key, now)?;
            let source = match choice {
                Choice::NoPurposeCredentials => Source::NoPurposeCredentials {
                    through_account: stored.account.is_some(),
                },
                _ => Source::FullCredential {
                    fallback: choice == Choice::FullFallback,
                },
            };
            return Ok(ShownPreset { output, source });
        };
        let of_preset = |p: &PurposeCredential| p.preset == preset;
        let credential = &stored.purposes[index];
        let key = holder_key(keys, &credential.holder_key_id)?;
        let output =
            super::present_credential(&credential.credential, &selection, binding, key, now)?;
        let source = match credential.shown_at {
            Some(last_shown_at) => Source::ReusedPurpose { last_shown_at },
            None => Source::Purpose {
                left: stored
                    .purposes
                    .iter()
                    .filter(|p| of_preset(p) && p.shown_at.is_none())
                    .count()
                    .saturating_sub(1),
            },
        };
        let mut updated = stored.clone();
        updated.purposes[index].shown_at = Some(now);
        self.vault.insert(updated)?;
        Ok(ShownPreset { output, source })
    }

    /// The alias of the holder key that [`Wallet::present_preset`] will sign with for the
    /// same arguments, as the vault is now: for an app whose key store is reached
    /// asynchronously and must be asked for that one key first.
    ///
    /// Errors: [`WalletError::NotFound`].
    pub fn preset_key_alias(
        &self,
        id: &str,
        preset: &str,
        fallback: Fallback,
    ) -> Result<String, WalletError> {
        let stored = self.stored(id)?;
        Ok(match choose(stored, preset, fallback) {
            Choice::Purpose(index) => stored.purposes[index].holder_key_id.clone(),
            Choice::Full | Choice::FullFallback | Choice::NoPurposeCredentials => {
                stored.holder_key_id.clone()
            }
        })
    }
}

/// Which credential shows a preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Choice {
    /// The purpose credential at this index.
    Purpose(usize),
    /// The full credential: the preset has no purpose type.
    Full,
    /// The full credential, standing in for a purpose credential that was not there.
    FullFallback,
    /// The full credential: the document never had purpose credentials.
    NoPurposeCredentials,
}

/// Why the issuer refused (or would refuse) to refill a document's purpose credentials,
/// for people, in Vietnamese and English, from its state as the wallet last read it
/// ([`Wallet::document_state`]: `suspended`, `revoked`, `ended`; `None` or `valid` when
/// the wallet knows of nothing). The issuer's refresh token grant works only while the
/// document is valid at the version the token came with (docs/ARCHITECTURE.md "Purpose
/// credentials"); a reissue revokes the old version's credentials and comes with a new
/// offer.
pub fn refill_refused_reason(state: Option<&str>) -> &'static str {
    match state {
        Some("suspended") => {
            "Giấy tờ này đang bị tạm đình chỉ: không thể bổ sung giấy tờ dùng một lần cho đến \
             khi nó có hiệu lực trở lại. / This document is suspended: its purpose credentials \
             cannot be refilled until it is valid again."
        }
        Some("revoked") => {
            "Giấy tờ này đã bị thu hồi hoặc đã được cấp lại (phiên bản mới): nếu được cấp lại, \
             hãy nhận lời mời mới của cơ quan cấp. / This document was revoked or reissued (a \
             new version): if it was reissued, receive the issuer's new offer."
        }
        Some("ended") => {
            "Quyền giám hộ đối với giấy tờ này đã hết: không thể bổ sung. / The guardianship \
             over this document ended: it cannot be refilled."
        }
        _ => {
            "Cơ quan cấp không còn nhận mã làm mới của giấy tờ này: giấy tờ đã bị tạm đình chỉ, \
             thu hồi hoặc cấp lại (nếu được cấp lại, hãy nhận lời mời mới), hoặc mã đã hết hạn. \
             / The issuer no longer takes this document's refresh token: the document was \
             suspended, revoked or reissued (if reissued, receive the new offer), or the token \
             expired."
        }
    }
}

/// Whether `stored` never had purpose credentials: none kept and no refresh token to ask
/// for them (a document received through the citizen account, or from an issuer that
/// gave none).
fn never_had_purposes(stored: &StoredCredential) -> bool {
    stored.purposes.is_empty() && stored.refill.is_none()
}

/// Why document `stored` cannot be refilled (it has no refresh token), for people, in
/// Vietnamese and English: received through the citizen account (which delivers the
/// full credential only, kept up to date by a sync), or an issuer that gave no refresh
/// token.
pub fn no_refill_reason(stored: &StoredCredential) -> &'static str {
    if stored.account.is_some() {
        "Giấy tờ này không có giấy tờ dùng một lần để bổ sung: nó được nhận qua tài khoản \
         công dân (chỉ giấy tờ đầy đủ; `wallet sync` cập nhật nó). / This document has no \
         purpose credentials to refill: it was received through the citizen account (the \
         full credential only; a sync keeps it up to date)."
    } else {
        "Cơ quan cấp không cho mã làm mới cho giấy tờ này: hãy nhận một lời mời mới từ họ. \
         / The issuer gave no refresh token for this document: receive a new offer from it."
    }
}

/// The oldest unused purpose credential of `preset`, else as `fallback` says.
fn choose(stored: &StoredCredential, preset: &str, fallback: Fallback) -> Choice {
    let purpose = catalogue::by_vct(&stored.vct).and_then(|d| Purpose::of(d, preset));
    let of_preset = |p: &&PurposeCredential| p.preset == preset;
    let indexed = || stored.purposes.iter().enumerate();
    let unused = indexed()
        .filter(|(_, p)| of_preset(p) && p.shown_at.is_none())
        .min_by_key(|(_, p)| p.received_at);
    let least_recent = indexed()
        .filter(|(_, p)| of_preset(p))
        .min_by_key(|(_, p)| p.shown_at);
    match (purpose, unused, fallback) {
        (None, ..) => Choice::Full,
        (Some(_), None, _) if never_had_purposes(stored) => Choice::NoPurposeCredentials,
        (Some(_), Some((index, _)), _) => Choice::Purpose(index),
        (Some(_), None, Fallback::ReuseLeastRecentlyShown) => {
            least_recent.map_or(Choice::FullFallback, |(index, _)| Choice::Purpose(index))
        }
        (Some(_), None, Fallback::FullCredential) => Choice::FullFallback,
    }
}

/// Adds a batch of purpose credentials (each with the alias of its own holder key) to
/// `stored`, as [`Wallet::add_purpose_credentials`] describes, without writing the vault.
/// Returns how many were added and the key aliases of the used credentials dropped;
/// `stored` is unchanged on an error.
pub(super) fn merge_purposes(
    stored: &mut StoredCredential,
    batch: &[(String, String)],
    now: i64,
) -> Result<(usize, Vec<String>), WalletError> {
    let mut fresh: Vec<PurposeCredential> = Vec::with_capacity(batch.len());
    for (credential, holder_key_id) in batch {
        let parsed = Parsed::read(credential)?;
        let purpose = Purpose::by_vct(&parsed.envelope.vct)
            .filter(|p| p.document().vct == stored.vct)
            .filter(|_| parsed.envelope.iss == stored.issuer)
            .filter(|_| parsed.envelope.holder_key.is_some())
            .ok_or_else(|| WalletError::NotAPurposeCredential {
                vct: parsed.envelope.vct.clone(),
                document: stored.vct.clone(),
            })?;
        let credential = parsed.sd_jwt.to_compact();
        let known = stored
            .purposes
            .iter()
            .chain(&fresh)
            .any(|p| p.credential == credential);
        if !known {
            fresh.push(PurposeCredential {
                preset: purpose.preset().name.to_owned(),
                credential,
                holder_key_id: holder_key_id.clone(),
                received_at: now,
                shown_at: None,
            });
        }
    }
    let kept = stored
        .purposes
        .iter()
        .filter(|old| old.shown_at.is_none() || !fresh.iter().any(|new| new.preset == old.preset))
        .count();
    if kept + fresh.len() > MAX_PURPOSE_CREDENTIALS {
        return Err(WalletError::TooManyPurposeCredentials {
            max: MAX_PURPOSE_CREDENTIALS,
        });
    }
    let (kept, dropped): (Vec<_>, Vec<_>) = std::mem::take(&mut stored.purposes)
        .into_iter()
        .partition(|old| {
            old.shown_at.is_none() || !fresh.iter().any(|new| new.preset == old.preset)
        });
    stored.purposes = kept;
    let added = fresh.len();
    stored.purposes.extend(fresh);
    Ok((
        added,
        dropped.into_iter().map(|p| p.holder_key_id).collect(),
    ))
}

fn holder_key<'k>(keys: &'k dyn HolderKeys, alias: &str) -> Result<&'k dyn Signer, WalletError> {
    keys.holder_key(alias)
        .ok_or_else(|| WalletError::HolderKeyMissing(alias.to_owned()))
}

fn counts(stored: &StoredCredential) -> Vec<PurposeCount> {
    let Some(document) = catalogue::by_vct(&stored.vct) else {
        return Vec::new();
    };
    document
        .purposes()
        .map(|purpose| {
            let name = purpose.preset().name;
            let of_preset = || stored.purposes.iter().filter(move |p| p.preset == name);
            PurposeCount {
                preset: name.to_owned(),
                unused: of_preset().filter(|p| p.shown_at.is_none()).count(),
                used: of_preset().filter(|p| p.shown_at.is_some()).count(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::refill_refused_reason;

    /// What the wallet knows of the document says why the issuer refuses a refill.
    #[test]
    fn a_refused_refill_says_what_the_wallet_knows_of_the_document() {
        assert!(refill_refused_reason(Some("suspended")).contains("This document is suspended"));
        assert!(
            refill_refused_reason(Some("revoked"))
                .contains("revoked or reissued (a new version): if it was reissued, receive")
        );
        assert!(refill_refused_reason(Some("ended")).contains("guardianship"));
        assert!(refill_refused_reason(None).contains("suspended, revoked or reissued"));
    }
}
