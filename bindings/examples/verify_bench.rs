//! Times offline verification of one QR through the bindings' `Verifier`, called from Rust:
//! the baseline for the same loop run from Kotlin (`mobile-demo/kotlin/run.sh verifier bench`).
//! Reads the demo phone's verifier state (pinned anchor, trust list, status cache).
//! Usage: cargo run --release -p giayto-bindings --example verify_bench -- HOME QR_PNG [N]

use std::time::Instant;

use giayto_bindings::{GiaytoError, Verifier, decode_qr_image};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(home), Some(png)) = (args.get(1), args.get(2)) else {
        return Err("usage: verify_bench HOME QR_PNG [N]".into());
    };
    let n: u32 = args.get(3).map_or(Ok(200), |s| s.parse())?;
    let dir = std::path::Path::new(home).join("verifier");
    let read = |name: &str| std::fs::read_to_string(dir.join(name));
    let verifier = Verifier::new(read("anchor.json")?, "giayto-demo-officer".into())?;
    verifier.load_trust_list(read("trust-list.jwt")?)?;
    verifier.import_status_cache(read("status-cache.json")?)?;
    let text = decode_qr_image(std::fs::read(png)?)?;
    let verify =
        || -> Result<bool, GiaytoError> { Ok(verifier.verify_qr_text(text.clone())?.valid) };
    for _ in 0..20 {
        verify()?;
    }
    let start = Instant::now();
    for _ in 0..n {
        verify()?;
    }
    let per_op = start.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    println!("rust verify_qr_text: {n} iterations, {per_op:.1} µs per verification");
    Ok(())
}
