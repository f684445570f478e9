//! Body bytes -> [`Event`]. The body is parsed once into a `serde_json::Value` (kept as
//! `Event::raw`), then deserialised from that value with `serde_path_to_error`, so that every
//! rejection carries the path of the offending field.
//!
//! There is one wire struct per event kind: each states exactly which fields that kind requires,
//! and fields a kind does not use (a `dataset` on a RunEvent) are not validated at all.

use chrono::SubsecRound;
use chrono::{DateTime, Utc};
use serde::de::{self, Deserialize, Deserializer, Unexpected};
use serde_json::Value;

use super::model::{Dataset, Event, EventKind, Facets, Job, Run, RunEventType};
use super::{ParseError, normalize_run_id, sanitize, time};

const NOT_AN_EVENT: &str = "not an OpenLineage event: expected a RunEvent (run, job), \
                            a DatasetEvent (dataset) or a JobEvent (job)";

/// Parses one event (the body of `POST /api/v1/lineage`).
pub fn parse_event(body: &[u8]) -> Result<Event, ParseError> {
    event_from_value(parse_json(body)?, may_hold_nul(body))
}

/// Parses the body of `POST /api/v1/lineage/batch`: a JSON array whose elements are parsed
/// independently, so one bad event does not reject its neighbours. Only a body that is not JSON
/// or not an array fails as a whole.
pub fn parse_batch(body: &[u8]) -> Result<Vec<Result<Event, ParseError>>, ParseError> {
    let nul = may_hold_nul(body);
    match parse_json(body)? {
        Value::Array(items) => Ok(items.into_iter().map(|item| event_from_value(item, nul)).collect()),
        other => Err(not_a("a JSON array of events", &other)),
    }
}

fn parse_json(body: &[u8]) -> Result<Value, ParseError> {
    // serde_json's message carries line and column. Positions after a rewritten `NaN` on the same
    // line are off by one (`null` is longer); good enough for a message meant for humans.
    serde_json::from_slice(&sanitize::replace_non_finite(body))
        .map_err(|e| ParseError::new("", format!("invalid JSON: {e}")))
}

/// Whether a body may hold a NUL character in a string: in valid JSON only as the escape
/// `\u0000` (a raw control character is refused by the parser). Nearly every body does not, and
/// then no event of it needs walking for one.
fn may_hold_nul(body: &[u8]) -> bool {
    memchr::memmem::find(body, br"\u0000").is_some()
}

/// `nul`: whether the body may hold a NUL character at all ([`may_hold_nul`]).
fn event_from_value(raw: Value, nul: bool) -> Result<Event, ParseError> {
    let Value::Object(doc) = &raw else {
        return Err(not_a("a JSON object", &raw));
    };
    if nul && let Some(path) = sanitize::nul_path(&raw) {
        return Err(ParseError::new(path, "holds a NUL character (\\u0000), which Weir cannot store"));
    }
    // A null member counts as absent, like everywhere else in lenient parsing.
    let has = |key: &str| doc.get(key).is_some_and(|v| !v.is_null());
    let mut event = if has("run") || has("eventType") {
        let w: WireRunEvent = from_value(&raw)?;
        let run_type = |t: String| RunEventType::parse(&t).unwrap_or(RunEventType::Other);
        Event {
            event_type: w.event_type.map(run_type),
            run: Some(Run {
                run_id: normalize_run_id(&w.run.run_id),
                raw_run_id: w.run.run_id,
                facets: w.run.facets,
            }),
            job: Some(w.job),
            inputs: w.inputs,
            outputs: w.outputs,
            ..header(EventKind::Run, w.event_time, w.producer, w.schema_url)
        }
    } else if has("dataset") {
        let w: WireDatasetEvent = from_value(&raw)?;
        let dataset = Some(w.dataset);
        Event {
            dataset,
            ..header(EventKind::Dataset, w.event_time, w.producer, w.schema_url)
        }
    } else if has("job") {
        let w: WireJobEvent = from_value(&raw)?;
        let (job, inputs, outputs) = (Some(w.job), w.inputs, w.outputs);
        Event {
            job,
            inputs,
            outputs,
            ..header(EventKind::Job, w.event_time, w.producer, w.schema_url)
        }
    } else {
        return Err(ParseError::new("", NOT_AN_EVENT));
    };
    event.raw = raw;
    Ok(event)
}

