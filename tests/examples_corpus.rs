//! Every file of `shared/openlineage/examples` (the OpenLineage project's own example events) and
//! `shared/openlineage/captured` (what the real Python client sent), through the real HTTP API,
//! then the graph read back over GraphQL.
//!
//! * [`CASES`] gives each file a deliberate outcome, and [`every_file_has_a_deliberate_outcome`]
//!   fails when a file is added to (or removed from) the folders until someone decides one.
//! * Files are sent exactly as they are first. Integration-test *patterns* (Airflow and Spark
//!   compare what they receive against these as subsets and leave out what varies per run:
//!   `eventTime`, `run.runId`, sometimes a name) get their 400 with the path of the missing field;
//!   then they are completed the way a real emitter would send them ([`complete`]) and ingested.
//!   Test *templates* get their placeholders replaced ([`fill_placeholders`]) and are ingested.
//! * A run id is globally unique (OpenLineage spec), so an otherwise valid event whose `run.runId`
//!   already belongs to another job is refused: 409, `error.code` `CONFLICT`, `error.path`
//!   `run.runId`, and nothing of it is stored (not even the raw event). [`Model`] predicts which
//!   events that is, [`RUN_ID_CONFLICTS`] lists them (the dbt fixtures reuse one file's run ids for
//!   another file's jobs), and for each the test checks the 409, that a retry is refused again,
//!   and that the job owning the run id and everything the event names are as they were.
//! * After every accepted event the test asks the server about what that event says, derived from
//!   the event JSON itself: the run belongs to the event's job, its state follows event time, the
//!   job's current inputs/outputs are those of its most recent run, parents, schemas, aliases,
//!   metrics, assertions and column lineage. [`Model`] keeps the little state that needs (the
//!   design's rules, written from `shared/design.md`, not from the server's code). Each family of
//!   files ends with a few hand-written exact checks of the important cases and a comparison of
//!   every job and dataset the server knows with what the events named.
//! * One server per family and backend, files in table order. Problems are collected, not
//!   panicked on one by one, so a run lists every mismatch, each naming its file and event.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Debug;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, SecondsFormat, TimeZone, Utc};
use common::TestApp;
use serde_json::{Value, json};
use weir::openlineage::{normalize_run_id, parse_timestamp};

// ------------------------------------------------------------------------------------------------
// The table
// ------------------------------------------------------------------------------------------------

/// Files are ingested one family per server, so that one family's problems do not hide another's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// captured/, the Python client's and the spec's own examples, the fluentd proxy's test events.
    Clients,
    /// Airflow integration-test request patterns (historical commits), incl. Great Expectations.
    Airflow,
    /// Spark, Hive and Flink: JVM integrations.
    Jvm,
    /// dbt-ol's expected events.
    Dbt,
}

/// What Weir deliberately does with a file.
#[derive(Debug)]
enum Outcome {
    /// Sent as it is, each event is accepted (201) and shows in the graph.
    Accepted,
    /// Sent as it is, each event is rejected with a 400 whose `error.path` is listed here; the file
    /// exists to be refused, so it is not completed.
    Refused { paths: &'static [&'static str] },
    /// A test pattern: as it is, each event gets a 400 with the listed `error.path`. Then it is
    /// completed like a real emitter's event ([`complete`], plus `fills`: JSON pointer -> value,
    /// set only where the pattern has nothing) and each completed event is accepted.
    Pattern {
        paths: &'static [&'static str],
        fills: &'static [(&'static str, &'static str)],
    },
    /// A test template with `${json-unit.*}` or `{{ ... }}` placeholders: filled in
    /// ([`fill_placeholders`]), completed ([`complete`]) and accepted, except the events that
    /// [`RUN_ID_CONFLICTS`] lists (409: their run id belongs to another job).
    Template,
    /// Not an OpenLineage event (skipped for ingestion, for the reason given). Sent as it is
    /// anyway, it must get a 400 about the document as a whole (no `error.path`), never a 5xx.
    NotAnEvent { reason: &'static str },
}

struct Case {
    file: &'static str,
    family: Family,
    outcome: Outcome,
}

use Family::*;
use Outcome::*;

const fn case(file: &'static str, family: Family, outcome: Outcome) -> Case {
    Case { file, family, outcome }
}

/// Every file, in the order it is sent. Note that `captured_complete.json` sorts (and so arrives)
/// before `captured_start.json`: a COMPLETE before its START, which real deliveries also do.
const CASES: &[Case] = &[
    case("captured/captured_complete.json", Clients, Accepted),
    case("captured/captured_dataset_event.json", Clients, Accepted),
    case("captured/captured_job_event.json", Clients, Accepted),
    case(
        "captured/captured_requests_meta.json",
        Clients,
        NotAnEvent { reason: "request metadata (paths and headers the recording server saw), not an event body" },
    ),
    case("captured/captured_start.json", Clients, Accepted),
    case("examples/client__python__tests__example_full_event.json", Clients, Accepted),
    // The serde examples have no offset on eventTime (Python's naive isoformat): read as UTC.
    case("examples/client__python__tests__serde_example_dataset_event.json", Clients, Accepted),
    case("examples/client__python__tests__serde_example_job_event.json", Clients, Accepted),
    case("examples/client__python__tests__serde_example_run_event.json", Clients, Accepted),
    case(
        "examples/hist-0309d6392__integration__airflow__tests__integration__requests__great_expectations.json",
        Airflow,
        Pattern { paths: &["run.runId", "run.runId", "run.runId"], fills: &[] },
    ),
    case(
        "examples/hist-cd35384d8__integration__airflow__tests__integration__requests__dag_order__1.json",
        Airflow,
        // The Airflow integration's namespace when OPENLINEAGE_NAMESPACE is unset.
        Pattern { paths: &["job.namespace"], fills: &[("/job/namespace", "default")] },
    ),
    case(
        "examples/hist-cd35384d8__integration__airflow__tests__integration__requests__failing__bash.json",
        Airflow,
        Pattern { paths: &["run.runId", "run.runId", "run.runId", "run.runId"], fills: &[] },
    ),
    case(
        "examples/hist-cd35384d8__integration__airflow__tests__integration__requests__mysql.json",
        Airflow,
        Pattern { paths: &["run.runId", "run.runId", "eventTime", "eventTime"], fills: &[] },
    ),
    case("examples/integration__common__tests__dbt__fail__result.json", Dbt, Template),
    // Literal run ids (only eventTime is templated); it comes first, so it owns them.
    case("examples/integration__common__tests__dbt__no_test_metadata__result.json", Dbt, Template),
    // Events 0 and 2 (assert_positive_amounts) reuse run 6edf42ed-..., no_test_metadata's
    // customers.test: 409 (RUN_ID_CONFLICTS).
    case("examples/integration__common__tests__dbt__singular_test__result.json", Dbt, Template),
    case(
        "examples/integration__common__tests__dbt__structured_logs__postgres__test__results__test_ol_events.json",
        Dbt,
        Template,
    ),
    // Every event reuses a no_test_metadata run id for a different job: all ten get 409
    // (RUN_ID_CONFLICTS), so none of its assertions are stored.
    case("examples/integration__common__tests__dbt__test__result.json", Dbt, Template),
    case("examples/integration__flink__flink1__src__test__resources__events__expected_failed.json", Jvm, Template),
    case("examples/integration__flink__flink1__src__test__resources__events__expected_kafka.json", Jvm, Template),
    case(
        "examples/integration__flink__flink1__src__test__resources__events__expected_kafka_checkpoints.json",
        Jvm,
        Template,
    ),
    case("examples/integration__flink__flink2__src__test__resources__events__expected_sql_kafka.json", Jvm, Template),
    case(
        "examples/integration__hive__hive-openlineage-hook__integrations__container__cllSimpleQueryMaskingComplete.json",
        Jvm,
        Template,
    ),
    case(
        "examples/integration__spark__app__integrations__container__applicationLevelStartApplication.json",
        Jvm,
        Pattern { paths: &["run.runId"], fills: &[] },
    ),
    case(
        "examples/integration__spark__app__integrations__container__deltaMergeCommandVerificationComplete.json",
        Jvm,
        // No job at all (examples/README.md calls it facet-only); the facets are a real MERGE's.
        Pattern {
            paths: &["eventTime"],
            fills: &[("/job/namespace", "filled-in"), ("/job/name", "filled-in.delta_merge_into")],
        },
    ),
    case(
        "examples/integration__spark__app__integrations__container__pysparkAlterTableRenameEnd.json",
        Jvm,
        Pattern { paths: &["eventTime"], fills: &[] },
    ),
    case(
        "examples/integration__spark__app__integrations__container__pysparkCLLEnd.json",
        Jvm,
        Pattern { paths: &["job.name"], fills: &[("/job/name", "filled-in.cll_insert_into_tbl1")] },
    ),
    case(
        "examples/integration__spark__app__integrations__container__pysparkDropTableEvent.json",
        Jvm,
        // No run and no eventType: completed, it is a JobEvent (static lineage).
        Pattern { paths: &["job.name"], fills: &[("/job/name", "filled-in.drop_table")] },
    ),
    case(
        "examples/integration__spark__app__integrations__container__pysparkKafkaReadStartEvent.json",
        Jvm,
        Pattern { paths: &["run.runId"], fills: &[] },
    ),
    case(
        "examples/integration__spark__app__integrations__container__pysparkSingleRDDStatistics.json",
        Jvm,
        NotAnEvent {
            reason: "a fragment the Spark test matches against (two datasets' statistics facets, \
                     templated): no job, run, eventType or eventTime to complete it from",
        },
    ),
    case(
        "examples/integration__spark__app__integrations__container__pysparkSymlinksComplete.json",
        Jvm,
        Pattern { paths: &["job.name"], fills: &[("/job/name", "filled-in.symlinks_write")] },
    ),
    case(
        "examples/integration__spark__app__integrations__container__pysparkV2AppendDataCompleteEvent.json",
        Jvm,
        Pattern { paths: &["eventTime"], fills: &[] },
    ),
    case(
        "examples/integration__spark__app__integrations__container__pysparkWriteDeltaTableVersionEnd.json",
        Jvm,
        Pattern { paths: &["eventTime"], fills: &[] },
    ),
    case(
        "examples/integration__spark__app__integrations__sparksql__1.json",
        Jvm,
        Pattern { paths: &["inputs[0].name"], fills: &[("/inputs/0/name", "/tmp/filled-in/sparksql_input")] },
    ),
    case("examples/integration__spark__app__src__test__resources__test_data__serde__openlineage-event.json", Jvm, Accepted),
    case(
        "examples/integration__spark__cli__tests__test_failing__example_failing.json",
        Jvm,
        Pattern { paths: &["run.runId"], fills: &[] },
    ),
    case("examples/proxy__fluentd__events__event_full.json", Clients, Accepted),
    // The owner has no name: a malformed facet is no evidence, not a reason to lose the event.
    case("examples/proxy__fluentd__events__event_invalid_dataset_facet.json", Clients, Accepted),
    // The parent facet has no run id: no parent, but the event is kept.
    case("examples/proxy__fluentd__events__event_invalid_run_facet.json", Clients, Accepted),
    // Deliberately invalid: a run without runId identifies nothing.
    case("examples/proxy__fluentd__events__event_no_run_id.json", Clients, Refused { paths: &["run.runId"] }),
    case("examples/proxy__fluentd__events__event_simple.json", Clients, Accepted),
    case(
        "examples/spec__tests__ColumnLineageDatasetFacet__1.json",
        Clients,
        NotAnEvent { reason: "facet-only: the spec's test of one facet, not an event" },
    ),
    case(
        "examples/spec__tests__DataQualityAssertionsDatasetFacet__1.json",
        Clients,
        NotAnEvent { reason: "facet-only: the spec's test of one facet, not an event" },
    ),
    case(
        "examples/spec__tests__DataQualityMetricsInputDatasetFacet__1.json",
        Clients,
        NotAnEvent { reason: "facet-only: the spec's test of one facet, not an event" },
    ),
    // A RunEvent that also carries a `dataset` member: the stray member is ignored.
    case("examples/spec__tests__example_full_event.json", Clients, Accepted),
];

