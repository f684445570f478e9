//! Nothing acknowledged is lost: across restarts, during a graceful shutdown, and under
//! concurrent writers (client retries included).

mod common;

use common::events::{dataset, run_event, run_id};
use serde_json::json;

async fn run_count(app: &common::TestApp, job: &str) -> usize {
    let data = app
        .query("query($j: String!) { job(namespace: \"etl\", name: $j) { runs(first: 500) { edges { node { id } } } } }", json!({"j": job}))
        .await;
    data["job"]["runs"]["edges"].as_array().map_or(0, Vec::len)
}

backend_tests! {
    async fn acknowledged_events_survive_a_restart(app) {
        let run = run_id();
        app.ingest(&run_event("COMPLETE", "2024-01-01T00:00:00Z", &run, ("etl", "persist"), vec![dataset("wh", "src")], vec![dataset("wh", "dst")])).await;
        let app = app.restart().await;
        let data = app.query("query($id: ID!) { run(id: $id) { state job { outputs { name } } } }", json!({"id": run})).await;
        assert_eq!(data["run"], json!({"state": "COMPLETE", "job": {"outputs": [{"name": "dst"}]}}));
    }

    async fn every_event_acknowledged_before_shutdown_is_stored(app) {
        let mut app = app;
        let client = app.client.clone();
        let url = app.url("/api/v1/lineage");
        let event = |i: usize| run_event("COMPLETE", "2024-01-01T00:00:00Z", &run_id(), ("etl", "shutdown_race"), vec![], vec![dataset("wh", &format!("t{}", i % 5))]);
        // A first wave is acknowledged for sure; the second races the shutdown signal.
        for i in 0..10 {
            app.ingest(&event(i)).await;
        }
        let mut tasks = Vec::new();
        for i in 10..60 {
            let (client, url, event) = (client.clone(), url.clone(), event(i));
            tasks.push(tokio::spawn(async move {
                match client.post(url).json(&event).send().await {
                    Ok(response) => response.status().as_u16() == 201,
                    Err(_) => false, // refused after shutdown: not acknowledged, may be lost
                }
            }));
        }
        tokio::task::yield_now().await;
        app.begin_shutdown();
        let mut acknowledged = 10;
        for task in tasks {
            if task.await.expect("task") {
                acknowledged += 1;
            }
        }
        app.shutdown_and_wait().await;
        let app = app.restart().await;
        let stored = run_count(&app, "shutdown_race").await;
        // Every acknowledged event is stored; an unacknowledged one may or may not be.
        assert!(stored >= acknowledged, "stored {stored} < acknowledged {acknowledged}");
    }

    async fn concurrent_writers_and_retries_count_once(app) {
        let client = app.client.clone();
        let url = app.url("/api/v1/lineage");
        let retried = run_event("COMPLETE", "2024-01-01T00:00:00Z", &run_id(), ("etl", "busy"), vec![dataset("wh", "shared_in")], vec![dataset("wh", "shared_out")]);
        let mut tasks = Vec::new();
        for i in 0..40 {
            let (client, url) = (client.clone(), url.clone());
            // Half the requests are retries of one event; the rest are distinct runs of the
            // same job touching the same datasets: the worst case for row contention.
            let event = if i % 2 == 0 {
                retried.clone()
            } else {
                run_event("COMPLETE", &format!("2024-01-01T00:{:02}:00Z", i), &run_id(), ("etl", "busy"), vec![dataset("wh", "shared_in")], vec![dataset("wh", "shared_out"), dataset("wh", &format!("own_{i}"))])
            };
            tasks.push(tokio::spawn(async move { client.post(url).json(&event).send().await.map(|r| r.status().as_u16()) }));
        }
        for task in tasks {
            assert_eq!(task.await.expect("task").expect("response"), 201);
        }
        assert_eq!(run_count(&app, "busy").await, 21);
        let data = app.query(r#"{ dataset(namespace: "wh", name: "shared_out") { producers { name } } datasets(namespace: "wh", first: 100) { edges { node { name } } } }"#, json!({})).await;
        assert_eq!(data["dataset"]["producers"], json!([{"name": "busy"}]));
        assert_eq!(data["datasets"]["edges"].as_array().map(Vec::len), Some(22));
    }

    async fn concurrent_jobs_writing_one_dataset_lose_no_update(app) {
        let client = app.client.clone();
        let url = app.url("/api/v1/lineage");
        let mut tasks = Vec::new();
        for i in 0..32 {
            let (client, url) = (client.clone(), url.clone());
            let mut out = dataset("wh", "shared_target");
            out["facets"][format!("team{i}_marker")] = json!({"_producer": "x", "_schemaURL": "y", "writer": i});
            let event = run_event("COMPLETE", "2024-01-01T00:00:00Z", &run_id(), ("etl", &format!("writer_{i}")), vec![], vec![out]);
            tasks.push(tokio::spawn(async move { client.post(url).json(&event).send().await.map(|r| r.status().as_u16()) }));
        }
        for task in tasks {
            assert_eq!(task.await.expect("task").expect("response"), 201);
        }
        let data = app.query(r#"{ dataset(namespace: "wh", name: "shared_target") { facets producers { name } } }"#, json!({})).await;
        let facets = data["dataset"]["facets"].as_object().expect("facets");
        let markers = facets.keys().filter(|k| k.ends_with("_marker")).count();
        assert_eq!(markers, 32, "every writer's facet must survive: {facets:?}");
        assert_eq!(data["dataset"]["producers"].as_array().map(Vec::len), Some(32));
    }
}

/// Replicas starting together on a new database must not trip over each other's migrations.
async fn replicas_migrate_together(backend: common::Backend) {
    let Some(db) = common::empty_database(backend).await else {
        eprintln!("skipped: WEIR_TEST_DATABASE_URL is not set (CI sets it)");
        return;
    };
    let builds: Vec<_> = (0..3).map(|_| weir::App::build(common::config_for(&db.url))).collect();
    for result in futures::future::join_all(builds).await {
        let app = result.expect("every replica starts");
        assert!(app.store().is_ready().await.expect("ready check"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_replicas_migrate_together() {
    replicas_migrate_together(common::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_replicas_migrate_together() {
    replicas_migrate_together(common::Backend::Postgres).await;
}

/// PostgreSQL, two writers of one dataset (replicas): the one whose read of the dataset row
/// waited for the other's lock sees the version the other made current, not the row without
/// it. Reading it as missing made a late event's older version current again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dataset_read_that_waited_for_its_lock_sees_the_new_current_version() {
    use weir::store::Store;
    let Some(db) = common::empty_database(common::Backend::Postgres).await else {
        eprintln!("skipped: WEIR_TEST_DATABASE_URL is not set (CI sets it)");
        return;
    };
    let now = common::start_of_test_time();
    let first = Store::connect(&db.url).await.expect("connect");
    first.migrate().await.expect("migrations");
    let second = Store::connect(&db.url).await.expect("connect again");
    let tx = first.begin_write().await.expect("begin");
    tx.upsert_dataset("wh", "orders", now).await.expect("create the dataset");
    tx.commit().await.expect("commit");

    // The first writer locks the row and makes a new version current...
    let tx = first.begin_write().await.expect("begin");
    let mut state = tx.upsert_dataset("wh", "orders", now).await.expect("lock the dataset");
    let version = tx.insert_version(state.id, "v2", None, None, None, now).await.expect("new version");
    state.current_version_id = Some(version);
    state.current_version = Some("v2".into());
    state.current_version_time = Some(now);
    tx.save_dataset(&state, &serde_json::Map::new(), now).await.expect("save");
    // ...while the second one's read of the row waits for that lock.
    let waiting = tokio::spawn(async move {
        let tx = second.begin_write().await?;
        let seen = tx.upsert_dataset("wh", "orders", now).await?;
        tx.rollback().await?;
        Ok::<_, weir::store::StoreError>(seen)
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "the second read must wait for the first writer's lock");
    tx.commit().await.expect("commit");
    let seen = waiting.await.expect("no panic").expect("read after the lock");
    assert_eq!(seen.current_version_id, Some(version));
    assert_eq!(seen.current_version.as_deref(), Some("v2"));
    assert_eq!(seen.current_version_time, Some(now));
}
