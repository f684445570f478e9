//! Weir's schema, as an ordered list of sea-orm migrations.
//!
//! The same migrations run on SQLite and PostgreSQL, so they use the portable schema builder;
//! the exceptions are data copies with no portable form (000013, 000015), given once per
//! backend.
//! One file per change; never edit a released migration, add a new one.

pub use sea_orm_migration::prelude::*;

mod m20261127_000001_core;
mod m20261127_000002_quality;
mod m20261127_000003_gating;
mod m20261127_000004_alerting;
mod m20261127_000010_tokens;
mod m20261127_000011_evidence_index;
mod m20261127_000012_graph_generation;
mod m20261127_000013_metric_reports;
mod m20261127_000014_unused_check_indexes;
mod m20261127_000015_ownership_columns;
mod m20261127_000016_archive_dictionaries;
mod m20261128_000017_run_io_without_facets;
mod m20261128_000018_dataset_schema_pointer;
mod m20261128_000019_packed_gate_reasons;
mod m20261128_000020_packed_blast_radius;
mod m20261128_000021_packed_run_facets;
mod m20261128_000022_packed_taint_path;
mod m20261128_000023_packed_dataset_facets;
mod m20261128_000024_packed_version_schema;
mod packed_json;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_core::Migration),
            Box::new(m20261127_000002_quality::Migration),
            Box::new(m20261127_000003_gating::Migration),
            Box::new(m20261127_000004_alerting::Migration),
            // Numbered 000010 so that migrations 000003..000009 of other features sort (and go) above it.
            Box::new(m20261127_000010_tokens::Migration),
            Box::new(m20261127_000011_evidence_index::Migration),
            Box::new(m20261127_000012_graph_generation::Migration),
            Box::new(m20261127_000013_metric_reports::Migration),
            Box::new(m20261127_000014_unused_check_indexes::Migration),
            Box::new(m20261127_000015_ownership_columns::Migration),
            Box::new(m20261127_000016_archive_dictionaries::Migration),
            Box::new(m20261128_000017_run_io_without_facets::Migration),
            Box::new(m20261128_000018_dataset_schema_pointer::Migration),
            Box::new(m20261128_000019_packed_gate_reasons::Migration),
            Box::new(m20261128_000020_packed_blast_radius::Migration),
            Box::new(m20261128_000021_packed_run_facets::Migration),
            Box::new(m20261128_000022_packed_taint_path::Migration),
            Box::new(m20261128_000023_packed_dataset_facets::Migration),
            Box::new(m20261128_000024_packed_version_schema::Migration),
        ]
    }
}
