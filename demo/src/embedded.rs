//! The demo's own issuance server: the real `giayto-server` (SQLite in the demo folder, the
//! demo trust anchor and agencies) served on a free loopback port from a tokio runtime
//! that lives as long as the demo, so the rest of the demo can talk to it over HTTP like
//! any wallet or agency would.

use std::collections::BTreeMap;
use std::path::Path;

use giayto_server::config::Config;
use giayto_server::demo::{DEMO_AGENCIES, seed};
use giayto_server::domain::{agencies, trust};
use giayto_server::server::{self, ServeError};
use tokio::net::TcpListener;
use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use giayto_cli::error::CliError;

/// A running embedded server; stopped (requests in flight finished) when dropped.
pub struct EmbeddedServer {
    /// Its base URL (`http://127.0.0.1:PORT`), also the issuer id `iss`.
    pub url: String,
    /// A fresh API key for each demo agency, by agency id. Secrets: never printed.
    pub api_keys: BTreeMap<String, String>,
    runtime: Runtime,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), ServeError>>>,
}

fn server_error(error: impl std::fmt::Display) -> CliError {
    CliError::Format(format!("embedded server: {error}"))
}

impl EmbeddedServer {
    /// Starts a server keeping its database and master key in `dir`: migrations run, the
    /// demo trust anchor and agencies are created when absent, and each agency gets a new
    /// API key for this run.
    pub fn start(dir: &Path) -> Result<EmbeddedServer, CliError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("giayto-demo-server")
            .enable_all()
            .build()
            .map_err(server_error)?;
        let database = dir.join("giayto.db");
        let master_key_file = dir.join("giayto-master.key");
        let (url, services, listener, api_keys) = runtime.block_on(async move {
            let listener = TcpListener::bind(("127.0.0.1", 0))
                .await
                .map_err(server_error)?;
            let bind = listener.local_addr().map_err(server_error)?;
            let url = format!("http://{bind}");
            let config = Config {
                bind,
                public_url: url.clone(),
                database_url: format!("sqlite://{}?mode=rwc", database.display()),
                master_key_file,
                demo: true,
                ..Config::default()
            };
            let services = server::open(config).await.map_err(server_error)?;
            let mut api_keys = BTreeMap::new();
            for (agency, key) in seed(&services).await.map_err(server_error)? {
                api_keys.insert(agency.id, key.secret);
            }
            // A folder kept from an earlier run already has its agencies: new keys then.
            for (id, ..) in DEMO_AGENCIES {
                if !api_keys.contains_key(id) {
                    let key = agencies::create_api_key(&services, id, "giayto demo")
                        .await
                        .map_err(server_error)?;
                    api_keys.insert(id.to_owned(), key.secret);
                }
            }
            // Issuer ids follow the public URL, whose port is new on each run: sign the
            // trust list again for this one.
            trust::publish(&services).await.map_err(server_error)?;
            Ok::<_, CliError>((url, services, listener, api_keys))
        })?;
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = runtime.spawn(server::serve_http(listener, services, async move {
            let _ = stopped.await;
        }));
        Ok(EmbeddedServer {
            url,
            api_keys,
            runtime,
            shutdown: Some(shutdown),
            task: Some(task),
        })
    }

    /// The API key of a demo agency.
    pub fn api_key(&self, agency: &str) -> Result<&str, CliError> {
        self.api_keys
            .get(agency)
            .map(String::as_str)
            .ok_or_else(|| server_error(format!("no demo agency {agency}")))
    }

    /// Stops the server, letting requests in flight finish.
    pub fn stop(mut self) -> Result<(), CliError> {
        self.stop_inner()
    }

    fn stop_inner(&mut self) -> Result<(), CliError> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        match self.task.take() {
            Some(task) => match self.runtime.block_on(task) {
                Ok(served) => served.map_err(server_error),
                Err(join) => Err(server_error(join)),
            },
            None => Ok(()),
        }
    }
}

impl Drop for EmbeddedServer {
    fn drop(&mut self) {
        let _ = self.stop_inner();
    }
}
