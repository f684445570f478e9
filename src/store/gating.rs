//! Reads and writes of the gate: health as of a time, writers, taint, waivers, decisions and
//! violations. The reads live on [`Snapshot`], so the same code answers a gate request (on
//! the pool) and judges a run inside the ingest transaction that is storing it.


use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseExecutor, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};

use super::entities::{
    check_result, dataset, dataset_alias, gate_decision, gate_violation, job, latest_check, lineage_edge, rule, run,
    run_io, run_taint, waiver,
};
use super::convert::{dataset_of, run_of};
use super::in_list;
use super::packed_json::{pack, unpack};
use super::quality::check_record;
use super::{Store, StoreError, WriteTx};
use crate::gate::model::{Decision, GateDecision, GateViolation, RunTaint, Waiver};
use crate::model::{Dataset, DatasetId, DatasetRef, Direction, Job, JobId, NamedDataset, Run, RunState};
use crate::quality::records::{CheckResult, RuleRecord};

/// A read view: the pool, or an open write transaction (which sees its own changes).
pub struct Snapshot<'a> {
    pub(super) exec: DatabaseExecutor<'a>,
    /// Inside a write transaction, what it has learnt (datasets' names).
    pub(super) memo: Option<&'a std::sync::Mutex<super::write::TxMemo>>,
}

impl Store {
    pub fn snapshot(&self) -> Snapshot<'_> {
        Snapshot { exec: DatabaseExecutor::from(&self.db), memo: None }
    }
}

impl WriteTx {
    pub fn snapshot(&self) -> Snapshot<'_> {
        Snapshot { exec: DatabaseExecutor::from(&self.tx), memo: Some(&self.memo) }
    }
}

fn waiver_of(row: waiver::Model) -> Waiver {
    Waiver {
        id: row.id,
        dataset_id: DatasetId(row.dataset_id),
        rule_id: row.rule_id,
        reason: row.reason,
        author: row.author,
        created_at: row.created_at,
        expires_at: row.expires_at,
        revoked_at: row.revoked_at,
        revoked_by: row.revoked_by,
    }
}

fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// The run that last wrote a dataset successfully.
#[derive(Debug, Clone, PartialEq)]
pub struct Writer {
    pub run_id: String,
    pub job_id: JobId,
    pub ended_at: DateTime<Utc>,
}

