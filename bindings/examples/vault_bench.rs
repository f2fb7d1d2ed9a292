//! Times opening a wallet vault of 100 documents and listing them, through the bindings'
//! `Wallet` called from Rust. The vault is filled with 100 driving licences issued offline
//! by a throwaway issuer key (the catalogue's example claims), written to `DIR/wallet.vault`
//! with the key in `DIR/vault.key`, so the Kotlin loop (`mobile-demo/kotlin/run.sh --home DIR
//! wallet bench`) opens the same file.
//! Usage: cargo run --release -p giayto-bindings --example vault_bench -- DIR [N]

use std::sync::Arc;
use std::time::Instant;

use giayto_bindings::{
    GiaytoError, HttpClient, HttpRequest, HttpResponse, Wallet, software_key_store,
};
use giayto_core::catalogue::examples::example_claims;
use giayto_core::jose::{Algorithm, Jwk, SoftwareSigner};
use giayto_core::sd_jwt_vc::{IssueRequest, issue_document};
use giayto_core::vault::{Vault, VaultKey};
use giayto_core::wallet::Wallet as CoreWallet;

/// The bench never goes online.
struct Offline;
#[async_trait::async_trait]
impl HttpClient for Offline {
    async fn send(&self, _: HttpRequest) -> Result<HttpResponse, GiaytoError> {
        Err(GiaytoError::Network {
            reason: "offline bench".into(),
        })
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(args.get(1).ok_or("usage: vault_bench DIR [N]")?);
    let n: u32 = args.get(2).map_or(Ok(50), |s| s.parse())?;
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("wallet.vault");
    let key = VaultKey::generate()?;
    std::fs::write(dir.join("vault.key"), key.as_bytes())?;
    let _ = std::fs::remove_file(&path);
    let issuer = SoftwareSigner::generate(Algorithm::Es256)?;
    let mut wallet = CoreWallet::new(Vault::create(&path, &key)?);
    let claims = example_claims("driving_licence").ok_or("no example licence")?;
    for i in 0..100 {
        let holder = Jwk::generate(Algorithm::Es256)?.to_public();
        let request = IssueRequest {
            issuer: "https://giayto.example/agencies/police".into(),
            vct: "https://giayto.gov.vn/vct/driving_licence".into(),
            claims: claims.as_object().cloned().ok_or("claims")?,
            holder_jwk: Some(holder),
            status: None,
            issued_at: 1_760_000_000 + i,
            not_before: None,
            expires_at: Some(1_900_000_000),
        };
        wallet.store(&issue_document(&request, &issuer)?, &format!("k{i}"), 0)?;
    }
    drop(wallet);
    let bytes = key.as_bytes().to_vec();
    let keys = software_key_store();
    let http: Arc<dyn HttpClient> = Arc::new(Offline);
    let start = Instant::now();
    let mut listed = 0;
    for _ in 0..n {
        // `open` is async (the file is read on a worker thread): wait for it here.
        let wallet = futures_lite::future::block_on(Wallet::open(
            path.display().to_string(),
            bytes.clone(),
            keys.clone(),
            http.clone(),
        ))?;
        listed = wallet.documents()?.len();
    }
    let per_op = start.elapsed().as_secs_f64() * 1e3 / f64::from(n);
    let size = std::fs::metadata(&path)?.len();
    println!("rust open+list vault of {listed} documents ({size} bytes): {per_op:.2} ms per open");
    Ok(())
}