/// The events (file, indexes in the file) that are otherwise valid but are refused with 409
/// `CONFLICT` at `run.runId`, because their run id already belongs to a different job: a run id is
/// globally unique, and accepting them would graft one job's lineage onto another's run. Which
/// events these are follows from arrival order within a family (the first job to use a run id owns
/// it); [`Model::run_id_owner`] predicts them, and each family fails unless its prediction is
/// exactly this list.
const RUN_ID_CONFLICTS: &[(&str, &[usize])] = &[
    // 6edf42ed-d8d0-454a-b819-d09b9067ff99 is no_test_metadata's DEMO_DB...customers.test run.
    ("examples/integration__common__tests__dbt__singular_test__result.json", &[0, 2]),
    // Its five run ids are no_test_metadata's five test runs, each for a job of another name.
    ("examples/integration__common__tests__dbt__test__result.json", &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
];

/// Files in the folders that are documentation, not candidates for ingestion.
const DOCS: &[&str] = &["examples/ORIGINS.txt", "examples/README.md"];

fn root() -> PathBuf {
    // CI runs in a fresh clone with shared/ beside it; a missing folder must fail, not skip.
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/openlineage")).to_path_buf()
}

fn read(file: &str) -> Vec<u8> {
    let path = root().join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (is shared/ checked out beside the repo?)", path.display()))
}

fn is_templated(text: &str) -> bool {
    text.contains("${json-unit.") || text.contains("{{")
}

/// The events of a file: the elements of a JSON array, or the document itself.
fn events_of(file: &str, bytes: &[u8]) -> Vec<Value> {
    match serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("{file}: not JSON: {e}")) {
        Value::Array(events) => events,
        single => vec![single],
    }
}

#[test]
fn every_file_has_a_deliberate_outcome() {
    let mut found: Vec<String> = ["captured", "examples"]
        .iter()
        .flat_map(|dir| std::fs::read_dir(root().join(dir)).unwrap_or_else(|e| panic!("{dir}: {e}")))
        .map(|entry| format!("{}", entry.expect("directory entry").path().strip_prefix(root()).expect("under root").display()))
        .filter(|file| !DOCS.contains(&file.as_str()))
        .collect();
    found.sort();
    let listed: Vec<String> = CASES.iter().map(|c| c.file.to_string()).collect();
    assert_eq!(found, listed, "files in shared/openlineage changed: give each one a deliberate outcome in CASES");

    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for case in CASES {
        let text = String::from_utf8_lossy(&read(case.file)).into_owned();
        let events = events_of(case.file, text.as_bytes());
        let kind = match &case.outcome {
            Accepted => "accepted as they are",
            Refused { .. } => "rejected, deliberately invalid",
            Pattern { .. } => "rejected as they are, accepted once completed",
            Template => "templates, accepted once filled in",
            NotAnEvent { .. } => "not events (skipped, with a reason)",
        };
        *counts.entry(kind).or_default() += 1;
        match &case.outcome {
            Template => assert!(is_templated(&text), "{}: listed as a template but has no placeholder", case.file),
            NotAnEvent { .. } => {}
            _ => assert!(!is_templated(&text), "{}: has placeholders: make it a Template", case.file),
        }
        if let Refused { paths } | Pattern { paths, .. } = &case.outcome {
            assert_eq!(paths.len(), events.len(), "{}: one rejection path per event", case.file);
        }
    }
    for (file, indexes) in RUN_ID_CONFLICTS {
        let case = CASES.iter().find(|c| c.file == *file).unwrap_or_else(|| panic!("RUN_ID_CONFLICTS: {file} is not in CASES"));
        assert!(matches!(case.outcome, Accepted | Template), "{file}: only accepted-looking events can conflict");
        let events = events_of(file, &read(file));
        assert!(indexes.windows(2).all(|w| w[0] < w[1]), "{file}: list conflicting events once, in order");
        for &i in *indexes {
            let run_id = events.get(i).map(|e| &e["run"]["runId"]).unwrap_or_else(|| panic!("{file}: no event #{i}"));
            // A run id the test completes is made from (file, job), so only a literal one can clash.
            assert!(run_id.as_str().is_some_and(|r| !is_templated(r)), "{file}#{i}: its run id is not literal: {run_id}");
        }
    }
    let refused: usize = RUN_ID_CONFLICTS.iter().map(|(_, indexes)| indexes.len()).sum();
    eprintln!("outcomes of {} files: {counts:#?}; {refused} events refused for reusing another job's run id", CASES.len());
}

// ------------------------------------------------------------------------------------------------
// Completing patterns and filling templates
// ------------------------------------------------------------------------------------------------

/// Completes an event the way a real emitter would have sent it, touching only what is missing:
/// `fills` first; then `eventTime` (the case's base time plus one second per event, so events of a
/// file keep their order); for a RunEvent (it has `run` or `eventType`) a `run.runId`; and for a
/// `parent` run facet that names a job but no run, the parent's `run.runId` (Airflow and Spark
/// always send the DAG's / application's run there). Run ids are name-based UUIDs of (file, job),
/// so START and COMPLETE of one task share a run, and a parent run id is the id its own events get.
fn complete(event: &mut Value, file: &str, base: DateTime<Utc>, index: usize, fills: &[(&str, &str)]) {
    for (pointer, value) in fills {
        set_if_missing(event, pointer, json!(value));
    }
    let time = (base + Duration::seconds(index as i64)).to_rfc3339_opts(SecondsFormat::Secs, true);
    set_if_missing(event, "/eventTime", json!(time));
    if event.get("run").is_some() || event.get("eventType").is_some() {
        let run_id = completed_run_id(file, &event["job"]);
        set_if_missing(event, "/run/runId", json!(run_id));
    }
    if event.pointer("/run/facets/parent/job").is_some_and(Value::is_object) {
        let parent_run_id = completed_run_id(file, &event["run"]["facets"]["parent"]["job"]);
        set_if_missing(event, "/run/facets/parent/run/runId", json!(parent_run_id));
    }
}

fn completed_run_id(file: &str, job: &Value) -> String {
    let key = format!("weir-corpus:{file}:{}:{}", str_of(&job["namespace"]), str_of(&job["name"]));
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, key.as_bytes()).to_string()
}

/// Sets the member at `pointer` (creating objects on the way) unless it is already there.
fn set_if_missing(doc: &mut Value, pointer: &str, value: Value) {
    let mut at = doc;
    let mut keys = pointer.split('/').skip(1).peekable();
    while let Some(key) = keys.next() {
        let next = match at {
            Value::Array(items) => items.get_mut(key.parse::<usize>().expect("array index")).expect("element exists"),
            Value::Object(map) if keys.peek().is_none() => {
                map.entry(key).or_insert(value);
                return;
            }
            Value::Object(map) => map.entry(key).or_insert_with(|| json!({})),
            other => panic!("cannot fill {pointer}: {other} is not a container"),
        };
        at = next;
    }
}

/// Replaces test placeholders with concrete values:
/// * in `eventTime` and any `runId` (`{{ is_datetime(result) }}`, `{{ any(result) }}`,
///   `${json-unit.any-string}`): removed, so that [`complete`] fills them like a pattern's;
/// * `${json-unit.any-number}` -> `0`;
/// * `${json-unit.regex}<re>` -> a value that matches `<re>` ([`REGEX_SAMPLES`]);
/// * `${json-unit.any-string}` and `{{ any(result) }}` anywhere else (versions, ids, producers:
///   free text) -> `"filled-in"`.
fn fill_placeholders(value: &mut Value, file: &str) {
    match value {
        Value::Object(map) => {
            map.retain(|key, v| !((key == "eventTime" || key == "runId") && v.as_str().is_some_and(is_templated)));
            for v in map.values_mut() {
                fill_placeholders(v, file);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| fill_placeholders(v, file)),
        Value::String(s) if is_templated(s) => {
            *value = match s.as_str() {
                "${json-unit.any-number}" => json!(0),
                "${json-unit.any-string}" | "{{ any(result) }}" => json!("filled-in"),
                other => match other.strip_prefix("${json-unit.regex}") {
                    Some(re) => json!(
                        REGEX_SAMPLES
                            .iter()
                            .find(|(pattern, _)| *pattern == re)
                            .unwrap_or_else(|| panic!("{file}: no sample for placeholder regex {re:?}"))
                            .1
                    ),
                    None => panic!("{file}: unknown placeholder {other:?}"),
                },
            }
        }
        _ => {}
    }
}

/// A value matching each `${json-unit.regex}` of the templates (Flink versions, a client IP).
const REGEX_SAMPLES: &[(&str, &str)] = &[
    (r"1\.\d+\.\d+", "1.18.1"),
    (r"1.\d+.\d+", "1.18.1"),
    (r"2\.\d+.*", "2.0.0"),
    (r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}", "172.17.0.2"),
];

/// Base event time of the completed events of the `index`th case: one hour apart per case, so
/// later files are later in event time too.
fn base_time(index: usize) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).single().expect("valid date") + Duration::hours(index as i64)
}

