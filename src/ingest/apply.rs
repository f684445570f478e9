//! Applying one parsed event to the graph, inside the ingest transaction.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};

use super::edges::{self, IoSet};
use super::run_state::{next_state, state_of};
use super::versioning::version_key;
use crate::model::{AssertionObservation, ColumnEdge, DatasetId, Direction, MetricObservation, RunState};
use crate::openlineage::{facets, Dataset, Event, RunEventType};
use super::IngestError;
use crate::gate::hooks::RunEventApplied;
use crate::gate::taint::JudgedRun;
use crate::quality::engine::Arrived;
use crate::store::{DatasetState, RunIoRows, RunRecord, StoreError, WriteTx, merge_facets};

pub struct Context<'a> {
    pub tx: &'a WriteTx,
    pub event: &'a Event,
    pub now: DateTime<Utc>,
    pub event_hash: &'a str,
    /// Datasets this event brought quality evidence about, and what (rules run on them
    /// afterwards).
    touched: Mutex<Vec<(DatasetId, Arrived)>>,
    /// Ids of the datasets this event has named so far: column lineage names its inputs once
    /// per column, and each lookup was a read of the whole dataset row.
    ids: Mutex<HashMap<(String, String), DatasetId>>,
    /// Datasets this event named without changing them: only their `updated_at` is written,
    /// for all of them at once ([`Context::mark_unchanged_updated`]).
    unchanged: Mutex<Vec<DatasetId>>,
    /// Assertions reported about the event's datasets, stored for all of them at once
    /// ([`Context::store_assertions`]): a COMPLETE reports them on each of its inputs.
    assertions: Mutex<Vec<AssertionObservation>>,
}

