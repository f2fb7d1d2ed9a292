//! What the server tells the person who started it (stderr, plain text, once): where it
//! serves, which database and master key file it uses, whether it is in demo mode and how
//! to turn that off, where the API documentation is, how to publish, and how to get an API
//! key (keys are shown only when created: after a restart there is none to show). On a
//! database without agencies it says that the trust list is empty and what to do. The
//! database URL is shown without its password.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;

use crate::config::Config;

/// What the banner needs to know besides the configuration.
#[derive(Debug, Clone)]
pub struct StartFacts<'a> {
    /// The address the public listener is bound to.
    pub bound: SocketAddr,
    /// The agencies in the database, by id.
    pub agencies: &'a [String],
    /// Whether this start created the demo agencies (their keys were just printed).
    pub demo_seeded: bool,
}

/// The start message, one line per fact, ending with a newline.
pub fn banner(config: &Config, facts: &StartFacts<'_>) -> String {
    let url = &config.public_url;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "giayto-server {}: serving {url} (listening on {})",
        env!("CARGO_PKG_VERSION"),
        facts.bound
    );
    let _ = writeln!(
        out,
        "  database: {}",
        describe_database(&config.database_url)
    );
    let _ = writeln!(
        out,
        "  master key: {} (keep it secret and backed up: the database cannot be opened without it)",
        absolute(&config.master_key_file)
    );
    if config.demo {
        let _ = writeln!(
            out,
            "  demo mode: on (an empty database gets a demo trust anchor and three demo agencies); \
             turn it off with GIAYTO_DEMO=false or `demo = false` in the configuration file"
        );
    } else {
        let _ = writeln!(out, "  demo mode: off");
    }
    if facts.agencies.is_empty() {
        let _ = writeln!(
            out,
            "  agencies: none, so the trust list is empty and nothing can be published; add one \
             with `giayto-server agency add --id ID --name-vi NAME --name-en NAME --doc-type TYPE`, \
             then give it a key with `giayto-server api-key create --agency ID`"
        );
    } else {
        let _ = writeln!(out, "  agencies: {}", facts.agencies.join(", "));
        if facts.demo_seeded {
            let _ = writeln!(out, "  API keys: printed above on stdout, only this once");
        } else {
            let _ = writeln!(
                out,
                "  API keys: shown only when created; a new one for an agency: \
                 `giayto-server api-key create --agency {}`",
                facts.agencies[0]
            );
        }
    }
    let _ = writeln!(
        out,
        "  API documentation: {url}/openapi.json (and docs/ISSUER_API.md); example documents of \
         every type: docs/examples/"
    );
    let _ = writeln!(
        out,
        "  publish: curl -X POST {url}/api/v1/documents -H \"Authorization: Bearer $API_KEY\" \
         -H 'Content-Type: application/json' -d @docs/examples/driving_licence.json"
    );
    out
}

/// The database for people: the SQLite file's absolute path, or the URL without its
/// password.
pub fn describe_database(database_url: &str) -> String {
    if let Some(rest) = database_url.strip_prefix("sqlite:") {
        let file = rest.trim_start_matches("//");
        let file = file.split('?').next().unwrap_or(file);
        return format!("SQLite file {}", absolute(Path::new(file)));
    }
    match url::Url::parse(database_url) {
        Ok(mut url) => {
            if url.password().is_some() {
                let _ = url.set_password(Some("***"));
            }
            format!("PostgreSQL {url}")
        }
        // Never echo what could not be parsed: it may hold a password.
        Err(_) => "(a database URL that does not parse)".to_owned(),
    }
}

fn absolute(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_is_named_without_its_password() {
        assert_eq!(
            describe_database("postgres://giayto:s3cret@db.internal:5432/giayto"),
            "PostgreSQL postgres://giayto:***@db.internal:5432/giayto"
        );
        let sqlite = describe_database("sqlite:///var/lib/giayto/g.db?mode=rwc");
        assert_eq!(sqlite, "SQLite file /var/lib/giayto/g.db");
        let relative = describe_database("sqlite://giayto.db?mode=rwc");
        assert!(relative.starts_with("SQLite file /") && relative.ends_with("/giayto.db"));
    }

    #[test]
    fn an_empty_database_without_demo_says_what_to_do() {
        let config = Config {
            demo: false,
            ..Config::default()
        };
        let text = banner(
            &config,
            &StartFacts {
                bound: config.bind,
                agencies: &[],
                demo_seeded: false,
            },
        );
        assert!(text.contains("demo mode: off"), "{text}");
        assert!(text.contains("the trust list is empty"), "{text}");
        assert!(text.contains("giayto-server agency add"), "{text}");
    }
}
