//! The raw-event archive format: canonical JSON, its SHA-256 (identity for de-duplication)
//! and a compressed copy (what is stored).
//!
//! A copy is gzip until the database has a zstd dictionary trained on its own events (see
//! [`super::dictionary`]), and zstd with that dictionary after: events of one deployment share
//! most of their keys and values, which gzip, compressing each event alone, cannot use. The
//! two are told apart by their first bytes, and a zstd frame names its dictionary, so every
//! row stays readable whatever was in use when it was written.

use std::cell::RefCell;
use std::io::{Read, Write};
use std::sync::{Arc, RwLock};

use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

pub struct Archived {
    pub hash: String,
    pub raw_bytes: i64,
    pub payload: Vec<u8>,
}

/// The zstd level: 3 is zstd's default; higher levels saved under 5% on events, at twice the
/// time per event.
const LEVEL: i32 = 3;

/// How a payload is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Gzip,
    /// zstd, with the dictionary of this id, or none.
    Zstd(Option<u32>),
}

/// Compresses events for the archive, with the dictionary in use when there is one. Shared by
/// every thread that prepares events.
#[derive(Default)]
pub struct Archiver {
    dictionary: RwLock<Option<Arc<Dictionary>>>,
}

struct Dictionary {
    id: u32,
    bytes: Vec<u8>,
}

thread_local! {
    /// zstd's compression context, with the dictionary loaded, kept by each thread that
    /// archives: one made per event cost a context's memory per request in flight.
    static COMPRESSOR: RefCell<Option<(u32, zstd::bulk::Compressor<'static>)>> = const { RefCell::new(None) };
}

/// Compresses `json` with `dictionary`, on this thread's context.
fn zstd_with(dictionary: &Dictionary, json: &[u8]) -> Result<Vec<u8>, std::io::Error> {
    COMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        match cell.as_mut() {
            Some((id, compressor)) if *id == dictionary.id => compressor.compress(json),
            _ => {
                let mut compressor = zstd::bulk::Compressor::with_dictionary(LEVEL, &dictionary.bytes)?;
                // Like gzip's CRC: a damaged row fails to read instead of reading wrong.
                compressor.set_parameter(zstd::zstd_safe::CParameter::ChecksumFlag(true))?;
                let payload = compressor.compress(json);
                *cell = Some((dictionary.id, compressor));
                payload
            }
        }
    })
}

impl Archiver {
    /// Serialises the (sanitised) event once; the same event re-sent by a client gives the
    /// same bytes and so the same hash, whatever the compression.
    pub fn archive(&self, raw: &serde_json::Value) -> Result<Archived, std::io::Error> {
        let json = serde_json::to_vec(raw).map_err(std::io::Error::other)?;
        let hash = hex::encode(Sha256::digest(&json));
        let payload = match self.dictionary() {
            Some(dictionary) => zstd_with(&dictionary, &json)?,
            None => gzip(&json)?,
        };
        Ok(Archived { hash, raw_bytes: json.len() as i64, payload })
    }

    /// The id of the dictionary in use, if any.
    pub fn dictionary_id(&self) -> Option<u32> {
        self.dictionary().map(|d| d.id)
    }

    /// Compresses with `dictionary` (zstd id `id`) from now on.
    pub fn use_dictionary(&self, id: u32, dictionary: &[u8]) {
        if self.dictionary_id() == Some(id) {
            return;
        }
        let dictionary = Arc::new(Dictionary { id, bytes: dictionary.to_vec() });
        // A poisoned lock only means another thread panicked while swapping an Arc: the value
        // is whole either way.
        *self.dictionary.write().unwrap_or_else(|e| e.into_inner()) = Some(dictionary);
    }

    /// Compresses with gzip again.
    pub fn forget_dictionary(&self) {
        *self.dictionary.write().unwrap_or_else(|e| e.into_inner()) = None;
    }

    fn dictionary(&self) -> Option<Arc<Dictionary>> {
        self.dictionary.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

fn gzip(json: &[u8]) -> Result<Vec<u8>, std::io::Error> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(json.len() / 4), Compression::fast());
    encoder.write_all(json)?;
    encoder.finish()
}

