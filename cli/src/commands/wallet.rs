//! `giayto wallet`: a local encrypted wallet in a folder: the vault file, its key (a 0600
//! file beside it, or the `GIAYTO_VAULT_KEY` environment variable), the holder's private
//! key (a 0600 JWK file) and one private key per purpose credential (`keys/`, 0600 JWK
//! files). Filled by OpenID4VCI (`receive`: the document and, when the issuer offers them,
//! batches of purpose credentials), shown (with how many purpose credentials are left),
//! presented (a preset from an unused purpose credential, each once, the fallback said out
//! loud) and emptied through core's [`Wallet`].

use std::fs;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use clap::{Args, Subcommand};
use std::collections::HashMap;

use giayto_core::jose::{Algorithm, Signer, SoftwareSigner, b64};
use giayto_core::oid4vci::{
    CredentialOutcome, Endpoint, IssuanceSession, IssuerErrorCode, OfferSource, Oid4vciError,
    TokenStep, fetch_offer_request, on_offer, parse_offer_uri,
};
use giayto_core::qr::{QrPayload, classify};
use giayto_core::vault::{RefillGrant, VAULT_KEY_LEN, Vault, VaultKey};
use giayto_core::wallet::{
    Binding, DocumentView, Fallback, PurposeIssuance, PurposeReceipt, PurposeStep, Selection,
    Source, Wallet,
};
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

/// The vault file of a wallet folder.
pub const VAULT_FILE: &str = "vault.giayto";
/// The vault key file of a wallet folder (base64url, 0600).
pub const KEY_FILE: &str = "vault.key";
/// The holder key file of a wallet folder (private JWK, 0600).
pub const HOLDER_KEY_FILE: &str = "holder.jwk";
/// The citizen-account commands live in `wallet_account.rs`.
#[path = "wallet_account.rs"]
mod account;
/// The alias recorded for the holder key in stored credentials.
pub const HOLDER_KEY_ID: &str = "holder.jwk";
/// How many times a deferred issuance is polled before giving up.
const MAX_DEFERRED_POLLS: u32 = 5;
/// The longest wait between deferred polls.
const MAX_DEFERRED_WAIT: Duration = Duration::from_secs(30);
/// The folder of the purpose credentials' private keys, one 0600 JWK file each.
pub const PURPOSE_KEYS_DIR: &str = "keys";

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
        /// The credential offer: `openid-credential-offer://?...`, or a file or PNG/JPEG
        /// image of its QR code (the server's `qr_png_url`), or `-` for stdin.
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
    /// Ask the issuer for more purpose credentials of a document, for the presets with few
    /// left, with the refresh token kept from its issuance.
    Refill {
        /// The document id.
        id: String,
    },
    /// Answer a verifier's online request (OpenID4VP): who asks, what is shared, consent.
    Respond(crate::commands::respond::RespondArgs),
    /// Activate the citizen account from the offer shown at the counter: this wallet's
    /// account key (made now, `account.jwk`) becomes the account's, then a first sync.
    Activate {
        /// The activation offer (`openid-credential-offer://?...`).
        offer_uri: String,
        /// The code the counter sent by another channel.
        #[arg(long)]
        tx_code: Option<String>,
    },
    /// Fetch what agencies published for you: new documents, new versions of reissued ones,
    /// and which were revoked or suspended. Cheap when nothing changed. When this phone's
    /// access to the account ended (moved to another phone, or closed), the documents held
    /// are still checked against their status lists, then the sync fails saying so.
    Sync,
    /// The account's history: every document published for you, by whom and when.
    History,
    /// Move the account to a new phone: prints the offer and code for the new phone's
    /// `giayto wallet activate`. When the new phone activates, everything on this one is
    /// revoked.
    Transfer,
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
    /// When no unused purpose credential is left for the preset, show the full credential
    /// (a larger QR) rather than the least recently shown purpose credential again.
    #[arg(long)]
    pub full_fallback: bool,
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

    fn purpose_keys(&self) -> PurposeKeyDir {
        PurposeKeyDir {
            dir: self.dir.join(PURPOSE_KEYS_DIR),
        }
    }

    /// The keys that may sign a presentation of document `id`: the holder key and the keys
    /// of its purpose credentials for `preset`.
    fn keys_for(
        &self,
        wallet: &Wallet,
        id: &str,
        preset: &str,
    ) -> Result<HashMap<String, SoftwareSigner>, CliError> {
        let mut keys = HashMap::new();
        keys.insert(HOLDER_KEY_ID.to_owned(), self.holder()?);
        keys.extend(self.purpose_keys().of_preset(wallet, id, preset)?);
        Ok(keys)
    }
}

