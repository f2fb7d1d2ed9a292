//! `giayto issue`: an SD-JWT VC signed offline with a local key, for small issuers and
//! tests. Catalogue types get the catalogue's schema check, age predicates and
//! disclosability; other types make the claims named by `--sd` disclosable.

use std::path::{Path, PathBuf};

use clap::Args;
use giayto_core::catalogue;
use giayto_core::jose::{Jwk, SoftwareSigner};
use giayto_core::sd_jwt::IssueOptions;
use giayto_core::sd_jwt_vc::{IssueRequest, issue_document, issue_vc};
use serde_json::{Map, Value};

use crate::error::{CliError, EXIT_OK};
use crate::{files, unix_now};

/// `giayto issue` options.
#[derive(Debug, Args)]
pub struct IssueArgs {
    /// The issuer's private JWK.
    #[arg(long)]
    pub key: PathBuf,
    /// The issuer identifier (`iss`), its public URL.
    #[arg(long)]
    pub iss: String,
    /// The document type (`vct`).
    #[arg(long)]
    pub vct: String,
    /// The holder's public JWK, for `cnf` (key binding).
    #[arg(long)]
    pub holder_jwk: Option<PathBuf>,
    /// Which claims are selectively disclosable, for types outside the catalogue: `all`
    /// (every top-level claim, the default) or comma-separated paths (`a,b/c,d/*`).
    /// Catalogue types always use the catalogue's choice.
    #[arg(long)]
    pub sd: Option<String>,
    /// The document's claims, a JSON object (`-` for stdin).
    #[arg(value_name = "CLAIMS.json")]
    pub claims: PathBuf,
}

/// A signer for a private JWK; a key without `kid` signs with its thumbprint as `kid`.
pub fn signer_for(jwk: &Jwk) -> Result<SoftwareSigner, CliError> {
    let signer = SoftwareSigner::from_jwk(jwk)?;
    Ok(match jwk.kid() {
        Some(_) => signer,
        None => signer.with_key_id(Some(jwk.thumbprint()?)),
    })
}

fn read_claims(path: &Path) -> Result<Map<String, Value>, CliError> {
    let bytes = if path == Path::new("-") {
        files::read_all_bounded(std::io::stdin().lock(), files::MAX_TEXT_FILE)
            .map_err(|e| CliError::read(path, e))?
    } else {
        files::read_bounded(path, files::MAX_TEXT_FILE)?
    };
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(CliError::Format(format!(
            "{} must hold a JSON object",
            path.display()
        ))),
        Err(e) => Err(CliError::Format(format!(
            "{} is not JSON (line {}, column {})",
            path.display(),
            e.line(),
            e.column()
        ))),
    }
}

/// Runs `giayto issue`.
pub fn run(args: IssueArgs, json: bool) -> Result<u8, CliError> {
    let signer = signer_for(&files::read_private_jwk(&args.key)?)?;
    let holder_jwk = args
        .holder_jwk
        .as_deref()
        .map(files::read_public_jwk)
        .transpose()?;
    let request = IssueRequest {
        issuer: args.iss,
        vct: args.vct,
        claims: read_claims(&args.claims)?,
        holder_jwk,
        status: None,
        issued_at: unix_now(),
        not_before: None,
        expires_at: None,
    };
    let credential = if catalogue::by_vct(&request.vct).is_some() {
        if args.sd.is_some() {
            return Err(CliError::Usage(format!(
                "--sd does not apply to {}: the catalogue fixes which claims are disclosable",
                request.vct
            )));
        }
        issue_document(&request, &signer)?
    } else {
        let disclosable: Vec<String> = match args.sd.as_deref() {
            None | Some("all") => request.claims.keys().cloned().collect(),
            Some(names) => names
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
                .collect(),
        };
        issue_vc(&request, &disclosable, &signer, IssueOptions::default())?.to_compact()
    };
    if json {
        let body = serde_json::json!({
            "credential": credential,
            "vct": request.vct,
            "iss": request.issuer,
        });
        print!("{}", files::pretty_json(&body)?);
    } else {
        println!("{credential}");
    }
    Ok(EXIT_OK)
}
