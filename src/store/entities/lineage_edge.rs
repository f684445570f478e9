//! Row of `lineage_edges` (see the migration for what each column means).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "lineage_edges")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub job_id: i64,
    pub dataset_id: i64,
    pub direction: String,
    pub first_seen: DateTimeUtc,
    pub last_seen: DateTimeUtc,
    pub retired_at: Option<DateTimeUtc>,
    pub generation: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
