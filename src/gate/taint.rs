//! Taint: a completed run that read failing or tainted data taints what it wrote, and so on
//! downstream; a rewrite from clean inputs clears it.
//!
//! A run is judged by event time: each input's health as of the run's start. Evidence may
//! arrive in any order, so whenever something changes that a run's verdict depends on — a
//! check result about one of its inputs, a new writer of an input — the runs that read that
//! dataset since the change are judged again, and if a verdict changes, the readers of that
//! run's outputs after it ended are judged again too. The result is the same as if the events
//! had arrived in order.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use tracing::warn;

use super::assess::{EvidenceOf, conclude};
use super::decide::{GateRequest, UnknownInputPolicy, decide};
use super::model::{ReasonKind, RunTaint};
use super::{dataset_node, job_node};
use crate::model::{DatasetId, Direction, JobId, Run};
use crate::quality::records::CheckResult;
use crate::quality::evaluate::Outcome;
use crate::quality::{Rule, Severity};
use crate::store::{Snapshot, StoreError, WriteTx};

/// Upper bound on runs judged again after one change, so one event cannot make a transaction
/// run away; past it the rest is left for the next change to pick up (and logged).
const MAX_REJUDGED_RUNS: usize = 10_000;

/// What judging a completed run reads of it.
#[derive(Debug, Clone)]
pub struct JudgedRun {
    pub id: String,
    pub job_id: JobId,
    /// Its START, else its first event: its inputs are judged as of then.
    pub start: DateTime<Utc>,
    /// When it ended: its outputs' readers after then depend on its verdict.
    pub ended: DateTime<Utc>,
}

impl JudgedRun {
    /// From a run's times: its START (if any) and first event, its end (if any) and the time
    /// of its state.
    pub fn new(
        id: String,
        job_id: JobId,
        (started_at, first_event_time): (Option<DateTime<Utc>>, DateTime<Utc>),
        (ended_at, state_time): (Option<DateTime<Utc>>, DateTime<Utc>),
    ) -> JudgedRun {
        JudgedRun { id, job_id, start: started_at.unwrap_or(first_event_time), ended: ended_at.unwrap_or(state_time) }
    }
}

impl From<&Run> for JudgedRun {
    fn from(run: &Run) -> JudgedRun {
        JudgedRun::new(run.id.clone(), run.job_id, (run.started_at, run.first_event_time), (run.ended_at, run.state_time))
    }
}

/// Judges a completed run on the health of its inputs (all it read: `inputs` when the caller
/// has them, else read here) as of its start.
async fn judge(snapshot: &Snapshot<'_>, rules: &[Rule], run: &JudgedRun, inputs: Option<&[DatasetId]>) -> Result<RunTaint, StoreError> {
    let start = run.start;
    if let Some(violation) = snapshot.violation_of(&run.id).await?
        && let Some(recorded) = snapshot.decision(violation.decision_id).await?
    {
        // The run started although the gate blocked it. Evidence may have arrived out of
        // order since (the fix that would have allowed it), so the decision is taken again on
        // everything now known as of the run's start; only if it still blocks is the run
        // tainted by what blocks it.
        let request = GateRequest { namespace: recorded.namespace, job: recorded.job, inputs: Some(recorded.inputs) };
        let again = decide(snapshot, rules, &request, Some(start), start, UnknownInputPolicy::Allow).await?;
        if let Some(reason) = again.reasons.iter().find(|r| r.kind == ReasonKind::Blocking) {
            let origin_ref = reason.origin.as_ref().or(reason.dataset.as_ref());
            let origin = match origin_ref {
                Some(r) => snapshot.dataset_by_ref(&r.namespace, &r.name).await?,
                None => None,
            };
            let mut path = reason.path.clone();
            if path.is_empty()
                && let Some(d) = &reason.dataset
            {
                path.push(dataset_node(&d.namespace, &d.name));
            }
            path.push(job_node_of(snapshot, run).await?);
            return Ok(RunTaint {
                run_id: run.id.clone(),
                tainted: true,
                origin_dataset_id: origin.map(|d| d.id),
                origin_rule_id: reason.rule_id.clone(),
                origin_check_id: reason.check_id,
                path,
                violation: true,
            });
        }
    }

    let inputs = match inputs {
        Some(ids) => snapshot.named_datasets(ids).await?,
        None => snapshot.named_datasets(&snapshot.run_datasets(&run.id, Direction::Input).await?).await?,
    };
    // The evidence of all inputs is read at once; they are concluded on in order, and the first
    // bad one decides (a conclusion about a bad input reads its waivers and origin).
    let evidence = EvidenceOf::read(snapshot, &inputs, Some(start)).await?;
    for input in &inputs {
        let health = conclude(snapshot, rules, input, evidence.of(input.id), start).await?;
        if let Some(failure) = health.failures.iter().find(|f| f.waiver.is_none()) {
            return Ok(RunTaint {
                run_id: run.id.clone(),
                tainted: true,
                origin_dataset_id: Some(input.id),
                origin_rule_id: Some(failure.check.rule_id.clone()),
                origin_check_id: Some(failure.check.id),
                path: vec![dataset_node(&input.namespace, &input.name), job_node_of(snapshot, run).await?],
                violation: false,
            });
        }
        if let Some(taint) = health.taint.filter(|t| t.waiver.is_none()) {
            let mut path = taint.path;
            path.push(job_node_of(snapshot, run).await?);
            return Ok(RunTaint {
                run_id: run.id.clone(),
                tainted: true,
                origin_dataset_id: Some(taint.origin_dataset_id),
                origin_rule_id: taint.origin_rule_id,
                origin_check_id: taint.origin_check.map(|c| c.id),
                path,
                violation: false,
            });
        }
    }
    Ok(RunTaint::clean(&run.id))
}

