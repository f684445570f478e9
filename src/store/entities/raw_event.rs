//! Row of `raw_events` (see the migration for what each column means).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "raw_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub event_hash: String,
    pub kind: String,
    pub event_time: DateTimeUtc,
    pub received_at: DateTimeUtc,
    pub run_id: Option<String>,
    pub job_namespace: Option<String>,
    pub job_name: Option<String>,
    pub raw_bytes: i64,
    pub payload: Vec<u8>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
