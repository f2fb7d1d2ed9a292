//! The README's shell blocks, run as written (issue 16: its first publish posted a file that
//! existed nowhere with a key never set). Every ```` ```sh ```` block runs in order in one
//! bash shell (`set -euo pipefail`) started in the repository root, with `HOME` and `TMPDIR`
//! in a fresh temporary folder and the built binaries' cargo target directory as
//! `CARGO_TARGET_DIR`; the only change made to the text is the port on the `GIAYTO_BIND=`
//! line (a free one instead of 8080). The README's own markers, on the line before a block:
//! `<!-- readme-test: skip: why -->` (not run; the reason is required) and
//! `<!-- readme-test: exits N -->` (the block's one command must end with exit code N).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What the test does with a block.
#[derive(Debug, PartialEq)]
enum Mode {
    Run,
    Exits(i32),
    Skip(String),
}

/// A fenced `sh` block of the README.
#[derive(Debug)]
struct Block {
    /// 1-based line of the opening fence.
    line: usize,
    text: String,
    mode: Mode,
}

const MARKER: &str = "<!-- readme-test:";

fn parse(readme: &str) -> Vec<Block> {
    let lines: Vec<&str> = readme.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim_end() != "```sh" {
            if lines[i].starts_with(MARKER) {
                let next = lines.get(i + 1).copied().unwrap_or_default();
                assert_eq!(
                    next,
                    "```sh",
                    "README line {}: a readme-test marker must sit right before a ```sh block",
                    i + 1
                );
            }
            i += 1;
            continue;
        }
        let mode = match i.checked_sub(1).map(|p| lines[p].trim()) {
            Some(m) if m.starts_with(MARKER) => {
                let inner = m.trim_start_matches(MARKER).trim_end_matches("-->").trim();
                if let Some(reason) = inner.strip_prefix("skip:") {
                    assert!(
                        !reason.trim().is_empty(),
                        "README line {i}: a skipped block says why"
                    );
                    Mode::Skip(reason.trim().to_owned())
                } else if let Some(code) = inner.strip_prefix("exits ") {
                    Mode::Exits(code.trim().parse().expect("exits N"))
                } else {
                    panic!("README line {i}: unknown marker {m}")
                }
            }
            _ => Mode::Run,
        };
        let start = i + 1;
        let mut end = start;
        while end < lines.len() && lines[end].trim_end() != "```" {
            end += 1;
        }
        assert!(end < lines.len(), "README line {start}: unclosed block");
        blocks.push(Block {
            line: start,
            text: lines[start..end].join("\n"),
            mode,
        });
        i = end + 1;
    }
    blocks
}

/// The script: every block to run, each announced on stdout by its README line.
fn script(blocks: &[Block], port: u16) -> String {
    let mut out = String::from(
        "set -euo pipefail\n\
         trap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n",
    );
    let mut bind_lines = 0;
    for block in blocks {
        let mut text = String::new();
        for line in block.text.lines() {
            if line.contains("GIAYTO_BIND=127.0.0.1:8080") {
                bind_lines += 1;
                text.push_str(&line.replace(
                    "GIAYTO_BIND=127.0.0.1:8080",
                    &format!("GIAYTO_BIND=127.0.0.1:{port}"),
                ));
            } else {
                text.push_str(line);
            }
            text.push('\n');
        }
        match block.mode {
            Mode::Skip(_) => continue,
            Mode::Run => {
                out.push_str(&format!("echo '### README line {}'\n{text}", block.line));
            }
            Mode::Exits(code) => {
                assert_eq!(
                    text.lines().filter(|l| !l.trim().is_empty()).count(),
                    1,
                    "README line {}: an `exits N` block holds one command",
                    block.line
                );
                out.push_str(&format!(
                    "echo '### README line {line}'\nset +e\n{text}rc=$?\nset -e\n\
                     [ \"$rc\" = {code} ] || {{ echo \"README line {line}: exit $rc, the README says {code}\" >&2; exit 99; }}\n",
                    line = block.line
                ));
            }
        }
    }
    assert_eq!(
        bind_lines, 1,
        "one GIAYTO_BIND=127.0.0.1:8080 line sets the port"
    );
    out
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Untracked and modified files of the repository, as `git status --porcelain` lists them.
fn git_status(root: &Path) -> BTreeSet<String> {
    let out = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=all"])
        .current_dir(root)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn markers_are_understood() {
    let blocks = parse(
        "a\n```sh\necho 1\n```\n<!-- readme-test: skip: a server -->\n```sh\nserve\n```\n\
         <!-- readme-test: exits 1 -->\n```sh\nfalse\n```\n",
    );
    let modes: Vec<&Mode> = blocks.iter().map(|b| &b.mode).collect();
    assert_eq!(
        modes,
        [&Mode::Run, &Mode::Skip("a server".into()), &Mode::Exits(1)]
    );
    assert_eq!(blocks[0].line, 2);
}

#[test]
fn every_readme_block_runs_as_written() {
    let root = repo_root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let blocks = parse(&readme);
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let script = script(&blocks, port);

    // The giayto binaries the blocks build: this test's own target directory.
    let exe = std::env::current_exe().unwrap();
    let target = exe.ancestors().nth(3).unwrap().to_path_buf();
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    let tmp = scratch.path().join("tmp");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&tmp).unwrap();
    let real_home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();

    let mut cmd = Command::new("timeout");
    // A generous bound: the blocks build debug binaries and play the demo.
    cmd.args(["--kill-after=10", "1500", "bash", "-c", &script])
        .current_dir(&root)
        .env("HOME", &home)
        .env("TMPDIR", &tmp)
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("GIAYTO_WALLET")
        .env_remove("GIAYTO_BIND")
        .env_remove("GIAYTO_PUBLIC_URL")
        .env_remove("DATABASE_URL");
    // rustup and cargo keep their homes under the real HOME.
    if std::env::var_os("CARGO_HOME").is_none() {
        cmd.env("CARGO_HOME", real_home.join(".cargo"));
    }
    if std::env::var_os("RUSTUP_HOME").is_none() {
        cmd.env("RUSTUP_HOME", real_home.join(".rustup"));
    }
    // The variables cargo sets for this test would change fingerprints (see the harness).
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_") && !matches!(&*name, "CARGO_HOME" | "CARGO_TARGET_DIR") {
            cmd.env_remove(&*name);
        }
    }
    let before = git_status(&root);
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "README blocks failed: {}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}\n--- script ---\n{script}",
        out.status
    );
    // What the README says the reader sees.
    for expected in [
        "HỢP LỆ / VALID",
        "KHÔNG HỢP LỆ / INVALID",
        "đã thu hồi / REVOKED",
        "\"revoked\"",
        "\"state\": \"answered\"",
        "\"valid\": true",
    ] {
        assert!(
            stdout.contains(expected),
            "the README promises {expected:?}\n{stdout}"
        );
    }
    // Nothing was left in the repository.
    let after = git_status(&root);
    let new: Vec<&String> = after.difference(&before).collect();
    assert!(
        new.is_empty(),
        "the blocks wrote into the repository: {new:?}"
    );
}
