//! Weir: a data quality and lineage metadata service for OpenLineage pipelines.
//!
//! Where things live:
//! * [`openlineage`] — our serde models of OpenLineage events and facets, and the lenient
//!   parsing rules real emitters need.
//! * [`ingest`] — one event becomes one transaction of graph changes and quality observations.
//! * [`lineage`] — graph walks (up/downstream, depth, as-of) and column lineage.
//! * [`model`] — the domain types every layer shares.
//! * [`store`] — sea-orm over SQLite/PostgreSQL; entities stay private to it.
//! * [`api`] — axum routes (REST ingestion, health) and GraphQL; converts wire <-> domain.
//! * [`app`] — [`app::App::build`]: the server that `main` and the integration tests run.
//! * [`auth`] — API tokens and roles; [`retention`] — removing old raw events.
//! * [`config`], [`cli`], [`telemetry`] — process setup, logs and metrics.
//!
//! An event's path: `api::rest::ingest` reads and size-checks the body, `openlineage::parse_event`
//! validates it, `ingest::Prepared` archives it, `ingest::committer` applies it in one
//! transaction (shared with concurrent events) through `store::WriteTx`, and only then does the
//! API answer 201.

pub mod alert;
pub mod api;
pub mod app;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod evaluation;
pub mod json_plain;
pub mod gate;
pub mod ingest;
pub mod lineage;
pub mod model;
pub mod openlineage;
pub mod quality;
pub mod retention;
pub mod store;
pub mod telemetry;

pub use app::App;
pub use config::Config;
