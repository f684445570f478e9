//! A run's taint path is kept compressed: `run_taints.path` (JSON) becomes `path_zstd`, one
//! zstd frame of the same JSON text.
//!
//! A tainted run keeps the lineage path from the failing dataset to what it read: node ids
//! (`dataset:NAMESPACE:NAME`, `job:NAMESPACE:NAME`) that repeat their namespaces, 540 bytes
//! on average and up to 2.4 KB on the benchmark's warehouse, where more than half the runs
//! end up tainted once failures spread. Weir reads a path whole, only to explain a taint, and
//! never in SQL.

use sea_orm_migration::prelude::*;

use crate::packed_json::{pack_column, unpack_column};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        pack_column::<String>(m, "run_taints", "run_id", "path", "path_zstd").await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        unpack_column::<String>(m, "run_taints", "run_id", "path_zstd", "path", "[]").await
    }
}
