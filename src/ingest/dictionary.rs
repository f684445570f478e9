//! When the archive gets its compression dictionary: once the database holds enough events
//! (`archive-dictionary-after`, [`DEFAULT_TRAIN_AFTER`]), a dictionary is trained on the
//! newest of them, stored, and used by every process from then on: each loads the newest one
//! at start, and looks again after every as many events it stores. Rows archived before stay
//! gzip.
//!
//! One dictionary is enough for a deployment whose events keep their shape; a later one (two
//! processes training at once) is used from then on, and both stay readable. Looking again
//! also catches a database restored from a backup without the dictionary in use: the process
//! goes back to gzip (or trains anew) instead of naming a dictionary the database lacks.

use chrono::{DateTime, Utc};
use tracing::{info, warn};

use super::archive::{self, Archiver, Format};
use super::IngestError;
use crate::store::Store;

/// Archived events a database holds, by default, before a dictionary is trained.
pub const DEFAULT_TRAIN_AFTER: u64 = 1000;
/// How many of the newest archived events a dictionary is trained on: zstd's guidance is
/// about a hundred samples per kilobyte of dictionary, and 1,000 of the benchmark's events
/// gave 0.57 KB payloads (about as small with 200).
const SAMPLES: u64 = 1000;
/// zstd's default size; 64 KB and 110 KB did no better on the benchmark's events.
const DICTIONARY_BYTES: usize = 16 * 1024;

/// When a process looks for a dictionary: first at once, then after every `train_after`
/// events it stores, so that the database is not asked after every batch. Never when
/// `train_after` is 0.
pub struct Schedule {
    train_after: u64,
    stored_since_check: u64,
    checked: bool,
}

impl Schedule {
    pub fn new(train_after: u64) -> Schedule {
        Schedule { train_after, stored_since_check: 0, checked: false }
    }

    pub fn train_after(&self) -> u64 {
        self.train_after
    }

    /// Whether to [`ensure`] now, `stored` events after the last call.
    pub fn due(&mut self, stored: u64) -> bool {
        if self.train_after == 0 {
            return false;
        }
        self.stored_since_check += stored;
        if self.checked && self.stored_since_check < self.train_after {
            return false;
        }
        self.checked = true;
        self.stored_since_check = 0;
        true
    }
}

/// Makes `archiver` compress with the database's newest dictionary. When there is none and
/// the database holds `train_after` events or more, trains one on the newest of them first.
/// Returns the id of the dictionary in use, if any.
pub async fn ensure(store: &Store, archiver: &Archiver, train_after: u64, now: DateTime<Utc>) -> Result<Option<u32>, IngestError> {
    if let Some((id, dictionary)) = store.newest_archive_dictionary().await? {
        archiver.use_dictionary(id, &dictionary);
        return Ok(Some(id));
    }
    // None stored: one in use came from a database since restored without it.
    archiver.forget_dictionary();
    if store.raw_event_count().await? < train_after {
        return Ok(None);
    }
    let payloads = store.newest_archived_payloads(SAMPLES).await?;
    // Training reads a few megabytes and takes a fraction of a second: off the runtime's
    // threads.
    let trained = tokio::task::spawn_blocking(move || {
        let samples: Vec<Vec<u8>> = payloads
            .iter()
            .filter(|p| archive::format(p) == Some(Format::Gzip))
            .filter_map(|p| archive::unarchive(p, None).ok())
            .collect();
        archive::train(&samples, DICTIONARY_BYTES).map(|trained| (trained, samples.len()))
    })
    .await
    .map_err(|e| IngestError::Archive(std::io::Error::other(e)))?;
    let ((id, dictionary), samples) = trained?;
    store.save_archive_dictionary(id, dictionary, samples, now).await?;
    info!(dictionary = id, samples, "trained the raw-event archive's compression dictionary");
    // Another process may have stored one meanwhile: every process uses the newest.
    let newest = store.newest_archive_dictionary().await?;
    if let Some((id, dictionary)) = &newest {
        archiver.use_dictionary(*id, dictionary);
    }
    Ok(newest.map(|(id, _)| id))
}

/// [`ensure`], logging a failure: the archive stays gzip until the next try.
pub async fn ensure_or_log(store: &Store, archiver: &Archiver, train_after: u64, now: DateTime<Utc>) {
    if let Err(e) = ensure(store, archiver, train_after, now).await {
        warn!(error = %e, "could not load or train the archive's compression dictionary; archiving with gzip");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_check_is_at_once_then_every_train_after_events() {
        let mut schedule = Schedule::new(100);
        assert!(schedule.due(0));
        assert!(!schedule.due(99));
        assert!(schedule.due(1));
        assert!(!schedule.due(10));
        assert!(schedule.due(500));
        let mut never = Schedule::new(0);
        assert!(!never.due(0));
        assert!(!never.due(1000));
    }
}
