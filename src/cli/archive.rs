//! `weir archive export`: the archived raw events as NDJSON, oldest first, each as it was
//! archived (the event's canonical JSON), for `weir import` into another database or for
//! reading. Works on the database directly, whatever compression each row has.

use std::collections::HashMap;
use std::io::Write;

use crate::ingest::{Format, archive_format, unarchive};
use crate::store::Store;

/// Rows read per query.
const PAGE: u64 = 500;

/// Writes every archived event after row `after_id` to `out`, a line each; returns how many.
pub async fn export(database_url: &str, after_id: i64, out: &mut impl Write) -> Result<u64, String> {
    let store = Store::connect(database_url).await.map_err(|e| e.to_string())?;
    store.migrate().await.map_err(|e| format!("cannot apply database migrations: {e}"))?;
    let mut dictionaries: HashMap<u32, Vec<u8>> = HashMap::new();
    let (mut after, mut written) = (after_id, 0u64);
    loop {
        let rows = store.archived_payloads(after, PAGE).await.map_err(|e| format!("cannot read the archive: {e}"))?;
        let Some((last, _)) = rows.last() else { break };
        after = *last;
        for (id, payload) in rows {
            let dictionary = match archive_format(&payload) {
                Some(Format::Zstd(Some(dictionary))) => {
                    if let std::collections::hash_map::Entry::Vacant(slot) = dictionaries.entry(dictionary) {
                        let bytes = store.archive_dictionary(dictionary).await.map_err(|e| format!("cannot read the archive: {e}"))?;
                        let bytes = bytes.ok_or_else(|| format!("raw event {id} needs archive dictionary {dictionary}, which is not stored"))?;
                        slot.insert(bytes);
                    }
                    dictionaries.get(&dictionary).map(Vec::as_slice)
                }
                _ => None,
            };
            let json = unarchive(&payload, dictionary).map_err(|e| format!("raw event {id} cannot be read: {e}"))?;
            out.write_all(&json).and_then(|()| out.write_all(b"\n")).map_err(|e| format!("cannot write the export: {e}"))?;
            written += 1;
        }
    }
    out.flush().map_err(|e| format!("cannot write the export: {e}"))?;
    Ok(written)
}
