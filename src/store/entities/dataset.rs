//! Row of `datasets` (see the migration for what each column means).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "datasets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub namespace: String,
    pub name: String,
    /// The merged facets' JSON, one zstd frame (`store/packed_json.rs`, migration 000023).
    pub facets_zstd: Vec<u8>,
    /// The version whose schema is the dataset's current one (migration 000018).
    pub schema_version_id: Option<i64>,
    pub current_version_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub last_written_at: Option<DateTimeUtc>,
    pub last_writer_run_id: Option<String>,
    /// The `ownership` facet, also kept apart from `facets` for the blast radius to read.
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub ownership: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
