//! Row of `metric_reports`: the metric values one run (or one event without a run) reported
//! about one dataset. `metrics` maps `metric` or `metric/column` to `[value, source]`; see
//! the migration `m20261127_000013_metric_reports`.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "metric_reports")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub dataset_id: i64,
    pub evidence_key: String,
    pub run_id: Option<String>,
    pub observed_at: DateTimeUtc,
    #[sea_orm(column_type = "JsonBinary")]
    pub metrics: Json,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
