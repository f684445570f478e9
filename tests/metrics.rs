//! `/metrics` after some traffic: each counter moved by exactly what was done.
//!
//! The metrics recorder is process-wide, so the tests of this file take turns (one lock) and
//! compare values before and after.

mod common;

use serde_json::{Value, json};
use tokio::sync::Mutex;

use common::TestApp;
use common::events::{dataset, run_event, run_id};

static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

async fn scrape(app: &TestApp) -> String {
    let response = app.client.get(app.url("/metrics")).send().await.expect("request");
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap_or_default().to_string();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    response.text().await.expect("text")
}

/// The value of the sample `name{labels}` (labels in any order), 0 when absent.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, label_text) = match series.split_once('{') {
                Some((metric, rest)) => (metric, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let present: Vec<&str> = label_text.split(',').filter(|l| !l.is_empty()).collect();
            let wanted: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
            (metric == name && present.len() == wanted.len() && wanted.iter().all(|w| present.contains(&w.as_str())))
                .then(|| value.parse::<f64>().ok())
                .flatten()
        })
        .next()
        .unwrap_or(0.0)
}

fn with_row_count(mut event: Value, rows: u64) -> Value {
    event["outputs"][0]["outputFacets"] = json!({ "outputStatistics": { "rowCount": rows } });
    event
}

backend_tests! {
    async fn counters_follow_the_traffic(app) {
        let _turn = ONE_AT_A_TIME.lock().await;
        let before = scrape(&app).await;

        // Events: one stored START, the same again (duplicate), one that is not JSON, and a
        // COMPLETE that carries a row count for a rule to check.
        let start = run_event("START", "2024-05-01T10:00:00Z", &run_id(), ("metrics", "job"), vec![], vec![dataset("metrics", "out")]);
        app.ingest(&start).await;
        app.ingest(&start).await;
        let bad = app.post_raw("/api/v1/lineage", b"{not json".to_vec(), &[("content-type", "application/json")]).await;
        assert_eq!(bad.status().as_u16(), 400);
        let rule = json!({"id": "rows", "kind": "metric", "target": {"namespace": "metrics", "name": "out"}, "metric": "row_count", "op": ">", "value": 10.0});
        app.query(r#"mutation($r: RuleInput!) { createRule(rule: $r) { id } }"#, json!({"r": rule})).await;
        let complete = run_event("COMPLETE", "2024-05-01T10:05:00Z", &run_id(), ("metrics", "job"), vec![], vec![dataset("metrics", "out")]);
        app.ingest(&with_row_count(complete, 3)).await;
        // And an on-demand evaluation of the same rule: a second failure.
        app.query(r#"mutation { evaluateRules(namespace: "metrics", name: "out") { outcome } }"#, json!({})).await;
        // What the gate and alert code will report.
        weir::telemetry::metrics::record_gate_decision("block");
        weir::telemetry::metrics::record_alert_delivery("delivered");

        let after = scrape(&app).await;
        let delta = |name: &str, labels: &[(&str, &str)]| sample(&after, name, labels) - sample(&before, name, labels);
        let ingested = "weir_events_ingested_total";
        assert_eq!(delta(ingested, &[("type", "START"), ("outcome", "stored")]), 1.0, "{after}");
        assert_eq!(delta(ingested, &[("type", "START"), ("outcome", "duplicate")]), 1.0);
        assert_eq!(delta(ingested, &[("type", "unknown"), ("outcome", "rejected")]), 1.0);
        assert_eq!(delta(ingested, &[("type", "COMPLETE"), ("outcome", "stored")]), 1.0);
        assert_eq!(delta("weir_ingest_duration_seconds_count", &[]), 3.0, "{after}");
        assert!(delta("weir_ingest_duration_seconds_sum", &[]) > 0.0);
        assert_eq!(delta("weir_ingest_duration_seconds_bucket", &[("le", "+Inf")]), 3.0, "a histogram, not a summary");
        assert_eq!(delta("weir_rule_evaluations_total", &[("outcome", "fail")]), 2.0);
        assert_eq!(delta("weir_rule_evaluations_total", &[("outcome", "pass")]), 0.0);
        assert_eq!(delta("weir_gate_decisions_total", &[("outcome", "block")]), 1.0);
        assert_eq!(delta("weir_alert_deliveries_total", &[("outcome", "delivered")]), 1.0);

        let max = if app.backend == common::Backend::Sqlite { 8.0 } else { 16.0 };
        assert_eq!(sample(&after, "weir_db_pool_max_connections", &[]), max);
        let open = sample(&after, "weir_db_pool_connections", &[("state", "in_use")]) + sample(&after, "weir_db_pool_connections", &[("state", "idle")]);
        assert!(open >= 1.0 && open <= max, "{after}");
    }

    async fn every_metric_is_listed_before_any_traffic(app) {
        let _turn = ONE_AT_A_TIME.lock().await;
        let text = scrape(&app).await;
        for name in [
            "weir_rule_evaluations_total",
            "weir_gate_decisions_total",
            "weir_alert_deliveries_total",
            "weir_db_pool_connections",
            "weir_db_pool_max_connections",
        ] {
            assert!(text.contains(&format!("# HELP {name} ")), "{name} missing:\n{text}");
        }
        assert!(text.contains("weir_gate_decisions_total{outcome=\"allow\"}"), "{text}");
    }
}