/// An event with the fields every kind has; the caller fills in the rest and `raw`.
fn header(
    kind: EventKind,
    event_time: DateTime<Utc>,
    producer: Option<String>,
    schema_url: Option<String>,
) -> Event {
    Event {
        kind,
        event_type: None,
        // Stored with microsecond precision on every backend (PostgreSQL's timestamptz limit),
        // so the same event reads back the same from SQLite and PostgreSQL.
        event_time: event_time.trunc_subsecs(6),
        producer,
        schema_url,
        run: None,
        job: None,
        dataset: None,
        inputs: Vec::new(),
        outputs: Vec::new(),
        raw: Value::Null,
    }
}

fn not_a(expected: &str, found: &Value) -> ParseError {
    let found = match found {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    ParseError::new("", format!("expected {expected}, found {found}"))
}

/// Deserialises with path tracking and turns serde's error into a [`ParseError`].
fn from_value<'a, T: Deserialize<'a>>(value: &'a Value) -> Result<T, ParseError> {
    use serde_path_to_error::Segment;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let mut path = String::new();
        for segment in e.path().iter() {
            match segment {
                Segment::Seq { index } => path.push_str(&format!("[{index}]")),
                Segment::Map { key } => push_field(&mut path, key),
                Segment::Enum { variant } => push_field(&mut path, variant),
                Segment::Unknown => push_field(&mut path, "?"),
            }
        }
        let message = e.into_inner().to_string();
        // serde reports a missing field at the enclosing object; callers want the field itself.
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|m| m.strip_suffix('`'));
        match missing {
            Some(field) => {
                push_field(&mut path, field);
                ParseError::new(path, "missing field")
            }
            None => ParseError::new(path, message),
        }
    })
}

fn push_field(path: &mut String, field: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(field);
}

