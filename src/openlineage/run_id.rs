//! Run ids: the spec says UUID, clients send whatever their scheduler has. Weir keys runs by one
//! canonical `Uuid` so that START and COMPLETE of the same run meet even when spelt differently.

use uuid::Uuid;

/// Namespace of the name-based (v5) UUIDs that Weir derives from run ids that are not UUIDs.
/// Fixed forever: changing it would split every such run already stored from its later events.
pub const RUN_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6d1c_5c1e_77a4_4b0e_9f3a_2e5b_8c41_d0a7);

/// The canonical UUID for a run id as sent by a client, or given in a query.
///
/// Any spelling of a UUID (hyphenated, braced `{...}`, `urn:uuid:...`, 32 hex digits without
/// dashes, any letter case, surrounding blanks) maps to that UUID. Every other string maps to
/// `Uuid::new_v5(&RUN_ID_NAMESPACE, s.as_bytes())` over the string exactly as given, so the same
/// non-UUID id always yields the same run and distinct ids never collide in practice.
pub fn normalize_run_id(s: &str) -> Uuid {
    let trimmed = s.trim();
    // `Uuid::parse_str` knows braced and `urn:uuid:` forms but only a lower-case URN prefix.
    let candidate = match trimmed.get(..9) {
        Some(prefix) if prefix.eq_ignore_ascii_case("urn:uuid:") => &trimmed[9..],
        _ => trimmed,
    };
    Uuid::parse_str(candidate).unwrap_or_else(|_| Uuid::new_v5(&RUN_ID_NAMESPACE, s.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANON: &str = "ea041791-68bc-4ae1-bd89-4c8106a157e4";

    #[test]
    fn every_uuid_spelling_is_canonicalised() {
        for s in [
            CANON,
            "EA041791-68BC-4AE1-BD89-4C8106A157E4",
            "{ea041791-68bc-4ae1-bd89-4c8106a157e4}",
            "urn:uuid:ea041791-68bc-4ae1-bd89-4c8106a157e4",
            "URN:UUID:EA041791-68BC-4AE1-BD89-4C8106A157E4",
            "ea04179168bc4ae1bd894c8106a157e4",
            " ea041791-68bc-4ae1-bd89-4c8106a157e4\n",
        ] {
            assert_eq!(normalize_run_id(s).to_string(), CANON, "{s}");
        }
    }

    #[test]
    fn other_strings_get_a_stable_v5() {
        let a = normalize_run_id("manual__2024-01-01T00:00:00+00:00");
        assert_eq!(
            a,
            Uuid::new_v5(&RUN_ID_NAMESPACE, b"manual__2024-01-01T00:00:00+00:00")
        );
        assert_eq!(a.get_version_num(), 5);
        assert_eq!(a, normalize_run_id("manual__2024-01-01T00:00:00+00:00"));
        assert_ne!(a, normalize_run_id("manual__2024-01-02T00:00:00+00:00"));
        // Almost-UUIDs are names too, not errors.
        assert_eq!(normalize_run_id("ea041791-68bc").get_version_num(), 5);
    }
}
