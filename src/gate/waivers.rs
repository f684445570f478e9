//! Waivers: a person lets a failing check, or everything on a dataset, pass until a time.
//! Nothing is deleted: a revoked or expired waiver stays for audit.

use chrono::{DateTime, Utc};

use super::model::Waiver;
use crate::model::DatasetId;
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum WaiverError {
    #[error("no dataset {namespace}/{name}")]
    UnknownDataset { namespace: String, name: String },
    #[error("no rule with id `{0}`")]
    UnknownRule(String),
    #[error("no waiver with id {0}")]
    UnknownWaiver(i64),
    #[error("`reason` must say why the failure may pass")]
    MissingReason,
    #[error("`expiresAt` ({expires_at}) must be in the future (now is {now})")]
    ExpiryInPast { expires_at: DateTime<Utc>, now: DateTime<Utc> },
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct NewWaiver {
    pub namespace: String,
    pub name: String,
    /// `None`: all rules on the dataset, and its taint.
    pub rule_id: Option<String>,
    pub reason: String,
    pub author: String,
    pub expires_at: DateTime<Utc>,
}

pub async fn waive(store: &Store, new: NewWaiver, now: DateTime<Utc>) -> Result<Waiver, WaiverError> {
    if new.reason.trim().is_empty() {
        return Err(WaiverError::MissingReason);
    }
    if new.expires_at <= now {
        return Err(WaiverError::ExpiryInPast { expires_at: new.expires_at, now });
    }
    let dataset = store
        .snapshot()
        .dataset_by_ref(&new.namespace, &new.name)
        .await?
        .ok_or_else(|| WaiverError::UnknownDataset { namespace: new.namespace.clone(), name: new.name.clone() })?;
    if let Some(rule_id) = &new.rule_id
        && store.rule(rule_id).await?.is_none()
    {
        return Err(WaiverError::UnknownRule(rule_id.clone()));
    }
    let tx = store.begin_write().await?;
    let waiver = tx
        .insert_waiver(&Waiver {
            id: 0,
            dataset_id: dataset.id,
            rule_id: new.rule_id,
            reason: new.reason.trim().to_string(),
            author: new.author,
            created_at: now,
            expires_at: new.expires_at,
            revoked_at: None,
            revoked_by: None,
        })
        .await?;
    tx.commit().await?;
    Ok(waiver)
}

pub async fn revoke(store: &Store, id: i64, by: &str, now: DateTime<Utc>) -> Result<Waiver, WaiverError> {
    let tx = store.begin_write().await?;
    let waiver = tx.revoke_waiver(id, by, now).await?.ok_or(WaiverError::UnknownWaiver(id))?;
    tx.commit().await?;
    Ok(waiver)
}

/// Every waiver of a dataset, newest first; only those in force at `now` with `active_only`.
pub async fn waivers_of(store: &Store, dataset: DatasetId, active_only: bool, now: DateTime<Utc>) -> Result<Vec<Waiver>, StoreError> {
    let mut waivers = store.snapshot().waivers_of(dataset).await?;
    if active_only {
        waivers.retain(|w| w.active_at(now));
    }
    waivers.reverse();
    Ok(waivers)
}
