//! `giayto wallet activate|sync|history`: the citizen account (issue 14) through core's
//! sans-IO account client. The account key is a 0600 JWK file (`account.jwk`) beside the
//! holder key; the documents are bound to the holder key like received ones.

use giayto_core::jose::{Algorithm, SoftwareSigner};
use giayto_core::wallet::Wallet;
use giayto_core::wallet::account::{AccountError, AccountSync, Activation, SyncNext, SyncReport};
use zeroize::Zeroizing;

use super::{HOLDER_KEY_ID, Layout};
use crate::commands::issue::signer_for;
use crate::commands::keygen;
use crate::error::{CliError, EXIT_ERROR, EXIT_OK};
use crate::{dates, files, net, unix_now};

const ACCOUNT_KEY_FILE: &str = "account.jwk";
/// The alias recorded for the account key in the vault.
const ACCOUNT_KEY_ID: &str = "account.jwk";
/// Most requests one sync may make (a token, the inbox, a nonce and a credential per
/// document of a full inbox, and a status list and its issuer's metadata per list read);
/// a server that keeps answering past it is cut off.
const MAX_SYNC_REQUESTS: usize =
    2 + 2 * 500 + 2 * giayto_core::wallet::status_check::MAX_CHECKED_LISTS;

fn account_error(e: AccountError) -> CliError {
    match e {
        AccountError::Protocol(e) => e.into(),
        AccountError::Wallet(e) => e.into(),
        other => CliError::Usage(other.to_string()),
    }
}

fn account_key(layout: &Layout) -> Result<SoftwareSigner, CliError> {
    signer_for(&files::read_private_jwk(
        &layout.dir.join(ACCOUNT_KEY_FILE),
    )?)
}

/// `giayto wallet activate OFFER --tx-code CODE`.
pub(super) fn activate(
    layout: &Layout,
    offer_uri: &str,
    tx_code: Option<&str>,
    json: bool,
) -> Result<u8, CliError> {
    let mut wallet = layout.open()?;
    let agent = net::agent();
    let offer = super::fetch_offer(&agent, offer_uri)?;
    let (mut activation, request) = Activation::new(offer)?;
    let request = activation.on_issuer_metadata(&net::perform(&agent, &request)?)?;
    if activation
        .on_as_metadata(&net::perform(&agent, &request)?)?
        .is_some()
        && tx_code.is_none()
    {
        return Err(CliError::Usage(
            "this offer needs the code the counter sent you: --tx-code CODE".into(),
        ));
    }
    // A new account key for each activation: a new phone, a new key.
    let key_path = layout.dir.join(ACCOUNT_KEY_FILE);
    let jwk = keygen::generate(Algorithm::Es256)?;
    let key_json = Zeroizing::new(
        serde_json::to_vec_pretty(&jwk)
            .map_err(|_| CliError::Format("cannot serialize the account key".into()))?,
    );
    if key_path.exists() {
        std::fs::remove_file(&key_path).map_err(|e| CliError::write(&key_path, e))?;
    }
    files::write_private_new(&key_path, &key_json)?;
    let key = signer_for(&jwk)?;
    let request =
        activation.token_request(tx_code, &key, unix_now(), &giayto_core::oid4vci::new_jti()?)?;
    let (account, _access) =
        activation.on_token(&net::perform(&agent, &request)?, ACCOUNT_KEY_ID)?;
    let issuer = account.credential_issuer.clone();
    wallet.set_account(account)?;
    if !json {
        println!("Đã kích hoạt tài khoản / Account activated with {issuer}");
    }
    let report = run_sync(layout, &mut wallet, &key)?;
    print_report(&wallet, &report, json)
}

/// `giayto wallet sync`.
pub(super) fn sync(layout: &Layout, json: bool) -> Result<u8, CliError> {
    let mut wallet = layout.open()?;
    let key = account_key(layout)?;
    let report = run_sync(layout, &mut wallet, &key)?;
    print_report(&wallet, &report, json)
}

fn run_sync(
    layout: &Layout,
    wallet: &mut Wallet,
    key: &SoftwareSigner,
) -> Result<SyncReport, CliError> {
    let holder = layout.holder()?;
    let agent = net::agent();
    let (mut sync, mut request) =
        AccountSync::start(wallet, key, unix_now()).map_err(account_error)?;
    for _ in 0..MAX_SYNC_REQUESTS {
        let next = match net::perform_bounded(&agent, &request, sync.max_body_bytes()) {
            Ok(response) => {
                sync.on_response(&response, wallet, key, &holder, HOLDER_KEY_ID, unix_now())
            }
            // A status list out of reach leaves the marks as they were (reported).
            Err(e) if sync.reading_status_lists() => {
                sync.on_network_error(e.to_string(), wallet, unix_now())
            }
            Err(e) => return Err(e),
        };
        match next.map_err(account_error)? {
            SyncNext::Send(next) => request = next,
            SyncNext::Done(report) => return Ok(report),
        }
    }
    Err(CliError::Network(format!(
        "the sync took more than {MAX_SYNC_REQUESTS} requests; try again"
    )))
}

pub(super) fn state_text(state: &str) -> &'static str {
    match state {
        "revoked" => "ĐÃ THU HỒI / REVOKED",
        "suspended" => "TẠM ĐÌNH CHỈ / SUSPENDED",
        "ended" => "HẾT GIÁM HỘ / GUARDIANSHIP ENDED",
        _ => "còn hiệu lực / valid",
    }
}

