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
use std::collections::{BTreeMap, HashMap};

use giayto_core::catalogue::Purpose;
use giayto_core::jose::{Algorithm, Signer, SoftwareSigner, b64};
use giayto_core::oid4vci::{
    CredentialOutcome, IssuanceSession, OfferSource, SecretString, TokenStep, fetch_offer_request,
    on_offer, parse_offer_uri,
};
use giayto_core::qr::{QrPayload, classify};
use giayto_core::vault::{RefillGrant, VAULT_KEY_LEN, Vault, VaultKey};
use giayto_core::wallet::{Binding, DocumentView, Fallback, Selection, Source, Wallet};
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
/// The citizen-account commands live in `wallet_account.rs`.
#[path = "wallet_account.rs"]
mod account;
/// The alias recorded for the holder key in stored credentials.
pub(crate) const HOLDER_KEY_ID: &str = "holder.jwk";
/// How many times a deferred issuance is polled before giving up.
const MAX_DEFERRED_POLLS: u32 = 5;
/// The longest wait between deferred polls.
const MAX_DEFERRED_WAIT: Duration = Duration::from_secs(30);
/// The folder of the purpose credentials' private keys, one 0600 JWK file each.
const PURPOSE_KEYS_DIR: &str = "keys";
/// Purpose credentials asked for per preset on each receive (fewer when the issuer's
/// `batch_size` is smaller).
const PURPOSE_BATCH: usize = 10;

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
    /// Ask the issuer for more purpose credentials of a document, for the presets with few
    /// left, with the refresh token kept from its issuance.
    Refill {
        /// The document id.
        id: String,
    },
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
    /// and which were revoked or suspended. Cheap when nothing changed.
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
            receive(&layout, &offer_uri, tx_code.as_deref(), json)
        }
        WalletCommand::List => {
            let wallet = layout.open()?;
            let documents = wallet.documents()?;
            // The state the last account sync saw (issue 14), for documents it brought.
            let state = |id: &str| {
                wallet
                    .stored(id)
                    .ok()
                    .and_then(|s| s.account.as_ref())
                    .map(|a| a.state.clone())
            };
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
            if json {
                let mut body = output::document_json(&document, true);
                body["purposes"] = counts
                    .iter()
                    .map(|c| serde_json::json!({"preset": c.preset, "unused": c.unused, "used": c.used}))
                    .collect();
                print!("{}", files::pretty_json(&body)?);
            } else {
                print!("{}", output::document_text(&document, true));
                print!("{}", purposes_text(&counts));
            }
            Ok(EXIT_OK)
        }
        WalletCommand::Present(args) => present(&layout, args, json),
        WalletCommand::Refill { id } => refill(&layout, &id, json),
        WalletCommand::Activate { offer_uri, tx_code } => {
            account::activate(&layout, &offer_uri, tx_code.as_deref(), json)
        }
        WalletCommand::Sync => account::sync(&layout, json),
        WalletCommand::History => account::history(&layout, json),
        WalletCommand::Transfer => account::transfer(&layout, json),
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
        let configurations = receive_purposes(
            wallet,
            keys,
            &mut session,
            &agent,
            &document.id,
            &document.vct,
        )?;
        if let Some(refresh_token) = session.refresh_token()
            && !configurations.is_empty()
        {
            wallet.set_refill(
                &document.id,
                RefillGrant {
                    credential_issuer: session.offer().credential_issuer.clone(),
                    configurations,
                    refresh_token: refresh_token.expose().to_owned(),
                },
            )?;
        }
    }
    Ok(stored)
}

