//! giayto-cli: the `giayto` command for verifier desks, scripts and testing: verify a
//! presentation (text, QR text or QR image), generate keys, issue offline, present, keep a
//! local encrypted wallet filled by OpenID4VCI, render and read QR codes, and publish
//! documents in bulk to a giayto server.
//!
//! Exit codes: 0 valid (or success), 1 invalid, 2 usage, input/output or network error.

pub mod commands;
pub mod dates;
pub mod error;
pub mod files;
pub mod net;
pub mod output;
pub mod scan;
pub mod verifier_cache;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use error::{CliError, EXIT_ERROR, EXIT_INVALID, EXIT_OK};

/// The `giayto` command line.
#[derive(Debug, Parser)]
#[command(
    name = "giayto",
    version,
    about = "giayto: verify, present, issue and carry electronic documents (giấy tờ)"
)]
pub struct Cli {
    /// Machine-readable JSON output instead of text for people.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Verify a presentation: compact or JSON SD-JWT(+KB), QR text, `-` (stdin) or a PNG/JPEG.
    Verify(commands::verify::VerifyArgs),
    /// Keep a verifier cache folder (trust list and every status list) for offline checks.
    #[command(subcommand)]
    Verifier(commands::verifier::VerifierCommand),
    /// Generate a private JWK into a file; print the public JWK.
    Keygen(commands::keygen::KeygenArgs),
    /// Issue an SD-JWT VC offline, signed with a local key.
    Issue(commands::issue::IssueArgs),
    /// Present chosen claims of a credential, bound to the holder key.
    Present(commands::present::PresentArgs),
    /// A local encrypted wallet.
    Wallet(commands::wallet::WalletArgs),
    /// Encode or decode giayto QR codes.
    #[command(subcommand)]
    Qr(commands::qr::QrCommand),
    /// Publish documents in bulk (NDJSON) to a giayto server.
    Publish(commands::publish::PublishArgs),
    /// Play the whole journey with an embedded server: publish, receive, show, verify,
    /// revoke. Runs the `giayto-demo` program (`cargo build -p giayto-demo`).
    Demo(commands::demo::DemoArgs),
}

/// Which claims to present: single claims or a preset.
#[derive(Debug, Clone, Args)]
#[group(required = true, multiple = false)]
pub struct SelectArgs {
    /// Claim paths to disclose, comma-separated (`given_name,driving_privileges/*/class`).
    #[arg(long, value_delimiter = ',')]
    pub claims: Vec<String>,
    /// A disclosure preset of the document type (`traffic_stop`, `age_over_18`, `full`, ...).
    #[arg(long, long_help = output::presets_help())]
    pub preset: Option<String>,
}

/// Where to put the presentation's QR code; without one, the presentation is printed.
#[derive(Debug, Clone, Args)]
#[group(required = false, multiple = false)]
pub struct QrOutArgs {
    /// Write the QR code as a PNG image.
    #[arg(long, value_name = "OUT")]
    pub qr_png: Option<PathBuf>,
    /// Write the QR code as an SVG image.
    #[arg(long, value_name = "OUT")]
    pub qr_svg: Option<PathBuf>,
    /// Draw the QR code in the terminal.
    #[arg(long)]
    pub qr_terminal: bool,
}

/// Verification profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProfileArg {
    /// SD-JWT VC (`dc+sd-jwt`, `vct`): giayto's documents.
    SdJwtVc,
    /// A plain RFC 9901 SD-JWT of any `typ`.
    SdJwt,
}

/// Runs the command line `args` (program name first) and returns the exit code.
pub fn main_with_args(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_ERROR } else { EXIT_OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let json = cli.json;
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            // A failed publication has already printed its summary.
            if json && !matches!(error, CliError::PublishFailed { .. }) {
                let body = serde_json::json!({"error": error.to_string()});
                println!("{body}");
            }
            eprintln!("giayto: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}

/// Runs a parsed command; `Ok` carries the exit code (0 or 1).
pub fn run(cli: Cli) -> Result<u8, CliError> {
    let json = cli.json;
    match cli.command {
        Command::Verify(args) => commands::verify::run(args, json),
        Command::Verifier(command) => commands::verifier::run(command, json),
        Command::Keygen(args) => commands::keygen::run(args, json),
        Command::Issue(args) => commands::issue::run(args, json),
        Command::Present(args) => commands::present::run(args, json),
        Command::Wallet(args) => commands::wallet::run(args, json),
        Command::Qr(command) => commands::qr::run(command, json),
        Command::Publish(args) => commands::publish::run(args, json),
        Command::Demo(args) => commands::demo::run(args, json),
    }
}

/// The current time in Unix seconds.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}
