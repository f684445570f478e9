//! Gating: which data is bad and which data was built from bad data, and whether a job may run.
//!
//! * [`assess`] — a dataset's full health (own checks, taint, waivers), now or as of a time;
//! * [`taint`] — whether a completed run read bad data, kept up to date as evidence arrives in
//!   any order;
//! * [`decide`] — the gate decision for a job, with every reason;
//! * [`waivers`] — letting a failure pass for a while;
//! * [`hooks`] — what ingestion does after storing an event (violations, taint);
//! * [`model`] — the types of all of the above.

pub mod assess;
pub mod decide;
pub mod hooks;
pub mod model;
pub mod taint;
pub mod waivers;

use crate::lineage::{NodeId, NodeKind};
use crate::quality::Rule;
use crate::quality::records::RuleRecord;
use crate::store::{Snapshot, StoreError, WriteTx};

/// The stored rules, validated (one load per decision or ingest, shared by every dataset).
pub async fn load_rules(snapshot: &Snapshot<'_>) -> Result<Vec<Rule>, StoreError> {
    Ok(validated(snapshot.rules().await?))
}

/// The rules of a write transaction, validated (read once per transaction, see
/// [`WriteTx::rules`]).
pub async fn load_rules_in(tx: &WriteTx) -> Result<Vec<Rule>, StoreError> {
    Ok(validated(tx.rules().await?))
}

/// Stored rules that no longer validate (written by another Weir version) are left out.
fn validated(records: Vec<RuleRecord>) -> Vec<Rule> {
    records.into_iter().filter_map(|r| Rule::from_definition(r.definition).ok()).collect()
}

pub(crate) fn dataset_node(namespace: &str, name: &str) -> String {
    NodeId::new(NodeKind::Dataset, namespace, name).to_string()
}

pub(crate) fn job_node(namespace: &str, name: &str) -> String {
    NodeId::new(NodeKind::Job, namespace, name).to_string()
}
