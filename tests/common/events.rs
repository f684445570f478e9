//! Builders for OpenLineage events in tests: short to write, complete enough to be real.

use serde_json::{Value, json};

pub const PRODUCER: &str = "https://github.com/weir-tests/producer";

/// A dataset reference with optional facets.
pub fn dataset(namespace: &str, name: &str) -> Value {
    json!({ "namespace": namespace, "name": name, "facets": {} })
}

/// A `schema` facet with `(name, type)` columns.
pub fn schema(columns: &[(&str, &str)]) -> Value {
    let fields: Vec<Value> = columns.iter().map(|(n, t)| json!({ "name": n, "type": t })).collect();
    json!({ "_producer": PRODUCER, "_schemaURL": "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json", "fields": fields })
}

/// A RunEvent. `time` is an RFC 3339 timestamp.
pub fn run_event(
    event_type: &str,
    time: &str,
    run_id: &str,
    job: (&str, &str),
    inputs: Vec<Value>,
    outputs: Vec<Value>,
) -> Value {
    json!({
        "eventType": event_type,
        "eventTime": time,
        "run": { "runId": run_id, "facets": {} },
        "job": { "namespace": job.0, "name": job.1, "facets": {} },
        "inputs": inputs,
        "outputs": outputs,
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
    })
}

/// A fresh random run id.
pub fn run_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
