//! The `weir` command line: argument definitions, and the commands that talk to a running
//! server (`rules apply`) rather than to the database.

pub mod client;
pub mod gate;
pub mod rules;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::Config;

#[derive(Debug, Parser)]
#[command(name = "weir", version, about = "Data quality and lineage metadata service for OpenLineage pipelines")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (applies pending migrations first).
    Serve(Config),
    /// Apply pending database migrations and exit.
    Migrate {
        #[arg(long, env = "WEIR_DATABASE_URL", default_value = "sqlite://weir.db?mode=rwc")]
        database_url: String,
    },
    /// Print the GraphQL schema (SDL), as checked in at graphql/schema.graphql.
    Schema,
    /// Validate a rules file, or make a server's rules match it.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Ask a Weir server whether a job may run. Exit code 0: allow; 1: block; 2: could not
    /// decide (server unreachable, bad arguments, server error).
    Gate(GateArgs),
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
        /// Recorded in each rule's history (default: $USER).
        #[arg(long, env = "USER", default_value = "weir-cli")]
        author: String,
    },
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
