//! One write transaction: the primitive changes that ingestion composes.
//!
//! Ingestion decides *what* changes (state transitions, versions, current edges); this file
//! only knows *how* to read and write the rows. Rows that several concurrent events may touch
//! are created with `INSERT .. ON CONFLICT DO NOTHING` (and read back when another writer
//! inserted them first), and on PostgreSQL
//! the job row is locked first (`FOR UPDATE`), so two events of one job apply one after the
//! other while events of different jobs run in parallel.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::{NotSet, Set}, ColumnTrait, DatabaseTransaction, EntityTrait,
    FromQueryResult, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};
use serde_json::{Map, Value};

use super::entities::{
    assertion_observation, column_lineage, dataset, dataset_alias, dataset_version, graph_state, job,
    lineage_edge, namespace, raw_event, run, run_io,
};
use super::assertion_details;
use super::packed_json::{pack, unpack};
use super::{Backend, Store, StoreError};
use crate::model::{
    AssertionObservation, ColumnEdge, DatasetId, Direction, JobId, RunState,
};

/// An open write transaction. Dropping it without [`WriteTx::commit`] rolls back.
pub struct WriteTx {
    pub(super) tx: DatabaseTransaction,
    /// On SQLite, this process's write turn ([`Store`]'s `write_lock`), released after the
    /// transaction ends (fields drop in order).
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    /// The latest results this transaction (not an enclosing one) recorded.
    pub(super) recorded: super::recorded_checks::RecordedChecks,
    /// What this transaction has learnt and need not ask again, shared with its savepoints
    /// (see [`TxMemo`]).
    pub(super) memo: std::sync::Arc<std::sync::Mutex<TxMemo>>,
    /// Whether this transaction or one of its savepoints added or retired lineage edges: its
    /// commit then gives them the graph's next generation (see [`WriteTx::commit`]).
    graph_changed: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// A savepoint: its commit only releases it.
    nested: bool,
    /// Datasets events of this transaction named without changing them, and the latest of
    /// those events' times: marked updated once, at commit ([`WriteTx::mark_datasets_updated`]).
    untouched: std::sync::Mutex<Untouched>,
}

/// See [`WriteTx::mark_datasets_updated`].
#[derive(Default)]
struct Untouched {
    ids: rustc_hash::FxHashSet<i64>,
    at: Option<DateTime<Utc>>,
}

/// The `generation` of an edge row changed by a transaction that has not committed yet.
const PENDING_GENERATION: i64 = -1;

/// What a write transaction remembers across the events of a group commit (each applied in a
/// savepoint of its own once one has failed). A savepoint that rolls back makes it forget
/// everything, since what it read may have included its own changes, now undone.
#[derive(Default)]
pub(super) struct TxMemo {
    /// The rules as last read: every event evaluates the same rules, and each read them twice
    /// (the rules and the gate). Changing a rule through this transaction forgets them.
    pub(super) rules: Option<Vec<crate::quality::records::RuleRecord>>,
    /// The ids of rules ever deleted (see `WriteTx::deleted_rules`), forgotten with `rules`.
    pub(super) deleted_rules: Option<rustc_hash::FxHashSet<String>>,
    /// Namespaces made sure to exist: the events name the same few namespaces, and each name
    /// cost an insert round trip per dataset and job (three an event).
    namespaces: rustc_hash::FxHashSet<String>,
    /// Ids of jobs made sure to exist by name (parents): an orchestrator's tasks name the same
    /// parent job (the DAG) in every event, and each read its whole row again.
    jobs: rustc_hash::FxHashMap<(String, String), JobId>,
    /// The identity of datasets this transaction found or created by identity: the rules, the
    /// gate and taint name an event's datasets again (two reads an event).
    pub(super) dataset_names: rustc_hash::FxHashMap<DatasetId, (String, String)>,
}

impl WriteTx {
    /// Remembers that dataset `id` is `namespace`/`name` (its own identity, not an alias).
    fn remember_dataset(&self, id: i64, namespace: &str, name: &str) {
        if let Ok(mut memo) = self.memo.lock() {
            memo.dataset_names.entry(DatasetId(id)).or_insert_with(|| (namespace.to_string(), name.to_string()));
        }
    }
}

/// The raw event as it is archived.
pub struct InsertedRaw<'a> {
    pub event_hash: &'a str,
    pub kind: &'a str,
    pub event_time: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub run_id: Option<&'a str>,
    pub job_namespace: Option<&'a str>,
    pub job_name: Option<&'a str>,
    pub raw_bytes: i64,
    pub payload: Vec<u8>,
}

/// The mutable state of a job row, read under lock and written back by [`WriteTx::save_job`].
#[derive(Debug, Clone)]
pub struct JobState {
    pub id: JobId,
    pub parent_job_id: Option<JobId>,
    pub facets: Value,
    pub current_io_key: Option<String>,
    pub current_io_time: Option<DateTime<Utc>>,
    pub latest_run_id: Option<String>,
}

/// The mutable state of a dataset row. Its facets are kept as stored (compressed): only an
/// event that brings facets unpacks them, to merge its own in ([`WriteTx::save_dataset`]).
#[derive(Debug, Clone)]
pub struct DatasetState {
    pub id: DatasetId,
    /// A version whose schema becomes the current one; `None` leaves the stored one as it is
    /// (it is not read: nothing in ingestion needs it).
    pub schema_version_id: Option<i64>,
    pub current_version_id: Option<i64>,
    pub current_version: Option<String>,
    pub current_version_time: Option<DateTime<Utc>>,
    pub last_written_at: Option<DateTime<Utc>>,
    pub last_writer_run_id: Option<String>,
    /// The merged facets as read under lock, one zstd frame; empty for a row inserted by this
    /// transaction (no facets yet).
    facets_zstd: Vec<u8>,
}

impl DatasetState {
    /// A dataset row as it is first inserted: no version, never written, no facets.
    fn new(id: DatasetId) -> DatasetState {
        DatasetState {
            id,
            schema_version_id: None,
            current_version_id: None,
            current_version: None,
            current_version_time: None,
            last_written_at: None,
            last_writer_run_id: None,
            facets_zstd: Vec::new(),
        }
    }
}