// ------------------------------------------------------------------------------------------------
// Reading events
// ------------------------------------------------------------------------------------------------

/// (namespace, name) of a job or dataset.
type Id = (String, String);

fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// A non-empty string member, as the facet readers take them.
fn text(v: &Value) -> Option<String> {
    v.as_str().filter(|s| !s.is_empty()).map(str::to_string)
}

fn id_of(v: &Value) -> Id {
    (str_of(&v["namespace"]).to_string(), str_of(&v["name"]).to_string())
}

fn show(id: &Id) -> String {
    format!("({}, {})", id.0, id.1)
}

/// `in_namespace in_name.field -> out_field [TYPE SUBTYPE]`.
fn show_edges<'e>(edges: impl IntoIterator<Item = &'e ColumnEdge>) -> String {
    let shown: Vec<String> = edges
        .into_iter()
        .map(|(from, from_field, _, to_field, kind, subtype)| {
            let kind = [kind, subtype].iter().filter_map(|k| k.as_deref()).collect::<Vec<_>>().join(" ");
            format!("{} {}.{from_field} -> {to_field} [{kind}]", from.0, from.1)
        })
        .collect();
    shown.join("; ")
}

fn ids_of(list: &Value) -> BTreeSet<Id> {
    list.as_array().into_iter().flatten().map(id_of).collect()
}

/// An identity only when both parts are non-empty strings.
fn full_id(v: &Value) -> Option<Id> {
    Some((text(&v["namespace"])?, text(&v["name"])?))
}

/// The jobs an event names: its own and its parent facet's.
fn jobs_named(e: &Value) -> BTreeSet<Id> {
    [full_id(&e["job"]), full_id(&e["run"]["facets"]["parent"]["job"])].into_iter().flatten().collect()
}

/// Every dataset identity an event names: inputs, outputs, their symlinks, the inputs of their
/// column lineage, and the datasets of a `test` run facet.
fn datasets_named(e: &Value) -> BTreeSet<Id> {
    let mut named = BTreeSet::new();
    let entries = e["inputs"].as_array().into_iter().flatten().chain(e["outputs"].as_array().into_iter().flatten());
    for entry in entries {
        named.extend(full_id(entry));
        named.extend(symlinks_of(entry));
        for spec in entry["facets"]["columnLineage"]["fields"].as_object().into_iter().flat_map(|f| f.values()) {
            named.extend(spec["inputFields"].as_array().into_iter().flatten().filter_map(full_id));
        }
    }
    let tests = e["run"]["facets"]["test"]["tests"].as_array().into_iter().flatten();
    named.extend(tests.filter_map(|t| full_id(&t["dataset"])));
    named
}

fn present(v: &Value) -> bool {
    !v.is_null()
}

fn is_run_event(e: &Value) -> bool {
    present(&e["run"]) || present(&e["eventType"])
}

fn time_of(e: &Value) -> DateTime<Utc> {
    parse_timestamp(str_of(&e["eventTime"])).expect("an accepted event has a readable eventTime")
}

/// The usable `parent` run facet: (canonical run id, job), only when all three are there.
fn parent_of(e: &Value) -> Option<(String, Id)> {
    let parent = &e["run"]["facets"]["parent"];
    let run_id = text(&parent["run"]["runId"])?;
    let job = (text(&parent["job"]["namespace"])?, text(&parent["job"]["name"])?);
    Some((normalize_run_id(&run_id).to_string(), job))
}

/// The identifiers of a dataset's `symlinks` facet.
fn symlinks_of(dataset: &Value) -> Vec<Id> {
    let identifiers = dataset["facets"]["symlinks"]["identifiers"].as_array().into_iter().flatten();
    identifiers.filter_map(|i| Some((text(&i["namespace"])?, text(&i["name"])?))).collect()
}

/// The `schema` facet as the API shows it: `[{name, type, fields}]`, nameless fields skipped.
fn schema_of(dataset: &Value) -> Option<Value> {
    let fields = dataset["facets"]["schema"]["fields"].as_array()?;
    Some(schema_fields(fields, 3))
}

fn schema_fields(fields: &[Value], depth: usize) -> Value {
    let fields = fields.iter().filter_map(|f| {
        let mut field = json!({ "name": text(&f["name"])?, "type": text(&f["type"]) });
        if depth > 1 {
            field["fields"] = schema_fields(f["fields"].as_array().map(Vec::as_slice).unwrap_or_default(), depth - 1);
        }
        Some(field)
    });
    Value::Array(fields.collect())
}

/// One metric the event reports about a dataset: (column, metric) -> (source, value).
type Metrics = BTreeMap<(Option<String>, String), (&'static str, Option<f64>)>;

/// The metrics of one dataset entry: `dataQualityMetrics` (input facets, then dataset facets),
/// `outputStatistics`, `inputStatistics`; the first facet to report a metric gives its value.
fn metrics_of(entry: &Value, into: &mut Metrics) {
    const DQ_TABLE: [(&str, &str); 3] = [("rowCount", "row_count"), ("bytes", "bytes"), ("fileCount", "file_count")];
    const STATS: [(&str, &str); 3] = [("rowCount", "row_count"), ("size", "bytes"), ("fileCount", "file_count")];
    const DQ_COLUMN: [(&str, &str); 6] = [
        ("nullCount", "null_count"),
        ("distinctCount", "distinct_count"),
        ("sum", "sum"),
        ("count", "count"),
        ("min", "min"),
        ("max", "max"),
    ];
    let mut found = Metrics::new();
    let mut add = |source: &'static str, column: Option<&String>, metric: String, value: &Value| {
        let value = match value {
            Value::Number(n) => n.as_f64(),
            Value::Null => None,
            _ => return,
        };
        found.entry((column.cloned(), metric)).or_insert((source, value));
    };
    for facets in [&entry["inputFacets"], &entry["facets"]] {
        let dq = &facets["dataQualityMetrics"];
        if !dq.is_object() {
            continue;
        }
        for (key, metric) in DQ_TABLE {
            if let Some(v) = dq.get(key) {
                add("dataQualityMetrics", None, metric.to_string(), v);
            }
        }
        for (column, values) in dq["columnMetrics"].as_object().into_iter().flatten() {
            for (key, metric) in DQ_COLUMN {
                if let Some(v) = values.get(key) {
                    add("dataQualityMetrics", Some(column), metric.to_string(), v);
                }
            }
            for (q, v) in values["quantiles"].as_object().into_iter().flatten() {
                if let Ok(q) = q.trim().parse::<f64>() {
                    add("dataQualityMetrics", Some(column), format!("quantile({q})"), v);
                }
            }
        }
    }
    for (source, facets) in [("outputStatistics", &entry["outputFacets"]), ("inputStatistics", &entry["inputFacets"])] {
        for (key, metric) in STATS {
            if let Some(v) = facets[source].get(key) {
                add(source, None, metric.to_string(), v);
            }
        }
    }
    // A dataset listed twice in one event (read and written): the later entry, the written
    // side, describes the dataset after the run.
    into.extend(found);
}

/// One assertion the event reports about a dataset: (assertion, column) -> (source, success,
/// the object as the event wrote it).
type Assertions = BTreeMap<(String, Option<String>), (&'static str, bool, Value)>;

/// `dataQualityAssertions` and `greatExpectations_assertions`, in input facets then dataset facets.
fn assertions_of(entry: &Value, into: &mut Assertions) {
    for facets in [&entry["inputFacets"], &entry["facets"]] {
        for (source, name_key) in [("dataQualityAssertions", "assertion"), ("greatExpectations_assertions", "expectationType")] {
            for item in facets[source]["assertions"].as_array().into_iter().flatten() {
                if let (Some(name), Some(success)) = (text(&item[name_key]), item["success"].as_bool()) {
                    into.insert((name, text(&item["column"])), (source, success, item.clone()));
                }
            }
        }
    }
}

/// One test of the `test` run facet: (dataset it names, assertion, column, success, the test's
/// object).
type RunTest = (Option<Id>, String, Option<String>, bool, Value);

/// The `test` run facet (dbt); pass is success, fail/warn/error are failures, other statuses say
/// nothing.
fn run_tests_of(e: &Value) -> Vec<RunTest> {
    let tests = e["run"]["facets"]["test"]["tests"].as_array().into_iter().flatten();
    tests
        .filter_map(|t| {
            let success = match text(&t["status"])?.to_ascii_lowercase().as_str() {
                "pass" | "success" => true,
                "fail" | "warn" | "error" => false,
                _ => return None,
            };
            let dataset = text(&t["dataset"]["namespace"]).zip(text(&t["dataset"]["name"]));
            let name = text(&t["name"]).or_else(|| text(&t["type"]))?;
            Some((dataset, name, text(&t["column"]), success, t.clone()))
        })
        .collect()
}

/// One column-lineage edge: (input dataset, input field) -> (output dataset, output field), with
/// the transformation's type and subtype.
type ColumnEdge = (Id, String, Id, String, Option<String>, Option<String>);

// ------------------------------------------------------------------------------------------------
// The model: what the graph must look like after the events so far
// ------------------------------------------------------------------------------------------------

const TERMINAL: [&str; 3] = ["COMPLETE", "FAIL", "ABORT"];

#[derive(Debug, Clone, Default, PartialEq)]
struct Io {
    inputs: BTreeSet<Id>,
    outputs: BTreeSet<Id>,
}

impl Io {
    fn add(&mut self, reported: &[(Id, bool)]) {
        for (id, is_output) in reported {
            if *is_output { &mut self.outputs } else { &mut self.inputs }.insert(id.clone());
        }
    }
}

struct RunModel {
    /// The job whose events first used the run id: the only job that may use it.
    job: Id,
    state: &'static str,
    state_time: DateTime<Utc>,
    first_time: DateTime<Utc>,
    io: Io,
    parent_run: Option<String>,
}

struct CurrentIo {
    key: String,
    time: DateTime<Utc>,
    io: Io,
}

/// The design's rules (shared/design.md), applied to the accepted events in arrival order.
#[derive(Default)]
struct Model {
    jobs: BTreeSet<Id>,
    datasets: BTreeSet<Id>,
    /// alias identity -> the dataset it names (first writer wins, never an existing dataset).
    aliases: BTreeMap<Id, Id>,
    runs: HashMap<String, RunModel>,
    /// What a job's events reported for one of its runs.
    job_run_io: HashMap<(Id, String), Io>,
    /// Each job's most recent inputs and outputs.
    job_io: HashMap<Id, CurrentIo>,
    latest_run: HashMap<Id, (String, DateTime<Utc>)>,
    parents: HashMap<Id, Id>,
    /// The latest reported schema of each dataset, by event time.
    schemas: HashMap<Id, (DateTime<Utc>, Value)>,
    job_events: usize,
}

/// What one accepted event says, to be checked against the server right after it.
#[derive(Default)]
struct Said {
    run: Option<(String, Id)>,
    job: Option<Id>,
    /// Every dataset the event touched, with what it reports about each in this event.
    datasets: BTreeMap<Id, (Metrics, Assertions)>,
    aliases: BTreeSet<Id>,
    column_edges: BTreeMap<Id, BTreeSet<ColumnEdge>>,
}

/// A run's next state: a terminal state is never replaced by a non-terminal one; otherwise a
/// terminal event always wins, and within a class the later event wins (ties keep the state);
/// an event without a known type leaves the state alone.
fn next_state(current: &str, current_time: DateTime<Utc>, incoming: Option<&'static str>, at: DateTime<Utc>) -> bool {
    let Some(incoming) = incoming.filter(|t| *t != "OTHER") else { return false };
    if current == "OTHER" {
        return true;
    }
    match (TERMINAL.contains(&current), TERMINAL.contains(&incoming)) {
        (true, false) => false,
        (false, true) => true,
        _ => at > current_time,
    }
}

fn event_type(e: &Value) -> Option<&'static str> {
    let t = e["eventType"].as_str()?;
    ["START", "RUNNING", "COMPLETE", "FAIL", "ABORT", "OTHER"]
        .into_iter()
        .find(|known| known.eq_ignore_ascii_case(t.trim()))
        .or(Some("OTHER"))
}

