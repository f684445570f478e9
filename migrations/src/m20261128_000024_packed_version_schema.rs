//! A dataset version's schema is kept compressed: `dataset_versions.schema_fields` (JSON, NULL
//! for a version without a schema) becomes `schema_fields_zstd`, one zstd frame of the same
//! JSON text (still NULL without a schema).
//!
//! Each version keeps the schema's fields as received: about 970 bytes of JSON for the
//! benchmark's tables of 10-40 columns, a version per schema change. Weir reads them whole
//! and only through Rust (schema rules, `Dataset.schema`, version history); SQL only asks
//! whether a version has one, which NULL still says.

use sea_orm_migration::prelude::*;

use crate::packed_json::{pack_nullable_column, unpack_nullable_column};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        pack_nullable_column::<i64>(m, "dataset_versions", "id", "schema_fields", "schema_fields_zstd").await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        unpack_nullable_column::<i64>(m, "dataset_versions", "id", "schema_fields_zstd", "schema_fields").await
    }
}
