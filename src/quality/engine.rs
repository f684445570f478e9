//! When rules run, on which datasets, and storing what they found.
//!
//! * After an event: on each dataset the event brought evidence about, the rules targeting it
//!   that read that evidence (all of them on a dataset a finished run wrote), in the ingest
//!   transaction itself ([`after_event`]).
//! * On a schedule: freshness rules over every matching dataset ([`sweep_freshness`]); only a
//!   change of outcome is stored, so a quiet dataset does not grow a result a minute.
//! * On demand: every rule, or the rules on one dataset ([`evaluate_now`]).
//!
//! The last two run in a transaction of `crate::evaluation`, with the taint and incidents
//! that follow from their results.

use chrono::{DateTime, Utc};
use tracing::warn;

use super::evaluate::{CheckOutcome, EvidenceNeeds, evaluate};
use super::records::{CheckResult, Trigger};
use super::rule::{Check, Rule};

use crate::model::DatasetId;
use crate::store::{StoreError, WriteTx};
use crate::telemetry;

/// What an event brought about one dataset, which decides the rules it evaluates there.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Arrived {
    /// A run that ended (COMPLETE, FAIL, ABORT) wrote it: every rule on it is evaluated, so that
    /// evidence a rule expects and the run did not report shows as an error, not as nothing.
    pub write: bool,
    pub schema: bool,
    pub metrics: bool,
    pub assertions: bool,
}

impl Arrived {
    pub fn any(self) -> bool {
        self.write || self.schema || self.metrics || self.assertions
    }

    pub fn add(&mut self, other: Arrived) {
        self.write |= other.write;
        self.schema |= other.schema;
        self.metrics |= other.metrics;
        self.assertions |= other.assertions;
    }

    /// Whether `check` reads what arrived. Without a write (a START's schema, a reader's
    /// assertions about its input), only the rules that read the new evidence run: the
    /// others would only repeat their last result, or report as missing evidence that a run
    /// still under way has not had the chance to send.
    pub fn concerns(self, check: &Check) -> bool {
        self.write
            || match check {
                Check::Metric { .. } | Check::VolumeChange { .. } => self.metrics,
                Check::Schema { .. } => self.schema,
                Check::Assertions { .. } => self.assertions,
                Check::Freshness { .. } | Check::RunStatus => false,
            }
    }
}

/// A result about to be stored.
pub struct CheckOutcomeRecord<'a> {
    pub rule_id: &'a str,
    pub rule_version: i64,
    pub dataset_id: DatasetId,
    pub outcome: &'a CheckOutcome,
    pub run_id: Option<&'a str>,
    pub at: DateTime<Utc>,
    pub evidence_time: DateTime<Utc>,
}

struct VersionedRule {
    rule: Rule,
    version: i64,
}

/// The stored rules, validated. A stored rule that no longer validates (written by another
/// Weir version) is skipped with a warning rather than failing every ingest.
async fn load_rules(tx: &WriteTx) -> Result<Vec<VersionedRule>, StoreError> {
    let records = tx.rules().await?;
    let mut rules = Vec::with_capacity(records.len());
    for record in records {
        let id = record.definition.id.clone();
        match Rule::from_definition(record.definition) {
            Ok(rule) => rules.push(VersionedRule { rule, version: record.version }),
            Err(e) => warn!(rule = %id, error = %e, "stored rule does not validate; skipped"),
        }
    }
    Ok(rules)
}

struct Pass<'a> {
    run_id: Option<&'a str>,
    now: DateTime<Utc>,
    evidence_time: DateTime<Utc>,
    trigger: Trigger,
    /// Store a result only when the outcome differs from the latest one.
    only_changes: bool,
}

/// Evaluates, on each dataset, the rules that target it and that `include` keeps for it.
async fn evaluate_datasets(
    tx: &WriteTx,
    datasets: &[DatasetId],
    include: impl Fn(&Rule, DatasetId) -> bool,
    pass: Pass<'_>,
) -> Result<Vec<CheckResult>, StoreError> {
    let rules = load_rules(tx).await?;
    if rules.is_empty() || datasets.is_empty() {
        return Ok(Vec::new());
    }
    let mut outcomes = Vec::new();
    for (dataset_id, namespace, name) in tx.snapshot().dataset_names(datasets).await? {
        let matching: Vec<&VersionedRule> =
            rules.iter().filter(|r| include(&r.rule, dataset_id) && r.rule.target.matches(&namespace, &name)).collect();
        if matching.is_empty() {
            continue;
        }
        let needs = EvidenceNeeds::of(matching.iter().map(|r| &r.rule));
        // Judged on the evidence known as of the evidence time: a late event about the past is
        // judged on the past, not on newer evidence that arrived first.
        let as_of = (pass.trigger == Trigger::Event).then_some(pass.evidence_time);
        let evidence_now = if pass.trigger == Trigger::Event { pass.evidence_time } else { pass.now };
        let evidence = tx.evidence(dataset_id, &needs, evidence_now, as_of).await?;
        for versioned in matching {
            let outcome = evaluate(&versioned.rule, &evidence);
            telemetry::metrics::record_rule_evaluation(outcome.outcome.as_str());
            if pass.only_changes && tx.latest_outcome(&versioned.rule.id, dataset_id).await? == Some(outcome.outcome) {
                continue;
            }
            outcomes.push((versioned, dataset_id, outcome));
        }
    }
    // Recorded together: a few statements for all of them rather than a few for each.
    let records: Vec<CheckOutcomeRecord<'_>> = outcomes
        .iter()
        .map(|(versioned, dataset_id, outcome)| CheckOutcomeRecord {
            rule_id: &versioned.rule.id,
            rule_version: versioned.version,
            dataset_id: *dataset_id,
            outcome,
            run_id: pass.run_id,
            at: pass.now,
            evidence_time: pass.evidence_time,
        })
        .collect();
    tx.record_checks(&records, pass.trigger).await
}

/// Evaluates the rules matching `datasets`, those that read what [`Arrived`] there, inside
/// the ingest transaction of the event that brought it.
pub async fn after_event(
    tx: &WriteTx,
    datasets: &[(DatasetId, Arrived)],
    run_id: Option<&str>,
    event_time: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<CheckResult>, StoreError> {
    let pass = Pass { run_id, now, evidence_time: event_time, trigger: Trigger::Event, only_changes: false };
    let ids: Vec<DatasetId> = datasets.iter().map(|(id, _)| *id).collect();
    let arrived = |id: DatasetId| datasets.iter().find(|(d, _)| *d == id).map(|(_, a)| *a).unwrap_or_default();
    evaluate_datasets(tx, &ids, |rule, id| arrived(id).concerns(&rule.check), pass).await
}

/// Freshness over every dataset, storing only changes of outcome, in the caller's transaction.
pub async fn sweep_freshness(tx: &WriteTx, datasets: &[DatasetId], now: DateTime<Utc>) -> Result<Vec<CheckResult>, StoreError> {
    let pass = Pass { run_id: None, now, evidence_time: now, trigger: Trigger::Schedule, only_changes: true };
    evaluate_datasets(tx, datasets, |r, _| matches!(r.check, Check::Freshness { .. }), pass).await
}

/// Every rule on `datasets`, now; every result is stored, in the caller's transaction.
pub async fn evaluate_now(tx: &WriteTx, datasets: &[DatasetId], now: DateTime<Utc>) -> Result<Vec<CheckResult>, StoreError> {
    let pass = Pass { run_id: None, now, evidence_time: now, trigger: Trigger::OnDemand, only_changes: false };
    evaluate_datasets(tx, datasets, |_, _| true, pass).await
}
