//! The alerting domain types: incidents, their timeline, channels and outbox deliveries.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{DatasetId, DatasetRef};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IncidentStatus {
    Open,
    Acknowledged,
    Resolved,
}

impl IncidentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Open => "open",
            IncidentStatus::Acknowledged => "acknowledged",
            IncidentStatus::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> IncidentStatus {
        match s {
            "acknowledged" => IncidentStatus::Acknowledged,
            "resolved" => IncidentStatus::Resolved,
            _ => IncidentStatus::Open,
        }
    }
}

/// A job on the downstream lineage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRef {
    pub namespace: String,
    pub name: String,
}

/// Someone who owns a dataset or job in the blast radius (the `ownership` facet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerRef {
    pub name: String,
    pub owner_type: Option<String>,
    /// The node id of what they own.
    pub owns: String,
}

/// What is affected when the incident opened: everything downstream on the current lineage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BlastRadius {
    pub datasets: Vec<DatasetRef>,
    pub jobs: Vec<JobRef>,
    /// Owners of the failing dataset and of everything listed downstream.
    pub owners: Vec<OwnerRef>,
    /// The walk stopped at [`BLAST_RADIUS_MAX_NODES`](crate::alert::incidents::BLAST_RADIUS_MAX_NODES):
    /// more is downstream than is listed. Incidents stored before this existed read `false`.
    #[serde(default)]
    pub truncated: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    pub id: i64,
    pub dataset_id: DatasetId,
    pub rule_id: String,
    pub status: IncidentStatus,
    pub opening_check_id: i64,
    pub blast_radius: BlastRadius,
    pub opened_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// `None` when it resolved itself (the rule passed again).
    pub resolved_by: Option<String>,
}

/// One entry of an incident's timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineEntry {
    /// `opened`, `check_failed`, `acknowledged`, `resolved`.
    pub kind: String,
    pub actor: Option<String>,
    pub note: Option<String>,
    pub details: Option<Value>,
    pub at: DateTime<Utc>,
}

/// What an alert is about; channels choose the events they want.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertEvent {
    IncidentOpened,
    IncidentAcknowledged,
    IncidentResolved,
    GateViolation,
    WarnCheckFailed,
    Test,
}

impl AlertEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertEvent::IncidentOpened => "incident.opened",
            AlertEvent::IncidentAcknowledged => "incident.acknowledged",
            AlertEvent::IncidentResolved => "incident.resolved",
            AlertEvent::GateViolation => "gate.violation",
            AlertEvent::WarnCheckFailed => "check.warn_failed",
            AlertEvent::Test => "test",
        }
    }

    pub fn parse(s: &str) -> Option<AlertEvent> {
        [
            AlertEvent::IncidentOpened,
            AlertEvent::IncidentAcknowledged,
            AlertEvent::IncidentResolved,
            AlertEvent::GateViolation,
            AlertEvent::WarnCheckFailed,
            AlertEvent::Test,
        ]
        .into_iter()
        .find(|e| e.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    /// Generic webhook: JSON body, HMAC-SHA256 signature.
    Webhook,
    /// Slack incoming webhook: Slack's message format.
    Slack,
}

impl ChannelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Webhook => "webhook",
            ChannelKind::Slack => "slack",
        }
    }

    pub fn parse(s: &str) -> Option<ChannelKind> {
        match s {
            "webhook" => Some(ChannelKind::Webhook),
            "slack" => Some(ChannelKind::Slack),
            _ => None,
        }
    }
}

/// Which alerts a channel wants. Empty lists mean "all".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChannelFilter {
    /// Globs over the dataset namespace.
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// Globs over the dataset name.
    #[serde(default)]
    pub datasets: Vec<String>,
    /// `block` to hear only about block-level failures; `warn` (default) for both.
    #[serde(default)]
    pub min_severity: Option<String>,
    /// Event names (`incident.opened`, ...).
    #[serde(default)]
    pub events: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    pub id: i64,
    pub name: String,
    pub kind: ChannelKind,
    pub url: String,
    pub secret: Option<String>,
    pub filter: ChannelFilter,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> DeliveryStatus {
        match s {
            "delivered" => DeliveryStatus::Delivered,
            "failed" => DeliveryStatus::Failed,
            _ => DeliveryStatus::Pending,
        }
    }
}

/// One alert for one channel, as queued and as delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: i64,
    pub channel_id: i64,
    /// Stays the same across retries (`X-Weir-Delivery`), so receivers can de-duplicate.
    pub delivery_id: String,
    pub event: String,
    pub payload: Value,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub last_status: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}
