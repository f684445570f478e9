//! In-process notices of what changed, for GraphQL subscriptions. Published after the change
//! committed; a subscriber that lags loses the oldest notices rather than slowing ingestion.

use tokio::sync::broadcast;

use super::model::{AlertEvent, Incident};
use crate::gate::model::GateDecision;
use crate::model::DatasetRef;
use crate::quality::records::CheckResult;

#[derive(Debug, Clone)]
pub enum Notice {
    IncidentChanged { incident: Incident, event: AlertEvent, dataset: DatasetRef },
    CheckResultRecorded { result: CheckResult, dataset: DatasetRef },
    GateViolation { run_id: String, decision: GateDecision },
}

#[derive(Clone)]
pub struct Notices {
    sender: broadcast::Sender<Notice>,
}

impl Default for Notices {
    fn default() -> Self {
        Notices { sender: broadcast::channel(1024).0 }
    }
}

impl Notices {
    pub fn publish(&self, notice: Notice) {
        // No subscriber is not an error.
        let _ = self.sender.send(notice);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.sender.subscribe()
    }
}

/// Publishes what a committed change produced: check results, incident changes, a violation.
pub async fn publish(
    notices: &Notices,
    store: &crate::store::Store,
    results: &[CheckResult],
    incidents: &[super::incidents::IncidentChange],
    violation: Option<&(String, GateDecision)>,
) -> Result<(), crate::store::StoreError> {
    if !results.is_empty() {
        let mut ids: Vec<crate::model::DatasetId> = results.iter().map(|r| r.dataset_id).collect();
        ids.sort();
        ids.dedup();
        let datasets = store.datasets_by_ids(&ids).await?;
        for result in results {
            if let Some(d) = datasets.iter().find(|d| d.id == result.dataset_id) {
                let dataset = DatasetRef { namespace: d.namespace.clone(), name: d.name.clone() };
                notices.publish(Notice::CheckResultRecorded { result: result.clone(), dataset });
            }
        }
    }
    for change in incidents {
        notices.publish(Notice::IncidentChanged { incident: change.incident.clone(), event: change.event, dataset: change.dataset.clone() });
    }
    if let Some((run_id, decision)) = violation {
        notices.publish(Notice::GateViolation { run_id: run_id.clone(), decision: decision.clone() });
    }
    Ok(())
}
