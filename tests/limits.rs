//! Every configurable limit, exceeded once: the answer is a clear 4xx/503 or GraphQL error,
//! and what was refused had no effect.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use common::events::{dataset, run_event, run_id};

/// Starts a POST whose body never finishes arriving: the server is left waiting for it.
async fn start_slow_upload(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let head = "POST /api/v1/lineage HTTP/1.1\r\nHost: weir\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"eventType\":";
    stream.write_all(head.as_bytes()).await.expect("write");
    stream
}

/// Reads one HTTP/1.1 response: status, headers (lower-case names) and body.
async fn read_response(stream: &mut TcpStream) -> (u16, Vec<(String, String)>, Value) {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = String::from_utf8_lossy(&buffer).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let headers: Vec<(String, String)> = head
                .lines()
                .skip(1)
                .filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string())))
                .collect();
            let length: usize = headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
            if body.len() >= length {
                let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
                return (status, headers, serde_json::from_str(&body[..length]).unwrap_or(Value::Null));
            }
        }
        assert!(Instant::now() < deadline, "no complete response: {text}");
        let n = tokio::time::timeout(Duration::from_secs(20), stream.read(&mut chunk)).await.expect("read timed out").expect("read");
        assert!(n > 0, "connection closed before a complete response: {text}");
        buffer.extend_from_slice(&chunk[..n]);
    }
}

fn aliases(n: usize) -> String {
    let fields: String = (0..n).map(|i| format!("a{i}: namespaces {{ name }} ")).collect();
    format!("{{ {fields} }}")
}

configured_backend_tests! {
    async fn bodies_over_the_limit_get_413_on_ingestion_and_graphql(app) with |c| c.max_body_bytes = 2048 => {
        let big = "x".repeat(4096);
        let mut event = run_event("START", "2024-01-01T00:00:00Z", &run_id(), ("limits", "big"), vec![], vec![]);
        event["job"]["facets"] = json!({ "documentation": { "description": big } });
        let response = app.post_event(&event).await;
        assert_eq!(response.status().as_u16(), 413);
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"]["code"], "PAYLOAD_TOO_LARGE");

        let query = format!("{{ search(query: \"{big}\") {{ id }} }}");
        let response = app.client.post(app.url("/graphql")).json(&json!({"query": query})).send().await.expect("request");
        assert_eq!(response.status().as_u16(), 413);
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"]["code"], "PAYLOAD_TOO_LARGE");
        assert_eq!(app.store.raw_event_count().await.expect("count"), 0);
        // Under the limit, both work.
        app.query("{ namespaces { name } }", json!({})).await;
    }

    async fn aliases_over_the_limit_are_refused_before_running(app) with |c| c.graphql_max_aliases = 3 => {
        let data = app.query(&aliases(3), json!({})).await;
        assert_eq!(data["a2"], json!([]));
        let (code, message) = app.query_error_code(&aliases(4), json!({})).await;
        assert_eq!(code, "LIMIT_EXCEEDED");
        assert!(message.contains("4 aliases") && message.contains("limit of 3"), "{message}");
        // Aliases in fragments count too, and a refused mutation changes nothing.
        let mutation = r#"mutation { a: deleteRule(id: "x") b: deleteRule(id: "y") ...F } fragment F on Mutation { c: deleteRule(id: "z") d: deleteRule(id: "w") }"#;
        let (code, _) = app.query_error_code(mutation, json!({})).await;
        assert_eq!(code, "LIMIT_EXCEEDED");
    }

    async fn graphql_depth_over_the_limit_is_refused(app) with |c| c.graphql_max_depth = 3 => {
        app.query(r#"{ datasets { edges { cursor } } }"#, json!({})).await;
        let response = app.graphql(r#"{ datasets { edges { node { producers { name } } } } }"#, json!({})).await;
        let message = response["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("too deep") || message.contains("depth"), "{response}");
        assert!(response["data"].is_null(), "{response}");
    }

    async fn graphql_complexity_over_the_limit_is_refused(app) with |c| { c.graphql_max_complexity = 100; c.graphql_max_aliases = 1000 } => {
        app.query(&aliases(10), json!({})).await;
        let response = app.graphql(&aliases(200), json!({})).await;
        let message = response["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("complex"), "{response}");
        assert!(response["data"].is_null(), "{response}");
    }

    async fn lineage_depth_and_page_size_over_the_limit_are_bad_user_input(app) with |c| { c.max_lineage_depth = 5; c.max_page_size = 10 } => {
        app.ingest(&run_event("COMPLETE", "2024-01-01T00:00:00Z", &run_id(), ("limits", "j"), vec![dataset("limits", "a")], vec![dataset("limits", "b")])).await;
        let data = app.query(r#"{ lineage(nodeId: "dataset:limits:a", depth: 5) { nodes { id } } }"#, json!({})).await;
        assert_eq!(data["lineage"]["nodes"].as_array().map(Vec::len), Some(3));
        let (code, message) = app.query_error_code(r#"{ lineage(nodeId: "dataset:limits:a", depth: 6) { nodes { id } } }"#, json!({})).await;
        assert_eq!(code, "BAD_USER_INPUT");
        assert!(message.contains("maximum lineage depth 5"), "{message}");
        app.query(r#"{ datasets(first: 10) { edges { cursor } } }"#, json!({})).await;
        let (code, message) = app.query_error_code(r#"{ datasets(first: 11) { edges { cursor } } }"#, json!({})).await;
        assert_eq!(code, "BAD_USER_INPUT");
        assert!(message.contains("maximum page size 10"), "{message}");
    }

    async fn a_request_over_the_timeout_gets_503_and_stores_nothing(app) with |c| c.request_timeout = Duration::from_millis(300) => {
        let started = Instant::now();
        let mut slow = start_slow_upload(app.addr).await;
        let (status, _, body) = read_response(&mut slow).await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["error"]["code"], "TIMEOUT", "{body}");
        assert!(body["error"]["message"].as_str().unwrap_or_default().contains("300ms"), "{body}");
        assert!(started.elapsed() >= Duration::from_millis(250), "answered before the timeout");
        assert_eq!(app.store.raw_event_count().await.expect("count"), 0);
        // A normal request is unaffected.
        app.ingest(&run_event("START", "2024-01-01T00:00:00Z", &run_id(), ("limits", "fast"), vec![], vec![])).await;
    }

    async fn requests_over_the_concurrency_limit_get_503_with_retry_after(app) with |c| c.max_concurrent_requests = 1 => {
        let slow = start_slow_upload(app.addr).await;
        // Let the server take the slow request's permit.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let response = app.client.get(app.url("/readyz")).send().await.expect("request");
        assert_eq!(response.status().as_u16(), 503);
        assert_eq!(response.headers()["retry-after"], "1");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"]["code"], "OVERLOADED", "{body}");
        // The liveness probe is exempt: an overloaded server is not a dead one.
        let health = app.client.get(app.url("/healthz")).send().await.expect("request");
        assert_eq!(health.status().as_u16(), 200);
        // When the slow client goes away, its permit is released.
        drop(slow);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let status = app.client.get(app.url("/readyz")).send().await.expect("request").status().as_u16();
            if status == 200 {
                break;
            }
            assert!(Instant::now() < deadline, "the permit was never released (last status {status})");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