/// A run row as ingestion reads and writes it.
#[derive(Debug, Clone)]
pub struct RunRecord {
    pub id: String,
    pub raw_run_id: String,
    pub job_id: JobId,
    pub state: RunState,
    pub state_time: DateTime<Utc>,
    pub first_event_time: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub nominal_start_time: Option<DateTime<Utc>>,
    pub nominal_end_time: Option<DateTime<Utc>>,
    pub error_message: Option<String>,
    pub parent_run_id: Option<String>,
    pub facets: Value,
}

/// A dataset row as ingestion reads it, with its current version's key and time.
#[derive(FromQueryResult)]
struct LockedDataset {
    id: i64,
    current_version_id: Option<i64>,
    current_version: Option<String>,
    current_version_time: Option<DateTime<Utc>>,
    last_written_at: Option<DateTime<Utc>>,
    last_writer_run_id: Option<String>,
    facets_zstd: Vec<u8>,
}

/// What [`WriteTx::insert_dataset`] found: the id of the row it inserted, or of the row
/// another writer had inserted first.
enum Inserted {
    New(i64),
    AlreadyThere(i64),
}

/// The dataset row matching `filter`, locked for update, with its current version read by a
/// subquery in the same statement (a second statement for every dataset of every event before).
fn locked_dataset(filter: impl sea_orm::sea_query::IntoCondition) -> sea_orm::Selector<sea_orm::SelectModel<LockedDataset>> {
    use sea_orm::sea_query::{ExprTrait, Query};
    let version_column = |column: dataset_version::Column| {
        let select = Query::select()
            .column((dataset_version::Entity, column))
            .from(dataset_version::Entity)
            .and_where(Expr::col((dataset_version::Entity, dataset_version::Column::Id)).equals((dataset::Entity, dataset::Column::CurrentVersionId)))
            .to_owned();
        Expr::SubQuery(None, Box::new(select.into()))
    };
    dataset::Entity::find()
        .select_only()
        .columns([
            dataset::Column::Id,
            dataset::Column::CurrentVersionId,
            dataset::Column::LastWrittenAt,
            dataset::Column::LastWriterRunId,
            dataset::Column::FacetsZstd,
        ])
        .column_as(version_column(dataset_version::Column::Version), "current_version")
        .column_as(version_column(dataset_version::Column::CreatedAt), "current_version_time")
        .filter(filter)
        .lock_exclusive()
        .into_model::<LockedDataset>()
}

/// The rows of one run's inputs and outputs, read once per event (see [`WriteTx::run_io_rows`]),
/// changed in memory by [`RunIoRows::record`] and written back by [`WriteTx::save_run_io`].
pub struct RunIoRows {
    rows: Vec<run_io::Model>,
    /// Indexes of the rows `record` added or changed since the last save.
    changed: Vec<usize>,
}

impl RunIoRows {
    /// A run that has recorded nothing yet.
    pub fn none() -> RunIoRows {
        RunIoRows { rows: Vec::new(), changed: Vec::new() }
    }

    /// Everything the run has read and written, in the order it was first recorded.
    pub fn pairs(&self) -> Vec<(DatasetId, Direction)> {
        self.rows.iter().map(|r| (DatasetId(r.dataset_id), Direction::parse(&r.direction))).collect()
    }

    /// Records that the run read or wrote a dataset (a version of it, when known) at `seen`.
    pub fn record(&mut self, run_id: &str, dataset_id: DatasetId, direction: Direction, version_id: Option<i64>, seen: DateTime<Utc>) {
        let existing = self.rows.iter().position(|r| r.dataset_id == dataset_id.0 && r.direction == direction.as_str());
        let index = match existing {
            Some(index) => {
                let found = &mut self.rows[index];
                let before = (found.first_seen, found.last_seen, found.dataset_version_id);
                found.first_seen = found.first_seen.min(seen);
                found.last_seen = found.last_seen.max(seen);
                if version_id.is_some() {
                    found.dataset_version_id = version_id;
                }
                if before == (found.first_seen, found.last_seen, found.dataset_version_id) {
                    return;
                }
                index
            }
            None => {
                self.rows.push(run_io::Model {
                    id: 0,
                    run_id: run_id.to_string(),
                    dataset_id: dataset_id.0,
                    direction: direction.as_str().to_string(),
                    dataset_version_id: version_id,
                    first_seen: seen,
                    last_seen: seen,
                });
                self.rows.len() - 1
            }
        };
        if !self.changed.contains(&index) {
            self.changed.push(index);
        }
    }
}

/// A current lineage edge of a job, as read for replacement.
#[derive(Debug, Clone)]
pub struct EdgeSpec {
    pub id: i64,
    pub dataset_id: DatasetId,
    pub direction: Direction,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

/// Rows inserted or updated at most once per event are small; the DB round trip dominates.
impl Store {
    /// Starts a write transaction. On SQLite it is `BEGIN IMMEDIATE`, which takes the write
    /// lock up front: a deferred transaction that upgrades later can fail with SQLITE_BUSY
    /// instead of waiting for the other writer.
    pub async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        let options = TransactionOptions {
            isolation_level: None,
            access_mode: None,
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        };
        let turn = match self.backend {
            Backend::Sqlite => Some(self.write_lock.clone().lock_owned().await),
            Backend::Postgres => None,
        };
        let tx = self.write_connections().begin_with_options(options).await?;
        Ok(WriteTx {
            tx,
            _turn: turn,
            recorded: Default::default(),
            memo: Default::default(),
            graph_changed: Default::default(),
            nested: false,
            untouched: Default::default(),
        })
    }
}

