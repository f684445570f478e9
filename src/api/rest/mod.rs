//! Plain HTTP endpoints: OpenLineage ingestion, the gate, and health probes.
pub mod gate;
pub mod health;
pub mod ingest;