impl Snapshot<'_> {
    pub async fn rules(&self) -> Result<Vec<RuleRecord>, StoreError> {
        let rows = rule::Entity::find().order_by_asc(rule::Column::Id).all(&self.exec).await?;
        rows.into_iter().map(super::quality::rule_record).collect()
    }

    pub async fn dataset(&self, id: DatasetId) -> Result<Option<Dataset>, StoreError> {
        dataset::Entity::find_by_id(id.0).one(&self.exec).await?.map(dataset_of).transpose()
    }

    pub async fn datasets(&self, ids: &[DatasetId]) -> Result<Vec<Dataset>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = dataset::Entity::find()
            .filter(dataset::Column::Id.is_in(ids.iter().map(|d| d.0)))
            .order_by_asc(dataset::Column::Namespace)
            .order_by_asc(dataset::Column::Name)
            .all(&self.exec)
            .await?;
        rows.into_iter().map(dataset_of).collect()
    }

    /// By identity or alias.
    pub async fn dataset_by_ref(&self, namespace: &str, name: &str) -> Result<Option<Dataset>, StoreError> {
        let found = dataset::Entity::find()
            .filter(dataset::Column::Namespace.eq(namespace))
            .filter(dataset::Column::Name.eq(name))
            .one(&self.exec)
            .await?;
        if let Some(found) = found {
            return dataset_of(found).map(Some);
        }
        match self.alias_target(namespace, name).await? {
            Some(id) => self.dataset(id).await,
            None => Ok(None),
        }
    }

    /// By identity or alias, only what names the dataset: its facets are neither read nor
    /// unpacked (the gate and lineage look inputs up this way on every request).
    pub async fn named_dataset_by_ref(&self, namespace: &str, name: &str) -> Result<Option<NamedDataset>, StoreError> {
        let named = |condition: Condition| {
            dataset::Entity::find()
                .select_only()
                .columns([dataset::Column::Id, dataset::Column::Namespace, dataset::Column::Name])
                .filter(condition)
                .into_tuple::<(i64, String, String)>()
                .one(&self.exec)
        };
        let mut found = named(Condition::all().add(dataset::Column::Namespace.eq(namespace)).add(dataset::Column::Name.eq(name))).await?;
        if found.is_none()
            && let Some(id) = self.alias_target(namespace, name).await?
        {
            found = named(Condition::all().add(dataset::Column::Id.eq(id.0))).await?;
        }
        Ok(found.map(|(id, namespace, name)| NamedDataset { id: DatasetId(id), namespace, name }))
    }

    /// The dataset an alias names.
    async fn alias_target(&self, namespace: &str, name: &str) -> Result<Option<DatasetId>, StoreError> {
        let alias = dataset_alias::Entity::find()
            .filter(dataset_alias::Column::Namespace.eq(namespace))
            .filter(dataset_alias::Column::Name.eq(name))
            .one(&self.exec)
            .await?;
        Ok(alias.map(|a| DatasetId(a.dataset_id)))
    }

    pub async fn job_by_ref(&self, namespace: &str, name: &str) -> Result<Option<Job>, StoreError> {
        let found = job::Entity::find()
            .filter(job::Column::Namespace.eq(namespace))
            .filter(job::Column::Name.eq(name))
            .one(&self.exec)
            .await?;
        Ok(found.map(Into::into))
    }

    pub async fn job(&self, id: JobId) -> Result<Option<Job>, StoreError> {
        Ok(job::Entity::find_by_id(id.0).one(&self.exec).await?.map(Into::into))
    }

    /// The job's current inputs (its most recent IO set).
    pub async fn current_inputs(&self, job: JobId) -> Result<Vec<DatasetId>, StoreError> {
        let ids: Vec<i64> = lineage_edge::Entity::find()
            .select_only()
            .column(lineage_edge::Column::DatasetId)
            .filter(lineage_edge::Column::JobId.eq(job.0))
            .filter(lineage_edge::Column::Direction.eq(Direction::Input.as_str()))
            .filter(lineage_edge::Column::RetiredAt.is_null())
            .into_tuple()
            .all(&self.exec)
            .await?;
        Ok(ids.into_iter().map(DatasetId).collect())
    }

    /// The job's current outputs.
    pub async fn current_outputs(&self, job: JobId) -> Result<Vec<DatasetId>, StoreError> {
        let ids: Vec<i64> = lineage_edge::Entity::find()
            .select_only()
            .column(lineage_edge::Column::DatasetId)
            .filter(lineage_edge::Column::JobId.eq(job.0))
            .filter(lineage_edge::Column::Direction.eq(Direction::Output.as_str()))
            .filter(lineage_edge::Column::RetiredAt.is_null())
            .into_tuple()
            .all(&self.exec)
            .await?;
        Ok(ids.into_iter().map(DatasetId).collect())
    }

    /// The latest result of each rule on each of `datasets` whose evidence is no later than
    /// `as_of` (the latest of all when `None`), by dataset (in the order given: pass them
    /// sorted and without repeats) and then rule. One statement per chunk of `in_list` on
    /// SQLite, two on PostgreSQL (see below), whatever the number of datasets: the gate and a
    /// run's verdict ask this for every input, and a statement per input was a round trip per
    /// input of every START and COMPLETE ingested.
    pub async fn checks_as_of(&self, datasets: &[DatasetId], as_of: Option<DateTime<Utc>>) -> Result<Vec<CheckResult>, StoreError> {
        let ids: Vec<i64> = datasets.iter().map(|d| d.0).collect();
        let backend = self.exec.get_database_backend();
        let mut found = Vec::new();
        for list in in_list::chunks(&ids) {
            let latest = match as_of {
                None => Query::select()
                    .column(latest_check::Column::CheckResultId)
                    .from(latest_check::Entity)
                    .and_where(latest_check::Column::DatasetId.is_in(list))
                    .to_owned(),
                // Every rule that ever had a result on a dataset has a latest_checks row; for
                // each, one indexed lookup of its latest result as of `t` (a correlated
                // subquery). Reading the dataset's results newest first instead cost as much
                // as the results since `t` (every event adds some).
                Some(t) => {
                    let earlier = Alias::new("earlier");
                    let at = |column: check_result::Column| Expr::col((earlier.clone(), column));
                    let latest_as_of = Query::select()
                        .column((earlier.clone(), check_result::Column::Id))
                        .from_as(check_result::Entity, earlier.clone())
                        .and_where(at(check_result::Column::DatasetId).equals((latest_check::Entity, latest_check::Column::DatasetId)))
                        .and_where(at(check_result::Column::RuleId).equals((latest_check::Entity, latest_check::Column::RuleId)))
                        .and_where(at(check_result::Column::EvidenceTime).lte(t))
                        .order_by((earlier.clone(), check_result::Column::EvidenceTime), Order::Desc)
                        .order_by((earlier.clone(), check_result::Column::Id), Order::Desc)
                        .limit(1)
                        .to_owned();
                    Query::select()
                        .expr(Expr::SubQuery(None, Box::new(latest_as_of.into())))
                        .from(latest_check::Entity)
                        .and_where(Expr::col((latest_check::Entity, latest_check::Column::DatasetId)).is_in(list))
                        .to_owned()
                }
            };
            let rows = match backend {
                // PostgreSQL joined `id IN (latest)` by hashing the whole of check_results
                // when it guessed many latest rows for a few datasets (as on a young database
                // without statistics yet): 1.3 ms a read, about one read an event. The ids
                // come first, then their results by key. SQLite looks each id up by itself.
                DbBackend::Postgres => {
                    let mut ids = Vec::new();
                    for row in self.exec.query_all_raw(backend.build(&latest)).await? {
                        ids.extend(row.try_get_by_index::<Option<i64>>(0)?);
                    }
                    self.check_results_by_id(&ids).await?
                }
                _ => check_result::Entity::find()
                    .filter(check_result::Column::Id.in_subquery(latest))
                    .order_by_asc(check_result::Column::DatasetId)
                    .order_by_asc(check_result::Column::RuleId)
                    .all(&self.exec)
                    .await?,
            };
            found.extend(rows.into_iter().map(check_record));
        }
        Ok(found)
    }

    /// The check results with these ids, by dataset and then rule.
    async fn check_results_by_id(&self, ids: &[i64]) -> Result<Vec<check_result::Model>, StoreError> {
        let mut rows = Vec::with_capacity(ids.len());
        for list in in_list::chunks(ids) {
            rows.extend(check_result::Entity::find().filter(check_result::Column::Id.is_in(list)).all(&self.exec).await?);
        }
        rows.sort_by(|a, b| (a.dataset_id, &a.rule_id).cmp(&(b.dataset_id, &b.rule_id)));
        Ok(rows)
    }

    /// The latest COMPLETE run that wrote the dataset and ended no later than `as_of`.
    pub async fn writer_as_of(&self, dataset: DatasetId, as_of: Option<DateTime<Utc>>) -> Result<Option<Writer>, StoreError> {
        let found = writer_query(dataset, as_of).one(&self.exec).await?;
        Ok(found.and_then(|r| Some(Writer { ended_at: r.ended_at?, run_id: r.id, job_id: JobId(r.job_id) })))
    }

    /// The taint verdict of [`Snapshot::writer_as_of`]'s run for each of `datasets` that has
    /// one: what a dataset inherits, asked for every input of every run the gate judges. At
    /// most two statements per chunk of `in_list`, whatever the number of datasets: their
    /// writers, then those writers' verdicts by key. (One statement joining the two let
    /// PostgreSQL hash the whole of `run_taints` for every decision.)
    pub async fn writer_taints_as_of(&self, datasets: &[DatasetId], as_of: Option<DateTime<Utc>>) -> Result<Vec<(DatasetId, RunTaint)>, StoreError> {
        let ids: Vec<i64> = datasets.iter().map(|d| d.0).collect();
        let mut found = Vec::new();
        for list in in_list::chunks(&ids) {
            // Each dataset's writer as of `as_of`: a subquery correlated with its row.
            let writer = writer_runs(Expr::col((dataset::Entity, dataset::Column::Id)), as_of)
                .select_only()
                .column(run::Column::Id)
                .limit(1)
                .into_query();
            let writers: Vec<(i64, Option<String>)> = dataset::Entity::find()
                .select_only()
                .column(dataset::Column::Id)
                .column_as(Expr::SubQuery(None, Box::new(writer.into())), "writer_run_id")
                .filter(dataset::Column::Id.is_in(list))
                .into_tuple()
                .all(&self.exec)
                .await?;
            let mut runs: Vec<String> = writers.iter().filter_map(|(_, run)| run.clone()).collect();
            runs.sort();
            runs.dedup();
            let mut taints = std::collections::HashMap::new();
            for runs in in_list::chunks(&runs) {
                for row in run_taint::Entity::find().filter(run_taint::Column::RunId.is_in(runs)).all(&self.exec).await? {
                    taints.insert(row.run_id.clone(), run_taint_of(row)?);
                }
            }
            for (dataset, run) in writers {
                if let Some(taint) = run.and_then(|r| taints.get(&r)) {
                    found.push((DatasetId(dataset), taint.clone()));
                }
            }
        }
        Ok(found)
    }

    pub async fn check_result(&self, id: i64) -> Result<Option<CheckResult>, StoreError> {
        Ok(check_result::Entity::find_by_id(id).one(&self.exec).await?.map(check_record))
    }

    pub async fn run(&self, id: &str) -> Result<Option<Run>, StoreError> {
        run::Entity::find_by_id(id.to_string()).one(&self.exec).await?.map(run_of).transpose()
    }

    pub async fn run_datasets(&self, run_id: &str, direction: Direction) -> Result<Vec<DatasetId>, StoreError> {
        let ids: Vec<i64> = run_io::Entity::find()
            .select_only()
            .column(run_io::Column::DatasetId)
            .filter(run_io::Column::RunId.eq(run_id))
            .filter(run_io::Column::Direction.eq(direction.as_str()))
            .order_by_asc(run_io::Column::DatasetId)
            .into_tuple()
            .all(&self.exec)
            .await?;
        Ok(ids.into_iter().map(DatasetId).collect())
    }

    /// COMPLETE runs that read the dataset and started at or after `since`: the runs whose
    /// taint a change of the dataset's health at `since` can affect.
    pub async fn complete_runs_reading(&self, dataset: DatasetId, since: DateTime<Utc>) -> Result<Vec<Run>, StoreError> {
        // A run's start is its START event, or its first event when START never came; the
        // database filters on it so that the cost follows the runs since `since`, not every
        // run that ever read the dataset.
        let started_since = Condition::any()
            .add(run::Column::StartedAt.gte(since))
            .add(Condition::all().add(run::Column::StartedAt.is_null()).add(run::Column::FirstEventTime.gte(since)));
        let rows = run::Entity::find()
            .filter(run::Column::Id.in_subquery(runs_with(dataset, Direction::Input)))
            .filter(run::Column::State.eq(RunState::Complete.as_str()))
            .filter(started_since)
            .order_by_asc(run::Column::FirstEventTime)
            .all(&self.exec)
            .await?;
        let runs = rows.into_iter().map(run_of).collect::<Result<Vec<Run>, StoreError>>()?;
        Ok(runs.into_iter().filter(|r| run_start(r) >= since).collect())
    }

    pub async fn run_taint(&self, run_id: &str) -> Result<Option<RunTaint>, StoreError> {
        run_taint::Entity::find_by_id(run_id.to_string()).one(&self.exec).await?.map(run_taint_of).transpose()
    }

    pub async fn waivers_of(&self, dataset: DatasetId) -> Result<Vec<Waiver>, StoreError> {
        let rows = waiver::Entity::find()
            .filter(waiver::Column::DatasetId.eq(dataset.0))
            .order_by_asc(waiver::Column::Id)
            .all(&self.exec)
            .await?;
        Ok(rows.into_iter().map(waiver_of).collect())
    }

    pub async fn waiver(&self, id: i64) -> Result<Option<Waiver>, StoreError> {
        Ok(waiver::Entity::find_by_id(id).one(&self.exec).await?.map(waiver_of))
    }

    pub async fn violation_of(&self, run_id: &str) -> Result<Option<GateViolation>, StoreError> {
        let found = gate_violation::Entity::find()
            .filter(gate_violation::Column::RunId.eq(run_id))
            .one(&self.exec)
            .await?;
        Ok(found.map(|v| GateViolation {
            run_id: v.run_id,
            decision_id: v.decision_id,
            event_time: v.event_time,
            detected_at: v.detected_at,
        }))
    }

    pub async fn decision(&self, id: i64) -> Result<Option<GateDecision>, StoreError> {
        gate_decision::Entity::find_by_id(id).one(&self.exec).await?.map(decision_of).transpose()
    }
}

