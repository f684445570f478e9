//! Plain HTTP endpoints: OpenLineage ingestion and health probes.
pub mod health;
pub mod ingest;
