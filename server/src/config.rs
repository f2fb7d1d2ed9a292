//! Server configuration: defaults, then an optional TOML file, then environment variables
//! (`GIAYTO_*`, plus the conventional `DATABASE_URL`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// The largest configuration file read, bytes.
pub const MAX_CONFIG_FILE_BYTES: u64 = 1 << 20;

/// Smallest `status_list_size`, entries: herd privacy depends on the list's size (Token
/// Status List, "Privacy Considerations", "Observability of Issuers").
pub const MIN_STATUS_LIST_SIZE: u64 = 1024;
/// Largest `status_list_size`, entries: 2^22 entries of 2 bits are 1 MiB before
/// compression, the most a token fetched by every verifier should carry (Token Status List,
/// "Status List Size").
pub const MAX_STATUS_LIST_SIZE: u64 = 1 << 22;
/// Largest `database_max_connections`: PostgreSQL's own default `max_connections` is 100,
/// and a pool is per process.
pub const MAX_DATABASE_CONNECTIONS: u64 = 1000;
/// Smallest body limit, bytes: one publish or credential request fits in far less.
pub const MIN_BODY_BYTES: u64 = 4 << 10;
/// Largest `max_body_bytes`: a JSON body is held whole in memory before its handler runs.
pub const MAX_BODY_BYTES: u64 = 64 << 20;
/// Largest `max_bulk_body_bytes` (the bulk stream is read piece by piece, never whole).
pub const MAX_BULK_BODY_BYTES: u64 = 64 << 30;
/// Largest `max_connections` per listener (each one is a file descriptor).
pub const MAX_CONNECTIONS: u64 = 65_536;

