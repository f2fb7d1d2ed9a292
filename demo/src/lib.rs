//! giayto-demo (the `giayto-demo` program, also run as `giayto demo`): the whole journey
//! in the terminal, against its own embedded server. Its own crate so that the `giayto`
//! verifier and wallet tool does not depend on the server (axum, sqlx).
//! Three agencies publish six documents for one citizen; the citizen's phone receives them
//! by OpenID4VCI into an encrypted wallet; the officer's device syncs the trust list and
//! status lists, then goes offline; the citizen shows the driving licence (traffic-stop
//! preset) as a QR drawn in the terminal; the officer scans and verifies it; the same QR
//! shown twice is refused; an age check shows only "over 18"; the police revoke the
//! licence and the next check catches it. Every outcome is checked: exit code 0 when the
//! journey went as it must, 1 when any check did not.

mod embedded;
mod narrator;
pub mod sizes;

use std::path::{Path, PathBuf};

use clap::Args;
use giayto_core::catalogue::{self, DocumentType};
use giayto_core::jose::{Algorithm, b64};
use giayto_core::oid4vci::{HttpRequest, Method};
use giayto_core::qr::image::{qr_version, render_png};
use giayto_core::vault::{Vault, VaultKey};
use giayto_core::verifier::{
    FailureCode, HolderBinding, Profile, StatusView, Verdict, VerifierDevice, unverified_envelope,
};
use giayto_core::wallet::{Binding, DocumentView, Fallback, HolderKeys, Source, Wallet};
use serde_json::{Value, json};

use crate::embedded::EmbeddedServer;
use crate::narrator::Narrator;
use giayto_cli::commands::issue::signer_for;
use giayto_cli::commands::{keygen, wallet};
use giayto_cli::error::{CliError, EXIT_INVALID, EXIT_OK};
use giayto_cli::output::{QR_EC_LEVEL, TerminalQr, terminal_qr, verdict_text};
use giayto_cli::{files, net, unix_now};

/// `giayto-demo` options.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Do not wait for Enter between steps (the default when stdin is not a terminal).
    #[arg(long)]
    pub non_interactive: bool,
    /// Keep the server's database, its master key and the wallet in this folder (default:
    /// a temporary folder, removed at the end).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// The citizen of the demo, whose six documents are published.
const CITIZEN_ID: &str = "079090001234";
/// The citizen's identity, written over the catalogue's example claims of each type.
const CITIZEN: [(&str, &str); 8] = [
    ("personal_id", CITIZEN_ID),
    ("owner_personal_id", CITIZEN_ID),
    ("family_name", "Trần"),
    ("given_name", "Văn Bình"),
    ("full_name", "Trần Văn Bình"),
    ("owner_name", "Trần Văn Bình"),
    ("birth_date", "1990-02-28"),
    ("sex", "male"),
];
/// Who publishes what: agency id and document type ids.
const PUBLICATIONS: [(&str, &[&str]); 3] = [
    (
        "police",
        &["can_cuoc", "driving_licence", "vehicle_registration"],
    ),
    (
        "social-insurance",
        &["health_insurance_card", "health_book"],
    ),
    ("justice", &["judicial_record"]),
];
/// The number of steps the narrator announces.
const STEPS: usize = 7;
/// The largest trust list, anchor or status list fetched.
const MAX_LIST_BYTES: u64 = 8 * 1024 * 1024;

/// A document the agencies published and the phone received.
struct Published {
    agency: &'static str,
    doc_type: &'static DocumentType,
    document_id: String,
    offer_uri: String,
    tx_code: String,
    wallet_id: Option<String>,
    /// The credential's status list URI, once received.
    status_uri: Option<String>,
}

