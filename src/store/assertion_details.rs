//! An assertion's original object (`details`) is not stored when the row's columns already
//! say all of it.
//!
//! Emitters of `dataQualityAssertions` mostly report `{"assertion": "not_null", "column":
//! "id", "success": true}`: exactly the row's `assertion`, `column_name` and `success`. Storing
//! the object as well took 60 of a row's 115 bytes on the benchmark's events (300 bytes per
//! event). Such a row keeps `details` NULL and reading puts the object back from the columns;
//! any object with more in it (expected and actual values, a description, a number where a
//! string was expected) is stored as received. Rows written before keep their copy, and both
//! read the same. Ingestion always sets `details` (the facet parsers keep every object), so a
//! NULL only ever means "implied".

use serde_json::{Map, Value};

use crate::model::AssertionObservation;

/// The member that names the assertion in the objects of a facet whose objects the columns can
/// say in full; `None` for the others (the `test` run facet's objects carry a status, not a
/// boolean). The facet parser has the same pairs (`openlineage::facets::assertions`), but this
/// is a storage format: rows stored without their object are rebuilt by these pairs, so they
/// may be added to, never changed.
fn name_member(source: &str) -> Option<&'static str> {
    match source {
        "dataQualityAssertions" => Some("assertion"),
        "greatExpectations_assertions" => Some("expectationType"),
        _ => None,
    }
}

/// The object a row's columns say, as its facet writes it.
fn implied(source: &str, assertion: &str, column_name: &str, success: bool, severity: Option<&str>) -> Option<Value> {
    let mut object = Map::new();
    object.insert(name_member(source)?.to_string(), Value::from(assertion));
    if !column_name.is_empty() {
        object.insert("column".to_string(), Value::from(column_name));
    }
    object.insert("success".to_string(), Value::Bool(success));
    if let Some(severity) = severity {
        object.insert("severity".to_string(), Value::from(severity));
    }
    Some(Value::Object(object))
}

/// What to store as `details`: nothing when the columns say it all.
pub(super) fn to_store(a: &AssertionObservation) -> Option<Value> {
    let column_name = a.column.as_deref().unwrap_or_default();
    let said = implied(&a.source, &a.assertion, column_name, a.success, a.severity.as_deref());
    match &a.details {
        Some(details) if said.as_ref() == Some(details) => None,
        other => other.clone(),
    }
}

/// What a row's `details` reads as.
pub(super) fn read(stored: Option<Value>, source: &str, assertion: &str, column_name: &str, success: bool, severity: Option<&str>) -> Option<Value> {
    stored.or_else(|| implied(source, assertion, column_name, success, severity))
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;

    use super::*;
    use crate::model::DatasetId;

    fn observation(source: &str, assertion: &str, column: Option<&str>, severity: Option<&str>, details: Value) -> AssertionObservation {
        let success = details.get("success").and_then(Value::as_bool).unwrap_or(false);
        AssertionObservation {
            dataset_id: DatasetId(1),
            run_id: None,
            source: source.into(),
            assertion: assertion.into(),
            column: column.map(str::to_string),
            success,
            severity: severity.map(str::to_string),
            details: Some(details),
            observed_at: Utc::now(),
        }
    }

    /// Stored, then read back as a row holds it.
    fn round_trip(a: &AssertionObservation) -> (Option<Value>, Option<Value>) {
        let stored = to_store(a);
        let column_name = a.column.as_deref().unwrap_or_default();
        (stored.clone(), read(stored, &a.source, &a.assertion, column_name, a.success, a.severity.as_deref()))
    }

    #[test]
    fn an_object_the_columns_say_is_not_stored_and_reads_back_the_same() {
        let cases = [
            observation("dataQualityAssertions", "not_null", Some("id"), None, json!({"assertion": "not_null", "column": "id", "success": true})),
            observation("dataQualityAssertions", "not_null", Some("id"), None, json!({"assertion": "not_null", "column": "id", "success": false})),
            observation("dataQualityAssertions", "row_count", None, Some("warn"), json!({"assertion": "row_count", "success": false, "severity": "warn"})),
            observation("greatExpectations_assertions", "expect_x", Some("id"), None, json!({"expectationType": "expect_x", "column": "id", "success": true})),
            observation("greatExpectations_assertions", "expect_y", None, Some("error"), json!({"expectationType": "expect_y", "success": false, "severity": "error"})),
        ];
        for a in cases {
            assert_eq!(round_trip(&a), (None, a.details.clone()), "{a:?}");
        }
    }

    #[test]
    fn an_object_with_more_than_the_columns_is_stored_as_received() {
        let cases = [
            // Values the columns do not hold.
            observation("dataQualityAssertions", "not_null", Some("id"), None, json!({"assertion": "not_null", "column": "id", "success": false, "actual": 3})),
            // A severity the parser skips (not a string), and an empty column name, which the
            // parser and the row do not tell from none.
            observation("dataQualityAssertions", "unique", Some("id"), None, json!({"assertion": "unique", "column": "id", "success": true, "severity": null})),
            observation("dataQualityAssertions", "row_count", None, None, json!({"assertion": "row_count", "column": "", "success": false})),
            // A facet whose objects the columns cannot say.
            observation("test", "unique_orders_id", None, None, json!({"name": "unique_orders_id", "status": "fail"})),
        ];
        for a in cases {
            assert_eq!(round_trip(&a), (a.details.clone(), a.details.clone()), "{a:?}");
        }
    }
}