/// Rows are written back with `exec_without_returning`: `ActiveModel::update` reads the whole
/// row back (`RETURNING *`), and decoding a dataset's merged facets again after every write
/// was a visible share of each event's cost.
impl WriteTx {
    /// Commits. When edges changed, the graph's generation goes up by one first and the
    /// changed edges take it: a replica that has seen generation *g* then catches up on the
    /// rows above *g*. Bumped last, the `graph_state` row (which every edge-changing writer
    /// must lock on PostgreSQL) is held only for the commit, and generations are committed in
    /// the order they are taken.
    pub async fn commit(self) -> Result<(), StoreError> {
        if !self.nested {
            self.mark_untouched_updated().await?;
        }
        if !self.nested && self.graph_changed.load(std::sync::atomic::Ordering::Relaxed) {
            self.stamp_graph_changes().await?;
        }
        self.tx.commit().await?;
        Ok(())
    }

    async fn stamp_graph_changes(&self) -> Result<(), StoreError> {
        use sea_orm::sea_query::ExprTrait;
        graph_state::Entity::update_many()
            .col_expr(graph_state::Column::Generation, Expr::col(graph_state::Column::Generation).add(1))
            .exec(&self.tx)
            .await?;
        let generation = self.snapshot().graph_generation().await?;
        lineage_edge::Entity::update_many()
            .col_expr(lineage_edge::Column::Generation, Expr::val(generation))
            .filter(lineage_edge::Column::Generation.eq(PENDING_GENERATION))
            .exec(&self.tx)
            .await?;
        Ok(())
    }

