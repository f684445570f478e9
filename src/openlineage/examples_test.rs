//! The parser against the OpenLineage project's own example events and what the real Python
//! client sent (`/work/shared/openlineage`). Every file has a deliberate expected outcome below;
//! a new or changed file makes the test fail until someone decides what Weir should do with it.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::facets::{self, Assertion, show_assertion, show_metric};
use super::{Event, EventKind, Facets, RunEventType, parse_batch, parse_event};

/// Each example file and what Weir deliberately does with it: `skip-template` (test templates
/// whose `${json-unit.*}` / jinja `{{ }}` placeholders stand for values that vary per run),
/// `skip-facet` (a facet fragment or match pattern, not an event: examples/README.md says
/// facet-only), or one outcome per event in the file: `ok`, or the path of the rejection (`<root>`
/// for the document itself).
///
/// Apart from the two commented ones, every rejection is of a file from the Airflow or Spark
/// integration tests, which compare received events against these files as *subsets*: values that
/// vary per run (eventTime, run.runId, sometimes job.name or a dataset name) are simply left out.
/// Sent as they are, Weir rejects them with the path of the first missing field.
const EXPECTED: &str = "
captured/captured_complete.json         ok
captured/captured_dataset_event.json    ok
captured/captured_job_event.json        ok
captured/captured_requests_meta.json    <root>    # the recording server's metadata, not an event
captured/captured_start.json            ok
examples/client__python__tests__example_full_event.json              ok
examples/client__python__tests__serde_example_dataset_event.json     ok
examples/client__python__tests__serde_example_job_event.json         ok
examples/client__python__tests__serde_example_run_event.json         ok
examples/hist-0309d6392__integration__airflow__tests__integration__requests__great_expectations.json  run.runId run.runId run.runId
examples/hist-cd35384d8__integration__airflow__tests__integration__requests__dag_order__1.json  job.namespace
examples/hist-cd35384d8__integration__airflow__tests__integration__requests__failing__bash.json  run.runId run.runId run.runId run.runId
examples/hist-cd35384d8__integration__airflow__tests__integration__requests__mysql.json  run.runId run.runId eventTime eventTime
examples/integration__common__tests__dbt__fail__result.json              skip-template
examples/integration__common__tests__dbt__no_test_metadata__result.json  skip-template
examples/integration__common__tests__dbt__singular_test__result.json     skip-template
examples/integration__common__tests__dbt__structured_logs__postgres__test__results__test_ol_events.json  skip-template
examples/integration__common__tests__dbt__test__result.json              skip-template
examples/integration__flink__flink1__src__test__resources__events__expected_failed.json  skip-template
examples/integration__flink__flink1__src__test__resources__events__expected_kafka.json   skip-template
examples/integration__flink__flink1__src__test__resources__events__expected_kafka_checkpoints.json  skip-template
examples/integration__flink__flink2__src__test__resources__events__expected_sql_kafka.json  skip-template
examples/integration__hive__hive-openlineage-hook__integrations__container__cllSimpleQueryMaskingComplete.json  skip-template
examples/integration__spark__app__integrations__container__applicationLevelStartApplication.json  run.runId
examples/integration__spark__app__integrations__container__deltaMergeCommandVerificationComplete.json  skip-facet
examples/integration__spark__app__integrations__container__pysparkAlterTableRenameEnd.json  eventTime
examples/integration__spark__app__integrations__container__pysparkCLLEnd.json  job.name
examples/integration__spark__app__integrations__container__pysparkDropTableEvent.json  job.name  # no run: a JobEvent
examples/integration__spark__app__integrations__container__pysparkKafkaReadStartEvent.json  run.runId
examples/integration__spark__app__integrations__container__pysparkSingleRDDStatistics.json  skip-template
examples/integration__spark__app__integrations__container__pysparkSymlinksComplete.json  job.name
examples/integration__spark__app__integrations__container__pysparkV2AppendDataCompleteEvent.json  eventTime
examples/integration__spark__app__integrations__container__pysparkWriteDeltaTableVersionEnd.json  eventTime
examples/integration__spark__app__integrations__sparksql__1.json  inputs[0].name
examples/integration__spark__app__src__test__resources__test_data__serde__openlineage-event.json  ok
examples/integration__spark__cli__tests__test_failing__example_failing.json  run.runId
examples/proxy__fluentd__events__event_full.json                 ok
examples/proxy__fluentd__events__event_invalid_dataset_facet.json  ok
examples/proxy__fluentd__events__event_invalid_run_facet.json    ok
examples/proxy__fluentd__events__event_no_run_id.json            run.runId  # deliberately invalid
examples/proxy__fluentd__events__event_simple.json               ok
examples/spec__tests__ColumnLineageDatasetFacet__1.json          skip-facet
examples/spec__tests__DataQualityAssertionsDatasetFacet__1.json  skip-facet
examples/spec__tests__DataQualityMetricsInputDatasetFacet__1.json  skip-facet
examples/spec__tests__example_full_event.json                    ok
";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/openlineage")
}

