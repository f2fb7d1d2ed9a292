//! Starting and stopping: open the database (migrations run), load the master key, seed the
//! demo, then serve over TCP or rustls TLS until SIGINT/SIGTERM, letting requests in flight
//! finish.

use std::time::Duration;

use tokio::net::TcpListener;

use crate::config::Config;
use crate::db::Db;
use crate::domain::{Services, issuance, trust};
use crate::http::{AppState, app, ops};

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
    /// Socket or TLS files.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Opens the database and master key and builds the services. The master key is created
/// only for a database that holds nothing made under one, and must open what it holds
/// ([`crate::unlock`]): otherwise nothing starts and nothing is created.
pub async fn open(config: Config) -> Result<Services, ServeError> {
    let db = Db::connect(&config.database_url, config.database_max_connections).await?;
    let master = crate::unlock::open_master_key(&config.master_key_file, &db).await?;
    Ok(Services::new(config, db, master))
}

/// Prints the demo agencies' API keys once (stdout, for the operator; never logged).
pub async fn seed_demo(services: &Services) -> Result<(), ServeError> {
    let seeded = crate::demo::seed(services).await?;
    if !seeded.is_empty() {
        println!("giayto demo: agencies created; their API keys are shown only this once:");
        for (agency, key) in &seeded {
            println!("  {:<18} {}", agency.id, key.secret);
        }
    }
    Ok(())
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

/// Serves the API over plain HTTP on `listener` until `shutdown` completes, letting
/// requests in flight finish. For embedding (`giayto demo`, tests); [`run`] adds TLS,
/// signals and housekeeping.
pub async fn serve_http(
    listener: TcpListener,
    services: Services,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let router = app(AppState { services });
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

/// Runs the server until a shutdown signal.
pub async fn run(config: Config) -> Result<(), ServeError> {
    let _ = ops::prometheus();
    let services = open(config.clone()).await?;
    if config.demo {
        seed_demo(&services).await?;
    }
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
    let grace = Duration::from_secs(config.shutdown_grace_secs);
    match (&config.tls_cert_file, &config.tls_key_file) {
        (Some(cert), Some(key)) => {
            // One process-wide rustls provider: ring (no C toolchain needed for aws-lc).
            let _ = rustls::crypto::ring::default_provider().install_default();
            // Regular files of bounded size only (never a FIFO or a device).
            let read = |path: &std::path::Path| {
                giayto_core::local_file::read_regular(path, 1 << 20)
                    .map_err(|e| std::io::Error::other(format!("{}: {e}", path.display())))
            };
            let tls =
                axum_server::tls_rustls::RustlsConfig::from_pem(read(cert)?, read(key)?).await?;
            let handle = axum_server::Handle::new();
            let h = handle.clone();
            tokio::spawn(async move {
                shutdown_signal().await;
                h.graceful_shutdown(Some(grace));
            });
            tracing::info!(bind = %config.bind, public_url = %config.public_url, "serving HTTPS");
            axum_server::bind_rustls(config.bind, tls)
                .handle(handle)
                .serve(
                    app(AppState {
                        services: services.clone(),
                    })
                    .into_make_service(),
                )
                .await?;
        }
        _ => {
            let listener = TcpListener::bind(config.bind).await?;
            tracing::info!(bind = %listener.local_addr()?, public_url = %config.public_url, "serving HTTP");
            serve_http(listener, services.clone(), shutdown_signal()).await?;
        }
    }
    purge.abort();
    services.db.close().await;
    Ok(())
}
