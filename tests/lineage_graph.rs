//! The lineage graph as ingestion builds it and `lineage` / `columnLineage` walk it: depth,
//! direction, as-of, out-of-order delivery, versions, aliases and parent jobs.

mod common;

use common::events::{dataset, run_event, run_id, schema};
use common::{edge_list, node_ids};
use serde_json::{Value, json};

const LINEAGE: &str = r#"query($id: ID!, $dir: LineageDirection!, $depth: Int!, $asOf: DateTime) {
  lineage(nodeId: $id, direction: $dir, depth: $depth, asOf: $asOf) { nodes { id kind namespace name } edges { from to } }
}"#;

/// The lineage graph from GraphQL, after checking that `GET /api/v1/lineage` answers the same
/// (so every walk below tests both surfaces).
async fn lineage(app: &common::TestApp, id: &str, dir: &str, depth: i32, as_of: Option<&str>) -> Value {
    let data = app.query(LINEAGE, json!({"id": id, "dir": dir, "depth": depth, "asOf": as_of})).await;
    let graph = data["lineage"].clone();
    let depth = depth.to_string();
    let mut params = vec![("nodeId", id), ("direction", dir), ("depth", depth.as_str())];
    params.extend(as_of.map(|t| ("asOf", t)));
    let (status, rest) = rest_lineage(app, &params).await;
    assert_eq!((status, &rest), (200, &graph), "GET /api/v1/lineage with {params:?}");
    graph
}

