//! JSON kept compressed: documents that Weir reads whole and SQL never looks into (a gate
//! decision's reasons, an incident's blast radius, a run's facets and its taint path, a
//! dataset's merged facets, a version's schema). A value is stored as one zstd frame of its
//! JSON text, without a dictionary, so every row reads on its own; migrations 000019 to 000024
//! converted the existing rows the same way (`migrations/src/packed_json.rs`).

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StoreError;

/// zstd's default level: higher levels saved little on these documents, at more writer time.
const LEVEL: i32 = 3;

pub(super) fn pack<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, StoreError> {
    let json = serde_json::to_vec(value).map_err(|e| StoreError::Corrupt(format!("encoding a packed document: {e}")))?;
    zstd::bulk::compress(&json, LEVEL).map_err(|e| StoreError::Corrupt(format!("compressing a packed document: {e}")))
}

/// The document `what` (named in the error: "gate decision 12: reasons") from its packed bytes.
pub(super) fn unpack<T: DeserializeOwned>(packed: &[u8], what: impl Fn() -> String) -> Result<T, StoreError> {
    if packed.is_empty() {
        return Err(StoreError::Corrupt(format!("{} is empty: the row was written without its packed document", what())));
    }
    let json = zstd::stream::decode_all(packed).map_err(|e| StoreError::Corrupt(format!("{} is not a zstd frame: {e}", what())))?;
    serde_json::from_slice(&json).map_err(|e| StoreError::Corrupt(format!("{} is not the JSON expected: {e}", what())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_reads_back_as_written_and_takes_less_room() -> Result<(), StoreError> {
        let reasons: Vec<serde_json::Value> = (0..8)
            .map(|i| serde_json::json!({"kind": "BLOCKING", "message": format!("input wh.orders_{i} is FAILING"), "ruleId": "marts_not_empty", "path": []}))
            .collect();
        let packed = pack(&reasons)?;
        assert!(packed.len() < serde_json::to_vec(&reasons).map_err(|e| StoreError::Corrupt(e.to_string()))?.len() / 2);
        assert_eq!(unpack::<Vec<serde_json::Value>>(&packed, || "reasons".into())?, reasons);
        Ok(())
    }

    #[test]
    fn bytes_that_are_not_a_packed_document_are_corrupt_and_name_the_row() {
        let message = |packed: &[u8]| match unpack::<Vec<serde_json::Value>>(packed, || "gate decision 12: reasons".into()) {
            Err(StoreError::Corrupt(message)) => message,
            other => format!("not corrupt: {other:?}"),
        };
        assert!(message(b"[]").starts_with("gate decision 12: reasons is not a zstd frame"), "{}", message(b"[]"));
        assert!(message(&[]).starts_with("gate decision 12: reasons is empty"), "{}", message(&[]));
        let not_a_list = zstd::bulk::compress(b"{}", LEVEL).unwrap_or_default();
        assert!(message(&not_a_list).starts_with("gate decision 12: reasons is not the JSON expected"), "{}", message(&not_a_list));
    }
}
