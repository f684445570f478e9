//! `POST /api/v1/lineage` and `/batch` over real HTTP: what is accepted, what is rejected and
//! how, and that an acknowledged event is in the graph.

mod common;

use std::io::Write;

use common::events::{dataset, run_event, run_id, schema};
use serde_json::{Value, json};

const JOB_QUERY: &str = r#"query($ns: String!, $name: String!) {
  job(namespace: $ns, name: $name) {
    id
    inputs { namespace name }
    outputs { namespace name }
    latestRun { id state startedAt endedAt errorMessage inputs { name } outputs { name } }
  }
}"#;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

async fn error_body(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON error body"))
}

backend_tests! {
    async fn start_then_complete_builds_the_graph(app) {
        let run = run_id();
        let input = dataset("pg://db", "public.orders");
        let mut output = dataset("pg://db", "public.orders_clean");
        output["facets"]["schema"] = schema(&[("id", "BIGINT"), ("amount", "DECIMAL")]);
        app.ingest(&run_event("START", "2024-05-01T10:00:00Z", &run, ("etl", "clean_orders"), vec![input.clone()], vec![])).await;
        app.ingest(&run_event("COMPLETE", "2024-05-01T10:05:00.123456789Z", &run, ("etl", "clean_orders"), vec![input], vec![output])).await;

        let data = app.query(JOB_QUERY, json!({"ns": "etl", "name": "clean_orders"})).await;
        let job = &data["job"];
        assert_eq!(job["id"], "job:etl:clean_orders");
        assert_eq!(job["inputs"], json!([{"namespace": "pg://db", "name": "public.orders"}]));
        assert_eq!(job["outputs"], json!([{"namespace": "pg://db", "name": "public.orders_clean"}]));
        assert_eq!(job["latestRun"]["id"], run);
        assert_eq!(job["latestRun"]["state"], "COMPLETE");
        assert_eq!(job["latestRun"]["startedAt"], "2024-05-01T10:00:00+00:00");
        assert_eq!(job["latestRun"]["endedAt"], "2024-05-01T10:05:00.123456+00:00");

        let data = app.query(r#"{ dataset(namespace: "pg://db", name: "public.orders_clean") {
            schema { name type } producers { name } consumers { name } versions { version } lastWrittenAt } }"#, json!({})).await;
        let ds = &data["dataset"];
        assert_eq!(ds["schema"], json!([{"name": "id", "type": "BIGINT"}, {"name": "amount", "type": "DECIMAL"}]));
        assert_eq!(ds["producers"], json!([{"name": "clean_orders"}]));
        assert_eq!(ds["consumers"], json!([]));
        assert_eq!(ds["versions"].as_array().map(Vec::len), Some(1));
        assert_eq!(ds["lastWrittenAt"], "2024-05-01T10:05:00.123456+00:00");
    }

    async fn duplicate_delivery_is_stored_once(app) {
        let event = run_event("COMPLETE", "2024-05-01T10:00:00Z", &run_id(), ("etl", "j"), vec![], vec![dataset("ns", "out")]);
        let first: Value = app.post_event(&event).await.json().await.expect("json");
        let second: Value = app.post_event(&event).await.json().await.expect("json");
        assert_eq!(first["status"], "stored");
        assert_eq!(second["status"], "duplicate");
        let data = app.query(r#"{ job(namespace: "etl", name: "j") { runs { edges { node { id } } } } }"#, json!({})).await;
        assert_eq!(data["job"]["runs"]["edges"].as_array().map(Vec::len), Some(1));
    }

    async fn gzip_body_is_accepted(app) {
        let run = run_id();
        let event = run_event("START", "2024-05-01T10:00:00Z", &run, ("etl", "gz"), vec![dataset("ns", "in")], vec![]);
        let body = gzip(&serde_json::to_vec(&event).expect("json"));
        let response = app
            .post_raw("/api/v1/lineage", body, &[("content-type", "application/json"), ("content-encoding", "gzip")])
            .await;
        assert_eq!(response.status().as_u16(), 201);
        let data = app.query(JOB_QUERY, json!({"ns": "etl", "name": "gz"})).await;
        assert_eq!(data["job"]["latestRun"]["state"], "START");
        assert_eq!(data["job"]["inputs"], json!([{"namespace": "ns", "name": "in"}]));
    }

    async fn invalid_json_is_a_400_that_says_where(app) {
        let response = app.post_raw("/api/v1/lineage", b"{\"eventTime\": ".to_vec(), &[("content-type", "application/json")]).await;
        let (status, body) = error_body(response).await;
        assert_eq!(status, 400);
        assert_eq!(body["error"]["code"], "INVALID_EVENT");
        assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("line 1")), "{body}");
    }

    async fn wrong_types_and_missing_fields_name_the_field(app) {
        let cases = [
            (json!({"eventType": "START", "eventTime": "2024-05-01T10:00:00Z", "run": {"runId": run_id()}, "job": {"namespace": "n", "name": 5}}), "job.name"),
            (json!({"eventType": "START", "eventTime": "2024-05-01T10:00:00Z", "run": {"runId": run_id()}, "job": {"namespace": "n"}}), "job.name"),
            (json!({"eventType": "START", "eventTime": "2024-05-01T10:00:00Z", "job": {"namespace": "n", "name": "j"}}), "run"),
            (json!({"eventType": "START", "eventTime": "2024-05-01T10:00:00Z", "run": {}, "job": {"namespace": "n", "name": "j"}}), "run.runId"),
            (json!({"eventType": "START", "run": {"runId": run_id()}, "job": {"namespace": "n", "name": "j"}}), "eventTime"),
            (json!({"eventType": "START", "eventTime": "yesterday", "run": {"runId": run_id()}, "job": {"namespace": "n", "name": "j"}}), "eventTime"),
            (json!({"eventType": "START", "eventTime": "2024-05-01T10:00:00Z", "run": {"runId": run_id()}, "job": {"namespace": "n", "name": "j"}, "inputs": [{"name": "x"}]}), "inputs[0].namespace"),
            (json!({"eventType": "START", "eventTime": "2024-05-01T10:00:00Z", "run": {"runId": run_id()}, "job": {"namespace": "n", "name": "j"}, "inputs": {"a": 1}}), "inputs"),
            // A NUL character is valid JSON, but PostgreSQL stores it neither in text nor jsonb.
            (json!({"eventType": "START", "eventTime": "2024-05-01T10:00:00Z", "run": {"runId": run_id()}, "job": {"namespace": "n", "name": "j"}, "outputs": [{"namespace": "n", "name": "o", "facets": {"doc": {"description": "a\u{0}b"}}}]}), "outputs[0].facets.doc.description"),
            (json!({"eventType": "START", "eventTime": "2024-05-01T10:00:00Z", "run": {"runId": run_id()}, "job": {"namespace": "n\u{0}", "name": "j"}}), "job.namespace"),
        ];
        for (event, path) in cases {
            let (status, body) = error_body(app.post_event(&event).await).await;
            assert_eq!(status, 400, "{event}: {body}");
            assert_eq!(body["error"]["path"], path, "{event}: {body}");
        }
        // Nothing of the rejected events was stored.
        let data = app.query("{ jobs { edges { node { name } } } }", json!({})).await;
        assert_eq!(data["jobs"]["edges"], json!([]));
    }

    async fn unknown_encoding_and_bad_gzip_are_4xx(app) {
        let response = app.post_raw("/api/v1/lineage", b"{}".to_vec(), &[("content-encoding", "br")]).await;
        assert_eq!(response.status().as_u16(), 415);
        let response = app.post_raw("/api/v1/lineage", b"not gzip".to_vec(), &[("content-encoding", "gzip")]).await;
        assert_eq!(response.status().as_u16(), 400);
    }

    async fn batch_reports_each_failure_and_stores_the_rest(app) {
        let good_again = || run_event("COMPLETE", "2024-05-01T11:00:00Z", &run_id(), ("etl", "batch_job"), vec![], vec![dataset("ns", "b_out")]);
        let good = run_event("COMPLETE", "2024-05-01T10:00:00Z", &run_id(), ("etl", "batch_job"), vec![], vec![dataset("ns", "b_out")]);
        let bad = json!({"eventType": "START", "eventTime": "2024-05-01T10:00:00Z", "run": {}, "job": {"namespace": "n", "name": "j"}});
        let response = app.client.post(app.url("/api/v1/lineage/batch")).json(&json!([good, bad])).send().await.expect("request");
        assert_eq!(response.status().as_u16(), 200);
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["status"], "partial_success");
        assert_eq!(body["summary"]["received"], 2);
        assert_eq!(body["summary"]["successful"], 1);
        assert_eq!(body["summary"]["failed"], 1);
        assert_eq!(body["failed_events"][0]["index"], 1);
        assert_eq!(body["failed_events"][0]["path"], "run.runId");
        assert_eq!(body["failed_events"][0]["retriable"], false);
        let data = app.query(JOB_QUERY, json!({"ns": "etl", "name": "batch_job"})).await;
        assert_eq!(data["job"]["outputs"], json!([{"namespace": "ns", "name": "b_out"}]));

        // A NUL character rejects only the event that holds it.
        let nul = run_event("COMPLETE", "2024-05-01T10:00:00Z", &run_id(), ("etl", "nul\u{0}job"), vec![], vec![]);
        let response = app.client.post(app.url("/api/v1/lineage/batch")).json(&json!([good_again(), nul])).send().await.expect("request");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["summary"]["successful"], 1, "{body}");
        assert_eq!(body["failed_events"][0]["index"], 1, "{body}");
        assert_eq!(body["failed_events"][0]["path"], "job.name", "{body}");

        let response = app.client.post(app.url("/api/v1/lineage/batch")).json(&json!({"not": "an array"})).send().await.expect("request");
        assert_eq!(response.status().as_u16(), 400);
    }

    async fn a_rejected_event_in_a_shared_transaction_undoes_only_itself(app) {
        // The events of a batch share one transaction (applied again with a savepoint per
        // event once one fails): the second reuses the first one's run id for another job, so
        // it fails after having created that job and its output; only its own changes may be
        // undone.
        let shared = run_id();
        let first = run_event("COMPLETE", "2024-05-01T10:00:00Z", &shared, ("etl", "owner_job"), vec![], vec![dataset("ns", "owner_out")]);
        let thief = run_event("COMPLETE", "2024-05-01T10:01:00Z", &shared, ("etl", "thief_job"), vec![], vec![dataset("ns", "thief_out")]);
        let last = run_event("COMPLETE", "2024-05-01T10:02:00Z", &run_id(), ("etl", "later_job"), vec![dataset("ns", "owner_out")], vec![dataset("ns", "later_out")]);
        let response = app.client.post(app.url("/api/v1/lineage/batch")).json(&json!([first, thief, last])).send().await.expect("request");
        assert_eq!(response.status().as_u16(), 200);
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["summary"]["successful"], 2, "{body}");
        assert_eq!(body["failed_events"][0]["index"], 1, "{body}");
        assert_eq!(body["failed_events"][0]["path"], "run.runId", "{body}");

        let data = app.query(JOB_QUERY, json!({"ns": "etl", "name": "owner_job"})).await;
        assert_eq!(data["job"]["outputs"], json!([{"namespace": "ns", "name": "owner_out"}]));
        let data = app.query(JOB_QUERY, json!({"ns": "etl", "name": "later_job"})).await;
        assert_eq!(data["job"]["inputs"], json!([{"namespace": "ns", "name": "owner_out"}]));
        let data = app.query(JOB_QUERY, json!({"ns": "etl", "name": "thief_job"})).await;
        assert_eq!(data["job"], Value::Null, "the rejected event's job was rolled back: {data}");
        let data = app.query(r#"{ dataset(namespace: "ns", name: "thief_out") { name } }"#, json!({})).await;
        assert_eq!(data["dataset"], Value::Null, "the rejected event's output was rolled back: {data}");
    }

    async fn concurrent_clients_each_get_their_event_committed(app) {
        // Concurrent requests are grouped into shared transactions; each must still be
        // answered only for its own event, and every acknowledged event must be in the graph.
        let events: Vec<Value> = (0..40)
            .map(|i| run_event("COMPLETE", "2024-05-01T10:00:00Z", &run_id(), ("etl", &format!("fan_{i}")), vec![dataset("ns", "shared_in")], vec![dataset("ns", &format!("fan_out_{i}"))]))
            .collect();
        let send_all = |events: Vec<Value>| {
            let tasks: Vec<_> = events
                .into_iter()
                .map(|event| {
                    let client = app.client.clone();
                    let url = app.url("/api/v1/lineage");
                    tokio::spawn(async move {
                        let response = client.post(url).json(&event).send().await.expect("request");
                        let status = response.status().as_u16();
                        let body: Value = response.json().await.expect("json");
                        (status, body["status"].as_str().unwrap_or_default().to_string())
                    })
                })
                .collect();
            async move {
                let mut answers = Vec::new();
                for task in tasks {
                    answers.push(task.await.expect("task"));
                }
                answers
            }
        };
        let answers = send_all(events.clone()).await;
        assert!(answers.iter().all(|a| a == &(201, "stored".to_string())), "{answers:?}");
        let data = app.query(r#"{ dataset(namespace: "ns", name: "shared_in") { consumers { name } } }"#, json!({})).await;
        let mut consumers: Vec<String> = data["dataset"]["consumers"]
            .as_array()
            .expect("consumers")
            .iter()
            .filter_map(|c| c["name"].as_str().map(str::to_string))
            .collect();
        consumers.sort();
        let mut expected: Vec<String> = (0..40).map(|i| format!("fan_{i}")).collect();
        expected.sort();
        assert_eq!(consumers, expected);

        let again = send_all(events).await;
        assert!(again.iter().all(|a| a == &(201, "duplicate".to_string())), "{again:?}");
    }

    async fn large_events_and_batches_are_parsed_and_stored_whole(app) {
        // Above 256 KB a body is parsed and archived on a blocking thread: the same answers.
        let wide = |name: &str| {
            let names: Vec<String> = (0..6000).map(|c| format!("a_rather_long_column_name_{c}")).collect();
            let columns: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "VARCHAR")).collect();
            let mut out = dataset("big", name);
            out["facets"]["schema"] = schema(&columns);
            run_event("COMPLETE", "2024-05-01T10:00:00Z", &run_id(), ("big", name), vec![], vec![out])
        };
        let event = wide("wide_table");
        assert!(event.to_string().len() > 300_000);
        let response = app.post_event(&event).await;
        assert_eq!(response.status().as_u16(), 201, "{}", response.text().await.unwrap_or_default());
        let data = app.query(r#"{ dataset(namespace: "big", name: "wide_table") { schema { name } } }"#, json!({})).await;
        assert_eq!(data["dataset"]["schema"].as_array().map(Vec::len), Some(6000));

        let batch = json!([wide("wide_a"), {"eventType": "COMPLETE"}, wide("wide_b")]);
        let response = app.post_raw("/api/v1/lineage/batch", batch.to_string().into_bytes(), &[("content-type", "application/json")]).await;
        let (status, body) = error_body(response).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["summary"], json!({"received": 3, "successful": 2, "failed": 1, "retriable": 0, "non_retriable": 1}));
        assert_eq!(body["failed_events"][0]["index"], 1);
        assert_eq!(app.store.raw_event_count().await.expect("count"), 3);
        // A large body that is not JSON is still a 400 saying where.
        let mut broken = event.to_string();
        broken.truncate(400_000.min(broken.len() - 10));
        let response = app.post_raw("/api/v1/lineage", broken.into_bytes(), &[("content-type", "application/json")]).await;
        let (status, body) = error_body(response).await;
        assert_eq!(status, 400, "{body}");
    }

    async fn sloppy_but_real_client_output_is_accepted(app) {
        // What real emitters send: no eventType, no offset on eventTime, nanoseconds, a braced
        // run id, null inputs, facets without _producer, a custom facet, and Python's bare NaN.
        let body = r#"{
            "eventTime": "2024-03-01T12:00:00.123456789",
            "run": {"runId": "{6F5A2B1C-0D3E-4F5A-8B9C-0D1E2F3A4B5C}", "facets": null},
            "job": {"namespace": "py", "name": "sloppy", "facets": {"myCompany_team": {"team": "growth"}}},
            "inputs": null,
            "outputs": [{"namespace": "py", "name": "metrics_out", "facets": {"schema": {"fields": [{"name": "ratio", "type": "DOUBLE"}]}},
                         "inputFacets": null,
                         "outputFacets": {"outputStatistics": {"rowCount": 3, "size": NaN}}}],
            "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python",
            "unknownTopLevelField": {"kept": true}
        }"#;
        let response = app.post_raw("/api/v1/lineage", body.as_bytes().to_vec(), &[("content-type", "application/json")]).await;
        assert_eq!(response.status().as_u16(), 201, "{}", response.text().await.unwrap_or_default());
        let data = app.query(r#"{ run(id: "6f5a2b1c-0d3e-4f5a-8b9c-0d1e2f3a4b5c") { state stateTime job { facets outputs { schema { name type } observations { metrics { metric value } } } } } }"#, json!({})).await;
        let run = &data["run"];
        assert_eq!(run["state"], "OTHER");
        assert_eq!(run["stateTime"], "2024-03-01T12:00:00.123456+00:00");
        assert_eq!(run["job"]["facets"]["myCompany_team"]["team"], "growth");
        assert_eq!(run["job"]["outputs"][0]["schema"], json!([{"name": "ratio", "type": "DOUBLE"}]));
        let mut metrics: Vec<(String, Value)> = run["job"]["outputs"][0]["observations"]["metrics"]
            .as_array()
            .expect("metrics")
            .iter()
            .map(|m| (m["metric"].as_str().unwrap_or_default().to_string(), m["value"].clone()))
            .collect();
        metrics.sort_by(|a, b| a.0.cmp(&b.0));
        // NaN arrives as "no value", not as an error and not as a number.
        assert_eq!(metrics, vec![("bytes".to_string(), Value::Null), ("row_count".to_string(), json!(3.0))]);
    }
}

