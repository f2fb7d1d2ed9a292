//! `giayto wallet`: a local encrypted wallet in a folder: the vault file, its key (a 0600
//! file beside it, or the `GIAYTO_VAULT_KEY` environment variable) and the holder's
//! private key (a 0600 JWK file). Filled by OpenID4VCI (`receive`), shown, presented and
//! emptied through core's [`Wallet`].

use std::fs;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use clap::{Args, Subcommand};
use giayto_core::jose::{Algorithm, SoftwareSigner, b64};
use giayto_core::oid4vci::{
    CredentialOutcome, IssuanceSession, OfferSource, TokenStep, fetch_offer_request, on_offer,
    parse_offer_uri,
};
use giayto_core::qr::{QrPayload, classify};
use giayto_core::vault::{VAULT_KEY_LEN, Vault, VaultKey};
use giayto_core::wallet::{Binding, DocumentView, Wallet};
use zeroize::Zeroizing;

use crate::commands::issue::signer_for;
use crate::commands::keygen;
use crate::error::{CliError, EXIT_OK};
use crate::{QrOutArgs, SelectArgs, files, net, output, scan, unix_now};

/// The environment variable that may hold the vault key (base64url of 32 bytes) instead of
/// the key file.
pub const VAULT_KEY_ENV: &str = "GIAYTO_VAULT_KEY";
/// The environment variable naming the wallet folder.
pub const WALLET_DIR_ENV: &str = "GIAYTO_WALLET";

const VAULT_FILE: &str = "vault.giayto";
const KEY_FILE: &str = "vault.key";
const HOLDER_KEY_FILE: &str = "holder.jwk";
/// The alias recorded for the holder key in stored credentials.
const HOLDER_KEY_ID: &str = "holder.jwk";
/// How many times a deferred issuance is polled before giving up.
const MAX_DEFERRED_POLLS: u32 = 5;
/// The longest wait between deferred polls.
const MAX_DEFERRED_WAIT: Duration = Duration::from_secs(30);

/// `giayto wallet` options.
#[derive(Debug, Args)]
pub struct WalletArgs {
    /// The wallet folder (default: `$GIAYTO_WALLET`, else `~/.giayto`).
    #[arg(long, global = true)]
    pub dir: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: WalletCommand,
}

/// `giayto wallet` subcommands.
#[derive(Debug, Subcommand)]
pub enum WalletCommand {
    /// Create the wallet: folder, vault key, holder key and an empty vault.
    Init,
    /// Receive a document from an issuer by OpenID4VCI (pre-authorized code flow).
    Receive {
        /// The credential offer (`openid-credential-offer://?...`).
        offer_uri: String,
        /// The transaction code the issuer sent by another channel.
        #[arg(long)]
        tx_code: Option<String>,
    },
    /// List the documents.
    List,
    /// Show one document with all its claims.
    Show {
        /// The document id (see `list`).
        id: String,
    },
    /// Present chosen claims of a document.
    Present(PresentArgs),
    /// Delete a document.
    Delete {
        /// The document id.
        id: String,
    },
}

/// `giayto wallet present` options.
#[derive(Debug, Args)]
pub struct PresentArgs {
    /// The document id.
    pub id: String,
    /// Which claims.
    #[command(flatten)]
    pub select: SelectArgs,
    /// Answer a verifier's challenge (two-way): its QR text, a file or a PNG/JPEG image.
    #[arg(long, conflicts_with = "paper")]
    pub challenge: Option<String>,
    /// The printable paper form, without key binding.
    #[arg(long)]
    pub paper: bool,
    /// QR output.
    #[command(flatten)]
    pub qr: QrOutArgs,
}

/// The files of a wallet folder.
struct Layout {
    dir: PathBuf,
}

impl Layout {
    fn new(dir: Option<PathBuf>) -> Result<Layout, CliError> {
        let dir = match dir.or_else(|| std::env::var_os(WALLET_DIR_ENV).map(PathBuf::from)) {
            Some(dir) => dir,
            None => std::env::var_os("HOME")
                .map(|home| Path::new(&home).join(".giayto"))
                .ok_or_else(|| CliError::Usage("no wallet folder: use --dir".into()))?,
        };
        Ok(Layout { dir })
    }

    fn vault(&self) -> PathBuf {
        self.dir.join(VAULT_FILE)
    }

    fn key_file(&self) -> PathBuf {
        self.dir.join(KEY_FILE)
    }

    fn holder_key(&self) -> PathBuf {
        self.dir.join(HOLDER_KEY_FILE)
    }

