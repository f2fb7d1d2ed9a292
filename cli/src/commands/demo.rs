//! `giayto demo`: runs the `giayto-demo` program (crate `giayto-demo`), found beside the
//! `giayto` executable or on `PATH`, with the same arguments. The demo embeds the issuance
//! server (axum, sqlx), so it is a program of its own and `giayto` stays a small verifier
//! and wallet tool; when `giayto-demo` is not there, this says how to build it.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

use clap::Args;

use crate::error::CliError;

/// The demo program's file name.
pub const DEMO_PROGRAM: &str = "giayto-demo";

/// `giayto demo` arguments: passed on to `giayto-demo` unchanged.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Arguments of `giayto-demo` (`--non-interactive`, `--dir DIR`; `giayto-demo --help`).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    pub args: Vec<OsString>,
}

/// Where `giayto-demo` is: beside the running `giayto` first (a cargo build puts both in
/// the same folder), then on `PATH`.
pub fn find_demo() -> Option<PathBuf> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(DEMO_PROGRAM)))
        .filter(|p| p.is_file());
    beside.or_else(|| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(DEMO_PROGRAM))
                .find(|p| p.is_file())
        })
    })
}

/// Runs `giayto-demo` with `args` (and `--json` when given to `giayto`); its exit code.
pub fn run(args: DemoArgs, json: bool) -> Result<u8, CliError> {
    let program = find_demo().ok_or_else(|| {
        CliError::Usage(format!(
            "the demo is its own program, {DEMO_PROGRAM}, which was not found beside giayto or on \
             PATH: build it with `cargo build -p giayto-demo` (then `giayto demo` runs it), or \
             run it with `cargo run -p giayto-demo`"
        ))
    })?;
    let mut command = Command::new(&program);
    if json {
        command.arg("--json");
    }
    let status = command
        .args(&args.args)
        .status()
        .map_err(|e| CliError::Usage(format!("cannot run {}: {e}", program.display())))?;
    // A demo killed by a signal has no code: report it as an error.
    Ok(status
        .code()
        .and_then(|c| u8::try_from(c).ok())
        .unwrap_or(crate::error::EXIT_ERROR))
}
