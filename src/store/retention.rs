//! Removing old raw events. Only `raw_events` is touched: the graph, observations, check
//! results and incidents derived from an event do not refer to its row.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use super::entities::raw_event;
use super::{Store, StoreError};

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
        let ids: Vec<i64> = raw_event::Entity::find()
            .select_only()
            .column(raw_event::Column::Id)
            .filter(raw_event::Column::ReceivedAt.lt(cutoff))
            .order_by_asc(raw_event::Column::Id)
            .limit(limit)
            .into_tuple()
            .all(&self.db)
            .await?;
        if ids.is_empty() {
            return Ok(0);
        }
        let deleted = raw_event::Entity::delete_many()
            .filter(raw_event::Column::Id.is_in(ids))
            .exec(&self.db)
            .await?;
        Ok(deleted.rows_affected)
    }
}
