//! Row of `run_taints` (see the migration for what each column means).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "run_taints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub run_id: String,
    pub tainted: bool,
    pub origin_dataset_id: Option<i64>,
    pub origin_rule_id: Option<String>,
    pub origin_check_id: Option<i64>,
    /// The path's JSON (node ids from the origin), one zstd frame (`store/packed_json.rs`).
    pub path_zstd: Vec<u8>,
    pub violation: bool,
    pub computed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
