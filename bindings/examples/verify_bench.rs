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
    // As the Kotlin `verifier bench`: 3 s of warm-up, then the median of 7 rounds of N.
    let warm = Instant::now();
    while warm.elapsed().as_secs() < 3 {
        verify()?;
    }
    let mut rounds = Vec::with_capacity(7);
    for _ in 0..7 {
        let start = Instant::now();
        for _ in 0..n {
            verify()?;
        }
        rounds.push(start.elapsed().as_secs_f64() * 1e6 / f64::from(n));
    }
    rounds.sort_by(f64::total_cmp);
    let shown: Vec<String> = rounds.iter().map(|r| format!("{r:.0}")).collect();
    println!(
        "rust verify_qr_text: median of 7 rounds of {n}, {:.1} µs per verification (rounds {})",
        rounds[3],
        shown.join(" ")
    );
    Ok(())
}
