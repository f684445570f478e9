//! Weir's runtime configuration: one struct, filled from command-line flags, `WEIR_*`
//! environment variables and an optional TOML file ([`file`]), in that order of precedence,
//! with defaults that are safe for a laptop.

pub mod file;
pub mod show;

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;
use serde::Serialize;

use crate::telemetry::LogFormat;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://weir.db?mode=rwc";
pub const DEFAULT_RETENTION_DAYS: u32 = 30;

use crate::gate::decide::UnknownInputPolicy;

/// Everything `weir serve` needs to run. `App::build` takes it; tests build one directly.
///
/// Every field is a flag (`--max-body-bytes`), a variable (`WEIR_MAX_BODY_BYTES`) and a key of
/// the configuration file (`max-body-bytes`); `weir config show` prints them all. A new field
/// must be `Serialize` (secrets through [`show::masked`]).
#[derive(Debug, Clone, Args, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Config {
    /// Address to listen on. Port 0 picks a free port (tests use it).
    #[arg(long, env = "WEIR_BIND", default_value = "127.0.0.1:5000")]
    pub bind: SocketAddr,

    /// Database URL: `sqlite://PATH?mode=rwc` (embedded, the default) or `postgres://...`.
    #[arg(long, env = "WEIR_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
    #[serde(serialize_with = "show::masked_url")]
    pub database_url: String,

    /// Require a bearer token on every endpoint but /healthz even before any token exists.
    #[arg(long, env = "WEIR_REQUIRE_AUTH")]
    pub require_auth: bool,

    /// Allow listening on a non-loopback address while no token exists (anyone who can
    /// reach the port can then write and read everything).
    #[arg(long, env = "WEIR_INSECURE")]
    pub insecure: bool,

    /// Largest accepted request body in bytes, after gzip decompression.
    #[arg(long, env = "WEIR_MAX_BODY_BYTES", default_value_t = 10 * 1024 * 1024, value_parser = at_least_one_usize())]
    pub max_body_bytes: usize,

    /// Largest `depth` a lineage query may ask for.
    #[arg(long, env = "WEIR_MAX_LINEAGE_DEPTH", default_value_t = 100)]
    pub max_lineage_depth: u32,

    /// Deepest GraphQL selection set accepted.
    #[arg(long, env = "WEIR_GRAPHQL_MAX_DEPTH", default_value_t = 16, value_parser = at_least_one_usize())]
    pub graphql_max_depth: usize,

    /// Largest GraphQL query complexity accepted (roughly: number of fields resolved).
    #[arg(long, env = "WEIR_GRAPHQL_MAX_COMPLEXITY", default_value_t = 5000, value_parser = at_least_one_usize())]
    pub graphql_max_complexity: usize,

    /// Most aliases (`a: field`) one GraphQL document may use.
    #[arg(long, env = "WEIR_GRAPHQL_MAX_ALIASES", default_value_t = 50)]
    pub graphql_max_aliases: usize,

    /// Largest page (`first`) a listing accepts.
    #[arg(long, env = "WEIR_MAX_PAGE_SIZE", default_value_t = 500)]
    pub max_page_size: u32,

    /// Longest time one request may take (`30s`, `2m`), body upload included; then 503.
    #[arg(long, env = "WEIR_REQUEST_TIMEOUT", default_value = "60s", value_parser = positive_duration)]
    #[serde(serialize_with = "show::duration")]
    pub request_timeout: Duration,

    /// Most requests served at once; more get 503 with `Retry-After` (not /healthz, /metrics).
    #[arg(long, env = "WEIR_MAX_CONCURRENT_REQUESTS", default_value_t = 256, value_parser = at_least_one_usize())]
    pub max_concurrent_requests: usize,

    /// How often freshness rules are re-evaluated in the background (`30s`, `5m`; `0s` turns
    /// the sweep off).
    #[arg(long, env = "WEIR_FRESHNESS_INTERVAL", default_value = "1m", value_parser = humantime::parse_duration)]
    #[serde(serialize_with = "show::duration")]
    pub freshness_interval: Duration,

    /// What the gate does with an input no check has run on yet: `allow` (with a note) or
    /// `block`.
    #[arg(long, env = "WEIR_GATE_UNKNOWN_INPUTS", value_enum, default_value = "allow")]
    pub gate_unknown_inputs: UnknownInputPolicy,

    /// How often the alert worker looks for alerts to deliver.
    #[arg(long, env = "WEIR_ALERT_POLL_INTERVAL", default_value = "1s", value_parser = humantime::parse_duration)]
    #[serde(serialize_with = "show::duration")]
    pub alert_poll_interval: Duration,

    /// First retry delay of a failed alert delivery; it doubles on each retry.
    #[arg(long, env = "WEIR_ALERT_RETRY_BASE", default_value = "2s", value_parser = humantime::parse_duration)]
    #[serde(serialize_with = "show::duration")]
    pub alert_retry_base: Duration,

    /// Longest delay between two delivery attempts.
    #[arg(long, env = "WEIR_ALERT_RETRY_MAX", default_value = "5m", value_parser = humantime::parse_duration)]
    #[serde(serialize_with = "show::duration")]
    pub alert_retry_max: Duration,

    /// After this long, an undelivered alert is marked failed (and kept, visible in GraphQL).
    #[arg(long, env = "WEIR_ALERT_GIVE_UP_AFTER", default_value = "24h", value_parser = humantime::parse_duration)]
    #[serde(serialize_with = "show::duration")]
    pub alert_give_up_after: Duration,

    /// Timeout of one delivery request to a receiver.
    #[arg(long, env = "WEIR_ALERT_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    #[serde(serialize_with = "show::duration")]
    pub alert_timeout: Duration,
    /// Raw events received more than this many days ago are removed (0 keeps them forever).
    #[arg(long, env = "WEIR_RAW_EVENT_RETENTION_DAYS", default_value_t = DEFAULT_RETENTION_DAYS)]
    pub raw_event_retention_days: u32,

    /// Archived events a database holds before Weir trains a compression dictionary for the
    /// raw-event archive on them (0: never; the archive stays gzip).
    #[arg(long, env = "WEIR_ARCHIVE_DICTIONARY_AFTER", default_value_t = crate::ingest::dictionary::DEFAULT_TRAIN_AFTER)]
    pub archive_dictionary_after: u64,

    /// How often the background retention pass runs (`0s` turns it off).
    #[arg(long, env = "WEIR_RETENTION_INTERVAL", default_value = "1h", value_parser = humantime::parse_duration)]
    #[serde(serialize_with = "show::duration")]
    pub retention_interval: Duration,

    /// Log lines as `text` (people) or `json` (collectors); filter with `WEIR_LOG`.
    #[arg(long, env = "WEIR_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

