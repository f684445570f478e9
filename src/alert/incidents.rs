//! Incidents: one per (dataset, block rule) while the rule fails, however many evaluations
//! fail. Opened with the blast radius, acknowledged by a person, resolved by a person or by
//! itself when the rule passes again. Every change is on the incident's timeline and queued as
//! an alert in the same transaction.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::model::{AlertEvent, BlastRadius, Incident, IncidentStatus, JobRef, OwnerRef, TimelineEntry};
use super::outbox::{Subject, queue};
use super::payload;
use crate::gate::model::GateDecision;
use crate::lineage::{self, Direction, LineageQuery, NodeId, NodeKind};
use crate::model::{DatasetRef, Direction as IoDirection, NamedDataset};
use crate::openlineage::facets;
use crate::quality::evaluate::Outcome;
use crate::quality::records::CheckResult;
use crate::quality::Severity;
use crate::store::{Snapshot, Store, StoreError, WriteTx, reference};

/// How far downstream the blast radius looks (job hops).
const BLAST_RADIUS_DEPTH: u32 = 20;

/// The most downstream datasets and jobs a blast radius lists, nearest first. The walk runs
/// inside the ingest transaction over the database; unbounded, a failure near the sources of
/// a large warehouse walked tens of thousands of nodes and stored megabytes with the incident,
/// and the import rate fell as the graph grew. Past this, the incident says it is cut and the
/// lineage query gives the whole downstream.
pub const BLAST_RADIUS_MAX_NODES: usize = 500;

/// An incident that changed, for notices after commit.
#[derive(Debug, Clone)]
pub struct IncidentChange {
    pub incident: Incident,
    pub event: AlertEvent,
    pub dataset: DatasetRef,
}

