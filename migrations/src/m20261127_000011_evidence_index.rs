//! Indexes for reads whose cost grew with a dataset's history.
//!
//! * Rules read a dataset's latest values of the few metrics they check (`row_count`, a
//!   column's `null_count`), while events report dozens of metrics per dataset. With only the
//!   (dataset, time) index, finding the latest `row_count` walked every metric row since.
//! * Health as of a time (taint, gate) needs each rule's latest result on the dataset as of
//!   then: one lookup per rule with (dataset, rule, evidence time).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const METRICS: &str = "ix_metric_observations_dataset_id_metric_observed_at";
const CHECKS: &str = "ix_check_results_dataset_id_rule_id_evidence_time";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name(METRICS)
                .table("metric_observations")
                .col("dataset_id")
                .col("metric")
                .col("observed_at")
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name(CHECKS)
                .table("check_results")
                .col("dataset_id")
                .col("rule_id")
                .col("evidence_time")
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name(CHECKS).table("check_results").to_owned()).await?;
        m.drop_index(Index::drop().name(METRICS).table("metric_observations").to_owned()).await
    }
}
