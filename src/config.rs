//! Weir's runtime configuration: one struct, filled from command-line flags and `WEIR_*`
//! environment variables (flags win), with defaults that are safe for a laptop.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;

use crate::gate::decide::UnknownInputPolicy;

/// Everything `weir serve` needs to run. `App::build` takes it; tests build one directly.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address to listen on. Port 0 picks a free port (tests use it).
    #[arg(long, env = "WEIR_BIND", default_value = "127.0.0.1:5000")]
    pub bind: SocketAddr,

    /// Database URL: `sqlite://PATH?mode=rwc` (embedded, the default) or `postgres://...`.
    #[arg(long, env = "WEIR_DATABASE_URL", default_value = "sqlite://weir.db?mode=rwc")]
    pub database_url: String,

    /// Largest accepted request body in bytes, after gzip decompression.
    #[arg(long, env = "WEIR_MAX_BODY_BYTES", default_value_t = 10 * 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Largest `depth` a lineage query may ask for.
    #[arg(long, env = "WEIR_MAX_LINEAGE_DEPTH", default_value_t = 100)]
    pub max_lineage_depth: u32,

    /// Deepest GraphQL selection set accepted.
    #[arg(long, env = "WEIR_GRAPHQL_MAX_DEPTH", default_value_t = 16)]
    pub graphql_max_depth: usize,

    /// Largest GraphQL query complexity accepted (roughly: number of fields resolved).
    #[arg(long, env = "WEIR_GRAPHQL_MAX_COMPLEXITY", default_value_t = 5000)]
    pub graphql_max_complexity: usize,

    /// Largest page (`first`) a listing accepts.
    #[arg(long, env = "WEIR_MAX_PAGE_SIZE", default_value_t = 500)]
    pub max_page_size: u32,

    /// How often freshness rules are re-evaluated in the background (`30s`, `5m`; `0s` turns
    /// the sweep off).
    #[arg(long, env = "WEIR_FRESHNESS_INTERVAL", default_value = "1m", value_parser = humantime::parse_duration)]
    pub freshness_interval: Duration,

    /// What the gate does with an input no check has run on yet: `allow` (with a note) or
    /// `block`.
    #[arg(long, env = "WEIR_GATE_UNKNOWN_INPUTS", value_enum, default_value = "allow")]
    pub gate_unknown_inputs: UnknownInputPolicy,
}

impl Config {
    /// Defaults for everything but the database: what tests and embedders start from.
    pub fn with_database(database_url: impl Into<String>) -> Config {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 5000)),
            database_url: database_url.into(),
            max_body_bytes: 10 * 1024 * 1024,
            max_lineage_depth: 100,
            graphql_max_depth: 16,
            graphql_max_complexity: 5000,
            max_page_size: 500,
            freshness_interval: Duration::from_secs(60),
            gate_unknown_inputs: UnknownInputPolicy::Allow,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        config: Config,
    }

    /// `with_database` and the flags' defaults must agree, or tests would run a server
    /// configured differently from `weir serve`.
    #[test]
    fn programmatic_defaults_match_flag_defaults() {
        let Ok(parsed) = Wrapper::try_parse_from(["weir", "--database-url", "sqlite::memory:"]) else {
            panic!("defaults parse");
        };
        let built = Config::with_database("sqlite::memory:");
        // WEIR_* variables in the environment would change the parsed side; CI sets none.
        if std::env::vars().any(|(k, _)| k.starts_with("WEIR_") && k != "WEIR_TEST_DATABASE_URL" && k != "WEIR_LOG") {
            return;
        }
        assert_eq!(format!("{:?}", parsed.config), format!("{built:?}"));
    }
}
