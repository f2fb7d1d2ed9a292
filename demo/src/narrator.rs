//! How the demo speaks: numbered steps and lines in Vietnamese and English on stdout,
//! progress bars on stderr (only on a terminal), a pause between steps when someone is
//! watching, and the record of every expectation checked, which decides the exit code and
//! is the whole output under `--json`.

use std::io::{BufRead, IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use serde_json::{Value, json};

/// One expectation of the journey and whether it held.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// The step it belongs to.
    pub step: usize,
    /// What was expected, in English.
    pub expected: String,
    /// Whether it held.
    pub ok: bool,
}

/// The demo's voice.
pub struct Narrator {
    json: bool,
    interactive: bool,
    total_steps: usize,
    step: usize,
    checks: Vec<Check>,
    facts: serde_json::Map<String, Value>,
    started: Instant,
}

impl Narrator {
    /// A narrator for `total_steps` steps; `json` keeps stdout for the final report, and
    /// `interactive` waits for Enter between steps.
    pub fn new(json: bool, interactive: bool, total_steps: usize) -> Narrator {
        Narrator {
            json,
            interactive,
            total_steps,
            step: 0,
            checks: Vec::new(),
            facts: serde_json::Map::new(),
            started: Instant::now(),
        }
    }

    /// Whether people are reading (text output).
    pub fn human(&self) -> bool {
        !self.json
    }

    /// Starts the next step: waits for Enter first when interactive, then prints its title.
    pub fn step(&mut self, vi: &str, en: &str) {
        if self.step > 0 && self.interactive && !self.json {
            print!("\n  [Enter ↵ để tiếp tục / to continue] ");
            let _ = std::io::stdout().flush();
            let mut line = String::new();
            let _ = std::io::stdin().lock().read_line(&mut line);
        }
        self.step += 1;
        self.say(&format!(
            "\n[{}/{}] {vi}\n      {en}",
            self.step, self.total_steps
        ));
    }

    /// Waits for Enter when someone is watching, saying why (a QR code stays on screen
    /// until then); does nothing otherwise.
    pub fn pause(&self, why: &str) {
        if self.interactive && !self.json {
            print!("\n  [{why}; Enter ↵ để tiếp tục / to continue] ");
            let _ = std::io::stdout().flush();
            let mut line = String::new();
            let _ = std::io::stdin().lock().read_line(&mut line);
        }
    }

    /// Prints a line of text (not under `--json`).
    pub fn say(&self, text: &str) {
        if !self.json {
            println!("{text}");
        }
    }

    /// Prints an indented line.
    pub fn detail(&self, text: &str) {
        self.say(&format!("      {text}"));
    }

    /// Prints a block (a QR code, a verdict) indented under the step.
    pub fn block(&self, text: &str) {
        if !self.json {
            for line in text.lines() {
                println!("      {line}");
            }
        }
    }

    /// Records a fact for the JSON report.
    pub fn fact(&mut self, key: &str, value: Value) {
        self.facts.insert(key.to_owned(), value);
    }

    /// Records an expectation of the current step and prints whether it held.
    pub fn check(&mut self, expected: &str, ok: bool) -> bool {
        let mark = if ok {
            "✓ đúng như mong đợi / as expected"
        } else {
            "✗ SAI / NOT as expected"
        };
        self.say(&format!("      {mark}: {expected}"));
        self.checks.push(Check {
            step: self.step,
            expected: expected.to_owned(),
            ok,
        });
        ok
    }

    /// A progress bar over `len` items, drawn on stderr when it is a terminal.
    pub fn progress(&self, len: usize, what: &str) -> ProgressBar {
        let bar = ProgressBar::with_draw_target(
            Some(u64::try_from(len).unwrap_or(u64::MAX)),
            if self.json || !std::io::stderr().is_terminal() {
                ProgressDrawTarget::hidden()
            } else {
                ProgressDrawTarget::stderr()
            },
        );
        if let Ok(style) =
            ProgressStyle::with_template("      {spinner} [{bar:30}] {pos}/{len} {msg}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(what.to_owned());
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    }

    /// Whether every expectation held.
    pub fn all_held(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }

    /// Ends the demo: the summary line, or the JSON report under `--json`.
    pub fn finish(self) -> bool {
        let held = self.checks.iter().filter(|c| c.ok).count();
        let ok = self.all_held();
        let seconds = self.started.elapsed().as_secs_f64();
        if self.json {
            let mut report = json!({
                "ok": ok,
                "checks": self.checks,
                "seconds": (seconds * 10.0).round() / 10.0,
            });
            if let Some(object) = report.as_object_mut() {
                object.extend(self.facts);
            }
            println!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            );
        } else if ok {
            println!(
                "\nHành trình hoàn tất / Journey complete: {held}/{} checks as expected ({seconds:.1} s)",
                self.checks.len()
            );
        } else {
            println!(
                "\nHành trình THẤT BẠI / Journey FAILED: {held}/{} checks as expected",
                self.checks.len()
            );
        }
        ok
    }
}
