//! Raw event retention: only raw events older than the period go, in batches, by hand, in
//! the background and from the command line; the graph and check results stay.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use chrono::Utc;
use weir::clock::Clock;
use serde_json::json;

use common::TestApp;
use common::events::{dataset, run_event, run_id};

const WEIR: &str = env!("CARGO_BIN_EXE_weir");

async fn ingest_job(app: &TestApp, job: &str) {
    let id = run_id();
    let outputs = vec![dataset("ret", &format!("{job}_out"))];
    app.ingest(&run_event("START", "2024-05-01T10:00:00Z", &id, ("ret", job), vec![dataset("ret", "src")], outputs.clone())).await;
    app.ingest(&run_event("COMPLETE", "2024-05-01T10:05:00Z", &id, ("ret", job), vec![dataset("ret", "src")], outputs)).await;
}

/// What was derived from `job`'s events is all still there.
async fn derived_data_of(app: &TestApp, job: &str) -> serde_json::Value {
    app.query(
        r#"query($name: String!, $out: String!) {
            job(namespace: "ret", name: $name) { latestRun { state } }
            dataset(namespace: "ret", name: $out) { checkResults { edges { node { ruleId outcome } } } }
            lineage(nodeId: "dataset:ret:src", direction: DOWNSTREAM) { nodes { id } }
        }"#,
        json!({"name": job, "out": format!("{job}_out")}),
    )
    .await
}

backend_tests! {
    async fn only_raw_events_older_than_the_period_are_removed(app) {
        let rule = json!({"id": "ran", "kind": "run_status", "target": {"namespace": "ret", "name": "*"}});
        app.query(r#"mutation($r: RuleInput!) { createRule(rule: $r) { id } }"#, json!({"r": rule})).await;
        ingest_job(&app, "old").await;
        let before = derived_data_of(&app, "old").await;
        assert_eq!(before["job"]["latestRun"]["state"], "COMPLETE");
        assert!(!before["dataset"]["checkResults"]["edges"].as_array().map(Vec::is_empty).unwrap_or(true), "{before}");

        app.clock.advance(chrono::Duration::days(31));
        ingest_job(&app, "recent").await;
        assert_eq!(app.store.raw_event_count().await.expect("count"), 4);
        let before = derived_data_of(&app, "old").await;
        assert_eq!(before["lineage"]["nodes"].as_array().map(Vec::len), Some(5), "{before}");

        // A dry run counts and removes nothing.
        let now = app.clock.now();
        let report = weir::retention::run(&app.store, 30, now, 1, true, || false).await.expect("dry run").expect("on");
        assert_eq!((report.raw_events, report.dry_run), (2, true));
        assert_eq!(app.store.raw_event_count().await.expect("count"), 4);

        // Batches of one: both old events go, the recent ones stay.
        let report = weir::retention::run(&app.store, 30, now, 1, false, || false).await.expect("run").expect("on");
        assert_eq!(report.raw_events, 2);
        assert_eq!(app.store.raw_event_count().await.expect("count"), 2);
        let again = weir::retention::run(&app.store, 30, now, 1, false, || false).await.expect("run").expect("on");
        assert_eq!(again.raw_events, 0);

        // The graph, run state and check results derived from the removed events are intact.
        assert_eq!(derived_data_of(&app, "old").await, before);
        // 0 days keeps everything.
        assert_eq!(weir::retention::run(&app.store, 0, now, 1, false, || false).await.expect("run"), None);
        assert_eq!(app.store.raw_event_count().await.expect("count"), 2);
    }

    async fn weir_retention_run_reports_then_removes(app) {
        // The command uses the real clock: received times 40 days and 1 day ago.
        app.clock.set(Utc::now() - chrono::Duration::days(40));
        ingest_job(&app, "old").await;
        app.clock.set(Utc::now() - chrono::Duration::days(1));
        ingest_job(&app, "recent").await;
        let run = |extra: &[&str]| {
            let mut args = vec!["retention", "run", "--database-url", &app.database_url];
            args.extend_from_slice(extra);
            let out = Command::new(WEIR).args(&args).env_remove("WEIR_RAW_EVENT_RETENTION_DAYS").output().expect("run weir");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        };
        let dry = run(&["--dry-run"]);
        assert!(dry.starts_with("would remove 2 raw events received before"), "{dry}");
        assert!(dry.ends_with("(retention: 30 days)"), "{dry}");
        assert_eq!(app.store.raw_event_count().await.expect("count"), 4);
        let done = run(&["--raw-event-retention-days", "30"]);
        assert!(done.starts_with("removed 2 raw events"), "{done}");
        assert_eq!(app.store.raw_event_count().await.expect("count"), 2);
        let off = run(&["--raw-event-retention-days", "0"]);
        assert!(off.contains("retention is off"), "{off}");
        assert_eq!(app.store.raw_event_count().await.expect("count"), 2);
    }
}

/// With its own configuration: a fast retention interval.
mod background {
    use super::*;

    configured_backend_tests! {
        async fn the_server_removes_old_raw_events_in_the_background(app) with |c| {
            c.raw_event_retention_days = 30;
            c.retention_interval = Duration::from_millis(100);
        } => {
            ingest_job(&app, "old").await;
            app.clock.advance(chrono::Duration::days(31));
            ingest_job(&app, "recent").await;
            let deadline = Instant::now() + Duration::from_secs(15);
            while app.store.raw_event_count().await.expect("count") != 2 {
                assert!(Instant::now() < deadline, "the background retention never removed the old events");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            // It stops there.
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert_eq!(app.store.raw_event_count().await.expect("count"), 2);
            assert_eq!(derived_data_of(&app, "old").await["job"]["latestRun"]["state"], "COMPLETE");
        }
    }
}