#[derive(Debug, thiserror::Error)]
pub enum IncidentError {
    #[error("no incident with id {0}")]
    NotFound(i64),
    #[error("incident {id} is already {status}")]
    WrongState { id: i64, status: &'static str },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The owners an `ownership` facet names, as owners of the node `owns`.
fn owners_in(ownership: &serde_json::Value, owns: String, out: &mut Vec<OwnerRef>) {
    for owner in facets::owners(ownership) {
        let owner = OwnerRef { name: owner.name, owner_type: owner.owner_type, owns: owns.clone() };
        if !out.contains(&owner) {
            out.push(owner);
        }
    }
}

/// Everything downstream of `dataset` on the current lineage, with the owners of it all, read
/// in the caller's transaction: the events committed with this one (group commit) and this
/// event's own facets count.
pub async fn blast_radius(snapshot: &Snapshot<'_>, dataset: &crate::model::Dataset) -> Result<BlastRadius, StoreError> {
    let mut radius = BlastRadius::default();
    if let Some(ownership) = dataset.facets.get("ownership") {
        owners_in(ownership, NodeId::new(NodeKind::Dataset, &dataset.namespace, &dataset.name).to_string(), &mut radius.owners);
    }
    let dataset = reference(dataset);
    let query = LineageQuery {
        start: NodeId::new(NodeKind::Dataset, &dataset.namespace, &dataset.name),
        direction: Direction::Downstream,
        depth: BLAST_RADIUS_DEPTH,
        as_of: None,
        max_nodes: Some(BLAST_RADIUS_MAX_NODES),
    };
    let graph = match lineage::lineage(snapshot, &query).await {
        Ok(graph) => graph,
        Err(lineage::LineageError::NotFound(_)) => return Ok(radius),
        Err(lineage::LineageError::Store(e)) => return Err(e),
    };
    radius.truncated = graph.truncated;
    // The owners of every node, read in a few queries rather than one per node: a radius
    // can hold hundreds of nodes, and it is computed inside the ingest transaction.
    let refs = |kind: NodeKind| -> Vec<(String, String)> {
        graph.nodes.iter().filter(|n| n.kind() == kind).map(|n| (n.namespace().to_owned(), n.name().to_owned())).collect()
    };
    let dataset_owners = snapshot.dataset_ownership(&refs(NodeKind::Dataset)).await?;
    let job_owners = snapshot.job_ownership(&refs(NodeKind::Job)).await?;
    for node in graph.nodes {
        let key = (node.namespace().to_owned(), node.name().to_owned());
        match node.kind() {
            NodeKind::Dataset if key.0 == dataset.namespace && key.1 == dataset.name => {}
            NodeKind::Dataset => {
                if let Some(ownership) = dataset_owners.get(&key) {
                    owners_in(ownership, node.id().to_string(), &mut radius.owners);
                }
                radius.datasets.push(DatasetRef { namespace: key.0, name: key.1 });
            }
            NodeKind::Job => {
                if let Some(ownership) = job_owners.get(&key) {
                    owners_in(ownership, node.id().to_string(), &mut radius.owners);
                }
                radius.jobs.push(JobRef { namespace: key.0, name: key.1 });
            }
        }
    }
    Ok(radius)
}

/// Opens, resolves and alerts on new check results (inside their transaction).
pub async fn on_results(tx: &WriteTx, results: &[CheckResult], now: DateTime<Utc>) -> Result<Vec<IncidentChange>, StoreError> {
    let mut changes = Vec::new();
    let snapshot = tx.snapshot();
    for result in results {
        // A result judged on older evidence than the latest says nothing about now.
        if !tx.is_latest_check(result).await? {
            continue;
        }
        // A pass after a pass, or a rule's first pass on a dataset (nearly every result),
        // cannot change an incident.
        if result.outcome == Outcome::Pass && tx.replaced_a_pass_or_nothing(result) {
            continue;
        }
        // Only a block-level failure (which opens one) and a pass (which resolves one) depend on
        // the open incident; a warn-level failure alerts without one, and an error (evidence
        // missing, often a START's inputs) changes nothing.
        let opens_or_resolves = matches!((result.outcome, result.severity), (Outcome::Fail, Severity::Block) | (Outcome::Pass, _));
        let active = if opens_or_resolves { tx.active_incident(result.dataset_id, &result.rule_id).await? } else { None };
        let changes_something = matches!(
            (result.outcome, result.severity, &active),
            (Outcome::Fail, Severity::Block, None) | (Outcome::Pass, _, Some(_)) | (Outcome::Fail, Severity::Warn, _)
        );
        // Most results change nothing (a passing check with no incident open); the dataset is
        // read only for those that do.
        if !changes_something {
            continue;
        }
        let Some(dataset) = snapshot.dataset(result.dataset_id).await? else { continue };
        let dataset_ref = reference(&dataset);
        match (result.outcome, result.severity, active) {
            (Outcome::Fail, Severity::Block, None) => {
                let radius = blast_radius(&snapshot, &dataset).await?;
                let incident = tx.open_incident(result.dataset_id, &result.rule_id, result.id, &radius, now).await?;
                let details = json!({ "check_id": result.id, "observed": result.observed, "expected": result.expected, "message": result.message });
                tx.add_incident_event(incident.id, &TimelineEntry { kind: "opened".into(), actor: None, note: None, details: Some(details), at: now }).await?;
                let body = payload::incident(AlertEvent::IncidentOpened, &incident, &dataset_ref, Some(result), None, now);
                queue(tx, &Subject { event: AlertEvent::IncidentOpened, dataset: Some(&dataset_ref), severity: Severity::Block }, &body).await?;
                changes.push(IncidentChange { incident, event: AlertEvent::IncidentOpened, dataset: dataset_ref });
            }
            (Outcome::Pass, _, Some(open)) => {
                let incident = tx.set_incident_status(open.id, IncidentStatus::Resolved, None, now).await?;
                let note = format!("rule `{}` passes again", result.rule_id);
                tx.add_incident_event(incident.id, &TimelineEntry { kind: "resolved".into(), actor: None, note: Some(note.clone()), details: Some(json!({ "check_id": result.id })), at: now }).await?;
                let body = payload::incident(AlertEvent::IncidentResolved, &incident, &dataset_ref, Some(result), Some(&note), now);
                queue(tx, &Subject { event: AlertEvent::IncidentResolved, dataset: Some(&dataset_ref), severity: Severity::Block }, &body).await?;
                changes.push(IncidentChange { incident, event: AlertEvent::IncidentResolved, dataset: dataset_ref });
            }
            (Outcome::Fail, Severity::Warn, _) => {
                // Alert when a warn-level check starts failing, not on every failing evaluation.
                let previous = tx.previous_outcome(&result.rule_id, result.dataset_id, result.id).await?;
                if previous.as_deref() != Some(Outcome::Fail.as_str()) {
                    let body = payload::warn_failed(&dataset_ref, result, now);
                    queue(tx, &Subject { event: AlertEvent::WarnCheckFailed, dataset: Some(&dataset_ref), severity: Severity::Warn }, &body).await?;
                }
            }
            _ => {}
        }
    }
    Ok(changes)
}

/// Alerts on a gate violation: the run, the job, the blocking reasons and the outputs it is
/// about to taint (the job's current outputs).
pub async fn on_violation(tx: &WriteTx, run_id: &str, decision: &GateDecision, now: DateTime<Utc>) -> Result<(), StoreError> {
    let snapshot = tx.snapshot();
    let mut outputs = Vec::new();
    if let Some(run) = snapshot.run(run_id).await? {
        let mut ids = snapshot.run_datasets(run_id, IoDirection::Output).await?;
        if ids.is_empty()
            && let Some(job) = snapshot.job(run.job_id).await?
        {
            ids = snapshot.current_outputs(job.id).await?;
        }
        outputs = snapshot.named_datasets(&ids).await?.iter().map(NamedDataset::reference).collect();
    }
    let body = payload::violation(run_id, decision, &outputs, now);
    let dataset = decision.reasons.iter().filter(|r| r.kind == crate::gate::model::ReasonKind::Blocking).find_map(|r| r.dataset.clone());
    queue(tx, &Subject { event: AlertEvent::GateViolation, dataset: dataset.as_ref(), severity: Severity::Block }, &body).await?;
    Ok(())
}

async fn transition(
    store: &Store,
    id: i64,
    to: IncidentStatus,
    actor: &str,
    note: Option<String>,
    now: DateTime<Utc>,
) -> Result<IncidentChange, IncidentError> {
    let tx = store.begin_write().await?;
    let current = tx.incident_locked(id).await?.ok_or(IncidentError::NotFound(id))?;
    let allowed = match to {
        IncidentStatus::Acknowledged => current.status == IncidentStatus::Open,
        IncidentStatus::Resolved => current.status != IncidentStatus::Resolved,
        IncidentStatus::Open => false,
    };
    if !allowed {
        return Err(IncidentError::WrongState { id, status: current.status.as_str() });
    }
    let incident = tx.set_incident_status(id, to, Some(actor), now).await?;
    let kind = to.as_str().to_string();
    tx.add_incident_event(id, &TimelineEntry { kind, actor: Some(actor.to_string()), note: note.clone(), details: None, at: now }).await?;
    let dataset = tx.snapshot().dataset(incident.dataset_id).await?.map(|d| reference(&d)).unwrap_or(DatasetRef { namespace: String::new(), name: String::new() });
    let event = if to == IncidentStatus::Acknowledged { AlertEvent::IncidentAcknowledged } else { AlertEvent::IncidentResolved };
    let body = payload::incident(event, &incident, &dataset, None, note.as_deref(), now);
    queue(&tx, &Subject { event, dataset: Some(&dataset), severity: Severity::Block }, &body).await?;
    tx.commit().await?;
    Ok(IncidentChange { incident, event, dataset })
}

pub async fn acknowledge(store: &Store, id: i64, actor: &str, note: Option<String>, now: DateTime<Utc>) -> Result<IncidentChange, IncidentError> {
    transition(store, id, IncidentStatus::Acknowledged, actor, note, now).await
}

pub async fn resolve(store: &Store, id: i64, actor: &str, note: Option<String>, now: DateTime<Utc>) -> Result<IncidentChange, IncidentError> {
    transition(store, id, IncidentStatus::Resolved, actor, note, now).await
}
