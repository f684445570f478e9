//! A dataset's merged facets are kept compressed: `datasets.facets` (JSON) becomes
//! `facets_zstd`, one zstd frame of the same JSON text.
//!
//! The document holds the latest of every dataset facet received (schema, column lineage,
//! data quality metrics, data source, ...): about 2.6 KB of JSON per dataset on the
//! benchmark's events, so a row took a 4 KB page of its own and `datasets` was the largest
//! table at two events per dataset (1,640 bytes per event). Weir reads the document whole and
//! only through Rust (the API returns it; ingestion merges an event's facets into it), never
//! in SQL, so it compresses like a run's facets: to about a third, each row on its own.

use sea_orm_migration::prelude::*;

use crate::packed_json::{pack_column, unpack_column};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        pack_column::<i64>(m, "datasets", "id", "facets", "facets_zstd").await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        unpack_column::<i64>(m, "datasets", "id", "facets_zstd", "facets", "{}").await
    }
}