    /// The vault key from the environment, else from the key file.
    fn read_key(&self) -> Result<VaultKey, CliError> {
        let encoded = match std::env::var(VAULT_KEY_ENV) {
            Ok(value) => Zeroizing::new(value),
            Err(_) => {
                let path = self.key_file();
                let mut bytes = files::read_private(&path)?;
                // Moved, not copied, into the string that is wiped on drop.
                Zeroizing::new(String::from_utf8(std::mem::take(&mut *bytes)).map_err(|_| {
                    CliError::Format(format!("{} is not UTF-8 text", path.display()))
                })?)
            }
        };
        decode_key(encoded.trim())
    }

    fn open(&self) -> Result<Wallet, CliError> {
        let key = self.read_key()?;
        Ok(Wallet::new(Vault::open(self.vault(), &key)?))
    }

    fn holder(&self) -> Result<SoftwareSigner, CliError> {
        signer_for(&files::read_private_jwk(&self.holder_key())?)
    }
}

fn decode_key(encoded: &str) -> Result<VaultKey, CliError> {
    let bad = || {
        CliError::Format(format!(
            "the vault key must be {VAULT_KEY_LEN} bytes in base64url (from {VAULT_KEY_ENV} or {KEY_FILE})"
        ))
    };
    let bytes = Zeroizing::new(b64::decode(encoded).map_err(|_| bad())?);
    let array: [u8; VAULT_KEY_LEN] = bytes.as_slice().try_into().map_err(|_| bad())?;
    Ok(VaultKey::from_bytes(array))
}

/// Runs `giayto wallet ...`.
pub fn run(args: WalletArgs, json: bool) -> Result<u8, CliError> {
    let layout = Layout::new(args.dir)?;
    match args.command {
        WalletCommand::Init => init(&layout, json),
        WalletCommand::Receive { offer_uri, tx_code } => {
            receive(&layout, &offer_uri, tx_code.as_deref(), json)
        }
        WalletCommand::List => {
            let wallet = layout.open()?;
            let documents = wallet.documents()?;
            if json {
                let list: Vec<_> = documents
                    .iter()
                    .map(|d| output::document_json(d, false))
                    .collect();
                print!("{}", files::pretty_json(&list)?);
            } else if documents.is_empty() {
                println!("Ví trống / The wallet is empty");
            } else {
                for document in &documents {
                    print!("{}", output::document_text(document, false));
                }
            }
            Ok(EXIT_OK)
        }
        WalletCommand::Show { id } => {
            let document = layout.open()?.document(&id)?;
            if json {
                print!(
                    "{}",
                    files::pretty_json(&output::document_json(&document, true))?
                );
            } else {
                print!("{}", output::document_text(&document, true));
            }
            Ok(EXIT_OK)
        }
        WalletCommand::Present(args) => present(&layout, args, json),
        WalletCommand::Delete { id } => {
            layout.open()?.delete(&id)?;
            if json {
                print!(
                    "{}",
                    files::pretty_json(&serde_json::json!({"deleted": id}))?
                );
            } else {
                println!("Đã xóa / Deleted {id}");
            }
            Ok(EXIT_OK)
        }
    }
}

fn init(layout: &Layout, json: bool) -> Result<u8, CliError> {
    create_private_dir(&layout.dir)?;
    let key = if std::env::var_os(VAULT_KEY_ENV).is_some() {
        layout.read_key()?
    } else {
        let key = VaultKey::generate()?;
        let encoded = Zeroizing::new(b64::encode(key.as_bytes()));
        files::write_private_new(&layout.key_file(), encoded.as_bytes())?;
        key
    };
    let holder = keygen::generate(Algorithm::Es256)?;
    let holder_json = Zeroizing::new(
        serde_json::to_vec_pretty(&holder)
            .map_err(|_| CliError::Format("cannot serialize the holder key".into()))?,
    );
    files::write_private_new(&layout.holder_key(), &holder_json)?;
    Vault::create(layout.vault(), &key)?;
    let public = holder.to_public();
    if json {
        let body =
            serde_json::json!({"dir": layout.dir.display().to_string(), "holder_jwk": public});
        print!("{}", files::pretty_json(&body)?);
    } else {
        println!("Đã tạo ví / Wallet created in {}", layout.dir.display());
        print!("{}", files::pretty_json(&public)?);
    }
    Ok(EXIT_OK)
}

fn create_private_dir(dir: &Path) -> Result<(), CliError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|e| CliError::write(dir, e))
}

