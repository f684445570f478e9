//! Row of `runs` (see the migration for what each column means).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub raw_run_id: String,
    pub job_id: i64,
    pub state: String,
    pub state_time: DateTimeUtc,
    pub first_event_time: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub ended_at: Option<DateTimeUtc>,
    pub nominal_start_time: Option<DateTimeUtc>,
    pub nominal_end_time: Option<DateTimeUtc>,
    pub error_message: Option<String>,
    pub parent_run_id: Option<String>,
    /// The run facets' JSON, one zstd frame (`store/packed_json.rs`).
    pub facets_zstd: Vec<u8>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
