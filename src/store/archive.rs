//! The raw-event archive's compression dictionaries, and the archived payloads they are
//! trained on and read back with (see `ingest::archive` for the format).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::entities::{archive_dictionary, raw_event};
use super::{Store, StoreError};

/// A stored dictionary: zstd's id for it, and its bytes.
pub type StoredDictionary = (u32, Vec<u8>);

impl Store {
    /// The most recently trained dictionary, the one new events are compressed with.
    pub async fn newest_archive_dictionary(&self) -> Result<Option<StoredDictionary>, StoreError> {
        let row = archive_dictionary::Entity::find()
            .order_by_desc(archive_dictionary::Column::TrainedAt)
            .order_by_desc(archive_dictionary::Column::Id)
            .one(&self.db)
            .await?;
        // zstd's trained dictionaries have ids up to i32::MAX; a row outside u32 is not one.
        Ok(row.and_then(|r| Some((u32::try_from(r.id).ok()?, r.dictionary))))
    }

    /// The dictionary with zstd id `id`, to read payloads compressed with it.
    pub async fn archive_dictionary(&self, id: u32) -> Result<Option<Vec<u8>>, StoreError> {
        let row = archive_dictionary::Entity::find_by_id(i64::from(id)).one(&self.db).await?;
        Ok(row.map(|r| r.dictionary))
    }

    /// Keeps a trained dictionary. Another process may have stored the same one: no change.
    pub async fn save_archive_dictionary(&self, id: u32, dictionary: Vec<u8>, samples: usize, now: DateTime<Utc>) -> Result<(), StoreError> {
        let row = archive_dictionary::ActiveModel {
            id: Set(i64::from(id)),
            dictionary: Set(dictionary),
            samples: Set(i32::try_from(samples).unwrap_or(i32::MAX)),
            trained_at: Set(now),
        };
        archive_dictionary::Entity::insert(row)
            .on_conflict(OnConflict::column(archive_dictionary::Column::Id).do_nothing().to_owned())
            .exec_without_returning(&self.db)
            .await?;
        Ok(())
    }

    /// The newest `limit` archived payloads, as stored (compressed).
    pub async fn newest_archived_payloads(&self, limit: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        let rows: Vec<Vec<u8>> = raw_event::Entity::find()
            .select_only()
            .column(raw_event::Column::Payload)
            .order_by_desc(raw_event::Column::Id)
            .limit(limit)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows)
    }

    /// Archived events after row `after_id`, oldest first, as stored (compressed): `(row id,
    /// payload)`. For exporting the archive and replaying it.
    pub async fn archived_payloads(&self, after_id: i64, limit: u64) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
        let rows = raw_event::Entity::find()
            .select_only()
            .column(raw_event::Column::Id)
            .column(raw_event::Column::Payload)
            .filter(raw_event::Column::Id.gt(after_id))
            .order_by_asc(raw_event::Column::Id)
            .limit(limit)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows)
    }
}
