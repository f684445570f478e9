//! Gating: the event time of each check's evidence (health "as of" a run's start), run
//! taint, waivers, recorded gate decisions and gate violations.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Event time of the evidence a result judged; taint is judged by event time.
        m.alter_table(
            Table::alter()
                .table("check_results")
                .add_column(timestamp_with_time_zone_null("evidence_time"))
                .to_owned(),
        )
        .await?;
        // The latest result of (rule, dataset) is the one judged on the newest evidence.
        m.alter_table(
            Table::alter()
                .table("latest_checks")
                .add_column(timestamp_with_time_zone_null("evidence_time"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_check_results_dataset_id_evidence_time")
                .table("check_results")
                .col("dataset_id")
                .col("evidence_time")
                .to_owned(),
        )
        .await?;

        // Whether a completed run read bad data, where the badness came from, and the lineage
        // path from that origin to the run's job. Derived; recomputed when evidence changes.
        m.create_table(
            Table::create()
                .table("run_taints")
                .col(string("run_id").primary_key())
                .col(boolean("tainted"))
                .col(big_integer_null("origin_dataset_id"))
                .col(string_null("origin_rule_id"))
                .col(big_integer_null("origin_check_id"))
                .col(json_binary("path"))
                .col(boolean("violation"))
                .col(timestamp_with_time_zone("computed_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("waivers")
                .col(big_pk_auto("id"))
                .col(big_integer("dataset_id"))
                // NULL: every rule on the dataset (and its taint).
                .col(string_null("rule_id"))
                .col(text("reason"))
                .col(string("author"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .col(string_null("revoked_by"))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_waivers_dataset_id").table("waivers").col("dataset_id").to_owned())
            .await?;

        m.create_table(
            Table::create()
                .table("gate_decisions")
                .col(big_pk_auto("id"))
                .col(string("job_namespace"))
                .col(string("job_name"))
                .col(string("decision"))
                .col(json_binary("reasons"))
                .col(json_binary("inputs"))
                // `request` (someone asked) or `violation_check` (a START event was checked).
                .col(string("context"))
                .col(string_null("run_id"))
                .col(timestamp_with_time_zone("decided_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_gate_decisions_job_decided_at")
                .table("gate_decisions")
                .col("job_namespace")
                .col("job_name")
                .col("decided_at")
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("gate_violations")
                .col(big_pk_auto("id"))
                .col(string("run_id"))
                .col(big_integer("job_id"))
                .col(big_integer("decision_id"))
                .col(timestamp_with_time_zone("event_time"))
                .col(timestamp_with_time_zone("detected_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ux_gate_violations_run_id").table("gate_violations").col("run_id").unique().to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["gate_violations", "gate_decisions", "waivers", "run_taints"] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        m.alter_table(Table::alter().table("latest_checks").drop_column("evidence_time").to_owned()).await?;
        m.alter_table(Table::alter().table("check_results").drop_column("evidence_time").to_owned()).await?;
        Ok(())
    }
}