    fn mark_graph_changed(&self) {
        self.graph_changed.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    pub async fn rollback(self) -> Result<(), StoreError> {
        // A savepoint shares its memo with its transaction (see `TxMemo`).
        if let Ok(mut memo) = self.memo.lock() {
            *memo = TxMemo::default();
        }
        self.tx.rollback().await?;
        Ok(())
    }

    /// A savepoint inside this transaction, used like a transaction: its `commit` releases it
    /// (its changes become part of this transaction), its `rollback` undoes only what was done
    /// since it was taken. The write turn stays with the outer transaction. It starts with
    /// nothing recorded: the outer transaction is not used while a savepoint is open, and what
    /// the savepoint records would be wrong there after a rollback.
    pub async fn savepoint(&self) -> Result<WriteTx, StoreError> {
        Ok(WriteTx {
            tx: TransactionTrait::begin(&self.tx).await?,
            _turn: None,
            recorded: Default::default(),
            memo: self.memo.clone(),
            graph_changed: self.graph_changed.clone(),
            nested: true,
            untouched: Default::default(),
        })
    }

    /// Archives the raw event. Returns false when an identical event is already stored
    /// (a client retry): the caller then changes nothing else.
    pub async fn insert_raw_event(&self, raw: InsertedRaw<'_>) -> Result<bool, StoreError> {
        let row = raw_event::ActiveModel {
            event_hash: Set(raw.event_hash.to_string()),
            kind: Set(raw.kind.to_string()),
            event_time: Set(raw.event_time),
            received_at: Set(raw.received_at),
            run_id: Set(raw.run_id.map(str::to_string)),
            job_namespace: Set(raw.job_namespace.map(str::to_string)),
            job_name: Set(raw.job_name.map(str::to_string)),
            raw_bytes: Set(raw.raw_bytes),
            payload: Set(raw.payload),
            ..Default::default()
        };
        let inserted = raw_event::Entity::insert(row)
            .on_conflict(OnConflict::column(raw_event::Column::EventHash).do_nothing().to_owned())
            .exec_without_returning(&self.tx)
            .await?;
        Ok(inserted > 0)
    }

    pub async fn ensure_namespace(&self, name: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        if self.memo.lock().is_ok_and(|memo| memo.namespaces.contains(name)) {
            return Ok(());
        }
        let row = namespace::ActiveModel {
            name: Set(name.to_string()),
            created_at: Set(now),
            ..Default::default()
        };
        namespace::Entity::insert(row)
            .on_conflict(OnConflict::column(namespace::Column::Name).do_nothing().to_owned())
            .exec_without_returning(&self.tx)
            .await?;
        if let Ok(mut memo) = self.memo.lock() {
            memo.namespaces.insert(name.to_string());
        }
        Ok(())
    }

    /// Creates the job if needed and returns its state, locked until commit on PostgreSQL.
    pub async fn lock_job(
        &self,
        namespace: &str,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<JobState, StoreError> {
        let found = self.find_or_insert_locked_job(namespace, name, now).await?;
        Ok(JobState {
            id: JobId(found.id),
            parent_job_id: found.parent_job_id.map(JobId),
            facets: found.facets,
            current_io_key: found.current_io_key,
            current_io_time: found.current_io_time,
            latest_run_id: found.latest_run_id,
        })
    }

    /// When a run was first seen (its earliest event), if it is stored. Only the time: the
    /// whole row would decode the run's facets for nothing.
    pub async fn run_first_event_time(&self, run_id: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let found = run::Entity::find_by_id(run_id.to_string())
            .select_only()
            .column(run::Column::FirstEventTime)
            .into_tuple::<DateTime<Utc>>()
            .one(&self.tx)
            .await?;
        Ok(found)
    }

    pub async fn save_job(&self, state: &JobState, now: DateTime<Utc>) -> Result<(), StoreError> {
        let row = job::ActiveModel {
            id: Set(state.id.0),
            parent_job_id: Set(state.parent_job_id.map(|j| j.0)),
            facets: Set(state.facets.clone()),
            ownership: Set(state.facets.get("ownership").cloned()),
            current_io_key: Set(state.current_io_key.clone()),
            current_io_time: Set(state.current_io_time),
            latest_run_id: Set(state.latest_run_id.clone()),
            updated_at: Set(now),
            ..Default::default()
        };
        job::Entity::update(row).exec_without_returning(&self.tx).await?;
        Ok(())
    }

    /// The dataset an identity (or one of its aliases) names, created if it is new.
    pub async fn upsert_dataset(
        &self,
        namespace: &str,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<DatasetState, StoreError> {
        // The row is read under lock: the caller merges facets and versions into it and writes
        // it back, and without the lock two events of different jobs touching the same dataset
        // on PostgreSQL would each overwrite the other's changes.
        let existing = locked_dataset(sea_orm::Condition::all().add(dataset::Column::Namespace.eq(namespace)).add(dataset::Column::Name.eq(name)))
            .one(&self.tx)
            .await?;
        let found = match existing {
            Some(found) => {
                self.remember_dataset(found.id, namespace, name);
                found
            }
            None => {
                let id = match self.alias_target(namespace, name).await? {
                    Some(found) => found.id,
                    None => {
                        let inserted = self.insert_dataset(namespace, name, now).await?;
                        let (Inserted::New(id) | Inserted::AlreadyThere(id)) = inserted;
                        self.remember_dataset(id, namespace, name);
                        if matches!(inserted, Inserted::New(_)) {
                            return Ok(DatasetState::new(DatasetId(id)));
                        }
                        id
                    }
                };
                locked_dataset(dataset::Column::Id.eq(id))
                    .one(&self.tx)
                    .await?
                    .ok_or_else(|| StoreError::Corrupt(format!("dataset {namespace}/{name} vanished")))?
            }
        };
        let (mut current_version, mut current_version_time) = (found.current_version, found.current_version_time);
        // On PostgreSQL, a read that waited for the row lock returns the row as the other
        // writer committed it, but its subqueries still see the statement's snapshot: a
        // version that writer added is not visible to them. A statement of its own sees it.
        if let Some(version_id) = found.current_version_id
            && current_version.is_none()
            && let Some(version) = dataset_version::Entity::find_by_id(version_id).one(&self.tx).await?
        {
            (current_version, current_version_time) = (Some(version.version), Some(version.created_at));
        }
        Ok(DatasetState {
            id: DatasetId(found.id),
            schema_version_id: None,
            current_version_id: found.current_version_id,
            current_version,
            current_version_time,
            last_written_at: found.last_written_at,
            last_writer_run_id: found.last_writer_run_id,
            facets_zstd: found.facets_zstd,
        })
    }

    /// The id of the dataset an identity (or alias) names, created if it is new; the row is
    /// neither read whole nor locked (for references: column lineage inputs, test targets).
    pub async fn ensure_dataset_id(&self, namespace: &str, name: &str, now: DateTime<Utc>) -> Result<DatasetId, StoreError> {
        let id = match self.dataset_id(namespace, name).await? {
            Some(id) => id,
            None => match self.alias_target(namespace, name).await? {
                Some(found) => return Ok(DatasetId(found.id)),
                None => match self.insert_dataset(namespace, name, now).await? {
                    Inserted::New(id) | Inserted::AlreadyThere(id) => id,
                },
            },
        };
        self.remember_dataset(id, namespace, name);
        Ok(DatasetId(id))
    }

    /// The id of the dataset with this identity (not an alias), without reading its row.
    async fn dataset_id(&self, namespace: &str, name: &str) -> Result<Option<i64>, StoreError> {
        Ok(dataset::Entity::find()
            .select_only()
            .column(dataset::Column::Id)
            .filter(dataset::Column::Namespace.eq(namespace))
            .filter(dataset::Column::Name.eq(name))
            .into_tuple()
            .one(&self.tx)
            .await?)
    }

    async fn alias_target(&self, namespace: &str, name: &str) -> Result<Option<dataset::Model>, StoreError> {
        let alias = dataset_alias::Entity::find()
            .filter(dataset_alias::Column::Namespace.eq(namespace))
            .filter(dataset_alias::Column::Name.eq(name))
            .one(&self.tx)
            .await?;
        match alias {
            Some(alias) => Ok(dataset::Entity::find_by_id(alias.dataset_id).one(&self.tx).await?),
            None => Ok(None),
        }
    }

    /// Inserts a dataset row, or finds the one another writer inserted first (PostgreSQL: the
    /// read waits for that writer to commit).
    async fn insert_dataset(
        &self,
        namespace: &str,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<Inserted, StoreError> {
        self.ensure_namespace(namespace, now).await?;
        let row = dataset::ActiveModel {
            namespace: Set(namespace.to_string()),
            name: Set(name.to_string()),
            facets_zstd: Set(pack(&Map::new())?),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        // The new row's id comes with the insert (`RETURNING` on PostgreSQL, the connection's
        // last row id on SQLite); a conflict inserts nothing and is reported as such.
        let inserted = dataset::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([dataset::Column::Namespace, dataset::Column::Name])
                    .do_nothing()
                    .to_owned(),
            )
            .exec(&self.tx)
            .await;
        match inserted {
            Ok(done) => Ok(Inserted::New(done.last_insert_id)),
            Err(sea_orm::DbErr::RecordNotInserted) => match self.dataset_id(namespace, name).await? {
                Some(id) => Ok(Inserted::AlreadyThere(id)),
                None => Err(StoreError::Corrupt(format!("dataset {namespace}/{name} vanished"))),
            },
            Err(e) => Err(e.into()),
        }
    }

    /// Marks datasets that an event named without changing them as updated at `now` (rather
    /// than rewriting each one's row and facets). In a transaction (not a savepoint) this is
    /// done once, at commit, for every event of a group commit, with the latest of their
    /// times: one statement a transaction instead of one an event, and on PostgreSQL one new
    /// version of each row instead of one per event naming it, which every later read of the
    /// row in the transaction had to step over. A savepoint writes at once, so that its
    /// rollback undoes it.
    pub async fn mark_datasets_updated(&self, ids: &[DatasetId], now: DateTime<Utc>) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        if !self.nested
            && let Ok(mut untouched) = self.untouched.lock()
        {
            untouched.ids.extend(ids.iter().map(|d| d.0));
            untouched.at = untouched.at.max(Some(now));
            return Ok(());
        }
        self.set_updated_at(&ids.iter().map(|d| d.0).collect::<Vec<_>>(), now).await
    }

    async fn mark_untouched_updated(&self) -> Result<(), StoreError> {
        let (ids, at) = match self.untouched.lock() {
            Ok(mut untouched) => (std::mem::take(&mut untouched.ids), untouched.at.take()),
            Err(_) => return Ok(()),
        };
        let (Some(at), false) = (at, ids.is_empty()) else { return Ok(()) };
        let mut ids: Vec<i64> = ids.into_iter().collect();
        ids.sort_unstable();
        for chunk in super::in_list::chunks(&ids) {
            self.set_updated_at(&chunk, at).await?;
        }
        Ok(())
    }

    /// `updated_at` of these datasets becomes `at`, unless it is later already (an event of
    /// the same transaction wrote the dataset after `at`): those rows are not rewritten.
    async fn set_updated_at(&self, ids: &[i64], at: DateTime<Utc>) -> Result<(), StoreError> {
        use dataset::Column as C;
        dataset::Entity::update_many()
            .col_expr(C::UpdatedAt, Expr::val(at))
            .filter(C::Id.is_in(ids.iter().copied()))
            .filter(C::UpdatedAt.lt(at))
            .exec(&self.tx)
            .await?;
        Ok(())
    }

    /// Writes a dataset's state back, and merges `facets` (an event's) into its stored ones
    /// (rewritten only when that changes them).
    pub async fn save_dataset(&self, state: &DatasetState, facets: &Map<String, Value>, now: DateTime<Utc>) -> Result<(), StoreError> {
        use dataset::Column as C;
        let mut update = dataset::Entity::update_many()
            .col_expr(C::CurrentVersionId, Expr::value(state.current_version_id))
            .col_expr(C::LastWrittenAt, Expr::value(state.last_written_at))
            .col_expr(C::LastWriterRunId, Expr::value(state.last_writer_run_id.clone()))
            .col_expr(C::UpdatedAt, Expr::value(now))
            .filter(C::Id.eq(state.id.0));
        if let Some(version) = state.schema_version_id {
            update = update.col_expr(C::SchemaVersionId, Expr::value(version));
        }
        if let Some(ownership) = facets.get("ownership") {
            update = update.col_expr(C::Ownership, Expr::value(ownership.clone()));
        }
        if !facets.is_empty() {
            // Read, merged and written back here (not merged in SQL): the document is stored
            // compressed. The row is locked, so no other writer merges in between.
            let mut merged = if state.facets_zstd.is_empty() {
                Value::Object(Map::new())
            } else {
                unpack(&state.facets_zstd, || format!("dataset {}: facets", state.id.0))?
            };
            if merge_facets(&mut merged, facets) {
                update = update.col_expr(C::FacetsZstd, Expr::value(pack(&merged)?));
            }
        }
        update.exec(&self.tx).await?;
        Ok(())
    }

    /// Makes (namespace, name) another name of `target`, unless that identity is already a
    /// dataset of its own or an alias of another one (first writer wins; never merges).
    pub async fn add_alias(
        &self,
        namespace: &str,
        name: &str,
        target: DatasetId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let taken = dataset::Entity::find()
            .filter(dataset::Column::Namespace.eq(namespace))
            .filter(dataset::Column::Name.eq(name))
            .one(&self.tx)
            .await?;
        if taken.is_some() {
            return Ok(());
        }
        let row = dataset_alias::ActiveModel {
            namespace: Set(namespace.to_string()),
            name: Set(name.to_string()),
            dataset_id: Set(target.0),
            created_at: Set(now),
            ..Default::default()
        };
        dataset_alias::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([dataset_alias::Column::Namespace, dataset_alias::Column::Name])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await?;
        Ok(())
    }

    pub async fn insert_version(
        &self,
        dataset_id: DatasetId,
        version: &str,
        schema_hash: Option<&str>,
        schema_fields: Option<Value>,
        run_id: Option<&str>,
        created_at: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let row = dataset_version::ActiveModel {
            dataset_id: Set(dataset_id.0),
            version: Set(version.to_string()),
            schema_hash: Set(schema_hash.map(str::to_string)),
            schema_fields_zstd: Set(schema_fields.as_ref().map(pack).transpose()?),
            run_id: Set(run_id.map(str::to_string)),
            created_at: Set(created_at),
            ..Default::default()
        };
        let inserted = row.insert(&self.tx).await?;
        Ok(inserted.id)
    }

    /// The run, locked for the rest of the transaction on PostgreSQL.
    pub async fn lock_run(&self, id: &str) -> Result<Option<RunRecord>, StoreError> {
        let found = run::Entity::find_by_id(id.to_string())
            .lock_exclusive()
            .one(&self.tx)
            .await?;
        let Some(r) = found else { return Ok(None) };
        Ok(Some(RunRecord {
            facets: unpack(&r.facets_zstd, || format!("run {}: facets", r.id))?,
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
        }))
    }

    /// Inserts a new run or writes back a changed one.
    pub async fn save_run(&self, record: &RunRecord, is_new: bool, now: DateTime<Utc>) -> Result<(), StoreError> {
        let row = run::ActiveModel {
            id: Set(record.id.clone()),
            raw_run_id: Set(record.raw_run_id.clone()),
            job_id: Set(record.job_id.0),
            state: Set(record.state.as_str().to_string()),
            state_time: Set(record.state_time),
            first_event_time: Set(record.first_event_time),
            started_at: Set(record.started_at),
            ended_at: Set(record.ended_at),
            nominal_start_time: Set(record.nominal_start_time),
            nominal_end_time: Set(record.nominal_end_time),
            error_message: Set(record.error_message.clone()),
            parent_run_id: Set(record.parent_run_id.clone()),
            facets_zstd: Set(pack(&record.facets)?),
            created_at: Set(now),
            updated_at: Set(now),
        };
        if is_new {
            run::Entity::insert(row).exec_without_returning(&self.tx).await?;
        } else {
            let mut row = row;
            row.created_at = sea_orm::ActiveValue::NotSet;
            run::Entity::update(row).exec_without_returning(&self.tx).await?;
        }
        Ok(())
    }

    /// What a run has read and written so far, as stored (one read per event of a known run;
    /// a new run has none).
    pub async fn run_io_rows(&self, run_id: &str) -> Result<RunIoRows, StoreError> {
        let rows = run_io::Entity::find()
            .filter(run_io::Column::RunId.eq(run_id))
            .order_by_asc(run_io::Column::Id)
            .all(&self.tx)
            .await?;
        Ok(RunIoRows { rows, changed: Vec::new() })
    }

    /// Writes what [`RunIoRows::record`] added or changed, all rows in one statement (a
    /// statement per dataset of every event before): new rows are inserted, known ones take
    /// the values merged in memory, which started from the stored ones.
    pub async fn save_run_io(&self, known: &mut RunIoRows) -> Result<(), StoreError> {
        use run_io::Column as C;
        let changed = std::mem::take(&mut known.changed);
        for chunk in changed.chunks(ROWS_PER_INSERT) {
            let rows = chunk.iter().filter_map(|&i| known.rows.get(i)).map(|r| {
                let mut row = r.clone().into_active_model();
                row.id = NotSet;
                row
            });
            run_io::Entity::insert_many(rows)
                .on_conflict(
                    OnConflict::columns([C::RunId, C::DatasetId, C::Direction])
                        .update_columns([C::FirstSeen, C::LastSeen, C::DatasetVersionId])
                        .to_owned(),
                )
                .exec_without_returning(&self.tx)
                .await?;
        }
        Ok(())
    }

    pub async fn current_edges(&self, job_id: JobId) -> Result<Vec<EdgeSpec>, StoreError> {
        let rows = lineage_edge::Entity::find()
            .filter(lineage_edge::Column::JobId.eq(job_id.0))
            .filter(lineage_edge::Column::RetiredAt.is_null())
            .all(&self.tx)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| EdgeSpec {
                id: r.id,
                dataset_id: DatasetId(r.dataset_id),
                direction: Direction::parse(&r.direction),
                first_seen: r.first_seen,
                last_seen: r.last_seen,
            })
            .collect())
    }

    /// Adds edges of one job that share their times (one IO set's new edges), in one statement.
    pub async fn insert_edges(
        &self,
        job_id: JobId,
        edges: &[(DatasetId, Direction)],
        first_seen: DateTime<Utc>,
        last_seen: DateTime<Utc>,
        retired_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        if edges.is_empty() {
            return Ok(());
        }
        let rows = edges.iter().map(|&(dataset_id, direction)| lineage_edge::ActiveModel {
            job_id: Set(job_id.0),
            dataset_id: Set(dataset_id.0),
            direction: Set(direction.as_str().to_string()),
            first_seen: Set(first_seen),
            last_seen: Set(last_seen),
            retired_at: Set(retired_at),
            generation: Set(PENDING_GENERATION),
            ..Default::default()
        });
        lineage_edge::Entity::insert_many(rows).exec_without_returning(&self.tx).await?;
        self.mark_graph_changed();
        Ok(())
    }

    /// Widens the interval in which edges were seen, in one statement for all of them: each
    /// edge's `first_seen` goes down to `earliest` and its `last_seen` up to `latest`, where
    /// given and where that is a change.
    pub async fn widen_edges(
        &self,
        ids: &[i64],
        earliest: Option<DateTime<Utc>>,
        latest: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        use lineage_edge::Column as C;
        use sea_orm::sea_query::ExprTrait;
        if ids.is_empty() || (earliest.is_none() && latest.is_none()) {
            return Ok(());
        }
        let mut update = lineage_edge::Entity::update_many();
        if let Some(t) = earliest {
            let lower = Expr::case(Expr::col(C::FirstSeen).gt(t), Expr::val(t)).finally(Expr::col(C::FirstSeen));
            update = update.col_expr(C::FirstSeen, lower.into());
        }
        if let Some(t) = latest {
            let higher = Expr::case(Expr::col(C::LastSeen).lt(t), Expr::val(t)).finally(Expr::col(C::LastSeen));
            update = update.col_expr(C::LastSeen, higher.into());
        }
        update.filter(C::Id.is_in(ids.iter().copied())).exec(&self.tx).await?;
        Ok(())
    }

    /// Retires edges that a newer IO set no longer has, as of `at`.
    pub async fn retire_edges(&self, ids: &[i64], at: DateTime<Utc>) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        lineage_edge::Entity::update_many()
            .col_expr(lineage_edge::Column::RetiredAt, Expr::val(at))
            .col_expr(lineage_edge::Column::Generation, Expr::val(PENDING_GENERATION))
            .filter(lineage_edge::Column::Id.is_in(ids.iter().copied()))
            .exec(&self.tx)
            .await?;
        self.mark_graph_changed();
        Ok(())
    }