// The wire structs repeat eventTime/producer/schemaURL instead of sharing them through
// `#[serde(flatten)]`, which buffers every unknown member and loses error paths.

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireRunEvent {
    event_type: Option<String>,
    #[serde(deserialize_with = "event_time")]
    event_time: DateTime<Utc>,
    producer: Option<String>,
    #[serde(rename = "schemaURL")]
    schema_url: Option<String>,
    run: WireRun,
    job: Job,
    #[serde(default, deserialize_with = "list")]
    inputs: Vec<Dataset>,
    #[serde(default, deserialize_with = "list")]
    outputs: Vec<Dataset>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireDatasetEvent {
    #[serde(deserialize_with = "event_time")]
    event_time: DateTime<Utc>,
    producer: Option<String>,
    #[serde(rename = "schemaURL")]
    schema_url: Option<String>,
    dataset: Dataset,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireJobEvent {
    #[serde(deserialize_with = "event_time")]
    event_time: DateTime<Utc>,
    producer: Option<String>,
    #[serde(rename = "schemaURL")]
    schema_url: Option<String>,
    job: Job,
    #[serde(default, deserialize_with = "list")]
    inputs: Vec<Dataset>,
    #[serde(default, deserialize_with = "list")]
    outputs: Vec<Dataset>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", expecting = "a run object")]
struct WireRun {
    #[serde(deserialize_with = "non_blank")]
    run_id: String,
    #[serde(default, deserialize_with = "facets")]
    facets: Facets,
}

/// Identity strings (names, namespaces, run ids): an empty or blank one would silently merge
/// unrelated jobs, datasets or runs.
pub(super) fn non_blank<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    if s.trim().is_empty() {
        return Err(de::Error::invalid_value(
            Unexpected::Str(&s),
            &"a non-empty string",
        ));
    }
    Ok(s)
}

/// `eventTime`, read by the lenient rules of `time::parse_timestamp`.
fn event_time<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let s = String::deserialize(d)?;
    let expected = "an ISO 8601 timestamp such as 2024-01-15T10:00:00Z";
    time::parse_timestamp(&s)
        .ok_or_else(|| de::Error::invalid_value(Unexpected::Str(&s), &expected))
}

/// A facet map: null or absent means none, and null facets (the Python client emits them for
/// facets it did not fill) are dropped so readers never see them. Non-objects are still errors.
pub(super) fn facets<'de, D: Deserializer<'de>>(d: D) -> Result<Facets, D::Error> {
    let mut map = Option::<Facets>::deserialize(d)?.unwrap_or_default();
    map.retain(|_, v| !v.is_null());
    Ok(map)
}

/// `inputs`/`outputs`: null or absent means empty.
fn list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const BASE: &str = r#"{"eventType": "START", "eventTime": "2024-01-15T10:00:00Z",
        "producer": "p", "schemaURL": "s", "run": {"runId": "ea041791-68bc-4ae1-bd89-4c8106a157e4"},
        "job": {"namespace": "ns", "name": "job"},
        "inputs": [{"namespace": "db", "name": "a"}], "outputs": [{"namespace": "db", "name": "b"}]}"#;

    /// BASE with the member at each JSON pointer set to a value, or removed when `None`.
    fn parse_edited(edits: &[(&str, Option<Value>)]) -> Result<Event, ParseError> {
        let mut v: Value = serde_json::from_str(BASE).unwrap();
        for (pointer, value) in edits {
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            let parent = v.pointer_mut(parent).unwrap().as_object_mut().unwrap();
            match value {
                Some(value) => parent.insert(key.to_owned(), value.clone()),
                None => parent.remove(key),
            };
        }
        parse_event(&serde_json::to_vec(&v).unwrap())
    }

    #[test]
    fn parses_a_run_event() {
        let e = parse_edited(&[]).unwrap();
        assert_eq!(
            (e.kind, e.event_type),
            (EventKind::Run, Some(RunEventType::Start))
        );
        assert_eq!(e.event_time.to_rfc3339(), "2024-01-15T10:00:00+00:00");
        assert_eq!(
            (e.producer.as_deref(), e.schema_url.as_deref()),
            (Some("p"), Some("s"))
        );
        let job = e.job.unwrap();
        assert_eq!((job.namespace.as_str(), job.name.as_str()), ("ns", "job"));
        let run_id = e.run.unwrap().run_id.to_string();
        assert_eq!(run_id, "ea041791-68bc-4ae1-bd89-4c8106a157e4");
        assert_eq!(
            (e.inputs[0].name.as_str(), e.outputs[0].name.as_str()),
            ("a", "b")
        );
        assert_eq!(e.dataset, None);
    }

    #[test]
    fn lenient_where_clients_are_sloppy() {
        let e = parse_edited(&[
            ("/eventType", None),
            ("/eventTime", Some(json!("2021-11-03 10:53:52.427343"))),
            (
                "/run/runId",
                Some(json!("{EA041791-68BC-4AE1-BD89-4C8106A157E4}")),
            ),
            (
                "/run/facets",
                Some(json!({"nominalTime": null, "custom": {"x": 1}})),
            ),
            ("/job/facets", Some(Value::Null)),
            ("/inputs", Some(Value::Null)),
            ("/outputs", None),
            ("/somethingNew", Some(json!({"kept": true}))),
        ])
        .unwrap();
        assert_eq!((e.kind, e.event_type), (EventKind::Run, None));
        assert_eq!(
            e.event_time.to_rfc3339(),
            "2021-11-03T10:53:52.427343+00:00"
        );
        let run = e.run.unwrap();
        assert_eq!(
            run.run_id.to_string(),
            "ea041791-68bc-4ae1-bd89-4c8106a157e4"
        );
        assert_eq!(run.raw_run_id, "{EA041791-68BC-4AE1-BD89-4C8106A157E4}");
        assert_eq!(run.facets.keys().collect::<Vec<_>>(), ["custom"]);
        assert!(e.job.unwrap().facets.is_empty() && e.inputs.is_empty() && e.outputs.is_empty());
        assert_eq!(e.raw["somethingNew"], json!({"kept": true}));
        assert_eq!(e.raw["run"]["facets"]["nominalTime"], Value::Null);

        let e = parse_edited(&[("/eventType", Some(json!("PAUSED")))]).unwrap();
        assert_eq!(e.event_type, Some(RunEventType::Other));
        let e = parse_edited(&[("/run/runId", Some(json!("scheduled__2024-01-01")))]).unwrap();
        assert_eq!(
            e.run.unwrap().run_id,
            normalize_run_id("scheduled__2024-01-01")
        );
    }

    #[test]
    fn python_non_finite_numbers_become_null_but_strings_stay() {
        let body = br#"{"eventTime": "2024-01-15T10:00:00Z", "run": {"runId": "r"},
            "job": {"namespace": "n", "name": "NaN"}, "inputs": [{"namespace": "n", "name": "t",
            "inputFacets": {"dataQualityMetrics": {"rowCount": NaN, "bytes": -Infinity}}}]}"#;
        let e = parse_event(body).unwrap();
        assert_eq!(e.job.unwrap().name, "NaN");
        let dq = json!({"rowCount": null, "bytes": null});
        assert_eq!(e.inputs[0].input_facets["dataQualityMetrics"], dq);
        assert_eq!(e.raw["inputs"][0]["inputFacets"]["dataQualityMetrics"], dq);
    }

    #[test]
    fn detects_dataset_and_job_events() {
        let d = parse_event(
            br#"{"eventTime": "2024-01-15T10:00:00+02:00", "run": null,
            "dataset": {"namespace": "n", "name": "t", "facets": {"schema": {"fields": []}}}}"#,
        );
        let d = d.unwrap();
        assert_eq!(
            (d.kind, d.run, d.job, d.event_type),
            (EventKind::Dataset, None, None, None)
        );
        assert_eq!(d.dataset.unwrap().facets.len(), 1);
        let j = parse_event(
            br#"{"eventTime": "2024-01-15T10:00:00Z",
            "job": {"namespace": "n", "name": "j"}, "outputs": [{"namespace": "n", "name": "t"}]}"#,
        );
        let j = j.unwrap();
        assert_eq!(
            (j.kind, j.event_type, j.outputs.len()),
            (EventKind::Job, None, 1)
        );
        let none = parse_event(br#"{"eventTime": "2024-01-15T10:00:00Z", "inputs": []}"#);
        assert_eq!(none.unwrap_err(), ParseError::new("", NOT_AN_EVENT));
    }

    #[test]
    fn strict_where_it_matters() {
        let cases = [
            ("/job/namespace", Some(json!("")), "job.namespace"),
            ("/job/name", None, "job.name"),
            ("/job/name", Some(json!("  ")), "job.name"),
            ("/job", None, "job"),
            ("/run", None, "run"),
            ("/run", Some(json!({})), "run.runId"),
            ("/run/runId", Some(json!("")), "run.runId"),
            ("/run/runId", Some(json!(42)), "run.runId"),
            ("/run/facets", Some(json!("x")), "run.facets"),
            ("/eventTime", None, "eventTime"),
            ("/eventTime", Some(json!("yesterday")), "eventTime"),
            ("/eventTime", Some(json!(1705312800)), "eventTime"),
            ("/eventType", Some(json!(1)), "eventType"),
            (
                "/inputs",
                Some(json!({"namespace": "db", "name": "a"})),
                "inputs",
            ),
            ("/inputs/0/namespace", None, "inputs[0].namespace"),
            ("/outputs/0/facets", Some(json!([])), "outputs[0].facets"),
            (
                "/outputs/0/outputFacets",
                Some(json!(1)),
                "outputs[0].outputFacets",
            ),
            (
                "/inputs",
                Some(json!([{"namespace": "db", "name": "a"}, null])),
                "inputs[1]",
            ),
        ];
        for (pointer, value, path) in cases {
            let err = parse_edited(&[(pointer, value)]).unwrap_err();
            assert_eq!(err.path, path, "{pointer}: {err}");
        }
        let err = parse_edited(&[("/job/name", Some(json!(5)))]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "job.name: invalid type: integer `5`, expected a string"
        );
        let err = parse_edited(&[("/run", Some(json!({})))]).unwrap_err();
        assert_eq!(err.to_string(), "run.runId: missing field");
        let err = parse_edited(&[("/inputs", Some(json!([null])))]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "inputs[0]: invalid type: null, expected a dataset object"
        );
        let body = br#"{"eventTime": "2024-01-15T10:00:00Z", "dataset": {"namespace": "n"}}"#;
        assert_eq!(
            parse_event(body).unwrap_err().to_string(),
            "dataset.name: missing field"
        );
    }

    #[test]
    fn rejects_bodies_that_are_not_an_event_object() {
        let e = parse_event(b"{\n  \"eventTime\": ,\n}").unwrap_err();
        assert_eq!(e.path, "");
        assert!(
            e.message.starts_with("invalid JSON: ") && e.message.contains("line 2"),
            "{e}"
        );
        let e = parse_event(b"[]").unwrap_err();
        assert_eq!(e.message, "expected a JSON object, found an array");
        assert_eq!(parse_event(b"").unwrap_err().path, "");
    }

    #[test]
    fn batch_parses_each_element_on_its_own() {
        let bad = r#"{"eventTime": "2024-01-15T10:00:00Z", "job": {"namespace": "n", "name": 5}}"#;
        let results = parse_batch(format!("[{BASE}, {bad}, 7]").as_bytes()).unwrap();
        assert_eq!(results.len(), 3);
        assert!(results[0].is_ok());
        assert_eq!(results[1].as_ref().unwrap_err().path, "job.name");
        let err = results[2].as_ref().unwrap_err();
        assert_eq!(err.message, "expected a JSON object, found a number");
        let err = parse_batch(BASE.as_bytes()).unwrap_err();
        assert_eq!(
            err.message,
            "expected a JSON array of events, found an object"
        );
        assert_eq!(parse_batch(b"[").unwrap_err().path, "");
        assert!(parse_batch(b"[]").unwrap().is_empty());
    }
}
