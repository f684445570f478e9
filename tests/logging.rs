//! Logs: `--log-format json` writes one JSON object per line, and every line logged while
//! serving a request carries that request's id, kept from `x-request-id` or generated.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

const WEIR: &str = env!("CARGO_BIN_EXE_weir");

#[tokio::test]
async fn every_line_of_a_request_names_its_request_id() {
    let path = std::env::temp_dir().join(format!("weir-logs-{}.db", uuid::Uuid::new_v4().simple()));
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let mut child = Command::new(WEIR)
        .args(["serve", "--bind", "127.0.0.1:0", "--database-url", &url, "--log-format", "json"])
        .env("WEIR_LOG", "info,tower_http=debug")
        .stderr(Stdio::piped())
        .spawn()
        .expect("start weir");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut lines: Vec<Value> = Vec::new();
    let addr = loop {
        let line = rx.recv_timeout(Duration::from_secs(60)).expect("weir logs its address");
        let json: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        lines.push(json.clone());
        if json["message"] == "weir listening" {
            break json["addr"].as_str().unwrap_or_default().to_string();
        }
    };

    let client = reqwest::Client::new();
    let given = client
        .get(format!("http://{addr}/readyz"))
        .header("x-request-id", "req-from-the-caller")
        .send()
        .await
        .expect("request");
    assert_eq!(given.headers()["x-request-id"], "req-from-the-caller");
    let generated = client.get(format!("http://{addr}/graphql?query=%7Bnamespaces%7Bname%7D%7D")).send().await.expect("request");
    let generated_id = generated.headers()["x-request-id"].to_str().unwrap_or_default().to_string();
    assert!(uuid::Uuid::parse_str(&generated_id).is_ok(), "a UUID is generated: {generated_id}");

    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = child.wait();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(5)) {
        lines.push(serde_json::from_str(&line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}")));
    }
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }

    // Every line written inside a request span names its request; both requests logged.
    let in_requests: Vec<&Value> = lines.iter().filter(|l| l["span"]["name"] == "request").collect();
    assert!(in_requests.iter().all(|l| l["span"]["request_id"].is_string()), "{in_requests:#?}");
    for id in ["req-from-the-caller", generated_id.as_str()] {
        let of_request: Vec<&&Value> = in_requests.iter().filter(|l| l["span"]["request_id"] == id).collect();
        assert!(of_request.len() >= 2, "request {id}: started and finished lines expected, got {of_request:#?}");
    }
    // tower-http's request lines are all inside a request span.
    let request_lines = lines.iter().filter(|l| l["target"].as_str().is_some_and(|t| t.starts_with("tower_http")));
    assert!(request_lines.clone().count() >= 4);
    assert!(request_lines.clone().all(|l| l["span"]["request_id"].is_string()));
}
