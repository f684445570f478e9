//! Keeping each job's current lineage edges in step with its most recent inputs and outputs.
//!
//! An "IO set" is what one run (or one static JobEvent) says the job reads and writes. The
//! current graph is each job's latest IO set by event time, direction by direction: a newer set
//! retires the edges it no longer has in the directions it reports (at its own time, so
//! `lineage(asOf:)` still sees them before that); an older one arriving late only fills in
//! history; events of the same run add to the same set.

use chrono::{DateTime, Utc};

use crate::model::{DatasetId, Direction};
use crate::store::{JobState, StoreError, WriteTx};

pub struct IoSet<'a> {
    /// `run:<uuid>` or `job-event:<hash>`.
    pub key: String,
    /// When the IO set began: the run's earliest event, or the JobEvent's time.
    pub time: DateTime<Utc>,
    /// When this particular event happened.
    pub seen: DateTime<Utc>,
    /// Everything in the set so far (for a run: over all of its events).
    pub all: &'a [(DatasetId, Direction)],
    /// What this event reported.
    pub reported: &'a [(DatasetId, Direction)],
}

pub async fn update(tx: &WriteTx, job: &mut JobState, io: IoSet<'_>) -> Result<(), StoreError> {
    if io.reported.is_empty() {
        // An event that names no datasets says nothing about the job's IO.
        return Ok(());
    }
    let current = tx.current_edges(job.id).await?;
    let find = |ds: DatasetId, dir: Direction| current.iter().find(|e| e.dataset_id == ds && e.direction == dir);

    let same_set = job.current_io_key.as_deref() == Some(io.key.as_str());
    let is_newer = job.current_io_time.is_none_or(|t| io.time >= t);
    if same_set || is_newer {
        // The set replaces the previous one direction by direction: a START that names only
        // inputs leaves the job's outputs as they were until the run reports its own.
        let covers = |dir: Direction| io.all.iter().any(|(_, d)| *d == dir);
        let earliest = same_set.then_some(io.time);
        let mut widened = Vec::new();
        let mut retired = Vec::new();
        for edge in &current {
            if io.all.contains(&(edge.dataset_id, edge.direction)) {
                if earliest.is_some_and(|t| t < edge.first_seen) || io.seen > edge.last_seen {
                    widened.push(edge.id);
                }
            } else if covers(edge.direction) {
                retired.push(edge.id);
            }
        }
        let added: Vec<_> = io.all.iter().copied().filter(|&(ds, dir)| find(ds, dir).is_none()).collect();
        tx.widen_edges(&widened, earliest, Some(io.seen)).await?;
        tx.retire_edges(&retired, io.time).await?;
        tx.insert_edges(job.id, &added, io.time, io.seen, None).await?;
        job.current_io_time = Some(match (same_set, job.current_io_time) {
            (true, Some(t)) => t.min(io.time),
            _ => io.time,
        });
        job.current_io_key = Some(io.key);
        return Ok(());
    }

    // A run older than the current IO set: it is history. Its edges that are still current
    // existed earlier than we knew; the others existed until the current set replaced them.
    let mut widened = Vec::new();
    let mut added = Vec::new();
    for &(ds, dir) in io.reported {
        match find(ds, dir) {
            Some(edge) if io.time < edge.first_seen => widened.push(edge.id),
            Some(_) => {}
            None => added.push((ds, dir)),
        }
    }
    tx.widen_edges(&widened, Some(io.time), None).await?;
    tx.insert_edges(job.id, &added, io.time, io.seen, job.current_io_time).await
}