/// Runs the demo; `Ok` carries the exit code (0: every check held, 1: one did not).
pub fn run(args: DemoArgs, json: bool) -> Result<u8, CliError> {
    use std::io::IsTerminal as _;
    let interactive = !args.non_interactive && std::io::stdin().is_terminal();
    let temporary;
    let dir: &Path = match &args.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| CliError::write(dir, e))?;
            dir
        }
        None => {
            temporary = tempfile::tempdir().map_err(|e| CliError::write(Path::new("."), e))?;
            temporary.path()
        }
    };
    let mut narrator = Narrator::new(json, interactive, STEPS);
    narrator.say(
        "giayto demo — hành trình của một giấy tờ điện tử / the journey of an electronic document",
    );
    let server = start_server(&mut narrator, dir)?;
    let journey = Journey {
        agent: net::agent(),
        server,
        wallet_dir: wallet_folder(dir),
    };
    journey.play(&mut narrator)?;
    if args.dir.is_some() {
        keep(&narrator, dir, &journey)?;
    }
    journey.server.stop()?;
    Ok(if narrator.finish() {
        EXIT_OK
    } else {
        EXIT_INVALID
    })
}

fn start_server(narrator: &mut Narrator, dir: &Path) -> Result<EmbeddedServer, CliError> {
    narrator.step(
        "Khởi động máy chủ cấp phát (nhúng, SQLite)",
        "Starting an embedded issuance server (SQLite)",
    );
    let server = EmbeddedServer::start(dir)?;
    narrator.detail(&format!("máy chủ / server: {}", server.url));
    narrator.detail(&format!("dữ liệu / data: {}", dir.display()));
    for (id, vi, en, types) in giayto_server::demo::DEMO_AGENCIES {
        narrator.detail(&format!(
            "cơ quan / agency {id}: {vi} / {en} ({})",
            types.join(", ")
        ));
    }
    narrator.fact("server", json!(server.url));
    Ok(server)
}

/// The journey's parties: HTTP for the agencies and the phone, and the server.
struct Journey {
    agent: ureq::Agent,
    server: EmbeddedServer,
    /// The phone's `giayto wallet` folder.
    wallet_dir: PathBuf,
}

impl Journey {
    fn play(&self, narrator: &mut Narrator) -> Result<(), CliError> {
        let mut published = self.publish_all(narrator)?;
        let (mut phone, holder, keys) = self.receive_all(narrator, &mut published)?;
        let holder = PhoneKeys {
            holder,
            purposes: keys,
        };
        let mut officer = self.sync_officer(narrator)?;
        let licence = find(&published, "driving_licence")?;
        let id_card = find(&published, "can_cuoc")?;

        narrator.step(
            "Kiểm tra giao thông: người dân xuất trình giấy phép lái xe, cảnh sát quét QR ngoại tuyến",
            "Traffic stop: the citizen shows the driving licence, the officer scans it offline",
        );
        let qr = self.show(
            narrator,
            &mut phone,
            &holder,
            (licence, "traffic_stop"),
            true,
        )?;
        let verdict = scan(&mut officer, &qr)?;
        narrator.block(&verdict_text(&verdict));
        narrator.check(
            "the licence is valid and bound to the citizen's phone",
            verdict.valid && matches!(verdict.holder_binding, HolderBinding::Verified { .. }),
        );
        narrator.detail("Quét lại cùng mã QR / The same QR scanned a second time:");
        let replay = scan(&mut officer, &qr)?;
        narrator.block(&verdict_text(&replay));
        narrator.check(
            "a QR shown once is refused the second time (replay)",
            refused_for(&replay, FailureCode::Replayed),
        );

        narrator.step(
            "Kiểm tra tuổi: chỉ tiết lộ \"đủ 18 tuổi\" từ căn cước",
            "Age check: the ID card discloses only \"over 18\"",
        );
        let qr = self.show(
            narrator,
            &mut phone,
            &holder,
            (id_card, "age_over_18"),
            true,
        )?;
        let verdict = scan(&mut officer, &qr)?;
        narrator.block(&verdict_text(&verdict));
        let only_over_18 = matches!(
            verdict.claims.as_slice(),
            [claim] if claim.path == "age_equal_or_over.18" && claim.value == json!(true)
        );
        narrator.check(
            "valid, and \"18 or over: true\" is all it discloses (no name, no birth date)",
            verdict.valid && only_over_18,
        );

        narrator.step(
            "Công an thu hồi giấy phép lái xe; thiết bị cảnh sát cập nhật danh sách trạng thái",
            "The police revoke the licence; the officer's device refreshes the status lists",
        );
        let revoked = self.agency_call(
            licence.agency,
            Method::Post,
            &format!("/api/v1/documents/{}/revoke", licence.document_id),
            None,
        )?;
        let state = revoked["document"]["state"].as_str().unwrap_or_default();
        narrator.detail(&format!(
            "{}: trạng thái / state {state}",
            licence.document_id
        ));
        self.sync(narrator, &mut officer)?;
        narrator.detail(
            "Người dân xuất trình lại (mã QR mới) / The citizen shows it again (a fresh QR):",
        );
        let qr = self.show(
            narrator,
            &mut phone,
            &holder,
            (licence, "traffic_stop"),
            false,
        )?;
        let verdict = scan(&mut officer, &qr)?;
        narrator.block(&verdict_text(&verdict));
        narrator.check(
            "the revoked licence is refused, with the reason",
            refused_for(&verdict, FailureCode::Revoked) && verdict.status == StatusView::Revoked,
        );
        phone.delete(licence.wallet_id.as_deref().unwrap_or_default())?;
        narrator.detail(&format!(
            "Người dân xóa giấy phép đã bị thu hồi; ví còn {} giấy tờ / The citizen deletes the revoked licence; {} documents remain",
            phone.documents()?.len(),
            phone.documents()?.len()
        ));
        Ok(())
    }

