//! The arguments of a lineage query, checked the same way for GraphQL (`lineage`) and REST
//! (`GET /api/v1/lineage`), so that both answer the same question with the same errors.

use chrono::{DateTime, Utc};

use super::error::ApiError;
use crate::lineage::{Direction, LineageQuery, parse_node_id};

/// `depth` as the walk takes it: not negative, and at most the configured maximum.
pub fn check_depth(depth: i64, max: u32) -> Result<u32, ApiError> {
    if depth < 0 {
        return Err(ApiError::BadRequest(format!("`depth` must not be negative, got {depth}")));
    }
    match u32::try_from(depth) {
        Ok(depth) if depth <= max => Ok(depth),
        _ => Err(ApiError::BadRequest(format!("`depth` is {depth}, above the maximum lineage depth {max}"))),
    }
}

/// The whole query, from a node id as the client wrote it.
pub fn lineage_query(
    node_id: &str,
    direction: Direction,
    depth: i64,
    as_of: Option<DateTime<Utc>>,
    max_depth: u32,
) -> Result<LineageQuery, ApiError> {
    let depth = check_depth(depth, max_depth)?;
    let start = parse_node_id(node_id).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(LineageQuery { start, direction, depth, as_of, max_nodes: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_is_bounded_on_both_sides_without_wrapping() {
        assert_eq!(check_depth(0, 20).ok(), Some(0));
        assert_eq!(check_depth(20, 20).ok(), Some(20));
        for bad in [-1, 21, i64::from(u32::MAX) + 1, i64::MAX, i64::MIN] {
            assert!(matches!(check_depth(bad, 20), Err(ApiError::BadRequest(_))), "{bad}");
        }
    }
}
