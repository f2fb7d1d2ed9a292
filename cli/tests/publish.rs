//! `giayto publish` against a stand-in bulk endpoint: lines go in batches with the bearer
//! key, failed lines are summarised with their file line numbers, and the key is never
//! printed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

const API_KEY: &str = "gt_live_secret_api_key_123";

/// Serves `POST /api/v1/bulk/documents` as giayto-server does: one result line per
/// non-blank input line, numbered within the request; lines containing "bad" get 422.
fn start() -> (String, Arc<Mutex<Vec<usize>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let batches = Arc::new(Mutex::new(Vec::new()));
    let seen = batches.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let (mut length, mut authorized) = (0, false);
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line.trim().is_empty() {
                    break;
                }
                let (name, value) = line.split_once(':').unwrap();
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap();
                }
                if name.eq_ignore_ascii_case("authorization") {
                    authorized = value.trim() == format!("Bearer {API_KEY}");
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let mut stream = stream;
            if !request_line.starts_with("POST /api/v1/bulk/documents ") || !authorized {
                let problem = r#"{"title":"Unauthorized","status":401,"detail":"use Authorization: Bearer <API key>"}"#;
                write!(stream, "HTTP/1.1 401 X\r\nContent-Type: application/problem+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{problem}", problem.len()).unwrap();
                continue;
            }
            let text = String::from_utf8(body).unwrap();
            let mut out = String::new();
            let lines: Vec<&str> = text.split('\n').collect();
            seen.lock().unwrap().push(text.lines().count());
            for (i, line) in lines.iter().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                let id = v["document_id"].as_str().unwrap();
                if line.contains("bad") {
                    out += &format!(
                        r#"{{"line":{},"status":422,"document_id":"{id}","error":{{"title":"Invalid claims","status":422,"detail":"birth_date is not a date","field":"claims.birth_date"}}}}"#,
                        i + 1
                    );
                } else {
                    out += &format!(r#"{{"line":{},"status":201,"document_id":"{id}"}}"#, i + 1);
                }
                out.push('\n');
            }
            write!(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{out}", out.len()).unwrap();
        }
    });
    (url, batches)
}

#[test]
fn publishes_in_batches_and_summarises_failures() {
    let (url, batches) = start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("docs.ndjson");
    let mut ndjson = String::new();
    for i in 1..=1203 {
        if i == 600 {
            ndjson.push('\n'); // a blank line keeps its number
        }
        let bad = if i == 7 || i == 1100 { "bad" } else { "ok" };
        ndjson += &format!(r#"{{"document_id":"doc-{i}","note":"{bad}"}}"#);
        ndjson.push('\n');
    }
    std::fs::write(&file, &ndjson).unwrap();
    let out = common::giayto()
        .args([
            "--json",
            "publish",
            "--server",
            &url,
            "--api-key",
            API_KEY,
            file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["total"], 1203);
    assert_eq!(summary["published"], 1201);
    let failed = summary["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 2);
    assert_eq!(failed[0]["line"], 7);
    assert_eq!(failed[0]["document_id"], "doc-7");
    assert!(
        failed[0]["reason"]
            .as_str()
            .unwrap()
            .contains("claims.birth_date")
    );
    assert_eq!(failed[1]["line"], 1101, "line numbers count the blank line");
    assert_eq!(*batches.lock().unwrap(), vec![500, 500, 204]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains(API_KEY));

    // All good: exit 0. A wrong key: the server's refusal, exit 2, key not printed.
    std::fs::write(&file, "{\"document_id\":\"a\"}\n").unwrap();
    let out = common::giayto()
        .args([
            "publish",
            "--server",
            &url,
            "--api-key",
            API_KEY,
            file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 of 1"));
    let out = common::giayto()
        .args(["publish", "--server", &url, file.to_str().unwrap()])
        .env("GIAYTO_API_KEY", "wrong-key-456")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("401") && !stderr.contains("wrong-key-456"),
        "{stderr}"
    );
}