/// Every setting of the server. Field names are the TOML keys; the environment variable of
/// a field is `GIAYTO_` + its name in upper case (e.g. `GIAYTO_PUBLIC_URL`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP(S) listener binds to.
    pub bind: SocketAddr,
    /// Public base URL: the Credential Issuer Identifier, prefix of every URL in metadata
    /// and of each agency's `iss`. No trailing slash.
    pub public_url: String,
    /// `sqlite://file.db?mode=rwc` (default, embedded) or `postgres://...`.
    pub database_url: String,
    /// Maximum pooled database connections.
    pub database_max_connections: u32,
    /// File holding the 32-byte master key; created (mode 0600) on first start.
    pub master_key_file: PathBuf,
    /// Seed a demo trust anchor and three demo agencies when the database has no agency.
    pub demo: bool,
    /// Lifetime of a credential offer's pre-authorized code, seconds.
    pub offer_ttl_secs: i64,
    /// Lifetime of an access token, seconds.
    pub access_token_ttl_secs: i64,
    /// Lifetime of a `c_nonce`, seconds.
    pub nonce_ttl_secs: i64,
    /// Wrong `tx_code` attempts after which a pre-authorized code is burnt.
    pub tx_code_max_tries: i64,
    /// Digits of the numeric `tx_code`.
    pub tx_code_digits: u32,
    /// Default credential lifetime when a publish request gives no `valid_until`, seconds.
    pub credential_ttl_secs: i64,
    /// Entries per status list (2 bits each).
    pub status_list_size: u32,
    /// `ttl` claim of status list tokens, seconds.
    pub status_list_ttl_secs: i64,
    /// Lifetime (`exp` - `iat`) of a status list token, seconds. An unchanged list is
    /// re-signed every half of it, so every token served has at least half left (the
    /// offline horizon of a verifier that synced) and a daily sync re-downloads only the
    /// unchanged lists whose period turned (see `domain::status_lists`).
    pub status_list_lifetime_secs: i64,
    /// Lifetime of a published trust list, seconds.
    pub trust_list_lifetime_secs: i64,
    /// Request body limit of JSON endpoints, bytes.
    pub max_body_bytes: usize,
    /// Request body limit of the NDJSON bulk endpoint, bytes.
    pub max_bulk_body_bytes: usize,
    /// PEM certificate chain; with `tls_key_file`, serve HTTPS with rustls.
    pub tls_cert_file: Option<PathBuf>,
    /// PEM private key for `tls_cert_file`.
    pub tls_key_file: Option<PathBuf>,
    /// Seconds in-flight requests get to finish after a shutdown signal, on every listener
    /// (HTTP and TLS alike); what is still open then is dropped and the process exits.
    pub shutdown_grace_secs: u64,
    /// Address of the admin listener (plain HTTP) serving `/metrics`; none (the default):
    /// no admin listener, metrics are still counted. The public listener never serves
    /// `/metrics`. Keep it on loopback or a private network.
    pub admin_bind: Option<SocketAddr>,
    /// Longest wait for a complete request head (request line and headers), seconds. The
    /// clock starts when a connection is ready for a request, new or kept alive, so this is
    /// also the idle keep-alive timeout; it bounds a TLS handshake too.
    pub header_read_timeout_secs: u64,
    /// Longest pause between two pieces of a request body, seconds (a stalled body is
    /// answered 408 and its connection closed).
    pub body_read_timeout_secs: u64,
    /// Longest a response write may make no progress (a client that stops reading),
    /// seconds; then the connection is dropped.
    pub write_timeout_secs: u64,
    /// Bound on a whole request other than a bulk stream, seconds: its body must have
    /// arrived by then (else 408) and its answer be ready by then (else 503).
    pub request_timeout_secs: u64,
    /// Most connections open at once on each listener. Past it the listener stops
    /// accepting (new clients wait in the kernel's backlog) until one closes.
    pub max_connections: usize,
    /// Most connections open at once on each listener from one peer IP address; one more
    /// is closed as soon as it is accepted. 0: no per-address share (behind a proxy, where
    /// every client comes from the proxy's address); a share of `max_connections` or more
    /// has no effect.
    pub max_connections_per_ip: usize,
    /// Longest a bulk NDJSON stream may last, seconds; then it ends with a 408 line.
    pub bulk_max_duration_secs: u64,
    /// Longest wait for a PostgreSQL connection from the pool (connecting included),
    /// seconds; past it the request fails with 503 and `/readyz` answers 503.
    pub database_acquire_timeout_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: "http://127.0.0.1:8080".to_owned(),
            database_url: "sqlite://giayto.db?mode=rwc".to_owned(),
            database_max_connections: 8,
            master_key_file: PathBuf::from("giayto-master.key"),
            demo: true,
            offer_ttl_secs: 24 * 3600,
            access_token_ttl_secs: 300,
            nonce_ttl_secs: 300,
            tx_code_max_tries: 5,
            tx_code_digits: 6,
            credential_ttl_secs: 365 * 24 * 3600,
            status_list_size: 1 << 17,
            status_list_ttl_secs: 300,
            status_list_lifetime_secs: 8 * 24 * 3600,
            trust_list_lifetime_secs: 30 * 24 * 3600,
            max_body_bytes: 1 << 20,
            max_bulk_body_bytes: 512 << 20,
            tls_cert_file: None,
            tls_key_file: None,
            shutdown_grace_secs: 20,
            admin_bind: None,
            header_read_timeout_secs: 10,
            body_read_timeout_secs: 10,
            write_timeout_secs: 30,
            request_timeout_secs: 30,
            max_connections: 512,
            max_connections_per_ip: 64,
            bulk_max_duration_secs: 3600,
            database_acquire_timeout_secs: 3,
        }
    }
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Parsing the file or the environment failed.
    #[error("configuration: {0}")]
    Load(#[from] Box<figment::Error>),
    /// A value is out of range.
    #[error("configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Loads defaults, then `file` (TOML) when given, then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        // Only our own keys are taken from GIAYTO_*: other variables (GIAYTO_LOG, test
        // settings) share the prefix.
        let known: Vec<String> = match serde_json::to_value(Config::default()) {
            Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
            _ => Vec::new(),
        };
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        // The same sources without the defaults: which settings were given at all.
        let mut given = Figment::new();
        if let Some(file) = file {
            // A regular file of bounded size: a FIFO or /dev/zero named here is refused.
            let text = giayto_core::local_file::read_regular(file, MAX_CONFIG_FILE_BYTES)
                .map_err(|e| ConfigError::Invalid(format!("file {}: {e}", file.display())))?;
            let text = String::from_utf8(text).map_err(|_| {
                ConfigError::Invalid(format!("file {} is not UTF-8", file.display()))
            })?;
            figment = figment.merge(Toml::string(&text));
            given = given.merge(Toml::string(&text));
        }
        let env = Env::prefixed("GIAYTO_")
            .filter(move |key| known.iter().any(|k| key.as_str().eq_ignore_ascii_case(k)));
        figment = figment
            .merge(
                Env::raw()
                    .only(&["DATABASE_URL"])
                    .map(|_| "database_url".into()),
            )
            .merge(env.clone());
        given = given.merge(env);
        let mut config: Config = figment.extract().map_err(Box::new)?;
        if given.find_value("public_url").is_err() {
            config.public_url = config.derived_public_url();
        }
        config.validate()?;
        Ok(config)
    }

    /// The public URL when none is set: the bind address with `https` when TLS is
    /// configured, else `http`; an unspecified bind address (`0.0.0.0`, `::`) is reached
    /// on loopback (other machines need `public_url` set). Without it, changing only
    /// `bind` left offers pointing at another port (issue 16).
    pub fn derived_public_url(&self) -> String {
        let scheme = if self.tls_cert_file.is_some() {
            "https"
        } else {
            "http"
        };
        let mut address = self.bind;
        if address.ip().is_unspecified() {
            address.set_ip(if address.is_ipv4() {
                std::net::Ipv4Addr::LOCALHOST.into()
            } else {
                std::net::Ipv6Addr::LOCALHOST.into()
            });
        }
        format!("{scheme}://{address}")
    }

    /// Checks ranges and normalises the public URL (no trailing slash).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let url = url::Url::parse(&self.public_url)
            .map_err(|e| ConfigError::Invalid(format!("public_url: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || self.public_url.ends_with('/') {
            return Err(ConfigError::Invalid(
                "public_url must be an http(s) URL without a trailing slash".into(),
            ));
        }
        // Every duration within bounds (docs/ISSUER_API.md, "Time values").
        use crate::domain::time_bounds::{DAY_SECS, MAX_ANY_LIFETIME_SECS, YEAR_SECS};
        let bounded = [
            ("offer_ttl_secs", self.offer_ttl_secs, 30 * DAY_SECS),
            ("access_token_ttl_secs", self.access_token_ttl_secs, 3600),
            ("nonce_ttl_secs", self.nonce_ttl_secs, 3600),
            ("tx_code_max_tries", self.tx_code_max_tries, 10),
            (
                "credential_ttl_secs",
                self.credential_ttl_secs,
                MAX_ANY_LIFETIME_SECS,
            ),
            ("status_list_ttl_secs", self.status_list_ttl_secs, DAY_SECS),
            (
                "status_list_lifetime_secs",
                self.status_list_lifetime_secs,
                30 * DAY_SECS,
            ),
            (
                "trust_list_lifetime_secs",
                self.trust_list_lifetime_secs,
                YEAR_SECS,
            ),
            (
                "header_read_timeout_secs",
                wide(self.header_read_timeout_secs),
                3600,
            ),
            (
                "body_read_timeout_secs",
                wide(self.body_read_timeout_secs),
                3600,
            ),
            ("write_timeout_secs", wide(self.write_timeout_secs), 3600),
            (
                "request_timeout_secs",
                wide(self.request_timeout_secs),
                3600,
            ),
            (
                "bulk_max_duration_secs",
                wide(self.bulk_max_duration_secs),
                DAY_SECS,
            ),
            (
                "database_acquire_timeout_secs",
                wide(self.database_acquire_timeout_secs),
                600,
            ),
        ];
        for (name, v, max) in bounded {
            if !(1..=max).contains(&v) {
                return Err(ConfigError::Invalid(format!("{name} must be 1..={max}")));
            }
        }
        // Every other number within bounds too (docs/OPERATIONS.md, "Configuration"): an
        // unbounded grace never lets the process exit, a zero body limit refuses every body.
        let sizes: [(&str, u64, u64, u64); 8] = [
            ("tx_code_digits", self.tx_code_digits.into(), 4, 12),
            (
                "status_list_size",
                self.status_list_size.into(),
                MIN_STATUS_LIST_SIZE,
                MAX_STATUS_LIST_SIZE,
            ),
            ("shutdown_grace_secs", self.shutdown_grace_secs, 1, 600),
            (
                "database_max_connections",
                self.database_max_connections.into(),
                1,
                MAX_DATABASE_CONNECTIONS,
            ),
            (
                "max_body_bytes",
                wide_usize(self.max_body_bytes),
                MIN_BODY_BYTES,
                MAX_BODY_BYTES,
            ),
            (
                "max_bulk_body_bytes",
                wide_usize(self.max_bulk_body_bytes),
                MIN_BODY_BYTES,
                MAX_BULK_BODY_BYTES,
            ),
            (
                "max_connections",
                wide_usize(self.max_connections),
                1,
                MAX_CONNECTIONS,
            ),
            (
                "max_connections_per_ip",
                wide_usize(self.max_connections_per_ip),
                0,
                MAX_CONNECTIONS,
            ),
        ];
        for (name, v, min, max) in sizes {
            if !(min..=max).contains(&v) {
                return Err(ConfigError::Invalid(format!(
                    "{name} must be {min}..={max}"
                )));
            }
        }
        if !self.status_list_size.is_multiple_of(4) {
            return Err(ConfigError::Invalid(
                "status_list_size must be a multiple of 4".into(),
            ));
        }
        if self.tls_cert_file.is_some() != self.tls_key_file.is_some() {
            return Err(ConfigError::Invalid(
                "tls_cert_file and tls_key_file go together".into(),
            ));
        }
        Ok(())
    }
}

