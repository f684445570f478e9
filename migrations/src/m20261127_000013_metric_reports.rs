//! Metric values kept as one row per dataset and evidence (a run, or an event without one),
//! instead of one row per value.
//!
//! An output of a finished run reports a dozen values or more (row count, bytes, files, and
//! per column null and distinct counts, min and max). One row and three index entries per value
//! made `metric_observations` the largest table, 3.5 KB per event on the benchmark workload,
//! and a tenth of the rows every event inserted. `metric_reports.metrics` maps `metric`
//! (dataset-wide) or `metric/column` to `[value, source]`: metric names never hold a `/`, and
//! the object merges key by key when a later event of the same run reports more (SQLite's
//! `json_patch`, PostgreSQL's `||` on `jsonb`).
//!
//! The existing values are copied over with one `INSERT .. SELECT` per backend: grouping them
//! into JSON objects has no portable form (`json_group_object` on SQLite, `jsonb_object_agg`
//! on PostgreSQL). SQLite writes a REAL into JSON with 15 significant digits unless told to
//! print all 17, which a double needs to read back as the same value. A report's time is its
//! latest value's.

use sea_orm_migration::{prelude::*, schema::*};
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UNIQUE: &str = "ux_metric_reports_dataset_id_evidence_key";
const BY_TIME: &str = "ix_metric_reports_dataset_id_observed_at";

const COPY_SQLITE: &str = r#"
INSERT INTO metric_reports (dataset_id, evidence_key, run_id, observed_at, metrics)
SELECT dataset_id, evidence_key, MAX(run_id), MAX(observed_at),
       json_group_object(CASE WHEN column_name = '' THEN metric ELSE metric || '/' || column_name END,
                         json_array(CASE WHEN value IS NULL THEN NULL ELSE json(printf('%!.17g', value)) END, source))
FROM metric_observations
GROUP BY dataset_id, evidence_key
"#;

const COPY_POSTGRES: &str = r#"
INSERT INTO metric_reports (dataset_id, evidence_key, run_id, observed_at, metrics)
SELECT dataset_id, evidence_key, MAX(run_id), MAX(observed_at),
       jsonb_object_agg(CASE WHEN column_name = '' THEN metric ELSE metric || '/' || column_name END,
                        jsonb_build_array(value, source))
FROM metric_observations
GROUP BY dataset_id, evidence_key
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("metric_reports")
                .col(big_pk_auto("id"))
                .col(big_integer("dataset_id"))
                .col(string("evidence_key"))
                .col(string_null("run_id"))
                .col(timestamp_with_time_zone("observed_at"))
                .col(json_binary("metrics"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name(UNIQUE).table("metric_reports").col("dataset_id").col("evidence_key").unique().to_owned(),
        )
        .await?;
        m.create_index(Index::create().name(BY_TIME).table("metric_reports").col("dataset_id").col("observed_at").to_owned())
            .await?;
        let copy = match m.get_database_backend() {
            DatabaseBackend::Postgres => COPY_POSTGRES,
            _ => COPY_SQLITE,
        };
        m.get_connection().execute_unprepared(copy).await?;
        m.drop_table(Table::drop().table("metric_observations").to_owned()).await
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "metric_reports cannot be split back into metric_observations rows; restore a backup taken before upgrading".into(),
        ))
    }
}
