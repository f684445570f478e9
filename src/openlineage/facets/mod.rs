//! Reading the standard facets (and two well-known custom ones) out of raw [`Facets`] maps.
//!
//! Every reader here is total: a facet that is absent or malformed yields `None`, an empty list,
//! or skips the malformed entry. Real emitters send malformed facets (the fluentd proxy's test
//! events do so on purpose) and the event must still be accepted; the raw facet is stored anyway,
//! so nothing is lost by not understanding it.

mod lineage;
mod quality;
mod run;
mod schema;

pub use lineage::{ColumnLineage, ColumnLineageInput, column_lineage, symlinks};
pub use quality::{Assertion, Metric, RunTestAssertion, assertions, metrics, run_test_assertions};
pub use run::{ParentRef, error_message, nominal_time, parent};
pub use schema::{Owner, SchemaField, dataset_version, owners, ownership, schema_fields};

use serde_json::{Map, Value};

use super::Facets;

/// The facet `name` if it is a JSON object.
fn facet<'a>(facets: &'a Facets, name: &str) -> Option<&'a Map<String, Value>> {
    facets.get(name)?.as_object()
}

/// A string member; empty strings count as absent, because an empty name or column identifies
/// nothing.
fn string(obj: &Map<String, Value>, key: &str) -> Option<String> {
    obj.get(key)?
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The objects of an array member; non-object entries are skipped.
fn objects<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
) -> impl Iterator<Item = &'a Map<String, Value>> {
    obj.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
}

#[cfg(test)]
pub(crate) fn facets_of(json: Value) -> Facets {
    match json {
        Value::Object(map) => map,
        _ => panic!("test facets must be an object"),
    }
}

/// `source [column.]metric=value`: compact enough to compare whole lists in one assertion.
#[cfg(test)]
pub(crate) fn show_metric(m: &Metric) -> String {
    let column = m
        .column
        .as_ref()
        .map(|c| format!("{c}."))
        .unwrap_or_default();
    let value = m.value.map_or("null".to_owned(), |v| v.to_string());
    format!("{} {column}{}={value}", m.source, m.metric)
}

/// `source assertion[(column)] pass|fail[ [severity]]`.
#[cfg(test)]
pub(crate) fn show_assertion(a: &Assertion) -> String {
    let column = a
        .column
        .as_ref()
        .map(|c| format!("({c})"))
        .unwrap_or_default();
    let outcome = if a.success { "pass" } else { "fail" };
    let severity = a
        .severity
        .as_ref()
        .map(|s| format!(" [{s}]"))
        .unwrap_or_default();
    format!("{} {}{column} {outcome}{severity}", a.source, a.assertion)
}