/// Small limit, so the client finishes writing before the server answers and the test sees
/// the 413 itself rather than a connection closed mid-upload.
async fn body_over_the_limit(backend: common::Backend) {
    let Some(app) = common::TestApp::spawn_with(backend, |c| c.max_body_bytes = 4096).await else {
        eprintln!("skipped: WEIR_TEST_DATABASE_URL is not set (CI sets it)");
        return;
    };
    let big = vec![b' '; 5000];
    let (status, body) = error_body(app.post_raw("/api/v1/lineage", big, &[("content-type", "application/json")]).await).await;
    assert_eq!(status, 413);
    assert_eq!(body["error"]["code"], "PAYLOAD_TOO_LARGE");
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("4096")), "{body}");
    // A small gzip body that inflates past the limit is refused too.
    let bomb = gzip(&vec![b' '; 1_000_000]);
    assert!(bomb.len() < 4096);
    let (status, body) = error_body(app.post_raw("/api/v1/lineage", bomb, &[("content-encoding", "gzip")]).await).await;
    assert_eq!(status, 413);
    assert_eq!(body["error"]["code"], "PAYLOAD_TOO_LARGE");
    // Just under the limit is parsed (and rejected for what it is, not for its size).
    let (status, body) = error_body(app.post_raw("/api/v1/lineage", vec![b' '; 4000], &[]).await).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "INVALID_EVENT");
}

#[tokio::test]
async fn sqlite_body_over_the_limit_is_413_also_after_gunzip() {
    body_over_the_limit(common::Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_body_over_the_limit_is_413_also_after_gunzip() {
    body_over_the_limit(common::Backend::Postgres).await;
}

#[test]
fn default_body_limit_is_ten_mebibytes() {
    assert_eq!(weir::Config::with_database("sqlite::memory:").max_body_bytes, 10 * 1024 * 1024);
}
