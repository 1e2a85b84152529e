//! Logs: `tracing` to standard error, filtered by `RUST_LOG` (default `info`).

use std::io::IsTerminal as _;

use tracing_subscriber::{EnvFilter, fmt};

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only on a terminal: logs collected by systemd or a file stay plain text.
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}
