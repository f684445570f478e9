//! Ingestion: one OpenLineage event becomes one database transaction.
//!
//! The transaction archives the raw event, then applies it to the graph (namespaces, jobs,
//! runs, datasets, versions, edges, column lineage) and stores its quality evidence. It either
//! commits whole or not at all, and the caller acknowledges the event only after the commit.
//! A raw event already in the archive (same canonical JSON) is a client retry: nothing changes.
//! The rules matching every dataset the event brought evidence about are evaluated in the
//! same transaction.
//!
//! Several events can share one transaction ([`ingest_batch`], group commit), and the commit
//! (the fsync) is paid once for all of them. When one of them fails, the batch is applied
//! again with each event in a savepoint of its own, so that the failure undoes only that
//! event, and so are the next batches for a while. [`committer`] groups concurrent HTTP
//! requests that way; `weir import` groups the lines of its file.

mod apply;
mod archive;
pub mod committer;
pub mod dictionary;
mod edges;
pub mod run_state;
mod versioning;

use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, Utc};
use thiserror::Error;
use tracing::{debug, warn};

pub use archive::{Archiver, Format, format as archive_format, unarchive};

use crate::openlineage::{Event, EventKind};
use crate::gate::{self, decide::UnknownInputPolicy};
use crate::{alert, quality};
use crate::store::{InsertedRaw, Store, StoreError, WriteTx};

/// What an accepted event changed besides the graph, for notices after commit.
#[derive(Debug, Clone, Default)]
pub struct IngestReport {
    pub results: Vec<quality::records::CheckResult>,
    pub incidents: Vec<alert::incidents::IncidentChange>,
    /// The run and the decision that blocked it, when the event was a gate violation.
    pub violation: Option<(String, gate::model::GateDecision)>,
}

/// What happened to an accepted event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestOutcome {
    /// Stored and applied.
    Stored,
    /// Already stored earlier (a retry): nothing changed.
    Duplicate,
}

