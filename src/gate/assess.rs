//! A dataset's full health: its own checks, the taint it inherited from the run that last
//! wrote it, and the waivers that let either pass.
//!
//! * `FAILING` — a block-level check fails and is not waived;
//! * `TAINTED` — not failing itself, but last written by a run that read failing or tainted
//!   data, and the taint is not waived;
//! * `WARNING` — a warn-level check fails, a check could not run, or a failure is waived;
//! * `HEALTHY` — every applicable check passes; `UNKNOWN` — no evidence yet.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::dataset_node;
use super::model::{RunTaint, Waiver};
use crate::model::{Dataset, DatasetId, DatasetRef, NamedDataset};
use crate::quality::evaluate::Outcome;
use crate::quality::health::HealthStatus;
use crate::quality::records::CheckResult;
use crate::quality::{Rule, Severity};
use crate::store::{Snapshot, StoreError};

/// A failing block-level check, and the waiver that lets it pass, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub check: CheckResult,
    pub waiver: Option<Waiver>,
}

/// Inherited badness: where it came from and how it got here.
#[derive(Debug, Clone, PartialEq)]
pub struct Taint {
    pub origin: DatasetRef,
    pub origin_dataset_id: DatasetId,
    pub origin_rule_id: Option<String>,
    /// The failing check at the origin, when it was a check (not a gate violation).
    pub origin_check: Option<CheckResult>,
    /// Node ids from the origin dataset to this dataset.
    pub path: Vec<String>,
    /// The run that wrote this dataset from bad data.
    pub run_id: String,
    pub violation: bool,
    pub waiver: Option<Waiver>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub dataset: NamedDataset,
    pub status: HealthStatus,
    pub failures: Vec<Failure>,
    /// Warn-level failures and checks that could not run.
    pub warnings: Vec<CheckResult>,
    /// The latest result of every applicable rule.
    pub checks: Vec<CheckResult>,
    pub taint: Option<Taint>,
}

/// Assesses `dataset` on the evidence known as of `as_of` (everything when `None`), with the
/// waivers in force at `waivers_at`.
pub async fn assess(
    snapshot: &Snapshot<'_>,
    rules: &[Rule],
    dataset: &NamedDataset,
    as_of: Option<DateTime<Utc>>,
    waivers_at: DateTime<Utc>,
) -> Result<Assessment, StoreError> {
    let mut found = assess_all(snapshot, rules, std::slice::from_ref(dataset), as_of, waivers_at).await?;
    found.pop().ok_or_else(|| StoreError::Corrupt(format!("dataset {}: no assessment", dataset.id.0)))
}

/// [`assess`] for each of `datasets`, in their order.
pub async fn assess_all(
    snapshot: &Snapshot<'_>,
    rules: &[Rule],
    datasets: &[NamedDataset],
    as_of: Option<DateTime<Utc>>,
    waivers_at: DateTime<Utc>,
) -> Result<Vec<Assessment>, StoreError> {
    let evidence = EvidenceOf::read(snapshot, datasets, as_of).await?;
    let mut found = Vec::with_capacity(datasets.len());
    for dataset in datasets {
        found.push(conclude(snapshot, rules, dataset, evidence.of(dataset.id), waivers_at).await?);
    }
    Ok(found)
}

/// What a dataset's health is judged on, as of a time: the latest result of each rule that
/// ran on it, and the taint verdict of the run that last wrote it.
pub struct Evidence {
    checks: Vec<CheckResult>,
    writer_taint: Option<RunTaint>,
}

/// The [`Evidence`] of several datasets, read at once (two statements, not two per dataset):
/// the gate judges every input of a job, ingest every input of each run that starts or
/// completes.
pub struct EvidenceOf {
    checks: HashMap<DatasetId, Vec<CheckResult>>,
    writer_taints: HashMap<DatasetId, RunTaint>,
}

impl EvidenceOf {
    pub async fn read(snapshot: &Snapshot<'_>, datasets: &[NamedDataset], as_of: Option<DateTime<Utc>>) -> Result<EvidenceOf, StoreError> {
        let mut ids: Vec<DatasetId> = datasets.iter().map(|d| d.id).collect();
        ids.sort();
        ids.dedup();
        let mut checks: HashMap<DatasetId, Vec<CheckResult>> = HashMap::new();
        for check in snapshot.checks_as_of(&ids, as_of).await? {
            checks.entry(check.dataset_id).or_default().push(check);
        }
        let writer_taints = snapshot.writer_taints_as_of(&ids, as_of).await?.into_iter().collect();
        Ok(EvidenceOf { checks, writer_taints })
    }

    /// The evidence of `dataset`, one of those read.
    pub fn of(&self, dataset: DatasetId) -> Evidence {
        Evidence { checks: self.checks.get(&dataset).cloned().unwrap_or_default(), writer_taint: self.writer_taints.get(&dataset).cloned() }
    }
}

