//! What gating does inside the ingest transaction, after an event was applied and its rules
//! evaluated: record a gate violation when a blocked job starts anyway, judge a run that just
//! completed, and re-judge the runs that new check results may have changed.

use chrono::{DateTime, Utc};

use super::decide::{GateRequest, UnknownInputPolicy, decide, decide_on_datasets};
use super::load_rules_in;
use super::model::{Decision, GateDecision};
use super::taint::{JudgedRun, health_changes, propagate, run_completed};
use crate::model::DatasetId;
use crate::openlineage::{Event, RunEventType};
use crate::quality::Rule;
use crate::quality::records::CheckResult;
use crate::store::{StoreError, WriteTx};

/// What the applied run event left for the gate to look at.
pub struct RunEventApplied {
    /// The run (its id, its job, its times as its verdict needs them).
    pub run: JudgedRun,
    /// True when this event created the run (its first event).
    pub is_new: bool,
    /// The run's state after the event is COMPLETE and this event completed it.
    pub completed_now: bool,
    /// The inputs this event named.
    pub inputs: Vec<DatasetId>,
    /// When the run has just completed, everything it has read and written (this event's and
    /// the earlier ones'), by id.
    pub read: Vec<DatasetId>,
    pub wrote: Vec<DatasetId>,
}

/// Returns the decision of a gate violation, when this event was one.
pub async fn after_event(
    tx: &WriteTx,
    event: &Event,
    run: Option<&RunEventApplied>,
    results: &[CheckResult],
    unknown: UnknownInputPolicy,
    now: DateTime<Utc>,
) -> Result<Option<GateDecision>, StoreError> {
    let rules = load_rules_in(tx).await?;

    let mut violation = None;
    if let Some(applied) = run {
        let starts = event.event_type == Some(RunEventType::Start)
            || (applied.is_new && event.event_type.is_some_and(RunEventType::is_terminal));
        if starts {
            violation = check_violation(tx, &rules, event, applied, unknown, now).await?;
        }
    }

    // New results change their dataset's health from their evidence time on.
    let changed = health_changes(tx, results).await?;
    propagate(tx, &rules, changed, now).await?;

    if let Some(applied) = run.filter(|a| a.completed_now) {
        run_completed(tx, &rules, &applied.run, &applied.read, &applied.wrote, now).await?;
    }
    Ok(violation)
}

/// A run starting although the gate would block its job is a violation: recorded with the
/// decision, and the run is tainted by what blocked it.
async fn check_violation(
    tx: &WriteTx,
    rules: &[Rule],
    event: &Event,
    applied: &RunEventApplied,
    unknown: UnknownInputPolicy,
    now: DateTime<Utc>,
) -> Result<Option<GateDecision>, StoreError> {
    let Some(job) = &event.job else { return Ok(None) };
    let snapshot = tx.snapshot();
    // Judged on the evidence known as of the run's start, like its taint.
    let as_of = Some(event.event_time);
    let request = GateRequest { namespace: job.namespace.clone(), job: job.name.clone(), inputs: None };
    let mut decision = if applied.inputs.is_empty() {
        decide(&snapshot, rules, &request, as_of, now, unknown).await?
    } else {
        // The event's inputs, read by id in one statement (by name, each was a lookup of its own).
        let datasets = snapshot.named_datasets(&applied.inputs).await?;
        decide_on_datasets(&snapshot, rules, &request, datasets, as_of, now, unknown).await?
    };
    if decision.decision != Decision::Block {
        return Ok(None);
    }
    decision.context = "violation_check".to_string();
    decision.run_id = Some(applied.run.id.clone());
    let recorded = tx.record_decision(&decision).await?;
    let first = tx.record_violation(&applied.run.id, applied.run.job_id, recorded.id, event.event_time, now).await?;
    Ok(first.then_some(recorded))
}

/// After an evaluation outside ingestion (the freshness sweep, `evaluateRules`): the runs
/// that read the datasets since their new results are judged again, in the same transaction.
pub async fn after_evaluation(tx: &WriteTx, results: &[CheckResult], now: DateTime<Utc>) -> Result<(), StoreError> {
    if results.is_empty() {
        return Ok(());
    }
    let rules = load_rules_in(tx).await?;
    let changed = health_changes(tx, results).await?;
    propagate(tx, &rules, changed, now).await
}
