//! The GraphQL surface itself: the checked-in schema, GraphiQL, limits and error codes.

mod common;

use serde_json::json;

use common::events::{dataset, run_event, run_id};

/// `graphql/schema.graphql` must be exactly what the code serves. When this fails, regenerate
/// it with `cargo run -- schema > graphql/schema.graphql` and review the diff.
#[test]
fn checked_in_schema_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/graphql/schema.graphql");
    let checked_in = std::fs::read_to_string(path).expect("graphql/schema.graphql exists");
    let served = weir::api::schema_sdl();
    assert!(
        checked_in == served,
        "graphql/schema.graphql differs from the schema the code serves; \
         run `cargo run -- schema > graphql/schema.graphql`"
    );
}

backend_tests! {
    async fn a_nul_character_in_an_argument_is_never_a_server_error(app) {
        let query = "query($ns: String!) { dataset(namespace: $ns, name: \"orders\") { id } }";
        let response = app.graphql(query, json!({"ns": "wh\u{0}"})).await;
        match app.backend {
            // SQLite stores and compares such text: there is simply no such dataset.
            common::Backend::Sqlite => assert_eq!(response["data"]["dataset"], serde_json::Value::Null, "{response}"),
            // PostgreSQL cannot hold it in text: a bad request, not an internal error.
            common::Backend::Postgres => {
                assert_eq!(response["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{response}");
                assert!(response["errors"][0]["message"].as_str().is_some_and(|m| m.contains("NUL")), "{response}");
            }
        }
        // The gate's query parameters too.
        let status = app.client.get(app.url("/api/v1/gate?namespace=etl%00&job=j")).send().await.expect("gate request").status().as_u16();
        match app.backend {
            common::Backend::Sqlite => assert_eq!(status, 200),
            common::Backend::Postgres => assert_eq!(status, 400),
        }
        // And the lineage endpoint's node id: no such node, or a bad request.
        let status = app.client.get(app.url("/api/v1/lineage?nodeId=dataset:wh:a%00")).send().await.expect("lineage request").status().as_u16();
        match app.backend {
            common::Backend::Sqlite => assert_eq!(status, 404),
            common::Backend::Postgres => assert_eq!(status, 400),
        }
    }

    async fn browser_gets_graphiql_and_get_queries_work(app) {
        let page = app.client.get(app.url("/graphql")).header("accept", "text/html").send().await.expect("request");
        assert_eq!(page.status().as_u16(), 200);
        let html = page.text().await.expect("text");
        assert!(html.contains("graphiql"), "GraphiQL page expected");

        app.ingest(&run_event("START", "2024-01-01T00:00:00Z", &run_id(), ("ns", "getjob"), vec![], vec![])).await;
        let response = app
            .client
            .get(app.url("/graphql"))
            .query(&[("query", "{ namespaces { name } }")])
            .send()
            .await
            .expect("request");
        let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_string);
        assert_eq!(content_type.as_deref(), Some("application/graphql-response+json"));
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(body["data"]["namespaces"], json!([{"name": "ns"}]));
    }

    async fn unknown_lineage_node_is_not_found(app) {
        let (code, message) = app
            .query_error_code(r#"{ lineage(nodeId: "dataset:nowhere:nothing") { nodes { id } } }"#, json!({}))
            .await;
        assert_eq!(code, "NOT_FOUND");
        assert!(message.contains("dataset:nowhere:nothing"), "{message}");
    }

    async fn bad_arguments_are_bad_user_input(app) {
        app.ingest(&run_event("COMPLETE", "2024-01-01T00:00:00Z", &run_id(), ("ns", "j"), vec![dataset("ns", "a")], vec![])).await;
        let cases = [
            r#"{ lineage(nodeId: "table:ns:a") { nodes { id } } }"#,
            r#"{ lineage(nodeId: "dataset:ns:a", depth: -1) { nodes { id } } }"#,
            r#"{ lineage(nodeId: "dataset:ns:a", depth: 101) { nodes { id } } }"#,
            r#"{ datasets(first: 501) { edges { cursor } } }"#,
            r#"{ datasets(first: -3) { edges { cursor } } }"#,
            r#"{ datasets(after: "garbage") { edges { cursor } } }"#,
            r#"{ search(query: "  ") { id } }"#,
        ];
        for query in cases {
            let (code, message) = app.query_error_code(query, json!({})).await;
            assert_eq!(code, "BAD_USER_INPUT", "{query}: {message}");
            assert!(!message.is_empty());
        }
    }

    async fn too_deep_or_too_complex_queries_are_refused(app) {
        // Depth limit (16 by default): nest job -> inputs -> producers ... past it.
        let mut query = String::from("name");
        for _ in 0..10 {
            query = format!("producers {{ inputs {{ {query} }} }}");
        }
        let deep = format!(r#"{{ dataset(namespace: "a", name: "b") {{ {query} }} }}"#);
        let response = app.graphql(&deep, json!({})).await;
        let message = response["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("too deep") || message.contains("depth"), "{response}");
        assert!(response["data"].is_null());

        // Thousands of aliases: refused by the alias limit before complexity is computed
        // (complexity itself is tested with a raised alias limit in tests/limits.rs).
        let fields: String = (0..6000).map(|i| format!("a{i}: namespaces {{ name }} ")).collect();
        let response = app.graphql(&format!("{{ {fields} }}"), json!({})).await;
        let message = response["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("aliases"), "{message}");
    }

    async fn pagination_walks_every_dataset_once(app) {
        let outputs: Vec<_> = (0..7).map(|i| dataset("pages", &format!("t{i}"))).collect();
        app.ingest(&run_event("COMPLETE", "2024-01-01T00:00:00Z", &run_id(), ("pages", "writer"), vec![], outputs)).await;
        let mut after: Option<String> = None;
        let mut names = Vec::new();
        loop {
            let data = app
                .query(
                    "query($after: String) { datasets(namespace: \"pages\", first: 3, after: $after) { edges { cursor node { name } } pageInfo { hasNextPage } } }",
                    json!({ "after": after }),
                )
                .await;
            let page = &data["datasets"];
            let edges = page["edges"].as_array().expect("edges");
            assert!(edges.len() <= 3);
            names.extend(edges.iter().map(|e| e["node"]["name"].as_str().unwrap_or_default().to_string()));
            if page["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = edges.last().and_then(|e| e["cursor"].as_str()).map(str::to_string);
        }
        names.sort();
        assert_eq!(names, (0..7).map(|i| format!("t{i}")).collect::<Vec<_>>());
    }

    async fn search_finds_datasets_and_jobs_case_insensitively(app) {
        app.ingest(&run_event("COMPLETE", "2024-01-01T00:00:00Z", &run_id(), ("etl", "Load_Orders"), vec![dataset("pg", "raw.ORDERS")], vec![dataset("pg", "mart.orders_daily")])).await;
        app.ingest(&run_event("COMPLETE", "2024-01-01T00:00:00Z", &run_id(), ("etl", "load_customers"), vec![], vec![dataset("pg", "mart.customers")])).await;
        let data = app.query(r#"{ search(query: "orders") { id kind name } }"#, json!({})).await;
        let ids: Vec<&str> = data["search"].as_array().expect("list").iter().filter_map(|r| r["id"].as_str()).collect();
        assert_eq!(ids, vec!["job:etl:Load_Orders", "dataset:pg:mart.orders_daily", "dataset:pg:raw.ORDERS"]);
        // `_` and `%` are literal characters, not wildcards.
        let data = app.query(r#"{ search(query: "%") { id } }"#, json!({})).await;
        assert_eq!(data["search"], json!([]));
        let data = app.query(r#"{ search(query: "_c") { id } }"#, json!({})).await;
        assert_eq!(data["search"], json!([{"id": "job:etl:load_customers"}]));
    }

    async fn malformed_graphql_body_gets_a_json_error(app) {
        let response = app.post_raw("/graphql", b"{\"query\": ".to_vec(), &[("content-type", "application/json")]).await;
        assert_eq!(response.status().as_u16(), 400);
        let body: serde_json::Value = response.json().await.expect("JSON error body");
        assert_eq!(body["error"]["code"], "BAD_USER_INPUT");
        assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("invalid GraphQL request")), "{body}");
    }
}