    /// Step 2: every agency publishes its documents for the citizen.
    fn publish_all(&self, narrator: &mut Narrator) -> Result<Vec<Published>, CliError> {
        narrator.step(
            "Các cơ quan công bố giấy tờ của công dân Trần Văn Bình qua API cấp phát",
            "The agencies publish the citizen's documents through the issuer API",
        );
        let total = PUBLICATIONS.iter().map(|(_, types)| types.len()).sum();
        let bar = narrator.progress(total, "publishing");
        let run = unix_now();
        let mut published = Vec::new();
        for (agency, types) in PUBLICATIONS {
            for type_id in types {
                let doc_type = catalogue::by_id(type_id)
                    .ok_or_else(|| CliError::Format(format!("no document type {type_id}")))?;
                let document_id = format!("demo-{type_id}-{run}");
                let body = json!({
                    "document_id": document_id,
                    "citizen_id": CITIZEN_ID,
                    "vct": doc_type.vct,
                    "claims": citizen_claims(type_id)?,
                });
                let answer =
                    self.agency_call(agency, Method::Post, "/api/v1/documents", Some(&body))?;
                let offer = &answer["offer"];
                let field = |name: &str| {
                    offer[name].as_str().map(str::to_owned).ok_or_else(|| {
                        CliError::Format(format!("the publish answer has no offer.{name}"))
                    })
                };
                // Lines go out through the bar, so no frame of it is left among them.
                bar.suspend(|| {
                    if published.is_empty() {
                        show_publish_request(
                            narrator,
                            &self.server_url("/api/v1/documents"),
                            &body,
                            offer,
                        );
                    }
                    narrator.detail(&format!(
                        "✓ {agency}: {} / {} ({document_id})",
                        doc_type.name.vi, doc_type.name.en
                    ));
                });
                published.push(Published {
                    agency,
                    doc_type,
                    offer_uri: field("offer_uri_by_reference")?,
                    tx_code: field("tx_code")?,
                    document_id,
                    wallet_id: None,
                    status_uri: None,
                });
                bar.inc(1);
            }
        }
        bar.finish_and_clear();
        narrator.check(
            "every document is accepted, each with an offer and a tx_code",
            published.len() == total,
        );
        narrator.fact("documents", json!(published.len()));
        Ok(published)
    }