/// How `payload` was compressed; `None` when it is neither gzip nor zstd.
pub fn format(payload: &[u8]) -> Option<Format> {
    match payload {
        [0x1f, 0x8b, ..] => Some(Format::Gzip),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Some(Format::Zstd(zstd::zstd_safe::get_dict_id_from_frame(payload).map(u32::from))),
        _ => None,
    }
}

/// The event's JSON back from `payload`; `dictionary` is the one its format names.
pub fn unarchive(payload: &[u8], dictionary: Option<&[u8]>) -> Result<Vec<u8>, std::io::Error> {
    let mut out = Vec::new();
    match (format(payload), dictionary) {
        (Some(Format::Gzip), _) => {
            flate2::read::GzDecoder::new(payload).read_to_end(&mut out)?;
        }
        (Some(Format::Zstd(None)), _) => {
            zstd::stream::read::Decoder::new(payload)?.read_to_end(&mut out)?;
        }
        (Some(Format::Zstd(Some(_))), Some(dictionary)) => {
            zstd::stream::read::Decoder::with_dictionary(payload, dictionary)?.read_to_end(&mut out)?;
        }
        (Some(Format::Zstd(Some(id))), None) => {
            return Err(std::io::Error::other(format!("the payload needs archive dictionary {id}, which is not stored")));
        }
        (None, _) => return Err(std::io::Error::other("the payload is neither gzip nor zstd")),
    }
    Ok(out)
}

/// Trains a dictionary of at most `max_bytes` on `samples` (events' JSON); returns its zstd id
/// and its bytes.
pub fn train(samples: &[Vec<u8>], max_bytes: usize) -> Result<(u32, Vec<u8>), std::io::Error> {
    let dictionary = zstd::dict::from_samples(samples, max_bytes)?;
    let id = zstd::zstd_safe::get_dict_id_from_dict(&dictionary)
        .ok_or_else(|| std::io::Error::other("the trained dictionary has no id"))?;
    Ok((id.get(), dictionary))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(i: usize) -> serde_json::Value {
        serde_json::json!({
            "eventTime": format!("2024-01-01T00:{:02}:00Z", i % 60),
            "eventType": "COMPLETE",
            "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.0.0/integration/airflow",
            "run": {"runId": format!("0190f7b4-0000-7000-8000-{i:012}")},
            "job": {"namespace": "airflow", "name": format!("dag_{}.task_{}", i % 7, i % 13)},
            "outputs": [{"namespace": "postgres://db:5432", "name": format!("public.table_{}", i % 50)}],
        })
    }

    #[test]
    fn archive_round_trips_and_hash_is_stable() -> Result<(), std::io::Error> {
        let archiver = Archiver::default();
        let a = archiver.archive(&event(1))?;
        let b = archiver.archive(&event(1))?;
        assert_eq!(a.hash, b.hash);
        assert_eq!(a.hash.len(), 64);
        assert_eq!(format(&a.payload), Some(Format::Gzip));
        let back: serde_json::Value = serde_json::from_slice(&unarchive(&a.payload, None)?).map_err(std::io::Error::other)?;
        assert_eq!(back, event(1));
        Ok(())
    }

    #[test]
    fn with_a_dictionary_payloads_are_zstd_naming_it_and_the_hash_is_unchanged() -> Result<(), std::io::Error> {
        let archiver = Archiver::default();
        let samples: Vec<Vec<u8>> = (0..500).map(|i| serde_json::to_vec(&event(i)).map_err(std::io::Error::other)).collect::<Result<_, _>>()?;
        let (id, dictionary) = train(&samples, 4096)?;
        let gzip = archiver.archive(&event(1000))?;
        archiver.use_dictionary(id, &dictionary);
        assert_eq!(archiver.dictionary_id(), Some(id));
        let zstd = archiver.archive(&event(1000))?;
        assert_eq!(zstd.hash, gzip.hash);
        assert_eq!(format(&zstd.payload), Some(Format::Zstd(Some(id))));
        assert!(zstd.payload.len() < gzip.payload.len(), "{} vs {}", zstd.payload.len(), gzip.payload.len());
        assert!(unarchive(&zstd.payload, None).is_err(), "a dictionary payload needs its dictionary");
        let back: serde_json::Value = serde_json::from_slice(&unarchive(&zstd.payload, Some(&dictionary))?).map_err(std::io::Error::other)?;
        assert_eq!(back, event(1000));
        assert_eq!(format(b"{}"), None);
        Ok(())
    }
}
