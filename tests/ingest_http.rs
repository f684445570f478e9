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

    async fn body_over_the_limit_is_413_also_after_gunzip(app) {
        let big = vec![b' '; 10 * 1024 * 1024 + 1];
        let response = app.post_raw("/api/v1/lineage", big.clone(), &[("content-type", "application/json")]).await;
        assert_eq!(response.status().as_u16(), 413);
        // A small gzip body that inflates past the limit is refused too.
        let bomb = gzip(&big);
        assert!(bomb.len() < 100_000);
        let response = app.post_raw("/api/v1/lineage", bomb, &[("content-encoding", "gzip")]).await;
        let (status, body) = error_body(response).await;
        assert_eq!(status, 413);
        assert_eq!(body["error"]["code"], "PAYLOAD_TOO_LARGE");
    }

    async fn unknown_encoding_and_bad_gzip_are_4xx(app) {
        let response = app.post_raw("/api/v1/lineage", b"{}".to_vec(), &[("content-encoding", "br")]).await;
        assert_eq!(response.status().as_u16(), 415);
        let response = app.post_raw("/api/v1/lineage", b"not gzip".to_vec(), &[("content-encoding", "gzip")]).await;
        assert_eq!(response.status().as_u16(), 400);
    }

    async fn batch_reports_each_failure_and_stores_the_rest(app) {
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

        let response = app.client.post(app.url("/api/v1/lineage/batch")).json(&json!({"not": "an array"})).send().await.expect("request");
        assert_eq!(response.status().as_u16(), 400);
    }
}
