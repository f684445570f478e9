//! Migrations that convert stored data keep it: a database written by an older Weir reads the
//! same after the upgrade, on both backends (metric values grouped into reports by 000013,
//! ownership facets copied into their own columns by 000015, a dataset's schema copy turned
//! into a version pointer by 000018, a gate decision's reasons, an incident's blast radius, a
//! run's facets, its taint path, a dataset's merged facets and a version's schema compressed by
//! 000019 to 000024).

mod common;

use chrono::{DateTime, Duration, Utc};
use migrations::{Migrator, MigratorTrait};
use sea_orm::sea_query::Query;
use sea_orm::{ConnectionTrait, Database};
use weir::alert::model::{BlastRadius, IncidentStatus, JobRef, OwnerRef};
use weir::gate::model::{Decision, GateDecision, GateReason, ReasonKind, RunTaint};
use weir::model::{DatasetId, DatasetRef, JobId, RunState};
use weir::quality::evaluate::{Evidence, EvidenceNeeds};
use weir::store::{RunRecord, Store};

/// How many migrations there were before metric values were grouped into reports (000001 to
/// 000012; numbers were skipped).
const BEFORE_METRIC_REPORTS: u32 = 7;

/// One `metric_observations` row as Weir up to migration 000012 stored it.
struct OldMetric {
    dataset: i64,
    evidence: &'static str,
    source: &'static str,
    column: &'static str,
    metric: &'static str,
    value: Option<f64>,
    at: DateTime<Utc>,
}

/// A blocking decision with a reason of every shape: a failing check, a taint with its path, a
/// note, and text that JSON escapes.
fn decision(at: DateTime<Utc>) -> GateDecision {
    let input = DatasetRef { namespace: "wh".into(), name: "orders \"eu\"".into() };
    let failing = GateReason {
        kind: ReasonKind::Blocking,
        dataset: Some(input.clone()),
        status: Some("FAILING".into()),
        rule_id: Some("orders_not_empty".into()),
        rule_version: Some(2),
        check_id: Some(7),
        observed: Some(serde_json::json!(0.0)),
        expected: Some("row_count > 0".into()),
        evaluated_at: Some(at),
        ..GateReason::note("input wh.orders \"eu\" is FAILING: row_count 0, expected > 0 — ünïcode")
    };
    let tainted = GateReason {
        kind: ReasonKind::Warning,
        origin: Some(DatasetRef { namespace: "pg".into(), name: "raw.orders".into() }),
        path: vec!["dataset:pg:raw.orders".into(), "job:airflow:load".into()],
        ..GateReason::note("tainted upstream")
    };
    GateDecision {
        id: 0,
        namespace: "airflow".into(),
        job: "daily.report".into(),
        decision: Decision::Block,
        reasons: vec![failing, tainted, GateReason::note("input wh.customers has no evidence yet")],
        inputs: vec![input],
        decided_at: at,
        context: "violation_check".into(),
        run_id: Some("run-z".into()),
    }
}

/// Two datasets and a job downstream, with an owner.
fn blast_radius() -> BlastRadius {
    BlastRadius {
        datasets: vec![DatasetRef { namespace: "wh".into(), name: "marts.revenue".into() }, DatasetRef { namespace: "s3://exports".into(), name: "revenue.csv".into() }],
        jobs: vec![JobRef { namespace: "airflow".into(), name: "export.revenue".into() }],
        owners: vec![OwnerRef { name: "team:finance".into(), owner_type: Some("TEAM".into()), owns: "dataset:wh:marts.revenue".into() }],
        truncated: true,
    }
}

/// Run facets as an Airflow task's events carry them, with text that JSON escapes.
fn run_facets(i: usize) -> serde_json::Value {
    serde_json::json!({
        "nominalTime": {"_producer": "https://github.com/apache/airflow", "nominalStartTime": "2024-01-01T00:10:00.000Z"},
        "parent": {"job": {"namespace": "airflow", "name": format!("dag_{i}")}, "run": {"runId": format!("parent-{i}")}},
        "errorMessage": {"message": "line 1\n\"quoted\" \u{e9}", "programmingLanguage": "python"},
    })
}

