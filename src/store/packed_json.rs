//! JSON kept compressed: documents that Weir reads whole and SQL never looks into (a gate
//! decision's reasons, an incident's blast radius, a run's facets and its taint path, a
//! dataset's merged facets, a version's schema). A value is stored as one zstd frame of its
//! JSON text, without a dictionary, so every row reads on its own; migrations 000019 to 000024
//! converted the existing rows the same way (`migrations/src/packed_json.rs`).

use std::cell::RefCell;
use std::io;
use std::thread::LocalKey;

use serde::Serialize;
use serde::de::DeserializeOwned;
use zstd::bulk::{Compressor, Decompressor};

use super::StoreError;

/// zstd's default level: higher levels saved little on these documents, at more writer time.
const LEVEL: i32 = 3;

/// A document whose frame says it is larger than this is decoded by streaming instead of into
/// one buffer of the size the frame claims.
const MAX_BULK_SIZE: u64 = 16 << 20;

thread_local! {
    // zstd's contexts, made once per thread and reused: one made per document (with its
    // buffers, from fresh pages each time) was 8% of `weir import`'s samples on the writer.
    static COMPRESSOR: RefCell<Option<Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<Decompressor<'static>>> = const { RefCell::new(None) };
}

/// Runs `work` with this thread's context from `slot`, made by `make` on first use.
fn with_context<C, T>(
    slot: &'static LocalKey<RefCell<Option<C>>>,
    make: fn() -> io::Result<C>,
    work: impl Fn(&mut C) -> io::Result<T>,
) -> io::Result<T> {
    let kept = slot.try_with(|cell| {
        let mut context = cell.try_borrow_mut().map_err(|_| io::Error::other("zstd context in use"))?;
        let context = match &mut *context {
            Some(context) => context,
            empty => empty.insert(make()?),
        };
        work(context)
    });
    // While the thread shuts down its contexts are gone: one for this call only.
    kept.unwrap_or_else(|_| work(&mut make()?))
}

pub(super) fn pack<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, StoreError> {
    let json = serde_json::to_vec(value).map_err(|e| StoreError::Corrupt(format!("encoding a packed document: {e}")))?;
    with_context(&COMPRESSOR, || Compressor::new(LEVEL), |c| c.compress(&json))
        .map_err(|e| StoreError::Corrupt(format!("compressing a packed document: {e}")))
}

/// The JSON text of a packed document. Frames written by [`pack`] state their size, and are
/// decoded in one call into a buffer of that size; anything else (a frame that does not state
/// its size, a skippable frame first, several frames) is streamed.
fn decompress(packed: &[u8]) -> io::Result<Vec<u8>> {
    match zstd::zstd_safe::get_frame_content_size(packed) {
        Ok(Some(size)) if size > 0 && size <= MAX_BULK_SIZE => {
            with_context(&DECOMPRESSOR, Decompressor::new, |d| d.decompress(packed, size as usize))
                .or_else(|_| zstd::stream::decode_all(packed))
        }
        _ => zstd::stream::decode_all(packed),
    }
}

/// The document `what` (named in the error: "gate decision 12: reasons") from its packed bytes.
pub(super) fn unpack<T: DeserializeOwned>(packed: &[u8], what: impl Fn() -> String) -> Result<T, StoreError> {
    if packed.is_empty() {
        return Err(StoreError::Corrupt(format!("{} is empty: the row was written without its packed document", what())));
    }
    let json = decompress(packed).map_err(|e| StoreError::Corrupt(format!("{} is not a zstd frame: {e}", what())))?;
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
    fn frames_without_a_stated_size_and_documents_in_turn_read_back() -> Result<(), StoreError> {
        // A streamed frame does not state its size (written by another tool, or by hand): it
        // is decoded by streaming.
        let json = br#"{"schema":{"fields":[{"name":"id","type":"INT"}]}}"#;
        let streamed = zstd::stream::encode_all(&json[..], LEVEL).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        assert_eq!(zstd::zstd_safe::get_frame_content_size(&streamed).ok().flatten(), None);
        assert_eq!(unpack::<serde_json::Value>(&streamed, || "facets".into())?, serde_json::from_slice::<serde_json::Value>(json).map_err(|e| StoreError::Corrupt(e.to_string()))?);
        // A skippable frame first (zstd reports a size of 0 for it): streamed as well.
        let mut skippable = vec![0x50, 0x2A, 0x4D, 0x18, 0, 0, 0, 0];
        skippable.extend(pack(&["id"])?);
        assert_eq!(unpack::<Vec<String>>(&skippable, || "columns".into())?, vec!["id".to_string()]);
        // The same thread's contexts serve document after document, small and large.
        for size in [1, 10_000, 200_000, 3] {
            let document: Vec<String> = (0..size).map(|i| format!("column_{i}")).collect();
            let packed = pack(&document)?;
            assert_eq!(zstd::zstd_safe::get_frame_content_size(&packed).ok().flatten(), Some(serde_json::to_vec(&document).map_err(|e| StoreError::Corrupt(e.to_string()))?.len() as u64));
            assert_eq!(unpack::<Vec<String>>(&packed, || "columns".into())?, document);
        }
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
