//! The gate decision: may this job run now?
//!
//! Inputs are those the caller names, else the job's most recent inputs. Each input's full
//! health gives reasons: a failing check or a taint blocks (with the check, or the origin and
//! the lineage path), a waived one is shown as waived, warnings are shown without blocking,
//! and an input with no evidence follows the configured policy. A job never seen is allowed
//! with a note saying so.

use chrono::{DateTime, Utc};
use clap::ValueEnum;

use super::assess::{Assessment, assess_all};
use super::model::{Decision, GateDecision, GateReason, ReasonKind};
use crate::model::{DatasetRef, NamedDataset};
use crate::quality::Rule;
use crate::quality::health::HealthStatus;
use crate::quality::records::CheckResult;
use crate::store::{Snapshot, StoreError};

/// What to do with an input nothing is known about (no check has run on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnknownInputPolicy {
    Allow,
    Block,
}

pub struct GateRequest {
    pub namespace: String,
    pub job: String,
    /// The inputs the job is about to read; `None` for the job's most recent inputs.
    pub inputs: Option<Vec<DatasetRef>>,
}

/// Decides (without recording). `as_of` judges evidence up to a time (used for START events);
/// `None` judges on everything known. Waivers are those in force at `now`.
pub async fn decide(
    snapshot: &Snapshot<'_>,
    rules: &[Rule],
    request: &GateRequest,
    as_of: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    unknown: UnknownInputPolicy,
) -> Result<GateDecision, StoreError> {
    let mut reasons = Vec::new();
    let (datasets, named) = match &request.inputs {
        Some(refs) => {
            let mut found = Vec::new();
            for r in refs {
                match snapshot.named_dataset_by_ref(&r.namespace, &r.name).await? {
                    Some(d) => found.push(d),
                    None => reasons.push(unknown_input(r.clone(), unknown, "Weir has never seen this dataset")),
                }
            }
            (found, refs.clone())
        }
        None => match snapshot.job_by_ref(&request.namespace, &request.job).await? {
            None => {
                reasons.push(GateReason::note(format!(
                    "job {}/{} has never been seen: no inputs to check",
                    request.namespace, request.job
                )));
                (Vec::new(), Vec::new())
            }
            Some(job) => {
                let datasets = snapshot.named_datasets(&snapshot.current_inputs(job.id).await?).await?;
                if datasets.is_empty() {
                    reasons.push(GateReason::note("the job's most recent run read no datasets"));
                }
                let refs = datasets.iter().map(NamedDataset::reference).collect();
                (datasets, refs)
            }
        },
    };
    let on = Judged { request, as_of, now, unknown };
    on.conclude(snapshot, rules, datasets, named, reasons).await
}

/// [`decide`] on inputs already read by id (the gate hook has them from the event): the same
/// decision, without looking each one up again by name. `request.inputs` is not read.
pub async fn decide_on_datasets(
    snapshot: &Snapshot<'_>,
    rules: &[Rule],
    request: &GateRequest,
    datasets: Vec<NamedDataset>,
    as_of: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    unknown: UnknownInputPolicy,
) -> Result<GateDecision, StoreError> {
    let named = datasets.iter().map(NamedDataset::reference).collect();
    let on = Judged { request, as_of, now, unknown };
    on.conclude(snapshot, rules, datasets, named, Vec::new()).await
}

/// What a decision is about and judged on.
struct Judged<'a> {
    request: &'a GateRequest,
    as_of: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    unknown: UnknownInputPolicy,
}

impl Judged<'_> {
    /// The decision on the inputs found (`datasets`, named `named`), after the `reasons`
    /// gathered while finding them.
    async fn conclude(
        &self,
        snapshot: &Snapshot<'_>,
        rules: &[Rule],
        datasets: Vec<NamedDataset>,
        named: Vec<DatasetRef>,
        mut reasons: Vec<GateReason>,
    ) -> Result<GateDecision, StoreError> {
        let assessed = assess_all(snapshot, rules, &datasets, self.as_of, self.now).await?;
        for (dataset, health) in datasets.iter().zip(&assessed) {
            reasons.extend(reasons_for(dataset, health, self.unknown));
        }
        let decision = if reasons.iter().any(|r| r.kind == ReasonKind::Blocking) { Decision::Block } else { Decision::Allow };
        Ok(GateDecision {
            id: 0,
            namespace: self.request.namespace.clone(),
            job: self.request.job.clone(),
            decision,
            reasons,
            inputs: named,
            decided_at: self.now,
            context: "request".to_string(),
            run_id: None,
        })
    }
}

