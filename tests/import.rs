//! `weir import FILE`, the real binary: counts, exit codes, and the graph it leaves behind, on
//! SQLite and on PostgreSQL.

mod common;

use std::io::Write;
use std::process::{Command, Output};

use common::Backend;
use common::events::{dataset, run_event, schema};
use serde_json::{Value, json};
use weir::lineage::{Direction, LineageQuery, lineage, parse_node_id};
use weir::store::Store;

const WEIR: &str = env!("CARGO_BIN_EXE_weir");

fn import(url: &str, file: &std::path::Path, extra: &[&str]) -> Output {
    Command::new(WEIR)
        .arg("import")
        .arg(file)
        .args(["--database-url", url])
        .args(extra)
        .output()
        .expect("run weir import")
}

fn temp_file(contents: &str, ext: &str) -> tempfile_path::TempPath {
    let path = std::env::temp_dir().join(format!("weir-import-{}.{ext}", uuid::Uuid::new_v4().simple()));
    let mut file = std::fs::File::create(&path).expect("create file");
    file.write_all(contents.as_bytes()).expect("write file");
    tempfile_path::TempPath(path)
}

mod tempfile_path {
    /// A file removed when the test ends.
    pub struct TempPath(pub std::path::PathBuf);
    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

/// a -> clean -> b (START and COMPLETE), b -> report -> c (COMPLETE).
fn good_events() -> Vec<Value> {
    let (r1, r2) = (common::events::run_id(), common::events::run_id());
    let b_out = || {
        let mut b = dataset("wh", "b");
        b["facets"]["schema"] = schema(&[("id", "BIGINT"), ("amount", "DECIMAL(10,2)")]);
        b
    };
    vec![
        run_event("START", "2024-05-01T10:00:00Z", &r1, ("etl", "clean"), vec![dataset("wh", "a")], vec![b_out()]),
        run_event("COMPLETE", "2024-05-01T10:05:00Z", &r1, ("etl", "clean"), vec![dataset("wh", "a")], vec![b_out()]),
        run_event("COMPLETE", "2024-05-01T11:00:00Z", &r2, ("etl", "report"), vec![dataset("wh", "b")], vec![dataset("wh", "c")]),
    ]
}

fn line(event: &Value) -> String {
    serde_json::to_string(event).expect("serialise")
}

/// Three good events, a duplicate of the first, a line that is not an event, and one more good
/// event after it (c -> export -> d).
fn ndjson_with_a_bad_line() -> String {
    let events = good_events();
    let after = run_event(
        "COMPLETE",
        "2024-05-01T12:00:00Z",
        &common::events::run_id(),
        ("etl", "export"),
        vec![dataset("wh", "c")],
        vec![dataset("wh", "d")],
    );
    [
        line(&events[0]),
        line(&events[1]),
        String::new(), // blank lines are skipped
        line(&events[2]),
        line(&events[0]),
        r#"{"eventType": "COMPLETE", "eventTime": "2024-05-01T10:00:00Z", "run": {"runId": "x"}, "job": {"namespace": "etl"}}"#.to_string(),
        line(&after),
    ]
    .join("\n")
        + "\n"
}

async fn downstream_of_a(url: &str) -> Vec<String> {
    let store = Store::connect(url).await.expect("connect");
    let query = LineageQuery {
        start: parse_node_id("dataset:wh:a").expect("node id"),
        direction: Direction::Downstream,
        depth: 20,
        as_of: None,
        max_nodes: None,
    };
    let graph = lineage(&store.snapshot(), &query).await.expect("lineage");
    let mut ids: Vec<String> = graph.nodes.into_iter().map(|n| n.id().to_string()).collect();
    ids.sort();
    ids
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn stops_at_a_rejected_event_without_keep_going(backend: Backend) {
    let Some(db) = common::empty_database(backend).await else {
        eprintln!("skipped: WEIR_TEST_DATABASE_URL is not set (CI sets it)");
        return;
    };
    let file = temp_file(&ndjson_with_a_bad_line(), "ndjson");
    let out = import(&db.url, &file.0, &[]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains("5 events"), "{stdout}");
    assert!(stdout.contains("3 ingested, 1 duplicates, 1 rejected"), "{stdout}");
    assert!(stdout.contains("rejected line 6: job.name"), "the reason names the line and the field: {stdout}");
    assert!(stdout.contains("stopped at line 6"), "{stdout}");
    assert!(stderr.contains("--keep-going"), "{stderr}");
    // Everything before the bad line is stored; the event after it is not.
    assert_eq!(
        downstream_of_a(&db.url).await,
        ["dataset:wh:a", "dataset:wh:b", "dataset:wh:c", "job:etl:clean", "job:etl:report"]
    );

    // Run again with --keep-going: what is stored counts as duplicates, the rest goes in.
    let out = import(&db.url, &file.0, &["--keep-going"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "stdout: {stdout}\nstderr: {}", text(&out.stderr));
    assert!(stdout.contains("6 events"), "{stdout}");
    assert!(stdout.contains("1 ingested, 4 duplicates, 1 rejected"), "{stdout}");
    assert!(stdout.contains("rejected line 6: job.name"), "{stdout}");
    assert_eq!(
        downstream_of_a(&db.url).await,
        ["dataset:wh:a", "dataset:wh:b", "dataset:wh:c", "dataset:wh:d", "job:etl:clean", "job:etl:export", "job:etl:report"]
    );
}

async fn keep_going_imports_everything_valid(backend: Backend) {
    let Some(db) = common::empty_database(backend).await else {
        eprintln!("skipped: WEIR_TEST_DATABASE_URL is not set (CI sets it)");
        return;
    };
    let file = temp_file(&ndjson_with_a_bad_line(), "ndjson");
    let out = import(&db.url, &file.0, &["--keep-going", "--batch-size", "2"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "stdout: {stdout}\nstderr: {}", text(&out.stderr));
    assert!(stdout.contains("6 events"), "{stdout}");
    assert!(stdout.contains("4 ingested, 1 duplicates, 1 rejected"), "{stdout}");
    assert_eq!(
        downstream_of_a(&db.url).await,
        ["dataset:wh:a", "dataset:wh:b", "dataset:wh:c", "dataset:wh:d", "job:etl:clean", "job:etl:export", "job:etl:report"]
    );
}

async fn stops_at_a_run_id_conflict_in_the_middle_of_a_transaction(backend: Backend) {
    let Some(db) = common::empty_database(backend).await else {
        eprintln!("skipped: WEIR_TEST_DATABASE_URL is not set (CI sets it)");
        return;
    };
    // The conflict is only found while applying (lines share a transaction), and the valid
    // line after it must not be stored without --keep-going.
    let events = good_events();
    let mut conflict = events[2].clone();
    conflict["job"]["name"] = "other".into();
    conflict["eventTime"] = "2024-05-01T11:30:00Z".into();
    let after = run_event("COMPLETE", "2024-05-01T12:00:00Z", &common::events::run_id(), ("etl", "export"), vec![dataset("wh", "c")], vec![dataset("wh", "d")]);
    let contents = [line(&events[0]), line(&events[1]), line(&events[2]), line(&conflict), line(&after)].join("\n");
    let file = temp_file(&contents, "ndjson");
    let out = import(&db.url, &file.0, &[]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "stdout: {stdout}\nstderr: {}", text(&out.stderr));
    assert!(stdout.contains("3 ingested, 0 duplicates, 1 rejected"), "{stdout}");
    assert!(stdout.contains("rejected line 4: run.runId"), "{stdout}");
    assert_eq!(
        downstream_of_a(&db.url).await,
        ["dataset:wh:a", "dataset:wh:b", "dataset:wh:c", "job:etl:clean", "job:etl:report"],
        "line 5 (export -> d) must not be stored"
    );
}

/// A namespace first named by an event that is then rejected is rolled back with it; the next
/// event of the same transaction that names it must still store it (a transaction remembers
/// the namespaces it has stored, and must forget those of a rolled-back event).
async fn a_rejected_event_does_not_leave_its_namespace_or_parent_job_remembered(backend: Backend) {
    let Some(db) = common::empty_database(backend).await else {
        eprintln!("skipped: WEIR_TEST_DATABASE_URL is not set (CI sets it)");
        return;
    };
    let events = good_events();
    // Same run id as line 3, another job, in a namespace nothing else has named yet, with a
    // parent job nothing else has named yet: both are stored, then rolled back with the event.
    let parent = json!({"run": {"runId": common::events::run_id()}, "job": {"namespace": "lonely", "name": "dag"}});
    let mut conflict = events[2].clone();
    conflict["job"]["namespace"] = "lonely".into();
    conflict["run"]["facets"]["parent"] = parent.clone();
    let mut after = run_event("COMPLETE", "2024-05-01T12:00:00Z", &common::events::run_id(), ("lonely", "export"), vec![dataset("wh", "c")], vec![]);
    after["run"]["facets"]["parent"] = parent;
    let contents = [line(&events[0]), line(&events[1]), line(&events[2]), line(&conflict), line(&after)].join("\n");
    let file = temp_file(&contents, "ndjson");
    let out = import(&db.url, &file.0, &["--keep-going"]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("4 ingested, 0 duplicates, 1 rejected"), "{stdout}");
    let store = Store::connect(&db.url).await.expect("connect");
    assert_eq!(store.namespaces().await.expect("namespaces"), ["etl", "lonely", "wh"]);
    let dag = store.job_by_ref("lonely", "dag").await.expect("read").map(|j| j.id);
    let export = store.job_by_ref("lonely", "export").await.expect("read").and_then(|j| j.parent_job_id);
    assert!(dag.is_some(), "the parent job is stored by the event after the rejected one");
    assert_eq!(export, dag);
}

/// Rules and incidents across the events of one import transaction: one incident, opened by
/// the failing write and resolved by the passing one, each step in its timeline once. Once as
/// the transaction commits without savepoints, once ended by a run id conflict, which rolls it
/// back and applies it again with a savepoint per event: what the discarded first pass did
/// must leave no trace.
async fn incidents_across_one_transaction_survive_its_second_pass(backend: Backend) {
    for ends_in_a_conflict in [false, true] {
        incidents_across_one_transaction(backend, ends_in_a_conflict).await;
    }
}

async fn incidents_across_one_transaction(backend: Backend, ends_in_a_conflict: bool) {
    let Some(db) = common::empty_database(backend).await else {
        eprintln!("skipped: WEIR_TEST_DATABASE_URL is not set (CI sets it)");
        return;
    };
    let store = Store::connect(&db.url).await.expect("connect");
    store.migrate().await.expect("migrations");
    let rules = weir::quality::rules_file::parse_rules_file(
        "rules:\n  - id: has_rows\n    kind: metric\n    severity: block\n    target: { namespace: wh, name: orders }\n    metric: row_count\n    op: \">=\"\n    value: 100\n",
    )
    .expect("rules file");
    weir::quality::manage::apply_rules(&store, rules, false, false, "ci", chrono::Utc::now()).await.expect("apply rules");
    let write = |time: &str, rows: f64, run: &str| {
        let mut orders = dataset("wh", "orders");
        orders["facets"]["dataQualityMetrics"] = json!({"_producer": "x", "_schemaURL": "y", "rowCount": rows});
        run_event("COMPLETE", time, run, ("etl", "load"), vec![], vec![orders])
    };
    let failing = write("2024-05-01T10:00:00Z", 5.0, &common::events::run_id());
    let passing = write("2024-05-01T11:00:00Z", 500.0, &common::events::run_id());
    // Evidence older than both, arriving last: history only, no incident change.
    let late = write("2024-05-01T09:00:00Z", 1.0, &common::events::run_id());
    let mut lines = vec![line(&failing), line(&passing), line(&late)];
    if ends_in_a_conflict {
        let mut conflict = failing.clone();
        conflict["job"]["name"] = "other".into();
        lines.push(line(&conflict));
    }
    let file = temp_file(&lines.join("\n"), "ndjson");
    let out = import(&db.url, &file.0, &["--keep-going"]);
    let stdout = text(&out.stdout);
    let expected = if ends_in_a_conflict { "3 ingested, 0 duplicates, 1 rejected" } else { "3 ingested, 0 duplicates, 0 rejected" };
    assert!(stdout.contains(expected), "{stdout}\n{}", text(&out.stderr));

    let all = weir::store::IncidentFilter { status: None, namespace: None, dataset: None };
    let incidents = store.incidents(&all, 0, 10).await.expect("incidents").items;
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    let incident = &incidents[0];
    assert_eq!(incident.rule_id, "has_rows");
    assert_eq!(incident.status, weir::alert::model::IncidentStatus::Resolved, "{incident:?}");
    let steps: Vec<String> = store.incident_timeline(incident.id).await.expect("timeline").into_iter().map(|e| e.kind).collect();
    assert_eq!(steps, ["opened", "resolved"], "conflict at the end: {ends_in_a_conflict}");
}

async fn imports_a_json_array(backend: Backend) {
    let Some(db) = common::empty_database(backend).await else {
        eprintln!("skipped: WEIR_TEST_DATABASE_URL is not set (CI sets it)");
        return;
    };
    let mut events = good_events();
    // A run id reused by another job is rejected, as over HTTP.
    let mut conflict = events[2].clone();
    conflict["job"]["name"] = "other".into();
    conflict["eventTime"] = "2024-05-01T11:30:00Z".into();
    events.push(conflict);
    let file = temp_file(&format!("  {}", serde_json::to_string(&events).expect("json")), "json");
    let out = import(&db.url, &file.0, &[]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "stdout: {stdout}\nstderr: {}", text(&out.stderr));
    assert!(stdout.contains("3 ingested, 0 duplicates, 1 rejected"), "{stdout}");
    assert!(stdout.contains("rejected event 4: run.runId"), "{stdout}");
    assert_eq!(
        downstream_of_a(&db.url).await,
        ["dataset:wh:a", "dataset:wh:b", "dataset:wh:c", "job:etl:clean", "job:etl:report"]
    );
}

/// The import leaves nothing in the write-ahead log for the server's first write to copy: the
/// database file alone holds what was imported. Another process keeps the file open meanwhile
/// (as a running server would), so closing the import's connections copies nothing by itself.
#[tokio::test]
async fn sqlite_import_leaves_its_events_in_the_database_file() {
    let dir = std::env::temp_dir().join(format!("weir-import-wal-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.join("weir.db").display());
    let other = Store::connect(&url).await.expect("open the file first");
    other.migrate().await.expect("migrations");
    let file = temp_file(&good_events().iter().map(line).collect::<Vec<_>>().join("\n"), "ndjson");
    let out = import(&url, &file.0, &[]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    // The database file without its log, as a copy opened on its own.
    let copy = dir.join("copy.db");
    std::fs::copy(dir.join("weir.db"), &copy).expect("copy the database file");
    assert_eq!(
        downstream_of_a(&format!("sqlite://{}?mode=rwc", copy.display())).await,
        ["dataset:wh:a", "dataset:wh:b", "dataset:wh:c", "job:etl:clean", "job:etl:report"]
    );
    drop(other);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_missing_file_is_an_error() {
    let path = std::env::temp_dir().join(format!("weir-import-missing-{}.db", uuid::Uuid::new_v4().simple()));
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let out = import(&url, std::path::Path::new("/nonexistent/events.ndjson"), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot"), "{}", text(&out.stderr));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

macro_rules! on_both_backends {
    ($($name:ident),*) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::Backend::Postgres).await;
                }
            )*
        }
    };
}

on_both_backends!(
    stops_at_a_rejected_event_without_keep_going,
    stops_at_a_run_id_conflict_in_the_middle_of_a_transaction,
    keep_going_imports_everything_valid,
    a_rejected_event_does_not_leave_its_namespace_or_parent_job_remembered,
    imports_a_json_array,
    incidents_across_one_transaction_survive_its_second_pass
);
