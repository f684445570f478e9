//! Plain HTTP endpoints: OpenLineage ingestion and health probes.
mod body;
pub mod health;
pub mod ingest;
