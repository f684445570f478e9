//! The gate's domain types: taint, waivers, reasons and decisions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{DatasetId, DatasetRef};

/// Whether a completed run read bad data, and where the badness came from.
#[derive(Debug, Clone, PartialEq)]
pub struct RunTaint {
    pub run_id: String,
    pub tainted: bool,
    pub origin_dataset_id: Option<DatasetId>,
    pub origin_rule_id: Option<String>,
    pub origin_check_id: Option<i64>,
    /// Node ids from the failing origin dataset to the run's job.
    pub path: Vec<String>,
    /// Tainted because the run started although the gate blocked it.
    pub violation: bool,
}

impl RunTaint {
    pub fn clean(run_id: &str) -> RunTaint {
        RunTaint {
            run_id: run_id.to_string(),
            tainted: false,
            origin_dataset_id: None,
            origin_rule_id: None,
            origin_check_id: None,
            path: Vec::new(),
            violation: false,
        }
    }

    /// Same verdict and origin (what propagation compares to decide whether to go on).
    pub fn same_verdict(&self, other: &RunTaint) -> bool {
        self.tainted == other.tainted
            && self.origin_dataset_id == other.origin_dataset_id
            && self.origin_rule_id == other.origin_rule_id
            && self.path == other.path
            && self.violation == other.violation
    }
}

/// A person's decision to let a failing check (or everything on a dataset) pass for a while.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Waiver {
    pub id: i64,
    pub dataset_id: DatasetId,
    /// `None`: every rule on the dataset, and its taint.
    pub rule_id: Option<String>,
    pub reason: String,
    pub author: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
}

impl Waiver {
    /// In force at `t`: created, not yet expired, not revoked.
    pub fn active_at(&self, t: DateTime<Utc>) -> bool {
        self.created_at <= t && t < self.expires_at && self.revoked_at.is_none_or(|r| t < r)
    }

    /// Covers a failure of `rule_id` (or, with `None`, the dataset's taint).
    pub fn covers(&self, rule_id: Option<&str>) -> bool {
        match (&self.rule_id, rule_id) {
            (None, _) => true,
            (Some(waived), Some(rule)) => waived == rule,
            (Some(_), None) => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Decision {
    Allow,
    Block,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "ALLOW",
            Decision::Block => "BLOCK",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReasonKind {
    /// Makes the decision BLOCK.
    Blocking,
    /// Worth knowing (a warn-level failure, a check that could not run); does not block.
    Warning,
    /// Would block, but a waiver lets it pass.
    Waived,
    /// Context: the job was never seen, an input has no evidence, ...
    Note,
}

/// One reason of a decision, flat so that it is stored and served as it was decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateReason {
    pub kind: ReasonKind,
    pub message: String,
    /// The input this reason is about.
    pub dataset: Option<DatasetRef>,
    /// The input's health status (`FAILING`, `TAINTED`, ...).
    pub status: Option<String>,
    /// The check behind it: its rule, result, observed value, expectation and time.
    pub rule_id: Option<String>,
    pub rule_version: Option<i64>,
    pub check_id: Option<i64>,
    pub observed: Option<Value>,
    pub expected: Option<String>,
    pub evaluated_at: Option<DateTime<Utc>>,
    /// For a taint: the failing dataset it came from and the lineage path to this input.
    pub origin: Option<DatasetRef>,
    pub path: Vec<String>,
    pub waiver: Option<Waiver>,
}

impl GateReason {
    pub fn note(message: impl Into<String>) -> GateReason {
        GateReason {
            kind: ReasonKind::Note,
            message: message.into(),
            dataset: None,
            status: None,
            rule_id: None,
            rule_version: None,
            check_id: None,
            observed: None,
            expected: None,
            evaluated_at: None,
            origin: None,
            path: Vec::new(),
            waiver: None,
        }
    }
}

/// A recorded answer to "may this job run?".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateDecision {
    pub id: i64,
    pub namespace: String,
    pub job: String,
    pub decision: Decision,
    pub reasons: Vec<GateReason>,
    pub inputs: Vec<DatasetRef>,
    pub decided_at: DateTime<Utc>,
    /// `request` (someone asked) or `violation_check` (a START event was checked).
    pub context: String,
    /// The run whose START was checked, for a violation check.
    pub run_id: Option<String>,
}

/// A run that started although the gate would have blocked it.
#[derive(Debug, Clone, PartialEq)]
pub struct GateViolation {
    pub run_id: String,
    pub decision_id: i64,
    pub event_time: DateTime<Utc>,
    pub detected_at: DateTime<Utc>,
}
