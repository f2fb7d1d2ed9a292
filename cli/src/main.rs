//! The `giayto` command: see `giayto --help`.

fn main() -> std::process::ExitCode {
    giayto_cli::main_with_args(std::env::args_os())
}
