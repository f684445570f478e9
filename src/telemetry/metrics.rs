//! Prometheus metrics, served at `GET /metrics`.
//!
//! Code anywhere in Weir counts through the small functions below; they are cheap and never
//! fail, and do nothing until [`install`] has run (commands other than `serve`). The
//! recorder is process-wide, so several apps in one process (the tests) share the counters.
//!
//! | Metric | Type | Labels |
//! |---|---|---|
//! | `weir_events_ingested_total` | counter | `type` (`START`…`OTHER`, `NONE`, `DATASET`, `JOB`, `unknown`), `outcome` (`stored`, `duplicate`, `rejected`, `failed`) |
//! | `weir_ingest_duration_seconds` | histogram | — (one accepted event: parse to commit) |
//! | `weir_rule_evaluations_total` | counter | `outcome` (`pass`, `fail`, `error`) |
//! | `weir_gate_decisions_total` | counter | `outcome` (`allow`, `block`, `error`) |
//! | `weir_alert_deliveries_total` | counter | `outcome` (`delivered`, `failed`, `retrying`) |
//! | `weir_db_pool_connections` | gauge | `state` (`in_use`, `idle`) |
//! | `weir_db_pool_max_connections` | gauge | — |

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing::warn;

use crate::openlineage::{Event, EventKind};

const EVENTS_INGESTED: &str = "weir_events_ingested_total";
const INGEST_DURATION: &str = "weir_ingest_duration_seconds";
const RULE_EVALUATIONS: &str = "weir_rule_evaluations_total";
const GATE_DECISIONS: &str = "weir_gate_decisions_total";
const ALERT_DELIVERIES: &str = "weir_alert_deliveries_total";
const POOL_CONNECTIONS: &str = "weir_db_pool_connections";
const POOL_MAX: &str = "weir_db_pool_max_connections";

/// Seconds; from a fast SQLite commit to a PostgreSQL transaction retried under contention.
const INGEST_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide recorder (once; later calls do nothing) and registers every
/// metric, so a scrape shows them at zero before the first event.
pub fn install() {
    HANDLE.get_or_init(|| {
        let builder = match PrometheusBuilder::new().set_buckets_for_metric(Matcher::Full(INGEST_DURATION.into()), INGEST_BUCKETS) {
            Ok(builder) => builder,
            Err(e) => {
                warn!(error = %e, "metrics disabled: bad histogram buckets");
                return None;
            }
        };
        match builder.install_recorder() {
            Ok(handle) => {
                describe();
                Some(handle)
            }
            Err(e) => {
                // An embedding program installed its own recorder: our counters go there.
                warn!(error = %e, "metrics recorder already installed; /metrics will be empty");
                None
            }
        }
    });
}

fn describe() {
    use ::metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(EVENTS_INGESTED, "OpenLineage events received, by event type and outcome.");
    describe_histogram!(INGEST_DURATION, Unit::Seconds, "Time to parse, store and evaluate one accepted event.");
    describe_counter!(RULE_EVALUATIONS, "Quality rule evaluations, by outcome.");
    describe_counter!(GATE_DECISIONS, "Gate decisions, by outcome.");
    describe_counter!(ALERT_DELIVERIES, "Alert delivery attempts, by outcome.");
    describe_gauge!(POOL_CONNECTIONS, "Database pool connections, by state.");
    describe_gauge!(POOL_MAX, "Largest number of database connections the pool opens.");
    for outcome in ["pass", "fail", "error"] {
        ::metrics::counter!(RULE_EVALUATIONS, "outcome" => outcome).absolute(0);
    }
    for outcome in ["allow", "block", "error"] {
        ::metrics::counter!(GATE_DECISIONS, "outcome" => outcome).absolute(0);
    }
    for outcome in ["delivered", "failed", "retrying"] {
        ::metrics::counter!(ALERT_DELIVERIES, "outcome" => outcome).absolute(0);
    }
}

/// The Prometheus text exposition of every metric (empty when not installed).
pub fn render() -> String {
    match HANDLE.get() {
        Some(Some(handle)) => {
            handle.run_upkeep();
            handle.render()
        }
        _ => String::new(),
    }
}

/// The `type` label of an event: the RunEvent's `eventType`, or the kind of other events.
pub fn event_type_label(event: &Event) -> &'static str {
    match event.kind {
        EventKind::Run => event.event_type.map_or("NONE", |t| t.as_str()),
        EventKind::Dataset => "DATASET",
        EventKind::Job => "JOB",
    }
}

/// One event received: `event_type` from [`event_type_label`] (`unknown` when it could not
/// be parsed); `outcome` is `stored`, `duplicate`, `rejected` (a 4xx) or `failed` (a 5xx).
pub fn record_event_ingested(event_type: &'static str, outcome: &'static str) {
    ::metrics::counter!(EVENTS_INGESTED, "type" => event_type, "outcome" => outcome).increment(1);
}

/// How long one accepted event took to store (parse to commit).
pub fn record_ingest_duration(elapsed: Duration) {
    ::metrics::histogram!(INGEST_DURATION).record(elapsed.as_secs_f64());
}

/// One rule evaluated on one dataset: `pass`, `fail` or `error`.
pub fn record_rule_evaluation(outcome: &'static str) {
    ::metrics::counter!(RULE_EVALUATIONS, "outcome" => outcome).increment(1);
}

/// One gate decision. Call it where a decision is recorded, with `allow` or `block` (or
/// `error` when the gate could not decide). Keep to these words: each new word is a new
/// time series.
pub fn record_gate_decision(outcome: &str) {
    ::metrics::counter!(GATE_DECISIONS, "outcome" => outcome.to_string()).increment(1);
}

/// One attempt to deliver an alert to a channel: `delivered`, `failed` (given up) or
/// `retrying` (will be tried again). Keep to these words: each new word is a new time series.
pub fn record_alert_delivery(outcome: &str) {
    ::metrics::counter!(ALERT_DELIVERIES, "outcome" => outcome.to_string()).increment(1);
}

/// The database pool now; set just before each scrape.
pub fn set_db_pool(in_use: u32, idle: u32, max: u32) {
    ::metrics::gauge!(POOL_CONNECTIONS, "state" => "in_use").set(f64::from(in_use));
    ::metrics::gauge!(POOL_CONNECTIONS, "state" => "idle").set(f64::from(idle));
    ::metrics::gauge!(POOL_MAX).set(f64::from(max));
}
