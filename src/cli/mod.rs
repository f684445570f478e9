//! The `weir` command line: argument definitions, loading them (flags, environment, config
//! file), and the commands that are more than a call into the library.

pub mod archive;
pub mod client;
pub mod gate;
pub mod import;
pub mod retention;
pub mod rules;
pub mod token;

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::auth::Role;
use crate::config::file::{LayerError, Sources, parse_layered};
use crate::config::{Config, DEFAULT_DATABASE_URL, DEFAULT_RETENTION_DAYS};

#[derive(Debug, Parser)]
#[command(name = "weir", version, about = "Data quality and lineage metadata service for OpenLineage pipelines")]
pub struct Cli {
    /// A TOML file of settings (keys are the flags of `weir serve` without `--`). Flags and
    /// WEIR_* variables take precedence over it.
    #[arg(long, global = true, env = "WEIR_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (applies pending migrations first).
    Serve(Config),
    /// Apply pending database migrations and exit.
    Migrate(DatabaseArgs),
    /// Print the GraphQL schema (SDL), as checked in at graphql/schema.graphql.
    Schema,
    /// Validate a rules file, or make a server's rules match it.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Ask a Weir server whether a job may run. Exit code 0: allow; 1: block; 2: could not
    /// decide (server unreachable, bad arguments, server error).
    Gate(GateArgs),
    /// Create, list and revoke API tokens (works on the database directly).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Remove raw events, and alerts whose delivery ended, older than the retention period.
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// Read the raw-event archive (works on the database directly).
    #[command(subcommand)]
    Archive(ArchiveCommand),
    /// Replay a file of events (NDJSON or a JSON array) into the database, through the same
    /// ingestion path as HTTP. Exit 1 if any event is rejected, unless --keep-going.
    Import(import::ImportArgs),
    /// Inspect the configuration.
    #[command(subcommand, name = "config")]
    ConfigCmd(ConfigCommand),
}

#[derive(Debug, Args)]
pub struct GateArgs {
    /// The job's namespace.
    #[arg(long)]
    pub namespace: String,
    /// The job's name.
    #[arg(long)]
    pub job: String,
    /// An input the job is about to read, as NAMESPACE:NAME (repeatable). Default: the job's
    /// most recent inputs.
    #[arg(long = "input", value_name = "NAMESPACE:NAME")]
    pub inputs: Vec<String>,
    #[command(flatten)]
    pub server: ServerArgs,
    /// Keep asking until the job is allowed or this much time has passed (`30m`, `2h`).
    #[arg(long, value_parser = humantime::parse_duration)]
    pub wait: Option<std::time::Duration>,
    /// How often to ask again while waiting.
    #[arg(long, default_value = "15s", value_parser = humantime::parse_duration)]
    pub poll_interval: std::time::Duration,
    /// Print the decision as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Which database a command works on.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL, as for `weir serve`.
    #[arg(long, env = "WEIR_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
    pub database_url: String,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Validate a rules file offline; errors name the line and the rule. Exit 1 if invalid.
    Check {
        file: PathBuf,
    },
    /// Make the server's rules exactly the file's (create, update, delete), all or nothing.
    Apply {
        file: PathBuf,
        #[command(flatten)]
        server: ServerArgs,
        /// Print what would change without changing anything.
        #[arg(long)]
        dry_run: bool,
        /// Apply a file that defines no rules even though it deletes every rule (refused
        /// otherwise: an empty file is more often a mistake).
        #[arg(long)]
        allow_empty: bool,
        /// Recorded in each rule's history (default: $USER). With a token, the token's name
        /// is recorded instead.
        #[arg(long, env = "USER", default_value = "weir-cli")]
        author: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it (once: only its hash is stored).
    Create {
        /// `ingest` (send events), `read` (queries and the gate) or `admin` (everything).
        #[arg(long, value_parser = clap::builder::ValueParser::new(|s: &str| s.parse::<Role>()))]
        role: Role,
        /// A unique name: shown in `token list` and recorded as the author of changes.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List tokens (names, roles, dates; never the secrets).
    List {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Revoke a token: requests presenting it fail from now on, without a restart.
    Revoke {
        name: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Remove raw events, and alerts whose delivery ended, older than the retention period
    /// now, in small batches.
    Run {
        #[command(flatten)]
        database: DatabaseArgs,
        /// Days of raw events to keep (0 keeps them forever).
        #[arg(long, env = "WEIR_RAW_EVENT_RETENTION_DAYS", default_value_t = DEFAULT_RETENTION_DAYS)]
        raw_event_retention_days: u32,
        /// Only count what would be removed.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ArchiveCommand {
    /// Print the archived events as NDJSON, oldest first, each as archived; `weir import`
    /// replays the output.
    Export {
        #[command(flatten)]
        database: DatabaseArgs,
        /// Only the events archived after this row id (`raw_events.id`).
        #[arg(long, default_value_t = 0)]
        after_id: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration of `weir serve` (secrets masked) and where each
    /// setting came from.
    Show(Config),
}

/// How to reach a running Weir.
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// Base URL of the Weir server.
    #[arg(long, env = "WEIR_SERVER", default_value = "http://127.0.0.1:5000")]
    pub server: String,
    /// Bearer token, when the server requires one.
    #[arg(long, env = "WEIR_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// The parsed command line and where each setting came from.
pub struct Loaded {
    pub cli: Cli,
    pub sources: Sources,
}

/// Parses `args` (the program name first) with the configuration file layered in.
pub fn load_from(args: Vec<OsString>) -> Result<Loaded, LayerError> {
    let (matches, sources) = parse_layered(Cli::command(), args)?;
    let cli = Cli::from_arg_matches(&matches)?;
    Ok(Loaded { cli, sources })
}

/// [`load_from`] on the process's arguments; prints the problem and exits when they are bad.
pub fn load() -> Loaded {
    match load_from(std::env::args_os().collect()) {
        Ok(loaded) => loaded,
        Err(LayerError::Clap(e)) => e.exit(),
        Err(LayerError::File(message)) => {
            eprintln!("weir: {message}");
            std::process::exit(2);
        }
    }
}
