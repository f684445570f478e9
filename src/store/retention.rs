//! Removing old raw events, and alerts whose delivery ended long ago. The graph,
//! observations, check results and incidents derived from an event do not refer to its row;
//! nothing refers to an outbox row but its own delivery.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use super::entities::{alert_outbox, raw_event};
use super::{Store, StoreError};
use crate::alert::model::DeliveryStatus;

/// Alerts queued before `cutoff` whose delivery has ended (delivered, or given up on).
fn finished_alerts_before(cutoff: DateTime<Utc>) -> Condition {
    let ended = [DeliveryStatus::Delivered, DeliveryStatus::Failed].map(|s| s.as_str());
    Condition::all()
        .add(alert_outbox::Column::Status.is_in(ended))
        .add(alert_outbox::Column::CreatedAt.lt(cutoff))
}

impl Store {
    /// How many raw events were received before `cutoff`.
    pub async fn raw_events_received_before(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(raw_event::Entity::find()
            .filter(raw_event::Column::ReceivedAt.lt(cutoff))
            .count(&self.db)
            .await?)
    }

    /// Deletes up to `limit` of the oldest raw events received before `cutoff` and returns how
    /// many went. Small batches keep each statement short, so ingestion (which needs the
    /// write lock on SQLite) never waits long behind retention.
    pub async fn delete_raw_events_before(&self, cutoff: DateTime<Utc>, limit: u64) -> Result<u64, StoreError> {
        let condition = Condition::all().add(raw_event::Column::ReceivedAt.lt(cutoff));
        self.delete_oldest::<raw_event::Entity>(raw_event::Column::Id, condition, limit).await
    }

    /// How many delivered or failed alerts were queued before `cutoff`.
    pub async fn finished_alerts_queued_before(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(alert_outbox::Entity::find().filter(finished_alerts_before(cutoff)).count(&self.db).await?)
    }

    /// Deletes up to `limit` of the oldest delivered or failed alerts queued before `cutoff`;
    /// pending ones stay, whatever their age. Returns how many went.
    pub async fn delete_finished_alerts_before(&self, cutoff: DateTime<Utc>, limit: u64) -> Result<u64, StoreError> {
        self.delete_oldest::<alert_outbox::Entity>(alert_outbox::Column::Id, finished_alerts_before(cutoff), limit).await
    }

    /// Deletes up to `limit` rows of `E` matching `condition`, lowest `id` first.
    async fn delete_oldest<E: EntityTrait>(&self, id: E::Column, condition: Condition, limit: u64) -> Result<u64, StoreError> {
        let ids: Vec<i64> = E::find()
            .select_only()
            .column(id)
            .filter(condition.clone())
            .order_by_asc(id)
            .limit(limit)
            .into_tuple()
            .all(&self.db)
            .await?;
        if ids.is_empty() {
            return Ok(0);
        }
        // The condition again: a row may have changed since it was read.
        let deleted = E::delete_many().filter(condition.add(id.is_in(ids))).exec(&self.db).await?;
        Ok(deleted.rows_affected)
    }
}
