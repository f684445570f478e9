//! Relay-style pagination arguments: validation and opaque cursors.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::api::error::ApiError;

pub const DEFAULT_PAGE_SIZE: i32 = 50;

/// A cursor is `base64("c:<position>")`: opaque to clients, so its meaning may change.
pub fn encode_cursor(position: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("c:{position}"))
}

pub fn decode_cursor(cursor: &str) -> Result<i64, ApiError> {
    let invalid = || ApiError::BadRequest(format!("invalid cursor `{cursor}`: pass a cursor this API returned"));
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    text.strip_prefix("c:").and_then(|n| n.parse().ok()).ok_or_else(invalid)
}

/// Validates `first` against the configured maximum.
pub fn page_size(first: Option<i32>, max: u32) -> Result<u64, ApiError> {
    let first = first.unwrap_or(DEFAULT_PAGE_SIZE);
    if first < 0 {
        return Err(ApiError::BadRequest(format!("`first` must not be negative, got {first}")));
    }
    if first as u32 > max {
        return Err(ApiError::BadRequest(format!("`first` is {first}, above the maximum page size {max}")));
    }
    Ok(first as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip_and_garbage_rejected() -> Result<(), ApiError> {
        assert_eq!(decode_cursor(&encode_cursor(42))?, 42);
        assert!(decode_cursor("nonsense!").is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("x:1")).is_err());
        Ok(())
    }

    #[test]
    fn page_size_limits() {
        assert!(matches!(page_size(None, 500), Ok(50)));
        assert!(page_size(Some(-1), 500).is_err());
        assert!(page_size(Some(501), 500).is_err());
    }
}
