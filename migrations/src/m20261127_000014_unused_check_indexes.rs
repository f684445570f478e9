//! Drops two indexes of `check_results` that no query uses any more, each an insert per check
//! result (about 2.7 per event on the benchmark workload) and 90-110 bytes per event stored:
//!
//! * `ix_check_results_dataset_id_evidence_time`: every lookup by evidence time also names the
//!   rule, and takes `ix_check_results_dataset_id_rule_id_evidence_time` (000011);
//! * `ix_check_results_rule_id`: results are always read for a dataset.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const BY_EVIDENCE_TIME: &str = "ix_check_results_dataset_id_evidence_time";
const BY_RULE: &str = "ix_check_results_rule_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name(BY_EVIDENCE_TIME).table("check_results").to_owned()).await?;
        m.drop_index(Index::drop().name(BY_RULE).table("check_results").to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(Index::create().name(BY_RULE).table("check_results").col("rule_id").to_owned()).await?;
        m.create_index(
            Index::create().name(BY_EVIDENCE_TIME).table("check_results").col("dataset_id").col("evidence_time").to_owned(),
        )
        .await
    }
}