impl Model {
    /// The dataset an identity names: itself, or the dataset it is an alias of.
    fn resolve(&self, id: &Id) -> Id {
        if self.datasets.contains(id) {
            return id.clone();
        }
        self.aliases.get(id).cloned().unwrap_or_else(|| id.clone())
    }

    fn upsert(&mut self, id: &Id) -> Id {
        let dataset = self.resolve(id);
        self.datasets.insert(dataset.clone());
        dataset
    }

    fn aliases_of(&self, dataset: &Id) -> BTreeSet<Id> {
        self.aliases.iter().filter(|(_, target)| *target == dataset).map(|(alias, _)| alias.clone()).collect()
    }

    /// Applies one dataset entry (`is_output` for outputs): identity, aliases, schema, column
    /// lineage, and what it reports as quality evidence.
    fn dataset(&mut self, entry: &Value, is_output: bool, at: DateTime<Utc>, said: &mut Said) -> Id {
        let own = id_of(entry);
        let dataset = self.upsert(&own);
        for alias in symlinks_of(entry) {
            if alias != own && !self.datasets.contains(&alias) && !self.aliases.contains_key(&alias) {
                self.aliases.insert(alias.clone(), dataset.clone());
            }
            said.aliases.insert(alias);
        }
        if let Some(schema) = schema_of(entry) {
            let newer = self.schemas.get(&dataset).is_none_or(|(t, _)| at >= *t);
            if newer {
                self.schemas.insert(dataset.clone(), (at, schema));
            }
        }
        let evidence = said.datasets.entry(dataset.clone()).or_default();
        metrics_of(entry, &mut evidence.0);
        assertions_of(entry, &mut evidence.1);
        if is_output {
            let fields = entry["facets"]["columnLineage"]["fields"].as_object().cloned().unwrap_or_default();
            for (field, spec) in fields {
                for input in spec["inputFields"].as_array().into_iter().flatten() {
                    let (Some(ns), Some(name), Some(input_field)) =
                        (text(&input["namespace"]), text(&input["name"]), text(&input["field"]))
                    else {
                        continue;
                    };
                    let from = if (ns.as_str(), name.as_str()) == (own.0.as_str(), own.1.as_str()) {
                        dataset.clone()
                    } else {
                        self.upsert(&(ns, name))
                    };
                    let transformations: Vec<&Value> = input["transformations"].as_array().into_iter().flatten().collect();
                    let kinds: Vec<(Option<String>, Option<String>)> = if transformations.is_empty() {
                        vec![(text(&spec["transformationType"]), None)]
                    } else {
                        transformations.iter().map(|t| (text(&t["type"]), text(&t["subtype"]))).collect()
                    };
                    for (kind, subtype) in kinds {
                        let edge = (from.clone(), input_field.clone(), dataset.clone(), field.clone(), kind, subtype);
                        said.column_edges.entry(dataset.clone()).or_default().insert(edge);
                    }
                }
            }
        }
        dataset
    }

    /// The event's inputs and outputs in the order the server applies them, as (dataset, is_output).
    fn datasets_of(&mut self, e: &Value, at: DateTime<Utc>, said: &mut Said) -> Vec<(Id, bool)> {
        let mut entries: Vec<(&Value, bool)> = e["inputs"].as_array().into_iter().flatten().map(|d| (d, false)).collect();
        entries.extend(e["outputs"].as_array().into_iter().flatten().map(|d| (d, true)));
        entries.sort_by_key(|(d, _)| id_of(d));
        let mut reported = Vec::new();
        for (entry, is_output) in entries {
            let id = self.dataset(entry, is_output, at, said);
            if !reported.contains(&(id.clone(), is_output)) {
                reported.push((id, is_output));
            }
        }
        reported
    }

    fn set_current_io(&mut self, job: &Id, key: String, time: DateTime<Utc>, io: Io, reported: &[(Id, bool)]) {
        if reported.is_empty() {
            return; // an event that names no datasets says nothing about the job's IO
        }
        match self.job_io.get_mut(job) {
            Some(current) if current.key == key => {
                current.io.add(reported);
                current.time = current.time.min(time);
            }
            Some(current) if time < current.time => {} // an older run: history only
            _ => {
                self.job_io.insert(job.clone(), CurrentIo { key, time, io });
            }
        }
    }

    /// For a RunEvent whose (normalized) run id already belongs to a different job: the run id
    /// and that job. Such an event is refused (409) and changes nothing, so it is never applied.
    fn run_id_owner(&self, e: &Value) -> Option<(String, Id)> {
        if !is_run_event(e) {
            return None;
        }
        let run_id = normalize_run_id(str_of(&e["run"]["runId"])).to_string();
        let owner = &self.runs.get(&run_id)?.job;
        (*owner != id_of(&e["job"])).then(|| (run_id, owner.clone()))
    }

    /// Applies an event the server accepted; never one that [`Model::run_id_owner`] refuses.
    fn apply(&mut self, e: &Value) -> Said {
        let mut said = Said::default();
        let at = time_of(e);
        if is_run_event(e) {
            let job = id_of(&e["job"]);
            let run_id = normalize_run_id(str_of(&e["run"]["runId"])).to_string();
            self.jobs.insert(job.clone());
            let parent = parent_of(e);
            if let Some((_, parent_job)) = &parent {
                self.jobs.insert(parent_job.clone());
                if *parent_job != job {
                    self.parents.insert(job.clone(), parent_job.clone());
                }
            }
            let incoming = event_type(e);
            let run = self.runs.entry(run_id.clone()).or_insert_with(|| RunModel {
                job: job.clone(),
                state: incoming.unwrap_or("OTHER"),
                state_time: at,
                first_time: at,
                io: Io::default(),
                parent_run: None,
            });
            if next_state(run.state, run.state_time, incoming, at) {
                run.state = incoming.expect("a state change has a type");
                run.state_time = at;
            }
            run.first_time = run.first_time.min(at);
            if let Some((parent_run, _)) = &parent {
                run.parent_run = Some(parent_run.clone());
            }
            let first_time = run.first_time;
            if self.latest_run.get(&job).is_none_or(|(_, t)| first_time >= *t) {
                self.latest_run.insert(job.clone(), (run_id.clone(), first_time));
            }
            let reported = self.datasets_of(e, at, &mut said);
            let run = self.runs.get_mut(&run_id).expect("run just stored");
            assert_eq!(run.job, job, "{run_id}: an event of another job was applied to the model");
            run.io.add(&reported);
            let job_run = self.job_run_io.entry((job.clone(), run_id.clone())).or_default();
            job_run.add(&reported);
            let job_run = job_run.clone();
            self.set_current_io(&job, format!("run:{run_id}"), first_time, job_run, &reported);

            let inputs: Vec<&Id> = reported.iter().filter(|(_, out)| !out).map(|(id, _)| id).collect();
            for (dataset, name, column, success, details) in run_tests_of(e) {
                let target = match dataset {
                    Some(id) => self.upsert(&id),
                    None if inputs.len() == 1 => inputs[0].clone(),
                    None => continue,
                };
                said.datasets.entry(target).or_default().1.insert((name, column), ("test", success, details));
            }
            said.run = Some((run_id, job.clone()));
            said.job = Some(job);
        } else if present(&e["dataset"]) {
            // A DatasetEvent's dataset carries its column lineage like an output does.
            self.dataset(&e["dataset"], true, at, &mut said);
        } else {
            let job = id_of(&e["job"]);
            self.jobs.insert(job.clone());
            let reported = self.datasets_of(e, at, &mut said);
            self.job_events += 1;
            let mut io = Io::default();
            io.add(&reported);
            self.set_current_io(&job, format!("job-event:{}", self.job_events), at, io, &reported);
            said.job = Some(job);
        }
        said
    }
}

// ------------------------------------------------------------------------------------------------
// Talking to the server and collecting problems
// ------------------------------------------------------------------------------------------------

const RUN_AND_JOB: &str = r#"query($run: ID!, $ns: String!, $name: String!) {
  run(id: $run) { id state parentRunId job { namespace name } inputs { namespace name } outputs { namespace name } }
  job(namespace: $ns, name: $name) {
    inputs { namespace name } outputs { namespace name } parent { namespace name } latestRun { id }
  }
}"#;

const JOB: &str = r#"query($ns: String!, $name: String!) {
  job(namespace: $ns, name: $name) {
    inputs { namespace name } outputs { namespace name } parent { namespace name } latestRun { id }
  }
}"#;

const DATASET: &str = r#"query($ns: String!, $name: String!) {
  dataset(namespace: $ns, name: $name) {
    namespace name
    schema { name type fields { name type fields { name type } } }
    aliases { namespace name }
    observations(limit: 1000) {
      metrics { metric column value source runId }
      assertions { assertion column success source runId details }
    }
  }
}"#;

const COLUMN_LINEAGE: &str = r#"query($ns: String!, $name: String!) {
  columnLineage(namespace: $ns, name: $name, depth: 1) {
    from { namespace name field } to { namespace name field } transformationType transformationSubtype
  }
}"#;