fn unknown_input(dataset: DatasetRef, policy: UnknownInputPolicy, why: &str) -> GateReason {
    let kind = match policy {
        UnknownInputPolicy::Allow => ReasonKind::Note,
        UnknownInputPolicy::Block => ReasonKind::Blocking,
    };
    let mut reason = GateReason::note(format!("no evidence about {}/{}: {why}", dataset.namespace, dataset.name));
    reason.kind = kind;
    reason.status = Some(HealthStatus::Unknown.as_str().to_string());
    reason.dataset = Some(dataset);
    reason
}

fn check_reason(kind: ReasonKind, dataset: &NamedDataset, status: HealthStatus, check: &CheckResult, message: String) -> GateReason {
    GateReason {
        kind,
        message,
        dataset: Some(dataset.reference()),
        status: Some(status.as_str().to_string()),
        rule_id: Some(check.rule_id.clone()),
        rule_version: Some(check.rule_version),
        check_id: Some(check.id),
        observed: check.observed.clone(),
        expected: Some(check.expected.clone()),
        evaluated_at: Some(check.evaluated_at),
        origin: None,
        path: Vec::new(),
        waiver: None,
    }
}

fn reasons_for(dataset: &NamedDataset, health: &Assessment, unknown: UnknownInputPolicy) -> Vec<GateReason> {
    let name = format!("{}/{}", dataset.namespace, dataset.name);
    let mut out = Vec::new();
    for failure in &health.failures {
        let check = &failure.check;
        let mut reason = match &failure.waiver {
            None => check_reason(
                ReasonKind::Blocking,
                dataset,
                HealthStatus::Failing,
                check,
                format!("input {name} fails block rule `{}`: {} (expected {})", check.rule_id, check.message, check.expected),
            ),
            Some(w) => check_reason(
                ReasonKind::Waived,
                dataset,
                health.status,
                check,
                format!("input {name} fails rule `{}`, waived by {} until {}: {}", check.rule_id, w.author, w.expires_at, w.reason),
            ),
        };
        reason.waiver = failure.waiver.clone();
        out.push(reason);
    }
    if let Some(taint) = &health.taint {
        let via = taint.path.join(" -> ");
        let (kind, message) = match &taint.waiver {
            None => (
                ReasonKind::Blocking,
                format!("input {name} is tainted: built from bad data at {}/{} ({via})", taint.origin.namespace, taint.origin.name),
            ),
            Some(w) => (
                ReasonKind::Waived,
                format!("input {name} is tainted from {}/{}, waived by {} until {}: {}", taint.origin.namespace, taint.origin.name, w.author, w.expires_at, w.reason),
            ),
        };
        let mut reason = match &taint.origin_check {
            Some(check) => check_reason(kind, dataset, HealthStatus::Tainted, check, message),
            None => {
                let mut r = GateReason::note(message);
                r.kind = kind;
                r.dataset = Some(dataset.reference());
                r.status = Some(HealthStatus::Tainted.as_str().to_string());
                r.rule_id = taint.origin_rule_id.clone();
                r
            }
        };
        reason.origin = Some(taint.origin.clone());
        reason.path = taint.path.clone();
        reason.waiver = taint.waiver.clone();
        out.push(reason);
    }
    for warning in &health.warnings {
        let message = format!("input {name}: rule `{}` {}: {}", warning.rule_id, warning.outcome.as_str(), warning.message);
        out.push(check_reason(ReasonKind::Warning, dataset, health.status, warning, message));
    }
    if health.status == HealthStatus::Unknown {
        out.push(unknown_input(dataset.reference(), unknown, "no check has run on it yet"));
    }
    out
}

/// Decides on everything known now, and records the decision.
pub async fn decide_now(
    store: &crate::store::Store,
    request: &GateRequest,
    now: DateTime<Utc>,
    unknown: UnknownInputPolicy,
) -> Result<GateDecision, StoreError> {
    let snapshot = store.snapshot();
    let rules = super::load_rules(&snapshot).await?;
    let decision = decide(&snapshot, &rules, request, None, now, unknown).await?;
    let tx = store.begin_write().await?;
    let recorded = tx.record_decision(&decision).await?;
    tx.commit().await?;
    crate::telemetry::metrics::record_gate_decision(&recorded.decision.as_str().to_ascii_lowercase());
    Ok(recorded)
}
