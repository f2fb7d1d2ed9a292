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

/// An example a newcomer copies must not be a document that already ended (the health
/// insurance card's `valid_until` was 2025-12-31): every end date of every example is after
/// the end of the current year.
#[test]
fn no_example_has_already_ended() {
    const END_DATES: [&str; 3] = ["valid_until", "expiry_date", "expires_on"];
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // The current year, within a day of its turn (a mean Gregorian year is 31,556,952 s).
    let this_year = 1970 + now / 31_556_952;
    for t in catalogue::all() {
        let path = examples_dir().join(format!("{}.json", t.id));
        let request: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let mut stack = vec![&request["claims"]];
        while let Some(value) = stack.pop() {
            match value {
                serde_json::Value::Object(map) => {
                    for (name, member) in map {
                        if let (true, Some(date)) =
                            (END_DATES.contains(&name.as_str()), member.as_str())
                        {
                            let year: u64 = date.get(..4).unwrap().parse().unwrap();
                            assert!(
                                year > this_year,
                                "{}: {name} {date} has ended or ends this year",
                                path.display()
                            );
                        }
                        stack.push(member);
                    }
                }
                serde_json::Value::Array(items) => stack.extend(items),
                _ => {}
            }
        }
    }
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
