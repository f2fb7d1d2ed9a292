//! The `giayto-verifier` binary: `serve` runs the service, `certs` writes demo certificates.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use giayto_core::verifier::VerifierDevice;
use giayto_verifier::config::{Cli, Command, Settings};
use giayto_verifier::identity::VerifierIdentity;
use giayto_verifier::listener::BoundedListener;
use giayto_verifier::service::{Verifier, system_clock};
use giayto_verifier::store::Limits;
use giayto_verifier::{certs, http, sync};

fn main() -> ExitCode {
    giayto_core::broken_pipe::end_quietly_on_broken_pipe();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        // Colour only on a terminal: a log written to a file gets no escape codes.
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Certs { out, name } => certs::generate(&name)
            .and_then(|made| certs::write(&made, &out))
            .map(|()| {
                println!(
                    "wrote {0}/ca.pem, {0}/ca.key.pem (the registrar CA: give ca.pem to the trust list), \
                     {0}/verifier.pem and {0}/verifier.key.pem (the service's --certificate-chain and --key)",
                    out.display()
                );
            })
            .map_err(|e| e.to_string()),
        Command::Serve(settings) => serve(*settings),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("giayto-verifier: {message}");
            ExitCode::FAILURE
        }
    }
}

fn read(path: &std::path::Path) -> Result<Vec<u8>, String> {
    const MAX_FILE: u64 = 1024 * 1024;
    let len = std::fs::metadata(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len();
    if len > MAX_FILE {
        return Err(format!("{}: larger than {MAX_FILE} bytes", path.display()));
    }
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn serve(settings: Settings) -> Result<(), String> {
    let anchors_text = String::from_utf8(read(&settings.trust_anchor)?)
        .map_err(|_| format!("{}: not UTF-8", settings.trust_anchor.display()))?;
    let anchors = VerifierDevice::parse_anchors(&anchors_text)
        .map_err(|e| format!("{}: {e}", settings.trust_anchor.display()))?;
    let identity =
        VerifierIdentity::from_pem(&read(&settings.key)?, &read(&settings.certificate_chain)?)
            .map_err(|e| e.to_string())?;
    let mut device = VerifierDevice::new(anchors.clone(), identity.client_id())
        .map_err(|e| format!("{}: {e}", settings.trust_anchor.display()))?;
    if let Some(dir) = &settings.state_dir {
        let now = (system_clock())();
        match sync::load_state(&mut device, dir, now) {
            Ok(true) => println!(
                "loaded the trust list and status lists saved in {}",
                dir.display()
            ),
            Ok(false) => {}
            // A state that no longer verifies is not fatal: the first sync replaces it.
            Err(reason) => eprintln!("giayto-verifier: ignoring the saved state: {reason}"),
        }
    }
    let limits = Limits {
        request_ttl: settings.request_ttl_seconds.max(1),
        result_ttl: settings.result_ttl_seconds.max(1),
        max_requests: settings.max_requests.max(1),
    };
    let client_id = identity.client_id().to_owned();
    let service = Arc::new(
        Verifier::new(
            device,
            identity,
            settings.public_url.clone(),
            limits,
            system_clock(),
        )
        .with_status_fetch(sync::on_demand_agent()),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(settings.bind)
            .await
            .map_err(|e| format!("bind {}: {e}", settings.bind))?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        println!("giayto-verifier listening on http://{local}");
        println!("  desk page:  {}", settings.public_url);
        println!("  client_id:  {client_id}");
        println!(
            "  trust list: {} (synced every {} s)",
            settings.trust_list_url, settings.sync_interval_seconds
        );
        tokio::spawn(sync::run(
            service.clone(),
            anchors,
            settings.trust_list_url.clone(),
            Duration::from_secs(settings.sync_interval_seconds.max(10)),
            settings.state_dir.clone(),
        ));
        let listener = BoundedListener::new(
            listener,
            settings.max_connections,
            Duration::from_secs(settings.idle_timeout_seconds.max(1)),
        );
        axum::serve(listener, http::router(service))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(|e| e.to_string())
    })
}