/// What a refused event could have changed, read before and after it (`updatedAt` included).
const SNAPSHOT_RUN: &str = "id rawId state stateTime startedAt endedAt nominalStartTime nominalEndTime errorMessage \
    parentRunId facets createdAt updatedAt job { namespace name } inputs { namespace name } outputs { namespace name }";

const SNAPSHOT_JOB: &str = "namespace name facets createdAt updatedAt parent { namespace name } children { namespace name } \
    inputs { namespace name } outputs { namespace name } latestRun { id } runs(first: 100) { nodes { id state updatedAt } }";

const SNAPSHOT_DATASET: &str = "namespace name facets createdAt updatedAt \
    schema { name type fields { name type fields { name type } } } aliases { namespace name } \
    versions { version runId createdAt } currentVersion { version } producers { namespace name } consumers { namespace name } \
    observations(limit: 1000) { metrics { metric column value source runId observedAt } \
                                assertions { assertion column success severity source runId observedAt details } } \
    lastWrittenAt lastWriterRun { id }";

const SNAPSHOT_CATALOG: &str = "{ jobs(first: 500) { nodes { namespace name updatedAt } } \
    datasets(first: 500) { nodes { namespace name updatedAt } } }";

struct Corpus<'a> {
    app: &'a TestApp,
    model: Model,
    problems: Vec<String>,
    /// `file#index` of the event being checked, for messages.
    at: String,
    accepted: usize,
    /// (file, index) of each event the model refused for reusing another job's run id.
    conflicts: Vec<(&'static str, usize)>,
}

impl<'a> Corpus<'a> {
    fn new(app: &'a TestApp) -> Self {
        Corpus { app, model: Model::default(), problems: Vec::new(), at: String::new(), accepted: 0, conflicts: Vec::new() }
    }

    fn problem(&mut self, message: String) {
        self.problems.push(format!("{}: {message}", self.at));
    }

    fn check(&mut self, what: &str, got: impl Into<Value>, want: Value) {
        let got: Value = got.into();
        if got != want {
            self.problem(format!("{what}: got {got}, want {want}"));
        }
    }

    fn check_eq<T: PartialEq + Debug>(&mut self, what: &str, got: T, want: T) {
        if got != want {
            self.problem(format!("{what}: got {got:?}, want {want:?}"));
        }
    }

    async fn query(&mut self, query: &str, variables: Value) -> Value {
        let response = self.app.graphql(query, variables.clone()).await;
        if let Some(errors) = response.get("errors") {
            self.problem(format!("GraphQL errors for {variables}: {errors}"));
        }
        response["data"].clone()
    }