    /// Stores an output's column edges, one multi-row statement per [`ROWS_PER_INSERT`] (a
    /// statement per edge before: a few per column of every output); an edge reported twice
    /// is kept once, its last description winning.
    pub async fn upsert_column_edges(&self, edges: &[ColumnEdge], seen: DateTime<Utc>) -> Result<(), StoreError> {
        use column_lineage::Column as C;
        // The key as the unique index sees it (no transformation is stored as ''): PostgreSQL
        // refuses a statement that would update the same row twice.
        let unique = last_of_each(edges, |e| {
            let kind = (e.transformation_type.clone().unwrap_or_default(), e.transformation_subtype.clone().unwrap_or_default());
            (e.dataset_id, e.field.clone(), e.input_dataset_id, e.input_field.clone(), kind)
        });
        for chunk in unique.chunks(ROWS_PER_INSERT) {
            let rows = chunk.iter().map(|edge| column_lineage::ActiveModel {
                dataset_id: Set(edge.dataset_id.0),
                field: Set(edge.field.clone()),
                input_dataset_id: Set(edge.input_dataset_id.0),
                input_field: Set(edge.input_field.clone()),
                transformation_type: Set(edge.transformation_type.clone().unwrap_or_default()),
                transformation_subtype: Set(edge.transformation_subtype.clone().unwrap_or_default()),
                description: Set(edge.description.clone()),
                first_seen: Set(seen),
                last_seen: Set(seen),
                ..Default::default()
            });
            column_lineage::Entity::insert_many(rows)
                .on_conflict(
                    OnConflict::columns([C::DatasetId, C::Field, C::InputDatasetId, C::InputField, C::TransformationType, C::TransformationSubtype])
                        .update_columns([C::Description, C::LastSeen])
                        .to_owned(),
                )
                .exec_without_returning(&self.tx)
                .await?;
        }
        Ok(())
    }

