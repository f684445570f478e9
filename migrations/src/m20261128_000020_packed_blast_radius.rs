//! An incident's blast radius is kept compressed: `incidents.blast_radius` (JSON) becomes
//! `blast_radius_zstd`, one zstd frame of the same JSON text.
//!
//! It is written once, when the incident opens, and lists up to 500 downstream datasets and
//! jobs with their owners: after gate decisions' reasons (000019), the largest JSON that grows
//! with a deployment's history.

use sea_orm_migration::prelude::*;

use crate::packed_json::{pack_column, unpack_column};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        pack_column::<i64>(m, "incidents", "id", "blast_radius", "blast_radius_zstd").await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        unpack_column::<i64>(m, "incidents", "id", "blast_radius_zstd", "blast_radius", "{}").await
    }
}
