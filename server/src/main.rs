//! `giayto-server`: wires configuration and runs the server (default) or an admin
//! subcommand. Everything else lives in the library.

use std::path::PathBuf;
use std::process::ExitCode;

use std::io::IsTerminal as _;

use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};
use giayto_core::jose::Algorithm;
use giayto_server::config::Config;
use giayto_server::domain::agencies::{self, Agency};
use giayto_server::domain::trust;
use giayto_server::server;

/// mimalloc rather than the system allocator: glibc's malloc, with allocations freed on
/// another tokio worker thread than the one that made them, took about a third of the
/// server's CPU under bulk publishing (issue 17; figures in docs/OPERATIONS.md). Built with
/// its `no_thp` feature: with transparent huge pages, idle RSS went from 14 to 21-23 MB and
/// the peak under the load benchmark over 150 MB.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// giayto issuance server.
#[derive(Debug, Parser)]
#[command(name = "giayto-server", version)]
struct Cli {
    /// Optional TOML configuration file (environment variables GIAYTO_* override it).
    #[arg(long, env = "GIAYTO_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve HTTP(S) (the default).
    Serve,
    /// Manage agencies.
    Agency {
        #[command(subcommand)]
        action: AgencyAction,
    },
    /// Manage agency API keys.
    ApiKey {
        #[command(subcommand)]
        action: ApiKeyAction,
    },
    /// The signed trust list.
    TrustList {
        #[command(subcommand)]
        action: TrustListAction,
    },
    /// Registered OpenID4VP verifiers and their registrars, on the trust list.
    Verifier {
        #[command(subcommand)]
        action: VerifierAction,
    },
}

#[derive(Debug, Subcommand)]
enum VerifierAction {
    /// Trust a verifier registrar: its CA certificate (PEM) becomes a `verifier_anchors`
    /// entry, the anchor of the verifiers' certificate chains.
    AnchorAdd {
        /// The registrar's CA certificate, PEM.
        #[arg(long)]
        cert: PathBuf,
    },
    /// Stop trusting a registrar, by the id `verifier list` prints.
    AnchorRemove {
        /// The registrar's id (x509 hash of its certificate).
        #[arg(long)]
        id: String,
    },
    /// Register a verifier (or update its registration): its names and what it may request.
    Add {
        /// The verifier's leaf certificate, PEM (its client id is the hash of it).
        #[arg(
            long,
            conflicts_with = "client_id",
            required_unless_present = "client_id"
        )]
        cert: Option<PathBuf>,
        /// The client id, `x509_hash:…`, instead of the certificate.
        #[arg(long)]
        client_id: Option<String>,
        /// Vietnamese name.
        #[arg(long)]
        name_vi: String,
        /// English name.
        #[arg(long)]
        name_en: String,
        /// What it may request: `<document type>=<claim>,<claim>`, claims in the catalogue's
        /// path syntax (`driving_privileges/*/class`); repeat for several types.
        #[arg(long = "may-request", required = true)]
        may_request: Vec<String>,
    },
    /// Remove a registered verifier.
    Remove {
        /// Its client id.
        #[arg(long)]
        client_id: String,
    },
    /// List registrars and registered verifiers.
    List,
}

#[derive(Debug, Subcommand)]
enum AgencyAction {
    /// Add an agency with its allowed document types and a fresh signing key.
    Add {
        /// Short id (a-z, 0-9, -), part of its `iss`.
        #[arg(long)]
        id: String,
        /// Vietnamese name.
        #[arg(long)]
        name_vi: String,
        /// English name.
        #[arg(long)]
        name_en: String,
        /// Allowed document type (catalogue id or vct); repeat for several.
        #[arg(long = "doc-type", required = true)]
        doc_types: Vec<String>,
    },
    /// Rotate an agency's signing key (old public keys stay published while needed).
    RotateKey {
        /// Agency id.
        #[arg(long)]
        id: String,
    },
    /// List agencies.
    List,
}