/// The latest COMPLETE run that wrote `dataset` and ended no later than `as_of`, newest first.
pub(super) fn writer_query(dataset: DatasetId, as_of: Option<DateTime<Utc>>) -> sea_orm::Select<run::Entity> {
    writer_runs(Expr::val(dataset.0), as_of)
}

/// [`writer_query`] where `dataset` is an expression: a bound value, or an outer query's
/// column (a correlated subquery).
fn writer_runs(dataset: Expr, as_of: Option<DateTime<Utc>>) -> sea_orm::Select<run::Entity> {
    let query = run::Entity::find()
        .filter(run::Column::Id.in_subquery(runs_on(dataset, Direction::Output)))
        .filter(run::Column::State.eq(RunState::Complete.as_str()))
        .filter(run::Column::EndedAt.is_not_null())
        .order_by_desc(run::Column::EndedAt)
        .order_by_desc(run::Column::Id);
    match as_of {
        Some(t) => query.filter(run::Column::EndedAt.lte(t)),
        None => query,
    }
}

fn run_taint_of(r: run_taint::Model) -> Result<RunTaint, StoreError> {
    let path = unpack(&r.path_zstd, || format!("run {}: taint path", r.run_id))?;
    Ok(RunTaint {
        run_id: r.run_id,
        tainted: r.tainted,
        origin_dataset_id: r.origin_dataset_id.map(DatasetId),
        origin_rule_id: r.origin_rule_id,
        origin_check_id: r.origin_check_id,
        path,
        violation: r.violation,
    })
}

