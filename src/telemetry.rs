//! Logging setup: `RUST_LOG`-style filtering (env `WEIR_LOG`, default `info`).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_env("WEIR_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    // A second init (tests embedding the app) is harmless; ignore its error.
    // Colours only for a person at a terminal; log files and collectors get plain text.
    let ansi = std::io::stderr().is_terminal();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .try_init();
}