    /// Stores assertion results like [`WriteTx::upsert_metrics`]: one row per (dataset,
    /// evidence, assertion, column), the last reported winning.
    pub async fn upsert_assertions(&self, evidence_key: &str, assertions: &[AssertionObservation]) -> Result<(), StoreError> {
        let unique = last_of_each(assertions, |a| (a.dataset_id, a.assertion.clone(), a.column.clone()));
        for chunk in unique.chunks(ROWS_PER_INSERT) {
            let rows = chunk.iter().map(|a| assertion_observation::ActiveModel {
                dataset_id: Set(a.dataset_id.0),
                evidence_key: Set(evidence_key.to_string()),
                run_id: Set(a.run_id.clone()),
                source: Set(a.source.clone()),
                assertion: Set(a.assertion.clone()),
                column_name: Set(a.column.clone().unwrap_or_default()),
                success: Set(a.success),
                severity: Set(a.severity.clone()),
                details: Set(assertion_details::to_store(a)),
                observed_at: Set(a.observed_at),
                ..Default::default()
            });
            use assertion_observation::Column as C;
            assertion_observation::Entity::insert_many(rows)
                .on_conflict(
                    OnConflict::columns([C::DatasetId, C::EvidenceKey, C::Assertion, C::ColumnName])
                        .update_columns([C::Success, C::Severity, C::Details, C::Source, C::ObservedAt])
                        .to_owned(),
                )
                .exec_without_returning(&self.tx)
                .await?;
        }
        Ok(())
    }
}

