//! The core model: raw events, namespaces, datasets (with aliases and versions), jobs, runs,
//! each run's inputs and outputs, lineage edges, column lineage and quality observations.
//!
//! Identifiers are surrogate integer keys so that joins stay cheap; the natural keys
//! (namespace + name, run UUID) carry unique indexes, which is also what makes concurrent
//! `INSERT .. ON CONFLICT DO NOTHING` upserts safe on both backends.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Shorthand for a non-unique index, named after its table and columns.
fn index(table: &'static str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(format!("ix_{table}_{}", columns.join("_"))).table(table);
    for column in columns {
        stmt.col(*column);
    }
    stmt.to_owned()
}

fn unique(table: &'static str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut stmt = index(table, columns);
    stmt.name(format!("ux_{table}_{}", columns.join("_"))).unique();
    stmt
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Every event as received (gzip-compressed), so derived tables can be rebuilt and
        // events replayed. `event_hash` makes a client's retry of the same event a no-op.
        m.create_table(
            Table::create()
                .table("raw_events")
                .col(big_pk_auto("id"))
                .col(string("event_hash"))
                .col(string("kind"))
                .col(timestamp_with_time_zone("event_time"))
                .col(timestamp_with_time_zone("received_at"))
                .col(string_null("run_id"))
                .col(string_null("job_namespace"))
                .col(string_null("job_name"))
                .col(big_integer("raw_bytes"))
                .col(blob("payload"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("raw_events", &["event_hash"])).await?;
        m.create_index(index("raw_events", &["received_at"])).await?;

        m.create_table(
            Table::create()
                .table("namespaces")
                .col(big_pk_auto("id"))
                .col(string("name"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("namespaces", &["name"])).await?;

        m.create_table(
            Table::create()
                .table("datasets")
                .col(big_pk_auto("id"))
                .col(string("namespace"))
                .col(string("name"))
                .col(json_binary("facets"))
                .col(json_binary_null("schema_fields"))
                .col(big_integer_null("current_version_id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(timestamp_with_time_zone_null("last_written_at"))
                .col(string_null("last_writer_run_id"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("datasets", &["namespace", "name"])).await?;
        m.create_index(index("datasets", &["name"])).await?;

        // Other identities of a dataset (the `symlinks` facet): an event naming an alias
        // lands on the dataset the alias points to.
        m.create_table(
            Table::create()
                .table("dataset_aliases")
                .col(big_pk_auto("id"))
                .col(string("namespace"))
                .col(string("name"))
                .col(big_integer("dataset_id"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("dataset_aliases", &["namespace", "name"])).await?;
        m.create_index(index("dataset_aliases", &["dataset_id"])).await?;

        m.create_table(
            Table::create()
                .table("dataset_versions")
                .col(big_pk_auto("id"))
                .col(big_integer("dataset_id"))
                .col(string("version"))
                .col(string_null("schema_hash"))
                .col(json_binary_null("schema_fields"))
                .col(string_null("run_id"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("dataset_versions", &["dataset_id", "created_at"])).await?;

        m.create_table(
            Table::create()
                .table("jobs")
                .col(big_pk_auto("id"))
                .col(string("namespace"))
                .col(string("name"))
                .col(big_integer_null("parent_job_id"))
                .col(json_binary("facets"))
                // The run (or static JobEvent) whose inputs/outputs form the current graph,
                // and its time: a later one replaces it, an earlier one never does.
                .col(string_null("current_io_key"))
                .col(timestamp_with_time_zone_null("current_io_time"))
                .col(string_null("latest_run_id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("jobs", &["namespace", "name"])).await?;
        m.create_index(index("jobs", &["name"])).await?;
        m.create_index(index("jobs", &["parent_job_id"])).await?;

        m.create_table(
            Table::create()
                .table("runs")
                .col(string("id").primary_key())
                .col(string("raw_run_id"))
                .col(big_integer("job_id"))
                .col(string("state"))
                .col(timestamp_with_time_zone("state_time"))
                .col(timestamp_with_time_zone("first_event_time"))
                .col(timestamp_with_time_zone_null("started_at"))
                .col(timestamp_with_time_zone_null("ended_at"))
                .col(timestamp_with_time_zone_null("nominal_start_time"))
                .col(timestamp_with_time_zone_null("nominal_end_time"))
                .col(text_null("error_message"))
                .col(string_null("parent_run_id"))
                .col(json_binary("facets"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("runs", &["job_id", "first_event_time"])).await?;
        m.create_index(index("runs", &["parent_run_id"])).await?;

        // Exactly what each run read and wrote, with the facets it reported about them.
        m.create_table(
            Table::create()
                .table("run_io")
                .col(big_pk_auto("id"))
                .col(string("run_id"))
                .col(big_integer("dataset_id"))
                .col(string("direction"))
                .col(big_integer_null("dataset_version_id"))
                .col(json_binary("facets"))
                .col(timestamp_with_time_zone("first_seen"))
                .col(timestamp_with_time_zone("last_seen"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("run_io", &["run_id", "dataset_id", "direction"])).await?;
        m.create_index(index("run_io", &["dataset_id", "direction"])).await?;

        // dataset -> job (INPUT) and job -> dataset (OUTPUT). A row is one interval in which
        // the edge belonged to the job's current inputs/outputs: `retired_at` is set when a
        // later run of the job stops using it, which is what `lineage(asOf:)` reads.
        m.create_table(
            Table::create()
                .table("lineage_edges")
                .col(big_pk_auto("id"))
                .col(big_integer("job_id"))
                .col(big_integer("dataset_id"))
                .col(string("direction"))
                .col(timestamp_with_time_zone("first_seen"))
                .col(timestamp_with_time_zone("last_seen"))
                .col(timestamp_with_time_zone_null("retired_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("lineage_edges", &["dataset_id", "direction"])).await?;
        m.create_index(index("lineage_edges", &["job_id", "direction"])).await?;

        m.create_table(
            Table::create()
                .table("column_lineage")
                .col(big_pk_auto("id"))
                .col(big_integer("dataset_id"))
                .col(string("field"))
                .col(big_integer("input_dataset_id"))
                .col(string("input_field"))
                // '' when the facet gives none: part of the unique key, and NULLs are distinct
                // in PostgreSQL unique indexes.
                .col(string("transformation_type"))
                .col(string("transformation_subtype"))
                .col(text_null("description"))
                .col(timestamp_with_time_zone("first_seen"))
                .col(timestamp_with_time_zone("last_seen"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique(
            "column_lineage",
            // One input column can feed an output column in several ways (Spark: DIRECT
            // IDENTITY and INDIRECT FILTER); each is kept.
            &["dataset_id", "field", "input_dataset_id", "input_field", "transformation_type", "transformation_subtype"],
        ))
        .await?;
        m.create_index(index("column_lineage", &["input_dataset_id", "input_field"]))
            .await?;

        // Quality evidence. `evidence_key` is the run id, or `event:<hash>` for evidence that
        // came without a run; with the dataset, column and metric it identifies one value, so
        // a facet repeated on START and COMPLETE (or in inputFacets and facets) counts once.
        m.create_table(
            Table::create()
                .table("metric_observations")
                .col(big_pk_auto("id"))
                .col(big_integer("dataset_id"))
                .col(string("evidence_key"))
                .col(string_null("run_id"))
                .col(string("source"))
                .col(string("column_name"))
                .col(string("metric"))
                .col(double_null("value"))
                .col(timestamp_with_time_zone("observed_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique(
            "metric_observations",
            &["dataset_id", "evidence_key", "column_name", "metric"],
        ))
        .await?;
        m.create_index(index("metric_observations", &["dataset_id", "observed_at"]))
            .await?;

        m.create_table(
            Table::create()
                .table("assertion_observations")
                .col(big_pk_auto("id"))
                .col(big_integer("dataset_id"))
                .col(string("evidence_key"))
                .col(string_null("run_id"))
                .col(string("source"))
                .col(string("assertion"))
                .col(string("column_name"))
                .col(boolean("success"))
                .col(string_null("severity"))
                .col(json_binary_null("details"))
                .col(timestamp_with_time_zone("observed_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique(
            "assertion_observations",
            &["dataset_id", "evidence_key", "assertion", "column_name"],
        ))
        .await?;
        m.create_index(index("assertion_observations", &["dataset_id", "observed_at"]))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "assertion_observations",
            "metric_observations",
            "column_lineage",
            "lineage_edges",
            "run_io",
            "runs",
            "jobs",
            "dataset_versions",
            "dataset_aliases",
            "datasets",
            "namespaces",
            "raw_events",
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
