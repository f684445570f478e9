//! What the store writes in a compact form reads back exactly, on both backends, through the
//! database's own JSON merge: metric reports (a value's source by position, whole values as
//! integers, merged key by key by SQLite's `json_patch` and PostgreSQL's `jsonb ||`), next
//! to reports written in the older form (source names, `.0` values).

mod common;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{ConnectionTrait, Database};
use weir::model::{DatasetId, MetricObservation};
use weir::store::Store;

fn metric(evidence: &str, source: &str, column: Option<&str>, name: &str, value: Option<f64>, at: DateTime<Utc>) -> MetricObservation {
    MetricObservation {
        dataset_id: DatasetId(1),
        run_id: Some(evidence.to_string()),
        source: source.to_string(),
        column: column.map(str::to_string),
        metric: name.to_string(),
        value,
        observed_at: at,
    }
}

/// (run, column, metric) -> (the value's bits, source), as listed by the API.
type Listed = BTreeMap<(Option<String>, Option<String>, String), (Option<u64>, String)>;

fn listed(values: &[MetricObservation]) -> Listed {
    values
        .iter()
        .map(|m| ((m.run_id.clone(), m.column.clone(), m.metric.clone()), (m.value.map(f64::to_bits), m.source.clone())))
        .collect()
}

async fn metric_values_read_back_bit_for_bit(backend: common::Backend) {
    let Some(db) = common::empty_database(backend).await else {
        eprintln!("skipped: WEIR_TEST_DATABASE_URL is not set (CI sets it)");
        return;
    };
    let t0 = common::start_of_test_time();
    let store = Store::connect(&db.url).await.expect("connect the store");
    store.migrate().await.expect("migrations");

    // A report in the form Weir wrote before: source names and `.0` values.
    let conn = Database::connect(&db.url).await.expect("connect");
    let old = serde_json::json!({"row_count": [100.0, "outputStatistics"], "null_count/id": [3.0, "dataQualityMetrics"]});
    let mut insert = Query::insert();
    insert
        .into_table("metric_reports")
        .columns(["dataset_id", "evidence_key", "run_id", "observed_at", "metrics"])
        .values_panic([1.into(), "run-old".into(), "run-old".into(), t0.into(), old.into()]);
    conn.execute(&insert).await.expect("insert an old report");
    conn.close().await.expect("close");

    let beyond_exact = 2f64.powi(53) + 2.0;
    let first = [
        metric("run-new", "dataQualityMetrics", None, "row_count", Some(4638058.0), t0 + Duration::hours(1)),
        metric("run-new", "outputStatistics", None, "bytes", Some(1234567890123456.7), t0 + Duration::hours(1)),
        metric("run-new", "dataQualityMetrics", Some("id"), "min", Some(0.1), t0 + Duration::hours(1)),
        metric("run-new", "dataQualityMetrics", Some("id"), "max", None, t0 + Duration::hours(1)),
        metric("run-new", "dataQualityMetrics", Some("id"), "sum", Some(beyond_exact), t0 + Duration::hours(1)),
        metric("run-new", "dataQualityMetrics", Some("id"), "quantile(0.5)", Some(-3.0), t0 + Duration::hours(1)),
    ];
    // A later event of the same run: its values win key by key, the others stay.
    let second = [
        metric("run-new", "dataQualityMetrics", None, "row_count", Some(4638059.0), t0 + Duration::hours(2)),
        metric("run-new", "inputStatistics", Some("id"), "distinct_count", Some(5.0), t0 + Duration::hours(2)),
    ];
    // New-form values merged into the old-form report.
    let into_old = [metric("run-old", "dataQualityMetrics", Some("email"), "null_count", Some(7.0), t0 + Duration::minutes(30))];
    let tx = store.begin_write().await.expect("begin");
    tx.upsert_metrics("run-new", &first).await.expect("store the first event's values");
    tx.upsert_metrics("run-new", &second).await.expect("store the second event's values");
    tx.upsert_metrics("run-old", &into_old).await.expect("merge into the old report");
    tx.commit().await.expect("commit");

    let mut want = listed(&first[1..]);
    want.extend(listed(&second));
    want.extend(listed(&into_old));
    want.extend(listed(&[
        metric("run-old", "outputStatistics", None, "row_count", Some(100.0), t0),
        metric("run-old", "dataQualityMetrics", Some("id"), "null_count", Some(3.0), t0),
    ]));
    let read = store.metrics_of(DatasetId(1), 100).await.expect("metrics");
    assert_eq!(listed(&read), want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_metric_values_read_back_bit_for_bit() {
    metric_values_read_back_bit_for_bit(common::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_metric_values_read_back_bit_for_bit() {
    metric_values_read_back_bit_for_bit(common::Backend::Postgres).await;
}
