//! A dataset's health, derived from the latest result of every rule that applies to it.
//!
//! * `FAILING` — a block-severity check's latest result is `fail`;
//! * `WARNING` — a warn-severity check failed, or a check could not run (`error`: its evidence
//!   is missing or malformed — someone should look, but it is not known to be bad);
//! * `HEALTHY` — every applicable check's latest result is `pass`;
//! * `UNKNOWN` — no applicable check has a result yet (no rules, or no evidence yet).

use super::evaluate::Outcome;
use super::records::CheckResult;
use super::rule::{Rule, Severity};
use crate::model::{Dataset, DatasetId};
use crate::store::{Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HealthStatus {
    Unknown,
    Healthy,
    Warning,
    Failing,
}

impl HealthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Unknown => "UNKNOWN",
            HealthStatus::Healthy => "HEALTHY",
            HealthStatus::Warning => "WARNING",
            HealthStatus::Failing => "FAILING",
        }
    }
}

/// The status implied by a set of latest results `(outcome, effective severity)`.
pub fn status_of(results: impl IntoIterator<Item = (Outcome, Severity)>) -> HealthStatus {
    results.into_iter().fold(HealthStatus::Unknown, |status, (outcome, severity)| {
        let this = match (outcome, severity) {
            (Outcome::Fail, Severity::Block) => HealthStatus::Failing,
            (Outcome::Fail, Severity::Warn) | (Outcome::Error, _) => HealthStatus::Warning,
            (Outcome::Pass, _) => HealthStatus::Healthy,
        };
        status.max(this)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_result_wins() {
        assert_eq!(status_of([]), HealthStatus::Unknown);
        assert_eq!(status_of([(Outcome::Pass, Severity::Block)]), HealthStatus::Healthy);
        assert_eq!(status_of([(Outcome::Pass, Severity::Block), (Outcome::Fail, Severity::Warn)]), HealthStatus::Warning);
        assert_eq!(status_of([(Outcome::Error, Severity::Block), (Outcome::Pass, Severity::Block)]), HealthStatus::Warning);
        assert_eq!(
            status_of([(Outcome::Fail, Severity::Warn), (Outcome::Fail, Severity::Block), (Outcome::Pass, Severity::Warn)]),
            HealthStatus::Failing
        );
    }
}

/// A dataset's health with the results that make it so.
#[derive(Debug, Clone, PartialEq)]
pub struct Health {
    pub status: HealthStatus,
    /// Latest results that are not a pass (failures and errors), block-level first.
    pub reasons: Vec<CheckResult>,
    /// Latest result of every applicable rule.
    pub latest: Vec<CheckResult>,
}

/// Latest results of rules that still exist and still target the dataset: a deleted rule or
/// one whose target moved away stops counting.
pub async fn dataset_health(store: &Store, dataset: &Dataset) -> Result<Health, StoreError> {
    let rules: Vec<Rule> = store
        .rules()
        .await?
        .into_iter()
        .filter_map(|r| Rule::from_definition(r.definition).ok())
        .collect();
    let latest: Vec<CheckResult> = store
        .latest_checks_of(dataset.id)
        .await?
        .into_iter()
        .filter(|c| rules.iter().any(|r| r.id == c.rule_id && r.target.matches(&dataset.namespace, &dataset.name)))
        .collect();
    let status = status_of(latest.iter().map(|c| (c.outcome, c.severity)));
    let mut reasons: Vec<CheckResult> = latest.iter().filter(|c| c.outcome != Outcome::Pass).cloned().collect();
    reasons.sort_by_key(|c| (c.severity != Severity::Block, c.outcome != Outcome::Fail, c.rule_id.clone()));
    Ok(Health { status, reasons, latest })
}

/// Datasets whose health is FAILING now.
pub async fn failing_datasets(store: &Store) -> Result<Vec<Dataset>, StoreError> {
    let rules: Vec<Rule> = store
        .rules()
        .await?
        .into_iter()
        .filter_map(|r| Rule::from_definition(r.definition).ok())
        .collect();
    let failing = store.failing_checks().await?;
    let mut ids: Vec<DatasetId> = failing.iter().map(|c| c.dataset_id).collect();
    ids.sort();
    ids.dedup();
    let datasets = store.datasets_by_ids(&ids).await?;
    let mut out: Vec<Dataset> = datasets
        .into_iter()
        .filter(|d| {
            failing.iter().any(|c| {
                c.dataset_id == d.id && rules.iter().any(|r| r.id == c.rule_id && r.target.matches(&d.namespace, &d.name))
            })
        })
        .collect();
    out.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    Ok(out)
}
