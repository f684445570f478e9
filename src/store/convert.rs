//! Row -> domain type conversions, so entity types never leave the store.

use super::entities::{
    assertion_observation, column_lineage, dataset, dataset_version, job, lineage_edge,
    run, run_io,
};
use super::StoreError;
use super::assertion_details;
use super::packed_json::unpack;
use crate::model::*;

fn non_empty(s: String) -> Option<String> {
    if s.is_empty() { None } else { Some(s) }
}

/// A dataset as stored; its facets are unpacked, so a damaged row is an error, not a dataset.
pub(super) fn dataset_of(r: dataset::Model) -> Result<Dataset, StoreError> {
    let facets = unpack(&r.facets_zstd, || format!("dataset {}: facets", r.id))?;
    Ok(Dataset {
        id: DatasetId(r.id),
        namespace: r.namespace,
        name: r.name,
        facets,
        schema_version_id: r.schema_version_id,
        current_version_id: r.current_version_id,
        created_at: r.created_at,
        updated_at: r.updated_at,
        last_written_at: r.last_written_at,
        last_writer_run_id: r.last_writer_run_id,
    })
}

/// A dataset version as stored; its schema is unpacked.
pub(super) fn version_of(r: dataset_version::Model) -> Result<DatasetVersion, StoreError> {
    Ok(DatasetVersion {
        schema_fields: version_schema(r.id, r.schema_fields_zstd.as_deref())?,
        id: r.id,
        dataset_id: DatasetId(r.dataset_id),
        version: r.version,
        run_id: r.run_id,
        created_at: r.created_at,
    })
}

/// Version `id`'s schema fields from their packed form (`None`: a version without a schema).
pub(super) fn version_schema(id: i64, packed: Option<&[u8]>) -> Result<Option<serde_json::Value>, StoreError> {
    packed.map(|packed| unpack(packed, || format!("dataset version {id}: schema"))).transpose()
}

impl From<job::Model> for Job {
    fn from(r: job::Model) -> Self {
        Job {
            id: JobId(r.id),
            namespace: r.namespace,
            name: r.name,
            parent_job_id: r.parent_job_id.map(JobId),
            facets: r.facets,
            latest_run_id: r.latest_run_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A run as stored; its facets are unpacked, so a damaged row is an error, not a run.
pub(super) fn run_of(r: run::Model) -> Result<Run, StoreError> {
    let facets = unpack(&r.facets_zstd, || format!("run {}: facets", r.id))?;
    Ok(Run {
        id: r.id,
        raw_run_id: r.raw_run_id,
        job_id: JobId(r.job_id),
        state: RunState::parse(&r.state),
        state_time: r.state_time,
        first_event_time: r.first_event_time,
        started_at: r.started_at,
        ended_at: r.ended_at,
        nominal_start_time: r.nominal_start_time,
        nominal_end_time: r.nominal_end_time,
        error_message: r.error_message,
        parent_run_id: r.parent_run_id,
        facets,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

impl From<run_io::Model> for RunIo {
    fn from(r: run_io::Model) -> Self {
        RunIo {
            run_id: r.run_id,
            dataset_id: DatasetId(r.dataset_id),
            direction: Direction::parse(&r.direction),
            first_seen: r.first_seen,
        }
    }
}

impl From<lineage_edge::Model> for Edge {
    fn from(r: lineage_edge::Model) -> Self {
        Edge {
            job_id: JobId(r.job_id),
            dataset_id: DatasetId(r.dataset_id),
            direction: Direction::parse(&r.direction),
            first_seen: r.first_seen,
            last_seen: r.last_seen,
            retired_at: r.retired_at,
        }
    }
}

impl From<column_lineage::Model> for ColumnEdge {
    fn from(r: column_lineage::Model) -> Self {
        ColumnEdge {
            dataset_id: DatasetId(r.dataset_id),
            field: r.field,
            input_dataset_id: DatasetId(r.input_dataset_id),
            input_field: r.input_field,
            transformation_type: non_empty(r.transformation_type),
            transformation_subtype: non_empty(r.transformation_subtype),
            description: r.description,
        }
    }
}

impl From<assertion_observation::Model> for AssertionObservation {
    fn from(r: assertion_observation::Model) -> Self {
        let details = assertion_details::read(r.details, &r.source, &r.assertion, &r.column_name, r.success, r.severity.as_deref());
        AssertionObservation {
            dataset_id: DatasetId(r.dataset_id),
            run_id: r.run_id,
            source: r.source,
            assertion: r.assertion,
            column: non_empty(r.column_name),
            success: r.success,
            severity: r.severity,
            details,
            observed_at: r.observed_at,
        }
    }
}
