//! Row of `check_results` (see the migration for what each column means).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "check_results")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub rule_id: String,
    pub rule_version: i64,
    pub dataset_id: i64,
    pub outcome: String,
    pub severity: String,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub observed: Option<Json>,
    pub expected: String,
    pub message: String,
    pub run_id: Option<String>,
    pub trigger: String,
    pub evaluated_at: DateTimeUtc,
    pub evidence_time: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