fn read(rel: &str) -> Vec<u8> {
    let path = root().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_example_has_its_deliberate_outcome() {
    let expected: Vec<(&str, Vec<&str>)> = EXPECTED
        .lines()
        .map(|line| {
            line.split('#')
                .next()
                .unwrap_or_default()
                .split_whitespace()
                .collect::<Vec<_>>()
        })
        .filter_map(|words| Some((*words.first()?, words[1..].to_vec())))
        .collect();
    // read_dir panics when a folder is missing: the test must not pass vacuously.
    let mut found: Vec<String> = ["examples", "captured"]
        .iter()
        .flat_map(|dir| {
            std::fs::read_dir(root().join(dir)).unwrap_or_else(|e| panic!("{dir}: {e}"))
        })
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            p.strip_prefix(root())
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    found.sort();
    let listed: Vec<&str> = expected.iter().map(|(file, _)| *file).collect();
    assert_eq!(
        found, listed,
        "example files changed: give each one a deliberate outcome"
    );

    for (file, want) in expected {
        let body = read(file);
        let text = String::from_utf8_lossy(&body);
        let templated = text.contains("${json-unit") || text.contains("{{");
        assert_eq!(templated, want == ["skip-template"], "{file}");
        if want[0].starts_with("skip-") {
            continue;
        }
        let results = if text.trim_start().starts_with('[') {
            parse_batch(&body).unwrap_or_else(|e| panic!("{file}: {e}"))
        } else {
            vec![parse_event(&body)]
        };
        let got: Vec<String> = results
            .into_iter()
            .map(|r| match r {
                Ok(_) => "ok".to_owned(),
                Err(e) if e.path.is_empty() => "<root>".to_owned(),
                Err(e) => e.path,
            })
            .collect();
        assert_eq!(got, want, "{file}");
    }
}

fn event(rel: &str) -> Event {
    parse_event(&read(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn fluentd_deliberately_odd_events() {
    let no_run_id = parse_event(&read(
        "examples/proxy__fluentd__events__event_no_run_id.json",
    ));
    assert_eq!(
        no_run_id.unwrap_err().to_string(),
        "run.runId: missing field"
    );

    // A parent facet without run.runId is no parent, but the event is accepted and keeps the facet.
    let e = event("examples/proxy__fluentd__events__event_invalid_run_facet.json");
    assert_eq!(e.event_time.to_rfc3339(), "2020-12-28T09:52:00.001+00:00");
    let run = e.run.unwrap();
    assert_eq!(
        run.run_id.to_string(),
        "41fb5137-f0fd-4ee5-ba5c-56f8571d1bd7"
    );
    assert!(run.facets.contains_key("parent"));
    assert_eq!(facets::parent(&run.facets), None);

    let e = event("examples/proxy__fluentd__events__event_invalid_dataset_facet.json");
    assert!(e.outputs[0].facets.contains_key("ownership"));
    assert_eq!(facets::ownership(&e.outputs[0].facets), vec![]);

    let run = event("examples/proxy__fluentd__events__event_full.json")
        .run
        .unwrap();
    let parent = facets::parent(&run.facets).unwrap();
    assert_eq!(
        parent.run_id.to_string(),
        "3f5e83fa-3480-44ff-99c5-ff943904e5e8"
    );
    assert_eq!(parent.job_name, "myjob.mytask");
    assert!(
        run.facets.contains_key("additionalProp1"),
        "custom facets are kept"
    );
}

#[test]
fn captured_events() {
    let e = event("captured/captured_start.json");
    assert_eq!(
        (e.kind, e.event_type),
        (EventKind::Run, Some(RunEventType::Start))
    );
    let got: Vec<_> = facets::metrics(&e.inputs[0])
        .iter()
        .map(show_metric)
        .collect();
    let want = [
        "row_count=1000",
        "bytes=65536",
        "file_count=2",
        "id.null_count=0",
        "id.distinct_count=1000",
        "id.sum=500500",
        "id.count=1000",
        "id.min=1",
        "id.max=1000",
        "id.quantile(0.25)=250",
        "id.quantile(0.5)=500",
        "id.quantile(0.75)=750",
    ];
    assert_eq!(got, want.map(|m| format!("dataQualityMetrics {m}")));
    let got: Vec<_> = facets::metrics(&e.outputs[0])
        .iter()
        .map(show_metric)
        .collect();
    assert_eq!(
        got,
        [
            "outputStatistics row_count=990",
            "outputStatistics bytes=60000"
        ]
    );
    let got: Vec<_> = facets::assertions(&e.inputs[0])
        .iter()
        .map(show_assertion)
        .collect();
    let want = [
        "dataQualityAssertions not_null(id) pass",
        "dataQualityAssertions row_count_between fail",
    ];
    assert_eq!(got, want);
    let schema = facets::schema_fields(&e.inputs[0].facets).unwrap();
    let names: Vec<_> = schema.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        (names, schema[1].fields[0].name.as_str()),
        (vec!["id", "address"], "city")
    );

    let d = event("captured/captured_dataset_event.json");
    assert_eq!(
        (d.kind, d.dataset.unwrap().name.as_str()),
        (EventKind::Dataset, "shop.public.customers")
    );
    let j = event("captured/captured_job_event.json");
    assert_eq!(
        (j.kind, j.inputs.len(), j.outputs.len()),
        (EventKind::Job, 1, 1)
    );
}

/// dbt-ol's test jobs. The file is templated, but its only placeholders sit in the free-text
/// `openlineageAdapterVersion`, so it is a valid batch as it stands.
#[test]
fn dbt_failing_test_is_a_failed_assertion() {
    let batch = parse_batch(&read(
        "examples/integration__common__tests__dbt__test__result.json",
    ));
    let events: Vec<Event> = batch
        .unwrap()
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap();
    let fail = &events[8];
    assert_eq!(fail.event_type, Some(RunEventType::Fail));
    assert_eq!(
        fail.inputs[0].name,
        "random-gcp-project.dbt_test1.test_second_dbt_model"
    );
    let got: Vec<_> = facets::assertions(&fail.inputs[0])
        .iter()
        .map(show_assertion)
        .collect();
    let want = ["not_null(id) pass [error]", "unique(id) fail [error]"];
    assert_eq!(got, want.map(|a| format!("dataQualityAssertions {a}")));
    let all: Vec<Assertion> = events
        .iter()
        .flat_map(|e| &e.inputs)
        .flat_map(facets::assertions)
        .collect();
    assert_eq!(
        (all.len(), all.iter().filter(|a| !a.success).count()),
        (14, 4)
    );
}

/// Same as above: placeholders only in free-text fields.
#[test]
fn dbt_singular_test_run_facet() {
    let file = "examples/integration__common__tests__dbt__singular_test__result.json";
    let fail = parse_batch(&read(file)).unwrap().remove(3).unwrap();
    assert_eq!(fail.event_type, Some(RunEventType::Fail));
    let run_facets = &fail.run.unwrap().facets;
    let tests = facets::run_test_assertions(run_facets);
    assert_eq!(tests.len(), 1);
    assert_eq!(tests[0].dataset, None);
    let want = "test test.my_project.assert_row_count_within_range fail [warn]";
    assert_eq!(show_assertion(&tests[0].assertion), want);
    assert_eq!(
        tests[0].assertion.details.as_ref().unwrap()["actual"],
        json!("5")
    );
    assert_eq!(facets::parent(run_facets).unwrap().job_name, "dbt-job-name");
}

/// The Airflow fixture omits eventTime and run.runId (its harness matches subsets); we add the two
/// values the real Great Expectations action sends, then read the custom assertions facet.
#[test]
fn great_expectations_assertions() {
    let file = "examples/hist-0309d6392__integration__airflow__tests__integration__requests__great_expectations.json";
    let mut events: Vec<Value> = serde_json::from_slice(&read(file)).unwrap();
    let mut e = events.remove(2);
    e["eventTime"] = json!("2021-07-01T10:00:00Z");
    e["run"]["runId"] = json!("ge_bad_sqlite_run");
    let e = parse_event(&serde_json::to_vec(&e).unwrap()).unwrap();
    let ds = &e.inputs[0];
    assert_eq!(ds.name, "transactions_bad");
    let all = facets::assertions(ds);
    let failed: Vec<_> = all
        .iter()
        .filter(|a| !a.success)
        .map(show_assertion)
        .collect();
    let want = [
        "expect_column_values_to_not_be_null(counterparty_id) fail",
        "expect_column_distinct_values_to_be_in_set(currency) fail",
    ];
    assert_eq!(
        failed,
        want.map(|a| format!("greatExpectations_assertions {a}"))
    );
    assert_eq!(all.len(), 8);
    let metrics: Vec<_> = facets::metrics(ds).iter().map(show_metric).collect();
    assert!(metrics.contains(&"dataQualityMetrics counterparty_id.null_count=2".to_owned()));
}

/// Spark's partial fixtures are no events, but their facets are real: read them directly.
#[test]
fn spark_lineage_facets() {
    let outputs_0 = |file: &str| -> Facets {
        let v: Value = serde_json::from_slice(&read(&format!("examples/{file}.json"))).unwrap();
        v["outputs"][0]["facets"].as_object().unwrap().clone()
    };
    let cll = outputs_0("integration__spark__app__integrations__container__pysparkCLLEnd");
    let cll = facets::column_lineage(&cll);
    let ident = cll.iter().find(|c| c.output_field == "ident").unwrap();
    let from_a = ident
        .inputs
        .iter()
        .find(|i| i.field == "a" && i.name == "/tmp/cll_test/cll_source1");
    let from_a = from_a.unwrap();
    assert_eq!(from_a.transformation_type.as_deref(), Some("DIRECT"));
    assert_eq!(from_a.transformation_subtype.as_deref(), Some("IDENTITY"));
    let delta = outputs_0(
        "integration__spark__app__integrations__container__pysparkWriteDeltaTableVersionEnd",
    );
    assert_eq!(facets::dataset_version(&delta).as_deref(), Some("2"));
    let want = [(
        "file:/tmp/delta".to_owned(),
        "default.versioned_table".to_owned(),
    )];
    assert_eq!(facets::symlinks(&delta), want);
}

#[test]
fn spec_full_event_with_a_dataset_member_is_a_run_event() {
    let e = event("examples/spec__tests__example_full_event.json");
    assert_eq!((e.kind, e.dataset), (EventKind::Run, None));
    assert_eq!(e.run.unwrap().run_id.get_version_num(), 3);
}