fn receive(
    layout: &Layout,
    offer_uri: &str,
    tx_code: Option<&str>,
    json: bool,
) -> Result<u8, CliError> {
    let mut wallet = layout.open()?;
    let holder = layout.holder()?;
    let stored = receive_offer(&mut wallet, &holder, offer_uri, tx_code)?;
    if json {
        let list: Vec<_> = stored
            .iter()
            .map(|d| output::document_json(d, false))
            .collect();
        print!("{}", files::pretty_json(&list)?);
    } else {
        for document in &stored {
            print!(
                "Đã nhận / Received: {}",
                output::document_text(document, false)
            );
        }
    }
    Ok(EXIT_OK)
}

/// Receives the documents of an OpenID4VCI offer (pre-authorized code flow) into `wallet`,
/// bound to `holder`, and returns them as stored.
pub fn receive_offer(
    wallet: &mut Wallet,
    holder: &SoftwareSigner,
    offer_uri: &str,
    tx_code: Option<&str>,
) -> Result<Vec<DocumentView>, CliError> {
    let agent = net::agent();
    let offer = match parse_offer_uri(offer_uri)? {
        OfferSource::ByValue(offer) => offer,
        OfferSource::ByReference(url) => {
            on_offer(&net::perform(&agent, &fetch_offer_request(&url)?)?)?
        }
    };
    let (mut session, request) = IssuanceSession::new(offer)?;
    let request = session.on_issuer_metadata(&net::perform(&agent, &request)?)?;
    let token_request = match session.on_as_metadata(&net::perform(&agent, &request)?)? {
        TokenStep::Request(request) => request,
        TokenStep::NeedsTxCode(_) => match tx_code {
            Some(code) => session.with_tx_code(code)?,
            None => {
                return Err(CliError::Usage(
                    "this offer needs the transaction code the issuer sent you: --tx-code CODE"
                        .into(),
                ));
            }
        },
    };
    if let Some(nonce) = session.on_token(&net::perform(&agent, &token_request)?)? {
        session.on_nonce(&net::perform(&agent, &nonce)?)?;
    }
    let request = session.build_credential_request(holder, unix_now().unsigned_abs())?;
    let mut outcome = session.on_credential(&net::perform(&agent, &request)?)?;
    let mut polls = 0;
    // The session offers a fresh-nonce retry at most once, and deferred polls are capped.
    let received = loop {
        outcome = match outcome {
            CredentialOutcome::Issued(credentials) => break credentials,
            CredentialOutcome::RetryWithFreshNonce(nonce) => {
                session.on_nonce(&net::perform(&agent, &nonce)?)?;
                let request =
                    session.build_credential_request(holder, unix_now().unsigned_abs())?;
                session.on_credential(&net::perform(&agent, &request)?)?
            }
            CredentialOutcome::Deferred {
                transaction_id,
                interval,
            } => {
                polls += 1;
                if polls > MAX_DEFERRED_POLLS {
                    return Err(CliError::Network(format!(
                        "issuance still deferred after {MAX_DEFERRED_POLLS} attempts; try again later"
                    )));
                }
                thread::sleep(Duration::from_secs(interval).min(MAX_DEFERRED_WAIT));
                let request = session.deferred_credential_request(&transaction_id)?;
                session.on_deferred_credential(&net::perform(&agent, &request)?)?
            }
        };
    };
    let mut stored = Vec::new();
    for credential in &received {
        // The session already checked that it is bound to this holder key.
        let document = wallet.store(&credential.credential, HOLDER_KEY_ID, unix_now())?;
        stored.push(wallet.document(&document.id)?);
    }
    Ok(stored)
}

fn present(layout: &Layout, args: PresentArgs, json: bool) -> Result<u8, CliError> {
    let wallet = layout.open()?;
    let now = unix_now();
    let binding = if args.paper {
        Binding::Paper
    } else if let Some(input) = &args.challenge {
        let text = scan::read_input(input)?;
        match classify(&text, now)? {
            QrPayload::Challenge(challenge) => Binding::Challenge(challenge),
            QrPayload::Presentation(_) | QrPayload::Paper(_) => {
                return Err(CliError::Usage(
                    "--challenge must be a verifier's challenge QR (GTC1:), not a presentation"
                        .into(),
                ));
            }
        }
    } else {
        Binding::OneWay
    };
    let holder = layout.holder()?;
    let out = wallet.present(&args.id, &args.select.selection(), &binding, &holder, now)?;
    output::presentation(&out, &args.qr, json)?;
    Ok(EXIT_OK)
}
