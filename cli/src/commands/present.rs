//! `giayto present`: chosen claims of a credential file, bound to the holder key by a
//! key-binding JWT (one-way by default: the offline audience and a fresh random nonce),
//! printed or rendered as a QR code.

use std::path::PathBuf;

use clap::Args;
use giayto_core::qr::KeyBindingTarget;
use giayto_core::wallet::{Binding, Selection, present_credential};

use crate::commands::issue::signer_for;
use crate::error::{CliError, EXIT_OK};
use crate::{QrOutArgs, SelectArgs, files, output, unix_now};

/// `giayto present` options.
#[derive(Debug, Args)]
pub struct PresentArgs {
    /// The credential as issued (compact SD-JWT VC with all disclosures).
    #[arg(long)]
    pub credential: PathBuf,
    /// The holder's private JWK (the key named in the credential's `cnf`).
    #[arg(long)]
    pub holder_key: PathBuf,
    /// Which claims.
    #[command(flatten)]
    pub select: SelectArgs,
    /// The key-binding nonce (a verifier's challenge); a fresh random one by default.
    #[arg(long)]
    pub nonce: Option<String>,
    /// The key-binding audience; the offline audience `giayto:offline` by default.
    #[arg(long)]
    pub aud: Option<String>,
    /// QR output.
    #[command(flatten)]
    pub qr: QrOutArgs,
}

impl SelectArgs {
    /// The wallet's selection for these options.
    pub fn selection(&self) -> Selection {
        match &self.preset {
            Some(preset) => Selection::Preset(preset.clone()),
            None => Selection::Claims(self.claims.clone()),
        }
    }
}

/// Runs `giayto present`.
pub fn run(args: PresentArgs, json: bool) -> Result<u8, CliError> {
    let credential = files::read_text(&args.credential)?;
    let holder = signer_for(&files::read_private_jwk(&args.holder_key)?)?;
    let binding = if args.nonce.is_none() && args.aud.is_none() {
        Binding::OneWay
    } else {
        let mut target = KeyBindingTarget::one_way()?;
        if let Some(aud) = args.aud {
            target.aud = aud;
        }
        if let Some(nonce) = args.nonce {
            target.nonce = nonce;
        }
        Binding::Target(target)
    };
    let out = present_credential(
        &credential,
        &args.select.selection(),
        &binding,
        &holder,
        unix_now(),
    )?;
    output::presentation(&out, &args.qr, json)?;
    Ok(EXIT_OK)
}