/// An unsigned setting as a signed one, for one range check with the others.
fn wide(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A size setting as a `u64`, for one range check with the others.
fn wide_usize(v: usize) -> u64 {
    u64::try_from(v).unwrap_or(u64::MAX)
}

#[cfg(test)]
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn file_then_environment_override_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "giayto.toml",
                "public_url = \"https://id.example.vn\"\nnonce_ttl_secs = 60\ndemo = false\n",
            )?;
            jail.set_env("GIAYTO_NONCE_TTL_SECS", "90");
            jail.set_env("DATABASE_URL", "postgres://u@localhost/db");
            jail.set_env("GIAYTO_TEST_POSTGRES_URL", "not a setting of the server");
            jail.set_env("GIAYTO_ADMIN_BIND", "127.0.0.1:9464");
            let c = Config::load(Some(Path::new("giayto.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(c.public_url, "https://id.example.vn");
            assert_eq!(c.nonce_ttl_secs, 90);
            assert!(!c.demo);
            assert_eq!(c.database_url, "postgres://u@localhost/db");
            assert_eq!(c.offer_ttl_secs, Config::default().offer_ttl_secs);
            assert_eq!(c.admin_bind, Some(SocketAddr::from(([127, 0, 0, 1], 9464))));
            Ok(())
        });
    }

    /// Issue 16: changing only `GIAYTO_BIND` kept `public_url` at `:8080`, so offers named
    /// another server. The URL now follows the bind address unless it is set.
    #[test]
    fn public_url_follows_the_bind_address_unless_set() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("GIAYTO_BIND", "127.0.0.1:18080");
            let c = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(c.public_url, "http://127.0.0.1:18080");
            jail.set_env("GIAYTO_BIND", "0.0.0.0:9000");
            let c = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(c.public_url, "http://127.0.0.1:9000");
            jail.set_env("GIAYTO_PUBLIC_URL", "https://id.example.vn");
            let c = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(c.public_url, "https://id.example.vn");
            Ok(())
        });
        figment::Jail::expect_with(|jail| {
            jail.create_file("giayto.toml", "bind = \"[::1]:8443\"\n")?;
            let c = Config::load(Some(Path::new("giayto.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(c.public_url, "http://[::1]:8443");
            Ok(())
        });
    }

    /// A change to the default configuration.
    type Adjust = fn(&mut Config);

    /// Each numeric setting the tester found unbounded: the value they used (or the edge),
    /// refused with the setting's name; the edges themselves accepted.
    #[test]
    fn every_numeric_setting_is_bounded() {
        let refused: Vec<(&str, Adjust)> = vec![
            ("shutdown_grace_secs", |c| c.shutdown_grace_secs = u64::MAX),
            ("shutdown_grace_secs", |c| c.shutdown_grace_secs = 601),
            ("shutdown_grace_secs", |c| c.shutdown_grace_secs = 0),
            ("max_body_bytes", |c| c.max_body_bytes = 0),
            ("max_body_bytes", |c| c.max_body_bytes = usize::MAX),
            ("max_bulk_body_bytes", |c| c.max_bulk_body_bytes = 0),
            ("max_bulk_body_bytes", |c| {
                c.max_bulk_body_bytes = usize::MAX
            }),
            ("max_connections", |c| c.max_connections = usize::MAX),
            ("max_connections_per_ip", |c| {
                c.max_connections_per_ip = usize::MAX;
            }),
            ("database_max_connections", |c| {
                c.database_max_connections = 0;
            }),
            ("database_max_connections", |c| {
                c.database_max_connections = u32::MAX;
            }),
            ("status_list_size", |c| c.status_list_size = u32::MAX - 3),
            ("status_list_size", |c| c.status_list_size = 1020),
            ("tx_code_digits", |c| c.tx_code_digits = 13),
        ];
        for (name, set) in refused {
            let mut c = Config::default();
            set(&mut c);
            let err = c.validate().expect_err(name).to_string();
            assert!(err.contains(name), "{name}: {err}");
        }
        let accepted: Vec<Adjust> = vec![
            |c| c.shutdown_grace_secs = 600,
            |c| c.shutdown_grace_secs = 1,
            |c| c.max_body_bytes = 4096,
            |c| c.max_bulk_body_bytes = 64 << 30,
            |c| c.max_connections = 65_536,
            |c| c.max_connections_per_ip = 0,
            |c| c.max_connections_per_ip = c.max_connections,
            |c| c.status_list_size = 1 << 22,
            |c| c.database_max_connections = 1000,
        ];
        for set in accepted {
            let mut c = Config::default();
            set(&mut c);
            assert!(c.validate().is_ok(), "{c:?}");
        }
    }

    /// From the environment, as the tester set it: the start is refused, not hung later.
    #[test]
    fn an_endless_grace_from_the_environment_is_refused() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("GIAYTO_SHUTDOWN_GRACE_SECS", "18446744073709551615");
            let err = Config::load(None).expect_err("refused").to_string();
            assert!(err.contains("shutdown_grace_secs must be 1..=600"), "{err}");
            jail.set_env("GIAYTO_SHUTDOWN_GRACE_SECS", "20");
            jail.set_env("GIAYTO_MAX_CONNECTIONS_PER_IP", "0");
            let c = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(c.max_connections_per_ip, 0);
            Ok(())
        });
    }

    #[test]
    fn bad_values_are_refused() {
        let mut c = Config {
            public_url: "https://x.vn/".into(),
            ..Config::default()
        };
        assert!(c.validate().is_err());
        c.public_url = "ftp://x.vn".into();
        assert!(c.validate().is_err());
        c = Config {
            tx_code_digits: 2,
            ..Config::default()
        };
        assert!(c.validate().is_err());
        c = Config {
            offer_ttl_secs: 31 * 24 * 3600,
            ..Config::default()
        };
        assert!(c.validate().is_err());
        c = Config {
            nonce_ttl_secs: 0,
            ..Config::default()
        };
        assert!(c.validate().is_err());
        c = Config {
            tls_cert_file: Some("c.pem".into()),
            ..Config::default()
        };
        assert!(c.validate().is_err());
        c = Config {
            header_read_timeout_secs: 0,
            ..Config::default()
        };
        assert!(c.validate().is_err());
        c = Config {
            max_connections: 0,
            ..Config::default()
        };
        assert!(c.validate().is_err());
        assert!(Config::default().validate().is_ok());
        figment::Jail::expect_with(|jail| {
            jail.create_file("bad.toml", "no_such_setting = 1\n")?;
            assert!(Config::load(Some(Path::new("bad.toml"))).is_err());
            // A device is refused, not read until memory runs out.
            #[cfg(unix)]
            assert!(
                Config::load(Some(Path::new("/dev/zero")))
                    .is_err_and(|e| e.to_string().contains("not a regular file"))
            );
            Ok(())
        });
    }
}
