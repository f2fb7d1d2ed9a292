//! Helpers shared by the command's integration tests: running the built `giayto`, temporary
//! folders with keys and issued credentials, and the project's `shared/` folder.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod issuer;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// The issuer identifier used by the tests.
pub const ISS: &str = "https://csgt.bocongan.gov.vn";

/// The `shared/` folder of the project (standards texts and vectors), found by walking up
/// from this crate.
pub fn shared_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join("shared"))
        .find(|dir| dir.join("vectors").is_dir())
        .expect("the shared/ folder with vectors/ beside the repository")
}

/// The catalogue's example claims of a document type.
pub fn sample_claims(id: &str) -> serde_json::Map<String, Value> {
    match giayto_core::catalogue::examples::example_claims(id) {
        Some(Value::Object(claims)) => claims,
        _ => panic!("no example claims for {id}"),
    }
}

/// The catalogue's example claims of a document type, written to a file in `dir`.
pub fn sample_claims_file(dir: &Path, id: &str) -> String {
    let path = dir.join(format!("{id}.claims.json"));
    std::fs::write(&path, serde_json::to_vec(&sample_claims(id)).unwrap()).unwrap();
    path.display().to_string()
}

/// A `giayto` command.
pub fn giayto() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_giayto"));
    command.env_remove("GIAYTO_VAULT_KEY");
    command.env_remove("GIAYTO_WALLET");
    command.env_remove("GIAYTO_API_KEY");
    command.stdin(Stdio::null());
    command
}

/// Runs `giayto args...`.
pub fn run(args: &[&str]) -> Output {
    giayto().args(args).output().unwrap()
}

/// Runs `giayto args...`, expecting `code`; returns stdout.
pub fn run_expect(args: &[&str], code: i32) -> String {
    let out = run(args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "giayto {args:?}\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `giayto --json args...` expecting `code`; returns the parsed JSON.
pub fn run_json(args: &[&str], code: i32) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&run_expect(&all, code)).unwrap()
}

/// A temporary folder with an issuer key and a holder key.
pub struct Keys {
    pub dir: tempfile::TempDir,
}

impl Keys {
    pub fn new(holder_alg: &str) -> Keys {
        let dir = tempfile::tempdir().unwrap();
        let keys = Keys { dir };
        run_expect(&["keygen", "--out", &keys.path("issuer.jwk")], 0);
        let public = run_expect(
            &[
                "keygen",
                "--alg",
                holder_alg,
                "--out",
                &keys.path("holder.jwk"),
            ],
            0,
        );
        std::fs::write(keys.dir.path().join("holder.pub.jwk"), public).unwrap();
        keys
    }

    pub fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// The issuer's public JWK file.
    pub fn issuer_public(&self) -> String {
        let path = self.path("issuer.pub.jwk");
        if !Path::new(&path).exists() {
            let private: Value =
                serde_json::from_slice(&std::fs::read(self.path("issuer.jwk")).unwrap()).unwrap();
            let mut public = private.as_object().unwrap().clone();
            public.remove("d");
            std::fs::write(&path, serde_json::to_vec(&public).unwrap()).unwrap();
        }
        path
    }

    /// Issues the sample document of catalogue type `id` bound to the holder key; returns
    /// the credential file.
    pub fn issue(&self, id: &str) -> String {
        let vct = format!("https://giayto.gov.vn/vct/{id}");
        let credential = run_expect(
            &[
                "issue",
                "--key",
                &self.path("issuer.jwk"),
                "--iss",
                ISS,
                "--vct",
                &vct,
                "--holder-jwk",
                &self.path("holder.pub.jwk"),
                &sample_claims_file(self.dir.path(), id),
            ],
            0,
        );
        let path = self.path(&format!("{id}.sdjwt"));
        std::fs::write(&path, credential).unwrap();
        path
    }
}

/// The failure codes of a `--json` verdict, in order.
pub fn error_codes(verdict: &Value) -> Vec<String> {
    verdict["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap().to_owned())
        .collect()
}
