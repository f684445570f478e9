//! Row of `gate_decisions` (see the migration for what each column means).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "gate_decisions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub job_namespace: String,
    pub job_name: String,
    pub decision: String,
    /// The reasons' JSON, one zstd frame (`store/packed_json.rs`).
    pub reasons_zstd: Vec<u8>,
    #[sea_orm(column_type = "JsonBinary")]
    pub inputs: Json,
    pub context: String,
    pub run_id: Option<String>,
    pub decided_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
