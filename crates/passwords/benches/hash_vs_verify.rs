//! What a password verification costs next to a hash, through the same pool the server uses.
//!
//! `cargo bench -p portcullis-passwords` runs rounds of three jobs, one after the other on an
//! otherwise idle pool: a hash of a new password, a verification of the right password and a
//! verification of a wrong one, with MAS's default scheme (argon2id, 19 MiB, t=2, p=1). It
//! prints the median and extremes of each and the ratio verification / hash, whose target is
//! at most 1.15 (`docs/performance.md`). Interleaving the kinds gives all three the same
//! background load. `ROUNDS` sets the number of rounds (30 by default).
//!
//! A plain binary (`harness = false`): the numbers are the product, not a pass or a fail.

use std::time::{Duration, Instant};

use portcullis_config::PasswordsConfig;
use portcullis_passwords::{PasswordError, PasswordManager};
use zeroize::Zeroizing;

fn secret(text: &str) -> Zeroizing<String> {
    Zeroizing::new(text.to_owned())
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}

fn line(kind: &str, times: &mut [Duration]) -> Duration {
    let middle = median(times);
    let (first, last) = (times[0], times[times.len() - 1]);
    println!(
        "{kind:<16} median {:>7.2} ms   min {:>7.2} ms   max {:>7.2} ms",
        middle.as_secs_f64() * 1e3,
        first.as_secs_f64() * 1e3,
        last.as_secs_f64() * 1e3,
    );
    middle
}

fn main() {
    let rounds = std::env::var("ROUNDS")
        .ok()
        .and_then(|value| value.parse::<usize>().ok())
        .filter(|&rounds| rounds > 0)
        .unwrap_or(30);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let manager = PasswordManager::new(&PasswordsConfig::default()).expect("the default scheme");
    let password = "correct horse battery staple bench";

    runtime.block_on(async {
        let (version, stored) = manager.hash(secret(password)).await.expect("a hash");
        let (mut hashes, mut right, mut wrong) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            let start = Instant::now();
            manager.hash(secret(password)).await.expect("a hash");
            hashes.push(start.elapsed());

            let start = Instant::now();
            manager
                .verify(version, &stored, secret(password))
                .await
                .expect("the right password");
            right.push(start.elapsed());

            let start = Instant::now();
            let refused = manager
                .verify(version, &stored, secret("not the password"))
                .await;
            assert!(matches!(refused, Err(PasswordError::Mismatch)));
            wrong.push(start.elapsed());
        }
        println!("argon2id (MAS's default parameters), {rounds} rounds, through the pool:");
        let hash = line("hash", &mut hashes);
        let right = line("verify (right)", &mut right);
        let wrong = line("verify (wrong)", &mut wrong);
        for (kind, verification) in [("right", right), ("wrong", wrong)] {
            println!(
                "ratio verification ({kind}) / hash = {:.3} (target ≤ 1.15)",
                verification.as_secs_f64() / hash.as_secs_f64()
            );
        }
    });
}
