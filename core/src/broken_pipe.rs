//! A closed pipe is a normal end for a command-line program (`giayto ... | head -c 10`):
//! Rust ignores `SIGPIPE`, so `println!` to a closed pipe panics ("failed printing to
//! stdout: Broken pipe", exit 101). [`end_quietly_on_broken_pipe`] makes such a panic end
//! the process with exit code 0 and no message instead, for every print of the program,
//! without setting a signal handler (which needs unsafe code).

/// `EPIPE` on Linux and the BSDs (macOS included): the `os error` std names.
const EPIPE: i32 = 32;

/// Installs a panic hook under the current one: a panic of `print!`/`println!`/`eprint!`
/// whose error is `EPIPE` exits with code 0 silently; every other panic goes to the
/// previous hook unchanged. For the `main` of a program, never for a library.
pub fn end_quietly_on_broken_pipe() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if is_broken_pipe_print(message) {
            std::process::exit(0);
        }
        previous(info);
    }));
}

/// Whether `message` is std's panic message for a print to a closed pipe
/// (`failed printing to stdout: Broken pipe (os error 32)`).
fn is_broken_pipe_print(message: &str) -> bool {
    message.starts_with("failed printing to std")
        && message.ends_with(&format!("(os error {EPIPE})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_std_s_broken_pipe_print_panics_are_recognised() {
        assert!(is_broken_pipe_print(
            "failed printing to stdout: Broken pipe (os error 32)"
        ));
        assert!(is_broken_pipe_print(
            "failed printing to stderr: Broken pipe (os error 32)"
        ));
        assert!(!is_broken_pipe_print(
            "failed printing to stdout: No space left on device (os error 28)"
        ));
        assert!(!is_broken_pipe_print("index out of bounds (os error 32)"));
    }
}
