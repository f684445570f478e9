//! A gate decision's reasons are kept compressed: `gate_decisions.reasons` (JSON) becomes
//! `reasons_zstd`, one zstd frame of the same JSON text.
//!
//! A decision is written once and read rarely (a job's decision history, a violation), and its
//! reasons are most of it: a run that starts against a failing input is recorded with every
//! reason in full, about 2.4 KB of JSON, and in a long-running deployment such records were
//! the largest growing part of the database. The frame is self-contained (no dictionary), so
//! a row can be read on its own.

use sea_orm_migration::prelude::*;

use crate::packed_json::{pack_column, unpack_column};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        pack_column::<i64>(m, "gate_decisions", "id", "reasons", "reasons_zstd").await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        unpack_column::<i64>(m, "gate_decisions", "id", "reasons_zstd", "reasons", "[]").await
    }
}