/// `giayto wallet refill ID`: a refresh token grant (RFC 6749 section 6) on the issuer
/// kept with the document, then a batch of each purpose credential with few left.
fn refill(layout: &Layout, id: &str, json: bool) -> Result<u8, CliError> {
    let mut wallet = layout.open()?;
    let low = wallet.presets_to_refill(id)?;
    let grant = wallet.stored(id)?.refill.clone().ok_or_else(|| {
        CliError::Usage(
            "the issuer gave no refresh token for this document: receive a new offer from it"
                .into(),
        )
    })?;
    let configurations: Vec<String> = low
        .iter()
        .filter_map(|preset| grant.configurations.get(preset).cloned())
        .collect();
    let before: usize = wallet.purpose_counts(id)?.iter().map(|c| c.unused).sum();
    if !configurations.is_empty() {
        let agent = net::agent();
        let (mut session, request) = IssuanceSession::resume(
            &grant.credential_issuer,
            configurations.clone(),
            SecretString::new(grant.refresh_token.clone()),
        )?;
        let request = session.on_issuer_metadata(&net::perform(&agent, &request)?)?;
        let TokenStep::Request(token_request) =
            session.on_as_metadata(&net::perform(&agent, &request)?)?
        else {
            return Err(CliError::Format(
                "a refresh needs no transaction code".into(),
            ));
        };
        let _ = session.on_token(&net::perform(&agent, &token_request)?)?;
        // The refresh token was rotated: keep the new one before anything else.
        if let Some(rotated) = session.refresh_token() {
            wallet.set_refill(
                id,
                RefillGrant {
                    refresh_token: rotated.expose().to_owned(),
                    ..grant.clone()
                },
            )?;
        }
        let batch = batch_size(&session);
        let keys = layout.purpose_keys();
        for configuration in &configurations {
            if let Err(error) = receive_batch(
                &mut wallet,
                &keys,
                &mut session,
                &agent,
                id,
                configuration,
                batch,
            ) {
                eprintln!("giayto: {configuration}: {error}");
            }
        }
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

/// How many purpose credentials to ask for at once: [`PURPOSE_BATCH`], or fewer when the
/// issuer's `batch_size` is smaller (1 without batch issuance).
fn batch_size(session: &IssuanceSession) -> usize {
    session
        .issuer_metadata()
        .and_then(|m| m.batch_credential_issuance.as_ref())
        .map_or(1, |b| usize::try_from(b.batch_size).unwrap_or(1))
        .clamp(1, PURPOSE_BATCH)
}

/// With the same access token, asks for a batch of each purpose credential of the document
/// that the offer covers (one key per credential, written first) and stores them with it.
/// A purpose the issuer refuses is reported and skipped: the document itself is kept.
/// Returns the purpose configurations offered, by preset.
fn receive_purposes(
    wallet: &mut Wallet,
    keys: &PurposeKeyDir,
    session: &mut IssuanceSession,
    agent: &ureq::Agent,
    id: &str,
    vct: &str,
) -> Result<BTreeMap<String, String>, CliError> {
    let Some(metadata) = session.issuer_metadata().cloned() else {
        return Ok(BTreeMap::new());
    };
    let batch = batch_size(session);
    let purposes: BTreeMap<String, String> = session
        .offer()
        .credential_configuration_ids
        .iter()
        .filter_map(|c| {
            let purpose = metadata
                .configuration(c)
                .ok()
                .and_then(|c| c.vct.as_deref())
                .and_then(Purpose::by_vct)
                .filter(|p| p.document().vct == vct)?;
            Some((purpose.preset().name.to_owned(), c.clone()))
        })
        .collect();
    for configuration in purposes.values() {
        if let Err(error) = receive_batch(wallet, keys, session, agent, id, configuration, batch) {
            eprintln!("giayto: {configuration}: {error}");
        }
    }
    Ok(purposes)
}

fn receive_batch(
    wallet: &mut Wallet,
    key_dir: &PurposeKeyDir,
    session: &mut IssuanceSession,
    agent: &ureq::Agent,
    id: &str,
    configuration: &str,
    batch: usize,
) -> Result<(), CliError> {
    if let Some(nonce) = session.next_configuration(configuration)? {
        session.on_nonce(&net::perform(agent, &nonce)?)?;
    }
    let keys = (0..batch)
        .map(|_| key_dir.new_key())
        .collect::<Result<Vec<_>, _>>()?;
    let signers: Vec<&dyn Signer> = keys.iter().map(|(_, k)| k as &dyn Signer).collect();
    let request = session.build_batch_credential_request(&signers, unix_now().unsigned_abs())?;
    let mut outcome = session.on_credential(&net::perform(agent, &request)?)?;
    if let CredentialOutcome::RetryWithFreshNonce(nonce) = outcome {
        session.on_nonce(&net::perform(agent, &nonce)?)?;
        let request =
            session.build_batch_credential_request(&signers, unix_now().unsigned_abs())?;
        outcome = session.on_credential(&net::perform(agent, &request)?)?;
    }
    let CredentialOutcome::Issued(credentials) = outcome else {
        return Err(CliError::Network(
            "the issuer deferred the purpose credentials; they are not fetched later".into(),
        ));
    };
    // Each credential with the alias of the key it is bound to.
    let mut batch = Vec::with_capacity(credentials.len());
    for credential in credentials {
        let jwk = giayto_core::wallet::holder_jwk_of(&credential.credential)?;
        let thumbprint = jwk.thumbprint()?;
        let alias = keys
            .iter()
            .find(|(_, key)| {
                key.public_jwk()
                    .and_then(|k| k.thumbprint())
                    .is_ok_and(|t| t == thumbprint)
            })
            .map(|(alias, _)| alias.clone())
            .ok_or_else(|| {
                CliError::Format("a purpose credential bound to an unknown key".into())
            })?;
        batch.push((credential.credential, alias));
    }
    wallet.add_purpose_credentials(id, &batch, unix_now())?;
    Ok(())
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
