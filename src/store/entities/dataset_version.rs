//! Row of `dataset_versions` (see the migration for what each column means).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "dataset_versions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub dataset_id: i64,
    pub version: String,
    pub schema_hash: Option<String>,
    /// The schema's fields as JSON, one zstd frame (`store/packed_json.rs`, migration
    /// 000024); NULL for a version without a schema.
    pub schema_fields_zstd: Option<Vec<u8>>,
    pub run_id: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
