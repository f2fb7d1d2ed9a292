//! `docs/examples/<type>.json`: one publish request for every document type of the
//! catalogue (issue 16: the README posted a file that existed nowhere). Each one is
//! published to the real server by the agency the demo allows to issue it, and answers 201
//! with an offer and a `tx_code`; no type lacks a file and no file names an unknown type.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::BTreeSet;
use std::path::Path;

use giayto_core::catalogue;
use giayto_e2e::agency::{self, Document, Offer};
use giayto_e2e::server::{Backend, Server};

fn examples_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples")
}

#[test]
fn there_is_one_example_per_catalogue_type_and_no_other() {
    let files: BTreeSet<String> = std::fs::read_dir(examples_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let expected: BTreeSet<String> = catalogue::all()
        .iter()
        .map(|t| format!("{}.json", t.id))
        .collect();
    assert_eq!(files, expected);
}

#[test]
fn every_example_publishes_on_the_real_server() {
    let mut server = Server::start(Backend::Sqlite).unwrap().unwrap();
    for t in catalogue::all() {
        let path = examples_dir().join(format!("{}.json", t.id));
        let request: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(request["vct"], t.vct, "{}", path.display());
        let doc = Document {
            agency: agency::issuer_of(t.id).unwrap(),
            type_id: t.id,
            request,
        };
        let (status, offer) = match agency::publish(&server, &doc) {
            Ok(answer) => answer,
            Err(e) => panic!("{}: {e}\n{}", path.display(), server.log()),
        };
        assert_eq!(status, 201, "{}", path.display());
        let Offer { uri, tx_code } = offer;
        assert!(uri.starts_with("openid-credential-offer://"), "{uri}");
        assert!(!tx_code.is_empty() && tx_code.bytes().all(|b| b.is_ascii_digit()));
    }
    server.stop().unwrap();
}