/// The run's job as a node of a taint path. Read only for a tainted verdict: most runs are
/// clean, and judging one is on every completed run's ingest path.
async fn job_node_of(snapshot: &Snapshot<'_>, run: &JudgedRun) -> Result<String, StoreError> {
    let job = snapshot.job(run.job_id).await?;
    Ok(job.map(|j| job_node(&j.namespace, &j.name)).unwrap_or_default())
}

/// Judges again every completed run that read one of the `changed` datasets at or after the
/// time it changed, and follows verdict changes downstream.
pub async fn propagate(
    tx: &WriteTx,
    rules: &[Rule],
    changed: Vec<(DatasetId, DateTime<Utc>)>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let snapshot = tx.snapshot();
    let mut queue: VecDeque<(DatasetId, DateTime<Utc>)> = earliest_per_dataset(changed).into();
    let mut judged = 0usize;
    while let Some((dataset, since)) = queue.pop_front() {
        for run in snapshot.complete_runs_reading(dataset, since).await? {
            judged += 1;
            if judged > MAX_REJUDGED_RUNS {
                warn!(judged, "taint propagation stopped at its bound; later changes will continue it");
                return Ok(());
            }
            let run = JudgedRun::from(&run);
            let verdict = judge(&snapshot, rules, &run, None).await?;
            let previous = snapshot.run_taint(&run.id).await?;
            if previous.is_some_and(|p| p.same_verdict(&verdict)) {
                continue;
            }
            tx.save_run_taint(&verdict, now).await?;
            for output in snapshot.run_datasets(&run.id, Direction::Output).await? {
                queue.push_back((output, run.ended));
            }
        }
    }
    Ok(())
}

/// The datasets whose health, as the taint of a run sees it, the new `results` may have
/// changed, each from the time of its evidence. Only a failing block-level check makes a
/// dataset bad (errors and warn-level failures are warnings), so a result can change a run's
/// verdict only if it is such a failure or it replaces one; every other result (nearly all:
/// a passing check after a passing check) leaves every verdict as it was, and the readers of
/// its dataset need not be judged again.
pub async fn health_changes(tx: &WriteTx, results: &[CheckResult]) -> Result<Vec<(DatasetId, DateTime<Utc>)>, StoreError> {
    let mut changed = Vec::new();
    for result in results {
        let matters = if makes_bad(result) {
            true
        } else {
            tx.superseded_verdict(result).await?.is_some_and(|(outcome, severity)| is_bad(outcome, severity))
        };
        if matters {
            changed.push((result.dataset_id, result.evidence_time));
        }
    }
    Ok(changed)
}

fn makes_bad(result: &CheckResult) -> bool {
    is_bad(result.outcome, result.severity)
}

fn is_bad(outcome: Outcome, severity: Severity) -> bool {
    outcome == Outcome::Fail && severity == Severity::Block
}

/// One entry per dataset, at its earliest change: the runs that read it since a later change
/// are among those since the earliest, so judging them once is enough (an event brings one
/// result per rule, often several about the same dataset).
fn earliest_per_dataset(changed: Vec<(DatasetId, DateTime<Utc>)>) -> Vec<(DatasetId, DateTime<Utc>)> {
    let mut earliest: Vec<(DatasetId, DateTime<Utc>)> = Vec::with_capacity(changed.len());
    for (dataset, since) in changed {
        match earliest.iter_mut().find(|(d, _)| *d == dataset) {
            Some(entry) => entry.1 = entry.1.min(since),
            None => earliest.push((dataset, since)),
        }
    }
    earliest
}

/// A run has just completed: judge it on everything it read (`inputs`), and since it is now
/// the writer of everything it wrote (`outputs`), judge again whoever read those after it
/// ended. Ingest has the run and its inputs and outputs in hand: reading them again was
/// three statements of every COMPLETE.
pub async fn run_completed(
    tx: &WriteTx,
    rules: &[Rule],
    run: &JudgedRun,
    inputs: &[DatasetId],
    outputs: &[DatasetId],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let verdict = judge(&tx.snapshot(), rules, run, Some(inputs)).await?;
    tx.save_run_taint(&verdict, now).await?;
    propagate(tx, rules, outputs.iter().map(|o| (*o, run.ended)).collect(), now).await
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn changes_collapse_to_the_earliest_per_dataset_in_first_seen_order() {
        let at = |h| Utc.with_ymd_and_hms(2024, 6, 1, h, 0, 0).single().unwrap_or_default();
        let (a, b) = (DatasetId(1), DatasetId(2));
        let collapsed = earliest_per_dataset(vec![(a, at(10)), (b, at(9)), (a, at(8)), (b, at(11))]);
        assert_eq!(collapsed, vec![(a, at(8)), (b, at(9))]);
    }
}
