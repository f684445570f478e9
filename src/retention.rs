//! Retention of the raw event archive: events received more than `raw_event_retention_days`
//! ago are removed, a small batch at a time. What was derived from them (graph, versions,
//! observations, check results, incidents) stays; only replaying those events is no longer
//! possible. Alerts queued as long ago whose delivery has ended (delivered or failed) go
//! too, so that the outbox does not grow forever; pending ones stay.
//!
//! The server runs [`run`] in the background ([`crate::app`]); `weir retention run` runs it by
//! hand, or with `--dry-run` only counts.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::store::{Store, StoreError};

/// Rows deleted per statement.
pub const BATCH_SIZE: u64 = 500;

/// A pause between batches, so that a large backlog does not hold the database for long.
pub const BATCH_PAUSE: Duration = Duration::from_millis(20);

/// What a retention pass did, or would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionReport {
    /// Events received before this time are (or would be) removed.
    pub cutoff: DateTime<Utc>,
    /// Removed, or for a dry run, that would be removed.
    pub raw_events: u64,
    /// Delivered or failed alerts queued before the cutoff, removed (or that would be).
    pub alerts: u64,
    pub dry_run: bool,
}

impl std::fmt::Display for RetentionReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verb = if self.dry_run { "would remove" } else { "removed" };
        write!(
            f,
            "{verb} {} raw events received before {}, and {} delivered or failed alerts queued before it",
            self.raw_events,
            self.cutoff.to_rfc3339(),
            self.alerts
        )
    }
}

/// The cutoff for `days` of retention, or `None` when retention is off (`0`: keep forever).
pub fn cutoff(days: u32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (days > 0).then(|| now - chrono::Duration::days(i64::from(days)))
}

/// Removes (or with `dry_run`, counts) the raw events older than `days`, in batches of
/// `batch_size`. `should_stop` is asked between batches (the server passes its shutdown).
pub async fn run(
    store: &Store,
    days: u32,
    now: DateTime<Utc>,
    batch_size: u64,
    dry_run: bool,
    should_stop: impl Fn() -> bool,
) -> Result<Option<RetentionReport>, StoreError> {
    let Some(cutoff) = cutoff(days, now) else { return Ok(None) };
    if dry_run {
        let raw_events = store.raw_events_received_before(cutoff).await?;
        let alerts = store.finished_alerts_queued_before(cutoff).await?;
        return Ok(Some(RetentionReport { cutoff, raw_events, alerts, dry_run }));
    }
    let raw_events = in_batches(batch_size, &should_stop, |n| store.delete_raw_events_before(cutoff, n)).await?;
    let alerts = in_batches(batch_size, &should_stop, |n| store.delete_finished_alerts_before(cutoff, n)).await?;
    Ok(Some(RetentionReport { cutoff, raw_events, alerts, dry_run }))
}

/// Runs `delete` (up to `n` rows a call) until it removes fewer than a batch or `should_stop`;
/// returns how many rows went.
async fn in_batches<F, Fut>(batch_size: u64, should_stop: &impl Fn() -> bool, delete: F) -> Result<u64, StoreError>
where
    F: Fn(u64) -> Fut,
    Fut: std::future::Future<Output = Result<u64, StoreError>>,
{
    let batch = batch_size.max(1);
    let mut removed = 0;
    if should_stop() {
        return Ok(removed);
    }
    loop {
        let deleted = delete(batch).await?;
        removed += deleted;
        if deleted < batch || should_stop() {
            return Ok(removed);
        }
        tokio::time::sleep(BATCH_PAUSE).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_days_keeps_forever() {
        let now = Utc::now();
        assert_eq!(cutoff(0, now), None);
        assert_eq!(cutoff(30, now), Some(now - chrono::Duration::days(30)));
    }
}