/// The assessment of `dataset` on its evidence, with the waivers in force at `waivers_at`.
/// Reads more only for a failure or a taint (waivers, the taint's origin).
pub async fn conclude(
    snapshot: &Snapshot<'_>,
    rules: &[Rule],
    dataset: &NamedDataset,
    evidence: Evidence,
    waivers_at: DateTime<Utc>,
) -> Result<Assessment, StoreError> {
    let applies = |rule_id: &str| rules.iter().any(|r| r.id == rule_id && r.target.matches(&dataset.namespace, &dataset.name));
    let checks: Vec<CheckResult> = evidence.checks.into_iter().filter(|c| applies(&c.rule_id)).collect();
    let failing: Vec<&CheckResult> = checks.iter().filter(|c| c.outcome == Outcome::Fail && c.severity == Severity::Block).collect();
    let warnings: Vec<CheckResult> = checks
        .iter()
        .filter(|c| c.outcome == Outcome::Error || (c.outcome == Outcome::Fail && c.severity == Severity::Warn))
        .cloned()
        .collect();
    let mut taint = inherited_taint(snapshot, dataset, evidence.writer_taint).await?;

    // Waivers matter only to a failure or a taint; a healthy dataset (nearly every input the
    // gate looks at) needs no read of them.
    let waivers: Vec<Waiver> = if failing.is_empty() && taint.is_none() {
        Vec::new()
    } else {
        snapshot.waivers_of(dataset.id).await?.into_iter().filter(|w| w.active_at(waivers_at)).collect()
    };
    let waiver_for = |rule_id: Option<&str>| waivers.iter().find(|w| w.covers(rule_id)).cloned();
    let failures: Vec<Failure> = failing
        .into_iter()
        .map(|c| Failure { check: c.clone(), waiver: waiver_for(Some(&c.rule_id)) })
        .collect();
    if let Some(t) = &mut taint {
        // Waived on this dataset as a whole, or at its origin (the failure that caused it).
        t.waiver = match waiver_for(None) {
            Some(w) => Some(w),
            None => {
                let origin_waivers = snapshot.waivers_of(t.origin_dataset_id).await?;
                origin_waivers.into_iter().find(|w| w.active_at(waivers_at) && w.covers(t.origin_rule_id.as_deref()) && t.origin_rule_id.is_some())
            }
        };
    }

    let status = if failures.iter().any(|f| f.waiver.is_none()) {
        HealthStatus::Failing
    } else if taint.as_ref().is_some_and(|t| t.waiver.is_none()) {
        HealthStatus::Tainted
    } else if !warnings.is_empty() || !failures.is_empty() || taint.is_some() {
        HealthStatus::Warning
    } else if checks.is_empty() {
        HealthStatus::Unknown
    } else {
        HealthStatus::Healthy
    };
    Ok(Assessment { dataset: dataset.clone(), status, failures, warnings, checks, taint })
}

/// The taint of the run that last wrote the dataset (`writer_taint`, its verdict), extended to
/// the dataset.
async fn inherited_taint(snapshot: &Snapshot<'_>, dataset: &NamedDataset, writer_taint: Option<RunTaint>) -> Result<Option<Taint>, StoreError> {
    let Some(run_taint) = writer_taint else { return Ok(None) };
    if !run_taint.tainted {
        return Ok(None);
    }
    let Some(origin_id) = run_taint.origin_dataset_id else { return Ok(None) };
    let Some(origin) = snapshot.named_datasets(&[origin_id]).await?.pop() else { return Ok(None) };
    let origin_check = match run_taint.origin_check_id {
        Some(id) => snapshot.check_result(id).await?,
        None => None,
    };
    let mut path = run_taint.path.clone();
    path.push(dataset_node(&dataset.namespace, &dataset.name));
    Ok(Some(Taint {
        origin: origin.reference(),
        origin_dataset_id: origin_id,
        origin_rule_id: run_taint.origin_rule_id,
        origin_check,
        path,
        run_id: run_taint.run_id,
        violation: run_taint.violation,
        waiver: None,
    }))
}

/// Datasets whose health is FAILING now: a block-level check fails and no waiver lets it pass.
pub async fn failing_datasets(store: &crate::store::Store, now: DateTime<Utc>) -> Result<Vec<Dataset>, StoreError> {
    let mut ids: Vec<DatasetId> = store.failing_checks().await?.iter().map(|c| c.dataset_id).collect();
    ids.sort();
    ids.dedup();
    let snapshot = store.snapshot();
    let rules = super::load_rules(&snapshot).await?;
    let datasets = snapshot.datasets(&ids).await?;
    let named: Vec<NamedDataset> = datasets.iter().map(NamedDataset::from).collect();
    let assessed = assess_all(&snapshot, &rules, &named, None, now).await?;
    Ok(datasets.into_iter().zip(assessed).filter(|(_, a)| a.status == HealthStatus::Failing).map(|(d, _)| d).collect())
}
