//! Starting and stopping: read the TLS certificate and key (when configured), open the
//! database (migrations run), load the master key, seed the demo, then serve over TCP or
//! rustls TLS (and the admin listener, when configured) until SIGINT/SIGTERM, giving
//! requests in flight the shutdown grace, then dropping the rest.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum_server::tls_rustls::RustlsConfig;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::db::Db;
use crate::domain::{Services, issuance, trust};
use crate::http::{AppState, admin_app, app, ops};
use crate::listener::{self, Limits};

/// Start-up or serving failure.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Database.
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    /// Master key.
    #[error(transparent)]
    Secret(#[from] crate::secrets::SecretError),
    /// Master key missing or not the database's.
    #[error(transparent)]
    Unlock(#[from] crate::unlock::UnlockError),
    /// Seeding or trust list.
    #[error(transparent)]
    Domain(#[from] crate::domain::DomainError),
    /// The TLS certificate or key cannot be read or used; names the file and the address.
    #[error("cannot serve HTTPS on {bind}: {source}")]
    Tls {
        /// The address HTTPS was to be served on.
        bind: SocketAddr,
        /// What is wrong, with the setting and the file it names.
        source: std::io::Error,
    },
    /// A listener cannot be bound: names the address and the setting that chose it.
    #[error(
        "cannot listen on {address}: {source} (another process may serve there: stop it, or choose \
         another address with GIAYTO_BIND or GIAYTO_ADMIN_BIND)"
    )]
    Bind {
        /// The address.
        address: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Socket.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Reads and checks the certificate chain and private key of `config` when both are set
/// ([`listener::tls_config`]); `None` for plain HTTP. `bind` is named in the error.
fn tls_of(config: &Config, bind: SocketAddr) -> Result<Option<RustlsConfig>, ServeError> {
    match (&config.tls_cert_file, &config.tls_key_file) {
        (Some(cert), Some(key)) => listener::tls_config(cert, key)
            .map(Some)
            .map_err(|source| ServeError::Tls { bind, source }),
        _ => Ok(None),
    }
}

/// Opens the database and master key and builds the services. The master key is created
/// only for a database that holds nothing made under one, and must open what it holds
/// ([`crate::unlock`]): otherwise nothing starts and nothing is created.
pub async fn open(config: Config) -> Result<Services, ServeError> {
    let db = Db::connect(
        &config.database_url,
        config.database_max_connections,
        Duration::from_secs(config.database_acquire_timeout_secs),
    )
    .await?;
    let master = crate::unlock::open_master_key(&config.master_key_file, &db).await?;
    Ok(Services::new(config, db, master))
}

/// Prints the demo agencies' API keys once (stdout, for the operator; never logged);
/// whether it created them.
pub async fn seed_demo(services: &Services) -> Result<bool, ServeError> {
    let seeded = crate::demo::seed(services).await?;
    if !seeded.is_empty() {
        println!("giayto demo: agencies created; their API keys are shown only this once:");
        for (agency, key) in &seeded {
            println!("  {:<18} {}", agency.id, key.secret);
        }
    }
    Ok(!seeded.is_empty())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutdown signal: finishing requests in flight");
}

/// Serves the API over plain HTTP on `listener` until `shutdown` completes, with the
/// connection bounds of the configuration (see [`crate::listener`]); requests in flight then
/// get `shutdown_grace_secs`. For embedding (`giayto demo`, tests); [`run`] adds TLS, the
/// admin listener, signals and housekeeping.
pub async fn serve_http(
    listener: TcpListener,
    services: Services,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    serve(listener, services, shutdown).await
}

/// Serves the API on `listener` over TLS when `tls_cert_file` and `tls_key_file` are set,
/// plain HTTP otherwise, with the same bounds on both, until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    services: Services,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let tls = tls_of(&services.config, listener.local_addr()?)?;
    serve_with(listener, services, tls, shutdown).await
}

/// [`serve`] with the TLS configuration already read (`None`: plain HTTP).
async fn serve_with(
    listener: TcpListener,
    services: Services,
    tls: Option<RustlsConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let config = Arc::clone(&services.config);
    let router = app(AppState { services });
    listener::serve(
        listener,
        router,
        Limits::from_config(&config),
        tls,
        shutdown,
    )
    .await?;
    Ok(())
}

/// Binds a listener; the error names the address (`Address already in use` alone did not).
async fn bind_to(address: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(address)
        .await
        .map_err(|source| ServeError::Bind { address, source })
}

/// Runs the server until a shutdown signal.
pub async fn run(config: Config) -> Result<(), ServeError> {
    let _ = ops::prometheus();
    // The certificate and key first: a bad file stops the start before anything is
    // created, seeded or announced.
    let tls = tls_of(&config, config.bind)?;
    let services = open(config.clone()).await?;
    let demo_seeded = config.demo && seed_demo(&services).await?;
    trust::refresh_if_stale(&services).await?;
    let purge = {
        let services = services.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                if let Err(e) = issuance::purge_expired(&services).await {
                    tracing::warn!(error = %e, "purging expired nonces and tokens failed");
                }
            }
        })
    };
    // One signal, heard by every listener.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }
    };
    let admin = match config.admin_bind {
        Some(bind) => {
            let admin_listener = bind_to(bind).await?;
            tracing::info!(bind = %admin_listener.local_addr()?, "serving /metrics (admin)");
            Some(tokio::spawn(listener::serve(
                admin_listener,
                admin_app(),
                Limits::from_config(&config),
                None,
                stopped(),
            )))
        }
        None => None,
    };
    let public = bind_to(config.bind).await?;
    let agencies: Vec<String> = crate::domain::agencies::list_agencies(&services)
        .await?
        .into_iter()
        .map(|a| a.id)
        .collect();
    eprint!(
        "{}",
        crate::start_banner::banner(
            &config,
            &crate::start_banner::StartFacts {
                bound: public.local_addr()?,
                agencies: &agencies,
                demo_seeded,
            },
        )
    );
    let scheme = if tls.is_some() { "HTTPS" } else { "HTTP" };
    tracing::info!(bind = %public.local_addr()?, public_url = %config.public_url, "serving {scheme}");
    let served = serve_with(public, services.clone(), tls, stopped()).await;
    if let Some(admin) = admin {
        match admin.await {
            Ok(Err(e)) => tracing::warn!(error = %e, "admin listener failed"),
            Err(e) => tracing::warn!(error = %e, "admin listener task failed"),
            Ok(Ok(())) => {}
        }
    }
    purge.abort();
    // Connections still checked out by requests the grace cut short come back as their
    // tasks end; do not wait for ever on one stuck in a dead database.
    if tokio::time::timeout(Duration::from_secs(5), services.db.close())
        .await
        .is_err()
    {
        tracing::warn!("database pool did not close within 5 s");
    }
    served
}
