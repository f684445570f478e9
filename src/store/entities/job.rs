//! Row of `jobs` (see the migration for what each column means).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub namespace: String,
    pub name: String,
    pub parent_job_id: Option<i64>,
    #[sea_orm(column_type = "JsonBinary")]
    pub facets: Json,
    pub current_io_key: Option<String>,
    pub current_io_time: Option<DateTimeUtc>,
    pub latest_run_id: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The `ownership` facet, also kept apart from `facets` for the blast radius to read.
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub ownership: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
