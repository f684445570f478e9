//! The `weir` command line.

use clap::{Parser, Subcommand};

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
}
