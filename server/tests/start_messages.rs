//! Issue 16: the server tells the person who started it what it did and what comes next.
//! The built binary on a fresh SQLite file: the start message names the database file, the
//! master key file, demo mode and how to turn it off, the API documentation and how to
//! publish; after a restart, how to get an API key; without demo on an empty database, that
//! the trust list is empty and what to do; the log has no colour codes when it is not a
//! terminal; a taken address is named; `--help` lists the settings; `agency add` says an API
//! key comes next. Bounds are generous (60 s): behaviour, not speed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const PATIENCE: Duration = Duration::from_secs(60);

fn server(dir: &Path, port: u16, demo: bool) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_giayto-server"));
    cmd.current_dir(dir)
        .env("GIAYTO_BIND", format!("127.0.0.1:{port}"))
        .env_remove("GIAYTO_PUBLIC_URL")
        .env_remove("DATABASE_URL")
        .env("GIAYTO_DATABASE_URL", "sqlite://g.db?mode=rwc")
        .env("GIAYTO_MASTER_KEY_FILE", "master.key")
        .env("GIAYTO_DEMO", demo.to_string())
        .env("GIAYTO_STATUS_LIST_SIZE", "1024")
        .env("GIAYTO_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Starts the server and returns its stderr up to the log line after the start message (or
/// everything, when it exits first), then stops it.
fn start_message(dir: &Path, port: u16, demo: bool) -> String {
    let mut child: Child = server(dir, port, demo).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = String::new();
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            seen.push_str(&line);
            seen.push('\n');
            // The log line that follows the start message.
            if line.contains("serving HTTP") {
                break;
            }
        }
        let _ = tx.send(seen);
    });
    let text = rx.recv_timeout(PATIENCE).expect("a start message");
    let _ = child.kill();
    let _ = child.wait();
    text
}

#[test]
fn the_start_message_says_where_everything_is_and_what_comes_next() {
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let first = start_message(dir.path(), port, true);
    let base = format!("http://127.0.0.1:{port}");
    let db = std::fs::canonicalize(dir.path()).unwrap().join("g.db");
    for expected in [
        format!("serving {base}"),
        format!("database: SQLite file {}", db.display()),
        format!("master key: {}", db.with_file_name("master.key").display()),
        "demo mode: on".to_owned(),
        "GIAYTO_DEMO=false".to_owned(),
        format!("{base}/openapi.json"),
        format!("publish: curl -X POST {base}/api/v1/documents"),
        "API keys: printed above on stdout".to_owned(),
    ] {
        assert!(first.contains(&expected), "{expected:?} in:\n{first}");
    }
    // The log is not a terminal here: no colour codes.
    assert!(
        first.contains("INFO") && first.contains("serving HTTP"),
        "{first}"
    );
    assert!(!first.contains('\u{1b}'), "{first:?}");
    // After a restart no key is printed: the message says how to make one.
    let again = start_message(dir.path(), port, true);
    assert!(
        again.contains("giayto-server api-key create --agency"),
        "{again}"
    );
}

#[test]
fn without_demo_an_empty_database_is_said_to_have_an_empty_trust_list() {
    let dir = tempfile::tempdir().unwrap();
    let text = start_message(dir.path(), common::free_port(), false);
    assert!(text.contains("demo mode: off"), "{text}");
    assert!(text.contains("the trust list is empty"), "{text}");
    assert!(text.contains("giayto-server agency add"), "{text}");
}

#[test]
fn a_taken_address_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = server(dir.path(), port, true).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on 127.0.0.1:{port}"))
            && stderr.contains("GIAYTO_BIND"),
        "{stderr}"
    );
}

#[test]
fn help_lists_the_settings_and_agency_add_says_a_key_comes_next() {
    let help = Command::new(env!("CARGO_BIN_EXE_giayto-server"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for setting in [
        "GIAYTO_BIND",
        "DATABASE_URL",
        "GIAYTO_PUBLIC_URL",
        "GIAYTO_DEMO",
        "GIAYTO_MASTER_KEY_FILE",
    ] {
        assert!(help.contains(setting), "{setting} in:\n{help}");
    }
    let dir = tempfile::tempdir().unwrap();
    let out = server(dir.path(), common::free_port(), false)
        .args([
            "agency",
            "add",
            "--id",
            "hospital",
            "--name-vi",
            "Bệnh viện",
            "--name-en",
            "Hospital",
            "--doc-type",
            "health_book",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("giayto-server api-key create --agency hospital"),
        "{stdout}"
    );
}
