//! Quality rules, their change history, and check results.
//!
//! `check_results` keeps every evaluation (history); `latest_checks` keeps the latest result
//! of each (rule, dataset), which is what health is derived from without scanning history.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("rules")
                .col(string("id").primary_key())
                .col(big_integer("version"))
                .col(string("kind"))
                .col(string("severity"))
                .col(json_binary("definition"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("rule_changes")
                .col(big_pk_auto("id"))
                .col(string("rule_id"))
                .col(big_integer("version"))
                .col(string("action"))
                .col(json_binary_null("definition"))
                .col(string("author"))
                .col(timestamp_with_time_zone("changed_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_rule_changes_rule_id").table("rule_changes").col("rule_id").to_owned())
            .await?;

        m.create_table(
            Table::create()
                .table("check_results")
                .col(big_pk_auto("id"))
                .col(string("rule_id"))
                .col(big_integer("rule_version"))
                .col(big_integer("dataset_id"))
                .col(string("outcome"))
                .col(string("severity"))
                .col(json_binary_null("observed"))
                .col(text("expected"))
                .col(text("message"))
                .col(string_null("run_id"))
                .col(string("trigger"))
                .col(timestamp_with_time_zone("evaluated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_check_results_dataset_id_evaluated_at")
                .table("check_results")
                .col("dataset_id")
                .col("evaluated_at")
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_check_results_rule_id").table("check_results").col("rule_id").to_owned())
            .await?;

        m.create_table(
            Table::create()
                .table("latest_checks")
                .col(big_pk_auto("id"))
                .col(string("rule_id"))
                .col(big_integer("dataset_id"))
                .col(big_integer("check_result_id"))
                .col(string("outcome"))
                .col(string("severity"))
                .col(timestamp_with_time_zone("evaluated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_latest_checks_rule_id_dataset_id")
                .table("latest_checks")
                .col("rule_id")
                .col("dataset_id")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_latest_checks_dataset_id").table("latest_checks").col("dataset_id").to_owned())
            .await?;
        m.create_index(Index::create().name("ix_latest_checks_outcome").table("latest_checks").col("outcome").to_owned())
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["latest_checks", "check_results", "rule_changes", "rules"] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