/// `GET /api/v1/lineage` with these query parameters: the status and the JSON body.
async fn rest_lineage(app: &common::TestApp, params: &[(&str, &str)]) -> (u16, Value) {
    let response = app.request(reqwest::Method::GET, "/api/v1/lineage", None).query(params).send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// a -> j1 -> b -> j2 -> c -> j3 -> d
async fn chain(app: &common::TestApp) {
    for (job, input, output) in [("j1", "a", "b"), ("j2", "b", "c"), ("j3", "c", "d")] {
        app.ingest(&run_event("COMPLETE", "2024-01-01T00:00:00Z", &run_id(), ("etl", job), vec![dataset("wh", input)], vec![dataset("wh", output)])).await;
    }
}

backend_tests! {
    async fn depth_counts_job_hops_in_each_direction(app) {
        chain(&app).await;
        let g = lineage(&app, "dataset:wh:b", "BOTH", 1, None).await;
        assert_eq!(node_ids(&g), vec!["dataset:wh:a", "dataset:wh:b", "dataset:wh:c", "job:etl:j1", "job:etl:j2"]);
        assert_eq!(edge_list(&g), vec![
            "dataset:wh:a -> job:etl:j1",
            "dataset:wh:b -> job:etl:j2",
            "job:etl:j1 -> dataset:wh:b",
            "job:etl:j2 -> dataset:wh:c",
        ]);

        let g = lineage(&app, "dataset:wh:d", "UPSTREAM", 2, None).await;
        assert_eq!(node_ids(&g), vec!["dataset:wh:b", "dataset:wh:c", "dataset:wh:d", "job:etl:j2", "job:etl:j3"]);

        let g = lineage(&app, "dataset:wh:a", "DOWNSTREAM", 20, None).await;
        assert_eq!(node_ids(&g).len(), 7);
        assert!(node_ids(&g).contains(&"dataset:wh:d".to_string()));

        let g = lineage(&app, "dataset:wh:a", "UPSTREAM", 20, None).await;
        assert_eq!(node_ids(&g), vec!["dataset:wh:a"]);
        assert_eq!(edge_list(&g), Vec::<String>::new());

        let g = lineage(&app, "dataset:wh:b", "BOTH", 0, None).await;
        assert_eq!(node_ids(&g), vec!["dataset:wh:b"]);
    }

    async fn rest_lineage_defaults_like_graphql_and_names_what_is_wrong(app) {
        chain(&app).await;
        // Defaults: BOTH, depth 20 (the whole chain from its middle).
        let (status, all) = rest_lineage(&app, &[("nodeId", "dataset:wh:b")]).await;
        assert_eq!(status, 200);
        assert_eq!(all, lineage(&app, "dataset:wh:b", "BOTH", 20, None).await);
        assert_eq!(node_ids(&all).len(), 7);
        let (_, lower) = rest_lineage(&app, &[("nodeId", "dataset:wh:d"), ("direction", "upstream"), ("depth", "1")]).await;
        assert_eq!(node_ids(&lower), vec!["dataset:wh:c", "dataset:wh:d", "job:etl:j3"]);

        for (params, status, says) in [
            (vec![], 400, "`nodeId` is required"),
            (vec![("nodeId", "table:wh:b")], 400, "invalid node id `table:wh:b`"),
            (vec![("nodeId", "dataset:wh:b"), ("depth", "-1")], 400, "must not be negative"),
            (vec![("nodeId", "dataset:wh:b"), ("depth", "101")], 400, "above the maximum lineage depth 100"),
            (vec![("nodeId", "dataset:wh:b"), ("depth", "99999999999")], 400, "above the maximum lineage depth"),
            (vec![("nodeId", "dataset:wh:b"), ("depth", "deep")], 400, "`depth` must be a whole number, got `deep`"),
            (vec![("nodeId", "dataset:wh:b"), ("direction", "left")], 400, "UPSTREAM, DOWNSTREAM or BOTH, got `left`"),
            (vec![("nodeId", "dataset:wh:b"), ("asOf", "2024-13-01")], 400, "`asOf` must be an RFC 3339 time"),
            (vec![("nodeId", "dataset:wh:b"), ("nodeId", "dataset:wh:c")], 400, "`nodeId` is given more than once"),
            (vec![("nodeId", "dataset:wh:b"), ("dir", "UPSTREAM")], 400, "unknown query parameter `dir`"),
            (vec![("nodeId", "dataset:wh:nowhere")], 404, "no dataset or job with id `dataset:wh:nowhere`"),
        ] {
            let (got, body) = rest_lineage(&app, &params).await;
            assert_eq!(got, status, "{params:?}: {body}");
            let message = body["error"]["message"].as_str().unwrap_or_default();
            assert!(message.contains(says), "{params:?}: {body}");
        }
    }

    async fn a_lineage_answer_is_sorted_and_follows_the_selection_exactly(app) {
        chain(&app).await;
        let query = r#"query($skip: Boolean!) {
          lineage(nodeId: "dataset:wh:c", direction: UPSTREAM, depth: 1) {
            nodes { __typename key: id ...Names kind @skip(if: $skip) id name }
            edges { ... on LineageEdge { to } from t: to @include(if: $skip) }
          }
        }
        fragment Names on LineageNode { name namespace }"#;
        // The raw text, to check the order of nodes, of edges and of each item's fields.
        let text = |skip: bool| {
            let request = app.request(reqwest::Method::POST, "/graphql", None).json(&json!({"query": query, "variables": {"skip": skip}}));
            async move { request.send().await.expect("request").text().await.expect("body") }
        };
        let node = |id: &str, name: &str, kind: Option<&str>| {
            let kind = kind.map(|k| format!(r#","kind":"{k}""#)).unwrap_or_default();
            let namespace = if id.starts_with("job") { "etl" } else { "wh" };
            format!(r#"{{"__typename":"LineageNode","key":"{id}","name":"{name}","namespace":"{namespace}"{kind},"id":"{id}"}}"#)
        };
        let skipped = format!(
            r#"{{"data":{{"lineage":{{"nodes":[{},{},{}],"edges":[{},{}]}}}}}}"#,
            node("dataset:wh:b", "b", None),
            node("dataset:wh:c", "c", None),
            node("job:etl:j2", "j2", None),
            r#"{"to":"job:etl:j2","from":"dataset:wh:b","t":"job:etl:j2"}"#,
            r#"{"to":"dataset:wh:c","from":"job:etl:j2","t":"dataset:wh:c"}"#,
        );
        assert_eq!(text(true).await, skipped);
        let included = format!(
            r#"{{"data":{{"lineage":{{"nodes":[{},{},{}],"edges":[{},{}]}}}}}}"#,
            node("dataset:wh:b", "b", Some("DATASET")),
            node("dataset:wh:c", "c", Some("DATASET")),
            node("job:etl:j2", "j2", Some("JOB")),
            r#"{"to":"job:etl:j2","from":"dataset:wh:b"}"#,
            r#"{"to":"dataset:wh:c","from":"job:etl:j2"}"#,
        );
        assert_eq!(text(false).await, included);
    }

    async fn job_start_node_includes_its_own_datasets(app) {
        chain(&app).await;
        let g = lineage(&app, "job:etl:j2", "BOTH", 0, None).await;
        assert_eq!(node_ids(&g), vec!["dataset:wh:b", "dataset:wh:c", "job:etl:j2"]);
        let g = lineage(&app, "job:etl:j2", "DOWNSTREAM", 1, None).await;
        assert_eq!(node_ids(&g), vec!["dataset:wh:c", "dataset:wh:d", "job:etl:j2", "job:etl:j3"]);
        let node = g["nodes"].as_array().expect("nodes").iter().find(|n| n["id"] == "job:etl:j3").cloned();
        assert_eq!(node, Some(json!({"id": "job:etl:j3", "kind": "JOB", "namespace": "etl", "name": "j3"})));
    }

    async fn both_directions_do_not_wander_into_siblings(app) {
        // x feeds j_a (-> a_out) and j_b (-> b_out). From a_out, BOTH must not reach b_out.
        app.ingest(&run_event("COMPLETE", "2024-01-01T00:00:00Z", &run_id(), ("etl", "j_a"), vec![dataset("wh", "x")], vec![dataset("wh", "a_out")])).await;
        app.ingest(&run_event("COMPLETE", "2024-01-01T00:00:00Z", &run_id(), ("etl", "j_b"), vec![dataset("wh", "x")], vec![dataset("wh", "b_out")])).await;
        let g = lineage(&app, "dataset:wh:a_out", "BOTH", 5, None).await;
        assert_eq!(node_ids(&g), vec!["dataset:wh:a_out", "dataset:wh:x", "job:etl:j_a"]);
    }

    async fn namespaces_with_colons_resolve(app) {
        let ns = "postgres://db:5432";
        app.ingest(&run_event("COMPLETE", "2024-01-01T00:00:00Z", &run_id(), ("airflow", "dag.task"), vec![dataset(ns, "shop.public.orders")], vec![dataset("s3://bucket", "exports/orders:v1")])).await;
        let g = lineage(&app, "dataset:postgres://db:5432:shop.public.orders", "DOWNSTREAM", 1, None).await;
        assert_eq!(node_ids(&g), vec![
            "dataset:postgres://db:5432:shop.public.orders",
            "dataset:s3://bucket:exports/orders:v1",
            "job:airflow:dag.task",
        ]);
        let node = g["nodes"].as_array().expect("nodes").iter().find(|n| n["name"] == "shop.public.orders").cloned();
        assert_eq!(node.map(|n| n["namespace"].clone()), Some(json!(ns)));
        // The name may contain ':' as well: every split is tried.
        let g = lineage(&app, "dataset:s3://bucket:exports/orders:v1", "UPSTREAM", 1, None).await;
        assert_eq!(node_ids(&g).len(), 3);
    }

    async fn as_of_answers_with_the_edges_of_that_time(app) {
        // Day 1 the job reads old_src; day 3 it switches to new_src.
        app.ingest(&run_event("COMPLETE", "2024-01-01T00:00:00Z", &run_id(), ("etl", "load"), vec![dataset("wh", "old_src")], vec![dataset("wh", "target")])).await;
        app.ingest(&run_event("COMPLETE", "2024-01-03T00:00:00Z", &run_id(), ("etl", "load"), vec![dataset("wh", "new_src")], vec![dataset("wh", "target")])).await;

        let now = lineage(&app, "dataset:wh:target", "UPSTREAM", 1, None).await;
        assert_eq!(edge_list(&now), vec!["dataset:wh:new_src -> job:etl:load", "job:etl:load -> dataset:wh:target"]);

        let day2 = lineage(&app, "dataset:wh:target", "UPSTREAM", 1, Some("2024-01-02T00:00:00Z")).await;
        assert_eq!(edge_list(&day2), vec!["dataset:wh:old_src -> job:etl:load", "job:etl:load -> dataset:wh:target"]);

        let before = lineage(&app, "dataset:wh:target", "UPSTREAM", 1, Some("2023-12-31T00:00:00Z")).await;
        assert_eq!(edge_list(&before), Vec::<String>::new());

        // The job's inputs are its most recent run's.
        let data = app.query(r#"{ job(namespace: "etl", name: "load") { inputs { name } runs { edges { node { inputs { name } } } } } }"#, json!({})).await;
        assert_eq!(data["job"]["inputs"], json!([{"name": "new_src"}]));
        assert_eq!(data["job"]["runs"]["edges"][1]["node"]["inputs"], json!([{"name": "old_src"}]));
    }

    async fn current_lineage_follows_changes_made_after_it_was_first_read(app) {
        app.ingest(&run_event("COMPLETE", "2024-01-01T00:00:00Z", &run_id(), ("etl", "load"), vec![dataset("wh", "old_src")], vec![dataset("wh", "target")])).await;
        let first = lineage(&app, "dataset:wh:target", "UPSTREAM", 1, None).await;
        assert_eq!(edge_list(&first), vec!["dataset:wh:old_src -> job:etl:load", "job:etl:load -> dataset:wh:target"]);

        // The job switches inputs: old_src's edge is retired, new_src's added.
        app.ingest(&run_event("COMPLETE", "2024-01-03T00:00:00Z", &run_id(), ("etl", "load"), vec![dataset("wh", "new_src")], vec![dataset("wh", "target")])).await;
        let switched = lineage(&app, "dataset:wh:target", "UPSTREAM", 1, None).await;
        assert_eq!(edge_list(&switched), vec!["dataset:wh:new_src -> job:etl:load", "job:etl:load -> dataset:wh:target"]);

        // A late run from day 2 adds history, not a current edge.
        app.ingest(&run_event("COMPLETE", "2024-01-02T00:00:00Z", &run_id(), ("etl", "load"), vec![dataset("wh", "late_src")], vec![dataset("wh", "target")])).await;
        let after_late = lineage(&app, "dataset:wh:target", "UPSTREAM", 1, None).await;
        assert_eq!(edge_list(&after_late), edge_list(&switched));

        // A new job downstream, with nodes never seen before.
        app.ingest(&run_event("COMPLETE", "2024-01-03T00:00:00Z", &run_id(), ("etl", "report"), vec![dataset("wh", "target")], vec![dataset("wh", "report")])).await;
        let down = lineage(&app, "dataset:wh:new_src", "DOWNSTREAM", 5, None).await;
        assert_eq!(node_ids(&down), vec!["dataset:wh:new_src", "dataset:wh:report", "dataset:wh:target", "job:etl:load", "job:etl:report"]);
        let old = lineage(&app, "dataset:wh:old_src", "DOWNSTREAM", 5, None).await;
        assert_eq!(node_ids(&old), vec!["dataset:wh:old_src"]);
    }

    async fn a_replica_answers_lineage_with_edges_written_through_another(app) {
        chain(&app).await;
        let replica = app.replica().await;
        let data = replica.query(LINEAGE, json!({"id": "dataset:wh:a", "dir": "DOWNSTREAM", "depth": 20})).await;
        assert_eq!(node_ids(&data["lineage"]).len(), 7);
        // j3 now reads b instead of c, written through the first server.
        app.ingest(&run_event("COMPLETE", "2024-02-01T00:00:00Z", &run_id(), ("etl", "j3"), vec![dataset("wh", "b")], vec![dataset("wh", "d")])).await;
        let data = replica.query(LINEAGE, json!({"id": "dataset:wh:c", "dir": "DOWNSTREAM", "depth": 20})).await;
        assert_eq!(node_ids(&data["lineage"]), vec!["dataset:wh:c"]);
        let data = replica.query(LINEAGE, json!({"id": "dataset:wh:d", "dir": "UPSTREAM", "depth": 1})).await;
        assert_eq!(edge_list(&data["lineage"]), vec!["dataset:wh:b -> job:etl:j3", "job:etl:j3 -> dataset:wh:d"]);
        replica.stop().await;
    }

    async fn a_late_older_run_does_not_replace_current_lineage(app) {
        app.ingest(&run_event("COMPLETE", "2024-01-03T00:00:00Z", &run_id(), ("etl", "load"), vec![dataset("wh", "new_src")], vec![dataset("wh", "target")])).await;
        // Delivered late: a run from day 1 that read old_src.
        app.ingest(&run_event("COMPLETE", "2024-01-01T00:00:00Z", &run_id(), ("etl", "load"), vec![dataset("wh", "old_src")], vec![dataset("wh", "target")])).await;
        let now = lineage(&app, "dataset:wh:target", "UPSTREAM", 1, None).await;
        assert_eq!(edge_list(&now), vec!["dataset:wh:new_src -> job:etl:load", "job:etl:load -> dataset:wh:target"]);
        let day2 = lineage(&app, "dataset:wh:target", "UPSTREAM", 1, Some("2024-01-02T00:00:00Z")).await;
        assert_eq!(edge_list(&day2), vec!["dataset:wh:old_src -> job:etl:load", "job:etl:load -> dataset:wh:target"]);
        let data = app.query(r#"{ job(namespace: "etl", name: "load") { latestRun { inputs { name } } } }"#, json!({})).await;
        assert_eq!(data["job"]["latestRun"]["inputs"], json!([{"name": "new_src"}]));
    }

    async fn run_state_follows_event_time_not_arrival(app) {
        let run = run_id();
        let job = ("etl", "ooo");
        app.ingest(&run_event("COMPLETE", "2024-01-01T00:10:00Z", &run, job, vec![], vec![dataset("wh", "o")])).await;
        app.ingest(&run_event("RUNNING", "2024-01-01T00:05:00Z", &run, job, vec![], vec![])).await;
        app.ingest(&run_event("START", "2024-01-01T00:00:00Z", &run, job, vec![dataset("wh", "i")], vec![])).await;
        let data = app.query("query($id: ID!) { run(id: $id) { state stateTime startedAt endedAt inputs { name } outputs { name } } }", json!({"id": run})).await;
        assert_eq!(data["run"], json!({
            "state": "COMPLETE",
            "stateTime": "2024-01-01T00:10:00+00:00",
            "startedAt": "2024-01-01T00:00:00+00:00",
            "endedAt": "2024-01-01T00:10:00+00:00",
            "inputs": [{"name": "i"}],
            "outputs": [{"name": "o"}],
        }));
        // The same run's events add up to one IO set: both edges are current.
        let g = lineage(&app, "job:etl:ooo", "BOTH", 0, None).await;
        assert_eq!(edge_list(&g), vec!["dataset:wh:i -> job:etl:ooo", "job:etl:ooo -> dataset:wh:o"]);
    }

    async fn failed_run_keeps_error_message_and_does_not_count_as_a_write(app) {
        let run = run_id();
        let mut event = run_event("FAIL", "2024-01-01T00:10:00Z", &run, ("etl", "broken"), vec![], vec![dataset("wh", "never_written")]);
        event["run"]["facets"]["errorMessage"] = json!({"_producer": "x", "_schemaURL": "y", "message": "division by zero", "programmingLanguage": "python"});
        app.ingest(&event).await;
        let data = app.query("query($id: ID!) { run(id: $id) { state errorMessage } }", json!({"id": run})).await;
        assert_eq!(data["run"], json!({"state": "FAIL", "errorMessage": "division by zero"}));
        let data = app.query(r#"{ dataset(namespace: "wh", name: "never_written") { lastWrittenAt } }"#, json!({})).await;
        assert_eq!(data["dataset"]["lastWrittenAt"], Value::Null);
    }

    async fn run_ids_in_any_form_find_the_same_run(app) {
        let canonical = "0190b2a4-7b1e-7c3a-9f00-aabbccddeeff";
        app.ingest(&run_event("START", "2024-01-01T00:00:00Z", "{0190B2A4-7B1E-7C3A-9F00-AABBCCDDEEFF}", ("etl", "ids"), vec![], vec![])).await;
        for form in [canonical, "urn:uuid:0190b2a4-7b1e-7c3a-9f00-aabbccddeeff", "0190b2a47b1e7c3a9f00aabbccddeeff"] {
            let data = app.query("query($id: ID!) { run(id: $id) { id rawId } }", json!({"id": form})).await;
            assert_eq!(data["run"]["id"], canonical, "{form}");
            assert_eq!(data["run"]["rawId"], "{0190B2A4-7B1E-7C3A-9F00-AABBCCDDEEFF}");
        }
        // Not a UUID at all: stored under a stable name-based UUID, found by the same string.
        app.ingest(&run_event("START", "2024-01-01T00:00:00Z", "airflow-run-42", ("etl", "ids2"), vec![], vec![])).await;
        let data = app.query(r#"{ run(id: "airflow-run-42") { rawId job { name } } }"#, json!({})).await;
        assert_eq!(data["run"], json!({"rawId": "airflow-run-42", "job": {"name": "ids2"}}));
    }

    async fn versions_change_with_schema_not_with_runs(app) {
        let with_schema = |cols: &[(&str, &str)]| {
            let mut d = dataset("wh", "versioned");
            d["facets"]["schema"] = schema(cols);
            d
        };
        for _ in 0..3 {
            app.ingest(&run_event("COMPLETE", "2024-01-01T00:00:00Z", &run_id(), ("etl", "w"), vec![], vec![with_schema(&[("id", "INT")])])).await;
        }
        app.ingest(&run_event("COMPLETE", "2024-01-02T00:00:00Z", &run_id(), ("etl", "w"), vec![], vec![with_schema(&[("id", "BIGINT"), ("name", "TEXT")])])).await;
        app.ingest(&run_event("COMPLETE", "2024-01-03T00:00:00Z", &run_id(), ("etl", "w"), vec![], vec![dataset("wh", "versioned")])).await;
        let data = app.query(r#"{ dataset(namespace: "wh", name: "versioned") { schema { name type } versions { schema { name type } } currentVersion { schema { name } } } }"#, json!({})).await;
        let ds = &data["dataset"];
        assert_eq!(ds["versions"].as_array().map(Vec::len), Some(2));
        assert_eq!(ds["schema"], json!([{"name": "id", "type": "BIGINT"}, {"name": "name", "type": "TEXT"}]));
        assert_eq!(ds["versions"][1]["schema"], json!([{"name": "id", "type": "INT"}]));
        assert_eq!(ds["currentVersion"]["schema"], json!([{"name": "id"}, {"name": "name"}]));
    }

    async fn symlinks_make_aliases_that_resolve_to_one_dataset(app) {
        let mut table = dataset("hive://metastore", "default.orders");
        table["facets"]["symlinks"] = json!({"_producer": "x", "_schemaURL": "y", "identifiers": [{"namespace": "s3://lake", "name": "warehouse/orders", "type": "TABLE"}]});
        app.ingest(&run_event("COMPLETE", "2024-01-01T00:00:00Z", &run_id(), ("spark", "write"), vec![], vec![table])).await;
        // A later event names the physical location: it lands on the same dataset.
        app.ingest(&run_event("COMPLETE", "2024-01-02T00:00:00Z", &run_id(), ("spark", "read"), vec![dataset("s3://lake", "warehouse/orders")], vec![dataset("wh", "report")])).await;
        let data = app.query(r#"{ dataset(namespace: "s3://lake", name: "warehouse/orders") { namespace name aliases { namespace name } consumers { name } producers { name } } }"#, json!({})).await;
        assert_eq!(data["dataset"], json!({
            "namespace": "hive://metastore",
            "name": "default.orders",
            "aliases": [{"namespace": "s3://lake", "name": "warehouse/orders"}],
            "consumers": [{"name": "read"}],
            "producers": [{"name": "write"}],
        }));
        let g = lineage(&app, "dataset:wh:report", "UPSTREAM", 2, None).await;
        assert!(node_ids(&g).contains(&"job:spark:write".to_string()), "{g}");
        // A walk from the alias starts at the dataset it names.
        let g = lineage(&app, "dataset:s3://lake:warehouse/orders", "BOTH", 1, None).await;
        assert_eq!(node_ids(&g), vec!["dataset:hive://metastore:default.orders", "dataset:wh:report", "job:spark:read", "job:spark:write"]);
    }

    async fn parent_facet_links_task_to_dag(app) {
        let dag_run = run_id();
        app.ingest(&run_event("START", "2024-01-01T00:00:00Z", &dag_run, ("airflow", "daily_dag"), vec![], vec![])).await;
        let task_run = run_id();
        let mut task = run_event("START", "2024-01-01T00:01:00Z", &task_run, ("airflow", "daily_dag.extract"), vec![], vec![]);
        task["run"]["facets"]["parent"] = json!({"_producer": "x", "_schemaURL": "y", "run": {"runId": dag_run}, "job": {"namespace": "airflow", "name": "daily_dag"}});
        app.ingest(&task).await;
        let data = app.query(r#"{ job(namespace: "airflow", name: "daily_dag.extract") { parent { name children { name } } latestRun { parentRun { id job { name } } } } }"#, json!({})).await;
        assert_eq!(data["job"], json!({
            "parent": {"name": "daily_dag", "children": [{"name": "daily_dag.extract"}]},
            "latestRun": {"parentRun": {"id": dag_run, "job": {"name": "daily_dag"}}},
        }));
    }

    async fn static_lineage_from_job_and_dataset_events(app) {
        let job_event = json!({
            "eventTime": "2024-01-01T00:00:00Z",
            "job": {"namespace": "static", "name": "declared", "facets": {"sql": {"_producer": "x", "_schemaURL": "y", "query": "select 1"}}},
            "inputs": [dataset("wh", "s_in")],
            "outputs": [dataset("wh", "s_out")],
            "producer": "x", "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent"
        });
        app.ingest(&job_event).await;
        let mut ds = dataset("wh", "s_out");
        ds["facets"]["schema"] = schema(&[("k", "INT")]);
        app.ingest(&json!({"eventTime": "2024-01-01T00:00:00Z", "dataset": ds, "producer": "x", "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent"})).await;
        let data = app.query(r#"{ job(namespace: "static", name: "declared") { facets inputs { name } outputs { name schema { name } } runs { edges { node { id } } } } }"#, json!({})).await;
        assert_eq!(data["job"]["inputs"], json!([{"name": "s_in"}]));
        assert_eq!(data["job"]["outputs"], json!([{"name": "s_out", "schema": [{"name": "k"}]}]));
        assert_eq!(data["job"]["facets"]["sql"]["query"], "select 1");
        assert_eq!(data["job"]["runs"]["edges"], json!([]));
    }

    async fn column_lineage_walks_columns_transitively(app) {
        let cll = |inputs: Vec<(&str, &str)>, out_field: &str| {
            let input_fields: Vec<Value> = inputs
                .iter()
                .map(|(name, field)| json!({"namespace": "wh", "name": name, "field": field, "transformations": [{"type": "DIRECT", "subtype": "TRANSFORMATION", "description": "", "masking": false}]}))
                .collect();
            json!({"_producer": "x", "_schemaURL": "y", "fields": { out_field: { "inputFields": input_fields } }})
        };
        let mut stg = dataset("wh", "stg");
        stg["facets"]["columnLineage"] = cll(vec![("raw", "amount_cents")], "amount");
        app.ingest(&run_event("COMPLETE", "2024-01-01T00:00:00Z", &run_id(), ("dbt", "stg"), vec![dataset("wh", "raw")], vec![stg])).await;
        let mut mart = dataset("wh", "mart");
        mart["facets"]["columnLineage"] = cll(vec![("stg", "amount"), ("stg", "fx_rate")], "revenue");
        app.ingest(&run_event("COMPLETE", "2024-01-01T00:00:00Z", &run_id(), ("dbt", "mart"), vec![dataset("wh", "stg")], vec![mart])).await;

        let query = r#"query($name: String!, $field: String, $dir: LineageDirection!, $depth: Int!) {
            columnLineage(namespace: "wh", name: $name, field: $field, direction: $dir, depth: $depth) {
                from { name field } to { name field } transformationType } }"#;
        let data = app.query(query, json!({"name": "mart", "field": "revenue", "dir": "UPSTREAM", "depth": 10})).await;
        assert_eq!(data["columnLineage"], json!([
            {"from": {"name": "stg", "field": "amount"}, "to": {"name": "mart", "field": "revenue"}, "transformationType": "DIRECT"},
            {"from": {"name": "stg", "field": "fx_rate"}, "to": {"name": "mart", "field": "revenue"}, "transformationType": "DIRECT"},
            {"from": {"name": "raw", "field": "amount_cents"}, "to": {"name": "stg", "field": "amount"}, "transformationType": "DIRECT"},
        ]));
        let data = app.query(query, json!({"name": "mart", "field": "revenue", "dir": "UPSTREAM", "depth": 1})).await;
        assert_eq!(data["columnLineage"].as_array().map(Vec::len), Some(2));
        let data = app.query(query, json!({"name": "raw", "field": "amount_cents", "dir": "DOWNSTREAM", "depth": 10})).await;
        let targets: Vec<String> = data["columnLineage"].as_array().expect("list").iter().map(|e| format!("{}.{}", e["to"]["name"].as_str().unwrap_or(""), e["to"]["field"].as_str().unwrap_or(""))).collect();
        assert_eq!(targets, vec!["mart.revenue", "stg.amount"]);
        let (code, _) = app.query_error_code(r#"{ columnLineage(namespace: "wh", name: "missing") { to { field } } }"#, json!({})).await;
        assert_eq!(code, "NOT_FOUND");
    }

    async fn a_column_edge_reported_twice_in_one_event_is_stored_once(app) {
        // Once with an empty transformation list and once without one: the same edge.
        let mut out = dataset("wh", "stg");
        out["facets"]["columnLineage"] = json!({"_producer": "x", "_schemaURL": "y", "fields": {"amount": {"inputFields": [
            {"namespace": "wh", "name": "raw", "field": "amount_cents"},
            {"namespace": "wh", "name": "raw", "field": "amount_cents", "transformations": []},
            {"namespace": "wh", "name": "raw", "field": "currency", "transformations": [{"type": "INDIRECT", "subtype": "FILTER"}]},
        ]}}});
        app.ingest(&run_event("COMPLETE", "2024-01-01T00:00:00Z", &run_id(), ("dbt", "stg"), vec![dataset("wh", "raw")], vec![out])).await;
        let data = app.query(
            r#"{ columnLineage(namespace: "wh", name: "stg", field: "amount", direction: UPSTREAM, depth: 1) { from { field } transformationType } }"#,
            json!({}),
        ).await;
        assert_eq!(data["columnLineage"], json!([
            {"from": {"field": "amount_cents"}, "transformationType": null},
            {"from": {"field": "currency"}, "transformationType": "INDIRECT"},
        ]));
    }

    async fn facets_merge_facet_by_facet_whatever_their_names(app) {
        let facet = |fields: Value| {
            let mut facet = json!({"_producer": "x", "_schemaURL": "y"});
            if let (Some(facet), Some(fields)) = (facet.as_object_mut(), fields.as_object()) {
                facet.extend(fields.clone());
            }
            facet
        };
        let write = |facets: Value| {
            let mut out = dataset("wh", "facety");
            out["facets"] = facets;
            run_event("COMPLETE", "2024-01-01T00:00:00Z", &run_id(), ("etl", "facety"), vec![], vec![out])
        };
        app.ingest(&write(json!({
            "documentation": facet(json!({"description": "v1", "extra": {"a": 1}})),
            "my.facet name": facet(json!({"old": true})),
        }))).await;
        app.ingest(&write(json!({
            "documentation": facet(json!({"description": "v2"})),
            "my.facet name": facet(json!({"x": null, "y": [1, 2]})),
        }))).await;
        // Names that SQLite's JSON paths cannot hold take another way there.
        app.ingest(&write(json!({
            "quote\"d": facet(json!({"v": 1})),
            "back\\slash": facet(json!({"z": true})),
        }))).await;
        app.ingest(&write(json!({"quote\"d": facet(json!({"v": 2}))}))).await;
        // More facets than one SQLite function call takes arguments for.
        let many: serde_json::Map<String, Value> = (0..600).map(|i| (format!("custom_{i}"), facet(json!({"i": i})))).collect();
        app.ingest(&write(Value::Object(many))).await;
        let data = app.query(r#"{ dataset(namespace: "wh", name: "facety") { facets } }"#, json!({})).await;
        // A facet sent again replaces the stored one whole (its `extra` is gone); the others
        // stay as they were sent, nulls included, whatever characters their names hold.
        let facets = &data["dataset"]["facets"];
        assert_eq!(facets.as_object().map(serde_json::Map::len), Some(604), "{facets}");
        assert_eq!(facets["custom_599"], facet(json!({"i": 599})));
        let named: serde_json::Map<String, Value> =
            facets.as_object().into_iter().flatten().filter(|(name, _)| !name.starts_with("custom_")).map(|(k, v)| (k.clone(), v.clone())).collect();
        assert_eq!(Value::Object(named), json!({
            "documentation": facet(json!({"description": "v2"})),
            "my.facet name": facet(json!({"x": null, "y": [1, 2]})),
            "quote\"d": facet(json!({"v": 2})),
            "back\\slash": facet(json!({"z": true})),
        }));
    }

    async fn a_dataset_named_again_unchanged_keeps_its_facets_and_is_marked_updated(app) {
        let mut raw = dataset("wh", "raw");
        raw["facets"]["schema"] = schema(&[("id", "BIGINT")]);
        app.ingest(&run_event("COMPLETE", "2024-01-01T00:00:00Z", &run_id(), ("etl", "load"), vec![raw.clone()], vec![dataset("wh", "out")])).await;
        let query = r#"{ dataset(namespace: "wh", name: "raw") { updatedAt schema { name } facets } }"#;
        let first = app.query(query, json!({})).await;
        assert_eq!(first["dataset"]["schema"], json!([{"name": "id"}]));

        // Named again exactly as it is: nothing of it changes but when it was last updated.
        app.clock.advance(chrono::Duration::hours(1));
        app.ingest(&run_event("COMPLETE", "2024-01-02T00:00:00Z", &run_id(), ("etl", "load"), vec![raw], vec![dataset("wh", "out")])).await;
        let second = app.query(query, json!({})).await;
        assert_eq!(second["dataset"]["schema"], first["dataset"]["schema"]);
        assert_eq!(second["dataset"]["facets"], first["dataset"]["facets"]);
        let at = |v: &Value| v["dataset"]["updatedAt"].as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
        assert_eq!(at(&second).zip(at(&first)).map(|(b, a)| b - a), Some(chrono::Duration::hours(1)));

        // A facet that changes without a new version is stored.
        let mut raw = dataset("wh", "raw");
        raw["facets"]["schema"] = schema(&[("id", "BIGINT")]);
        raw["facets"]["documentation"] = json!({"_producer": "x", "_schemaURL": "y", "description": "raw ids"});
        app.ingest(&run_event("COMPLETE", "2024-01-02T12:00:00Z", &run_id(), ("etl", "load"), vec![raw], vec![dataset("wh", "out")])).await;
        let documented = app.query(query, json!({})).await;
        assert_eq!(documented["dataset"]["facets"]["documentation"]["description"], "raw ids");
        assert_eq!(documented["dataset"]["schema"], first["dataset"]["schema"]);

        // A new schema is stored.
        let mut raw = dataset("wh", "raw");
        raw["facets"]["schema"] = schema(&[("id", "BIGINT"), ("email", "TEXT")]);
        app.ingest(&run_event("COMPLETE", "2024-01-03T00:00:00Z", &run_id(), ("etl", "load"), vec![raw], vec![dataset("wh", "out")])).await;
        let third = app.query(query, json!({})).await;
        assert_eq!(third["dataset"]["schema"], json!([{"name": "id"}, {"name": "email"}]));
    }

    async fn lineage_follows_a_database_restored_to_an_older_graph(app) {
        chain(&app).await;
        let before = lineage(&app, "dataset:wh:a", "DOWNSTREAM", 20, None).await;
        assert_eq!(node_ids(&before).len(), 7);
        // As if a backup taken before j3 existed were restored under the running server.
        let db = sea_orm::Database::connect(&app.database_url).await.expect("connect");
        for statement in [
            "DELETE FROM lineage_edges WHERE job_id = (SELECT id FROM jobs WHERE name = 'j3')",
            "UPDATE graph_state SET generation = 1",
        ] {
            sea_orm::ConnectionTrait::execute_unprepared(&db, statement).await.expect("restore");
        }
        let after = lineage(&app, "dataset:wh:a", "DOWNSTREAM", 20, None).await;
        assert_eq!(node_ids(&after), vec!["dataset:wh:a", "dataset:wh:b", "dataset:wh:c", "job:etl:j1", "job:etl:j2"]);
    }
}