fn print_report(wallet: &Wallet, report: &SyncReport, json: bool) -> Result<u8, CliError> {
    if json {
        let body = serde_json::json!({
            "unchanged": report.unchanged,
            "access_ended": report.access_ended,
            "received": report.received,
            "marked": report.marked.iter().map(|(id, state)| serde_json::json!({"id": id, "state": state})).collect::<Vec<_>>(),
            "status_lists": {
                "requests": report.status.requests,
                "not_modified": report.status.not_modified,
                "failures": report.status.failures.iter().map(|(uri, reason)| serde_json::json!({"uri": uri, "reason": reason})).collect::<Vec<_>>(),
            },
        });
        print!("{}", files::pretty_json(&body)?);
        return Ok(access_ended(report));
    }
    for id in &report.received {
        let document = wallet.document(id)?;
        let name = document
            .name
            .as_ref()
            .map_or(document.vct.clone(), |n| format!("{} / {}", n.vi, n.en));
        println!("Đã nhận / Received: {id}  {name}");
    }
    for (id, state) in &report.marked {
        println!("{id}: {}", state_text(state));
    }
    for (uri, reason) in &report.status.failures {
        eprintln!("Không đọc được danh sách trạng thái / Status list not read: {uri}: {reason}");
    }
    if report.received.is_empty() && report.marked.is_empty() && !report.access_ended {
        println!("Không có gì mới / Nothing new");
    }
    Ok(access_ended(report))
}

/// Says, when the token endpoint refused this phone's refresh token, that its access to
/// the account ended (the documents held were still checked against their status lists);
/// the exit code.
fn access_ended(report: &SyncReport) -> u8 {
    if !report.access_ended {
        return EXIT_OK;
    }
    eprintln!(
        "{} Trạng thái các giấy tờ đang giữ vẫn được kiểm tra. / The documents held were still \
         checked against their status lists.",
        giayto_core::wallet::account::ACCESS_ENDED_MESSAGE
    );
    EXIT_ERROR
}

/// `giayto wallet transfer`: the old phone asks for the new phone's activation offer.
pub(super) fn transfer(layout: &Layout, json: bool) -> Result<u8, CliError> {
    use giayto_core::oid4vci::new_jti;
    use giayto_core::wallet::account as core_account;
    let wallet = layout.open()?;
    let account = wallet
        .account()
        .ok_or_else(|| CliError::Usage(AccountError::NoAccount.to_string()))?
        .clone();
    let key = account_key(layout)?;
    let agent = net::agent();
    let request = core_account::refresh_request(&account, &key, unix_now(), &new_jti()?)?;
    let access = match core_account::on_access_token(&net::perform(&agent, &request)?) {
        Ok(access) => access,
        Err(e) if core_account::access_ended(&e) => {
            return Err(CliError::Usage(format!(
                "{} (không thể chuyển từ đây / it cannot be moved from here)",
                core_account::ACCESS_ENDED_MESSAGE
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let request = core_account::transfer_request(&account, &access, &key, unix_now(), &new_jti()?)?;
    let offer = core_account::on_transfer(&net::perform(&agent, &request)?)?;
    if json {
        print!("{}", files::pretty_json(&offer)?);
    } else {
        println!("Trên điện thoại mới / On the new phone:");
        println!(
            "  giayto wallet activate '{}' --tx-code {}",
            offer.offer_uri, offer.tx_code
        );
        println!("Hết hạn / Expires: {}", dates::date_time(offer.expires_at));
    }
    Ok(EXIT_OK)
}

/// `giayto wallet history`: every event the vault knows of the account's documents
/// (published, each new version and change of state the syncs saw, each version this
/// phone received), newest first, dates in both languages; `--json` gives the events with
/// Unix seconds.
pub(super) fn history(layout: &Layout, json: bool) -> Result<u8, CliError> {
    use giayto_core::wallet::history::{self, AccountEventKind};
    let wallet = layout.open()?;
    let account = wallet
        .account()
        .ok_or_else(|| CliError::Usage(AccountError::NoAccount.to_string()))?;
    let events = history::history(account, wallet.vault().list());
    if json {
        print!("{}", files::pretty_json(&events)?);
        return Ok(EXIT_OK);
    }
    for event in &events {
        let v = event.version;
        let what = match event.kind {
            AccountEventKind::Published => format!("công bố / published v{v}"),
            AccountEventKind::NewVersion => {
                format!("cấp lại: phiên bản mới / reissued: new version v{v}")
            }
            AccountEventKind::State => format!("v{v} {}", state_text(&event.state)),
            AccountEventKind::Received => {
                format!("điện thoại này đã nhận / received on this phone v{v}")
            }
        };
        // The document's type as the catalogue names it (its `vct` when not in it), and
        // for a guardian's copy whose document it is.
        let kind = giayto_core::catalogue::by_vct(&event.vct).map_or(event.vct.clone(), |t| {
            format!("{} / {}", t.name.vi, t.name.en)
        });
        let whose = event.on_behalf_of.as_ref().map_or(String::new(), |child| {
            format!(" (giấy tờ của / document of {child})")
        });
        println!(
            "{}  {kind} {}{whose}  {} ({})  {what}",
            dates::date_time(event.at),
            event.document_id,
            event.publisher.name_vi,
            event.publisher.name_en,
        );
    }
    if events.is_empty() {
        println!("Chưa có gì / Nothing yet: giayto wallet sync");
    }
    Ok(EXIT_OK)
}
