//! A run's facets are kept compressed: `runs.facets` (JSON) becomes `facets_zstd`, one zstd
//! frame of the same JSON text.
//!
//! Every run stores the run facets of its events (nominal time, parent, processing engine,
//! ...), each with its `_producer` and `_schemaURL`: about 860 bytes of JSON per run on the
//! benchmark's Airflow-shaped events, 430 bytes per event, the third largest growing part of
//! the database. Weir reads them whole and only through Rust (the run is read, merged and
//! written back by each event; the API returns them as a document), never in SQL, so they
//! compress like a gate decision's reasons: to about 360 bytes, each row on its own.

use sea_orm_migration::prelude::*;

use crate::packed_json::{pack_column, unpack_column};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        pack_column::<String>(m, "runs", "id", "facets", "facets_zstd").await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        unpack_column::<String>(m, "runs", "id", "facets_zstd", "facets", "{}").await
    }
}