fn at_least_one_usize() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
}

fn positive_duration(value: &str) -> Result<Duration, String> {
    match humantime::parse_duration(value) {
        Ok(d) if d.is_zero() => Err("must be longer than 0s".to_string()),
        Ok(d) => Ok(d),
        Err(e) => Err(e.to_string()),
    }
}

/// A setting whose value is unusable, named as its flag.
#[derive(Debug, thiserror::Error)]
#[error("invalid setting `--{setting}`: {message}")]
pub struct ConfigError {
    pub setting: &'static str,
    pub message: String,
}

impl Config {
    /// Defaults for everything but the database: what tests and embedders start from.
    pub fn with_database(database_url: impl Into<String>) -> Config {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 5000)),
            database_url: database_url.into(),
            require_auth: false,
            insecure: false,
            max_body_bytes: 10 * 1024 * 1024,
            max_lineage_depth: 100,
            graphql_max_depth: 16,
            graphql_max_complexity: 5000,
            graphql_max_aliases: 50,
            max_page_size: 500,
            request_timeout: Duration::from_secs(60),
            max_concurrent_requests: 256,
            freshness_interval: Duration::from_secs(60),
            gate_unknown_inputs: UnknownInputPolicy::Allow,
            alert_poll_interval: Duration::from_secs(1),
            alert_retry_base: Duration::from_secs(2),
            alert_retry_max: Duration::from_secs(300),
            alert_give_up_after: Duration::from_secs(24 * 3600),
            alert_timeout: Duration::from_secs(10),
            raw_event_retention_days: DEFAULT_RETENTION_DAYS,
            archive_dictionary_after: crate::ingest::dictionary::DEFAULT_TRAIN_AFTER,
            retention_interval: Duration::from_secs(3600),
            log_format: LogFormat::Text,
        }
    }

    /// Checks what the flag parsers cannot (or what a program building a `Config` by hand
    /// may have got wrong), so that a bad setting stops the start with its name.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let url = self.database_url.as_str();
        if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(ConfigError {
                setting: "database-url",
                message: format!("`{}` is not a sqlite: or postgres:// URL", show::mask_url(url)),
            });
        }
        let positive = [
            ("max-body-bytes", self.max_body_bytes),
            ("graphql-max-depth", self.graphql_max_depth),
            ("graphql-max-complexity", self.graphql_max_complexity),
            ("max-concurrent-requests", self.max_concurrent_requests),
        ];
        if let Some((setting, _)) = positive.into_iter().find(|(_, v)| *v == 0) {
            return Err(ConfigError { setting, message: "must be at least 1".into() });
        }
        if self.request_timeout.is_zero() {
            return Err(ConfigError { setting: "request-timeout", message: "must be longer than 0s".into() });
        }
        Ok(())
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

    #[test]
    fn validation_names_the_setting() {
        let mut config = Config::with_database("mysql://root:hunter2@db/weir");
        let err = config.validate().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("--database-url"), "{err}");
        assert!(!err.contains("hunter2"), "the password must not be printed: {err}");
        config.database_url = "sqlite::memory:".into();
        config.max_concurrent_requests = 0;
        let err = config.validate().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("--max-concurrent-requests"), "{err}");
    }
}