#[derive(Debug, Error)]
pub enum IngestError {
    /// OpenLineage run ids are globally unique; an event that reuses one for another job is a
    /// client bug, and accepting it would graft one job's lineage onto the other.
    #[error("run id {run_id} already belongs to job {namespace}/{name}")]
    RunIdConflict { run_id: String, namespace: String, name: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("could not archive event: {0}")]
    Archive(#[from] std::io::Error),
    /// The group-commit task is gone (the server is shutting down) or failed with the batch.
    #[error("the ingest writer is not available: {0}")]
    WriterGone(&'static str),
}

/// How many times a transaction that lost a race with a concurrent writer is run again.
const MAX_ATTEMPTS: usize = 5;

/// What became of one event.
pub type Ingested = Result<(IngestOutcome, IngestReport), IngestError>;

/// An event made ready for the writer: parsed, and archived (its canonical JSON, that JSON's
/// hash and a compressed copy). Archiving needs no database, so callers do it before queueing
/// for the write turn, on their own threads: done inside the write transaction, it was a tenth
/// of the single writer's work.
pub struct Prepared {
    pub event: Event,
    archived: archive::Archived,
}

impl Prepared {
    pub fn new(mut event: Event, archiver: &Archiver) -> Result<Prepared, IngestError> {
        let archived = archiver.archive(&event.raw)?;
        // The archive holds the raw JSON from here on; the event need not carry a second copy.
        event.raw = serde_json::Value::Null;
        Ok(Prepared { event, archived })
    }
}

/// One event to ingest and the server's clock when it arrived.
#[derive(Clone, Copy)]
pub struct Incoming<'a> {
    pub event: &'a Prepared,
    pub received_at: DateTime<Utc>,
}

/// Ingests `events` in one transaction, in order. When one of them fails, that transaction
/// is rolled back and the batch applied again in another, each event in a savepoint of its
/// own (as the next 16 batches are from the start). Returns one result per event; when
/// `stop_at_rejection` is set the results end at the first event that was not stored, and the
/// events after it were not attempted.
///
/// If the shared transaction cannot be used (a lost race on PostgreSQL, a failed commit),
/// nothing of it was acknowledged and the events are ingested again one by one, each with the
/// retries of [`ingest`].
pub async fn ingest_batch(
    store: &Store,
    events: &[Incoming<'_>],
    unknown_inputs: UnknownInputPolicy,
    stop_at_rejection: bool,
) -> Vec<Ingested> {
    let mut results = match batch_once(store, events, unknown_inputs, stop_at_rejection).await {
        Ok(results) => results,
        Err(err) => {
            warn!(error = %err, events = events.len(), "batch transaction failed; ingesting its events one by one");
            Vec::new()
        }
    };
    // The batch ends at an event that lost a race (rolled back to its savepoint): it is tried
    // again in its own transaction, then the events after it, one by one, in order; so are all
    // the events of a batch that did not commit.
    for (i, incoming) in events.iter().enumerate() {
        let retry = match results.get(i) {
            Some(Err(IngestError::Store(err))) if err.is_retryable() => true,
            // The batch stopped at this rejection on purpose: nothing after it is attempted.
            Some(Err(_)) if stop_at_rejection => break,
            Some(_) => false,
            None => true,
        };
        if !retry {
            continue;
        }
        let result = ingest(store, incoming.event, incoming.received_at, unknown_inputs).await;
        let rejected = result.is_err();
        if i < results.len() {
            results[i] = result;
        } else {
            results.push(result);
        }
        if rejected && stop_at_rejection {
            results.truncate(i + 1);
            break;
        }
    }
    results
}

/// Batches still to run with savepoints from the start, after one had to be applied again:
/// events that fail tend to come in runs (a client reusing run ids, replicas racing), and each
/// failure found without savepoints costs the work done before it in its batch. Process-wide:
/// it chooses the faster path, not what is stored (but for `updated_at` of datasets named
/// without change: without savepoints, the latest time of the transaction's events; see
/// `WriteTx::mark_datasets_updated`).
static SAVEPOINTS_AHEAD: AtomicU32 = AtomicU32::new(0);

/// How many batches run with savepoints after a batch had to be applied again.
const SAVEPOINT_BATCHES_AFTER_A_FAILURE: u32 = 16;

async fn batch_once(
    store: &Store,
    events: &[Incoming<'_>],
    unknown_inputs: UnknownInputPolicy,
    stop_at_rejection: bool,
) -> Result<Vec<Ingested>, IngestError> {
    let cautious = SAVEPOINTS_AHEAD.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1)).is_ok();
    if !cautious && let Some(results) = batch_without_savepoints(store, events, unknown_inputs).await? {
        return Ok(results);
    }
    batch_with_savepoints(store, events, unknown_inputs, stop_at_rejection).await
}

/// The common case first: every event of the batch applies, so none needs a savepoint of its
/// own (two statements an event, a twentieth of its round trips). When one fails, the whole
/// transaction is rolled back and `None` returned: nothing of it was stored, and the caller
/// applies the batch again in a new transaction with a savepoint per event, so that only the
/// failing event is undone. A rollback that fails is an error: the caller then ingests the
/// events one by one.
async fn batch_without_savepoints(
    store: &Store,
    events: &[Incoming<'_>],
    unknown_inputs: UnknownInputPolicy,
) -> Result<Option<Vec<Ingested>>, IngestError> {
    let tx = store.begin_write().await?;
    let mut results = Vec::with_capacity(events.len());
    for (i, incoming) in events.iter().enumerate() {
        match apply_in(&tx, incoming.event, incoming.received_at, unknown_inputs).await {
            Ok(done) => results.push(Ok(done)),
            // A lone event has nothing to save from its transaction: its failure is its answer
            // (`ingest_batch` runs it again on its own if it lost a race).
            Err(err) if events.len() == 1 => {
                tx.rollback().await?;
                return Ok(Some(vec![Err(err)]));
            }
            Err(err) => {
                debug!(error = %err, event = i, events = events.len(), "an event of the batch failed; applying the batch again with savepoints");
                SAVEPOINTS_AHEAD.store(SAVEPOINT_BATCHES_AFTER_A_FAILURE, Ordering::Relaxed);
                tx.rollback().await?;
                return Ok(None);
            }
        }
    }
    tx.commit().await?;
    Ok(Some(results))
}

/// Each event in a savepoint of its own: one event's failure undoes only that event.
async fn batch_with_savepoints(
    store: &Store,
    events: &[Incoming<'_>],
    unknown_inputs: UnknownInputPolicy,
    stop_at_rejection: bool,
) -> Result<Vec<Ingested>, IngestError> {
    let tx = store.begin_write().await?;
    let mut results = Vec::with_capacity(events.len());
    for incoming in events {
        let savepoint = tx.savepoint().await?;
        let result = match apply_in(&savepoint, incoming.event, incoming.received_at, unknown_inputs).await {
            Ok(done) => {
                savepoint.commit().await?;
                Ok(done)
            }
            Err(e) => {
                // Still failing: stay careful for the batches after this one too.
                SAVEPOINTS_AHEAD.store(SAVEPOINT_BATCHES_AFTER_A_FAILURE, Ordering::Relaxed);
                savepoint.rollback().await?;
                Err(e)
            }
        };
        // After a lost race the batch ends here, so that the events after this one are not
        // applied before it (it is retried on its own once the batch has committed).
        let lost_race = matches!(&result, Err(IngestError::Store(err)) if err.is_retryable());
        let rejected = result.is_err();
        results.push(result);
        if lost_race || (rejected && stop_at_rejection) {
            break;
        }
    }
    tx.commit().await?;
    Ok(results)
}

/// Stores `event` and applies it, in one transaction. `received_at` is the server's clock;
/// `unknown_inputs` is the gate's policy for inputs without evidence (violation checks).
pub async fn ingest(
    store: &Store,
    event: &Prepared,
    received_at: DateTime<Utc>,
    unknown_inputs: UnknownInputPolicy,
) -> Result<(IngestOutcome, IngestReport), IngestError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match ingest_once(store, event, received_at, unknown_inputs).await {
            Err(IngestError::Store(err)) if err.is_retryable() && attempt < MAX_ATTEMPTS => {
                warn!(attempt, error = %err, "ingest transaction conflicted; retrying");
                tokio::time::sleep(std::time::Duration::from_millis(5 * attempt as u64)).await;
            }
            other => return other,
        }
    }
}

async fn ingest_once(
    store: &Store,
    event: &Prepared,
    received_at: DateTime<Utc>,
    unknown_inputs: UnknownInputPolicy,
) -> Result<(IngestOutcome, IngestReport), IngestError> {
    let tx = store.begin_write().await?;
    let applied = apply_in(&tx, event, received_at, unknown_inputs).await?;
    tx.commit().await?;
    Ok(applied)
}

/// Stores one event's archive and applies the event inside `tx` (a transaction or a savepoint
/// of one).
async fn apply_in(
    tx: &WriteTx,
    prepared: &Prepared,
    received_at: DateTime<Utc>,
    unknown_inputs: UnknownInputPolicy,
) -> Result<(IngestOutcome, IngestReport), IngestError> {
    let (event, archived) = (&prepared.event, &prepared.archived);
    let run_id = event.run.as_ref().map(|r| r.run_id.to_string());
    let inserted = tx
        .insert_raw_event(InsertedRaw {
            event_hash: &archived.hash,
            kind: kind_name(event.kind),
            event_time: event.event_time,
            received_at,
            run_id: run_id.as_deref(),
            job_namespace: event.job.as_ref().map(|j| j.namespace.as_str()),
            job_name: event.job.as_ref().map(|j| j.name.as_str()),
            raw_bytes: archived.raw_bytes,
            payload: archived.payload.clone(),
        })
        .await?;
    if !inserted {
        return Ok((IngestOutcome::Duplicate, IngestReport::default()));
    }
    let ctx = apply::Context::new(tx, event, received_at, &archived.hash);
    let applied_run = match event.kind {
        EventKind::Run => Some(apply::run_event(&ctx).await?),
        EventKind::Dataset => {
            apply::dataset_event(&ctx).await?;
            None
        }
        EventKind::Job => {
            apply::job_event(&ctx).await?;
            None
        }
    };
    // Rules see the event's evidence in the same transaction: an acknowledged event has
    // always been evaluated.
    let touched = ctx.touched();
    let results = quality::engine::after_event(tx, &touched, run_id.as_deref(), event.event_time, received_at).await?;
    // Gate violations and taint, also in the same transaction: derived state never lags an
    // acknowledged event.
    let violation = gate::hooks::after_event(tx, event, applied_run.as_ref(), &results, unknown_inputs, received_at).await?;
    // Incidents and alerts, queued in the outbox with the change that causes them.
    let incidents = alert::incidents::on_results(tx, &results, received_at).await?;
    let violation = match (violation, &applied_run) {
        (Some(decision), Some(run)) => {
            alert::incidents::on_violation(tx, &run.run.id, &decision, received_at).await?;
            Some((run.run.id.clone(), decision))
        }
        _ => None,
    };
    Ok((IngestOutcome::Stored, IngestReport { results, incidents, violation }))
}

fn kind_name(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Run => "RunEvent",
        EventKind::Dataset => "DatasetEvent",
        EventKind::Job => "JobEvent",
    }
}
