//! Stored quality records: rules with their versions and history, and check results.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::definition::RuleDefinition;
use super::evaluate::Outcome;
use super::rule::Severity;
use crate::model::DatasetId;

/// A rule as stored: its definition and the version every change bumps.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleRecord {
    pub definition: RuleDefinition,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleAction {
    Created,
    Updated,
    Deleted,
}

impl RuleAction {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleAction::Created => "created",
            RuleAction::Updated => "updated",
            RuleAction::Deleted => "deleted",
        }
    }

    pub fn parse(s: &str) -> RuleAction {
        match s {
            "created" => RuleAction::Created,
            "deleted" => RuleAction::Deleted,
            _ => RuleAction::Updated,
        }
    }
}

/// One entry of a rule's history: who changed it, when, and to what.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleChange {
    pub rule_id: String,
    pub version: i64,
    pub action: RuleAction,
    /// The definition after the change (`None` for a deletion).
    pub definition: Option<RuleDefinition>,
    pub author: String,
    pub changed_at: DateTime<Utc>,
}

/// What caused an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// An event brought new evidence (same transaction as the event).
    Event,
    /// The periodic freshness sweep.
    Schedule,
    /// Someone asked (`evaluateRules`).
    OnDemand,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Event => "event",
            Trigger::Schedule => "schedule",
            Trigger::OnDemand => "on_demand",
        }
    }
}

/// One evaluation of one rule on one dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckResult {
    pub id: i64,
    pub rule_id: String,
    pub rule_version: i64,
    pub dataset_id: DatasetId,
    pub outcome: Outcome,
    pub severity: Severity,
    pub observed: Option<Value>,
    pub expected: String,
    pub message: String,
    pub run_id: Option<String>,
    pub trigger: String,
    pub evaluated_at: DateTime<Utc>,
    /// Event time of the evidence judged (the event's time; the evaluation time for scheduled
    /// and on-demand checks). Health "as of" a time reads this.
    pub evidence_time: DateTime<Utc>,
}

/// Filters of a dataset's check history.
#[derive(Debug, Clone, Default)]
pub struct CheckFilter {
    pub rule_id: Option<String>,
    pub outcome: Option<Outcome>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}