    async fn post(&self, body: Vec<u8>) -> (u16, Value) {
        let response = self.app.post_raw("/api/v1/lineage", body, &[("content-type", "application/json")]).await;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// Fails the test with every problem found, if there are any.
    fn finish(self, family: Family) {
        eprintln!(
            "{family:?}: {} events accepted and checked, {} refused for reusing another job's run id, {} problems",
            self.accepted,
            self.conflicts.len(),
            self.problems.len()
        );
        assert!(
            self.problems.is_empty(),
            "{family:?} ({:?}): {} problems:\n{}",
            self.app.backend,
            self.problems.len(),
            self.problems.join("\n")
        );
    }

    /// Sends every file of the family in table order and checks each outcome.
    async fn ingest(&mut self, family: Family) {
        for (index, case) in CASES.iter().enumerate().filter(|(_, c)| c.family == family) {
            let bytes = read(case.file);
            let events = events_of(case.file, &bytes);
            let as_is = |i: usize| -> Vec<u8> {
                if events.len() == 1 { bytes.clone() } else { serde_json::to_vec(&events[i]).expect("JSON") }
            };
            match &case.outcome {
                Accepted => {
                    for (i, event) in events.iter().enumerate() {
                        self.at = format!("{}#{i}", case.file);
                        self.accept(as_is(i), event, (case.file, i)).await;
                    }
                }
                Refused { paths } => {
                    for (i, (event, path)) in events.iter().zip(*paths).enumerate() {
                        self.at = format!("{}#{i}", case.file);
                        self.reject(as_is(i), event, Some(path)).await;
                    }
                }
                Pattern { paths, fills } => {
                    for (i, (event, path)) in events.iter().zip(*paths).enumerate() {
                        self.at = format!("{}#{i} (as it is)", case.file);
                        self.reject(as_is(i), event, Some(path)).await;
                    }
                    for (i, event) in events.iter().enumerate() {
                        self.at = format!("{}#{i} (completed)", case.file);
                        let mut event = event.clone();
                        complete(&mut event, case.file, base_time(index), i, fills);
                        self.accept(serde_json::to_vec(&event).expect("JSON"), &event, (case.file, i)).await;
                    }
                }
                Template => {
                    for (i, event) in events.iter().enumerate() {
                        self.at = format!("{}#{i} (filled in)", case.file);
                        let mut event = event.clone();
                        fill_placeholders(&mut event, case.file);
                        complete(&mut event, case.file, base_time(index), i, &[]);
                        let body = serde_json::to_vec(&event).expect("JSON");
                        assert!(!is_templated(&String::from_utf8_lossy(&body)), "{}: placeholder left", self.at);
                        self.accept(body, &event, (case.file, i)).await;
                    }
                }
                NotAnEvent { reason } => {
                    self.at = format!("{} (not an event: {reason})", case.file);
                    self.reject(bytes.clone(), &Value::Null, None).await;
                }
            }
        }
        self.at = "after the last file".into();
        let mut want: Vec<(&str, usize)> = RUN_ID_CONFLICTS
            .iter()
            .filter(|(file, _)| CASES.iter().any(|c| c.file == *file && c.family == family))
            .flat_map(|(file, indexes)| indexes.iter().map(move |i| (*file, *i)))
            .collect();
        want.sort();
        let mut got = self.conflicts.clone();
        got.sort();
        self.check_eq("events refused for reusing another job's run id (RUN_ID_CONFLICTS)", got, want);
        self.check_catalog().await;
    }

    /// A 400 naming `path` (`None`: the document as a whole), and no trace of the event.
    async fn reject(&mut self, body: Vec<u8>, event: &Value, path: Option<&str>) {
        let (status, body) = self.post(body).await;
        self.check("status", status, json!(400));
        self.check("error.code", body["error"]["code"].clone(), json!("INVALID_EVENT"));
        self.check("error.path", body["error"]["path"].clone(), json!(path));
        let job = id_of(&event["job"]);
        if !job.0.is_empty() && !job.1.is_empty() && !self.model.jobs.contains(&job) {
            let data = self.query(JOB, json!({"ns": job.0, "name": job.1})).await;
            self.check("job of a rejected event", data["job"].clone(), Value::Null);
        }
    }

    async fn accept(&mut self, body: Vec<u8>, event: &Value, (file, index): (&'static str, usize)) {
        if let Some((run_id, owner)) = self.model.run_id_owner(event) {
            self.conflicts.push((file, index));
            self.refuse_conflict(body, event, run_id, owner).await;
            return;
        }
        let (status, response) = self.post(body).await;
        if status != 201 {
            self.problem(format!("rejected with {status}: {response}"));
            return;
        }
        self.accepted += 1;
        let said = self.model.apply(event);
        self.check_event(said).await;
    }

    /// An otherwise valid event whose run id belongs to `owner`, another job: a 409 `CONFLICT` at
    /// `run.runId` naming the owner, again when sent a second time (had the raw event been kept,
    /// the retry would be a duplicate and get 201), and nothing the event names changed: the run,
    /// the jobs and datasets it names, their column lineage and the catalog read the same before
    /// and after, the owner's run and job are still what the model says, and what only this event
    /// names does not exist.
    async fn refuse_conflict(&mut self, body: Vec<u8>, event: &Value, run_id: String, owner: Id) {
        let before = self.snapshot(event, &run_id, &owner).await;
        let message = format!("run id {} already belongs to job {}/{}", str_of(&event["run"]["runId"]), owner.0, owner.1);
        for attempt in ["", " (sent again)"] {
            let (status, response) = self.post(body.clone()).await;
            self.check(&format!("status{attempt} (its run id belongs to another job)"), status, json!(409));
            self.check(&format!("error.code{attempt}"), response["error"]["code"].clone(), json!("CONFLICT"));
            self.check(&format!("error.path{attempt}"), response["error"]["path"].clone(), json!("run.runId"));
            self.check(&format!("error.message{attempt}"), response["error"]["message"].clone(), json!(message));
        }
        let after = self.snapshot(event, &run_id, &owner).await;
        for ((what, was), (_, is)) in before.iter().zip(&after) {
            if was != is {
                self.problem(format!("{what} changed by a refused event: was {was}, now {is}"));
            }
        }
        self.check_event(Said { run: Some((run_id, owner.clone())), job: Some(owner), ..Said::default() }).await;
        for job in jobs_named(event) {
            if !self.model.jobs.contains(&job) {
                let data = self.query(JOB, json!({"ns": job.0, "name": job.1})).await;
                self.check(&format!("job {} (only a refused event named it)", show(&job)), data["job"].clone(), Value::Null);
            }
        }
        for dataset in datasets_named(event) {
            if !self.model.datasets.contains(&dataset) && !self.model.aliases.contains_key(&dataset) {
                let got = self.dataset(&dataset.0, &dataset.1, "namespace name").await;
                self.check(&format!("dataset {} (only a refused event named it)", show(&dataset)), got, Value::Null);
            }
        }
    }

    /// How the server shows what an event about `run_id` could change; labelled, in a fixed order.
    async fn snapshot(&mut self, event: &Value, run_id: &str, owner: &Id) -> Vec<(String, Value)> {
        let mut shot = vec![(format!("run {run_id}"), self.run(run_id, SNAPSHOT_RUN).await)];
        let mut jobs = jobs_named(event);
        jobs.insert(owner.clone());
        for job in jobs {
            let got = self.job(&job.0, &job.1, SNAPSHOT_JOB).await;
            shot.push((format!("job {}", show(&job)), got));
        }
        for dataset in datasets_named(event) {
            let got = self.dataset(&dataset.0, &dataset.1, SNAPSHOT_DATASET).await;
            shot.push((format!("dataset {}", show(&dataset)), got));
            if !self.model.datasets.contains(&dataset) && !self.model.aliases.contains_key(&dataset) {
                continue; // unknown, so no column lineage to ask for (asking is NOT_FOUND)
            }
            let edges = self.query(COLUMN_LINEAGE, json!({"ns": dataset.0, "name": dataset.1})).await;
            shot.push((format!("columnLineage{}", show(&dataset)), edges["columnLineage"].clone()));
        }
        shot.push(("every job and dataset".into(), self.query(SNAPSHOT_CATALOG, json!({})).await));
        shot
    }

    /// Asks the server about everything the event just said.
    async fn check_event(&mut self, said: Said) {
        let job = match &said.run {
            Some((run_id, job)) => {
                let data = self.query(RUN_AND_JOB, json!({"run": run_id, "ns": job.0, "name": job.1})).await;
                let run = &data["run"];
                if run.is_null() {
                    self.problem(format!("run {run_id} not found"));
                } else {
                    let want = &self.model.runs[run_id];
                    let (state, parent, io) = (want.state, want.parent_run.clone(), want.io.clone());
                    self.check_eq("run.job (a run belongs to the job of its events)", id_of(&run["job"]), job.clone());
                    self.check("run.state", run["state"].clone(), json!(state));
                    self.check("run.parentRunId", run["parentRunId"].clone(), json!(parent));
                    self.check_eq("run.inputs", ids_of(&run["inputs"]), io.inputs);
                    self.check_eq("run.outputs", ids_of(&run["outputs"]), io.outputs);
                }
                data["job"].clone()
            }
            None => match &said.job {
                Some(job) => self.query(JOB, json!({"ns": job.0, "name": job.1})).await["job"].clone(),
                None => Value::Null,
            },
        };
        if let Some(id) = &said.job {
            if job.is_null() {
                self.problem(format!("job {} not found", show(id)));
            } else {
                let io = self.model.job_io.get(id).map(|c| c.io.clone()).unwrap_or_default();
                self.check_eq("job.inputs (its most recent run's)", ids_of(&job["inputs"]), io.inputs);
                self.check_eq("job.outputs (its most recent run's)", ids_of(&job["outputs"]), io.outputs);
                let parent = self.model.parents.get(id).map(|p| json!({"namespace": p.0, "name": p.1}));
                self.check("job.parent", job["parent"].clone(), parent.unwrap_or(Value::Null));
                let latest = self.model.latest_run.get(id).map(|(run, _)| json!({"id": run}));
                self.check("job.latestRun", job["latestRun"].clone(), latest.unwrap_or(Value::Null));
            }
        }
        let run_id = said.run.as_ref().map(|(id, _)| id.clone());
        for (dataset, (metrics, assertions)) in &said.datasets {
            self.check_dataset(dataset, run_id.as_deref(), metrics, assertions).await;
        }
        for alias in &said.aliases {
            let want = self.model.resolve(alias);
            let data = self.query(DATASET, json!({"ns": alias.0, "name": alias.1})).await;
            let got = &data["dataset"];
            if got.is_null() {
                self.problem(format!("alias {} does not resolve (want {})", show(alias), show(&want)));
            } else {
                self.check_eq(&format!("dataset({}) via symlink", show(alias)), id_of(got), want);
            }
        }
        for (dataset, edges) in &said.column_edges {
            let data = self.query(COLUMN_LINEAGE, json!({"ns": dataset.0, "name": dataset.1})).await;
            let got: BTreeSet<ColumnEdge> = data["columnLineage"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| {
                    let (from, to) = (&e["from"], &e["to"]);
                    (
                        id_of(from),
                        str_of(&from["field"]).to_string(),
                        id_of(to),
                        str_of(&to["field"]).to_string(),
                        text(&e["transformationType"]),
                        text(&e["transformationSubtype"]),
                    )
                })
                .collect();
            let missing: Vec<&ColumnEdge> = edges.difference(&got).collect();
            if !missing.is_empty() {
                self.problem(format!(
                    "columnLineage{} lacks {}\n    it has {}",
                    show(dataset),
                    show_edges(missing),
                    show_edges(&got)
                ));
            }
        }
    }

    async fn check_dataset(&mut self, dataset: &Id, run_id: Option<&str>, metrics: &Metrics, assertions: &Assertions) {
        let data = self.query(DATASET, json!({"ns": dataset.0, "name": dataset.1})).await;
        let got = data["dataset"].clone();
        if got.is_null() {
            self.problem(format!("dataset {} not found", show(dataset)));
            return;
        }
        let what = show(dataset);
        self.check_eq(&format!("dataset({what}) identity"), id_of(&got), dataset.clone());
        let schema = self.model.schemas.get(dataset).map(|(_, s)| s.clone()).unwrap_or(Value::Null);
        self.check(&format!("{what}.schema (the latest reported)"), got["schema"].clone(), schema);
        let aliases = self.model.aliases_of(dataset);
        self.check_eq(&format!("{what}.aliases"), ids_of(&got["aliases"]), aliases);

        let observations = &got["observations"];
        let of_this_event = |o: &&Value| o["runId"].as_str() == run_id;
        for ((column, metric), (source, value)) in metrics {
            let found: Vec<&Value> = observations["metrics"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(of_this_event)
                .filter(|o| o["column"].as_str() == column.as_deref() && o["metric"] == *metric)
                .collect();
            let label = format!("{what} metric {}{metric}", column.as_ref().map(|c| format!("{c}.")).unwrap_or_default());
            match found.as_slice() {
                [one] => {
                    let same = match (one["value"].as_f64(), value) {
                        (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                        (None, None) => true,
                        _ => false,
                    };
                    if !same || one["source"] != *source {
                        self.problem(format!("{label}: got {one}, want {source} {value:?}"));
                    }
                }
                _ => self.problem(format!("{label} ({source} {value:?}) for run {run_id:?}: found {found:?}")),
            }
        }
        for ((assertion, column), (source, success, details)) in assertions {
            let found: Vec<&Value> = observations["assertions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(of_this_event)
                .filter(|o| o["assertion"] == *assertion && o["column"].as_str() == column.as_deref())
                .collect();
            let label = format!("{what} assertion {assertion}({})", column.as_deref().unwrap_or(""));
            match found.as_slice() {
                [one] if one["success"] == *success && one["source"] == *source && one["details"] == *details => {}
                _ => self.problem(format!("{label}: want {source} success={success} {details} for run {run_id:?}, found {found:?}")),
            }
        }
    }

    /// Every job and dataset the server lists is one the accepted events named, and vice versa.
    async fn check_catalog(&mut self) {
        let data = self
            .query("{ jobs(first: 500) { nodes { namespace name } } datasets(first: 500) { nodes { namespace name } } }", json!({}))
            .await;
        let (jobs, datasets) = (self.model.jobs.clone(), self.model.datasets.clone());
        self.check_eq("every job", ids_of(&data["jobs"]["nodes"]), jobs);
        self.check_eq("every dataset", ids_of(&data["datasets"]["nodes"]), datasets);
    }

    // -- helpers for the hand-written checks ---------------------------------------------------

    async fn dataset(&mut self, namespace: &str, name: &str, selection: &str) -> Value {
        let query = format!("query($ns: String!, $name: String!) {{ dataset(namespace: $ns, name: $name) {{ {selection} }} }}");
        self.query(&query, json!({"ns": namespace, "name": name})).await["dataset"].clone()
    }

    async fn job(&mut self, namespace: &str, name: &str, selection: &str) -> Value {
        let query = format!("query($ns: String!, $name: String!) {{ job(namespace: $ns, name: $name) {{ {selection} }} }}");
        self.query(&query, json!({"ns": namespace, "name": name})).await["job"].clone()
    }

    async fn run(&mut self, id: &str, selection: &str) -> Value {
        let query = format!("query($id: ID!) {{ run(id: $id) {{ {selection} }} }}");
        self.query(&query, json!({"id": id})).await["run"].clone()
    }

    /// `(column.)metric=value` of a dataset's metric observations from one run, sorted.
    async fn metric_list(&mut self, namespace: &str, name: &str, run_id: &str) -> Vec<String> {
        let ds = self.dataset(namespace, name, "observations { metrics { metric column value source runId } }").await;
        let mut list: Vec<String> = ds["observations"]["metrics"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["runId"] == run_id)
            .map(|m| {
                let column = m["column"].as_str().map(|c| format!("{c}.")).unwrap_or_default();
                format!("{} {column}{}={}", str_of(&m["source"]), str_of(&m["metric"]), m["value"])
            })
            .collect();
        list.sort();
        list
    }

    /// `source assertion(column) pass|fail` of a dataset's assertion observations, sorted.
    async fn assertion_list(&mut self, namespace: &str, name: &str) -> Vec<String> {
        let ds = self.dataset(namespace, name, "observations { assertions { assertion column success source } }").await;
        let mut list: Vec<String> = ds["observations"]["assertions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| {
                let outcome = if a["success"] == true { "pass" } else { "fail" };
                format!("{} {}({}) {outcome}", str_of(&a["source"]), str_of(&a["assertion"]), str_of(&a["column"]))
            })
            .collect();
        list.sort();
        list
    }
}

fn completed_id(file: &str, namespace: &str, name: &str) -> String {
    completed_run_id(file, &json!({"namespace": namespace, "name": name}))
}

fn sorted(items: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = items.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

// ------------------------------------------------------------------------------------------------
// Hand-written exact checks of the important cases
// ------------------------------------------------------------------------------------------------

async fn clients_exact(c: &mut Corpus<'_>) {
    c.at = "captured START + COMPLETE (exact)".into();
    let run_id = "e1e72aeb-e435-4f68-8180-9066c149a4dd";
    let run = c.run(run_id, "state startedAt endedAt job { namespace name facets }").await;
    c.check("state", run["state"].clone(), json!("COMPLETE"));
    c.check("startedAt", run["startedAt"].clone(), json!("2026-11-27T07:12:49.953786+00:00"));
    c.check("endedAt", run["endedAt"].clone(), json!("2026-11-27T07:12:49.954093+00:00"));
    c.check("job", json!([run["job"]["namespace"], run["job"]["name"]]), json!(["capture-ns", "capture_job"]));
    c.check("job sql facet", run["job"]["facets"]["sql"]["query"].clone(), json!("SELECT * FROM orders"));
    let got = c.metric_list("postgres://db:5432", "shop.public.orders", run_id).await;
    let want = [
        "row_count=1000.0",
        "bytes=65536.0",
        "file_count=2.0",
        "id.null_count=0.0",
        "id.distinct_count=1000.0",
        "id.sum=500500.0",
        "id.count=1000.0",
        "id.min=1.0",
        "id.max=1000.0",
        "id.quantile(0.25)=250.0",
        "id.quantile(0.5)=500.0",
        "id.quantile(0.75)=750.0",
    ]
    .map(|m| format!("dataQualityMetrics {m}"));
    c.check_eq("orders metrics", got, sorted(&want.iter().map(String::as_str).collect::<Vec<_>>()));
    let got = c.metric_list("postgres://db:5432", "shop.public.orders_clean", run_id).await;
    c.check_eq("orders_clean metrics", got, sorted(&["outputStatistics bytes=60000.0", "outputStatistics row_count=990.0"]));
    let got = c.assertion_list("postgres://db:5432", "shop.public.orders").await;
    let want = ["dataQualityAssertions not_null(id) pass", "dataQualityAssertions row_count_between() fail"];
    c.check_eq("orders assertions", got, sorted(&want));
    let ds = c.dataset("postgres://db:5432", "shop.public.orders_clean", "schema { name type fields { name type } } lastWrittenAt lastWriterRun { id } producers { name }").await;
    let schema = json!([
        {"name": "id", "type": "BIGINT", "fields": []},
        {"name": "address", "type": "STRUCT", "fields": [{"name": "city", "type": "VARCHAR"}]}
    ]);
    c.check("orders_clean schema", ds["schema"].clone(), schema);
    c.check("orders_clean lastWrittenAt", ds["lastWrittenAt"].clone(), json!("2026-11-27T07:12:49.954093+00:00"));
    c.check("orders_clean lastWriterRun", ds["lastWriterRun"]["id"].clone(), json!(run_id));
    c.check("orders_clean producers", ds["producers"].clone(), json!([{"name": "capture_job"}]));

    c.at = "captured DatasetEvent + JobEvent (exact)".into();
    let ds = c.dataset("postgres://db:5432", "shop.public.customers", "schema { name type } consumers { name } lastWrittenAt").await;
    c.check("customers schema", ds["schema"].clone(), json!([{"name": "id", "type": "INT"}]));
    c.check("customers consumers", ds["consumers"].clone(), json!([{"name": "static_job"}]));
    c.check("customers lastWrittenAt (never written by a run)", ds["lastWrittenAt"].clone(), Value::Null);
    let job = c.job("capture-ns", "static_job", "inputs { name } outputs { name } latestRun { id }").await;
    c.check("static_job inputs", job["inputs"].clone(), json!([{"name": "shop.public.customers"}]));
    c.check("static_job outputs", job["outputs"].clone(), json!([{"name": "shop.public.customers_agg"}]));
    c.check("static_job latestRun (a JobEvent has no run)", job["latestRun"].clone(), Value::Null);

    c.at = "python serde examples (exact)".into();
    let job = c.job("openlineage", "name", "inputs { name } outputs { name } latestRun { id state }").await;
    c.check("inputs (from the JobEvent)", job["inputs"].clone(), json!([{"name": "dataset_a"}]));
    c.check("outputs (from the JobEvent)", job["outputs"].clone(), json!([{"name": "dataset_b"}]));
    c.check("latestRun", job["latestRun"].clone(), json!({"id": "69f4acab-b87d-4fc0-b27b-8ea950370ff3", "state": "START"}));
    let ds = c.dataset("openlineage", "name", "schema { name type }").await;
    c.check("DatasetEvent schema", ds["schema"].clone(), json!([{"name": "a", "type": "string"}, {"name": "b", "type": "string"}]));

    c.at = "python full event + fluentd event_full (exact)".into();
    let run = c.run("ea041791-68bc-4ae1-bd89-4c8106a157e4", "state parentRunId nominalStartTime nominalEndTime facets job { parent { name } }").await;
    c.check("state", run["state"].clone(), json!("COMPLETE"));
    c.check("parentRunId", run["parentRunId"].clone(), json!("3f5e83fa-3480-44ff-99c5-ff943904e5e8"));
    c.check("nominalStartTime", run["nominalStartTime"].clone(), json!("2020-12-17T03:00:00.001+00:00"));
    c.check("nominalEndTime", run["nominalEndTime"].clone(), json!("2020-12-17T04:00:00.001+00:00"));
    c.check("job.parent (the parent facet names the job itself)", run["job"]["parent"].clone(), Value::Null);
    c.check("custom run facet kept", run["facets"]["additionalProp1"]["additionalProp1"].clone(), json!({}));

    c.at = "spec example_full_event (exact)".into();
    let job = c.job("food_delivery", "dbt", "latestRun { id state } facets").await;
    c.check("latestRun", job["latestRun"].clone(), json!({"id": "f69a6e9b-9bac-3c9a-9cf6-eacb70ecc9a9", "state": "COMPLETE"}));
    c.check("sql facet", job["facets"]["sql"]["query"].clone(), json!("SELECT 1"));
    let stray = c.dataset("123", "1", "name").await;
    c.check("the RunEvent's stray `dataset` member is no dataset", stray, Value::Null);

    c.at = "fluentd odd events (exact)".into();
    let run = c.run("41fb5137-f0fd-4ee5-ba5c-56f8571d1bd7", "state parentRunId facets job { name parent { name } inputs { name } outputs { name } }").await;
    c.check("state", run["state"].clone(), json!("COMPLETE"));
    c.check("event_invalid_run_facet: no parent job", run["job"]["parent"].clone(), Value::Null);
    c.check("event_invalid_run_facet: no parent run", run["parentRunId"].clone(), Value::Null);
    c.check(
        "event_invalid_run_facet: the raw facet is kept",
        run["facets"]["parent"]["run"].clone(),
        json!({"noRunId": "invalid run id"}),
    );
    c.check("myjob inputs", run["job"]["inputs"].clone(), json!([{"name": "instance.schema.input-1"}, {"name": "instance.schema.input-2"}]));
    c.check("myjob outputs", run["job"]["outputs"].clone(), json!([{"name": "instance.schema.output-1"}]));
    let ds = c.dataset("my-datasource-namespace", "instance.schema.output-1", "name facets producers { name }").await;
    c.check("event_invalid_dataset_facet: output exists", ds["name"].clone(), json!("instance.schema.output-1"));
    c.check(
        "event_invalid_dataset_facet: the raw facet is kept",
        ds["facets"]["ownership"]["owners"].clone(),
        json!([{"no-name": "no-name-owner"}]),
    );
    c.check("output-1 producers", ds["producers"].clone(), json!([{"name": "myjob"}]));
}

async fn airflow_exact(c: &mut Corpus<'_>) {
    let bash = "examples/hist-cd35384d8__integration__airflow__tests__integration__requests__failing__bash.json";
    c.at = "airflow failing/bash completed (exact)".into();
    let failing = completed_id(bash, "food_delivery", "bash_dag.failing_task");
    let run = c.run(&failing, "state job { name parent { name } } parentRun { id } parentRunId").await;
    c.check("failing_task state", run["state"].clone(), json!("FAIL"));
    c.check("failing_task parent", run["job"]["parent"].clone(), json!({"name": "bash_dag"}));
    c.check("parentRunId", run["parentRunId"].clone(), json!(completed_id(bash, "food_delivery", "bash_dag")));
    c.check("parentRun (the DAG run was never reported)", run["parentRun"].clone(), Value::Null);
    let run = c.run(&completed_id(bash, "food_delivery", "bash_dag.success_task"), "state").await;
    c.check("success_task state", run["state"].clone(), json!("COMPLETE"));
    let dag = c.job("food_delivery", "bash_dag", "children { name } latestRun { id }").await;
    c.check("bash_dag children", dag["children"].clone(), json!([{"name": "bash_dag.failing_task"}, {"name": "bash_dag.success_task"}]));

    c.at = "airflow mysql completed (exact)".into();
    let job = c.job("food_delivery", "mysql_orders_popular_day_of_week.mysql_insert", "inputs { namespace name } outputs { namespace name schema { name type } } latestRun { state }").await;
    c.check("inputs", job["inputs"].clone(), json!([{"namespace": "mysql://mysql:3306", "name": "food_delivery.top_delivery_times"}]));
    c.check(
        "outputs",
        job["outputs"].clone(),
        json!([{"namespace": "mysql://mysql:3306", "name": "food_delivery.popular_orders_day_of_week", "schema": [
            {"name": "order_day_of_week", "type": "varchar(64)"},
            {"name": "order_placed_on", "type": "timestamp"},
            {"name": "orders_placed", "type": "int"}]}]),
    );
    c.check("state", job["latestRun"]["state"].clone(), json!("COMPLETE"));

    c.at = "great_expectations completed (exact)".into();
    let got = c.assertion_list("sqlite", "transactions_bad").await;
    let failed: Vec<String> = got.iter().filter(|a| a.ends_with("fail")).cloned().collect();
    let want = [
        "greatExpectations_assertions expect_column_distinct_values_to_be_in_set(currency) fail",
        "greatExpectations_assertions expect_column_values_to_not_be_null(counterparty_id) fail",
    ];
    c.check_eq("transactions_bad failed expectations", failed, sorted(&want));
    c.check_eq("transactions_bad expectations", got.len(), 8);
    let got = c.assertion_list("sqlite", "transactions").await;
    c.check_eq("transactions: all 8 expectations pass", got.iter().filter(|a| a.ends_with("pass")).count(), 8);
    let ge = "examples/hist-0309d6392__integration__airflow__tests__integration__requests__great_expectations.json";
    let bad_run = completed_id(ge, "food_delivery", "expectations.2980d102bd5a4ba1225e245a6c5c4f11");
    let got = c.metric_list("sqlite", "transactions_bad", &bad_run).await;
    let want = [
        "amount.count=10.0",
        "amount.max=1500.0",
        "amount.min=100.0",
        "amount.sum=6600.0",
        "counterparty_id.null_count=2.0",
        "row_count=10.0",
        "user_id.distinct_count=3.0",
        "user_id.null_count=0.0",
    ]
    .map(|m| format!("dataQualityMetrics {m}"));
    c.check_eq("transactions_bad metrics", got, sorted(&want.iter().map(String::as_str).collect::<Vec<_>>()));
    let run = c.run(&bad_run, "state job { inputs { name } outputs { name } }").await;
    c.check("GE run", run, json!({"state": "COMPLETE", "job": {"inputs": [{"name": "transactions_bad"}], "outputs": []}}));

    c.at = "airflow dag_order completed (exact)".into();
    let job = c.job("default", "dag_event_order", "latestRun { state }").await;
    c.check("dag_event_order", job, json!({"latestRun": {"state": "START"}}));
}

async fn jvm_exact(c: &mut Corpus<'_>) {
    c.at = "pysparkSymlinksComplete completed (exact)".into();
    let ds = c.dataset("hive://metastore", "default.test", "namespace name aliases { namespace name } schema { name type }").await;
    c.check(
        "dataset(hive://metastore, default.test) resolves the symlink",
        ds,
        json!({"namespace": "file", "name": "/tmp/warehouse/test",
               "aliases": [{"namespace": "hive://metastore", "name": "default.test"}],
               "schema": [{"name": "key", "type": "integer"}, {"name": "value", "type": "string"}]}),
    );
    let job = c.job("symlinks", "filled-in.symlinks_write", "outputs { namespace name }").await;
    c.check("symlinks job output", job["outputs"].clone(), json!([{"namespace": "file", "name": "/tmp/warehouse/test"}]));

    c.at = "pysparkCLLEnd completed (exact)".into();
    let query = r#"{ columnLineage(namespace: "file:/tmp/cll_test", name: "default.tbl1", field: "ident", depth: 1) {
        from { name field } to { name field } transformationType transformationSubtype } }"#;
    let edges = c.query(query, json!({})).await["columnLineage"].clone();
    let direct: Vec<&Value> = edges
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["transformationType"] == "DIRECT")
        .collect();
    c.check(
        "tbl1.ident (asked by its symlink) is DIRECT IDENTITY of cll_source1.a",
        json!(direct),
        json!([{"from": {"name": "/tmp/cll_test/cll_source1", "field": "a"}, "to": {"name": "/tmp/cll_test/tbl1", "field": "ident"},
                "transformationType": "DIRECT", "transformationSubtype": "IDENTITY"}]),
    );

    c.at = "pysparkWriteDeltaTableVersionEnd completed (exact)".into();
    let ds = c.dataset("file", "/tmp/delta/versioned_table", "currentVersion { version } aliases { name }").await;
    c.check("delta version", ds["currentVersion"]["version"].clone(), json!("v:2"));
    c.check("delta alias", ds["aliases"].clone(), json!([{"name": "default.versioned_table"}]));

    c.at = "spark serde openlineage-event (exact)".into();
    let run = c.run("5f24c93c-2ce9-49dc-82e7-95ab4915242f", "state errorMessage parentRunId").await;
    c.check("run", run, json!({"state": "START", "errorMessage": "failed", "parentRunId": null}));
    let got = c.metric_list("ins", "input", "5f24c93c-2ce9-49dc-82e7-95ab4915242f").await;
    let want = [
        "row_count=10.0",
        "bytes=20.0",
        "file_count=5.0",
        "mycol.null_count=1.0",
        "mycol.distinct_count=10.0",
        "mycol.sum=3000.0",
        "mycol.count=10.0",
        "mycol.min=5.0",
        "mycol.max=30.0",
        "mycol.quantile(25)=52.0",
    ]
    .map(|m| format!("dataQualityMetrics {m}"));
    c.check_eq("input metrics", got, sorted(&want.iter().map(String::as_str).collect::<Vec<_>>()));

    c.at = "spark cli example_failing completed (exact)".into();
    let job = c.job("default", "INCORRECT_JOB_NAME", "parent { namespace name } outputs { name aliases { namespace name } }").await;
    c.check(
        "job",
        job,
        json!({"parent": {"namespace": "default", "name": "cli_test_application"},
               "outputs": [{"name": "/opt/bitnami/spark/spark-warehouse/t2",
                            "aliases": [{"namespace": "file:/opt/bitnami/spark/spark-warehouse", "name": "default.t2"}]}]}),
    );

    c.at = "hive cllSimpleQueryMasking filled in (exact)".into();
    let query = r#"{ columnLineage(namespace: "hive://localhost:9083", name: "test.xxx", field: "mt", depth: 1) {
        from { name field } transformationType transformationSubtype } }"#;
    let edges = c.query(query, json!({})).await["columnLineage"].clone();
    c.check(
        "xxx.mt <- t1.a",
        edges,
        json!([{"from": {"name": "test.t1", "field": "a"}, "transformationType": "DIRECT", "transformationSubtype": "TRANSFORMATION"}]),
    );