/// The ids of the runs that read (or wrote) `dataset`, as a subquery: one statement whose text
/// does not depend on how many runs there are (a list of their ids would grow with history and
/// defeat the statement cache).
pub(super) fn runs_with(dataset: DatasetId, direction: Direction) -> SelectStatement {
    runs_on(Expr::val(dataset.0), direction)
}

/// [`runs_with`] where `dataset` is an expression: a bound value, or an outer query's column.
fn runs_on(dataset: Expr, direction: Direction) -> SelectStatement {
    Query::select()
        .column(run_io::Column::RunId)
        .from(run_io::Entity)
        .and_where(Expr::col((run_io::Entity, run_io::Column::DatasetId)).eq(dataset))
        .and_where(run_io::Column::Direction.eq(direction.as_str()))
        .to_owned()
}

/// When a run started: its START event, else its first event (a COMPLETE without START).
pub fn run_start(run: &Run) -> DateTime<Utc> {
    run.started_at.unwrap_or(run.first_event_time)
}

fn decision_of(row: gate_decision::Model) -> Result<GateDecision, StoreError> {
    Ok(GateDecision {
        id: row.id,
        namespace: row.job_namespace,
        job: row.job_name,
        decision: if row.decision == Decision::Block.as_str() { Decision::Block } else { Decision::Allow },
        reasons: unpack(&row.reasons_zstd, || format!("gate decision {}: reasons", row.id))?,
        inputs: serde_json::from_value(row.inputs).map_err(corrupt)?,
        decided_at: row.decided_at,
        context: row.context,
        run_id: row.run_id,
    })
}

