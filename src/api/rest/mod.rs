//! Plain HTTP endpoints: OpenLineage ingestion, health probes and metrics.
pub(crate) mod body;
pub mod health;
pub mod ingest;
pub mod metrics;