#[derive(Debug, Subcommand)]
enum ApiKeyAction {
    /// Create an API key (printed once).
    Create {
        /// Agency id.
        #[arg(long)]
        agency: String,
        /// A label for operators.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Revoke an API key by its id.
    Revoke {
        /// Key id as printed at creation.
        #[arg(long)]
        id: String,
    },
}

#[derive(Debug, Subcommand)]
enum TrustListAction {
    /// Sign and store a fresh trust list.
    Publish,
}

fn main() -> ExitCode {
    giayto_core::broken_pipe::end_quietly_on_broken_pipe();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GIAYTO_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colour codes only on a terminal: a log file gets plain text.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = match Cli::command()
        .after_help(settings_help())
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("giayto-server: tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli));
    // Tasks the shutdown grace cut short must not keep the process alive.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("giayto-server: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The settings for `--help`: every `GIAYTO_*` variable with its default, and
/// `DATABASE_URL` (the same names as the TOML keys, in lower case without the prefix).
fn settings_help() -> String {
    let mut out = String::from(
        "Settings (environment variables; the same keys in lower case without GIAYTO_ in the \
         --config TOML file; descriptions in server/src/config.rs and docs/OPERATIONS.md):\n  \
         DATABASE_URL (or GIAYTO_DATABASE_URL)",
    );
    if let Ok(serde_json::Value::Object(defaults)) = serde_json::to_value(Config::default()) {
        for (key, value) in defaults {
            let shown = match (key.as_str(), &value) {
                ("public_url", _) => "derived from GIAYTO_BIND".to_owned(),
                (_, serde_json::Value::Null) => "unset".to_owned(),
                (_, serde_json::Value::String(s)) => s.clone(),
                (_, v) => v.to_string(),
            };
            out.push_str(&format!(
                "\n  GIAYTO_{} (default: {shown})",
                key.to_uppercase()
            ));
        }
    }
    out.push_str("\n  GIAYTO_LOG (log filter, default: info)");
    out
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::load(cli.config.as_deref())?;
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Serve = command {
        server::run(config).await?;
        return Ok(());
    }
    let services = server::open(config).await?;
    match command {
        Command::Serve => {}
        Command::Agency {
            action:
                AgencyAction::Add {
                    id,
                    name_vi,
                    name_en,
                    doc_types,
                },
        } => {
            let mut allowed_vcts = Vec::new();
            for t in &doc_types {
                let d = giayto_core::catalogue::by_id(t)
                    .or_else(|| giayto_core::catalogue::by_vct(t))
                    .ok_or_else(|| format!("unknown document type {t}"))?;
                allowed_vcts.push(d.vct.to_owned());
            }
            let agency = Agency {
                id: id.clone(),
                name_vi,
                name_en,
                allowed_vcts,
            };
            agencies::add_agency(&services, &agency, Algorithm::Es256).await?;
            trust::publish(&services).await?;
            println!("agency {id} added; trust list republished");
            println!(
                "next: an API key for it, to publish with: giayto-server api-key create --agency {id}"
            );
        }
        Command::Agency {
            action: AgencyAction::RotateKey { id },
        } => {
            let kid = agencies::rotate_key(&services, &id, Algorithm::Es256).await?;
            trust::publish(&services).await?;
            println!("agency {id} now signs with key {kid}; trust list republished");
        }
        Command::Agency {
            action: AgencyAction::List,
        } => {
            for a in agencies::list_agencies(&services).await? {
                println!(
                    "{}\t{}\t{}\t{}",
                    a.id,
                    a.name_vi,
                    a.name_en,
                    a.allowed_vcts.join(",")
                );
            }
        }
        Command::ApiKey {
            action: ApiKeyAction::Create { agency, label },
        } => {
            let key = agencies::create_api_key(&services, &agency, &label).await?;
            println!(
                "API key id {} for {agency} (shown only this once):\n{}",
                key.id, key.secret
            );
        }
        Command::ApiKey {
            action: ApiKeyAction::Revoke { id },
        } => {
            agencies::revoke_api_key(&services, &id).await?;
            println!("API key {id} revoked");
        }
        Command::Verifier { action } => verifier_command(&services, action).await?,
        Command::TrustList {
            action: TrustListAction::Publish,
        } => {
            trust::publish(&services).await?;
            println!("trust list published");
        }
    }
    services.db.close().await;
    Ok(())
}

/// The `verifier` admin commands; each change republishes the trust list.
async fn verifier_command(
    services: &giayto_server::domain::Services,
    action: VerifierAction,
) -> Result<(), Box<dyn std::error::Error>> {
    use giayto_core::trust_list::{IssuerName, RegisteredVerifier};
    use giayto_server::domain::verifiers;
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;

    let read_cert = |path: &PathBuf| -> Result<Vec<u8>, String> {
        CertificateDer::from_pem_file(path)
            .map(|c| c.to_vec())
            .map_err(|e| format!("{}: not a PEM certificate ({e})", path.display()))
    };
    match action {
        VerifierAction::AnchorAdd { cert } => {
            let der = read_cert(&cert)?;
            let id = verifiers::add_anchor(services, &der, &cert.display().to_string()).await?;
            trust::publish(services).await?;
            println!("verifier registrar {id} added; trust list republished");
        }
        VerifierAction::AnchorRemove { id } => {
            verifiers::remove_anchor(services, &id).await?;
            trust::publish(services).await?;
            println!("verifier registrar {id} removed; trust list republished");
        }
        VerifierAction::Add {
            cert,
            client_id,
            name_vi,
            name_en,
            may_request,
        } => {
            let client_id = match (cert, client_id) {
                (Some(cert), _) => format!(
                    "{}{}",
                    giayto_core::oid4vp::X509_HASH_PREFIX,
                    giayto_core::oid4vp::x509_hash(&read_cert(&cert)?)
                ),
                (None, Some(client_id)) => client_id,
                (None, None) => return Err("give --cert or --client-id".into()),
            };
            let verifier = RegisteredVerifier {
                client_id: client_id.clone(),
                name: IssuerName {
                    vi: name_vi,
                    en: name_en,
                },
                may_request: may_request
                    .iter()
                    .map(|m| verifiers::parse_may_request(m))
                    .collect::<Result<_, _>>()?,
            };
            verifiers::register(services, &verifier).await?;
            trust::publish(services).await?;
            println!("verifier {client_id} registered; trust list republished");
        }
        VerifierAction::Remove { client_id } => {
            verifiers::unregister(services, &client_id).await?;
            trust::publish(services).await?;
            println!("verifier {client_id} removed; trust list republished");
        }
        VerifierAction::List => {
            for (id, _, subject) in verifiers::list_anchors(services).await? {
                println!("registrar\t{id}\t{subject}");
            }
            for v in verifiers::list_verifiers(services).await? {
                let requests: Vec<String> = v
                    .may_request
                    .iter()
                    .map(|r| {
                        let claims: Vec<String> = r
                            .claims
                            .iter()
                            .map(|path| {
                                path.iter()
                                    .map(|s| {
                                        s.as_str()
                                            .map(str::to_owned)
                                            .unwrap_or_else(|| s.to_string())
                                    })
                                    .map(|s| if s == "null" { "*".to_owned() } else { s })
                                    .collect::<Vec<_>>()
                                    .join("/")
                            })
                            .collect();
                        format!("{}={}", r.vct, claims.join(","))
                    })
                    .collect();
                println!(
                    "verifier\t{}\t{}\t{}\t{}",
                    v.client_id,
                    v.name.vi,
                    v.name.en,
                    requests.join(" ")
                );
            }
        }
    }
    Ok(())
}
