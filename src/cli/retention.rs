//! `weir retention run [--dry-run]`: the background retention pass, by hand.

use chrono::Utc;

use crate::retention::{self, BATCH_SIZE};
use crate::store::Store;

pub async fn run(database_url: &str, days: u32, dry_run: bool) -> Result<String, String> {
    let store = Store::connect(database_url).await.map_err(|e| e.to_string())?;
    store.migrate().await.map_err(|e| format!("cannot apply database migrations: {e}"))?;
    match retention::run(&store, days, Utc::now(), BATCH_SIZE, dry_run, || false).await {
        Ok(Some(report)) => Ok(format!("{report} (retention: {days} days)")),
        Ok(None) => Ok("retention is off (raw-event-retention-days = 0): nothing to remove".to_string()),
        Err(e) => Err(format!("retention failed: {e}")),
    }
}