impl Store {
    /// Recorded decisions for a job, newest first.
    pub async fn decisions_of(&self, namespace: &str, job: &str, offset: u64, first: u64) -> Result<crate::model::Page<GateDecision>, StoreError> {
        let mut rows = gate_decision::Entity::find()
            .filter(gate_decision::Column::JobNamespace.eq(namespace))
            .filter(gate_decision::Column::JobName.eq(job))
            .order_by_desc(gate_decision::Column::DecidedAt)
            .order_by_desc(gate_decision::Column::Id)
            .offset(offset)
            .limit(first + 1)
            .all(&self.db)
            .await?;
        let has_next = rows.len() as u64 > first;
        rows.truncate(first as usize);
        let items = rows.into_iter().map(decision_of).collect::<Result<Vec<_>, _>>()?;
        Ok(crate::model::Page { items, has_next })
    }
}

impl WriteTx {
    pub async fn save_run_taint(&self, taint: &RunTaint, now: DateTime<Utc>) -> Result<(), StoreError> {
        let row = run_taint::ActiveModel {
            run_id: Set(taint.run_id.clone()),
            tainted: Set(taint.tainted),
            origin_dataset_id: Set(taint.origin_dataset_id.map(|d| d.0)),
            origin_rule_id: Set(taint.origin_rule_id.clone()),
            origin_check_id: Set(taint.origin_check_id),
            path_zstd: Set(pack(&taint.path)?),
            violation: Set(taint.violation),
            computed_at: Set(now),
        };
        use run_taint::Column as C;
        run_taint::Entity::insert(row)
            .on_conflict(
                OnConflict::column(C::RunId)
                    .update_columns([C::Tainted, C::OriginDatasetId, C::OriginRuleId, C::OriginCheckId, C::PathZstd, C::Violation, C::ComputedAt])
                    .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await?;
        Ok(())
    }

    pub async fn insert_waiver(&self, w: &Waiver) -> Result<Waiver, StoreError> {
        let row = waiver::ActiveModel {
            dataset_id: Set(w.dataset_id.0),
            rule_id: Set(w.rule_id.clone()),
            reason: Set(w.reason.clone()),
            author: Set(w.author.clone()),
            created_at: Set(w.created_at),
            expires_at: Set(w.expires_at),
            revoked_at: Set(None),
            revoked_by: Set(None),
            ..Default::default()
        }
        .insert(&self.tx)
        .await?;
        Ok(waiver_of(row))
    }

    pub async fn revoke_waiver(&self, id: i64, by: &str, at: DateTime<Utc>) -> Result<Option<Waiver>, StoreError> {
        let Some(found) = waiver::Entity::find_by_id(id).one(&self.tx).await? else {
            return Ok(None);
        };
        if found.revoked_at.is_some() {
            return Ok(Some(waiver_of(found)));
        }
        let mut active: waiver::ActiveModel = found.into();
        active.revoked_at = Set(Some(at));
        active.revoked_by = Set(Some(by.to_string()));
        Ok(Some(waiver_of(active.update(&self.tx).await?)))
    }

    /// Stores a decision and returns it with its id.
    pub async fn record_decision(&self, decision: &GateDecision) -> Result<GateDecision, StoreError> {
        let row = gate_decision::ActiveModel {
            job_namespace: Set(decision.namespace.clone()),
            job_name: Set(decision.job.clone()),
            decision: Set(decision.decision.as_str().to_string()),
            reasons_zstd: Set(pack(&decision.reasons)?),
            inputs: Set(serde_json::to_value(&decision.inputs).map_err(corrupt)?),
            context: Set(decision.context.clone()),
            run_id: Set(decision.run_id.clone()),
            decided_at: Set(decision.decided_at),
            ..Default::default()
        }
        .insert(&self.tx)
        .await?;
        decision_of(row)
    }

    /// Records a violation once per run (a second START of the same run changes nothing).
    pub async fn record_violation(&self, run_id: &str, job: JobId, decision_id: i64, event_time: DateTime<Utc>, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let row = gate_violation::ActiveModel {
            run_id: Set(run_id.to_string()),
            job_id: Set(job.0),
            decision_id: Set(decision_id),
            event_time: Set(event_time),
            detected_at: Set(now),
            ..Default::default()
        };
        let inserted = gate_violation::Entity::insert(row)
            .on_conflict(OnConflict::column(gate_violation::Column::RunId).do_nothing().to_owned())
            .exec_without_returning(&self.tx)
            .await?;
        Ok(inserted > 0)
    }
}

/// Reasons mention datasets by identity.
pub fn reference(dataset: &Dataset) -> DatasetRef {
    DatasetRef { namespace: dataset.namespace.clone(), name: dataset.name.clone() }
}