    /// Step 3: the phone makes its wallet and receives every document by OpenID4VCI.
    fn receive_all(
        &self,
        narrator: &mut Narrator,
        published: &mut [Published],
    ) -> Result<
        (
            Wallet,
            giayto_core::jose::SoftwareSigner,
            wallet::PurposeKeyDir,
        ),
        CliError,
    > {
        narrator.step(
            "Điện thoại nhận giấy tờ bằng OpenID4VCI (mã ưu quyền + mã giao dịch) vào ví mã hóa",
            "The phone receives them by OpenID4VCI (pre-authorized code + tx_code) into its encrypted wallet",
        );
        // A `giayto wallet` folder (vault, its key, the holder key, the purpose keys), so
        // that a kept demo folder opens with `giayto wallet --dir` (the vault key was
        // thrown away before).
        let folder = &self.wallet_dir;
        std::fs::create_dir_all(folder).map_err(|e| CliError::write(folder, e))?;
        let vault_key = VaultKey::generate()?;
        files::write_private_new(
            &folder.join(wallet::KEY_FILE),
            zeroize::Zeroizing::new(b64::encode(vault_key.as_bytes())).as_bytes(),
        )?;
        let holder_jwk = keygen::generate(Algorithm::Es256)?;
        files::write_private_new(
            &folder.join(wallet::HOLDER_KEY_FILE),
            zeroize::Zeroizing::new(
                serde_json::to_vec_pretty(&holder_jwk).map_err(|e| {
                    CliError::Format(format!("cannot serialize the holder key: {e}"))
                })?,
            )
            .as_slice(),
        )?;
        let keys = wallet::PurposeKeyDir {
            dir: folder.join(wallet::PURPOSE_KEYS_DIR),
        };
        let mut phone = Wallet::new(Vault::create(folder.join(wallet::VAULT_FILE), &vault_key)?);
        let holder = signer_for(&holder_jwk)?;
        let bar = narrator.progress(published.len(), "receiving");
        for document in published.iter_mut() {
            let received = wallet::receive_offer(
                &mut phone,
                &holder,
                &document.offer_uri,
                Some(&document.tx_code),
                Some(&keys),
            )?;
            bar.suspend(|| {
                for view in &received {
                    narrator.detail(&format!("✓ {}", describe(view)));
                }
            });
            if let Some(view) = received.first() {
                document.status_uri = status_uri(&phone.stored(&view.id)?.credential);
                document.wallet_id = Some(view.id.clone());
            }
            bar.inc(1);
        }
        bar.finish_and_clear();
        let held = phone.documents()?.len();
        narrator.check(
            "the wallet holds all six, each bound to the phone's key, each with a status-list slot",
            held == published.len()
                && published
                    .iter()
                    .all(|d| d.wallet_id.is_some() && d.status_uri.is_some()),
        );
        Ok((phone, holder, keys))
    }

    /// Step 4: the officer's device pins the anchor and syncs, then works offline.
    fn sync_officer(&self, narrator: &mut Narrator) -> Result<VerifierDevice, CliError> {
        narrator.step(
            "Thiết bị của cảnh sát đồng bộ khi có mạng: khóa gốc, danh sách tin cậy, danh sách trạng thái",
            "The officer's device syncs while online: trust anchor, trust list, status lists",
        );
        // A real device ships the anchor; the demo takes it from its server, once.
        let anchors =
            VerifierDevice::parse_anchors(&self.get_text(&self.server_url("/trust-anchor.json"))?)
                .map_err(device_error)?;
        let mut officer =
            VerifierDevice::new(anchors, "giayto-demo:officer").map_err(device_error)?;
        let issuers = self.sync(narrator, &mut officer)?;
        narrator.check(
            "the trust list verifies against the pinned anchor",
            issuers > 0,
        );
        narrator.detail(
            "Từ đây thiết bị xác minh ngoại tuyến / From here on the device verifies offline",
        );
        Ok(officer)
    }