    c.at = "flink filled in (exact)".into();
    let failed = "examples/integration__flink__flink1__src__test__resources__events__expected_failed.json";
    let run = c.run(&completed_id(failed, "flink_job_namespace", "flink_failed_job"), "state errorMessage").await;
    c.check("flink failed run", run, json!({"state": "FAIL", "errorMessage": "Application Status: FAILED"}));
    let ds = c.dataset("kafka://kafka-cluster-prod:9092", "default_catalog.default_database.kafka_input", "name").await;
    c.check("flink2 table name resolves to the topic", ds, json!({"name": "io.openlineage.flink.kafka.input1"}));

    c.at = "spark applicationLevelStartApplication completed (exact)".into();
    let job = c.job("generic-namespace", "generic_integration_test", "parent { namespace name } latestRun { state parentRunId }").await;
    c.check(
        "job",
        job,
        json!({"parent": {"namespace": "parent-namespace", "name": "parent-job"},
               "latestRun": {"state": "START", "parentRunId": "bd9c2467-3ed7-4fdc-85c2-41ebf5c73b40"}}),
    );
}

async fn dbt_exact(c: &mut Corpus<'_>) {
    c.at = "dbt no_test_metadata filled in (exact)".into();
    let got = c.assertion_list("snowflake://ASDF1234.eu-central-1.aws", "DEMO_DB.public.stg_customers").await;
    let want = ["dataQualityAssertions not_null(customer_id) pass", "dataQualityAssertions unique(customer_id) pass"];
    c.check_eq("stg_customers assertions", got, sorted(&want));
    let run = c.run("f99310b4-339a-4381-ad3e-c1b95c24ff11", "state job { namespace name } inputs { name }").await;
    c.check(
        "stg_customers test run (test/result.json's refused FAIL reused its id)",
        run,
        json!({"state": "COMPLETE", "job": {"namespace": "dbt-test-namespace", "name": "DEMO_DB.public.jaffle_shop.stg_customers.test"},
               "inputs": [{"name": "DEMO_DB.public.stg_customers"}]}),
    );

    c.at = "dbt test/result.json refused: its run ids are no_test_metadata's (exact)".into();
    let got = c.assertion_list("bigquery", "random-gcp-project.dbt_test1.test_second_dbt_model").await;
    c.check_eq("test_second_dbt_model assertions (the refused not_null pass, unique fail)", got, Vec::<String>::new());
    let job = c.job("dbt-test-namespace", "random-gcp-project.dbt_test1.dbt_bigquery_test.test_second_dbt_model.test", "name").await;
    c.check("a job only refused events named", job, Value::Null);
    let ds = c.dataset("bigquery", "random-gcp-project.dbt_test1.test_second_parallel_dbt_model.test", "name").await;
    c.check("a dataset only a refused event named", ds, Value::Null);

    c.at = "dbt fail/result.json filled in (exact)".into();
    let fail = "examples/integration__common__tests__dbt__fail__result.json";
    let name = "random-gcp-project.dbt_test1.dbt_bigquery_test.test_second_parallel_dbt_model";
    let run = c.run(&completed_id(fail, "job-namespace", name), "state job { parent { namespace name } }").await;
    c.check("failed model", run, json!({"state": "FAIL", "job": {"parent": {"namespace": "dbt", "name": "dbt-job-name"}}}));
    let first = completed_id(fail, "job-namespace", "random-gcp-project.dbt_test1.dbt_bigquery_test.test_first_dbt_model");
    let got = c.metric_list("bigquery", "random-gcp-project.dbt_test1.test_first_dbt_model", &first).await;
    c.check_eq("test_first_dbt_model metrics", got, vec!["outputStatistics row_count=2.0".to_string()]);

    c.at = "dbt structured_logs filled in (exact)".into();
    let logs = "examples/integration__common__tests__dbt__structured_logs__postgres__test__results__test_ol_events.json";
    let test_job = "test.jaffle_shop.accepted_values_customers_first_name__Jane.21e890a312";
    let run = c.run(&completed_id(logs, "dbt-test-namespace", test_job), "state errorMessage parentRun { state job { name } }").await;
    c.check(
        "failing dbt test run",
        run,
        json!({"state": "FAIL", "errorMessage": "Got 78 results, configured to fail if != 0",
               "parentRun": {"state": "FAIL", "job": {"name": "dbt-run-jaffle_shop"}}}),
    );
    let got = c.assertion_list("postgres://postgres:5432", "postgres.public.customers").await;
    c.check_eq(
        "customers: the failing accepted_values test is stored",
        got.contains(&"dataQualityAssertions accepted_values(first_name) fail".to_string()),
        true,
    );
    let parent = c.job("dbt-test-namespace", "dbt-run-jaffle_shop", "children { name }").await;
    c.check_eq("dbt-run-jaffle_shop children", parent["children"].as_array().map(Vec::len), Some(4));

    c.at = "dbt singular_test filled in (exact)".into();
    let run = c.run("aaaa0000-0000-0000-0000-000000000000", "state facets job { name }").await;
    c.check("singular test run state", run["state"].clone(), json!("FAIL"));
    c.check("singular test job", run["job"]["name"].clone(), json!("test.my_project.assert_row_count_within_range"));
    c.check("the test run facet is kept", run["facets"]["test"]["tests"][0]["status"].clone(), json!("fail"));
    let run = c.run("6edf42ed-d8d0-454a-b819-d09b9067ff99", "state job { namespace name }").await;
    c.check(
        "assert_positive_amounts reused no_test_metadata's customers.test run: refused, that run stays FAIL",
        run,
        json!({"state": "FAIL", "job": {"namespace": "dbt-test-namespace", "name": "DEMO_DB.public.jaffle_shop.customers.test"}}),
    );
    let job = c.job("job-namespace", "test.my_project.assert_positive_amounts", "name").await;
    c.check("assert_positive_amounts (only refused events named it)", job, Value::Null);
}

async fn run_family(app: &TestApp, family: Family) {
    let mut corpus = Corpus::new(app);
    corpus.ingest(family).await;
    match family {
        Clients => clients_exact(&mut corpus).await,
        Airflow => airflow_exact(&mut corpus).await,
        Jvm => jvm_exact(&mut corpus).await,
        Dbt => dbt_exact(&mut corpus).await,
    }
    corpus.finish(family);
}

backend_tests! {
    async fn captured_and_client_examples(app) {
        run_family(&app, Family::Clients).await;
    }

    async fn airflow_examples(app) {
        run_family(&app, Family::Airflow).await;
    }

    async fn spark_hive_flink_examples(app) {
        run_family(&app, Family::Jvm).await;
    }

    async fn dbt_examples(app) {
        run_family(&app, Family::Dbt).await;
    }
}
