//! The service's settings: command-line flags, each also read from a `GIAYTO_VERIFIER_*`
//! environment variable (`giayto-verifier serve --help` lists them).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// `giayto-verifier`: an OpenID4VP 1.0 verifier with a desk page, for counters.
#[derive(Debug, Parser)]
#[command(name = "giayto-verifier", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs the verifier service and its desk page.
    Serve(Box<Settings>),
    /// Writes a demo verifier registrar CA (ca.pem, ca.key.pem) and a verifier certificate
    /// signed by it (verifier.pem: leaf then CA; verifier.key.pem), for tests and demos.
    Certs {
        /// The folder to write to (created if missing; existing files are not overwritten).
        #[arg(long)]
        out: PathBuf,
        /// The verifier's name in its certificate.
        #[arg(long, default_value = "giayto demo verifier")]
        name: String,
    },
}

/// The service's settings.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address to listen on.
    #[arg(long, env = "GIAYTO_VERIFIER_BIND", default_value = "127.0.0.1:8090")]
    pub bind: SocketAddr,
    /// The URL wallets reach this service at (scheme, host, port, optional path prefix);
    /// `request_uri` and `response_uri` are built from it.
    #[arg(long, env = "GIAYTO_VERIFIER_PUBLIC_URL")]
    pub public_url: url::Url,
    /// The national trust list's URL (the issuer server's `/trust-list`).
    #[arg(long, env = "GIAYTO_VERIFIER_TRUST_LIST_URL")]
    pub trust_list_url: String,
    /// The pinned national trust anchor: a file holding the public JWK or JWKS.
    #[arg(long, env = "GIAYTO_VERIFIER_TRUST_ANCHOR")]
    pub trust_anchor: PathBuf,
    /// The verifier's private key (PEM, PKCS#8 P-256) that signs request objects.
    #[arg(long, env = "GIAYTO_VERIFIER_KEY")]
    pub key: PathBuf,
    /// The verifier's certificate chain (PEM): the leaf for `--key` first, then any
    /// intermediates, without the registrar's trust anchor (HAIP 1.0, "OpenID for
    /// Verifiable Presentations").
    #[arg(long, env = "GIAYTO_VERIFIER_CERTIFICATE_CHAIN")]
    pub certificate_chain: PathBuf,
    /// A folder where the trust list and status lists are kept between restarts (the
    /// service then verifies at once after a restart, even while the issuer's server is
    /// unreachable); none: they are fetched again at each start.
    #[arg(long, env = "GIAYTO_VERIFIER_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// Seconds between background refreshes of the trust list and status lists.
    #[arg(long, env = "GIAYTO_VERIFIER_SYNC_INTERVAL", default_value_t = 300)]
    pub sync_interval_seconds: u64,
    /// Seconds a presentation request stays open for the wallet's answer.
    #[arg(long, env = "GIAYTO_VERIFIER_REQUEST_TTL", default_value_t = 300)]
    pub request_ttl_seconds: i64,
    /// Seconds a result stays readable by its desk after the answer.
    #[arg(long, env = "GIAYTO_VERIFIER_RESULT_TTL", default_value_t = 600)]
    pub result_ttl_seconds: i64,
    /// The most connections open at once; past it new clients wait in the backlog.
    #[arg(long, env = "GIAYTO_VERIFIER_MAX_CONNECTIONS", default_value_t = 256)]
    pub max_connections: usize,
    /// Seconds a connection may go without reading or writing a byte before it is closed.
    #[arg(long, env = "GIAYTO_VERIFIER_IDLE_TIMEOUT", default_value_t = 30)]
    pub idle_timeout_seconds: u64,
    /// The most requests and results held at once (pending and answered together).
    #[arg(long, env = "GIAYTO_VERIFIER_MAX_REQUESTS", default_value_t = 1024)]
    pub max_requests: usize,
}