    /// The officer's device goes online knowing only the pinned anchor: the trust list,
    /// then core's status sync (every issuer's Status List Aggregation and every list in
    /// it, as conditional requests). Returns how many issuers the trust list names.
    fn sync(&self, narrator: &Narrator, officer: &mut VerifierDevice) -> Result<usize, CliError> {
        let now = unix_now();
        let issuers = officer
            .load_trust_list(&self.get_text(&self.server_url("/trust-list"))?, now)
            .map_err(device_error)?;
        let mut sync = officer.start_status_sync(now).map_err(device_error)?;
        giayto_cli::commands::verifier::run_sync(&self.agent, officer, &mut sync);
        let report = sync.finish();
        if let Some(failure) = report.failures.first() {
            return Err(CliError::Network(format!(
                "status sync: {}: {}",
                net::redact_url(&failure.uri),
                failure.reason
            )));
        }
        narrator.detail(&format!(
            "danh sách tin cậy / trust list: {issuers} issuer(s); danh sách trạng thái / status lists: {} ({} tải về / downloaded, {} không đổi / unchanged)",
            report.lists, report.downloaded, report.not_modified
        ));
        Ok(issuers)
    }

    /// The URL of `path` on the embedded server.
    fn server_url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url)
    }

    /// GETs a text document (a trust anchor, trust list or status list).
    fn get_text(&self, url: &str) -> Result<String, CliError> {
        String::from_utf8(net::get(&self.agent, url, MAX_LIST_BYTES)?)
            .map_err(|_| CliError::Format(format!("{} is not text", net::redact_url(url))))
    }

    /// The phone presents `preset` of `document` one-way, from an unused purpose
    /// credential when it has one (the fallback said when not), with the QR drawn in the
    /// terminal when `draw`. Returns the QR as a PNG, which is what the officer's camera
    /// sees.
    fn show(
        &self,
        narrator: &Narrator,
        phone: &mut Wallet,
        keys: &PhoneKeys,
        (document, preset): (&Published, &str),
        draw: bool,
    ) -> Result<Vec<u8>, CliError> {
        let id = document.wallet_id.as_deref().unwrap_or_default();
        let purpose_keys = keys.purposes.of_preset(phone, id, preset)?;
        let signers = KeyRing {
            holder: &keys.holder,
            purposes: &purpose_keys,
        };
        let shown = phone.present_preset(
            id,
            preset,
            &Binding::OneWay,
            &signers,
            Fallback::ReuseLeastRecentlyShown,
            unix_now(),
        )?;
        match shown.source {
            Source::Purpose { left } => narrator.detail(&format!(
                "giấy tờ dùng một lần cho {preset}, còn {left} / a purpose credential for {preset}, {left} left"
            )),
            source => {
                if let Some((vi, en)) = source.notice() {
                    narrator.detail(&format!("{vi} / {en}"));
                }
            }
        }
        let out = shown.output;
        let version = qr_version(&out.qr_text, QR_EC_LEVEL)?;
        if draw && narrator.human() {
            // Drawn whole or not at all (a wrapped drawing cannot be scanned), and held on
            // screen until Enter, before the verification's text scrolls it away.
            match terminal_qr(&out.qr_text)? {
                TerminalQr::Fits(drawing) => {
                    narrator.say(&drawing);
                    narrator.pause(
                        "quét mã QR bằng điện thoại nếu muốn / scan it with a phone if you like",
                    );
                }
                TerminalQr::TooSmall(message) => narrator.detail(&message),
            }
        }
        narrator.detail(&format!(
            "{} / {}, preset {preset}: QR version {version}, level M, {} characters",
            document.doc_type.name.vi,
            document.doc_type.name.en,
            out.qr_text.len()
        ));
        Ok(render_png(&out.qr_text, QR_EC_LEVEL)?)
    }

    /// One call of the issuer API as `agency`; the JSON answer of a 2xx.
    fn agency_call(
        &self,
        agency: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, CliError> {
        let mut headers = vec![(
            "authorization".to_owned(),
            format!("Bearer {}", self.server.api_key(agency)?),
        )];
        let body = match body {
            Some(value) => {
                headers.push(("content-type".to_owned(), "application/json".to_owned()));
                Some(
                    serde_json::to_vec(value)
                        .map_err(|e| CliError::Format(format!("request body: {e}")))?,
                )
            }
            None => None,
        };
        let url = self.server_url(path);
        let request = HttpRequest {
            method,
            url: url.clone(),
            headers,
            body,
        };
        let response = net::perform(&self.agent, &request)?;
        if !(200..300).contains(&response.status) {
            // The server's explanation, cleaned and bounded (not the raw body).
            return Err(CliError::Network(format!(
                "{url}: {}",
                giayto_core::http_problem::status_message(response.status, &response.body)
            )));
        }
        serde_json::from_slice(&response.body)
            .map_err(|e| CliError::Format(format!("{url}: not JSON: {e}")))
    }
}