impl<'a> Context<'a> {
    pub fn new(tx: &'a WriteTx, event: &'a Event, now: DateTime<Utc>, event_hash: &'a str) -> Context<'a> {
        Context {
            tx,
            event,
            now,
            event_hash,
            touched: Mutex::new(Vec::new()),
            ids: Mutex::new(HashMap::new()),
            unchanged: Mutex::new(Vec::new()),
            assertions: Mutex::new(Vec::new()),
        }
    }

    fn remember(&self, namespace: &str, name: &str, id: DatasetId) {
        if let Ok(mut ids) = self.ids.lock() {
            ids.insert((namespace.to_string(), name.to_string()), id);
        }
    }

    /// The id of a dataset this event names, created if new, without reading its row.
    async fn dataset_id(&self, namespace: &str, name: &str) -> Result<DatasetId, StoreError> {
        let known = self.ids.lock().ok().and_then(|ids| ids.get(&(namespace.to_string(), name.to_string())).copied());
        if let Some(id) = known {
            return Ok(id);
        }
        let id = self.tx.ensure_dataset_id(namespace, name, self.now).await?;
        self.remember(namespace, name, id);
        Ok(id)
    }

    fn touch(&self, id: DatasetId, arrived: Arrived) {
        if !arrived.any() {
            return;
        }
        let mut touched = self.touched.lock().unwrap_or_else(PoisonError::into_inner);
        match touched.iter_mut().find(|(d, _)| *d == id) {
            Some((_, known)) => known.add(arrived),
            None => touched.push((id, arrived)),
        }
    }

    fn unchanged(&self, id: DatasetId) {
        self.unchanged.lock().unwrap_or_else(PoisonError::into_inner).push(id);
    }

    // The lists below are never locked across an await, and each change leaves them whole: a
    // poisoned lock still holds everything, which must not be dropped.
    fn assertions(&self, observed: Vec<AssertionObservation>) {
        self.assertions.lock().unwrap_or_else(PoisonError::into_inner).extend(observed);
    }

    /// Stores the assertions of the datasets applied so far, under the event's evidence key.
    async fn store_assertions(&self, evidence_key: &str) -> Result<(), StoreError> {
        let observed = std::mem::take(&mut *self.assertions.lock().unwrap_or_else(PoisonError::into_inner));
        self.tx.upsert_assertions(evidence_key, &observed).await
    }

    async fn mark_unchanged_updated(&self) -> Result<(), StoreError> {
        let ids = std::mem::take(&mut *self.unchanged.lock().unwrap_or_else(PoisonError::into_inner));
        self.tx.mark_datasets_updated(&ids, self.now).await
    }

    pub fn touched(&self) -> Vec<(DatasetId, Arrived)> {
        self.touched.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// Where a dataset's evidence came from: a run, or a run-less event.
struct Evidence<'a> {
    key: String,
    run_id: Option<&'a str>,
    at: DateTime<Utc>,
}

pub async fn run_event(ctx: &Context<'_>) -> Result<RunEventApplied, IngestError> {
    let (Some(run), Some(job)) = (&ctx.event.run, &ctx.event.job) else {
        return Err(StoreError::Corrupt("a RunEvent without run or job reached ingest".into()).into());
    };
    let tx = ctx.tx;
    let at = ctx.event.event_time;
    let mut job_state = tx.lock_job(&job.namespace, &job.name, ctx.now).await?;
    merge_facets(&mut job_state.facets, &job.facets);

    let parent = facets::parent(&run.facets);
    if let Some(parent) = &parent {
        let is_self = parent.job_namespace == job.namespace && parent.job_name == job.name;
        if !is_self {
            job_state.parent_job_id = Some(tx.ensure_job(&parent.job_namespace, &parent.job_name, ctx.now).await?);
        }
    }

    let run_id = run.run_id.to_string();
    let existing = tx.lock_run(&run_id).await?;
    if let Some(found) = &existing
        && found.job_id != job_state.id
    {
        let owner = tx.job_identity(found.job_id).await?;
        return Err(IngestError::RunIdConflict { run_id: run.raw_run_id.clone(), namespace: owner.0, name: owner.1 });
    }
    let is_new = existing.is_none();
    let mut record = existing.unwrap_or_else(|| RunRecord {
        id: run_id.clone(),
        raw_run_id: run.raw_run_id.clone(),
        job_id: job_state.id,
        state: ctx.event.event_type.map_or(RunState::Other, state_of),
        state_time: at,
        first_event_time: at,
        started_at: None,
        ended_at: None,
        nominal_start_time: None,
        nominal_end_time: None,
        error_message: None,
        parent_run_id: None,
        facets: serde_json::Value::Object(Default::default()),
    });
    if !is_new
        && let Some(state) = next_state(record.state, record.state_time, ctx.event.event_type, at)
    {
        record.state = state;
        record.state_time = at;
    }
    record.first_event_time = record.first_event_time.min(at);
    match ctx.event.event_type {
        Some(RunEventType::Start) => {
            record.started_at = Some(record.started_at.map_or(at, |t| t.min(at)));
        }
        Some(t) if t.is_terminal() && record.state.is_terminal() && record.state_time == at => {
            record.ended_at = Some(at);
        }
        _ => {}
    }
    if let Some((start, end)) = facets::nominal_time(&run.facets) {
        record.nominal_start_time = Some(start);
        record.nominal_end_time = end;
    }
    if let Some(message) = facets::error_message(&run.facets) {
        record.error_message = Some(message);
    }
    if let Some(parent) = &parent {
        record.parent_run_id = Some(parent.run_id.to_string());
    }
    merge_facets(&mut record.facets, &run.facets);
    tx.save_run(&record, is_new, ctx.now).await?;

    // The job's latest run is the one first seen last. A run already the latest (a COMPLETE
    // after its START, nearly every one) stays so whatever its times: nothing to read.
    let is_latest = match &job_state.latest_run_id {
        None => true,
        Some(latest) if *latest == run_id => true,
        Some(latest) => tx.run_first_event_time(latest).await?.is_none_or(|t| record.first_event_time >= t),
    };
    if is_latest {
        job_state.latest_run_id = Some(run_id.clone());
    }

    let evidence = Evidence { key: run_id.clone(), run_id: Some(&run_id), at };
    let wrote_successfully = record.state == RunState::Complete;
    let mut run_io = if is_new { RunIoRows::none() } else { tx.run_io_rows(&run_id).await? };
    let reported = datasets(ctx, &evidence, wrote_successfully, &mut run_io).await?;
    let input_ids: Vec<DatasetId> = reported.iter().filter(|r| r.1 == Direction::Input).map(|r| r.0).collect();
    run_test_facet(ctx, &run.facets, &evidence, &input_ids).await?;
    ctx.store_assertions(&evidence.key).await?;

    let all = run_io.pairs();
    let io = IoSet { key: format!("run:{run_id}"), time: record.first_event_time, seen: at, all: &all, reported: &reported };
    edges::update(tx, &mut job_state, io).await?;
    tx.save_job(&job_state, ctx.now).await?;
    let completed_now = ctx.event.event_type == Some(RunEventType::Complete) && record.state == RunState::Complete && record.state_time == at;
    // What the run has read and written, for its verdict: wanted only once it has completed.
    let of_run = |direction: Direction| {
        let mut ids: Vec<DatasetId> =
            all.iter().filter(|(_, d)| completed_now && *d == direction).map(|(id, _)| *id).collect();
        ids.sort();
        ids.dedup();
        ids
    };
    let judged = JudgedRun::new(
        run_id,
        job_state.id,
        (record.started_at, record.first_event_time),
        (record.ended_at, record.state_time),
    );
    Ok(RunEventApplied {
        run: judged,
        is_new,
        completed_now,
        inputs: input_ids,
        read: of_run(Direction::Input),
        wrote: of_run(Direction::Output),
    })
}

pub async fn dataset_event(ctx: &Context<'_>) -> Result<(), StoreError> {
    let Some(dataset) = &ctx.event.dataset else {
        return Err(StoreError::Corrupt("a DatasetEvent without dataset reached ingest".into()));
    };
    let evidence = Evidence { key: format!("event:{}", ctx.event_hash), run_id: None, at: ctx.event.event_time };
    let (id, _, arrived) = apply_dataset(ctx, dataset, &evidence, false).await?;
    ctx.store_assertions(&evidence.key).await?;
    ctx.mark_unchanged_updated().await?;
    ctx.touch(id, arrived);
    column_lineage(ctx, id, dataset).await
}

/// A JobEvent declares the job's inputs and outputs without a run (static lineage).
pub async fn job_event(ctx: &Context<'_>) -> Result<(), StoreError> {
    let Some(job) = &ctx.event.job else {
        return Err(StoreError::Corrupt("a JobEvent without job reached ingest".into()));
    };
    let tx = ctx.tx;
    let mut job_state = tx.lock_job(&job.namespace, &job.name, ctx.now).await?;
    merge_facets(&mut job_state.facets, &job.facets);
    let evidence = Evidence { key: format!("event:{}", ctx.event_hash), run_id: None, at: ctx.event.event_time };
    let reported = datasets(ctx, &evidence, false, &mut RunIoRows::none()).await?;
    ctx.store_assertions(&evidence.key).await?;
    let io = IoSet {
        key: format!("job-event:{}", ctx.event_hash),
        time: ctx.event.event_time,
        seen: ctx.event.event_time,
        all: &reported,
        reported: &reported,
    };
    edges::update(tx, &mut job_state, io).await?;
    tx.save_job(&job_state, ctx.now).await
}

/// Applies every input and output of the event, in a fixed order (namespace, name) so that
/// concurrent transactions lock dataset rows in the same order and cannot deadlock.
async fn datasets(
    ctx: &Context<'_>,
    evidence: &Evidence<'_>,
    wrote_successfully: bool,
    run_io: &mut RunIoRows,
) -> Result<Vec<(DatasetId, Direction)>, StoreError> {
    let mut all: Vec<(Direction, &Dataset)> = ctx
        .event
        .inputs
        .iter()
        .map(|d| (Direction::Input, d))
        .chain(ctx.event.outputs.iter().map(|d| (Direction::Output, d)))
        .collect();
    all.sort_by(|a, b| (&a.1.namespace, &a.1.name).cmp(&(&b.1.namespace, &b.1.name)));
    let mut reported = Vec::with_capacity(all.len());
    for (direction, dataset) in all {
        let is_write = direction == Direction::Output && wrote_successfully;
        let (id, version_id, mut arrived) = apply_dataset(ctx, dataset, evidence, is_write).await?;
        // A run that completed or failed is evidence about what it wrote (freshness, run status).
        let run_ended = ctx.event.event_type.is_some_and(RunEventType::is_terminal) && evidence.run_id.is_some();
        arrived.write = direction == Direction::Output && run_ended;
        ctx.touch(id, arrived);
        if let Some(run_id) = evidence.run_id {
            run_io.record(run_id, id, direction, version_id, evidence.at);
        }
        if direction == Direction::Output {
            column_lineage(ctx, id, dataset).await?;
        }
        if !reported.contains(&(id, direction)) {
            reported.push((id, direction));
        }
    }
    ctx.mark_unchanged_updated().await?;
    ctx.tx.save_run_io(run_io).await?;
    Ok(reported)
}

/// Upserts one dataset with its facets, version, aliases and quality evidence. Returns its id,
/// the version the event saw, and whether the event carried quality evidence about it
/// (a schema, metrics or assertions).
async fn apply_dataset(
    ctx: &Context<'_>,
    dataset: &Dataset,
    evidence: &Evidence<'_>,
    is_successful_write: bool,
) -> Result<(DatasetId, Option<i64>, Arrived), StoreError> {
    let tx = ctx.tx;
    let at = evidence.at;
    let mut state = tx.upsert_dataset(&dataset.namespace, &dataset.name, ctx.now).await?;
    ctx.remember(&dataset.namespace, &dataset.name, state.id);
    let written = |s: &DatasetState| (s.current_version_id, s.last_written_at, s.last_writer_run_id.clone());
    let before = written(&state);

    let version_id = record_version(tx, &mut state, dataset, evidence).await?;

    for (namespace, name) in facets::symlinks(&dataset.facets) {
        if namespace != dataset.namespace || name != dataset.name {
            tx.add_alias(&namespace, &name, state.id, ctx.now).await?;
        }
    }

    let metrics = facets::metrics(dataset);
    let assertions = facets::assertions(dataset);
    let arrived = Arrived {
        write: false,
        schema: dataset.facets.contains_key("schema"),
        metrics: !metrics.is_empty(),
        assertions: !assertions.is_empty(),
    };
    let metrics: Vec<MetricObservation> = metrics
        .into_iter()
        .map(|metric| MetricObservation {
            dataset_id: state.id,
            run_id: evidence.run_id.map(str::to_string),
            source: metric.source.to_string(),
            column: metric.column,
            metric: metric.metric,
            value: metric.value,
            observed_at: at,
        })
        .collect();
    tx.upsert_metrics(&evidence.key, &metrics).await?;
    ctx.assertions(assertions.into_iter().map(|a| assertion_observation(state.id, evidence, a)).collect());

    if is_successful_write && state.last_written_at.is_none_or(|t| at >= t) {
        state.last_written_at = Some(at);
        state.last_writer_run_id = evidence.run_id.map(str::to_string);
    }
    // Most events name inputs without facets and without writing them: rewriting their rows
    // was a share of every event's cost. Facets, when there are any, are merged into the
    // stored ones (which are kept compressed) under the row's lock.
    if !dataset.facets.is_empty() || written(&state) != before {
        tx.save_dataset(&state, &dataset.facets, ctx.now).await?;
    } else {
        ctx.unchanged(state.id);
    }
    Ok((state.id, version_id, arrived))
}

/// Adds a version when the event reports a schema or version different from the current one,
/// and returns the version this event saw.
async fn record_version(
    tx: &WriteTx,
    state: &mut DatasetState,
    dataset: &Dataset,
    evidence: &Evidence<'_>,
) -> Result<Option<i64>, StoreError> {
    let Some((key, schema_hash)) = version_key(&dataset.facets) else {
        return Ok(state.current_version_id);
    };
    if state.current_version.as_deref() == Some(key.as_str()) {
        return Ok(state.current_version_id);
    }
    let schema = dataset.facets.get("schema").and_then(|s| s.get("fields")).cloned();
    let carries_schema = schema.is_some();
    let id = tx
        .insert_version(state.id, &key, schema_hash.as_deref(), schema, evidence.run_id, evidence.at)
        .await?;
    // A late event about an older version goes into history, not on top.
    if state.current_version_time.is_none_or(|t| evidence.at >= t) {
        state.current_version_id = Some(id);
        state.current_version = Some(key);
        state.current_version_time = Some(evidence.at);
        if carries_schema {
            state.schema_version_id = Some(id);
        }
    }
    Ok(Some(id))
}

fn assertion_observation(dataset_id: DatasetId, evidence: &Evidence<'_>, assertion: facets::Assertion) -> AssertionObservation {
    AssertionObservation {
        dataset_id,
        run_id: evidence.run_id.map(str::to_string),
        source: assertion.source.to_string(),
        assertion: assertion.assertion,
        column: assertion.column,
        success: assertion.success,
        severity: assertion.severity,
        details: assertion.details,
        observed_at: evidence.at,
    }
}

/// The `test` run facet (dbt) records test results without always naming the dataset; when it
/// does not, they belong to the run's single input (a dbt test job reads the model it tests).
async fn run_test_facet(
    ctx: &Context<'_>,
    run_facets: &crate::openlineage::Facets,
    evidence: &Evidence<'_>,
    inputs: &[DatasetId],
) -> Result<(), StoreError> {
    for test in facets::run_test_assertions(run_facets) {
        let dataset_id = match &test.dataset {
            Some((namespace, name)) => ctx.dataset_id(namespace, name).await?,
            None if inputs.len() == 1 => inputs[0],
            None => continue,
        };
        ctx.assertions(vec![assertion_observation(dataset_id, evidence, test.assertion)]);
        ctx.touch(dataset_id, Arrived { assertions: true, ..Arrived::default() });
    }
    Ok(())
}

async fn column_lineage(ctx: &Context<'_>, output: DatasetId, dataset: &Dataset) -> Result<(), StoreError> {
    let mut edges = Vec::new();
    for entry in facets::column_lineage(&dataset.facets) {
        for input in entry.inputs {
            let input_id = if input.namespace == dataset.namespace && input.name == dataset.name {
                output
            } else {
                ctx.dataset_id(&input.namespace, &input.name).await?
            };
            edges.push(ColumnEdge {
                dataset_id: output,
                field: entry.output_field.clone(),
                input_dataset_id: input_id,
                input_field: input.field,
                transformation_type: input.transformation_type,
                transformation_subtype: input.transformation_subtype,
                description: input.description,
            });
        }
    }
    ctx.tx.upsert_column_edges(&edges, ctx.event.event_time).await
}