/// Rows per multi-row insert: well under the bound parameters a statement may carry
/// (SQLite 32,766, PostgreSQL 65,535) at ten columns a row.
pub(super) const ROWS_PER_INSERT: usize = 500;

/// The last item of each key, in first-seen order. One multi-row upsert may not name the same
/// key twice (PostgreSQL refuses to update a row twice in one statement).
pub(super) fn last_of_each<T, K: std::hash::Hash + Eq>(items: &[T], key: impl Fn(&T) -> K) -> Vec<&T> {
    let mut position = std::collections::HashMap::with_capacity(items.len());
    let mut unique: Vec<&T> = Vec::with_capacity(items.len());
    for item in items {
        match position.entry(key(item)) {
            std::collections::hash_map::Entry::Occupied(slot) => unique[*slot.get()] = item,
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(unique.len());
                unique.push(item);
            }
        }
    }
    unique
}

/// Latest value wins, facet by facet: a facet not repeated in a later event is kept. Returns
/// whether `target` changed.
pub fn merge_facets(target: &mut Value, incoming: &serde_json::Map<String, Value>) -> bool {
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    let mut changed = false;
    if let Value::Object(map) = target {
        for (key, value) in incoming {
            if map.get(key) != Some(value) {
                map.insert(key.clone(), value.clone());
                changed = true;
            }
        }
    }
    changed
}

impl WriteTx {
    /// The job's id, creating it if needed, without locking it (used for parent jobs, so an
    /// event locks only its own job and lock order stays child -> nothing).
    pub async fn ensure_job(&self, namespace: &str, name: &str, now: DateTime<Utc>) -> Result<JobId, StoreError> {
        let key = (namespace.to_string(), name.to_string());
        if let Some(id) = self.memo.lock().ok().and_then(|memo| memo.jobs.get(&key).copied()) {
            return Ok(id);
        }
        let find = || {
            job::Entity::find()
                .select_only()
                .column(job::Column::Id)
                .filter(job::Column::Namespace.eq(namespace))
                .filter(job::Column::Name.eq(name))
                .into_tuple::<i64>()
        };
        let id = match find().one(&self.tx).await? {
            Some(id) => id,
            None => match self.insert_job_if_missing(namespace, name, now).await? {
                Some(inserted) => inserted.id,
                None => find().one(&self.tx).await?.ok_or_else(|| StoreError::Corrupt(format!("job {namespace}/{name} vanished")))?,
            },
        };
        if let Ok(mut memo) = self.memo.lock() {
            memo.jobs.insert(key, JobId(id));
        }
        Ok(JobId(id))
    }

