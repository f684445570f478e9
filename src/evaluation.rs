//! Evaluating rules outside event ingestion — the periodic freshness sweep and `evaluateRules`
//! — with everything that follows from the results: taint judged again, incidents opened or
//! resolved, alerts queued. All of it in one transaction, as ingestion does, so an alert exists
//! exactly when the result that caused it does.

use chrono::{DateTime, Utc};

use crate::alert::incidents::{IncidentChange, on_results};
use crate::gate;
use crate::model::DatasetId;
use crate::quality::engine;
use crate::quality::records::CheckResult;
use crate::store::{Store, StoreError};

/// What an evaluation stored and changed.
pub struct Evaluated {
    pub results: Vec<CheckResult>,
    pub incidents: Vec<IncidentChange>,
}

#[derive(Clone, Copy)]
pub enum Scope {
    /// Freshness rules only, storing only changes of outcome.
    FreshnessSweep,
    /// Every rule, every result stored.
    AllRules,
}

/// Evaluates `scope` on `datasets` (every dataset when `None`) now.
pub async fn evaluate(store: &Store, scope: Scope, datasets: Option<Vec<DatasetId>>, now: DateTime<Utc>) -> Result<Evaluated, StoreError> {
    let ids = match datasets {
        Some(ids) => ids,
        None => store.dataset_identities().await?.into_iter().map(|d| d.0).collect(),
    };
    let tx = store.begin_write().await?;
    let results = match scope {
        Scope::FreshnessSweep => engine::sweep_freshness(&tx, &ids, now).await?,
        Scope::AllRules => engine::evaluate_now(&tx, &ids, now).await?,
    };
    gate::hooks::after_evaluation(&tx, &results, now).await?;
    let incidents = on_results(&tx, &results, now).await?;
    tx.commit().await?;
    Ok(Evaluated { results, incidents })
}