impl Layout {
    /// Every key that may sign an online presentation: the holder key and the keys of the
    /// unused purpose credentials.
    fn presentation_keys(
        &self,
        wallet: &Wallet,
    ) -> Result<HashMap<String, SoftwareSigner>, CliError> {
        let mut keys = HashMap::new();
        keys.insert(HOLDER_KEY_ID.to_owned(), self.holder()?);
        let dir = self.purpose_keys();
        for stored in wallet.vault().list() {
            for purpose in stored.purposes.iter().filter(|p| p.shown_at.is_none()) {
                let path = dir.path(&purpose.holder_key_id);
                if path.is_file() && !keys.contains_key(&purpose.holder_key_id) {
                    keys.insert(
                        purpose.holder_key_id.clone(),
                        signer_for(&files::read_private_jwk(&path)?)?,
                    );
                }
            }
        }
        Ok(keys)
    }
}

/// A folder of purpose credentials' private keys: one 0600 JWK file per key, named by its
/// alias (`purpose-<RFC 7638 thumbprint>`), written before the key is first used.
#[derive(Debug, Clone)]
pub struct PurposeKeyDir {
    /// The folder.
    pub dir: PathBuf,
}

impl PurposeKeyDir {
    fn path(&self, alias: &str) -> PathBuf {
        self.dir.join(format!("{alias}.jwk"))
    }

    /// A new ES256 key, written (0600) before it is used, and its alias.
    pub fn new_key(&self) -> Result<(String, SoftwareSigner), CliError> {
        if !self.dir.is_dir() {
            create_private_dir(&self.dir)?;
        }
        let jwk = keygen::generate(Algorithm::Es256)?;
        let alias = format!("purpose-{}", jwk.kid.clone().unwrap_or_default());
        let private = Zeroizing::new(
            serde_json::to_vec_pretty(&jwk)
                .map_err(|_| CliError::Format("cannot serialize a purpose key".into()))?,
        );
        files::write_private_new(&self.path(&alias), &private)?;
        Ok((alias, signer_for(&jwk)?))
    }

    /// Deletes the key file of `alias`, if any (best effort: an orphan key file is
    /// harmless, and the run's own result matters more).
    pub fn delete(&self, alias: &str) {
        let _ = fs::remove_file(self.path(alias));
    }

