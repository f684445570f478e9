//! Process telemetry: logs (this file) and Prometheus metrics ([`metrics`]).
//!
//! Logs go to stderr, filtered by `WEIR_LOG` (`RUST_LOG` syntax, default `info`), as text for
//! people or JSON lines for collectors (`--log-format json`). Each HTTP request runs in a
//! `request` span carrying its `request_id`, so every line logged while serving it names it.

pub mod metrics;

use std::io::IsTerminal;

use serde::Serialize;
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogFormat {
    /// Human-readable lines (colours only at a terminal).
    #[default]
    Text,
    /// One JSON object per line, with the fields of the current span (the request id).
    Json,
}

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_env("WEIR_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    // A second init (tests embedding the app) is harmless; ignore its error.
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        // Colours only for a person at a terminal; log files and collectors get plain text.
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
        // Flattened event fields and the current span's fields at the top of each object,
        // so collectors can index `request_id` without digging into a span list.
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).with_span_list(false).try_init(),
    };
}
