//! Plain HTTP endpoints: OpenLineage ingestion, the lineage graph, the gate, health probes and
//! metrics.
pub mod gate;
pub mod health;
pub mod ingest;
pub mod lineage;
pub mod metrics;
