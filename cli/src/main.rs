//! The `giayto` command: see `giayto --help`.

fn main() -> std::process::ExitCode {
    giayto_core::broken_pipe::end_quietly_on_broken_pipe();
    giayto_cli::main_with_args(std::env::args_os())
}