    /// The keys of document `id`'s purpose credentials for `preset`, by alias; a key whose
    /// file is gone is left out (showing that credential then fails with a clear error).
    pub fn of_preset(
        &self,
        wallet: &Wallet,
        id: &str,
        preset: &str,
    ) -> Result<HashMap<String, SoftwareSigner>, CliError> {
        let mut keys = HashMap::new();
        for purpose in &wallet.stored(id)?.purposes {
            if purpose.preset == preset && !keys.contains_key(&purpose.holder_key_id) {
                let path = self.path(&purpose.holder_key_id);
                if path.is_file() {
                    let signer = signer_for(&files::read_private_jwk(&path)?)?;
                    keys.insert(purpose.holder_key_id.clone(), signer);
                }
            }
        }
        Ok(keys)
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
            let offer_uri = offer_text(&offer_uri)?;
            receive(&layout, &offer_uri, tx_code.as_deref(), json)
        }
        WalletCommand::List => {
            let wallet = layout.open()?;
            let documents = wallet.documents()?;
            // The state the last account sync saw (issue 14): its inbox's, and the status
            // lists' of every held document.
            let state = |id: &str| wallet.document_state(id);
            if json {
                let list: Vec<_> = documents
                    .iter()
                    .map(|d| {
                        let mut body = output::document_json(d, false);
                        if let Some(state) = state(&d.id) {
                            body["state"] = serde_json::json!(state);
                        }
                        body
                    })
                    .collect();
                print!("{}", files::pretty_json(&list)?);
            } else if documents.is_empty() {
                println!("Ví trống / The wallet is empty");
            } else {
                for document in &documents {
                    print!("{}", output::document_text(document, false));
                    if let Some(state) = state(&document.id).filter(|s| s != "valid") {
                        println!("  {}", account::state_text(&state));
                    }
                }
            }
            Ok(EXIT_OK)
        }
        WalletCommand::Show { id } => {
            let wallet = layout.open()?;
            let document = wallet.document(&id)?;
            let counts = wallet.purpose_counts(&id)?;
            let state = wallet.document_state(&id);
            if json {
                let mut body = output::document_json(&document, true);
                if let Some(state) = &state {
                    body["state"] = serde_json::json!(state);
                }
                body["purposes"] = counts
                    .iter()
                    .map(|c| serde_json::json!({"preset": c.preset, "unused": c.unused, "used": c.used}))
                    .collect();
                print!("{}", files::pretty_json(&body)?);
            } else {
                print!("{}", output::document_text(&document, true));
                if let Some(state) = state.filter(|s| s != "valid") {
                    println!("  {}", account::state_text(&state));
                }
                print!("{}", purposes_text(&counts));
            }
            Ok(EXIT_OK)
        }
        WalletCommand::Present(args) => present(&layout, args, json),
        WalletCommand::Refill { id } => refill(&layout, &id, json),
        WalletCommand::Respond(args) => {
            let mut wallet = layout.open()?;
            let keys = layout.presentation_keys(&wallet)?;
            crate::commands::respond::run(&mut wallet, &keys, args, json)
        }
        WalletCommand::Activate { offer_uri, tx_code } => {
            account::activate(&layout, &offer_uri, tx_code.as_deref(), json)
        }
        WalletCommand::Sync => account::sync(&layout, json),
        WalletCommand::History => account::history(&layout, json),
        WalletCommand::Transfer => account::transfer(&layout, json),
        WalletCommand::Delete { id } => {
            let mut wallet = layout.open()?;
            let purposes = wallet.stored(&id)?.purposes.clone();
            wallet.delete(&id)?;
            // The purpose credentials' keys go with them (the holder key serves every
            // document of this wallet and stays).
            let keys = layout.purpose_keys();
            purposes.iter().for_each(|p| keys.delete(&p.holder_key_id));
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
    // A second `init` said `File exists (os error 17)`: say which wallet is there instead,
    // before anything is written.
    if let Some(existing) = [layout.vault(), layout.key_file(), layout.holder_key()]
        .into_iter()
        .find(|p| p.exists())
    {
        return Err(CliError::Usage(format!(
            "Ví đã có / a wallet already exists in {} ({} is there): use it as it is, or choose \
             another folder with --dir or GIAYTO_WALLET",
            layout.dir.display(),
            existing.file_name().unwrap_or_default().to_string_lossy()
        )));
    }
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
        println!(
            "Khóa công khai của thiết bị (JWK) / The device's public holder key (JWK), to which \
             documents are bound:"
        );
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

/// The offer URI itself, or the text of the file, image (QR code) or stdin it names.
fn offer_text(input: &str) -> Result<String, CliError> {
    if input.starts_with(giayto_core::oid4vci::CREDENTIAL_OFFER_SCHEME) {
        return Ok(input.to_owned());
    }
    scan::read_input(input)
}

fn receive(
    layout: &Layout,
    offer_uri: &str,
    tx_code: Option<&str>,
    json: bool,
) -> Result<u8, CliError> {
    let mut wallet = layout.open()?;
    let holder = layout.holder()?;
    let keys = layout.purpose_keys();
    let stored = receive_offer(&mut wallet, &holder, offer_uri, tx_code, Some(&keys))?;
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

/// The credential offer of an `openid-credential-offer://` URI, fetched when it is given by
/// reference.
fn fetch_offer(
    agent: &ureq::Agent,
    offer_uri: &str,
) -> Result<giayto_core::oid4vci::CredentialOffer, CliError> {
    Ok(match parse_offer_uri(offer_uri)? {
        OfferSource::ByValue(offer) => offer,
        OfferSource::ByReference(url) => {
            on_offer(&net::perform(agent, &fetch_offer_request(&url)?)?)?
        }
    })
}

/// Receives the documents of an OpenID4VCI offer (pre-authorized code flow) into `wallet`,
/// bound to `holder`, and returns them as stored. With `purpose_keys`, also a batch of each
/// purpose credential the offer covers, each bound to a new key kept there.
pub fn receive_offer(
    wallet: &mut Wallet,
    holder: &SoftwareSigner,
    offer_uri: &str,
    tx_code: Option<&str>,
    purpose_keys: Option<&PurposeKeyDir>,
) -> Result<Vec<DocumentView>, CliError> {
    let agent = net::agent();
    let offer = fetch_offer(&agent, offer_uri)?;
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
    if let (Some(document), Some(keys)) = (stored.first(), purpose_keys) {
        let (run, step) = PurposeIssuance::after_document(session, &document.vct);
        let receipt = run_purposes(run, step, &agent, keys, |_| Ok(()))?;
        let kept = wallet.keep_purposes(&document.id, &receipt, unix_now())?;
        kept.dropped_keys
            .iter()
            .for_each(|alias| keys.delete(alias));
    }
    Ok(stored)
}

/// `giayto wallet refill ID`: a refresh token grant (RFC 6749 section 6) on the issuer
/// kept with the document, then a batch of each purpose credential with few left.
fn refill(layout: &Layout, id: &str, json: bool) -> Result<u8, CliError> {
    let mut wallet = layout.open()?;
    let low = wallet.presets_to_refill(id)?;
    let stored = wallet.stored(id)?;
    let grant = stored
        .refill
        .clone()
        .ok_or_else(|| CliError::Usage(giayto_core::wallet::no_refill_reason(stored).into()))?;
    // A document the wallet knows is not valid: the issuer would refuse; said at once.
    let state = wallet.document_state(id).filter(|s| s != "valid");
    if let Some(state) = &state {
        return Err(CliError::Usage(
            giayto_core::wallet::refill_refused_reason(Some(state)).into(),
        ));
    }
    let before: usize = wallet.purpose_counts(id)?.iter().map(|c| c.unused).sum();
    if let Some((run, request)) = PurposeIssuance::refill(&grant, &low)? {
        let keys = layout.purpose_keys();
        let receipt = run_purposes(
            run,
            PurposeStep::Send(request),
            &net::agent(),
            &keys,
            // The refresh token was rotated: kept before anything else.
            |rotated| Ok(wallet.set_refill(id, rotated)?),
        )
        .map_err(|e| match e {
            // The refresh token refused (RFC 6749 section 5.2): why, in words.
            CliError::Oid4vci(Oid4vciError::Issuer {
                endpoint: Endpoint::Token,
                error: IssuerErrorCode::InvalidGrant,
                ..
            }) => CliError::Usage(giayto_core::wallet::refill_refused_reason(None).into()),
            other => other,
        })?;
        let kept = wallet.keep_purposes(id, &receipt, unix_now())?;
        kept.dropped_keys
            .iter()
            .for_each(|alias| keys.delete(alias));
    }
    let counts = wallet.purpose_counts(id)?;
    let after: usize = counts.iter().map(|c| c.unused).sum();
    let added = after.saturating_sub(before);
    if json {
        let purposes: Vec<serde_json::Value> = counts
            .iter()
            .map(|c| serde_json::json!({"preset": c.preset, "unused": c.unused, "used": c.used}))
            .collect();
        let body = serde_json::json!({ "added": added, "purposes": purposes });
        print!("{}", files::pretty_json(&body)?);
    } else {
        println!("Đã nhận thêm / Received {added} purpose credentials");
        print!("{}", purposes_text(&counts));
    }
    Ok(EXIT_OK)
}

/// Drives a purpose-credential run ([`PurposeIssuance`]) from `step` over HTTP, with new
/// keys written to `key_dir` before use; `keep_refill` stores a rotated refresh token at
/// once. The configurations that failed are reported on stderr, the keys left unused are
/// deleted. Returns what to store.
fn run_purposes(
    mut run: PurposeIssuance,
    mut step: PurposeStep,
    agent: &ureq::Agent,
    key_dir: &PurposeKeyDir,
    mut keep_refill: impl FnMut(RefillGrant) -> Result<(), CliError>,
) -> Result<PurposeReceipt, CliError> {
    let mut keys: HashMap<String, SoftwareSigner> = HashMap::new();
    loop {
        step = match step {
            PurposeStep::Send(request) => match net::perform(agent, &request) {
                Ok(response) => run.on_response(&response)?,
                Err(error) => {
                    run.interrupted(&error.to_string());
                    PurposeStep::Done
                }
            },
            PurposeStep::NewKeys(count) => {
                let mut aliases = Vec::with_capacity(count);
                for _ in 0..count {
                    let (alias, key) = key_dir.new_key()?;
                    aliases.push(alias.clone());
                    keys.insert(alias, key);
                }
                run.with_keys(aliases)?
            }
            PurposeStep::Sign => {
                let aliases = run.batch_keys().to_vec();
                let signers = aliases
                    .iter()
                    .map(|alias| keys.get(alias).map(|k| k as &dyn Signer))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| CliError::Format("a purpose key went missing".into()))?;
                run.credential_request(&signers, unix_now().unsigned_abs())?
            }
            PurposeStep::KeepRefill(grant) => {
                keep_refill(grant)?;
                run.next_step()
            }
            PurposeStep::Done => break,
        };
    }
    let receipt = run.finish();
    for failure in &receipt.failures {
        eprintln!("giayto: {}: {}", failure.configuration, failure.reason);
    }
    for alias in &receipt.unused_keys {
        key_dir.delete(alias);
    }
    Ok(receipt)
}

/// How many purpose credentials are left, per preset, for `wallet show`.
fn purposes_text(counts: &[giayto_core::wallet::PurposeCount]) -> String {
    if counts.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "Giấy tờ dùng một lần còn lại / Purpose credentials left (each shown once):\n",
    );
    for count in counts {
        out.push_str(&format!(
            "  {:<20} {:>3} còn lại / left, {} đã dùng / used\n",
            count.preset, count.unused, count.used
        ));
    }
    out
}

fn present(layout: &Layout, args: PresentArgs, json: bool) -> Result<u8, CliError> {
    output::check_writable(&args.qr)?;
    let mut wallet = layout.open()?;
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
    // The citizen knows before showing it: a document the last sync found not valid.
    if let Some(state) = wallet.document_state(&args.id).filter(|s| s != "valid") {
        eprintln!("{}: {}", args.id, account::state_text(&state));
    }
    let out = match args.select.selection() {
        Selection::Preset(preset) => {
            let keys = layout.keys_for(&wallet, &args.id, &preset)?;
            let fallback = if args.full_fallback {
                Fallback::FullCredential
            } else {
                Fallback::ReuseLeastRecentlyShown
            };
            let shown = wallet.present_preset(&args.id, &preset, &binding, &keys, fallback, now)?;
            // Said on stderr, so the QR text or JSON on stdout stays clean for scripts.
            match shown.source {
                Source::Purpose { left } => {
                    eprintln!(
                        "Giấy tờ dùng một lần / purpose credential for {preset}: {left} còn lại / left"
                    );
                    if left < giayto_core::wallet::REFILL_BELOW {
                        eprintln!(
                            "Sắp hết: khi có mạng, chạy / Running low: when online, run `giayto wallet refill {}`",
                            args.id
                        );
                    }
                }
                source => {
                    if let Some((vi, en)) = source.notice() {
                        eprintln!("{vi}\n{en}");
                    }
                }
            }
            shown.output
        }
        selection => wallet.present(&args.id, &selection, &binding, &layout.holder()?, now)?,
    };
    output::presentation(&out, &args.qr, json)?;
    Ok(EXIT_OK)
}