/// Run `i`'s taint: through `i` jobs from a failing dataset (none for run 0: untainted).
fn run_taint(i: usize) -> RunTaint {
    let path: Vec<String> = (0..i % 7).flat_map(|hop| [format!("dataset:wh:stage_{hop}"), format!("job:airflow:dag_{i}.step_{hop}")]).collect();
    RunTaint {
        run_id: format!("run-{i:04}"),
        tainted: !path.is_empty(),
        origin_dataset_id: (!path.is_empty()).then_some(DatasetId(1)),
        origin_rule_id: (!path.is_empty()).then(|| "orders_not_empty".to_string()),
        origin_check_id: (!path.is_empty()).then_some(7),
        path,
        violation: false,
    }
}

/// A finished run with `run_facets(i)`.
fn run_record(i: usize, at: DateTime<Utc>) -> RunRecord {
    RunRecord {
        id: format!("run-{i:04}"),
        raw_run_id: format!("run-{i:04}"),
        job_id: JobId(1),
        state: RunState::Complete,
        state_time: at,
        first_event_time: at,
        started_at: Some(at),
        ended_at: Some(at),
        nominal_start_time: None,
        nominal_end_time: None,
        error_message: None,
        parent_run_id: None,
        facets: run_facets(i),
    }
}

async fn old_data_reads_the_same_after_the_upgrade(backend: common::Backend) {
    let Some(db) = common::empty_database(backend).await else {
        eprintln!("skipped: WEIR_TEST_DATABASE_URL is not set (CI sets it)");
        return;
    };
    let t0 = common::start_of_test_time();
    let conn = Database::connect(&db.url).await.expect("connect");
    Migrator::up(&conn, Some(BEFORE_METRIC_REPORTS)).await.expect("migrations up to 000012");
    let rows = [
        // Dataset 1: two runs' writes, the older one also read by a later run (not a write).
        OldMetric { dataset: 1, evidence: "run-a", source: "outputStatistics", column: "", metric: "row_count", value: Some(100.0), at: t0 },
        OldMetric { dataset: 1, evidence: "run-a", source: "dataQualityMetrics", column: "id", metric: "null_count", value: Some(3.0), at: t0 - Duration::minutes(30) },
        // Values that need all 17 digits of a double.
        OldMetric { dataset: 1, evidence: "run-a", source: "outputStatistics", column: "", metric: "bytes", value: Some(1234567890123456.7), at: t0 },
        OldMetric { dataset: 1, evidence: "run-a", source: "dataQualityMetrics", column: "id", metric: "min", value: Some(0.1), at: t0 },
        OldMetric { dataset: 1, evidence: "run-b", source: "outputStatistics", column: "", metric: "row_count", value: Some(120.0), at: t0 + Duration::hours(1) },
        OldMetric { dataset: 1, evidence: "run-b", source: "dataQualityMetrics", column: "id", metric: "max", value: None, at: t0 + Duration::hours(1) },
        OldMetric { dataset: 1, evidence: "run-c", source: "inputStatistics", column: "", metric: "row_count", value: Some(7.0), at: t0 + Duration::hours(2) },
        // Another dataset's values stay its own.
        OldMetric { dataset: 2, evidence: "run-a", source: "outputStatistics", column: "", metric: "row_count", value: Some(5.0), at: t0 },
    ];
    for row in &rows {
        let mut insert = Query::insert();
        insert
            .into_table("metric_observations")
            .columns(["dataset_id", "evidence_key", "run_id", "source", "column_name", "metric", "value", "observed_at"])
            .values_panic([
                row.dataset.into(),
                row.evidence.into(),
                row.evidence.into(),
                row.source.into(),
                row.column.into(),
                row.metric.into(),
                row.value.into(),
                row.at.into(),
            ]);
        conn.execute(&insert).await.expect("insert an old metric row");
    }
    // Rows with and without an `ownership` facet, which 000015 copies into its own column.
    let owners = serde_json::json!({"owners": [{"name": "team:finance", "type": "TEAM"}]});
    for (table, name, facets) in [
        ("datasets", "owned", serde_json::json!({"ownership": owners, "schema": {"fields": []}})),
        ("datasets", "plain", serde_json::json!({"schema": {"fields": []}})),
        ("jobs", "owned_job", serde_json::json!({"ownership": owners})),
    ] {
        let mut insert = Query::insert();
        insert
            .into_table(table)
            .columns(["namespace", "name", "facets", "created_at", "updated_at"])
            .values_panic(["wh".into(), name.into(), facets.into(), t0.into(), t0.into()]);
        conn.execute(&insert).await.expect("insert an old row");
    }
    // Dataset 3 has a schema copy (`schema_fields`, replaced by a version pointer in 000018)
    // equal to its first version's, not to the newest one with a schema (as after a late event
    // about an older version): the pointer goes to the version with the same fields.
    let fields = |names: &[&str]| serde_json::Value::Array(names.iter().map(|n| serde_json::json!({"name": n, "type": "TEXT"})).collect());
    let mut insert = Query::insert();
    insert
        .into_table("datasets")
        .columns(["namespace", "name", "facets", "schema_fields", "current_version_id", "created_at", "updated_at"])
        .values_panic(["wh".into(), "versioned".into(), serde_json::json!({}).into(), fields(&["id"]).into(), 3.into(), t0.into(), t0.into()]);
    conn.execute(&insert).await.expect("insert a dataset with a schema copy");
    let versions = [
        ("s:first", Some(fields(&["id"]))),
        ("s:second", Some(fields(&["id", "email"]))),
        ("v:3", None),
    ];
    for (i, (version, schema)) in versions.into_iter().enumerate() {
        let mut insert = Query::insert();
        insert
            .into_table("dataset_versions")
            .columns(["dataset_id", "version", "schema_fields", "created_at"])
            .values_panic([3.into(), version.into(), schema.into(), (t0 + Duration::hours(i as i64)).into()]);
        conn.execute(&insert).await.expect("insert an old version");
    }
    // A gate decision with its reasons as JSON, which 000019 compresses.
    let old_decision = decision(t0);
    let mut insert = Query::insert();
    insert
        .into_table("gate_decisions")
        .columns(["job_namespace", "job_name", "decision", "reasons", "inputs", "context", "run_id", "decided_at"])
        .values_panic([
            "airflow".into(),
            "daily.report".into(),
            "BLOCK".into(),
            serde_json::to_value(&old_decision.reasons).expect("reasons").into(),
            serde_json::to_value(&old_decision.inputs).expect("inputs").into(),
            "violation_check".into(),
            "run-z".into(),
            t0.into(),
        ]);
    conn.execute(&insert).await.expect("insert an old gate decision");
    // An incident with its blast radius as JSON, which 000020 compresses; stored before
    // `truncated` existed, so it reads `false`.
    let mut old_radius = serde_json::to_value(blast_radius()).expect("blast radius");
    old_radius.as_object_mut().expect("an object").remove("truncated");
    let mut insert = Query::insert();
    insert
        .into_table("incidents")
        .columns(["dataset_id", "rule_id", "status", "active_key", "opening_check_id", "blast_radius", "opened_at"])
        .values_panic([1.into(), "orders_not_empty".into(), "open".into(), "active".into(), 7.into(), old_radius.into(), t0.into()]);
    conn.execute(&insert).await.expect("insert an old incident");
    // A run with its facets as JSON, which 000021 compresses.
    let mut insert = Query::insert();
    insert
        .into_table("runs")
        .columns(["id", "raw_run_id", "job_id", "state", "state_time", "first_event_time", "facets", "created_at", "updated_at"])
        .values_panic(["run-old".into(), "run-old".into(), 1.into(), "COMPLETE".into(), t0.into(), t0.into(), run_facets(1).into(), t0.into(), t0.into()]);
    conn.execute(&insert).await.expect("insert an old run");
    // Its taint, with the path as JSON, which 000022 compresses.
    let old_taint = RunTaint { run_id: "run-old".into(), ..run_taint(3) };
    let mut insert = Query::insert();
    insert
        .into_table("run_taints")
        .columns(["run_id", "tainted", "origin_dataset_id", "origin_rule_id", "origin_check_id", "path", "violation", "computed_at"])
        .values_panic([
            "run-old".into(),
            true.into(),
            1.into(),
            "orders_not_empty".into(),
            7.into(),
            serde_json::to_value(&old_taint.path).expect("path").into(),
            false.into(),
            t0.into(),
        ]);
    conn.execute(&insert).await.expect("insert an old run taint");
    conn.close().await.expect("close");

    let store = Store::connect(&db.url).await.expect("connect the store");
    store.migrate().await.expect("the remaining migrations");
    assert_eq!(store.snapshot().decision(1).await.expect("read the decision"), Some(GateDecision { id: 1, ..old_decision }));
    let incident = store.incident(1).await.expect("read the incident").expect("the incident");
    assert_eq!((incident.status, incident.opening_check_id, incident.opened_at), (IncidentStatus::Open, 7, t0));
    assert_eq!(incident.blast_radius, BlastRadius { truncated: false, ..blast_radius() });
    let run = store.snapshot().run("run-old").await.expect("read the run").expect("the run");
    assert_eq!((run.state, run.first_event_time, run.facets), (RunState::Complete, t0, run_facets(1)));
    assert_eq!(store.snapshot().run_taint("run-old").await.expect("read the taint"), Some(old_taint));

    // Every value is still listed, newest report first.
    type Listed = (String, Option<String>, Option<f64>, String, Option<String>);
    let listed: Vec<Listed> = store
        .metrics_of(DatasetId(1), 100)
        .await
        .expect("metrics")
        .into_iter()
        .map(|m| (m.metric, m.column, m.value, m.source, m.run_id))
        .collect();
    let value = |metric: &str, column: Option<&str>, v: Option<f64>, source: &str, run: &str| {
        (metric.to_string(), column.map(str::to_string), v, source.to_string(), Some(run.to_string()))
    };
    assert_eq!(
        listed,
        vec![
            value("row_count", None, Some(7.0), "inputStatistics", "run-c"),
            value("max", Some("id"), None, "dataQualityMetrics", "run-b"),
            value("row_count", None, Some(120.0), "outputStatistics", "run-b"),
            // Listed by name; the report's time is its latest value's.
            value("bytes", None, Some(1234567890123456.7), "outputStatistics", "run-a"),
            value("min", Some("id"), Some(0.1), "dataQualityMetrics", "run-a"),
            value("null_count", Some("id"), Some(3.0), "dataQualityMetrics", "run-a"),
            value("row_count", None, Some(100.0), "outputStatistics", "run-a"),
        ]
    );

    // Rules see them as before: the latest value of each (column, metric), and volume history
    // from writes only (the reader's row count of run-c is not one).
    let needs = EvidenceNeeds {
        metrics: vec![(String::new(), "row_count".into()), ("id".into(), "null_count".into()), ("id".into(), "max".into())],
        row_count_history: 5,
        ..Default::default()
    };
    let tx = store.begin_write().await.expect("begin");
    let evidence: Evidence = tx.evidence(DatasetId(1), &needs, t0 + Duration::hours(3), None).await.expect("evidence");
    tx.rollback().await.expect("rollback");
    assert_eq!(evidence.metrics.get(&(String::new(), "row_count".to_string())), Some(&Some(7.0)));
    assert_eq!(evidence.metrics.get(&("id".to_string(), "null_count".to_string())), Some(&Some(3.0)));
    assert_eq!(evidence.metrics.get(&("id".to_string(), "max".to_string())), Some(&None));
    assert_eq!(evidence.row_counts, vec![120.0, 100.0]);
    assert_eq!(store.metrics_of(DatasetId(2), 100).await.expect("metrics").len(), 1);
    let snapshot = store.snapshot();
    let refs = |names: &[&str]| names.iter().map(|n| ("wh".to_string(), n.to_string())).collect::<Vec<_>>();
    let datasets = snapshot.dataset_ownership(&refs(&["owned", "plain"])).await.expect("dataset owners");
    assert_eq!(datasets, [(("wh".to_string(), "owned".to_string()), owners.clone())].into_iter().collect());
    // The facets themselves, compressed by 000023, read as they were written.
    let owned = snapshot.dataset_by_ref("wh", "owned").await.expect("read a dataset").expect("the dataset");
    assert_eq!(owned.facets, serde_json::json!({"ownership": owners, "schema": {"fields": []}}));
    let jobs = snapshot.job_ownership(&refs(&["owned_job"])).await.expect("job owners");
    assert_eq!(jobs.get(&("wh".to_string(), "owned_job".to_string())), Some(&owners));
    let times: Vec<DateTime<Utc>> = store.metrics_of(DatasetId(1), 100).await.expect("metrics").iter().map(|m| m.observed_at).collect();
    assert_eq!(times[3..], [t0; 4]);

    // The schema copy became a pointer to the version that carries it; schema rules see the
    // same schema.
    let datasets = store.datasets_by_ids(&[DatasetId(1), DatasetId(3)]).await.expect("datasets");
    let pointers: Vec<_> = datasets.iter().map(|d| (d.id, d.schema_version_id)).collect();
    assert_eq!(pointers, [(DatasetId(1), None), (DatasetId(3), Some(1))]);
    let needs = EvidenceNeeds { schema: true, ..Default::default() };
    let tx = store.begin_write().await.expect("begin");
    let evidence: Evidence = tx.evidence(DatasetId(3), &needs, t0 + Duration::hours(3), None).await.expect("evidence");
    tx.rollback().await.expect("rollback");
    let names = |columns: &Option<Vec<weir::quality::evaluate::Column>>| columns.iter().flatten().map(|c| c.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&evidence.schema), ["id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_old_data_reads_the_same_after_the_upgrade() {
    old_data_reads_the_same_after_the_upgrade(common::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_old_data_reads_the_same_after_the_upgrade() {
    old_data_reads_the_same_after_the_upgrade(common::Backend::Postgres).await;
}

/// `(id, t)` of every row `sql` selects, `t` read as JSON.
async fn json_rows<K: sea_orm::TryGetable, T: serde::de::DeserializeOwned>(conn: &sea_orm::DatabaseConnection, sql: &str) -> Vec<(K, T)> {
    let rows = conn
        .query_all_raw(sea_orm::Statement::from_string(conn.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.iter()
        .map(|row| {
            let json: String = row.try_get("", "t").expect("text");
            (row.try_get("", "id").expect("id"), serde_json::from_str(&json).unwrap_or_else(|e| panic!("{sql}: {e}: {json}")))
        })
        .collect()
}

/// The newest migrations can be undone and done again, keeping what they do not drop:
/// 000017 drops `run_io.facets` (going down brings the column back as `{}`), 000018 turns a
/// dataset's schema copy into a version pointer (and back), 000019 to 000024 compress a gate
/// decision's reasons, an incident's blast radius, a run's facets, its taint path, a dataset's
/// merged facets and a version's schema (and back to JSON; a version without a schema stays
/// NULL).
async fn the_newest_migrations_go_down_and_up_again(backend: common::Backend) {
    let Some(db) = common::empty_database(backend).await else {
        eprintln!("skipped: WEIR_TEST_DATABASE_URL is not set (CI sets it)");
        return;
    };
    let t0 = common::start_of_test_time();
    let conn = Database::connect(&db.url).await.expect("connect");
    Migrator::up(&conn, None).await.expect("every migration");
    let schema = serde_json::json!([{"name": "id", "type": "BIGINT"}]);
    // Facets with text that JSON escapes, stored compressed as 000023 left them.
    let facets = serde_json::json!({"schema": {"fields": schema}, "documentation": {"description": "line 1\n\"quoted\" \u{e9}"}});
    let packed_facets = zstd::bulk::compress(facets.to_string().as_bytes(), 3).expect("compress");
    let packed_schema = zstd::bulk::compress(schema.to_string().as_bytes(), 3).expect("compress");
    let rows: [(&str, Vec<&str>, Vec<sea_orm::Value>); 4] = [
        ("run_io", vec!["run_id", "dataset_id", "direction", "first_seen", "last_seen"], vec!["run-a".into(), 1.into(), "INPUT".into(), t0.into(), t0.into()]),
        ("dataset_versions", vec!["dataset_id", "version", "schema_fields_zstd", "created_at"], vec![1.into(), "s:one".into(), packed_schema.into(), t0.into()]),
        // A version without a schema: NULL down and up again.
        ("dataset_versions", vec!["dataset_id", "version", "created_at"], vec![1.into(), "v:2".into(), t0.into()]),
        ("datasets", vec!["namespace", "name", "facets_zstd", "schema_version_id", "created_at", "updated_at"], vec!["wh".into(), "t".into(), packed_facets.into(), 1.into(), t0.into(), t0.into()]),
    ];
    for (table, columns, values) in rows {
        let mut insert = Query::insert();
        insert.into_table(table).columns(columns).values_panic(values.into_iter().map(sea_orm::sea_query::Expr::val));
        conn.execute(&insert).await.expect("insert a row");
    }
    let store = Store::connect(&db.url).await.expect("connect the store");
    let tx = store.begin_write().await.expect("begin");
    // More decisions than the migrations convert per batch (500), each with its own reasons,
    // so that a row mixed up with another or a batch boundary skipped shows.
    let mut recorded = Vec::new();
    for i in 0..502 {
        let mut this = decision(t0 + Duration::seconds(i));
        this.reasons[2].message = format!("input wh.customers_{i} has no evidence yet");
        recorded.push(tx.record_decision(&this).await.expect("record a decision"));
    }
    let incident = tx.open_incident(DatasetId(1), "orders_not_empty", 7, &blast_radius(), t0).await.expect("open an incident");
    // Runs too, keyed by text ids that sort across the batch boundary.
    let runs: Vec<RunRecord> = (0..502).map(|i| run_record(i, t0)).collect();
    for (i, run) in runs.iter().enumerate() {
        tx.save_run(run, true, t0).await.expect("save a run");
        tx.save_run_taint(&run_taint(i), t0).await.expect("save a run taint");
    }
    tx.commit().await.expect("commit");
    let text = |sql: &'static str| {
        let conn = &conn;
        async move {
            conn.query_one_raw(sea_orm::Statement::from_string(conn.get_database_backend(), sql))
                .await
                .expect("read a restored column")
                .map(|row| row.try_get::<String>("", "t").expect("text"))
        }
    };

    Migrator::down(&conn, Some(8)).await.expect("000024 to 000017 down");
    let restored: Vec<(i64, Option<serde_json::Value>)> =
        json_rows(&conn, r#"SELECT "id", COALESCE(CAST("schema_fields" AS TEXT), 'null') AS t FROM "dataset_versions" ORDER BY "id""#).await;
    assert_eq!(restored, [(1, Some(schema.clone())), (2, None)]);
    let restored: Vec<(i64, serde_json::Value)> = json_rows(&conn, r#"SELECT "id", CAST("facets" AS TEXT) AS t FROM "datasets""#).await;
    assert_eq!(restored, [(1, facets.clone())]);
    let restored: Vec<(String, Vec<String>)> = json_rows(&conn, r#"SELECT "run_id" AS id, CAST("path" AS TEXT) AS t FROM "run_taints" ORDER BY "run_id""#).await;
    assert_eq!(restored, (0..runs.len()).map(|i| (run_taint(i).run_id, run_taint(i).path)).collect::<Vec<_>>());
    let restored: Vec<(String, serde_json::Value)> = json_rows(&conn, r#"SELECT "id", CAST("facets" AS TEXT) AS t FROM "runs" ORDER BY "id""#).await;
    assert_eq!(restored, runs.iter().map(|r| (r.id.clone(), r.facets.clone())).collect::<Vec<_>>());
    let radius = text(r#"SELECT CAST("blast_radius" AS TEXT) AS t FROM "incidents""#).await.expect("blast radius as JSON");
    assert_eq!(serde_json::from_str::<BlastRadius>(&radius).expect("the blast radius' JSON"), blast_radius());
    let restored: Vec<(i64, Vec<GateReason>)> =
        json_rows(&conn, r#"SELECT "id", CAST("reasons" AS TEXT) AS t FROM "gate_decisions" ORDER BY "id""#).await;
    assert_eq!(restored, recorded.iter().map(|d| (d.id, d.reasons.clone())).collect::<Vec<_>>());
    assert_eq!(text(r#"SELECT CAST("facets" AS TEXT) AS t FROM "run_io""#).await.as_deref(), Some("{}"));
    let copy = text(r#"SELECT CAST("schema_fields" AS TEXT) AS t FROM "datasets""#).await.expect("a schema copy");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&copy).expect("json"), schema);

    Migrator::up(&conn, None).await.expect("000017 to 000024 up again");
    conn.close().await.expect("close");
    // A new store: the first one's connections prepared statements for the old columns.
    let store = Store::connect(&db.url).await.expect("connect the store again");
    for decision in recorded {
        assert_eq!(store.snapshot().decision(decision.id).await.expect("read the decision"), Some(decision));
    }
    assert_eq!(store.incident(incident.id).await.expect("read the incident"), Some(incident));
    for run in &runs {
        let read = store.snapshot().run(&run.id).await.expect("read the run").expect("the run");
        assert_eq!((&read.id, &read.facets), (&run.id, &run.facets));
    }
    for i in 0..runs.len() {
        assert_eq!(store.snapshot().run_taint(&run_taint(i).run_id).await.expect("read the taint"), Some(run_taint(i)));
    }
    let io = store.run_io_of_runs(&["run-a".to_string()]).await.expect("run io");
    assert_eq!(io.iter().map(|r| (r.dataset_id, r.first_seen)).collect::<Vec<_>>(), [(DatasetId(1), t0)]);
    let datasets = store.datasets_by_ids(&[DatasetId(1)]).await.expect("datasets");
    assert_eq!(datasets.iter().map(|d| (d.schema_version_id, &d.facets)).collect::<Vec<_>>(), [(Some(1), &facets)]);
    let versions = store.snapshot().versions_by_ids(&[1, 2]).await.expect("versions");
    let schemas: Vec<_> = versions.iter().map(|v| (v.id, v.schema_fields.clone())).collect();
    assert_eq!(schemas, [(1, Some(schema.clone())), (2, None)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_the_newest_migrations_go_down_and_up_again() {
    the_newest_migrations_go_down_and_up_again(common::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_the_newest_migrations_go_down_and_up_again() {
    the_newest_migrations_go_down_and_up_again(common::Backend::Postgres).await;
}
