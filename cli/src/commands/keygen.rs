//! `giayto keygen`: a private JWK (with its RFC 7638 thumbprint as `kid`) written to a new
//! file with mode 0600, the public JWK printed.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use giayto_core::jose::{Algorithm, Jwk};

use crate::error::{CliError, EXIT_OK};
use crate::files;

/// Key algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AlgArg {
    /// ECDSA on P-256 with SHA-256.
    #[value(name = "ES256")]
    Es256,
    /// Ed25519.
    #[value(name = "EdDSA")]
    EdDsa,
}

impl From<AlgArg> for Algorithm {
    fn from(alg: AlgArg) -> Algorithm {
        match alg {
            AlgArg::Es256 => Algorithm::Es256,
            AlgArg::EdDsa => Algorithm::EdDsa,
        }
    }
}

/// `giayto keygen` options.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// The algorithm.
    #[arg(long, value_enum, default_value = "ES256")]
    pub alg: AlgArg,
    /// Where to write the private JWK (must not exist yet).
    #[arg(long)]
    pub out: PathBuf,
}

/// Generates a private JWK for `alg` with its thumbprint as `kid`.
pub fn generate(alg: Algorithm) -> Result<Jwk, CliError> {
    Ok(Jwk::generate(alg)?.with_thumbprint_kid()?)
}

/// Runs `giayto keygen`.
pub fn run(args: KeygenArgs, _json: bool) -> Result<u8, CliError> {
    let jwk = generate(args.alg.into())?;
    let private = serde_json::to_vec_pretty(&jwk)
        .map_err(|_| CliError::Format("cannot serialize the key".into()))?;
    files::write_private_new(&args.out, &private)?;
    print!("{}", files::pretty_json(&jwk.to_public())?);
    Ok(EXIT_OK)
}