/// The phone's keys: its holder key and the folder of its purpose credentials' keys.
struct PhoneKeys {
    holder: giayto_core::jose::SoftwareSigner,
    purposes: wallet::PurposeKeyDir,
}

/// The keys one presentation may use, by alias.
struct KeyRing<'a> {
    holder: &'a giayto_core::jose::SoftwareSigner,
    purposes: &'a std::collections::HashMap<String, giayto_core::jose::SoftwareSigner>,
}

impl HolderKeys for KeyRing<'_> {
    fn holder_key(&self, alias: &str) -> Option<&dyn giayto_core::jose::Signer> {
        if alias == wallet::HOLDER_KEY_ID {
            return Some(self.holder);
        }
        self.purposes.holder_key(alias)
    }
}

/// The catalogue's example claims of `type_id`, made the demo citizen's.
fn citizen_claims(type_id: &str) -> Result<Value, CliError> {
    let mut claims = catalogue::examples::example_claims(type_id)
        .ok_or_else(|| CliError::Format(format!("no example for {type_id}")))?;
    if let Some(object) = claims.as_object_mut() {
        for (name, value) in CITIZEN {
            if let Some(slot) = object.get_mut(name) {
                *slot = json!(value);
            }
        }
        // The card of the current year.
        if object.contains_key("valid_until") {
            object.insert("valid_from".into(), json!("2026-01-01"));
            object.insert("valid_until".into(), json!("2026-12-31"));
        }
    }
    Ok(claims)
}

fn find<'a>(published: &'a [Published], type_id: &str) -> Result<&'a Published, CliError> {
    published
        .iter()
        .find(|d| d.doc_type.id == type_id)
        .ok_or_else(|| CliError::Format(format!("{type_id} was not published")))
}

/// `--dir`: keeps the agencies' API keys (`api-keys.txt`, 0600, `agency key` per line, as
/// the server prints them) beside the database and master key, and says how to carry on by
/// hand with the server, the wallet and the keys.
fn keep(narrator: &Narrator, dir: &Path, journey: &Journey) -> Result<(), CliError> {
    let keys_file = dir.join("api-keys.txt");
    let mut text = String::new();
    for (agency, key) in &journey.server.api_keys {
        text.push_str(&format!("{agency} {key}\n"));
    }
    // A later run gives the agencies new keys: the file holds the latest.
    if keys_file.exists() {
        std::fs::remove_file(&keys_file).map_err(|e| CliError::write(&keys_file, e))?;
    }
    files::write_private_new(&keys_file, zeroize::Zeroizing::new(text).as_bytes())?;
    let dir_shown = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let wallet_shown = dir_shown.join(journey.wallet_dir.file_name().unwrap_or_default());
    narrator.say(&format!(
        "\nĐã giữ lại / Kept in {dir}: the server's database (giayto.db) and master key \
         (giayto-master.key), the wallet ({wallet}), the agencies' API keys (api-keys.txt, 0600).\n\
         Tiếp tục bằng tay / Carry on by hand:\n\
         \x20 cd {dir} && GIAYTO_BIND={bind} giayto-server > server.out &   # the same database and address (the documents name it)\n\
         \x20 POLICE_KEY=$(awk '$1 == \"police\" {{print $2}}' api-keys.txt)\n\
         \x20 giayto wallet --dir {wallet} list\n\
         \x20 (then the README's walkthrough from \"Publish it\", with docs/examples/)",
        dir = dir_shown.display(),
        wallet = wallet_shown.display(),
        bind = journey
            .server
            .url
            .trim_start_matches("http://")
            .trim_start_matches("https://"),
    ));
    Ok(())
}

