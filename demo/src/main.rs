//! `giayto-demo`: the whole journey with an embedded server (see the library's docs).

use std::process::ExitCode;

use clap::Parser;
use giayto_cli::error::{CliError, EXIT_ERROR, EXIT_OK};
use giayto_demo::DemoArgs;

/// giayto-demo: publish, receive, show, verify and revoke with an embedded server.
#[derive(Debug, Parser)]
#[command(name = "giayto-demo", version)]
struct Cli {
    /// A JSON report instead of text for people.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    demo: DemoArgs,
}

fn main() -> ExitCode {
    giayto_core::broken_pipe::end_quietly_on_broken_pipe();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_ERROR } else { EXIT_OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match giayto_demo::run(cli.demo, cli.json) {
        Ok(code) => ExitCode::from(code),
        Err(error) => report(&error, cli.json),
    }
}

fn report(error: &CliError, json: bool) -> ExitCode {
    if json {
        println!("{}", serde_json::json!({"error": error.to_string()}));
    }
    eprintln!("giayto-demo: {error}");
    ExitCode::from(error.exit_code())
}
