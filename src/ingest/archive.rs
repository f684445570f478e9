//! The raw-event archive format: canonical JSON, its SHA-256 (identity for de-duplication)
//! and a gzip-compressed copy (what is stored).

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

pub struct Archived {
    pub hash: String,
    pub raw_bytes: i64,
    pub payload: Vec<u8>,
}

/// Serialises the (sanitised) event once; the same event re-sent by a client gives the same
/// bytes and so the same hash.
pub fn archive(raw: &serde_json::Value) -> Result<Archived, std::io::Error> {
    let json = serde_json::to_vec(raw).map_err(std::io::Error::other)?;
    let hash = hex::encode(Sha256::digest(&json));
    let mut encoder = GzEncoder::new(Vec::with_capacity(json.len() / 4), Compression::fast());
    encoder.write_all(&json)?;
    let payload = encoder.finish()?;
    Ok(Archived { hash, raw_bytes: json.len() as i64, payload })
}

/// Inverse of [`archive`]'s compression, for replay.
pub fn unarchive(payload: &[u8]) -> Result<Vec<u8>, std::io::Error> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(payload).read_to_end(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_round_trips_and_hash_is_stable() -> Result<(), std::io::Error> {
        let event = serde_json::json!({"eventTime": "2024-01-01T00:00:00Z", "job": {"namespace": "n", "name": "j"}});
        let a = archive(&event)?;
        let b = archive(&event)?;
        assert_eq!(a.hash, b.hash);
        assert_eq!(a.hash.len(), 64);
        let back: serde_json::Value = serde_json::from_slice(&unarchive(&a.payload)?).map_err(std::io::Error::other)?;
        assert_eq!(back, event);
        Ok(())
    }
}