/// The demo phone's wallet folder in `dir`: `wallet`, or `wallet-2`, ... when a kept folder
/// already has one from an earlier run.
fn wallet_folder(dir: &Path) -> PathBuf {
    let mut folder = dir.join("wallet");
    let mut n = 1;
    while folder.exists() {
        n += 1;
        folder = dir.join(format!("wallet-{n}"));
    }
    folder
}

/// What an agency's developer needs to see once: the publish request (the API key masked)
/// and the offer it answers, and where the API is described.
fn show_publish_request(narrator: &Narrator, url: &str, body: &Value, offer: &Value) {
    narrator.detail(
        "Yêu cầu công bố của cơ quan (cho lập trình viên) / The agency's publish request (for developers):",
    );
    narrator.block(&format!(
        "  POST {url}\n  Authorization: Bearer gyk_…(khóa API / API key, ẩn / masked)\n  Content-Type: application/json\n\n{}",
        indent(&serde_json::to_string_pretty(body).unwrap_or_default())
    ));
    let shown = json!({
        "offer_uri_by_reference": offer["offer_uri_by_reference"],
        "tx_code": offer["tx_code"],
        "qr_png_url": offer["qr_png_url"],
        "expires_at": offer["expires_at"],
    });
    narrator.detail("→ 201 Created, lời mời nhận giấy tờ / the credential offer (excerpt):");
    narrator.block(&indent(
        &serde_json::to_string_pretty(&shown).unwrap_or_default(),
    ));
    // The response carries Unix seconds, as the API does; the reader gets the date too.
    if let Some(expires_at) = offer["expires_at"].as_i64() {
        narrator.detail(&format!(
            "  (expires_at {expires_at} = {})",
            giayto_cli::dates::date_time(expires_at)
        ));
    }
    narrator.detail(
        "Tài liệu API / The issuer API: docs/ISSUER_API.md (and /openapi.json on the server)",
    );
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

fn describe(view: &DocumentView) -> String {
    let name = view
        .name
        .as_ref()
        .map_or(view.vct.clone(), |n| format!("{} / {}", n.vi, n.en));
    format!("{name}: {} claims, from {}", view.claims.len(), view.issuer)
}

/// `status.status_list.uri` of an issued credential.
fn status_uri(credential: &str) -> Option<String> {
    Some(
        unverified_envelope(credential, Profile::SdJwtVc)?
            .status?
            .uri,
    )
}

fn device_error(error: giayto_core::verifier::DeviceError) -> CliError {
    CliError::Format(format!("officer's device: {error}"))
}

/// Scans a QR image with the officer's device (offline).
fn scan(officer: &mut VerifierDevice, png: &[u8]) -> Result<Verdict, CliError> {
    Ok(officer
        .verify_image(png, unix_now())
        .map_err(device_error)?
        .verdict)
}

/// Whether a verdict refuses, for `code` among its reasons.
fn refused_for(verdict: &Verdict, code: FailureCode) -> bool {
    !verdict.valid && verdict.has_error(code)
}