    /// The job's row, locked, inserted first if it does not exist yet. Read first: nearly
    /// every event is about a known job, and inserting its namespace and itself "if missing"
    /// cost two statements each time.
    async fn find_or_insert_locked_job(&self, namespace: &str, name: &str, now: DateTime<Utc>) -> Result<job::Model, StoreError> {
        let find = || job::Entity::find().filter(job::Column::Namespace.eq(namespace)).filter(job::Column::Name.eq(name)).lock_exclusive();
        if let Some(found) = find().one(&self.tx).await? {
            return Ok(found);
        }
        if let Some(inserted) = self.insert_job_if_missing(namespace, name, now).await? {
            return Ok(inserted);
        }
        find()
            .one(&self.tx)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("job {namespace}/{name} vanished")))
    }

    /// (namespace, name) of a job, for messages.
    pub async fn job_identity(&self, id: JobId) -> Result<(String, String), StoreError> {
        let found = job::Entity::find_by_id(id.0)
            .one(&self.tx)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("job {} vanished", id.0)))?;
        Ok((found.namespace, found.name))
    }

    /// Inserts the job unless it exists. Returns the new row when this inserted it: it is
    /// all defaults but its id, so it is not read back (a third statement for every new job);
    /// `None` when another transaction had inserted it.
    async fn insert_job_if_missing(&self, namespace: &str, name: &str, now: DateTime<Utc>) -> Result<Option<job::Model>, StoreError> {
        self.ensure_namespace(namespace, now).await?;
        let mut new = job::Model {
            id: 0,
            namespace: namespace.to_string(),
            name: name.to_string(),
            parent_job_id: None,
            facets: Value::Object(Default::default()),
            current_io_key: None,
            current_io_time: None,
            latest_run_id: None,
            created_at: now,
            updated_at: now,
            ownership: None,
        };
        let row = job::ActiveModel {
            namespace: Set(new.namespace.clone()),
            name: Set(new.name.clone()),
            facets: Set(new.facets.clone()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        // As for datasets: the id comes with the insert, and a conflict inserts nothing.
        let inserted = job::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([job::Column::Namespace, job::Column::Name])
                    .do_nothing()
                    .to_owned(),
            )
            .exec(&self.tx)
            .await;
        match inserted {
            Ok(done) => {
                new.id = done.last_insert_id;
                Ok(Some(new))
            }
            Err(sea_orm::DbErr::RecordNotInserted) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hour: u32) -> DateTime<Utc> {
        DateTime::from_timestamp(i64::from(hour) * 3600, 0).unwrap_or_default()
    }

    #[test]
    fn run_io_rows_mark_only_what_changed_for_saving() {
        let mut rows = RunIoRows::none();
        rows.record("r", DatasetId(1), Direction::Input, None, at(1));
        rows.record("r", DatasetId(2), Direction::Output, Some(7), at(1));
        assert_eq!(rows.changed, vec![0, 1]);
        rows.changed.clear();

        // The COMPLETE repeats the input as it was and reports the output again, later.
        rows.record("r", DatasetId(1), Direction::Input, None, at(1));
        assert!(rows.changed.is_empty());
        rows.record("r", DatasetId(2), Direction::Output, None, at(2));
        assert_eq!(rows.changed, vec![1]);
        assert_eq!((rows.rows[1].first_seen, rows.rows[1].last_seen, rows.rows[1].dataset_version_id), (at(1), at(2), Some(7)));
        assert_eq!(rows.pairs(), vec![(DatasetId(1), Direction::Input), (DatasetId(2), Direction::Output)]);
    }

    /// A job inserted by the transaction is not read back: what it hands on must be the row
    /// it stored, as a job already there is.
    #[tokio::test]
    async fn a_job_inserted_here_is_the_job_stored() {
        let store = Store::connect("sqlite::memory:").await.expect("connect");
        store.migrate().await.expect("migrations");
        let tx = store.begin_write().await.expect("begin");
        let _earlier = tx.ensure_job("etl", "earlier", at(1)).await.expect("earlier");
        let parent = tx.ensure_job("etl", "dag", at(1)).await.expect("parent");
        let mut task = tx.lock_job("etl", "dag.task", at(1)).await.expect("new job");
        assert_eq!(tx.lock_job("etl", "dag", at(1)).await.expect("parent, locked").id, parent, "found again by name");
        assert_eq!(tx.ensure_job("etl", "dag.task", at(1)).await.expect("task, by name"), task.id);
        assert!(task.facets.as_object().is_some_and(Map::is_empty) && task.latest_run_id.is_none() && task.parent_job_id.is_none());
        task.parent_job_id = Some(parent);
        tx.save_job(&task, at(2)).await.expect("save");
        tx.commit().await.expect("commit");
        let stored = store.job_by_ref("etl", "dag.task").await.expect("read").expect("stored");
        assert_eq!((stored.id, stored.parent_job_id), (task.id, Some(parent)));
        assert_eq!(store.job_by_ref("etl", "dag").await.expect("read").map(|j| j.id), Some(parent));
    }

    /// Two writers creating the same job on PostgreSQL: the second finds no job, waits on the
    /// first's insert of the same one, finds the row there once it commits, and locks and
    /// returns it (the insert's conflict path).
    #[tokio::test]
    async fn on_postgres_a_job_created_meanwhile_is_found_and_locked() {
        let Some((store, _db)) = crate::store::test_postgres::PostgresDb::migrated_store().await else { return };
        // The namespace exists already, so that the second writer's wait is on the job row.
        let tx = store.begin_write().await.expect("begin");
        tx.ensure_namespace("etl", at(0)).await.expect("namespace");
        tx.commit().await.expect("commit");
        let first = store.begin_write().await.expect("begin");
        let created = first.lock_job("etl", "dag.task", at(1)).await.expect("new job").id;
        let racing = store.clone();
        let second = tokio::spawn(async move {
            let tx = racing.begin_write().await.expect("begin");
            let found = tx.lock_job("etl", "dag.task", at(2)).await.expect("job").id;
            tx.commit().await.expect("commit");
            found
        });
        assert!(crate::store::test_postgres::wait_for_a_lock_wait(&store).await, "the second writer never waited for the first");
        first.commit().await.expect("commit");
        assert_eq!(second.await.expect("second writer"), created);
        assert_eq!(store.job_by_ref("etl", "dag.task").await.expect("read").map(|j| j.id), Some(created));
    }

    /// A transaction marks datasets named without change at commit, with its latest time, and
    /// never moves back a dataset it wrote later; a savepoint marks at once.
    #[tokio::test]
    async fn datasets_named_without_change_are_marked_updated_at_commit() {
        let store = Store::connect("sqlite::memory:").await.expect("connect");
        store.migrate().await.expect("migrations");
        let updated = |name: &'static str| {
            let store = store.clone();
            async move { store.dataset_by_ref("wh", name).await.expect("read").expect("stored").updated_at }
        };
        let tx = store.begin_write().await.expect("begin");
        let named = tx.upsert_dataset("wh", "named", at(1)).await.expect("named").id;
        let written = tx.upsert_dataset("wh", "written", at(1)).await.expect("written");
        tx.mark_datasets_updated(&[named, written.id], at(2)).await.expect("mark");
        // A later event of the same transaction writes one of them.
        tx.save_dataset(&written, &Map::new(), at(5)).await.expect("save");
        tx.mark_datasets_updated(&[named], at(3)).await.expect("mark");
        tx.commit().await.expect("commit");
        assert_eq!(updated("named").await, at(3), "the transaction's latest time");
        assert_eq!(updated("written").await, at(5), "not moved back to an earlier mark");

        let tx = store.begin_write().await.expect("begin");
        let savepoint = tx.savepoint().await.expect("savepoint");
        savepoint.mark_datasets_updated(&[named], at(7)).await.expect("mark");
        savepoint.rollback().await.expect("rollback");
        tx.commit().await.expect("commit");
        assert_eq!(updated("named").await, at(3), "undone with its savepoint");
    }
}
