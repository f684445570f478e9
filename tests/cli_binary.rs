//! The real `weir` binary: `migrate`, `schema`, and `serve` with a graceful SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;

const WEIR: &str = env!("CARGO_BIN_EXE_weir");

fn temp_db() -> (String, std::path::PathBuf) {
    let path = std::env::temp_dir().join(format!("weir-cli-{}.db", uuid::Uuid::new_v4().simple()));
    (format!("sqlite://{}?mode=rwc", path.display()), path)
}

#[test]
fn migrate_applies_and_is_idempotent() {
    let (url, path) = temp_db();
    for _ in 0..2 {
        let out = Command::new(WEIR).args(["migrate", "--database-url", &url]).output().expect("run weir");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "migrations applied");
    }
    assert!(path.exists());
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

#[test]
fn bad_database_url_fails_with_a_message() {
    let out = Command::new(WEIR).args(["migrate", "--database-url", "mysql://nope"]).output().expect("run weir");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported database URL"));
}

#[test]
fn schema_command_prints_the_checked_in_schema() {
    let out = Command::new(WEIR).arg("schema").output().expect("run weir");
    assert!(out.status.success());
    let checked_in = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/graphql/schema.graphql")).expect("schema file");
    assert!(String::from_utf8_lossy(&out.stdout) == checked_in, "`weir schema` differs from graphql/schema.graphql");
}

#[tokio::test]
async fn serve_accepts_events_and_stops_cleanly_on_sigterm() {
    let (url, path) = temp_db();
    let mut child = Command::new(WEIR)
        .args(["serve", "--bind", "127.0.0.1:0", "--database-url", &url])
        .env("WEIR_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .expect("start weir serve");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let addr = loop {
        let line = rx.recv_timeout(Duration::from_secs(60)).expect("weir logs its address");
        if let Some(rest) = line.split("addr=").nth(1) {
            break rest.split_whitespace().next().unwrap_or_default().to_string();
        }
    };
    let client = reqwest::Client::new();
    let event = json!({
        "eventType": "COMPLETE", "eventTime": "2024-01-01T00:00:00Z",
        "run": {"runId": uuid::Uuid::new_v4().to_string()},
        "job": {"namespace": "cli", "name": "job"},
        "outputs": [{"namespace": "cli", "name": "out"}],
        "producer": "test", "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json"
    });
    let response = client.post(format!("http://{addr}/api/v1/lineage")).json(&event).send().await.expect("post");
    assert_eq!(response.status().as_u16(), 201);
    let ready = client.get(format!("http://{addr}/readyz")).send().await.expect("readyz");
    assert_eq!(ready.status().as_u16(), 200);

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(status.success());
    let exit = child.wait().expect("wait");
    assert!(exit.success(), "weir should exit 0 after SIGTERM, got {exit}");

    // Restarted on the same file, the event is there.
    let out = Command::new(WEIR).args(["migrate", "--database-url", &url]).output().expect("run weir");
    assert!(out.status.success());
    let conn = sea_orm::Database::connect(&url).await.expect("open db");
    use sea_orm::ConnectionTrait;
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(sea_orm::DatabaseBackend::Sqlite, "SELECT COUNT(*) AS n FROM runs"))
        .await
        .expect("query")
        .expect("row");
    let n: i64 = row.try_get("", "n").expect("count");
    assert_eq!(n, 1);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
